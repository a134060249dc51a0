/*
 * stopbench init|child SETTLE_MS TIMEOUT_MS -- CMD...: starts CMD (`unshare
 * ... INIT sigecho`), waits for "ready" and SETTLE_MS more, sends SIGTERM to
 * the init's host pid (init: what `docker stop` does) or straight to sigecho
 * (child: the command ends by itself, so any init can be compared, even one
 * that ignores SIGTERM), and times the init's exit through a pidfd (readable
 * when the process has exited, child of ours or not). Prints one line:
 *   to_child_ns child_own_ns overhead_ns total_ns
 * kill → child's handler, child's handler → its exit, child's exit → init's
 * exit, kill → init's exit; or "no-exit" when the init was still running at
 * TIMEOUT_MS (its child is then SIGKILLed, so it exits by itself). A fifth
 * column: of to_child_ns, how long sigecho was runnable but waiting for a CPU
 * (-1 when unknown).
 */
/* First: it defines _GNU_SOURCE before any system header. */
#include "bench-util.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
  if (argc < 6 || strcmp(argv[4], "--") != 0) die_msg("usage: stopbench init|child SETTLE_MS TIMEOUT_MS -- CMD...");
  int is_to_child = strcmp(argv[1], "child") == 0;
  useconds_t settle_us = (useconds_t)atoi(argv[2]) * 1000;
  int timeout_ms = atoi(argv[3]);

  struct line_reader reader;
  pid_t launcher;
  pid_t init = launch_until_ready(argv + 5, &launcher, &reader, "stopbench");
  char line[128];
  pid_t child = first_child(init, now_ns() + 1000000000LL);
  if (child <= 0) die_msg("stopbench: no child under the init");
  int pidfd = (int)syscall(SYS_pidfd_open, init, 0);
  if (pidfd == -1) die("pidfd_open");
  /* Let a Node init finish whatever it does right after spawning. */
  usleep(settle_us);

  int64_t sent_ns = now_ns();
  if (kill(is_to_child ? child : init, SIGTERM) == -1) die("kill");
  /* Wait on the pidfd alone: sigecho's lines stay in the pipe meanwhile, and
   * the wake-up is the init's exit, not our reading. */
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  int rc;
  while ((rc = poll(&p, 1, timeout_ms)) == -1 && errno == EINTR) {
  }
  int64_t init_exit_ns = now_ns();
  if (rc == -1) die("poll pidfd");
  if (rc == 0) {
    printf("no-exit\n");
    /* Killing the child lets even an init that ignored SIGTERM exit by itself. */
    kill(child, SIGKILL);
    waitpid(launcher, NULL, 0);
    return 0;
  }

  long long term_ns = -1, exit_ns = -1, waited_ns = -1;
  while (read_line(&reader, line, sizeof line, now_ns() + 1000000000LL) == 1) {
    sscanf(line, "term %lld %lld", &term_ns, &waited_ns);
    sscanf(line, "exit %lld", &exit_ns);
  }
  if (term_ns < 0 || exit_ns < 0) die_msg("stopbench: the init exited but the child never reported SIGTERM");
  printf("%lld %lld %lld %lld %lld\n", term_ns - (long long)sent_ns, exit_ns - term_ns, (long long)init_exit_ns - exit_ns,
         (long long)(init_exit_ns - sent_ns), waited_ns);
  waitpid(launcher, NULL, 0);
  return 0;
}
