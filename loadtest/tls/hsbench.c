/*
 * hsbench: full TLS 1.3 handshakes per second against one server, as fast as one client core allows.
 *
 * Every connection: TCP connect, a full TLS 1.3 handshake (X25519 key exchange, TLS_AES_128_GCM_SHA256,
 * SNI, no PSK / session resumption offered), one `GET / HTTP/1.1` with `Connection: close`, and the
 * response read until the server closes (close_notify or EOF). A connection counts when the response
 * status is 200. Connections run C at a time from one epoll loop (one thread).
 *
 * Two client implementations (-m):
 *   raw      (default) a minimal TLS 1.3 client written here on top of libcrypto. It does what a real
 *            client does on the wire (key share, handshake and application traffic keys, server Finished
 *            checked, client Finished sent), but it skips the certificate and CertificateVerify
 *            signature checks and re-uses one X25519 key share for all connections: a load generator
 *            does not need to trust the server, and an ECDSA P-256 verify costs ~3x a sign, so an
 *            OpenSSL client on one core cannot keep a one-core OpenSSL server busy. The server still
 *            generates a fresh ephemeral key, derives the shared secret and signs every handshake.
 *   openssl  libssl's own client (SSL_VERIFY_NONE, tickets off, a new SSL per connection): the
 *            reference that the raw client speaks correct TLS. Far slower on the client side.
 *
 * Build: cc -O2 -o hsbench hsbench.c -lssl -lcrypto
 * Usage: hsbench [-m raw|openssl] [-c connections] [-d seconds] [-n sni] [-p path] [-v] host port
 *   No ClientHello ever carries a pre_shared_key: every handshake is a full one. Session tickets that a
 *   server sends are counted (tickets_per_handshake, raw client only) and dropped.
 * Output (one line): handshakes=N seconds=S rate=R errors=E client_cpu_s=C tickets_per_handshake=T
 */
#define _GNU_SOURCE
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init & co: the low-level calls are much cheaper per call */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *g_sni = "bench.test";
static const char *g_path = "/";
static struct sockaddr_in g_addr;
static int g_raw = 1;
static int g_verbose = 0;
static long g_tickets;       /* NewSessionTicket messages received (raw client) */
static char g_request[512];
static size_t g_request_len;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "hsbench: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

/* ---------------------------------------------------------------- SHA-256, HMAC, HKDF (TLS 1.3) */

static void hmac_sha256(const uint8_t *key, size_t klen, const uint8_t *msg, size_t mlen, uint8_t out[32]) {
    uint8_t k[64] = {0}, pad[64], inner[32];
    SHA256_CTX c;
    if (klen > 64) { SHA256(key, klen, k); } else { memcpy(k, key, klen); }
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
    SHA256_Init(&c); SHA256_Update(&c, pad, 64); SHA256_Update(&c, msg, mlen); SHA256_Final(inner, &c);
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
    SHA256_Init(&c); SHA256_Update(&c, pad, 64); SHA256_Update(&c, inner, 32); SHA256_Final(out, &c);
}

/* HKDF-Expand-Label(secret, label, context, len) for len <= 32 (one HMAC block). */
static void expand_label(const uint8_t secret[32], const char *label, const uint8_t *ctx, size_t ctxlen,
                         uint8_t *out, size_t len) {
    uint8_t info[128], t[32];
    size_t ll = strlen(label), n = 0;
    info[n++] = (uint8_t)(len >> 8); info[n++] = (uint8_t)len;
    info[n++] = (uint8_t)(6 + ll);
    memcpy(info + n, "tls13 ", 6); n += 6;
    memcpy(info + n, label, ll); n += ll;
    info[n++] = (uint8_t)ctxlen;
    memcpy(info + n, ctx, ctxlen); n += ctxlen;
    info[n++] = 1;
    hmac_sha256(secret, 32, info, n, t);
    memcpy(out, t, len);
}

static uint8_t g_derived_early[32]; /* Derive-Secret(Early Secret, "derived", "") — the same for every handshake */
static uint8_t g_empty_hash[32];

/* ---------------------------------------------------------------- AES-128-GCM record protection */

static EVP_CIPHER *g_gcm;

typedef struct {
    EVP_CIPHER_CTX *ctx;
    uint8_t iv[12];
    uint64_t seq;
} rkey;

