/*
 * boxinit.node: the few system calls an init needs that Node does not expose.
 * Every function returns a number (makePipe: a pair of them, statAt and
 * readDir: an array): >= 0 on success, -errno on failure, so the
 * TypeScript wrapper (src/native/) owns all error wording.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include "boxinit.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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
 * The command's argv as the bytes boxinit was given: the last `count` entries
 * of /proc/self/cmdline (0: all of them). JS strings are UTF-8, so a Latin-1
 * file name would arrive mangled; tini passes bytes through and so must we.
 * NULL when /proc is not there (the caller then uses the JS strings).
 */
static char **argv_from_cmdline(uint32_t count, char **buffer_out) {
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
    size_t size = 0;
    char *text = NULL;
    if (napi_get_element(env, array, i, &item) == napi_ok &&
        napi_get_value_string_utf8(env, item, NULL, 0, &size) == napi_ok && (text = malloc(size + 1))) {
      napi_get_value_string_utf8(env, item, text, size + 1, &size);
    }
    if (!text) {
      for (uint32_t j = 0; j < i; j++) free(vector[j]);
      free(vector);
      return NULL;
    }
    vector[i] = text;
  }
  return vector;
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

/* Move fd to at least `lowest` (still close-on-exec), so it stays out of the preserved range. */
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

/*
 * The child between fork and exec: async-signal-safe calls only. stdio and
 * the preserved fds made inheritable (Node marks fds 0-15 close-on-exec at
 * start), its own process group, the terminal's foreground when asked (SIGTTOU
 * is still blocked here), default signal dispositions and an empty mask
 * (execve keeps ignored signals ignored), then exec. A text file without #!
 * runs under /bin/sh, as execvp(3) does; a binary for another CPU does not
 * (ENOEXEC: 126). The errno of a failed exec goes back through the pipe.
 */
static void exec_child(const char *file, char **argv, char **shell_argv, int foreground_fd, int preserve_fds, int report_fd) {
  for (int fd = 0; fd < 3 + preserve_fds; fd++) fcntl(fd, F_SETFD, 0);
  setpgid(0, 0);
  if (foreground_fd >= 0) tcsetpgrp(foreground_fd, getpid());
  reset_signals();
  execve(file, argv, environ);
  int err = errno;
  if (err == ENOEXEC && !looks_binary(file)) execve("/bin/sh", shell_argv, environ);
  ssize_t ignored = write(report_fd, &err, sizeof err);
  (void)ignored;
  _exit(127);
}

/*
 * spawnCommand(file, argv, foregroundFd, preserveFds): fork and exec the main
 * command in a new process group (foregroundFd >= 0: also the terminal's
 * foreground), with boxinit's environment and, byte for byte, the argv it was
 * given (argv here is the fallback and the count). Returns the pid, or -errno
 * when fork or exec failed. The child is then the reaper's, not libuv's, so
 * its raw wait status (real-time signals included) is seen. Signals are
 * blocked across fork so that no Node/libuv handler runs in the child (it
 * would write into the parent's signal pipe).
 */
