/*
 * boxstamp FILE LABEL exit|serve|stop: the processes a Mini-VM box runs in the
 * backoff and Mini-VM start-up scenarios. The first thing main does is append
 * "LABEL <CLOCK_MONOTONIC ns> <pid>" to FILE; then
 *   exit:  appends "LABEL-exit <ns>" and exits 0 (a warm-up check that passes
 *          at its first try);
 *   serve: waits for SIGTERM or SIGINT, then exits 0 (a service that is up at
 *          its first instruction); gives up after 5 minutes so a leftover
 *          never outlives a broken run for long;
 *   stop:  sends SIGTERM to the pid on FILE's "service" line and exits 0 (a
 *          stop command: the service then ends at once and boxinit can exit).
 * Each line is one write(2) on an O_APPEND descriptor: the processes of a
 * box share FILE without mixing their lines.
 */
/* First: it defines _GNU_SOURCE before any system header. */
#include "bench-util.h"

#include <signal.h>

#define SERVE_LIMIT_S 300

static void append_line(int fd, const char *label, int64_t ns, long pid) {
  char line[128];
  int len = pid > 0 ? snprintf(line, sizeof line, "%s %lld %ld\n", label, (long long)ns, pid)
                    : snprintf(line, sizeof line, "%s %lld\n", label, (long long)ns);
  write_all(fd, line, (size_t)len);
}

static void serve(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  /* An ignored signal is discarded even while blocked: undo any SIG_IGN
   * passed down, so sigtimedwait sees it. */
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) die("sigprocmask");
  struct timespec limit = {.tv_sec = SERVE_LIMIT_S};
  while (sigtimedwait(&set, NULL, &limit) == -1) {
    if (errno == EAGAIN) die_msg("boxstamp: no SIGTERM within 5 minutes");
    if (errno != EINTR) die("sigtimedwait");
  }
}

/* The pid on the "service" line of the stamp file, or -1. */
static long service_pid(const char *file) {
  FILE *in = fopen(file, "re");
  if (in == NULL) die(file);
  char label[32];
  long long ns;
  long pid = -1, found = -1;
  char line[160];
  while (found < 0 && fgets(line, sizeof line, in) != NULL) {
    if (sscanf(line, "%31s %lld %ld", label, &ns, &pid) == 3 && strcmp(label, "service") == 0) found = pid;
  }
  fclose(in);
  return found;
}

int main(int argc, char **argv) {
  int64_t started_ns = now_ns();
  if (argc != 4) die_msg("usage: boxstamp FILE LABEL exit|serve|stop");
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd == -1) die(argv[1]);
  append_line(fd, argv[2], started_ns, (long)getpid());
  const char *action = argv[3];
  if (strcmp(action, "exit") == 0) {
    char label[48];
    snprintf(label, sizeof label, "%s-exit", argv[2]);
    append_line(fd, label, now_ns(), 0);
  } else if (strcmp(action, "serve") == 0) {
    serve();
  } else if (strcmp(action, "stop") == 0) {
    long pid = service_pid(argv[1]);
    if (pid <= 1) die_msg("boxstamp: no service pid in the stamp file");
    if (kill((pid_t)pid, SIGTERM) == -1) die("kill");
  } else {
    die_msg("usage: boxstamp FILE LABEL exit|serve|stop");
  }
  return 0;
}
