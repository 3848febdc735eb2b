// hiredis' event hooks on a libuv poll handle. hiredis 0.14's adapters/libuv.h returns early when libuv
// reports a socket error (status < 0, e.g. a refused connect or a reset): libuv has already stopped the
// handle, so hiredis never looks at the socket again and the connection hangs with its commands pending.
// Here an error is passed on as the events hiredis was waiting for; its read or connect check then meets
// the error and ends the context through the usual callbacks.
#include "CEdgeShims.h"
#include <stdlib.h>

typedef struct {
  redisAsyncContext *context;  // NULL once hiredis has let go of the context
  uv_poll_t poll;
  int wanted;  // UV_READABLE | UV_WRITABLE, as hiredis asked
} edge_redis_watch;

static void edge_redis_ready(uv_poll_t *poll, int status, int events) {
  edge_redis_watch *watch = poll->data;
  int ready = status < 0 ? watch->wanted : events;
  if (watch->context != NULL && (ready & UV_READABLE)) redisAsyncHandleRead(watch->context);
  if (watch->context != NULL && (ready & UV_WRITABLE)) redisAsyncHandleWrite(watch->context);
}

static void edge_redis_rearm(edge_redis_watch *watch) {
  if (watch->wanted != 0) {
    uv_poll_start(&watch->poll, watch->wanted, edge_redis_ready);
  } else {
    uv_poll_stop(&watch->poll);
  }
}

static void edge_redis_add_read(void *data) {
  edge_redis_watch *watch = data;
  watch->wanted |= UV_READABLE;
  edge_redis_rearm(watch);
}

static void edge_redis_del_read(void *data) {
  edge_redis_watch *watch = data;
  watch->wanted &= ~UV_READABLE;
  edge_redis_rearm(watch);
}

static void edge_redis_add_write(void *data) {
  edge_redis_watch *watch = data;
  watch->wanted |= UV_WRITABLE;
  edge_redis_rearm(watch);
}

static void edge_redis_del_write(void *data) {
  edge_redis_watch *watch = data;
  watch->wanted &= ~UV_WRITABLE;
  edge_redis_rearm(watch);
}

static void edge_redis_closed(uv_handle_t *handle) { free(handle->data); }

static void edge_redis_cleanup(void *data) {
  edge_redis_watch *watch = data;
  watch->context = NULL;
  uv_close((uv_handle_t *)&watch->poll, edge_redis_closed);
}

int edge_redis_attach_uv(redisAsyncContext *ac, uv_loop_t *loop) {
  if (ac->ev.data != NULL) return REDIS_ERR;
  edge_redis_watch *watch = calloc(1, sizeof *watch);
  if (watch == NULL) return REDIS_ERR;
  if (uv_poll_init(loop, &watch->poll, ac->c.fd) != 0) {
    free(watch);
    return REDIS_ERR;
  }
  watch->poll.data = watch;
  watch->context = ac;
  ac->ev.data = watch;
  ac->ev.addRead = edge_redis_add_read;
  ac->ev.delRead = edge_redis_del_read;
  ac->ev.addWrite = edge_redis_add_write;
  ac->ev.delWrite = edge_redis_del_write;
  ac->ev.cleanup = edge_redis_cleanup;
  return REDIS_OK;
}
