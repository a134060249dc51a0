/*
 * boxinit.node: the few system calls an init needs that Node does not expose.
 * Every function returns a number (makePipe: a pair of them, statAt and
 * readDir: an array): >= 0 on success, -errno on failure, so the
 * TypeScript wrapper (src/native/) owns all error wording. Starting a
 * process is native/fork-exec.c's, the signal intake native/signal-intake.c's.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include "boxinit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/file.h>
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

napi_value make_int(napi_env env, int64_t value) {
  napi_value result;
  napi_create_int64(env, value, &result);
  return result;
}

int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "boxinit.node: missing argument");
    return 0;
  }
  return 1;
}

int arg_int(napi_env env, napi_callback_info info, size_t index, int32_t *out) {
  napi_value argv[4];
  if (!get_args(env, info, index + 1, argv)) return 0;
  if (napi_get_value_int32(env, argv[index], out) != napi_ok) {
    napi_throw_type_error(env, NULL, "boxinit.node: expected an integer argument");
    return 0;
  }
  return 1;
}

/*
 * peekZombie(): pid of a child that has exited but is not reaped yet, 0 when
 * children exist but none has exited, -ECHILD when there are no children.
 * WNOWAIT leaves the zombie in place: the caller decides whether it is ours to
 * reap or belongs to libuv (which reaps by pid and loses the exit event if
 * anyone else reaps first).
 */
static napi_value peek_zombie(napi_env env, napi_callback_info info) {
  (void)info;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1) return make_int(env, -errno);
  return make_int(env, si.si_pid);
}

/*
 * reap(pid): reap that one child. Returns the raw wait status encoded as
 * (status << 1) | 1 when reaped (so 0 can mean "not yet"), 0 when it has not
 * exited, -errno on failure.
 */
static napi_value reap(napi_env env, napi_callback_info info) {
  int32_t pid;
  if (!arg_int(env, info, 0, &pid)) return NULL;
  int status = 0;
  pid_t got;
  do {
    got = waitpid(pid, &status, WNOHANG);
  } while (got == -1 && errno == EINTR);
  if (got == -1) return make_int(env, -errno);
  if (got == 0) return make_int(env, 0);
  return make_int(env, ((int64_t)status << 1) | 1);
}

/* setChildSubreaper(): orphaned descendants re-parent to us (prctl(2)). */
static napi_value set_child_subreaper(napi_env env, napi_callback_info info) {
  (void)info;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1) return make_int(env, -errno);
  return make_int(env, 0);
}

/*
 * setForeground(fd, pgid): hand the terminal's foreground to pgid.
 * tcsetpgrp from a background process group raises SIGTTOU, which would stop
 * us: block it for the duration of the call, as tini does.
 */
static napi_value set_foreground(napi_env env, napi_callback_info info) {
  int32_t fd, pgid;
  if (!arg_int(env, info, 0, &fd) || !arg_int(env, info, 1, &pgid)) return NULL;
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTTOU);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  int rc = tcsetpgrp(fd, pgid);
  int saved = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return make_int(env, rc == -1 ? -saved : 0);
}

/* getpgrp(): our own process group, for handing the terminal back to it. */
static napi_value getpgrp_js(napi_env env, napi_callback_info info) {
  (void)info;
  return make_int(env, getpgrp());
}

/* isatty(fd): 1 when fd is a terminal, else 0. */
static napi_value isatty_js(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!arg_int(env, info, 0, &fd)) return NULL;
  return make_int(env, isatty(fd) ? 1 : 0);
}

/*
 * getForeground(fd): the terminal's foreground process group (tcgetpgrp), so
 * boxinit hands the terminal to its command only when it holds it itself, and
 * takes it back only from the command's group.
 */
static napi_value get_foreground(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!arg_int(env, info, 0, &fd)) return NULL;
  pid_t pgid = tcgetpgrp(fd);
  return make_int(env, pgid == -1 ? -errno : pgid);
}

/*
 * The name this executable was started by (AT_EXECFN), when it still names
 * the running file: exec'd by that name, the process keeps the comm (ps -o
 * comm, pgrep) it had. Else /proc/self/exe, which is always the running file.
 */
static const char *self_path(void) {
  const char *named = (const char *)getauxval(AT_EXECFN);
  struct stat by_name, running;
  if (named && stat(named, &by_name) == 0 && stat("/proc/self/exe", &running) == 0 &&
      by_name.st_dev == running.st_dev && by_name.st_ino == running.st_ino) return named;
  return "/proc/self/exe";
}

