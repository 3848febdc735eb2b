// edgeload: the WebSocket upstream and the traffic generators of edge's load tests, in one small C
// program so that neither the upstream nor the generator is what limits a measurement (loadtest/README.md
// shows each loaded directly).
//
//   edgeload ws-serve PORT [BROADCAST_MS [BROADCAST_BYTES]]
//       A Grafana Live-like upstream on 127.0.0.1:PORT: it upgrades any GET with a WebSocket key,
//       echoes every data frame, answers pings and closes, and every BROADCAST_MS (default 1000; 0: never)
//       sends one text frame of BROADCAST_BYTES (default 64) to every connection whose target contains
//       "subscribe" — the many idle subscribers of a dashboard.
//
//   edgeload ws [options] HOST PORT
//       -c N      connections to open (default 100)
//       -r N      new connections per second while ramping (default 0: as fast as allowed)
//       -i N      handshakes in flight at most (default 256)
//       -m N      echo messages per second, over all connections (default 0: idle)
//       -s N      message size in bytes (default 128, at least 32)
//       -d SEC    how long to measure once every connection is open (default 10)
//       -w SEC    warm-up: latencies of the first SEC of the measurement are not kept (default 1)
//       -p PATH   request target (default /ws); put "subscribe" in it to receive broadcasts
//       -H HOST   Host header (default HOST)
//       -o FILE   write every kept latency (µs) as "e N" (echo) or "b N" (broadcast) lines, for CDFs
//     Prints "ready CONNECTED FAILED RAMP_SECONDS" once the ramp is over, then one JSON object at the end.
//
// Latency: an echo carries the send time (CLOCK_MONOTONIC, ns), a broadcast the upstream's send time.
// The clock is system-wide, so the two processes compare directly.
//
//   edgeload announce [options] HOST PORT
//       BitTorrent tracker traffic: keep-alive HTTP/1.1 GETs of /announce and /scrape with random,
//       valid parameters, each connection sending its next request when the answer is in (closed loop).
//       -c N      connections (default 64)
//       -d SEC    measured seconds (default 10); -w SEC warm-up excluded from the counts (default 1)
//       -k FILE   info_hashes, 40 hex digits a line (the tracker's whitelist)
//       -S PCT    share of scrapes (default 10)
//       -H HOST   Host header (default HOST)
//       -t FILE   a timeline: "SECONDS OK FAILED" for every 100 ms (for failover and reload runs)
//       -o FILE   write every kept latency (µs) as "a N" lines, for CDFs
//     An answer counts as ok when it is a 200 with a bencoded announce (interval) or scrape (files)
//     body. Failed: a request that got another status, a malformed body, or no answer (the connection
//     closed or was reset after the request was sent). A connection the server closes while idle is not a
//     failure; it is counted as idle_closes. Nor is a reused connection closed before any byte of the
//     answer came: HTTP clients retry an idempotent request then (RFC 9112 9.3.1), and so it is counted
//     as retried (opentracker, for one, closes after every answer without saying so).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 65536
#define GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

static void raise_fd_limit(void) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

// ---- byte buffers --------------------------------------------------------------------------------------
typedef struct {
  uint8_t *data;
  size_t len, cap;
} buf_t;

static void buf_reserve(buf_t *b, size_t more) {
  if (b->len + more <= b->cap) return;
  size_t cap = b->cap ? b->cap : 512;
  while (cap < b->len + more) cap *= 2;
  b->data = realloc(b->data, cap);
  if (!b->data) die("realloc");
  b->cap = cap;
}