static void rkey_set(rkey *k, const uint8_t secret[32], int enc) {
    uint8_t key[16];
    expand_label(secret, "key", NULL, 0, key, 16);
    expand_label(secret, "iv", NULL, 0, k->iv, 12);
    k->seq = 0;
    if (!k->ctx && !(k->ctx = EVP_CIPHER_CTX_new())) die("EVP_CIPHER_CTX_new");
    if (!EVP_CipherInit_ex(k->ctx, g_gcm, NULL, key, NULL, enc)) die("GCM key");
}

static void nonce(rkey *k, uint8_t out[12]) {
    memcpy(out, k->iv, 12);
    for (int i = 0; i < 8; i++) out[11 - i] ^= (uint8_t)(k->seq >> (8 * i));
    k->seq++;
}

/* Decrypt one TLS 1.3 record (hdr: 5 bytes, body: len bytes) in place. Returns the inner content type
 * and sets *plen, or -1 when the record does not authenticate. */
static int open_record(rkey *k, const uint8_t *hdr, uint8_t *body, size_t len, size_t *plen) {
    uint8_t n[12];
    int outl;
    if (len < 17) return -1;
    nonce(k, n);
    size_t clen = len - 16;
    if (!EVP_DecryptInit_ex(k->ctx, NULL, NULL, NULL, n)) return -1;
    if (!EVP_DecryptUpdate(k->ctx, NULL, &outl, hdr, 5)) return -1;
    if (!EVP_DecryptUpdate(k->ctx, body, &outl, body, (int)clen)) return -1;
    if (!EVP_CIPHER_CTX_ctrl(k->ctx, EVP_CTRL_GCM_SET_TAG, 16, body + clen)) return -1;
    if (EVP_DecryptFinal_ex(k->ctx, body + outl, &outl) <= 0) return -1;
    while (clen > 0 && body[clen - 1] == 0) clen--; /* padding */
    if (clen == 0) return -1;
    *plen = clen - 1;
    return body[clen - 1];
}

/* Append an encrypted record carrying (type, data) to out; returns bytes written. */
static size_t seal_record(rkey *k, int type, const uint8_t *data, size_t len, uint8_t *out) {
    uint8_t n[12];
    int outl;
    size_t clen = len + 1;
    out[0] = 23; out[1] = 3; out[2] = 3;
    out[3] = (uint8_t)((clen + 16) >> 8); out[4] = (uint8_t)(clen + 16);
    memcpy(out + 5, data, len);
    out[5 + len] = (uint8_t)type;
    nonce(k, n);
    if (!EVP_EncryptInit_ex(k->ctx, NULL, NULL, NULL, n)) die("GCM nonce");
    if (!EVP_EncryptUpdate(k->ctx, NULL, &outl, out, 5)) die("GCM aad");
    if (!EVP_EncryptUpdate(k->ctx, out + 5, &outl, out + 5, (int)clen)) die("GCM enc");
    if (!EVP_EncryptFinal_ex(k->ctx, out + 5 + outl, &outl)) die("GCM final");
    if (!EVP_CIPHER_CTX_ctrl(k->ctx, EVP_CTRL_GCM_GET_TAG, 16, out + 5 + clen)) die("GCM tag");
    return 5 + clen + 16;
}

/* ---------------------------------------------------------------- the raw client's fixed key share */

static EVP_PKEY *g_x25519;
static uint8_t g_x25519_pub[32];
static uint8_t g_hello[512]; /* ClientHello record; the 32-byte random is rewritten per connection */
static size_t g_hello_len, g_hello_random_off;

