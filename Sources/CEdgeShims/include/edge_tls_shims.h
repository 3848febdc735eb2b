// TLS shims (owned by EdgeTLS): OpenSSL macros Swift cannot call, and the one OSSL_PARAM construction
// the session-ticket callback needs. One function each; no logic beyond the call it wraps.
#pragma once
#include <openssl/ssl.h>
#include <openssl/rand.h>

/// SSL_CTX_set1_groups_list: the key-exchange groups, in preference order ("X25519:P-256").
int edge_ssl_ctx_set1_groups_list(SSL_CTX *ctx, const char *groups);

/// SSL_set_min_proto_version / SSL_set_max_proto_version on one connection (from the client-hello
/// callback, before the version is negotiated).
int edge_ssl_set_min_proto(SSL *ssl, int version);
int edge_ssl_set_max_proto(SSL *ssl, int version);

/// SSL_set1_groups_list: one connection's key-exchange groups.
int edge_ssl_set1_groups_list(SSL *ssl, const char *groups);

/// Sets a servername callback that accepts every name (SSL_TLSEXT_ERR_OK), so the server acknowledges
/// SNI; edge chooses certificates in the client-hello callback instead.
int edge_ssl_ctx_accept_server_name(SSL_CTX *ctx);

/// SSL_CTX_set_session_cache_mode.
long edge_ssl_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode);

/// Initialises a session-ticket HMAC context as HMAC-SHA256 with `key` (EVP_MAC_init with a digest
/// parameter). Returns 1 on success.
int edge_ticket_hmac_init(EVP_MAC_CTX *hctx, const unsigned char *key, size_t key_length);

// SSL_OP_* constants (built by the SSL_OP_BIT macro, which Swift cannot import).
uint64_t edge_ssl_op_cipher_server_preference(void);
uint64_t edge_ssl_op_no_renegotiation(void);
uint64_t edge_ssl_op_no_compression(void);
uint64_t edge_ssl_op_prioritize_chacha(void);
uint64_t edge_ssl_op_no_ticket(void);
