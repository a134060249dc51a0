/*
 * Directory watch: one inotify instance per watched directory, read on the
 * event loop through a uv_poll handle. It replaces Node's fs.watch for the
 * backoff file's directory (src/control/dir-watch.ts): the first fs.watch of a
 * process loads Node's watcher modules, about 1 ms on the way to `running`
 * (docs/resources.md), and then emits one JavaScript event per inotify event,
 * eight or so for each of boxinit's own status writes. Here one read of the
 * instance is one call into JavaScript with the names it carried.
 *
 * The events asked for are the ones libuv asks for, so what wakes the watch
 * is what woke fs.watch. A name is the entry's; an event about the directory
 * itself (deleted, moved, its watch removed, its attributes) or a queue
 * overflow comes as null: the watch may be dead, or events were lost, and the
 * caller looks again.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "boxinit.h"

#define WATCH_EVENTS (IN_ATTRIB | IN_CREATE | IN_MODIFY | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR)
/* Events that say something about the directory, not an entry of it. */
#define SELF_EVENTS (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_Q_OVERFLOW | IN_UNMOUNT)
#define READ_BYTES 4096

struct dir_watch {
  uv_poll_t poll;
  int fd;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  struct dir_watch *next;
};

/* The open watches, so that closeDirWatch(fd) finds its own and nothing else. */
static struct dir_watch *watches;

static void call_back(struct dir_watch *watch, napi_value argv[2]) {
  napi_env env = watch->env;
  napi_value callback, receiver, ignored;
  napi_get_reference_value(env, watch->callback, &callback);
  napi_get_global(env, &receiver);
  if (napi_make_callback(env, watch->context, receiver, callback, 2, argv, &ignored) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
}

/* Everything queued, as names (null for the directory itself), in one call. */
static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  struct dir_watch *watch = handle->data;
  napi_env env = watch->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value argv[2], names;
  napi_create_array(env, &names);
  uint32_t count = 0;
  int error = status < 0 ? -status : 0;
  char buffer[READ_BYTES] __attribute__((aligned(__alignof__(struct inotify_event))));
  while (error == 0) {
    ssize_t got = read(watch->fd, buffer, sizeof buffer);
    if (got == -1 && errno == EINTR) continue;
    if (got == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (got <= 0) {
      error = got == 0 ? EIO : errno;
      break;
    }
    for (char *at = buffer; at < buffer + got;) {
      const struct inotify_event *event = (const struct inotify_event *)at;
      napi_value name;
      if ((event->mask & SELF_EVENTS) || event->len == 0) napi_get_null(env, &name);
      else napi_create_string_utf8(env, event->name, NAPI_AUTO_LENGTH, &name);
      napi_set_element(env, names, count++, name);
      at += sizeof *event + event->len;
    }
  }
  argv[0] = names;
  argv[1] = make_int(env, -error);
  if (count > 0 || error != 0) call_back(watch, argv);
  napi_close_handle_scope(env, scope);
}

static void on_closed(uv_handle_t *handle) {
  struct dir_watch *watch = handle->data;
  close(watch->fd);
  free(watch);
}

/*
 * watchDir(path, callback): the inotify fd of a new watch on directory path,
 * or -errno (ENOENT, ENOTDIR, ENOSPC: no watches left, EMFILE: no instances
 * left). callback(names, -errno) runs on the event loop after each batch of
 * events; -errno is 0, or the read error that ended the watch. The watch does
 * not keep the event loop alive.
 */
static napi_value watch_dir(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  char *path = string_from_js(env, argv[0]);
  if (!path) return NULL;
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    free(path);
    return make_int(env, -EINVAL);
  }
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd == -1) {
    free(path);
    return make_int(env, -errno);
  }
  int added = inotify_add_watch(fd, path, WATCH_EVENTS);
  int add_errno = errno;
  free(path);
  if (added == -1) {
    close(fd);
    return make_int(env, -add_errno);
  }
  struct dir_watch *watch = calloc(1, sizeof *watch);
  if (!watch) {
    close(fd);
    return make_int(env, -ENOMEM);
  }
  watch->fd = fd;
  watch->env = env;
  watch->poll.data = watch;
  napi_value name;
  napi_create_string_utf8(env, "boxinit:dir-watch", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, argv[1], 1, &watch->callback) != napi_ok) {
    close(fd);
    free(watch);
    return make_int(env, -EINVAL);
  }
  if (napi_async_init(env, NULL, name, &watch->context) != napi_ok) {
    napi_delete_reference(env, watch->callback);
    close(fd);
    free(watch);
    return make_int(env, -EINVAL);
  }
  int rc = uv_poll_init(loop, &watch->poll, fd);
  int is_handle = rc == 0;
  if (rc == 0) rc = uv_poll_start(&watch->poll, UV_READABLE, on_readable);
  if (rc != 0) {
    napi_delete_reference(env, watch->callback);
    napi_async_destroy(env, watch->context);
    /* A handle libuv knows is freed (and its fd closed) once libuv lets go of it. */
    if (is_handle) {
      uv_close((uv_handle_t *)&watch->poll, on_closed);
    } else {
      close(fd);
      free(watch);
    }
    return make_int(env, rc);
  }
  uv_unref((uv_handle_t *)&watch->poll);
  watch->next = watches;
  watches = watch;
  return make_int(env, fd);
}

/* closeDirWatch(fd): ends the watch watchDir returned; -EBADF when fd is none of them. */
static napi_value close_dir_watch(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!arg_int(env, info, 0, &fd)) return NULL;
  for (struct dir_watch **link = &watches; *link; link = &(*link)->next) {
    struct dir_watch *watch = *link;
    if (watch->fd != fd) continue;
    *link = watch->next;
    uv_poll_stop(&watch->poll);
    napi_delete_reference(env, watch->callback);
    napi_async_destroy(env, watch->context);
    /* The fd is closed once libuv has let go of the handle. */
    uv_close((uv_handle_t *)&watch->poll, on_closed);
    return make_int(env, 0);
  }
  return make_int(env, -EBADF);
}

void register_dir_watch(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"watchDir", NULL, watch_dir, NULL, NULL, NULL, napi_default, NULL},
    {"closeDirWatch", NULL, close_dir_watch, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