static void build_client_hello(void) {
    uint8_t ext[400], *p = ext;
    size_t sl = strlen(g_sni);
#define U8(v) (*p++ = (uint8_t)(v))
#define U16(v) (U8((v) >> 8), U8(v))
    /* server_name */
    U16(0x0000); U16(sl + 5); U16(sl + 3); U8(0); U16(sl); memcpy(p, g_sni, sl); p += sl;
    /* supported_groups: x25519 */
    U16(0x000a); U16(4); U16(2); U16(0x001d);
    /* signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256 */
    U16(0x000d); U16(8); U16(6); U16(0x0403); U16(0x0804); U16(0x0401);
    /* supported_versions: TLS 1.3 */
    U16(0x002b); U16(3); U8(2); U16(0x0304);
    /* psk_key_exchange_modes: psk_dhe_ke, as browsers send. A server may issue tickets (OpenSSL sends its
     * num_tickets whether or not this is offered); they are counted and dropped, never used. */
    U16(0x002d); U16(2); U8(1); U8(1);
    /* key_share: x25519 */
    U16(0x0033); U16(38); U16(36); U16(0x001d); U16(32); memcpy(p, g_x25519_pub, 32); p += 32;
    size_t extlen = (size_t)(p - ext);

    uint8_t *h = g_hello;
    p = h;
    U8(22); U16(0x0301); U16(0); /* record header; length below */
    U8(1); U8(0); U16(0);        /* ClientHello; length below */
    U16(0x0303);
    g_hello_random_off = (size_t)(p - h);
    memset(p, 0, 32); p += 32;
    U8(0);                       /* legacy_session_id: empty */
    U16(2); U16(0x1301);         /* TLS_AES_128_GCM_SHA256 */
    U8(1); U8(0);                /* compression: null */
    U16(extlen); memcpy(p, ext, extlen); p += extlen;
#undef U8
#undef U16
    g_hello_len = (size_t)(p - h);
    size_t rl = g_hello_len - 5, hl = g_hello_len - 9;
    h[3] = (uint8_t)(rl >> 8); h[4] = (uint8_t)rl;
    h[6] = (uint8_t)(hl >> 16); h[7] = (uint8_t)(hl >> 8); h[8] = (uint8_t)hl;
}

/* ---------------------------------------------------------------- connections */

enum { ST_CONNECT, ST_SH, ST_HS, ST_APP, ST_SSL };

#define INBUF 32768
#define HSBUF 16384

typedef struct conn {
    int fd, state;
    double started;
    /* raw client */
    uint8_t in[INBUF]; size_t inlen;
    uint8_t hs[HSBUF]; size_t hslen;
    SHA256_CTX transcript;
    uint8_t hs_secret[32], c_hs[32], s_hs[32];
    rkey rk, wk;
    int got_200, seen_app;
    /* openssl client */
    SSL *ssl;
    int request_sent;
    size_t resp_seen;
    char resp_head[16];
} conn;

static SSL_CTX *g_sslctx;
static int g_ep;
static long g_done, g_errors;
static int g_counting = 1;

static void conn_start(conn *c);

static void conn_finish(conn *c, int ok) {
    if (c->ssl) { SSL_free(c->ssl); c->ssl = NULL; }
    if (c->fd >= 0) { close(c->fd); c->fd = -1; }
    if (g_counting) { if (ok) g_done++; else g_errors++; }
    if (!ok && g_verbose) fprintf(stderr, "hsbench: connection failed in state %d\n", c->state);
    if (!ok && g_errors >= 1000 && g_done == 0) die("1000 connections failed and none succeeded: is the server up?");
    conn_start(c);
}

static void conn_start(conn *c) {
retry:
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) die("socket");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = ST_CONNECT;
    c->inlen = c->hslen = 0;
    c->got_200 = c->seen_app = 0;
    c->request_sent = 0;
    c->resp_seen = 0;
    c->started = now();
    int r = connect(c->fd, (struct sockaddr *)&g_addr, sizeof g_addr);
    if (r < 0 && errno != EINPROGRESS) {
        close(c->fd); c->fd = -1;
        if (g_counting) g_errors++;
        usleep(1000);
        goto retry;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(g_ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
}

static int write_all(int fd, const uint8_t *b, size_t n) {
    /* handshake flights are < 1 KB: the socket buffer always takes them whole */
    ssize_t w = write(fd, b, n);
    return w == (ssize_t)n ? 0 : -1;
}

/* ---- raw TLS 1.3 client */

static int raw_server_hello(conn *c, const uint8_t *m, size_t len) {
    /* m: the whole ServerHello message including its 4-byte header */
    static const uint8_t hrr[32] = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
                                    0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
                                    0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
    const uint8_t *p = m + 4, *end = m + len, *spub = NULL;
    int v13 = 0;
    if (m[0] != 2 || end - p < 38) return -1;
    p += 2;
    if (memcmp(p, hrr, 32) == 0) return -1; /* HelloRetryRequest: not expected with x25519 offered */
    p += 32;
    p += 1 + p[0];                             /* session id */
    if (end - p < 5) return -1;
    if (p[0] != 0x13 || p[1] != 0x01) return -1;
    p += 3;
    size_t el = (size_t)(p[0] << 8 | p[1]);
    p += 2;
    if ((size_t)(end - p) < el) return -1;
    const uint8_t *ee = p + el;
    while (ee - p >= 4) {
        unsigned t = p[0] << 8 | p[1], l = p[2] << 8 | p[3];
        p += 4;
        if ((size_t)(ee - p) < l) return -1;
        if (t == 0x002b && l == 2 && p[0] == 3 && p[1] == 4) v13 = 1;
        if (t == 0x0033 && l == 36 && p[0] == 0 && p[1] == 0x1d && p[3] == 32) spub = p + 4;
        p += l;
    }
    if (!v13 || !spub) return -1;

    /* ECDHE */
    uint8_t shared[32];
    size_t sl = 32;
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, spub, 32);
    EVP_PKEY_CTX *dctx = EVP_PKEY_CTX_new(g_x25519, NULL);
    int ok = peer && dctx && EVP_PKEY_derive_init(dctx) > 0 && EVP_PKEY_derive_set_peer(dctx, peer) > 0 &&
             EVP_PKEY_derive(dctx, shared, &sl) > 0 && sl == 32;
    EVP_PKEY_CTX_free(dctx);
    EVP_PKEY_free(peer);
    if (!ok) return -1;

    SHA256_Update(&c->transcript, m, len);
    uint8_t th[32];
    SHA256_CTX tmp = c->transcript;
    SHA256_Final(th, &tmp);
    hmac_sha256(g_derived_early, 32, shared, 32, c->hs_secret);
    expand_label(c->hs_secret, "c hs traffic", th, 32, c->c_hs, 32);
    expand_label(c->hs_secret, "s hs traffic", th, 32, c->s_hs, 32);
    rkey_set(&c->rk, c->s_hs, 0);
    rkey_set(&c->wk, c->c_hs, 1);
    return 0;
}