/*
 * execSelf(inheritBelow): execve(2) this executable again with the argv it was
 * started with (the bytes of /proc/self/cmdline) and the current environment:
 * boxinit starting afresh without the variables Node acted on before any of
 * its code ran (issue 13, bug 7). A raw execve runs none of Node's exit hooks
 * (no coverage file is written) and no event-loop turn happens first. Node
 * marked the inherited fds close-on-exec at start (uv_disable_stdio_inheritance):
 * fds 0..inheritBelow-1, all inherited, are made inheritable again; Node's own
 * (close-on-exec) close. Returns -errno, with the flags put back, when the exec
 * failed; does not return otherwise.
 */
static napi_value exec_self(napi_env env, napi_callback_info info) {
  int32_t inherit_below;
  if (!arg_int(env, info, 0, &inherit_below)) return NULL;
  if (inherit_below < 0) return make_int(env, -EINVAL);
  char *cmdline = NULL;
  char **argv = argv_from_cmdline(0, &cmdline);
  int *flags = calloc((size_t)inherit_below + 1, sizeof *flags);
  if (!argv || !flags) {
    int err = argv ? ENOMEM : ENOENT; /* no argv: /proc is not mounted */
    free(argv);
    free(cmdline);
    free(flags);
    return make_int(env, -err);
  }
  for (int fd = 0; fd < inherit_below; fd++) {
    flags[fd] = fcntl(fd, F_GETFD);
    if (flags[fd] > 0) fcntl(fd, F_SETFD, flags[fd] & ~FD_CLOEXEC);
  }
  execve(self_path(), argv, environ);
  int err = errno;
  for (int fd = 0; fd < inherit_below; fd++) {
    if (flags[fd] > 0) fcntl(fd, F_SETFD, flags[fd]);
  }
  free(argv);
  free(cmdline);
  free(flags);
  return make_int(env, -err);
}

/*
 * makePipe(): pipe2(O_CLOEXEC) for a service's output. Returns [readFd,
 * writeFd] (Node has no pipe()), or -errno.
 */
static napi_value make_pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) == -1) return make_int(env, -errno);
  napi_value array;
  napi_create_array_with_length(env, 2, &array);
  napi_set_element(env, array, 0, make_int(env, fds[0]));
  napi_set_element(env, array, 1, make_int(env, fds[1]));
  return array;
}

/*
 * setNonBlocking(fd): O_NONBLOCK on fd (0, or -errno). For the read end of a
 * warm-up check's pipe, which src/pid1/polled-pipe.ts reads without a stream.
 */
static napi_value set_non_blocking(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!arg_int(env, info, 0, &fd)) return NULL;
  int flags = fcntl(fd, F_GETFL);
  if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) return make_int(env, -errno);
  return make_int(env, 0);
}

/* A JS string as a malloc'd C string; NULL when it is not one (or out of memory). */
char *string_from_js(napi_env env, napi_value value) {
  size_t size = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &size) != napi_ok) return NULL;
  char *text = malloc(size + 1);
  if (text) napi_get_value_string_utf8(env, value, text, size + 1, &size);
  return text;
}

/*
 * setName(name): prctl(PR_SET_NAME), the name ps, top and `docker top` show
 * (Node names its main thread "MainThread"). Only the 15-byte comm changes:
 * argv stays as it was, which process.title would overwrite.
 */
static napi_value set_name(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  char name[16];
  size_t length = 0;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "boxinit.node: expected a string argument");
    return NULL;
  }
  return make_int(env, prctl(PR_SET_NAME, name, 0, 0, 0) == 0 ? 0 : -errno);
}

/*
 * tryLock(fd): flock(fd, LOCK_EX | LOCK_NB). 1 when taken, 0 when another
 * open file holds it, -errno otherwise. flock, not a pid in a file, is what
 * tells a live holder from a dead one: the kernel drops the lock with the last
 * descriptor, and it works across containers that share a bind mount, where
 * every holder may be "pid 1" in its own namespace.
 */
static napi_value try_lock(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!arg_int(env, info, 0, &fd)) return NULL;
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) return make_int(env, 1);
  return make_int(env, errno == EWOULDBLOCK ? 0 : -errno);
}

