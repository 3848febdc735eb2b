// What Swift cannot call directly: macros, static inline functions, and socket set-up that libuv 1.44
// (Debian 12) has no API for. One function each; no logic beyond the call it wraps.
#pragma once
#include <sys/socket.h>
#include <uv.h>
#include <openssl/ssl.h>
#include "edge_tls_shims.h"
#include "edge_ca_shims.h"
#include "edge_ocsp_shims.h"

/// A bound, non-listening TCP socket with SO_REUSEADDR and (when reuseport != 0) SO_REUSEPORT, so every
/// worker loop can bind its own socket to one address. IPv6 sockets accept IPv4 too (V6ONLY off).
/// Returns the fd, or -errno.
int edge_bound_tcp_socket(const struct sockaddr *addr, int reuseport);

/// Raises RLIMIT_NOFILE's soft limit to its hard limit. Returns the new soft limit.
long edge_raise_nofile_limit(void);

/// Names the calling thread (shown by top -H, perf, gdb).
void edge_set_thread_name(const char *name);

/// Ignores SIGPIPE (writes to closed sockets return EPIPE instead of killing the process).
void edge_ignore_sigpipe(void);

/// `openat2(AT_FDCWD, path, {flags, 0, RESOLVE_NO_SYMLINKS})` (Linux 5.6+; glibc has no wrapper): opens
/// `path` only if no component of it is a symlink. Returns the fd, or -1 with errno (ELOOP: a component
/// is a symlink; ENOSYS, or EPERM under a seccomp filter, when the kernel does not offer the call).
int edge_open_no_symlinks(const char *path, int flags);

// OpenSSL macros (used by the TLS module).
int edge_ssl_ctx_set_min_proto(SSL_CTX *ctx, int version);
int edge_ssl_ctx_set_max_proto(SSL_CTX *ctx, int version);
long edge_ssl_ctx_set_mode(SSL_CTX *ctx, long mode);
long edge_ssl_set_tlsext_host_name(SSL *ssl, const char *name);
size_t edge_bio_pending(BIO *bio);