/* Handles the server's encrypted handshake messages; on its Finished sends ours and the request. */
static int raw_handshake_messages(conn *c) {
    size_t off = 0;
    while (c->hslen - off >= 4) {
        const uint8_t *m = c->hs + off;
        size_t ml = 4 + ((size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3]);
        if (c->hslen - off < ml) break;
        if (c->state == ST_SH) {
            if (raw_server_hello(c, m, ml) < 0) return -1;
            c->state = ST_HS;
        } else if (c->state == ST_HS && m[0] == 20) { /* server Finished */
            uint8_t th[32], fk[32], expect[32];
            SHA256_CTX tmp = c->transcript;
            SHA256_Final(th, &tmp);
            expand_label(c->s_hs, "finished", NULL, 0, fk, 32);
            hmac_sha256(fk, 32, th, 32, expect);
            if (ml != 36 || memcmp(expect, m + 4, 32) != 0) return -1;
            SHA256_Update(&c->transcript, m, ml);
            tmp = c->transcript;
            SHA256_Final(th, &tmp);
            /* application traffic secrets */
            uint8_t derived[32], zero[32] = {0}, master[32], c_ap[32], s_ap[32];
            expand_label(c->hs_secret, "derived", g_empty_hash, 32, derived, 32);
            hmac_sha256(derived, 32, zero, 32, master);
            expand_label(master, "c ap traffic", th, 32, c_ap, 32);
            expand_label(master, "s ap traffic", th, 32, s_ap, 32);
            /* client Finished over the transcript through the server Finished */
            uint8_t fin[36];
            fin[0] = 20; fin[1] = 0; fin[2] = 0; fin[3] = 32;
            expand_label(c->c_hs, "finished", NULL, 0, fk, 32);
            hmac_sha256(fk, 32, th, 32, fin + 4);
            uint8_t out[1024];
            size_t n = seal_record(&c->wk, 22, fin, 36, out);
            rkey_set(&c->wk, c_ap, 1);
            n += seal_record(&c->wk, 23, (const uint8_t *)g_request, g_request_len, out + n);
            if (write_all(c->fd, out, n) < 0) return -1;
            rkey_set(&c->rk, s_ap, 0);
            c->state = ST_APP;
        } else if (c->state == ST_HS) {
            SHA256_Update(&c->transcript, m, ml); /* EncryptedExtensions, Certificate, CertificateVerify */
        } else if (m[0] == 4 && g_counting) {
            g_tickets++; /* ST_APP: NewSessionTicket — counted, never used */
        }
        off += ml;
    }
    memmove(c->hs, c->hs + off, c->hslen - off);
    c->hslen -= off;
    return 0;
}

