#include "edge_ocsp_shims.h"

long edge_ssl_ctx_set_tlsext_status_cb(SSL_CTX *ctx, int (*callback)(SSL *ssl, void *arg)) {
  return SSL_CTX_set_tlsext_status_cb(ctx, callback);
}