static void buf_append(buf_t *b, const void *p, size_t n) {
  buf_reserve(b, n);
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static void buf_consume(buf_t *b, size_t n) {
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
}

static void buf_free(buf_t *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

// ---- frames ----------------------------------------------------------------------------------------------
// Appends one frame whose first byte (FIN and opcode) is `first`. A client masks (RFC 6455 5.3), a
// server does not.
static void frame_append(buf_t *out, uint8_t first, const uint8_t *payload, size_t n, int mask) {
  uint8_t head[14];
  size_t h = 0;
  head[h++] = first;
  uint8_t m = mask ? 0x80 : 0;
  if (n < 126) {
    head[h++] = m | (uint8_t)n;
  } else if (n <= 0xffff) {
    head[h++] = m | 126;
    head[h++] = (uint8_t)(n >> 8);
    head[h++] = (uint8_t)n;
  } else {
    head[h++] = m | 127;
    for (int i = 7; i >= 0; i--) head[h++] = (uint8_t)((uint64_t)n >> (8 * i));
  }
  uint8_t key[4] = {0};
  if (mask) {
    uint32_t r = (uint32_t)random();
    memcpy(key, &r, 4);
    memcpy(head + h, key, 4);
    h += 4;
  }
  buf_append(out, head, h);
  buf_reserve(out, n);
  uint8_t *dst = out->data + out->len;
  for (size_t i = 0; i < n; i++) dst[i] = mask ? payload[i] ^ key[i & 3] : payload[i];
  out->len += n;
}

// Parses the frame at the start of `in`. Returns its total size (0: incomplete); unmasks in place.
static size_t frame_parse(buf_t *in, int *fin, int *opcode, uint8_t **payload, size_t *n) {
  if (in->len < 2) return 0;
  uint8_t *p = in->data;
  size_t h = 2;
  uint64_t len = p[1] & 0x7f;
  int masked = p[1] & 0x80;
  if (len == 126) {
    if (in->len < 4) return 0;
    len = ((uint64_t)p[2] << 8) | p[3];
    h = 4;
  } else if (len == 127) {
    if (in->len < 10) return 0;
    len = 0;
    for (int i = 0; i < 8; i++) len = (len << 8) | p[2 + i];
    h = 10;
  }
  if (masked) h += 4;
  if (in->len < h + len) return 0;
  if (masked) {
    uint8_t *key = p + h - 4;
    for (uint64_t i = 0; i < len; i++) p[h + i] ^= key[i & 3];
  }
  *fin = p[0] >> 7;
  *opcode = p[0] & 0x0f;
  *payload = p + h;
  *n = (size_t)len;
  return h + (size_t)len;
}

// ---- sockets ---------------------------------------------------------------------------------------------
static void nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int epfd;

static void watch(int fd, uint32_t events, int add) {
  struct epoll_event ev = {.events = events, .data.fd = fd};
  if (epoll_ctl(epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) < 0) die("epoll_ctl");
}

typedef struct conn {
  int fd;
  int state;  // 0 connecting, 1 handshake, 2 open
  int subscriber;
  int want_out;
  int pending;  // announce: a request is waiting for its answer
  int answered;  // announce: answers read on this connection
  uint64_t started, sent_at;
  buf_t in, out;
} conn_t;

static conn_t *conns[MAX_FDS];

// Writes what it can; arms EPOLLOUT when the kernel is full. Returns -1 on a dead socket.
static int flush_out(conn_t *c) {
  while (c->out.len > 0) {
    ssize_t w = write(c->fd, c->out.data, c->out.len);
    if (w < 0) {
      if (errno == EAGAIN) break;
      return -1;
    }
    buf_consume(&c->out, (size_t)w);
  }
  int want = c->out.len > 0;
  if (want != c->want_out) {
    watch(c->fd, EPOLLIN | (want ? EPOLLOUT : 0), 0);
    c->want_out = want;
  }
  return 0;
}

// Reads everything available into c->in. Returns 0 on EOF or error, 1 otherwise.
static int fill_in(conn_t *c) {
  for (;;) {
    buf_reserve(&c->in, 16384);
    ssize_t r = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len);
    if (r > 0) {
      c->in.len += (size_t)r;
      continue;
    }
    if (r == 0) return 0;
    return errno == EAGAIN ? 1 : 0;
  }
}

static void close_conn(conn_t *c) {
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  conns[c->fd] = NULL;
  buf_free(&c->in);
  buf_free(&c->out);
  free(c);
}

// Opens a non-blocking connection to `addr`, watched for the connect's outcome (writable). NULL when no
// socket could be had; *refused when the connect failed at once.
static conn_t *dial(const struct sockaddr_in *addr, int *refused) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (s < 0) return NULL;
  if (s >= MAX_FDS) {
    close(s);
    return NULL;
  }
  nonblocking(s);
  conn_t *c = calloc(1, sizeof *c);
  c->fd = s;
  c->started = now_ns();
  conns[s] = c;
  watch(s, EPOLLIN | EPOLLOUT, 1);
  c->want_out = 1;
  *refused = connect(s, (const struct sockaddr *)addr, sizeof *addr) < 0 && errno != EINPROGRESS;
  return c;
}

// The outcome of a non-blocking connect once its socket has reported: 0 or the error.
static int connect_error(conn_t *c) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  return err;
}