/*
 * The *at calls (openAt, mkdirAt, renameAt, linkAt, unlinkAt, statAt,
 * readDir): names resolved relative to a directory descriptor, which Node's
 * path-only fs cannot do. The state directory is writable by a host user; a
 * root boxinit that opened logs/ once with O_DIRECTORY|O_NOFOLLOW keeps
 * working in that directory even when the name "logs" is swapped for a
 * symlink meanwhile (a check-then-use race by path).
 */

/* A JS string argument as a malloc'd C string (NULL and a thrown TypeError when it is not one). */
static char *arg_string(napi_env env, napi_value value) {
  char *text = string_from_js(env, value);
  if (!text) napi_throw_type_error(env, NULL, "boxinit.node: expected a string argument");
  return text;
}

static int int_of(napi_env env, napi_value value, int32_t *out) {
  if (napi_get_value_int32(env, value, out) == napi_ok) return 1;
  napi_throw_type_error(env, NULL, "boxinit.node: expected an integer argument");
  return 0;
}

/* openAt(dirFd, name, flags, mode): openat(2), O_CLOEXEC always added. Returns the fd. */
static napi_value open_at(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t dir_fd, flags, mode;
  if (!get_args(env, info, 4, argv) || !int_of(env, argv[0], &dir_fd) || !int_of(env, argv[2], &flags) || !int_of(env, argv[3], &mode)) return NULL;
  char *name = arg_string(env, argv[1]);
  if (!name) return NULL;
  int fd;
  do {
    fd = openat(dir_fd, name, flags | O_CLOEXEC, (mode_t)mode);
  } while (fd == -1 && errno == EINTR);
  int saved = errno;
  free(name);
  return make_int(env, fd == -1 ? -saved : fd);
}

/* mkdirAt(dirFd, name, mode): mkdirat(2); the mode is still filtered by the umask. */
static napi_value mkdir_at(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t dir_fd, mode;
  if (!get_args(env, info, 3, argv) || !int_of(env, argv[0], &dir_fd) || !int_of(env, argv[2], &mode)) return NULL;
  char *name = arg_string(env, argv[1]);
  if (!name) return NULL;
  int rc = mkdirat(dir_fd, name, (mode_t)mode);
  int saved = errno;
  free(name);
  return make_int(env, rc == -1 ? -saved : 0);
}

/* renameAt(fromDirFd, from, toDirFd, to) / linkAt(...): two names, each relative to its own descriptor. */
static napi_value two_names(napi_env env, napi_callback_info info, int is_link) {
  napi_value argv[4];
  int32_t from_fd, to_fd;
  if (!get_args(env, info, 4, argv) || !int_of(env, argv[0], &from_fd) || !int_of(env, argv[2], &to_fd)) return NULL;
  char *from = arg_string(env, argv[1]);
  if (!from) return NULL;
  char *to = arg_string(env, argv[3]);
  if (!to) {
    free(from);
    return NULL;
  }
  /* linkat without AT_SYMLINK_FOLLOW links a symlink itself, never its target. */
  int rc = is_link ? linkat(from_fd, from, to_fd, to, 0) : renameat(from_fd, from, to_fd, to);
  int saved = errno;
  free(from);
  free(to);
  return make_int(env, rc == -1 ? -saved : 0);
}

static napi_value rename_at(napi_env env, napi_callback_info info) {
  return two_names(env, info, 0);
}

static napi_value link_at(napi_env env, napi_callback_info info) {
  return two_names(env, info, 1);
}

/* unlinkAt(dirFd, name, isDir): unlinkat(2), AT_REMOVEDIR when isDir is 1. Never follows a symlink. */
static napi_value unlink_at(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t dir_fd, is_dir;
  if (!get_args(env, info, 3, argv) || !int_of(env, argv[0], &dir_fd) || !int_of(env, argv[2], &is_dir)) return NULL;
  char *name = arg_string(env, argv[1]);
  if (!name) return NULL;
  int rc = unlinkat(dir_fd, name, is_dir ? AT_REMOVEDIR : 0);
  int saved = errno;
  free(name);
  return make_int(env, rc == -1 ? -saved : 0);
}

/*
 * statAt(dirFd, name): fstatat(2) with AT_SYMLINK_NOFOLLOW (a symlink is
 * described, not followed). Returns [st_mode, st_size, mtime in ms, st_nlink,
 * st_uid, st_ino], or -errno.
 */
