/*
 * sigecho: the child for the RSS, signal and shutdown scenarios. Prints
 * "ready", then for each HUP/USR1/USR2 received "sig <signo> <ns>"; on TERM or
 * INT prints "term <ns> <waited_ns>" and "exit <ns>" (taken just before _exit)
 * and exits 0. waited_ns: how long, of the time to that stamp, sigecho was
 * runnable but waiting for a CPU (/proc/self/schedstat's run delay, read
 * before the wait and after the stamp; -1 when the kernel does not keep it).
 * Each line is one write(2), so a reader never sees half of one.
 */
/* First: it defines _GNU_SOURCE before any system header. */
#include "bench-util.h"

#include <signal.h>

static void say(const char *what, long long a, long long b, int fields) {
  char line[96];
  int len = fields == 2 ? snprintf(line, sizeof line, "%s %lld %lld\n", what, a, b)
                        : snprintf(line, sizeof line, "%s %lld\n", what, a);
  write_all(1, line, (size_t)len);
}

/* Nanoseconds this process has spent runnable but not running, or -1. */
static long long run_delay_ns(void) {
  int fd = open("/proc/self/schedstat", O_RDONLY | O_CLOEXEC);
  if (fd == -1) return -1;
  char buf[96];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  long long on_cpu, delay;
  if (sscanf(buf, "%lld %lld", &on_cpu, &delay) != 2) return -1;
  return delay;
}

int main(void) {
  static const int handled[] = {SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGTERM};
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++) {
    /* An ignored signal is discarded even while blocked: undo any SIG_IGN the
     * init may have passed down, so sigwaitinfo sees every one. */
    signal(handled[i], SIG_DFL);
    sigaddset(&set, handled[i]);
  }
  if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) die("sigprocmask");
  write_all(1, "ready\n", 6);
  for (;;) {
    long long delay_before = run_delay_ns();
    int sig = sigwaitinfo(&set, NULL);
    int64_t received_ns = now_ns();
    if (sig == -1) {
      if (errno == EINTR) continue;
      die("sigwaitinfo");
    }
    if (sig == SIGTERM || sig == SIGINT) {
      long long delay_after = run_delay_ns();
      say("term", received_ns, delay_before < 0 || delay_after < 0 ? -1 : delay_after - delay_before, 2);
      say("exit", now_ns(), 0, 1);
      _exit(0);
    }
    say("sig", sig, received_ns, 2);
  }
}
