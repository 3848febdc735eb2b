// Local CA shims (owned by the local CA code). One function each.
#pragma once
#include <openssl/x509v3.h>
#include <openssl/evp.h>
