/*
 * stamp-exec FILE PROG ARGS...: appends "exec <CLOCK_MONOTONIC ns>" to FILE,
 * then execve's PROG in its place. Run as `unshare --pid --fork --mount-proc
 * stamp-exec ...` it is PID 1 of the namespace, so PROG (the init) is too, and
 * the stamp is the moment the init's exec starts.
 */
#include "bench-util.h"

int main(int argc, char **argv) {
  if (argc < 3) die_msg("usage: stamp-exec FILE PROG [ARGS...]");
  /* Open before the stamp so only the write sits between stamp and execve. */
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd == -1) die(argv[1]);
  char line[64];
  int len = snprintf(line, sizeof line, "exec %lld\n", (long long)now_ns());
  write_all(fd, line, (size_t)len);
  close(fd);
  execv(argv[2], argv + 2);
  die(argv[2]);
}
