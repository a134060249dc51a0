/*
 * fork_exec: the one way boxinit starts a process (the main command, a
 * service, its stop command, a warm-up check, a script, a job, a hook).
 * forkExec(spec) is its only JavaScript entry; src/pid1/spawn.ts its only
 * caller. pipe -> block every signal -> clone -> (child: set up, exec) ->
 * restore the mask -> read the child's report: the pid, or -(stage * 1000 +
 * errno) when the child failed before running the command, or -errno when
 * boxinit's own side did (pipe, clone, memory). The child is then the
 * reaper's, not libuv's, so its raw wait status (real-time signals included)
 * is seen.
 *
 * The child is made as posix_spawn(3) makes it: clone(CLONE_VM | CLONE_VFORK)
 * on a stack of its own, sharing boxinit's memory until its exec, with
 * boxinit's thread paused meanwhile. fork(2) copied the page tables of a
 * 50-150 MB Node process and left every page copy-on-write: 2.3 ms per start
 * at 46 MB of RSS, 16 ms at 150 MB, plus a page fault for each page boxinit
 * wrote afterwards (bench scenarios 1 and 7). Sharing the memory binds the
 * child: it calls no function that takes a lock or changes memory boxinit
 * uses (no malloc, no stdio), every signal stays blocked until its own
 * handlers are reset, and credentials change by raw system calls: glibc's
 * setuid() would try to pass the change on to boxinit's threads, whose list
 * it shares.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include "boxinit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Where a child failed before running its command (src/native/addon.ts names them). */
enum spawn_stage { STAGE_EXEC = 0, STAGE_CWD = 1, STAGE_CREDENTIALS = 2, STAGE_STDIO = 3 };

/* Everything the child does between fork and exec, decided before the fork. */
struct spawn_spec {
  const char *file;          /* what execve runs */
  char **argv;
  char **shell_argv;         /* "/bin/sh" file argv[1..]: a text file without #! */
  char **envp;
  bool new_session;          /* true: setsid (no controlling terminal); false: a process group of its own */
  int foreground_fd;         /* >= 0: the terminal whose foreground the new group takes */
  int keep_fds;              /* fds 3..3+keep_fds-1 inherited (--preserve-fds) */
  bool stdin_null;           /* stdin from /dev/null; else inherited */
  int out_fd, err_fd;        /* -1: inherit boxinit's */
  const char *cwd;           /* NULL: keep boxinit's */
  int uid, gid;              /* -1: keep boxinit's */
  const gid_t *groups;
  size_t group_count;
  int death_signal;          /* > 0: prctl(PR_SET_PDEATHSIG) */
  pid_t parent;              /* boxinit's pid, for the parent-death check */
};

/* setChildDeathSignal(): the signal every later child gets when boxinit dies (0: none). */
static int child_death_signal = 0;

/*
 * The command's argv as the bytes boxinit was given: the last `count` entries
 * of /proc/self/cmdline (0: all of them). JS strings are UTF-8, so a Latin-1
 * file name would arrive mangled; tini passes bytes through and so must we.
 * NULL when /proc is not there (the caller then uses the JS strings).
 */
char **argv_from_cmdline(uint32_t count, char **buffer_out) {
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t size = 0, capacity = 4096;
  char *buffer = malloc(capacity);
  for (;;) {
    if (!buffer) break;
    if (size == capacity) {
      char *bigger = realloc(buffer, capacity *= 2);
      if (!bigger) { free(buffer); buffer = NULL; break; }
      buffer = bigger;
    }
    ssize_t got = read(fd, buffer + size, capacity - size);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    size += (size_t)got;
  }
  close(fd);
  if (!buffer) return NULL;
  if (size == 0 || buffer[size - 1] != '\0') { /* never read past the end below */
    free(buffer);
    return NULL;
  }
  size_t entries = 0;
  for (size_t i = 0; i < size; i++) entries += buffer[i] == '\0';
  if (count == 0) count = (uint32_t)entries;
  char **argv = entries >= count ? calloc(count + 1, sizeof *argv) : NULL;
  if (!argv) { free(buffer); return NULL; }
  /* Walk to the first of the last `count` entries. */
  size_t skip = entries - count, offset = 0;
  for (size_t seen = 0; seen < skip; offset++) seen += buffer[offset] == '\0';
  for (uint32_t i = 0; i < count; i++) {
    argv[i] = buffer + offset;
    offset += strlen(argv[i]) + 1;
  }
  *buffer_out = buffer;
  return argv;
}

