#define _GNU_SOURCE
#include "CEdgeShims.h"
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>
#include <pthread.h>
#include <fcntl.h>
#include <sys/syscall.h>
#ifdef __linux__
#include <linux/openat2.h>
#endif

int edge_bound_tcp_socket(const struct sockaddr *addr, int reuseport) {
  int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1, zero = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) goto fail;
  if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) goto fail;
  if (addr->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) != 0) goto fail;
  socklen_t len = addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  if (bind(fd, addr, len) != 0) goto fail;
  return fd;
fail:;
  int err = errno;
  close(fd);
  return -err;
}

long edge_raise_nofile_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  return (long)rl.rlim_cur;
}

void edge_set_thread_name(const char *name) { pthread_setname_np(pthread_self(), name); }

void edge_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

int edge_open_no_symlinks(const char *path, int flags) {
#ifdef SYS_openat2
  struct open_how how = {.flags = (unsigned long long)flags, .mode = 0, .resolve = RESOLVE_NO_SYMLINKS};
  return (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
#else
  (void)path, (void)flags;
  errno = ENOSYS;
  return -1;
#endif
}

int edge_ssl_ctx_set_min_proto(SSL_CTX *ctx, int version) { return (int)SSL_CTX_set_min_proto_version(ctx, version); }
int edge_ssl_ctx_set_max_proto(SSL_CTX *ctx, int version) { return (int)SSL_CTX_set_max_proto_version(ctx, version); }
long edge_ssl_ctx_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
long edge_ssl_set_tlsext_host_name(SSL *ssl, const char *name) { return SSL_set_tlsext_host_name(ssl, name); }
size_t edge_bio_pending(BIO *bio) { return BIO_pending(bio); }
