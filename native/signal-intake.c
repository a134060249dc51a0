/*
 * Signal intake: one SA_SIGINFO handler for every catchable signal 1..31 but
 * SIGCHLD (the reaper's, through Node), installed at boxinit's first line.
 *
 * Why in C and not process.on():
 * - siginfo tells a signal *sent* by another process (si_code <= 0: kill,
 *   sigqueue, tgkill) from one the kernel raises for boxinit itself (a real
 *   SIGSEGV, SIGPIPE from its own write, SIGTTOU from its own terminal
 *   write). Sent ones are messages for the command, whatever their name; real
 *   faults still crash boxinit through the handler that was there before.
 * - From the first line on, no signal can kill boxinit or be lost: until the
 *   run says where to forward, the handler only counts.
 * - Forwarding happens in the handler itself (kill(2) is async-signal-safe)
 *   when the run has set a target: no event-loop turn between a SIGTERM to PID
 *   1 and the command's handler. JavaScript hears of it afterwards, to log and
 *   to start the orderly stop.
 *
 * The handler touches only lock-free counters and calls only async-signal-safe
 * functions (kill, tcgetpgrp, tcsetpgrp, getpgrp, sigaction, raise; sched_yield,
 * a bare system call) and
 * uv_async_send, which libuv documents as async-signal-safe.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boxinit.h"

#define LAST_STANDARD_SIGNAL 31

/* What happened to one signal number since JavaScript last looked. */
struct intake_counts {
  unsigned received;  /* taken by the handler and meant for the command (or the stop) */
  unsigned forwarded; /* of those, sent on by the handler itself */
  int sender;         /* si_pid of the latest (0: from outside the PID namespace, or the kernel) */
  int code;           /* si_code of the latest */
  int result;         /* errno of the latest forward (0: delivered) */
};

static struct intake_counts counts[LAST_STANDARD_SIGNAL + 1];
static struct sigaction before[LAST_STANDARD_SIGNAL + 1];
static pid_t self_pid;
static int is_taken_over;

/* Where the handler forwards: a process group (0: nowhere, JavaScript decides). */
static volatile int forward_pgid;
/* Per signal: what to send (0: drop; -1: do not forward here, JavaScript decides). */
static volatile int forward_as[LAST_STANDARD_SIGNAL + 1];
/* The terminal the command's group owns (-1: none): SIGCONT gives it back first. */
static volatile int forward_terminal_fd = -1;

static uv_async_t wake;
static volatile int is_listening;
static napi_env listen_env;
static napi_ref listener;
static napi_async_context listen_context;

static int is_fault(int sig) {
  return sig == SIGILL || sig == SIGTRAP || sig == SIGABRT || sig == SIGBUS || sig == SIGFPE || sig == SIGSEGV || sig == SIGSYS;
}

/* Sent by another process: kill/sigqueue/tgkill (si_code <= 0), not by boxinit itself. */
static int is_sent_by_another(const siginfo_t *info) {
  return info->si_code <= 0 && info->si_pid != self_pid;
}

/*
 * A signal the kernel raises because of something boxinit itself did, which
 * is harmless when nothing happens: SIGPIPE/SIGXFSZ from its own write (the
 * write then fails with EPIPE/EFBIG, as when they are ignored), SIGTTIN/SIGTTOU
 * for its own terminal I/O from the background (the main thread keeps them
 * blocked, so the kernel lets that I/O through; this catches the rest),
 * SIGXCPU for its own CPU limit.
 */
static int is_own_harmless(int sig, const siginfo_t *info) {
  switch (sig) {
    case SIGPIPE:
    case SIGXFSZ:
      return !is_sent_by_another(info);
    case SIGTTIN:
    case SIGTTOU:
    case SIGXCPU:
      return info->si_code > 0 || info->si_pid == self_pid;
    default:
      return 0;
  }
}

/* A real fault of boxinit's own: hand it to whoever handled it before (Node's
 * WebAssembly trap handler for SIGSEGV), else let the default action happen. */
static void pass_on_fault(int sig, siginfo_t *info, void *context) {
  const struct sigaction *previous = &before[sig];
  if ((previous->sa_flags & SA_SIGINFO) && previous->sa_sigaction != NULL) {
    previous->sa_sigaction(sig, info, context);
    return;
  }
  if (previous->sa_handler == SIG_IGN) return;
  if (previous->sa_handler != SIG_DFL) {
    previous->sa_handler(sig);
    return;
  }
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, NULL);
  /* A synchronous fault happens again on return and kills; one boxinit sent
   * itself (abort()) is raised again, pending until this handler returns. */
  if (info->si_code <= 0) raise(sig);
}