/* A JS array of strings as a NULL-terminated vector of malloc'd strings. */
static char **argv_from_js(napi_env env, napi_value array, uint32_t length) {
  char **vector = calloc(length + 1, sizeof *vector);
  if (!vector) return NULL;
  for (uint32_t i = 0; i < length; i++) {
    napi_value item;
    char *text = NULL;
    if (napi_get_element(env, array, i, &item) == napi_ok) text = string_from_js(env, item);
    if (!text) {
      for (uint32_t j = 0; j < i; j++) free(vector[j]);
      free(vector);
      return NULL;
    }
    vector[i] = text;
  }
  return vector;
}

static void free_vector(char **vector) {
  if (!vector) return;
  for (char **item = vector; *item; item++) free(*item);
  free(vector);
}

/* bash's check_binary_file: an ELF header, or a NUL before the first newline. */
static int looks_binary(const char *file) {
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 1;
  unsigned char head[80];
  ssize_t got = read(fd, head, sizeof head);
  close(fd);
  if (got >= 4 && memcmp(head, "\177ELF", 4) == 0) return 1;
  for (ssize_t i = 0; i < got && head[i] != '\n'; i++) {
    if (head[i] == '\0') return 1;
  }
  return 0;
}

/* Move fd to at least `lowest` (still close-on-exec), so it stays out of the inherited range. */
static int move_above(int fd, int lowest) {
  if (fd >= lowest) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, lowest);
  close(fd);
  return moved;
}

/* In a child before exec: default dispositions (execve keeps ignored signals
 * ignored) and an empty mask (it is inherited as is). */
static void reset_signals(void) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, NULL);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

static void report_and_exit(int report_fd, int stage, int err) {
  int message[2] = {stage, err};
  ssize_t ignored = write(report_fd, message, sizeof message);
  (void)ignored;
  _exit(127);
}

/*
 * The child between fork and exec: async-signal-safe calls only, every signal
 * still blocked (so SIGTTOU cannot stop tcsetpgrp, and no Node/libuv handler
 * runs here: it would write into the parent's signal pipe).
 * - A session of its own (a service must not take the terminal from an
 *   interactive main command, nor get its ^C), or a process group of its own
 *   that takes the terminal's foreground when asked (the main command).
 * - stdin, stdout, stderr as asked; they and the kept fds made inheritable
 *   (Node marks fds 0-15 close-on-exec at start).
 * - cwd, then the user: groups first, gid, uid last (setuid gives up the
 *   right to change the others).
 * - The parent-death signal after setuid, which clears it (prctl(2)); a
 *   boxinit already gone by now would never send it: getppid() then names
 *   another parent.
 * - Default dispositions and an empty mask, then exec. A text file without
 *   #! runs under /bin/sh, as execvp(3) does; a binary for another CPU does
 *   not (ENOEXEC: 126). The stage and errno of a failure go back through the pipe.
 */
static void exec_child(const struct spawn_spec *spec, int report_fd) {
  if (spec->new_session) setsid();
  else setpgid(0, 0);
  if (spec->foreground_fd >= 0) tcsetpgrp(spec->foreground_fd, getpid());
  if (spec->stdin_null) {
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0) report_and_exit(report_fd, STAGE_STDIO, errno);
    if (null_fd > 2) close(null_fd);
  }
  if (spec->out_fd >= 0 && dup2(spec->out_fd, 1) < 0) report_and_exit(report_fd, STAGE_STDIO, errno);
  if (spec->err_fd >= 0 && dup2(spec->err_fd, 2) < 0) report_and_exit(report_fd, STAGE_STDIO, errno);
  for (int fd = 0; fd < 3 + spec->keep_fds; fd++) fcntl(fd, F_SETFD, 0);
  if (spec->cwd && chdir(spec->cwd) == -1) report_and_exit(report_fd, STAGE_CWD, errno);
  /* Raw calls: this process alone (see the top of this file). */
  if (spec->gid >= 0) {
    if (syscall(SYS_setgroups, spec->group_count, spec->groups) == -1 || syscall(SYS_setgid, (gid_t)spec->gid) == -1) {
      report_and_exit(report_fd, STAGE_CREDENTIALS, errno);
    }
  }
  if (spec->uid >= 0 && syscall(SYS_setuid, (uid_t)spec->uid) == -1) report_and_exit(report_fd, STAGE_CREDENTIALS, errno);
  if (spec->death_signal > 0) {
    prctl(PR_SET_PDEATHSIG, spec->death_signal, 0, 0, 0);
    if (getppid() != spec->parent) kill(getpid(), SIGKILL);
  }
  reset_signals();
  execve(spec->file, spec->argv, spec->envp);
  int err = errno;
  if (err == ENOEXEC && !looks_binary(spec->file)) execve("/bin/sh", spec->shell_argv, spec->envp);
  report_and_exit(report_fd, STAGE_EXEC, err);
}