static napi_value spawn_command(napi_env env, napi_callback_info info) {
  napi_value args[4];
  if (!get_args(env, info, 4, args)) return NULL;
  uint32_t argc = 0;
  size_t size = 0;
  int32_t foreground_fd = -1, preserve_fds = 0;
  if (napi_get_value_string_utf8(env, args[0], NULL, 0, &size) != napi_ok ||
      napi_get_array_length(env, args[1], &argc) != napi_ok || argc == 0 ||
      napi_get_value_int32(env, args[2], &foreground_fd) != napi_ok ||
      napi_get_value_int32(env, args[3], &preserve_fds) != napi_ok || preserve_fds < 0) {
    napi_throw_type_error(env, NULL, "boxinit.node: spawnCommand(file, argv[], foregroundFd, preserveFds)");
    return NULL;
  }
  int64_t result;
  int report[2] = {-1, -1};
  char *cmdline = NULL;
  char **argv = argv_from_cmdline(argc, &cmdline);
  char **js_argv = argv_from_js(env, args[1], argc);
  char *file = malloc(size + 1);
  char **shell_argv = calloc(argc + 2, sizeof *shell_argv);
  if (!js_argv || !file || !shell_argv) {
    result = -ENOMEM;
    goto done;
  }
  napi_get_value_string_utf8(env, args[0], file, size + 1, &size);
  if (!argv) argv = js_argv;
  /* A name with a slash is exec'd as given: use its raw bytes too. */
  const char *exec_file = strcmp(file, js_argv[0]) == 0 ? argv[0] : file;
  shell_argv[0] = "/bin/sh";
  shell_argv[1] = (char *)exec_file;
  for (uint32_t i = 1; i < argc; i++) shell_argv[i + 1] = argv[i];
  if (pipe2(report, O_CLOEXEC) == -1) {
    result = -errno;
    goto done;
  }
  report[0] = move_above(report[0], 3 + preserve_fds);
  report[1] = move_above(report[1], 3 + preserve_fds);
  if (report[0] < 0 || report[1] < 0) {
    result = -EMFILE;
    goto done;
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  if (pid == 0) exec_child(exec_file, argv, shell_argv, foreground_fd, preserve_fds, report[1]);
  int fork_errno = errno;
  /* Also from the parent, so the group exists when this returns (EACCES once
   * the child has exec'd is expected and harmless). */
  if (pid > 0) setpgid(pid, pid);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(report[1]);
  report[1] = -1;
  if (pid < 0) {
    result = -fork_errno;
    goto done;
  }
  int child_errno = 0;
  ssize_t got;
  do {
    got = read(report[0], &child_errno, sizeof child_errno);
  } while (got == -1 && errno == EINTR);
  if (got == (ssize_t)sizeof child_errno) {
    /* exec failed: the child exits at once; reap it here, it never ran. */
    while (waitpid(pid, NULL, 0) == -1 && errno == EINTR) {}
    result = -child_errno;
  } else {
    result = pid;
  }
done:
  if (report[0] >= 0) close(report[0]);
  if (report[1] >= 0) close(report[1]);
  if (argv != js_argv) free(argv);
  free(cmdline);
  if (js_argv) for (uint32_t i = 0; i < argc; i++) free(js_argv[i]);
  free(js_argv);
  free(file);
  free(shell_argv);
  return make_int(env, result);
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

/* Where a service's child failed before running it: encoded in the result. */
enum spawn_stage { STAGE_EXEC = 0, STAGE_CWD = 1, STAGE_CREDENTIALS = 2, STAGE_STDIO = 3 };

struct service_spec {
  const char *file;
  char **argv, **shell_argv, **envp;
  const char *cwd;     /* NULL: keep boxinit's */
  int32_t uid, gid;    /* -1: keep boxinit's */
  gid_t *groups;
  size_t group_count;
  int32_t out_fd, err_fd; /* -1: inherit boxinit's */
  pid_t parent;           /* boxinit's pid, for the parent-death check */
};

/* setChildDeathSignal(): the signal every later child gets when boxinit dies (0: none). */
static int child_death_signal = 0;

static void report_and_exit(int report_fd, int stage, int err) {
  int message[2] = {stage, err};
  ssize_t ignored = write(report_fd, message, sizeof message);
  (void)ignored;
  _exit(127);
}

/*
 * A service's child between fork and exec (async-signal-safe calls only): a
 * session of its own (no controlling terminal: a service must not take the
 * terminal from an interactive main command, nor get its ^C), stdin from
 * /dev/null, stdout/stderr onto the given pipes, cwd, then the user: groups
 * first, gid, uid last (setuid gives up the right to change the others).
 */
static void exec_service(const struct service_spec *spec, int report_fd) {
  setsid();
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd < 0 || dup2(null_fd, 0) < 0) report_and_exit(report_fd, STAGE_STDIO, errno);
  if (null_fd > 2) close(null_fd);
  if (spec->out_fd >= 0 && dup2(spec->out_fd, 1) < 0) report_and_exit(report_fd, STAGE_STDIO, errno);
  if (spec->err_fd >= 0 && dup2(spec->err_fd, 2) < 0) report_and_exit(report_fd, STAGE_STDIO, errno);
  for (int fd = 0; fd < 3; fd++) fcntl(fd, F_SETFD, 0);
  if (spec->cwd && chdir(spec->cwd) == -1) report_and_exit(report_fd, STAGE_CWD, errno);
  if (spec->gid >= 0) {
    if (setgroups(spec->group_count, spec->groups) == -1 || setgid((gid_t)spec->gid) == -1) {
      report_and_exit(report_fd, STAGE_CREDENTIALS, errno);
    }
  }
  if (spec->uid >= 0 && setuid((uid_t)spec->uid) == -1) report_and_exit(report_fd, STAGE_CREDENTIALS, errno);
  /* After setuid, which clears it (prctl(2)); a boxinit already gone by now
   * would never send it: getppid() then names another parent. */
  if (child_death_signal > 0) {
    prctl(PR_SET_PDEATHSIG, child_death_signal, 0, 0, 0);
    if (getppid() != spec->parent) kill(getpid(), SIGKILL);
  }
  reset_signals();
  execve(spec->file, spec->argv, spec->envp);
  int err = errno;
  if (err == ENOEXEC && !looks_binary(spec->file)) execve("/bin/sh", spec->shell_argv, spec->envp);
  report_and_exit(report_fd, STAGE_EXEC, err);
}

static void free_vector(char **vector) {
  if (!vector) return;
  for (char **item = vector; *item; item++) free(*item);
  free(vector);
}

static char *string_from_js(napi_env env, napi_value value) {
  size_t size = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &size) != napi_ok) return NULL;
  char *text = malloc(size + 1);
  if (text) napi_get_value_string_utf8(env, value, text, size + 1, &size);
  return text;
}

