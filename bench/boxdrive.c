/*
 * boxdrive STATE_DIR STAMP_FILE inplace|rename|sigterm SETTLE_MS SETTLE_SPAN_MS TIMEOUT_MS -- CMD...:
 * drives one Mini-VM run from the host, for the backoff, Mini-VM start-up and
 * scaling scenarios. It watches STATE_DIR with inotify and starts CMD
 * (`unshare ... boxinit --config ...`, maybe under strace; its output on our
 * stderr). When STATE_DIR/status is renamed into place with the content
 * "running" it appends "running <ns>" to STAMP_FILE (the CLOCK_MONOTONIC of
 * the watcher's wake-up). After SETTLE_MS plus a random 0..SETTLE_SPAN_MS it
 * appends the box's PID 1's memory then ("rss-anon <kB>", "vm-hwm <kB>",
 * from the host's /proc), and ends the run: it writes "true\n" to
 * STATE_DIR/backoff, in place (open with O_TRUNC, write) or as a temporary
 * file renamed over it, or (sigterm) sends SIGTERM to the box's PID 1 as
 * `docker stop` does; it appends "write <ns>" (the stamp taken right before
 * the open or the kill), then "stopping <ns>" when status says `stopping`,
 * and "exit <ns>" when the box's PID 1 has exited (a pidfd). Then it waits
 * for CMD to end. Prints "ok EXIT_CODE"; "timeout" when CMD was still running
 * TIMEOUT_MS after the start (the box's PID 1 is then SIGKILLed, which ends
 * every process in its namespace); or "early-exit EXIT_CODE".
 */
/* First: it defines _GNU_SOURCE before any system header. */
#include "bench-util.h"

#include <limits.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void append_stamp(const char *file, const char *label, int64_t ns) {
  int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd == -1) die(file);
  char line[64];
  int len = snprintf(line, sizeof line, "%s %lld\n", label, (long long)ns);
  write_all(fd, line, (size_t)len);
  close(fd);
}

/* fork+exec argv with stdin on /dev/null (boxinit's non-terminal path, as
 * under `docker run` without -t) and stdout on our stderr: our stdout
 * carries the result line alone. */
static pid_t spawn_box(char **argv) {
  pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) {
    /* Should we die, unshare dies too; with --kill-child it takes the box along. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull == -1 || dup2(devnull, 0) == -1 || dup2(2, 1) == -1) die("child stdio");
    execvp(argv[0], argv);
    perror(argv[0]);
    _exit(127);
  }
  return pid;
}

/* Whether STATE_DIR/status says WORD now. */
static int status_says(const char *state_dir, const char *word) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/status", state_dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) return 0;
  char buf[32];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  return strncmp(buf, word, strlen(word)) == 0 && strcmp(buf + strlen(word), "\n") == 0;
}

/* Waits for an inotify event that leaves status saying WORD; returns the
 * wake-up's stamp, 0 when the launcher ended first, -1 at the deadline. */
static int64_t wait_status(int inotify_fd, int pidfd, const char *state_dir, const char *word, int64_t deadline_ns) {
  char events[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    int64_t left_ns = deadline_ns - now_ns();
    if (left_ns <= 0) return -1;
    struct pollfd p[2] = {{.fd = inotify_fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
    int rc = poll(p, 2, (int)((left_ns + 999999) / 1000000));
    int64_t woke_ns = now_ns();
    if (rc == -1) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (p[0].revents & POLLIN) {
      ssize_t got = read(inotify_fd, events, sizeof events);
      if (got == -1 && errno != EAGAIN && errno != EINTR) die("read inotify");
      int is_status = 0;
      for (ssize_t at = 0; at < got;) {
        const struct inotify_event *event = (const struct inotify_event *)(events + at);
        if (event->len > 0 && strcmp(event->name, "status") == 0) is_status = 1;
        at += (ssize_t)(sizeof *event + event->len);
      }
      if (is_status && status_says(state_dir, word)) return woke_ns;
    } else if (p[1].revents & POLLIN) {
      return 0;
    }
  }
}

/* "true\n" into STATE_DIR/backoff; returns the stamp taken right before. */
static int64_t write_backoff(const char *state_dir, int is_rename) {
  char path[PATH_MAX], temp[PATH_MAX];
  snprintf(path, sizeof path, "%s/backoff", state_dir);
  /* A dot-name boxinit's watcher ignores, as editors and `sed -i` use. */
  snprintf(temp, sizeof temp, "%s/.backoff.boxdrive.tmp", state_dir);
  int64_t written_ns = now_ns();
  const char *target = is_rename ? temp : path;
  int fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd == -1) die(target);
  write_all(fd, "true\n", 5);
  if (close(fd) == -1) die("close");
  if (is_rename && rename(temp, path) == -1) die("rename");
  return written_ns;
}

/* Whether /proc/PID/status's NSpid ends in " 1": PID 1 of a namespace below ours. */
static int is_namespace_init(pid_t pid) {
  char path[64], text[4096];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) return 0;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return 0;
  text[n] = '\0';
  const char *line = strstr(text, "\nNSpid:");
  if (line == NULL) return 0;
  /* At least two pids (ours and the namespace's), the last one 1. */
  char *cursor = (char *)line + strlen("\nNSpid:"), *end;
  long last = -1;
  int fields = 0;
  for (long pid; (pid = strtol(cursor, &end, 10)), end != cursor; cursor = end) {
    last = pid;
    fields++;
  }
  return fields >= 2 && last == 1;
}