/* The child's stack: exec_child's frames and looks_binary's 80 bytes fit many times over. */
#define CHILD_STACK_BYTES (128 * 1024)

struct child_start {
  const struct spawn_spec *spec;
  int report_fd;
};

static int child_main(void *arg) {
  const struct child_start *start = arg;
  exec_child(start->spec, start->report_fd);
  return 127; /* not reached: exec_child execs or exits */
}

/*
 * Fork and exec spec: the pid, -errno when boxinit's side failed (pipe,
 * fork), -(stage * 1000 + errno) when the child did. A child that failed is
 * reaped here: it never ran. Signals are blocked across fork so that no
 * Node/libuv handler runs in the child. A new process group is also made from
 * the parent, so it exists when this returns (EACCES once the child has
 * exec'd is expected and harmless); a session only the child can make, and
 * it has when the report pipe closes on exec.
 */
static int64_t fork_exec(const struct spawn_spec *spec) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) == -1) return -errno;
  /* Out of the range the child keeps, and of 0-2, which it may replace. */
  report[0] = move_above(report[0], 3 + spec->keep_fds);
  report[1] = move_above(report[1], 3 + spec->keep_fds);
  if (report[0] < 0 || report[1] < 0) {
    if (report[0] >= 0) close(report[0]);
    if (report[1] >= 0) close(report[1]);
    return -EMFILE;
  }
  void *stack = mmap(NULL, CHILD_STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    int mmap_errno = errno;
    close(report[0]);
    close(report[1]);
    return -mmap_errno;
  }
  struct child_start start = {spec, report[1]};
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  /* Returns once the child has exec'd or exited (CLONE_VFORK). */
  pid_t pid = clone(child_main, (char *)stack + CHILD_STACK_BYTES, CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
  int fork_errno = errno;
  munmap(stack, CHILD_STACK_BYTES);
  if (pid > 0 && !spec->new_session) setpgid(pid, pid);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(report[1]);
  if (pid < 0) {
    close(report[0]);
    return -fork_errno;
  }
  int message[2] = {0, 0};
  ssize_t got;
  do {
    got = read(report[0], message, sizeof message);
  } while (got == -1 && errno == EINTR);
  close(report[0]);
  if (got != (ssize_t)sizeof message) return pid;
  while (waitpid(pid, NULL, 0) == -1 && errno == EINTR) {}
  return -((int64_t)message[0] * 1000 + message[1]);
}

/* The parts of forkExec's argument, as JS gave them. */
struct js_spec {
  napi_value argv, env, groups;
  uint32_t argc, env_count, group_count;
  bool argv_from_cmdline, new_session, stdin_null, own_environment;
  int32_t foreground_fd, keep_fds, uid, gid, out_fd, err_fd;
};

static int prop(napi_env env, napi_value object, const char *name, napi_value *out) {
  return napi_get_named_property(env, object, name, out) == napi_ok;
}

static int prop_int(napi_env env, napi_value object, const char *name, int32_t *out) {
  napi_value value;
  return prop(env, object, name, &value) && napi_get_value_int32(env, value, out) == napi_ok;
}

static int prop_bool(napi_env env, napi_value object, const char *name, bool *out) {
  napi_value value;
  return prop(env, object, name, &value) && napi_get_value_bool(env, value, out) == napi_ok;
}

static int prop_array(napi_env env, napi_value object, const char *name, napi_value *out, uint32_t *length) {
  return prop(env, object, name, out) && napi_get_array_length(env, *out, length) == napi_ok;
}

/* Read every field but file and cwd; 0 when one is missing or of the wrong type. */
static int read_js_spec(napi_env env, napi_value object, struct js_spec *js) {
  napi_valuetype env_type;
  if (!prop_array(env, object, "argv", &js->argv, &js->argc) || js->argc == 0 ||
      !prop(env, object, "env", &js->env) || napi_typeof(env, js->env, &env_type) != napi_ok ||
      !prop_array(env, object, "groups", &js->groups, &js->group_count) ||
      !prop_bool(env, object, "argvFromCmdline", &js->argv_from_cmdline) ||
      !prop_bool(env, object, "newSession", &js->new_session) ||
      !prop_bool(env, object, "stdinNull", &js->stdin_null) ||
      !prop_int(env, object, "foregroundFd", &js->foreground_fd) ||
      !prop_int(env, object, "keepFds", &js->keep_fds) || js->keep_fds < 0 ||
      !prop_int(env, object, "uid", &js->uid) || !prop_int(env, object, "gid", &js->gid) ||
      !prop_int(env, object, "outFd", &js->out_fd) || !prop_int(env, object, "errFd", &js->err_fd)) {
    return 0;
  }
  js->env_count = 0;
  /* null: boxinit's own environment, byte for byte. */
  js->own_environment = env_type == napi_null;
  if (js->own_environment) return 1;
  return napi_get_array_length(env, js->env, &js->env_count) == napi_ok;
}

