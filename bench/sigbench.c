/*
 * sigbench SIGNO COUNT GAP_US TIMEOUT_MS -- CMD...: starts CMD (`unshare ...
 * INIT sigecho`), waits for "ready", then COUNT times: sleeps GAP_US, takes
 * the time, kill()s the init's host pid, and reads sigecho's receive stamp.
 * Prints one latency in ns per line; "not-forwarded" (and stops) when no echo
 * came within TIMEOUT_MS. One signal is in flight at a time, so none coalesce.
 */
/* First: it defines _GNU_SOURCE before any system header. */
#include "bench-util.h"

#include <signal.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
  if (argc < 7 || strcmp(argv[5], "--") != 0) {
    die_msg("usage: sigbench SIGNO COUNT GAP_US TIMEOUT_MS -- CMD...");
  }
  int signo = atoi(argv[1]);
  int count = atoi(argv[2]);
  useconds_t gap_us = (useconds_t)atoi(argv[3]);
  int64_t timeout_ns = atoll(argv[4]) * 1000000;

  struct line_reader reader;
  pid_t launcher;
  pid_t init = launch_until_ready(argv + 6, &launcher, &reader, "sigbench");
  char line[128];

  for (int i = 0; i < count; i++) {
    usleep(gap_us);
    int64_t sent_ns = now_ns();
    if (kill(init, signo) == -1) die("kill");
    int rc = read_line(&reader, line, sizeof line, sent_ns + timeout_ns);
    if (rc != 1) {
      printf("not-forwarded\n");
      break;
    }
    int got_signo;
    long long received_ns;
    if (sscanf(line, "sig %d %lld", &got_signo, &received_ns) != 2 || got_signo != signo) {
      fprintf(stderr, "sigbench: unexpected line from the child: %s\n", line);
      exit(2);
    }
    printf("%lld\n", received_ns - (long long)sent_ns);
  }
  fflush(stdout);
  /* End the child, not the init: every init then exits on its own, and
   * unshare does not complain about re-raising a SIGKILL on itself. */
  pid_t child = first_child(init, now_ns() + 1000000000LL);
  if (child > 0) kill(child, SIGKILL);
  waitpid(launcher, NULL, 0);
  return 0;
}