/* The box's PID 1 on the host: down the first-child chain from the launcher
 * (`unshare --fork`, or strace then unshare) to the first namespace init. */
static pid_t find_box_init(pid_t launcher, int64_t deadline_ns) {
  pid_t pid = launcher;
  for (int depth = 0; depth < 4; depth++) {
    pid = first_child(pid, deadline_ns);
    if (pid <= 0) return -1;
    if (is_namespace_init(pid)) return pid;
  }
  return -1;
}

/* "LABEL <kB>" lines for the memory fields of /proc/PID/status named. */
static void append_memory(const char *stamp_file, pid_t pid) {
  char path[64], text[4096];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) die(path);
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) die(path);
  text[n] = '\0';
  static const char *const fields[][2] = {{"\nRssAnon:", "rss-anon"}, {"\nVmHWM:", "vm-hwm"}};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    const char *at = strstr(text, fields[i][0]);
    if (at != NULL) append_stamp(stamp_file, fields[i][1], strtoll(at + strlen(fields[i][0]), NULL, 10));
  }
}

/* SIGKILL the box's PID 1: the kernel then kills everything in its
 * namespace. Prints "timeout". */
static int give_up(pid_t launcher) {
  pid_t init = find_box_init(launcher, now_ns() + 100000000LL);
  if (init > 0) kill(init, SIGKILL);
  waitpid(launcher, NULL, 0);
  printf("timeout\n");
  return 1;
}

static int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

int main(int argc, char **argv) {
  if (argc < 9 || strcmp(argv[7], "--") != 0)
    die_msg("usage: boxdrive STATE_DIR STAMP_FILE inplace|rename|sigterm SETTLE_MS SETTLE_SPAN_MS TIMEOUT_MS -- CMD...");
  const char *state_dir = argv[1];
  const char *stamp_file = argv[2];
  int is_rename = strcmp(argv[3], "rename") == 0;
  int is_sigterm = strcmp(argv[3], "sigterm") == 0;
  if (!is_rename && !is_sigterm && strcmp(argv[3], "inplace") != 0) die_msg("boxdrive: the end is inplace, rename or sigterm");
  unsigned settle_ms = (unsigned)atoi(argv[4]);
  unsigned span_ms = (unsigned)atoi(argv[5]);
  int64_t deadline_ns = now_ns() + (int64_t)atoi(argv[6]) * 1000000;

  /* Watch before starting: boxinit's first status write must not be missed. */
  int inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_fd == -1) die("inotify_init1");
  if (inotify_add_watch(inotify_fd, state_dir, IN_MOVED_TO | IN_CLOSE_WRITE) == -1) die(state_dir);

  pid_t launcher = spawn_box(argv + 8);
  int pidfd = (int)syscall(SYS_pidfd_open, launcher, 0);
  if (pidfd == -1) die("pidfd_open");
  int status;

  int64_t running_ns = wait_status(inotify_fd, pidfd, state_dir, "running", deadline_ns);
  if (running_ns == -1) return give_up(launcher);
  if (running_ns == 0) {
    waitpid(launcher, &status, 0);
    printf("early-exit %d\n", exit_code(status));
    return 1;
  }
  append_stamp(stamp_file, "running", running_ns);
  pid_t init = find_box_init(launcher, deadline_ns);
  if (init <= 0) return give_up(launcher);
  int init_fd = (int)syscall(SYS_pidfd_open, init, 0);
  if (init_fd == -1) die("pidfd_open init");

  /* A random settle: boxinit's poll timer then meets the write at a uniformly
   * random phase, and the write never lands on boxinit's post-`running` work. */
  unsigned extra = 0;
  if (span_ms > 0 && getrandom(&extra, sizeof extra, 0) != sizeof extra) die("getrandom");
  usleep((useconds_t)(settle_ms + (span_ms > 0 ? extra % span_ms : 0)) * 1000);

  append_memory(stamp_file, init);
  int64_t written_ns;
  if (is_sigterm) {
    written_ns = now_ns();
    if (kill(init, SIGTERM) == -1) die("kill init");
  } else {
    written_ns = write_backoff(state_dir, is_rename);
  }
  append_stamp(stamp_file, "write", written_ns);
  /* When boxinit says it began stopping: splits the reaction into noticing
   * and stopping. Missed (no line) when status has moved on before we read it. */
  int64_t stopping_ns = wait_status(inotify_fd, pidfd, state_dir, "stopping", deadline_ns);
  if (stopping_ns > 0) append_stamp(stamp_file, "stopping", stopping_ns);

  /* The box's PID 1 first: its exit, not the launcher's, ends the stop. */
  for (;;) {
    int64_t left_ns = deadline_ns - now_ns();
    if (left_ns <= 0) return give_up(launcher);
    struct pollfd p = {.fd = init_fd, .events = POLLIN};
    int rc = poll(&p, 1, (int)((left_ns + 999999) / 1000000));
    if (rc == -1 && errno != EINTR) die("poll init pidfd");
    if (rc == 1) break;
  }
  append_stamp(stamp_file, "exit", now_ns());

  for (;;) {
    int64_t left_ns = deadline_ns - now_ns();
    if (left_ns <= 0) return give_up(launcher);
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int rc = poll(&p, 1, (int)((left_ns + 999999) / 1000000));
    if (rc == -1 && errno != EINTR) die("poll pidfd");
    if (rc == 1) break;
  }
  if (waitpid(launcher, &status, 0) == -1) die("waitpid");
  printf("ok %d\n", exit_code(status));
  return 0;
}