static const char FORK_EXEC_USAGE[] =
  "boxinit.node: forkExec({file, argv[], env[] | null, argvFromCmdline, cwd, uid, gid, groups[], "
  "newSession, foregroundFd, keepFds, stdinNull, outFd, errFd})";

/*
 * forkExec(spec): see fork_exec and exec_child. env null passes boxinit's own
 * (C) environment on; argvFromCmdline takes argv, byte for byte, from the last
 * argv.length entries of /proc/self/cmdline (argv is then the fallback and the
 * count; a file named as argv[0] is exec'd by its bytes too). cwd "" and
 * uid/gid -1: unchanged; outFd/errFd -1: inherited.
 */
static napi_value fork_exec_js(napi_env env, napi_callback_info info) {
  napi_value args[1], file_value, cwd_value;
  struct js_spec js;
  if (!get_args(env, info, 1, args)) return NULL;
  char *file = NULL, *cwd = NULL;
  if (!read_js_spec(env, args[0], &js) || !prop(env, args[0], "file", &file_value) ||
      !prop(env, args[0], "cwd", &cwd_value) || !(file = string_from_js(env, file_value)) ||
      !(cwd = string_from_js(env, cwd_value))) {
    free(file);
    napi_throw_type_error(env, NULL, FORK_EXEC_USAGE);
    return NULL;
  }
  int64_t result = -ENOMEM;
  char *cmdline = NULL;
  char **cmdline_argv = js.argv_from_cmdline ? argv_from_cmdline(js.argc, &cmdline) : NULL;
  char **js_argv = argv_from_js(env, js.argv, js.argc);
  char **envp = js.own_environment ? NULL : argv_from_js(env, js.env, js.env_count);
  char **shell_argv = calloc(js.argc + 2, sizeof *shell_argv);
  gid_t *groups = calloc(js.group_count + 1, sizeof *groups);
  if (!js_argv || (!js.own_environment && !envp) || !shell_argv || !groups) goto done;
  for (uint32_t i = 0; i < js.group_count; i++) {
    napi_value item;
    uint32_t gid = 0;
    napi_get_element(env, js.groups, i, &item);
    napi_get_value_uint32(env, item, &gid);
    groups[i] = (gid_t)gid;
  }
  char **argv = cmdline_argv ? cmdline_argv : js_argv;
  /* A name with a slash is exec'd as given: use its raw bytes too. */
  const char *exec_file = cmdline_argv && strcmp(file, js_argv[0]) == 0 ? argv[0] : file;
  shell_argv[0] = "/bin/sh";
  shell_argv[1] = (char *)exec_file;
  for (uint32_t i = 1; i < js.argc; i++) shell_argv[i + 1] = argv[i];
  struct spawn_spec spec = {
    .file = exec_file, .argv = argv, .shell_argv = shell_argv, .envp = js.own_environment ? environ : envp,
    .new_session = js.new_session, .foreground_fd = js.foreground_fd, .keep_fds = js.keep_fds,
    .stdin_null = js.stdin_null, .out_fd = js.out_fd, .err_fd = js.err_fd, .cwd = cwd[0] ? cwd : NULL,
    .uid = js.uid, .gid = js.gid, .groups = groups, .group_count = js.group_count,
    .death_signal = child_death_signal, .parent = getpid(),
  };
  result = fork_exec(&spec);
done:
  free(cmdline_argv);
  free(cmdline);
  free_vector(js_argv);
  free_vector(envp);
  free(shell_argv);
  free(groups);
  free(file);
  free(cwd);
  return make_int(env, result);
}

/*
 * setChildDeathSignal(signal): children forked from now on get
 * prctl(PR_SET_PDEATHSIG, signal) between fork and exec, so they die with
 * boxinit when it is not PID 1 (a SIGKILLed `boxinit job` must not leave its
 * command running into the next run). 0 turns it off. Returns 0.
 */
static napi_value set_child_death_signal(napi_env env, napi_callback_info info) {
  int32_t signal_number;
  if (!arg_int(env, info, 0, &signal_number)) return NULL;
  if (signal_number < 0 || signal_number >= NSIG) return make_int(env, -EINVAL);
  child_death_signal = signal_number;
  return make_int(env, 0);
}

void register_fork_exec(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"forkExec", NULL, fork_exec_js, NULL, NULL, NULL, napi_default, NULL},
    {"setChildDeathSignal", NULL, set_child_death_signal, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
