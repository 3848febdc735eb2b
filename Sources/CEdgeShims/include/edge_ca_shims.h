// Local CA shims (owned by the local CA code): OpenSSL macros that Swift cannot call. One function each.
#pragma once
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/bio.h>

/// `sk_GENERAL_NAME_new_null()`: an empty GENERAL_NAMES stack (free with GENERAL_NAMES_free).
GENERAL_NAMES *edge_ca_general_names_new(void);

/// `sk_GENERAL_NAME_push()`: on success (> 0) the stack owns `name`.
int edge_ca_general_names_push(GENERAL_NAMES *names, GENERAL_NAME *name);

/// `sk_GENERAL_NAME_num()`.
int edge_ca_general_names_count(const GENERAL_NAMES *names);

/// `sk_GENERAL_NAME_value()`: borrowed; the stack still owns it.
GENERAL_NAME *edge_ca_general_names_at(const GENERAL_NAMES *names, int index);

/// `BIO_get_mem_data()`: points `*data` at a memory BIO's bytes (borrowed); returns their length.
long edge_ca_bio_mem_data(BIO *bio, char **data);

/// `OPENSSL_free()`, for buffers OpenSSL allocated (ASN1_STRING_to_UTF8).
void edge_ca_openssl_free(void *pointer);