static napi_value stat_at(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t dir_fd;
  if (!get_args(env, info, 2, argv) || !int_of(env, argv[0], &dir_fd)) return NULL;
  char *name = arg_string(env, argv[1]);
  if (!name) return NULL;
  struct stat st;
  int rc = fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW);
  int saved = errno;
  free(name);
  if (rc == -1) return make_int(env, -saved);
  double fields[6] = {
    (double)st.st_mode, (double)st.st_size,
    (double)st.st_mtim.tv_sec * 1000.0 + (double)st.st_mtim.tv_nsec / 1e6,
    (double)st.st_nlink, (double)st.st_uid, (double)st.st_ino,
  };
  napi_value array;
  napi_create_array_with_length(env, 6, &array);
  for (uint32_t i = 0; i < 6; i++) {
    napi_value number;
    napi_create_double(env, fields[i], &number);
    napi_set_element(env, array, i, number);
  }
  return array;
}

/* A name that survives the trip through a JS string unchanged: printable ASCII. */
static int is_plain_name(const char *name) {
  for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
    if (*c < 0x20 || *c >= 0x7f) return 0;
  }
  return 1;
}

/*
 * readDir(dirFd): the names in the directory (without . and ..), or -errno.
 * Reads through a duplicate, so dirFd stays open and usable. Only printable
 * ASCII names are listed: boxinit acts only on names it makes, and a name
 * whose bytes are not valid UTF-8 would come back as another name (U+FFFD),
 * which a later unlinkAt must never be handed.
 */
static napi_value read_dir(napi_env env, napi_callback_info info) {
  int32_t dir_fd;
  if (!arg_int(env, info, 0, &dir_fd)) return NULL;
  int copy = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (copy == -1) return make_int(env, -errno);
  DIR *dir = fdopendir(copy);
  if (!dir) {
    int saved = errno;
    close(copy);
    return make_int(env, -saved);
  }
  napi_value array;
  napi_create_array(env, &array);
  uint32_t count = 0;
  int64_t result = 0;
  for (;;) {
    errno = 0;
    struct dirent *entry = readdir(dir);
    if (!entry) {
      if (errno != 0) result = -errno;
      break;
    }
    const char *name = entry->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || !is_plain_name(name)) continue;
    napi_value text;
    napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &text);
    napi_set_element(env, array, count++, text);
  }
  closedir(dir);
  return result < 0 ? make_int(env, result) : array;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"peekZombie", NULL, peek_zombie, NULL, NULL, NULL, napi_default, NULL},
    {"reap", NULL, reap, NULL, NULL, NULL, napi_default, NULL},
    {"setChildSubreaper", NULL, set_child_subreaper, NULL, NULL, NULL, napi_default, NULL},
    {"setForeground", NULL, set_foreground, NULL, NULL, NULL, napi_default, NULL},
    {"getpgrp", NULL, getpgrp_js, NULL, NULL, NULL, napi_default, NULL},
    {"isatty", NULL, isatty_js, NULL, NULL, NULL, napi_default, NULL},
    {"getForeground", NULL, get_foreground, NULL, NULL, NULL, napi_default, NULL},
    {"makePipe", NULL, make_pipe, NULL, NULL, NULL, napi_default, NULL},
    {"setNonBlocking", NULL, set_non_blocking, NULL, NULL, NULL, napi_default, NULL},
    {"tryLock", NULL, try_lock, NULL, NULL, NULL, napi_default, NULL},
    {"setName", NULL, set_name, NULL, NULL, NULL, napi_default, NULL},
    {"openAt", NULL, open_at, NULL, NULL, NULL, napi_default, NULL},
    {"mkdirAt", NULL, mkdir_at, NULL, NULL, NULL, napi_default, NULL},
    {"renameAt", NULL, rename_at, NULL, NULL, NULL, napi_default, NULL},
    {"linkAt", NULL, link_at, NULL, NULL, NULL, napi_default, NULL},
    {"unlinkAt", NULL, unlink_at, NULL, NULL, NULL, napi_default, NULL},
    {"statAt", NULL, stat_at, NULL, NULL, NULL, napi_default, NULL},
    {"readDir", NULL, read_dir, NULL, NULL, NULL, napi_default, NULL},
    {"execSelf", NULL, exec_self, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  register_signal_intake(env, exports);
  register_fork_exec(env, exports);
  register_relay(env, exports);
  register_dir_watch(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
