// TLS session shims (owned by the TLS session code). One function each.
#pragma once
#include <openssl/ssl.h>
