/*
 * boxinit.node: the few system calls an init needs that Node does not expose.
 * Every function returns a number: >= 0 on success, -errno on failure, so the
 * TypeScript wrapper (src/native/) owns all error wording.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static napi_value make_int(napi_env env, int64_t value) {
  napi_value result;
  napi_create_int64(env, value, &result);
  return result;
}

static int arg_int(napi_env env, napi_callback_info info, size_t index, int32_t *out) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc <= index) {
    napi_throw_type_error(env, NULL, "boxinit.node: missing integer argument");
    return 0;
  }
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
 * tcsetpgrp from a background process group raises SIGTTOU, which would stop
 * us (or, with a handler installed, restart the call forever): block it for
 * the duration of the call, as tini does.
 */
static int set_foreground(int fd, pid_t pgid) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTTOU);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  int rc = tcsetpgrp(fd, pgid);
  int saved = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc == -1 ? -saved : 0;
}

/* enterForeground(fd): own process group, and make it the terminal's foreground. */
static napi_value enter_foreground(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!arg_int(env, info, 0, &fd)) return NULL;
  if (setpgid(0, 0) == -1) return make_int(env, -errno);
  return make_int(env, set_foreground(fd, getpgrp()));
}

/* setForeground(fd, pgid): hand the terminal's foreground to pgid. */
static napi_value set_foreground_js(napi_env env, napi_callback_info info) {
  int32_t fd, pgid;
  if (!arg_int(env, info, 0, &fd) || !arg_int(env, info, 1, &pgid)) return NULL;
  return make_int(env, set_foreground(fd, pgid));
}

/* getpgrp(): our own process group, for handing the terminal back to it. */
static napi_value getpgrp_js(napi_env env, napi_callback_info info) {
  (void)info;
  return make_int(env, getpgrp());
}

/*
 * resetSignalsForExec(): default dispositions and an empty mask, so the program
 * the terminal helper becomes does not inherit Node's ignored SIGPIPE (execve
 * keeps ignored signals ignored) or libuv's handlers. Called just before execve.
 */
static napi_value reset_signals_for_exec(napi_env env, napi_callback_info info) {
  (void)info;
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &dfl, NULL); /* EINVAL for glibc-reserved signals is expected */
  }
  sigset_t none;
  sigemptyset(&none);
  if (pthread_sigmask(SIG_SETMASK, &none, NULL) != 0) return make_int(env, -EINVAL);
  return make_int(env, 0);
}

/*
 * unblockSignal(sig): unblock one signal in the calling (main) thread. The
 * executable runs with --disable-sigusr1, which makes Node block SIGUSR1 in
 * every thread so it can never open the inspector; once boxinit's own handler
 * is installed, the main thread unblocks it to receive and forward it.
 */
static napi_value unblock_signal(napi_env env, napi_callback_info info) {
  int32_t sig;
  if (!arg_int(env, info, 0, &sig)) return NULL;
  sigset_t set;
  sigemptyset(&set);
  if (sigaddset(&set, sig) == -1) return make_int(env, -errno);
  int rc = pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  return make_int(env, rc == 0 ? 0 : -rc);
}

/* isatty(fd): 1 when fd is a terminal, else 0. */
static napi_value isatty_js(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!arg_int(env, info, 0, &fd)) return NULL;
  return make_int(env, isatty(fd) ? 1 : 0);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"peekZombie", NULL, peek_zombie, NULL, NULL, NULL, napi_default, NULL},
    {"reap", NULL, reap, NULL, NULL, NULL, napi_default, NULL},
    {"setChildSubreaper", NULL, set_child_subreaper, NULL, NULL, NULL, napi_default, NULL},
    {"enterForeground", NULL, enter_foreground, NULL, NULL, NULL, napi_default, NULL},
    {"setForeground", NULL, set_foreground_js, NULL, NULL, NULL, napi_default, NULL},
    {"getpgrp", NULL, getpgrp_js, NULL, NULL, NULL, napi_default, NULL},
    {"unblockSignal", NULL, unblock_signal, NULL, NULL, NULL, napi_default, NULL},
    {"isatty", NULL, isatty_js, NULL, NULL, NULL, napi_default, NULL},
    {"resetSignalsForExec", NULL, reset_signals_for_exec, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