static void accept_key(const char *key, size_t n, char out[32]) {
  char joined[128];
  if (n > 64) n = 64;
  memcpy(joined, key, n);
  memcpy(joined + n, GUID, strlen(GUID));
  uint8_t digest[SHA_DIGEST_LENGTH];
  SHA1((const uint8_t *)joined, n + strlen(GUID), digest);
  EVP_EncodeBlock((uint8_t *)out, digest, SHA_DIGEST_LENGTH);
}

// The value of header `name` (lower case, with the colon) in a head, trimmed; NULL when absent.
static const char *header_value(const char *head, const char *name, size_t *n) {
  size_t nl = strlen(name);
  for (const char *line = strchr(head, '\n'); line; line = strchr(line, '\n')) {
    line++;
    if (strncasecmp(line, name, nl) == 0) {
      const char *v = line + nl;
      while (*v == ' ' || *v == '\t') v++;
      const char *e = v;
      while (*e && *e != '\r' && *e != '\n') e++;
      while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
      *n = (size_t)(e - v);
      return v;
    }
  }
  return NULL;
}

// ---- serve -----------------------------------------------------------------------------------------------
static uint64_t served_frames, served_conns;

static int serve_handshake(conn_t *c) {
  buf_reserve(&c->in, 1);
  c->in.data[c->in.len] = 0;
  char *end = strstr((char *)c->in.data, "\r\n\r\n");
  if (!end) return c->in.len > 16384 ? -1 : 0;
  size_t head_len = (size_t)(end + 4 - (char *)c->in.data);
  size_t kn;
  const char *key = header_value((char *)c->in.data, "sec-websocket-key:", &kn);
  if (!key) {
    const char *no = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    buf_append(&c->out, no, strlen(no));
    flush_out(c);
    return -1;
  }
  char *line_end = strstr((char *)c->in.data, "\r\n");
  *line_end = 0;
  c->subscriber = strstr((char *)c->in.data, "subscribe") != NULL;
  char accept[32];
  accept_key(key, kn, accept);
  char reply[256];
  int n = snprintf(reply, sizeof reply,
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
  buf_append(&c->out, reply, (size_t)n);
  buf_consume(&c->in, head_len);
  c->state = 2;
  served_conns++;
  return 1;
}

static int serve_frames(conn_t *c) {
  int fin, opcode;
  uint8_t *payload;
  size_t n, used;
  while ((used = frame_parse(&c->in, &fin, &opcode, &payload, &n)) > 0) {
    if (opcode == 8) {  // close: answer with the same code, then hang up once it is written
      frame_append(&c->out, 0x88, payload, n < 2 ? n : 2, 0);
      flush_out(c);
      return -1;
    }
    if (opcode == 9) {
      frame_append(&c->out, 0x8a, payload, n, 0);
    } else if (opcode != 10) {  // data and continuation frames come back as they were sent
      frame_append(&c->out, (uint8_t)((fin ? 0x80 : 0) | opcode), payload, n, 0);
      served_frames++;
    }
    buf_consume(&c->in, used);
  }
  return 0;
}

static void broadcast(size_t size) {
  uint8_t payload[65536];
  if (size > sizeof payload) size = sizeof payload;
  if (size < 32) size = 32;
  memset(payload, ' ', size);
  int n = snprintf((char *)payload, size, "B %llu", (unsigned long long)now_ns());
  payload[n] = ' ';
  for (int fd = 0; fd < MAX_FDS; fd++) {
    conn_t *c = conns[fd];
    if (!c || c->state != 2 || !c->subscriber) continue;
    frame_append(&c->out, 0x81, payload, size, 0);
    if (flush_out(c) < 0) close_conn(c);
  }
}

static int serve(int argc, char **argv) {
  if (argc < 3) return fprintf(stderr, "usage: edgeload ws-serve PORT [BROADCAST_MS [BROADCAST_BYTES]]\n"), 2;
  int port = atoi(argv[2]);
  int every_ms = argc > 3 ? atoi(argv[3]) : 1000;
  size_t size = argc > 4 ? (size_t)atoi(argv[4]) : 64;
  signal(SIGPIPE, SIG_IGN);
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (listen(ls, 65535) < 0) die("listen");
  epfd = epoll_create1(0);
  watch(ls, EPOLLIN, 1);
  int tfd = -1;
  if (every_ms > 0) {
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec it = {.it_interval = {every_ms / 1000, (every_ms % 1000) * 1000000L}};
    it.it_value = it.it_interval;
    timerfd_settime(tfd, 0, &it, NULL);
    watch(tfd, EPOLLIN, 1);
  }
  struct epoll_event evs[512];
  for (;;) {
    int k = epoll_wait(epfd, evs, 512, -1);
    if (k < 0 && errno == EINTR) continue;
    for (int i = 0; i < k; i++) {
      int fd = evs[i].data.fd;
      if (fd == ls) {
        int s;
        while ((s = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          if (s >= MAX_FDS) { close(s); continue; }
          nonblocking(s);
          conn_t *c = calloc(1, sizeof *c);
          c->fd = s;
          c->state = 1;
          conns[s] = c;
          watch(s, EPOLLIN, 1);
        }
        continue;
      }
      if (fd == tfd) {
        uint64_t ticks;
        if (read(tfd, &ticks, sizeof ticks) > 0) broadcast(size);
        continue;
      }
      conn_t *c = conns[fd];
      if (!c) continue;
      int alive = 1;
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        alive = fill_in(c);
        int r = c->state == 1 ? serve_handshake(c) : 0;
        if (r < 0) alive = 0;
        if (alive && c->state == 2 && serve_frames(c) < 0) alive = 0;
      }
      if (alive && flush_out(c) < 0) alive = 0;
      if (!alive) close_conn(c);
    }
  }
}

// ---- client ----------------------------------------------------------------------------------------------
typedef struct {
  uint32_t *v;
  size_t n, cap;
} samples_t;

static void sample_add(samples_t *s, uint64_t ns) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 65536;
    s->v = realloc(s->v, s->cap * sizeof *s->v);
    if (!s->v) die("realloc");
  }
  uint64_t us = ns / 1000;
  s->v[s->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(samples_t *s, double p) {
  if (s->n == 0) return -1;
  size_t i = (size_t)(p / 100.0 * (double)(s->n - 1) + 0.5);
  return s->v[i] / 1000.0;  // ms
}

static void print_dist(const char *name, samples_t *s) {
  qsort(s->v, s->n, sizeof *s->v, cmp_u32);
  printf("\"%s\": {\"n\": %zu, \"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"p999_ms\": %.3f, "
         "\"max_ms\": %.3f}", name, s->n, pct(s, 50), pct(s, 90), pct(s, 99), pct(s, 99.9), pct(s, 100));
}

static struct {
  struct sockaddr_in addr;
  const char *host, *path;
  size_t msg_size;
  uint64_t keep_after;  // latencies before this time are warm-up
  FILE *samples_out;
  samples_t handshake, echo, bcast;
  uint64_t connected, failed, dropped, sent, echoed, bcasts;
  int open_fds[MAX_FDS];
  int n_open;
} C;

static void client_fail(conn_t *c) {
  if (c->state == 2) C.dropped++;
  else C.failed++;
  if (c->state == 2) {  // keep open_fds dense: swap the last one in
    for (int i = 0; i < C.n_open; i++)
      if (C.open_fds[i] == c->fd) {
        C.open_fds[i] = C.open_fds[--C.n_open];
        break;
      }
  }
  close_conn(c);
}

static void client_open(void) {
  int refused;
  conn_t *c = dial(&C.addr, &refused);
  if (!c) C.failed++;
  else if (refused) client_fail(c);
}

static void client_send_upgrade(conn_t *c) {
  uint8_t raw[16];
  for (int i = 0; i < 16; i++) raw[i] = (uint8_t)random();
  char key[32];
  EVP_EncodeBlock((uint8_t *)key, raw, 16);
  char req[1024];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", C.path, C.host, key);
  buf_append(&c->out, req, (size_t)n);
  c->state = 1;
}

// Returns -1 when the connection must go.
static int client_read(conn_t *c) {
  int open = fill_in(c);
  if (c->state == 1) {
    buf_reserve(&c->in, 1);
    c->in.data[c->in.len] = 0;
    char *end = strstr((char *)c->in.data, "\r\n\r\n");
    if (!end) return open ? 0 : -1;
    if (strncmp((char *)c->in.data, "HTTP/1.1 101", 12) != 0) return -1;
    buf_consume(&c->in, (size_t)(end + 4 - (char *)c->in.data));
    c->state = 2;
    C.connected++;
    C.open_fds[C.n_open++] = c->fd;
    sample_add(&C.handshake, now_ns() - c->started);
  }
  int fin, opcode;
  uint8_t *payload;
  size_t n, used;
  while ((used = frame_parse(&c->in, &fin, &opcode, &payload, &n)) > 0) {
    if (opcode == 1 && n >= 3) {
      uint64_t t = now_ns();
      uint64_t sent_at = strtoull((char *)payload + 2, NULL, 10);
      int keep = t >= C.keep_after && C.keep_after != 0;
      if (payload[0] == 'E') {
        C.echoed++;
        if (keep) {
          sample_add(&C.echo, t - sent_at);
          if (C.samples_out) fprintf(C.samples_out, "e %llu\n", (unsigned long long)((t - sent_at) / 1000));
        }
      } else if (payload[0] == 'B') {
        C.bcasts++;
        if (keep) {
          sample_add(&C.bcast, t - sent_at);
          if (C.samples_out) fprintf(C.samples_out, "b %llu\n", (unsigned long long)((t - sent_at) / 1000));
        }
      }
    } else if (opcode == 8) {
      return -1;
    }
    buf_consume(&c->in, used);
  }
  return open ? 0 : -1;
}

static void client_send_message(conn_t *c) {
  uint8_t payload[65536];
  size_t size = C.msg_size;
  memset(payload, 'x', size);
  int n = snprintf((char *)payload, size, "E %llu", (unsigned long long)now_ns());
  payload[n] = ' ';
  frame_append(&c->out, 0x81, payload, size, 1);
  C.sent++;
  if (flush_out(c) < 0) client_fail(c);
}

static void client_events(int timeout_ms) {
  struct epoll_event evs[512];
  int k = epoll_wait(epfd, evs, 512, timeout_ms);
  for (int i = 0; i < k; i++) {
    conn_t *c = conns[evs[i].data.fd];
    if (!c) continue;
    if (c->state == 0) {
      if (connect_error(c)) { client_fail(c); continue; }
      client_send_upgrade(c);
    }
    if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && client_read(c) < 0) {
      client_fail(c);
      continue;
    }
    if (flush_out(c) < 0) client_fail(c);
  }
}