static void on_signal(int sig, siginfo_t *info, void *context) {
  int saved_errno = errno;
  if (is_fault(sig) && !is_sent_by_another(info)) {
    pass_on_fault(sig, info, context);
    errno = saved_errno;
    return;
  }
  if (is_own_harmless(sig, info)) {
    errno = saved_errno;
    return;
  }
  struct intake_counts *count = &counts[sig];
  int pgid = forward_pgid;
  int as = forward_as[sig];
  if (pgid > 0 && as >= 0) {
    int result = 0;
    if (sig == SIGCONT) {
      /* `fg` after Ctrl-Z: the shell gave boxinit's group the terminal and
       * continued it; the command must be foreground again before it runs. */
      int fd = forward_terminal_fd;
      if (fd >= 0 && tcgetpgrp(fd) == getpgrp()) tcsetpgrp(fd, pgid);
    }
    if (as > 0 && kill(-pgid, as) == -1) result = errno;
    /* Let whom we just woke run first: the JavaScript that follows (the log
     * line, the stop) would otherwise keep the command waiting for this CPU
     * (measured: ~1.3 ms in 40% of SIGTERMs on 2 cores, bench scenario 11). */
    if (result == 0 && as > 0) sched_yield();
    __atomic_store_n(&count->result, result, __ATOMIC_RELAXED);
    __atomic_fetch_add(&count->forwarded, 1, __ATOMIC_RELAXED);
  }
  __atomic_store_n(&count->sender, (int)info->si_pid, __ATOMIC_RELAXED);
  __atomic_store_n(&count->code, info->si_code, __ATOMIC_RELAXED);
  __atomic_fetch_add(&count->received, 1, __ATOMIC_RELEASE);
  if (is_listening) uv_async_send(&wake);
  errno = saved_errno;
}

static int is_taken(int sig) {
  return sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD;
}

/*
 * takeSignals(): install the intake for every catchable signal (called again,
 * it puts the intake back where something replaced it). The
 * main thread keeps SIGTTIN/SIGTTOU blocked for good: the kernel counts a
 * blocked one as ignored, so boxinit's own terminal I/O from the background
 * goes through instead of raising them (with a handler that I/O would be
 * restarted forever under `stty tostop`); sent ones reach the handler on one
 * of Node's other threads. SIGUSR1 is unblocked: Node blocks it for its
 * inspector, which --disable-sigusr1 keeps closed.
 */
static napi_value take_signals(napi_env env, napi_callback_info info) {
  (void)info;
  struct sigaction intake;
  memset(&intake, 0, sizeof intake);
  intake.sa_sigaction = on_signal;
  intake.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigfillset(&intake.sa_mask);
  if (is_taken_over) {
    /* Again: a process.on('SIGx') in boxinit (libuv's sigaction) replaced the
     * intake, or its removal set SIG_DFL. What was there first stays in before[]. */
    for (int sig = 1; sig <= LAST_STANDARD_SIGNAL; sig++) {
      if (is_taken(sig) && sigaction(sig, &intake, NULL) == -1) return make_int(env, -errno);
    }
    return make_int(env, 0);
  }
  self_pid = getpid();
  for (int sig = 0; sig <= LAST_STANDARD_SIGNAL; sig++) forward_as[sig] = -1;
  for (int sig = 1; sig <= LAST_STANDARD_SIGNAL; sig++) {
    if (!is_taken(sig)) continue;
    if (sigaction(sig, &intake, &before[sig]) == -1) return make_int(env, -errno);
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTTIN);
  sigaddset(&set, SIGTTOU);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  is_taken_over = 1;
  return make_int(env, 0);
}

/* Hand every signal counted since the last turn to JavaScript, lowest number first. */
static void deliver(uv_async_t *handle) {
  (void)handle;
  napi_env env = listen_env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value callback, receiver;
  napi_get_reference_value(env, listener, &callback);
  napi_get_global(env, &receiver);
  for (int sig = 1; sig <= LAST_STANDARD_SIGNAL; sig++) {
    struct intake_counts *count = &counts[sig];
    unsigned received = __atomic_exchange_n(&count->received, 0, __ATOMIC_ACQUIRE);
    if (received == 0) continue;
    unsigned forwarded = __atomic_exchange_n(&count->forwarded, 0, __ATOMIC_RELAXED);
    napi_value argv[6] = {
      make_int(env, sig), make_int(env, received), make_int(env, forwarded),
      make_int(env, __atomic_load_n(&count->sender, __ATOMIC_RELAXED)),
      make_int(env, __atomic_load_n(&count->code, __ATOMIC_RELAXED)),
      make_int(env, -__atomic_load_n(&count->result, __ATOMIC_RELAXED)),
    };
    napi_value ignored;
    if (napi_make_callback(env, listen_context, receiver, callback, 6, argv, &ignored) == napi_pending_exception) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error);
    }
  }
  napi_close_handle_scope(env, scope);
}

