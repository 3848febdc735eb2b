#pragma once
// For ZSTD_getCParams (a level's default window, so the encoder only ever lowers it). The shared library
// exports it; it is "experimental" only in that its signature may change between zstd releases.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