static int client(int argc, char **argv) {
  int conns_wanted = 100, ramp = 0, in_flight = 256, rate = 0, duration = 10, warmup = 1;
  const char *samples_path = NULL;
  C.msg_size = 128;
  C.path = "/ws";
  int opt;
  optind = 2;
  while ((opt = getopt(argc, argv, "c:r:i:m:s:d:w:p:H:o:")) != -1) {
    switch (opt) {
      case 'c': conns_wanted = atoi(optarg); break;
      case 'r': ramp = atoi(optarg); break;
      case 'i': in_flight = atoi(optarg); break;
      case 'm': rate = atoi(optarg); break;
      case 's': C.msg_size = (size_t)atoi(optarg); break;
      case 'd': duration = atoi(optarg); break;
      case 'w': warmup = atoi(optarg); break;
      case 'p': C.path = optarg; break;
      case 'H': C.host = optarg; break;
      case 'o': samples_path = optarg; break;
      default: return fprintf(stderr, "edgeload ws: unknown option\n"), 2;
    }
  }
  if (argc - optind != 2) return fprintf(stderr, "usage: edgeload ws [options] HOST PORT\n"), 2;
  if (C.msg_size < 32) C.msg_size = 32;
  if (C.msg_size > 65536) C.msg_size = 65536;
  if (!C.host) C.host = argv[optind];
  C.addr.sin_family = AF_INET;
  C.addr.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
  if (inet_pton(AF_INET, argv[optind], &C.addr.sin_addr) != 1) return fprintf(stderr, "bad address\n"), 2;
  if (samples_path && !(C.samples_out = fopen(samples_path, "w"))) die(samples_path);
  signal(SIGPIPE, SIG_IGN);
  srandom((unsigned)now_ns());
  epfd = epoll_create1(0);

  // Ramp: open connections at the asked rate, with at most `in_flight` handshakes under way.
  uint64_t t0 = now_ns();
  int started = 0;
  while (C.connected + C.failed < (uint64_t)conns_wanted) {
    uint64_t elapsed = now_ns() - t0;
    int allowed = ramp > 0 ? (int)(elapsed / 1000000000.0 * ramp) + 1 : conns_wanted;
    if (allowed > conns_wanted) allowed = conns_wanted;
    while (started < allowed && (uint64_t)started - C.connected - C.failed < (uint64_t)in_flight) {
      client_open();
      started++;
    }
    client_events(1);
    if (elapsed > 300ull * 1000000000ull) break;  // a proxy that stops accepting must not hang the run
  }
  double ramp_s = (now_ns() - t0) / 1e9;
  printf("ready %llu %llu %.3f\n", (unsigned long long)C.connected, (unsigned long long)C.failed, ramp_s);
  fflush(stdout);

  // Measure: send `rate` messages a second, spread over the open connections, for `duration` seconds.
  uint64_t m0 = now_ns();
  C.keep_after = m0 + (uint64_t)warmup * 1000000000ull;
  uint64_t end = m0 + (uint64_t)duration * 1000000000ull;
  uint64_t due_sent = 0;
  size_t next = 0;
  uint64_t sent_at_start = C.sent;
  while (now_ns() < end) {
    if (rate > 0 && C.n_open > 0) {
      uint64_t should = (uint64_t)((now_ns() - m0) / 1e9 * rate);
      while (due_sent < should && C.n_open > 0) {
        if (next >= (size_t)C.n_open) next = 0;
        client_send_message(conns[C.open_fds[next++]]);
        due_sent++;
      }
    }
    client_events(rate > 0 ? 1 : 50);
  }
  // Give the last echoes a moment to come back before counting.
  uint64_t drain_end = now_ns() + 500000000ull;
  while (now_ns() < drain_end && C.echoed < C.sent) client_events(10);
  double measured = (end - m0) / 1e9;
  if (C.samples_out) fclose(C.samples_out);

  printf("{\"connections\": %d, \"connected\": %llu, \"failed\": %llu, \"dropped\": %llu, "
         "\"ramp_s\": %.3f, \"seconds\": %.3f, \"sent\": %llu, \"echoed\": %llu, \"broadcasts\": %llu, "
         "\"sent_per_s\": %.1f, ",
         conns_wanted, (unsigned long long)C.connected, (unsigned long long)C.failed,
         (unsigned long long)C.dropped, ramp_s, measured, (unsigned long long)C.sent,
         (unsigned long long)C.echoed, (unsigned long long)C.bcasts, (C.sent - sent_at_start) / measured);
  print_dist("handshake", &C.handshake);
  printf(", ");
  print_dist("echo", &C.echo);
  printf(", ");
  print_dist("broadcast", &C.bcast);
  printf("}\n");
  return 0;
}

