#include "edge_tls_shims.h"
#include <openssl/core_names.h>
#include <openssl/evp.h>

int edge_ssl_ctx_set1_groups_list(SSL_CTX *ctx, const char *groups) {
  return (int)SSL_CTX_set1_groups_list(ctx, groups);
}

long edge_ssl_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode) {
  return SSL_CTX_set_session_cache_mode(ctx, mode);
}

int edge_ticket_hmac_init(EVP_MAC_CTX *hctx, const unsigned char *key, size_t key_length) {
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
    OSSL_PARAM_construct_end(),
  };
  return EVP_MAC_init(hctx, key, key_length, params);
}

uint64_t edge_ssl_op_cipher_server_preference(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
uint64_t edge_ssl_op_no_renegotiation(void) { return SSL_OP_NO_RENEGOTIATION; }
uint64_t edge_ssl_op_no_compression(void) { return SSL_OP_NO_COMPRESSION; }
uint64_t edge_ssl_op_prioritize_chacha(void) { return SSL_OP_PRIORITIZE_CHACHA; }
uint64_t edge_ssl_op_no_ticket(void) { return SSL_OP_NO_TICKET; }

int edge_ssl_set_min_proto(SSL *ssl, int version) { return (int)SSL_set_min_proto_version(ssl, version); }
int edge_ssl_set_max_proto(SSL *ssl, int version) { return (int)SSL_set_max_proto_version(ssl, version); }
int edge_ssl_set1_groups_list(SSL *ssl, const char *groups) { return (int)SSL_set1_groups_list(ssl, groups); }

static int edge_accept_server_name(SSL *ssl, int *alert, void *arg) {
  (void)ssl; (void)alert; (void)arg;
  return SSL_TLSEXT_ERR_OK;
}

int edge_ssl_ctx_accept_server_name(SSL_CTX *ctx) {
  return (int)SSL_CTX_set_tlsext_servername_callback(ctx, edge_accept_server_name);
}