static int hs_append(conn *c, const uint8_t *b, size_t n) {
    if (c->hslen + n > HSBUF) return -1;
    memcpy(c->hs + c->hslen, b, n);
    c->hslen += n;
    return 0;
}

/* Returns 1 when the exchange is over (ok or not decided by *ok), 0 to go on, -1 on error. */
static int raw_records(conn *c) {
    size_t off = 0;
    while (c->inlen - off >= 5) {
        uint8_t *h = c->in + off;
        size_t rl = (size_t)(h[3] << 8 | h[4]);
        if (c->inlen - off < 5 + rl) break;
        uint8_t *body = h + 5;
        off += 5 + rl;
        if (h[0] == 20) continue;              /* middlebox-compat ChangeCipherSpec */
        if (h[0] == 21) return -1;             /* plaintext alert */
        if (c->state == ST_SH) {
            if (h[0] != 22 || hs_append(c, body, rl) < 0 || raw_handshake_messages(c) < 0) return -1;
            continue;
        }
        if (h[0] != 23) return -1;
        size_t pl;
        int type = open_record(&c->rk, h, body, rl, &pl);
        if (type < 0) return -1;
        if (type == 22) {
            if (hs_append(c, body, pl) < 0 || raw_handshake_messages(c) < 0) return -1;
        } else if (type == 23 && c->state == ST_APP) {
            if (!c->seen_app) {
                c->seen_app = 1;
                c->got_200 = pl >= 12 && memcmp(body, "HTTP/1.1 200", 12) == 0;
                if (!c->got_200 && g_verbose) fprintf(stderr, "hsbench: response: %.*s\n", (int)(pl > 60 ? 60 : pl), body);
            }
        } else if (type == 21) {               /* alert: close_notify ends the exchange */
            c->inlen = 0;
            return (pl == 2 && body[1] == 0 && c->got_200) ? 1 : -1;
        } else {
            return -1;
        }
    }
    memmove(c->in, c->in + off, c->inlen - off);
    c->inlen -= off;
    return 0;
}

/* The non-blocking connect finished: 1 when it succeeded (the socket now waits for reads), 0 when it is
   still pending or failed (then the connection is finished). */
static int connected(conn *c, uint32_t ev) {
    if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return 0;
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) { conn_finish(c, 0); return 0; }
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(g_ep, EPOLL_CTL_MOD, c->fd, &e);
    return 1;
}

static void raw_event(conn *c, uint32_t ev) {
    if (c->state == ST_CONNECT) {
        if (!connected(c, ev)) return;
        uint64_t r[4] = {(uint64_t)(uintptr_t)c, (uint64_t)g_done, (uint64_t)(c->started * 1e9), 0x5eed};
        memcpy(g_hello + g_hello_random_off, r, 32); /* unique enough: the server never sees a replay */
        SHA256_Init(&c->transcript);
        SHA256_Update(&c->transcript, g_hello + 5, g_hello_len - 5);
        if (write_all(c->fd, g_hello, g_hello_len) < 0) { conn_finish(c, 0); return; }
        c->state = ST_SH;
        return;
    }
    for (;;) {
        if (c->inlen == INBUF) { conn_finish(c, 0); return; }
        ssize_t n = read(c->fd, c->in + c->inlen, INBUF - c->inlen);
        if (n < 0) {
            if (errno == EAGAIN) return;
            conn_finish(c, 0);
            return;
        }
        if (n == 0) { conn_finish(c, c->state == ST_APP && c->got_200); return; }
        c->inlen += (size_t)n;
        int r = raw_records(c);
        if (r != 0) { conn_finish(c, r > 0); return; }
    }
}

/* ---- libssl client */