// ---- announce ---------------------------------------------------------------------------------------------
static struct {
  struct sockaddr_in addr;
  const char *host;
  char (*hashes)[61];  // each info_hash percent-encoded, %XX for all 20 bytes
  int n_hashes, scrape_pct;
  uint64_t t0, keep_after, end;
  samples_t latency;
  uint64_t ok, failed, connect_errors, idle_closes, retried;
  int reopen;  // connections to open again on the next turn of the loop
  uint32_t *tl_ok, *tl_failed;
  size_t tl_n;
  FILE *samples_out;
} A;

static void timeline_add(int ok) {
  size_t i = (size_t)((now_ns() - A.t0) / 100000000u);
  if (i >= A.tl_n) return;
  if (ok) A.tl_ok[i]++;
  else A.tl_failed[i]++;
}

static void announce_result(int ok, uint64_t sent_at) {
  uint64_t t = now_ns();
  timeline_add(ok);
  if (t < A.keep_after || t > A.end + 2000000000ull) return;
  if (ok) {
    A.ok++;
    sample_add(&A.latency, t - sent_at);
    if (A.samples_out) fprintf(A.samples_out, "a %llu\n", (unsigned long long)((t - sent_at) / 1000));
  } else {
    A.failed++;
  }
}

static void random_alnum(char *out, int n) {
  static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  for (int i = 0; i < n; i++) out[i] = set[random() % (sizeof set - 1)];
}

