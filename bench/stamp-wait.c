/*
 * stamp-wait FILE PROG ARGS...: runs PROG (stdin /dev/null, like boxinit's
 * other runs here), waits for it, appends "exit <CLOCK_MONOTONIC ns>" to
 * FILE, and exits with its code. Around `unshare --pid --fork --mount-proc
 * stamp-exec FILE boxinit -- /bin/true` the two stamps are the exec of
 * boxinit and the moment its run is over (unshare's own exit after it: a
 * few hundred microseconds, the same in every run).
 */
#include "bench-util.h"

#include <sys/wait.h>

int main(int argc, char **argv) {
  if (argc < 3) die_msg("usage: stamp-wait FILE PROG [ARGS...]");
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd == -1) die(argv[1]);
  pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) {
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd == -1 || dup2(null_fd, 0) == -1) die("/dev/null");
    execv(argv[2], argv + 2);
    die(argv[2]);
  }
  int status;
  while (waitpid(pid, &status, 0) == -1) {
    if (errno != EINTR) die("waitpid");
  }
  int64_t ns = now_ns();
  char line[64];
  int len = snprintf(line, sizeof line, "exit %lld\n", (long long)ns);
  write_all(fd, line, (size_t)len);
  close(fd);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