static void ssl_event(conn *c, uint32_t ev) {
    if (c->state == ST_CONNECT) {
        if (!connected(c, ev)) return;
        c->ssl = SSL_new(g_sslctx);
        SSL_set_fd(c->ssl, c->fd);
        SSL_set_tlsext_host_name(c->ssl, g_sni);
        SSL_set_connect_state(c->ssl);
        c->state = ST_SSL;
    }
    for (;;) {
        if (!c->request_sent) {
            int r = SSL_write(c->ssl, g_request, (int)g_request_len); /* drives the handshake */
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
                conn_finish(c, 0);
                return;
            }
            c->request_sent = 1;
        }
        char buf[4096];
        int r = SSL_read(c->ssl, buf, sizeof buf);
        if (r > 0) {
            for (int i = 0; i < r && c->resp_seen < 12; i++) c->resp_head[c->resp_seen++] = buf[i];
            continue;
        }
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
        int ok = (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL) && c->resp_seen >= 12 &&
                 memcmp(c->resp_head, "HTTP/1.1 200", 12) == 0;
        ERR_clear_error();
        conn_finish(c, ok);
        return;
    }
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
    int nconn = 32, opt;
    double seconds = 10;
    while ((opt = getopt(argc, argv, "m:c:d:n:p:v")) != -1) {
        switch (opt) {
        case 'm': g_raw = strcmp(optarg, "openssl") != 0; break;
        case 'c': nconn = atoi(optarg); break;
        case 'd': seconds = atof(optarg); break;
        case 'n': g_sni = optarg; break;
        case 'p': g_path = optarg; break;
        case 'v': g_verbose = 1; break;
        default: goto usage;
        }
    }
    if (argc - optind != 2 || nconn < 1 || seconds <= 0) {
    usage:
        fprintf(stderr, "usage: hsbench [-m raw|openssl] [-c connections] [-d seconds] [-n sni] [-p path] [-v] host port\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    memset(&g_addr, 0, sizeof g_addr);
    g_addr.sin_family = AF_INET;
    g_addr.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
    if (inet_pton(AF_INET, argv[optind], &g_addr.sin_addr) != 1) die("host must be an IPv4 address");
    g_request_len = (size_t)snprintf(g_request, sizeof g_request,
                                     "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", g_path, g_sni);

    if (g_raw) {
        if (!(g_gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL))) die("AES-128-GCM");
        EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
        if (!kctx || EVP_PKEY_keygen_init(kctx) <= 0 || EVP_PKEY_keygen(kctx, &g_x25519) <= 0) die("x25519 keygen");
        EVP_PKEY_CTX_free(kctx);
        size_t pl = 32;
        if (!EVP_PKEY_get_raw_public_key(g_x25519, g_x25519_pub, &pl)) die("x25519 pub");
        SHA256((const uint8_t *)"", 0, g_empty_hash);
        uint8_t zero[32] = {0}, early[32];
        hmac_sha256(zero, 32, zero, 32, early);
        expand_label(early, "derived", g_empty_hash, 32, g_derived_early, 32);
        build_client_hello();
    } else {
        g_sslctx = SSL_CTX_new(TLS_client_method());
        if (!g_sslctx) die("SSL_CTX_new");
        SSL_CTX_set_min_proto_version(g_sslctx, TLS1_3_VERSION);
        SSL_CTX_set_max_proto_version(g_sslctx, TLS1_3_VERSION);
        SSL_CTX_set_ciphersuites(g_sslctx, "TLS_AES_128_GCM_SHA256");
        SSL_CTX_set1_groups_list(g_sslctx, "X25519");
        SSL_CTX_set_verify(g_sslctx, SSL_VERIFY_NONE, NULL);
        SSL_CTX_set_options(g_sslctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_session_cache_mode(g_sslctx, SSL_SESS_CACHE_OFF);
    }

    g_ep = epoll_create1(EPOLL_CLOEXEC);
    conn *conns = calloc((size_t)nconn, sizeof *conns);
    if (!conns) die("calloc");
    double t0 = now(), deadline = t0 + seconds;
    for (int i = 0; i < nconn; i++) { conns[i].fd = -1; conn_start(&conns[i]); }
    struct epoll_event evs[256];
    for (;;) {
        double t = now();
        if (t >= deadline) break;
        int n = epoll_wait(g_ep, evs, 256, 100);
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (g_raw) raw_event(c, evs[i].events); else ssl_event(c, evs[i].events);
        }
        for (int i = 0; i < nconn; i++) { /* a stuck connection (10 s) is an error */
            if (t - conns[i].started > 10) conn_finish(&conns[i], 0);
        }
    }
    double elapsed = now() - t0;
    g_counting = 0;
    for (int i = 0; i < nconn; i++) {
        if (conns[i].ssl) SSL_free(conns[i].ssl);
        if (conns[i].fd >= 0) close(conns[i].fd);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("handshakes=%ld seconds=%.3f rate=%.1f errors=%ld client_cpu_s=%.2f tickets_per_handshake=%.2f\n",
           g_done, elapsed, g_done / elapsed, g_errors, cpu, g_done ? (double)g_tickets / g_done : 0.0);
    return 0;
}