static void announce_send(conn_t *c) {
  char req[1024];
  int n;
  const char *hash = A.hashes[random() % A.n_hashes];
  if (random() % 100 < A.scrape_pct) {
    n = snprintf(req, sizeof req, "GET /scrape?info_hash=%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: edgeload\r\n\r\n",
                 hash, A.host);
  } else {
    static const char *events[] = {"&event=started", "&event=completed", "&event=stopped", "", "", "", "", "",
                                   "", ""};
    const char *event = events[random() % 10];
    char peer[13] = {0};
    random_alnum(peer, 12);
    long left = strcmp(event, "&event=completed") == 0 ? 0 : random() % 4000000000L;
    n = snprintf(req, sizeof req,
                 "GET /announce?info_hash=%s&peer_id=-EL0001-%s&port=%ld&uploaded=%ld&downloaded=%ld&left=%ld%s"
                 "&compact=1&numwant=50 HTTP/1.1\r\nHost: %s\r\nUser-Agent: edgeload\r\n\r\n",
                 hash, peer, 1024 + random() % 64000, random() % 1000000000L, random() % 1000000000L, left, event,
                 A.host);
  }
  buf_append(&c->out, req, (size_t)n);
  c->pending = 1;
  c->sent_at = now_ns();
}

// The size of a complete chunked body at `p` (n bytes available), 0 when more is needed, -1 when malformed.
static long chunked_size(const char *p, size_t n) {
  size_t i = 0;
  for (;;) {
    const char *eol = memmem(p + i, n - i, "\r\n", 2);
    if (!eol) return 0;
    char *stop;
    unsigned long size = strtoul(p + i, &stop, 16);
    if (stop == p + i) return -1;
    i = (size_t)(eol - p) + 2;
    if (size == 0) {  // trailers end with an empty line
      for (;;) {
        const char *e = memmem(p + i, n - i, "\r\n", 2);
        if (!e) return 0;
        size_t line = (size_t)(e - (p + i));
        i += line + 2;
        if (line == 0) return (long)i;
      }
    }
    if (n - i < size + 2) return 0;
    i += size + 2;
  }
}