/*
 * spawnService(file, argv[], env[], cwd, uid, gid, groups[], outFd, errFd):
 * fork and exec a configured service (see exec_service). cwd "" and uid/gid
 * -1 mean "unchanged"; outFd/errFd -1 mean "inherit". Returns the pid, or
 * -(stage * 1000 + errno) when the child failed before running the command
 * (stage: 0 exec, 1 cwd, 2 user/groups, 3 stdio). Like spawnCommand, the
 * child is the reaper's.
 */
static napi_value spawn_service(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value args[9];
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 9) {
    napi_throw_type_error(env, NULL, "boxinit.node: spawnService(file, argv[], env[], cwd, uid, gid, groups[], outFd, errFd)");
    return NULL;
  }
  struct service_spec spec;
  memset(&spec, 0, sizeof spec);
  uint32_t arg_count = 0, env_count = 0, group_count = 0;
  int64_t result = -ENOMEM;
  int report[2] = {-1, -1};
  char *file = string_from_js(env, args[0]);
  char *cwd = string_from_js(env, args[3]);
  if (napi_get_array_length(env, args[1], &arg_count) != napi_ok || arg_count == 0 ||
      napi_get_array_length(env, args[2], &env_count) != napi_ok ||
      napi_get_array_length(env, args[6], &group_count) != napi_ok ||
      napi_get_value_int32(env, args[4], &spec.uid) != napi_ok ||
      napi_get_value_int32(env, args[5], &spec.gid) != napi_ok ||
      napi_get_value_int32(env, args[7], &spec.out_fd) != napi_ok ||
      napi_get_value_int32(env, args[8], &spec.err_fd) != napi_ok || !file || !cwd) {
    free(file);
    free(cwd);
    napi_throw_type_error(env, NULL, "boxinit.node: spawnService(file, argv[], env[], cwd, uid, gid, groups[], outFd, errFd)");
    return NULL;
  }
  spec.file = file;
  spec.cwd = cwd[0] ? cwd : NULL;
  spec.argv = argv_from_js(env, args[1], arg_count);
  spec.envp = argv_from_js(env, args[2], env_count);
  spec.shell_argv = calloc(arg_count + 2, sizeof *spec.shell_argv);
  spec.groups = calloc(group_count + 1, sizeof *spec.groups);
  spec.group_count = group_count;
  if (!spec.argv || !spec.envp || !spec.shell_argv || !spec.groups) goto done;
  for (uint32_t i = 0; i < group_count; i++) {
    napi_value item;
    uint32_t gid = 0;
    napi_get_element(env, args[6], i, &item);
    napi_get_value_uint32(env, item, &gid);
    spec.groups[i] = (gid_t)gid;
  }
  spec.shell_argv[0] = "/bin/sh";
  spec.shell_argv[1] = file;
  for (uint32_t i = 1; i < arg_count; i++) spec.shell_argv[i + 1] = spec.argv[i];
  if (pipe2(report, O_CLOEXEC) == -1) {
    result = -errno;
    goto done;
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  spec.parent = getpid();
  pid_t pid = fork();
  if (pid == 0) exec_service(&spec, report[1]);
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(report[1]);
  report[1] = -1;
  if (pid < 0) {
    result = -fork_errno;
    goto done;
  }
  int message[2] = {0, 0};
  ssize_t got;
  do {
    got = read(report[0], message, sizeof message);
  } while (got == -1 && errno == EINTR);
  if (got == (ssize_t)sizeof message) {
    while (waitpid(pid, NULL, 0) == -1 && errno == EINTR) {}
    result = -(message[0] * 1000 + message[1]);
  } else {
    result = pid;
  }
done:
  if (report[0] >= 0) close(report[0]);
  if (report[1] >= 0) close(report[1]);
  free_vector(spec.argv);
  free_vector(spec.envp);
  free(spec.shell_argv);
  free(spec.groups);
  free(file);
  free(cwd);
  return make_int(env, result);
}

/*
 * setChildDeathSignal(signal): children spawned by spawnService from now on
 * get prctl(PR_SET_PDEATHSIG, signal) between fork and exec, so they die with
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
    {"spawnCommand", NULL, spawn_command, NULL, NULL, NULL, napi_default, NULL},
    {"getForeground", NULL, get_foreground, NULL, NULL, NULL, napi_default, NULL},
    {"makePipe", NULL, make_pipe, NULL, NULL, NULL, napi_default, NULL},
    {"spawnService", NULL, spawn_service, NULL, NULL, NULL, napi_default, NULL},
    {"tryLock", NULL, try_lock, NULL, NULL, NULL, napi_default, NULL},
    {"setName", NULL, set_name, NULL, NULL, NULL, napi_default, NULL},
    {"setChildDeathSignal", NULL, set_child_death_signal, NULL, NULL, NULL, napi_default, NULL},
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
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