/*
 * listenSignals(callback): from now on, callback(signal, received, forwarded,
 * sender, code, -errno) runs on the event loop for every signal the intake
 * took, counted signals that came before included. The wake-up handle does not
 * keep the loop alive, like Node's own signal handles.
 */
static napi_value listen_signals(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  if (is_listening) return make_int(env, -EBUSY);
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return make_int(env, -EINVAL);
  napi_value name;
  napi_create_string_utf8(env, "boxinit:signal", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, argv[0], 1, &listener) != napi_ok) return make_int(env, -EINVAL);
  if (napi_async_init(env, NULL, name, &listen_context) != napi_ok) return make_int(env, -EINVAL);
  int rc = uv_async_init(loop, &wake, deliver);
  if (rc != 0) return make_int(env, rc);
  uv_unref((uv_handle_t *)&wake);
  listen_env = env;
  __atomic_store_n(&is_listening, 1, __ATOMIC_RELEASE);
  uv_async_send(&wake);
  return make_int(env, 0);
}

/*
 * forwardSignals(pgid, sendAs[32], terminalFd): from now on the handler sends
 * signal N on to process group pgid as sendAs[N] (0: dropped; -1: not here,
 * JavaScript decides). pgid 0 stops all forwarding here. SIGCONT first gives
 * terminalFd's foreground back to pgid when boxinit's group holds it.
 */
static napi_value forward_signals(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  int32_t pgid, terminal_fd;
  if (napi_get_value_int32(env, argv[0], &pgid) != napi_ok || napi_get_value_int32(env, argv[2], &terminal_fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "boxinit.node: expected integers");
    return NULL;
  }
  if (pgid <= 0) {
    forward_pgid = 0;
    return make_int(env, 0);
  }
  int as[LAST_STANDARD_SIGNAL + 1];
  for (int sig = 0; sig <= LAST_STANDARD_SIGNAL; sig++) {
    napi_value element;
    int32_t value = -1;
    if (sig > 0 && napi_get_element(env, argv[1], (uint32_t)sig, &element) == napi_ok) {
      if (napi_get_value_int32(env, element, &value) != napi_ok) value = -1;
    }
    as[sig] = value >= -1 && value < NSIG ? value : -1;
  }
  /* The table first, the target last: a signal in between is forwarded by the old rules or not at all. */
  forward_pgid = 0;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  for (int sig = 0; sig <= LAST_STANDARD_SIGNAL; sig++) forward_as[sig] = as[sig];
  forward_terminal_fd = terminal_fd;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  forward_pgid = pgid;
  return make_int(env, 0);
}

/*
 * stoppedBy(pid): the signal that stopped child pid since the last call (its
 * stop report is consumed), 0 when it has not stopped, -errno on failure.
 */
static napi_value stopped_by(napi_env env, napi_callback_info info) {
  int32_t pid;
  if (!arg_int(env, info, 0, &pid)) return NULL;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (waitid(P_PID, (id_t)pid, &si, WSTOPPED | WNOHANG) == -1) return make_int(env, -errno);
  return make_int(env, si.si_pid == pid && si.si_code == CLD_STOPPED ? si.si_status : 0);
}

/*
 * setParentDeathSignal(signal, parentAtStart): the kernel sends signal to
 * boxinit when its parent dies (prctl PR_SET_PDEATHSIG). A parent that died
 * before the prctl (getppid() is no longer parentAtStart) never sends it: the
 * intake takes it now, as if the kernel had. Returns 1 then, else 0.
 */
static napi_value set_parent_death_signal(napi_env env, napi_callback_info info) {
  int32_t sig, parent_at_start;
  if (!arg_int(env, info, 0, &sig) || !arg_int(env, info, 1, &parent_at_start)) return NULL;
  if (sig < 1 || sig > LAST_STANDARD_SIGNAL) return make_int(env, -EINVAL);
  if (prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) == -1) return make_int(env, -errno);
  if (getppid() == parent_at_start) return make_int(env, 0);
  siginfo_t as_if_sent;
  memset(&as_if_sent, 0, sizeof as_if_sent);
  as_if_sent.si_signo = sig;
  as_if_sent.si_code = SI_USER;
  as_if_sent.si_pid = 0;
  if (is_taken_over && is_taken(sig)) on_signal(sig, &as_if_sent, NULL);
  else raise(sig);
  return make_int(env, 1);
}

void register_signal_intake(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"takeSignals", NULL, take_signals, NULL, NULL, NULL, napi_default, NULL},
    {"listenSignals", NULL, listen_signals, NULL, NULL, NULL, napi_default, NULL},
    {"forwardSignals", NULL, forward_signals, NULL, NULL, NULL, napi_default, NULL},
    {"stoppedBy", NULL, stopped_by, NULL, NULL, NULL, napi_default, NULL},
    {"setParentDeathSignal", NULL, set_parent_death_signal, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