// Handles the answers in c->in. Returns 1 when the server asked to close, -1 on a malformed answer.
static int announce_answers(conn_t *c) {
  while (c->pending) {
    buf_reserve(&c->in, 1);
    c->in.data[c->in.len] = 0;
    char *head = (char *)c->in.data;
    char *end = strstr(head, "\r\n\r\n");
    if (!end) return 0;
    size_t head_len = (size_t)(end + 4 - head);
    int status = strncmp(head, "HTTP/1.", 7) == 0 ? atoi(head + 9) : 0;
    size_t vn;
    long body_len;
    const char *cl = header_value(head, "content-length:", &vn);
    const char *te = header_value(head, "transfer-encoding:", &vn);
    if (te && strncasecmp(te, "chunked", 7) == 0) {
      body_len = chunked_size(head + head_len, c->in.len - head_len);
      if (body_len < 0) return -1;
      if (body_len == 0) return 0;
    } else if (cl) {
      body_len = atol(cl);
      if (c->in.len - head_len < (size_t)body_len) return 0;
    } else {
      return -1;  // the tracker and every proxy here frame their answers
    }
    const char *connection = header_value(head, "connection:", &vn);
    int closing = (connection && strncasecmp(connection, "close", 5) == 0) || strncmp(head, "HTTP/1.0", 8) == 0;
    const char *body = head + head_len;
    size_t bn = (size_t)body_len;
    int valid = status == 200 && bn > 0 && body[0] == 'd' &&
                (memmem(body, bn, "8:interval", 10) || memmem(body, bn, "5:files", 7));
    announce_result(valid, c->sent_at);
    c->pending = 0;
    c->answered++;
    buf_consume(&c->in, head_len + bn);
    if (closing) return 1;
  }
  return 0;
}

// A connection ends: its outstanding request, if any, failed; a new connection replaces it.
static void announce_end(conn_t *c) {
  if (c->state == 0) {
    A.connect_errors++;
    timeline_add(0);
  } else if (c->pending && c->answered > 0 && c->in.len == 0) {
    A.retried++;
  } else if (c->pending) {
    announce_result(0, c->sent_at);
  } else {
    A.idle_closes++;
  }
  close_conn(c);
  A.reopen++;
}

static void announce_open(void) {
  int refused;
  conn_t *c = dial(&A.addr, &refused);
  if (!c) die("socket");
  if (refused) announce_end(c);
}

