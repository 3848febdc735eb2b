#pragma once
// The 8-bit library: Swift then sees pcre2_compile_8, pcre2_code_8 and so on (the unsuffixed names are
// function-like macros Swift cannot import).
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
