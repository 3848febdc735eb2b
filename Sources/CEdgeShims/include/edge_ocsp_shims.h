// OCSP stapling shims (owned by EdgeTLS): the OpenSSL macro Swift cannot call. One function each.
#pragma once
#include <openssl/ssl.h>

/// SSL_CTX_set_tlsext_status_cb: on a server, `callback` runs during handshakes whose client sent
/// status_request, after the certificate is chosen; it staples a response with SSL_set_tlsext_status_ocsp_resp
/// and returns SSL_TLSEXT_ERR_OK, or returns SSL_TLSEXT_ERR_NOACK to send none.
long edge_ssl_ctx_set_tlsext_status_cb(SSL_CTX *ctx, int (*callback)(SSL *ssl, void *arg));