static int announce(int argc, char **argv) {
  int n_conns = 64, duration = 10, warmup = 1, opt;
  const char *hashes_path = NULL, *timeline_path = NULL, *samples_path = NULL;
  A.scrape_pct = 10;
  optind = 2;
  while ((opt = getopt(argc, argv, "c:d:w:k:S:H:t:o:")) != -1) {
    switch (opt) {
      case 'c': n_conns = atoi(optarg); break;
      case 'd': duration = atoi(optarg); break;
      case 'w': warmup = atoi(optarg); break;
      case 'k': hashes_path = optarg; break;
      case 'S': A.scrape_pct = atoi(optarg); break;
      case 'H': A.host = optarg; break;
      case 't': timeline_path = optarg; break;
      case 'o': samples_path = optarg; break;
      default: return fprintf(stderr, "edgeload announce: unknown option\n"), 2;
    }
  }
  if (argc - optind != 2 || !hashes_path)
    return fprintf(stderr, "usage: edgeload announce -k HASHES [options] HOST PORT\n"), 2;
  if (!A.host) A.host = argv[optind];
  A.addr.sin_family = AF_INET;
  A.addr.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
  if (inet_pton(AF_INET, argv[optind], &A.addr.sin_addr) != 1) return fprintf(stderr, "bad address\n"), 2;
  FILE *f = fopen(hashes_path, "r");
  if (!f) die(hashes_path);
  char line[256];
  while (fgets(line, sizeof line, f)) {
    if (strlen(line) < 40) continue;
    A.hashes = realloc(A.hashes, (size_t)(A.n_hashes + 1) * sizeof *A.hashes);
    for (int i = 0; i < 20; i++) snprintf(A.hashes[A.n_hashes] + 3 * i, 4, "%%%c%c", line[2 * i], line[2 * i + 1]);
    A.n_hashes++;
  }
  fclose(f);
  if (A.n_hashes == 0) return fprintf(stderr, "edgeload announce: no info_hash in %s\n", hashes_path), 2;
  if (samples_path && !(A.samples_out = fopen(samples_path, "w"))) die(samples_path);
  signal(SIGPIPE, SIG_IGN);
  srandom((unsigned)now_ns());
  epfd = epoll_create1(0);
  A.t0 = now_ns();
  A.keep_after = A.t0 + (uint64_t)warmup * 1000000000ull;
  A.end = A.keep_after + (uint64_t)duration * 1000000000ull;
  A.tl_n = (size_t)(warmup + duration + 3) * 10;
  A.tl_ok = calloc(A.tl_n, sizeof *A.tl_ok);
  A.tl_failed = calloc(A.tl_n, sizeof *A.tl_failed);
  for (int i = 0; i < n_conns; i++) announce_open();

  struct epoll_event evs[512];
  uint64_t hard_end = A.end + 2000000000ull;  // answers still due after the end get 2 s
  for (;;) {
    uint64_t t = now_ns();
    int busy = 0;
    for (int fd = 0; fd < MAX_FDS && t >= A.end; fd++)
      if (conns[fd] && conns[fd]->pending) busy = 1;
    if (t >= A.end && (!busy || t >= hard_end)) break;
    for (; A.reopen > 0; A.reopen--)
      if (t < A.end) announce_open();
    int k = epoll_wait(epfd, evs, 512, 10);
    for (int i = 0; i < k; i++) {
      conn_t *c = conns[evs[i].data.fd];
      if (!c) continue;
      if (c->state == 0) {
        if (connect_error(c)) { announce_end(c); continue; }
        c->state = 2;
        if (now_ns() < A.end) announce_send(c);
      }
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        int open = fill_in(c);
        int r = announce_answers(c);
        if (r < 0 || !open) { announce_end(c); continue; }
        if (r == 1) {  // answered, then closing: reconnect
          A.idle_closes++;
          close_conn(c);
          A.reopen++;
          continue;
        }
        if (!c->pending && now_ns() < A.end) announce_send(c);
      }
      if (flush_out(c) < 0) announce_end(c);
    }
  }
  uint64_t unanswered = 0;
  for (int fd = 0; fd < MAX_FDS; fd++)
    if (conns[fd] && conns[fd]->pending) unanswered++;
  A.failed += unanswered;
  if (A.samples_out) fclose(A.samples_out);
  if (timeline_path) {
    FILE *tl = fopen(timeline_path, "w");
    if (!tl) die(timeline_path);
    for (size_t i = 0; i < A.tl_n; i++) fprintf(tl, "%.1f %u %u\n", i / 10.0, A.tl_ok[i], A.tl_failed[i]);
    fclose(tl);
  }
  printf("{\"connections\": %d, \"seconds\": %d, \"ok\": %llu, \"failed\": %llu, \"unanswered\": %llu, "
         "\"connect_errors\": %llu, \"idle_closes\": %llu, \"retried\": %llu, \"req_per_s\": %.1f, ",
         n_conns, duration, (unsigned long long)A.ok, (unsigned long long)A.failed, (unsigned long long)unanswered,
         (unsigned long long)A.connect_errors, (unsigned long long)A.idle_closes, (unsigned long long)A.retried,
         A.ok / (double)duration);
  print_dist("latency", &A.latency);
  printf("}\n");
  return 0;
}

int main(int argc, char **argv) {
  raise_fd_limit();
  if (argc > 1 && strcmp(argv[1], "ws-serve") == 0) return serve(argc, argv);
  if (argc > 1 && strcmp(argv[1], "ws") == 0) return client(argc, argv);
  if (argc > 1 && strcmp(argv[1], "announce") == 0) return announce(argc, argv);
  fprintf(stderr, "usage: edgeload ws-serve PORT [BROADCAST_MS [BROADCAST_BYTES]] | edgeload ws [options] HOST PORT"
                  " | edgeload announce -k HASHES [options] HOST PORT\n");
  return 2;
}
