/*
 * stamp FILE: appends "child <CLOCK_MONOTONIC ns>" to FILE as the first thing
 * main does, then exits 0: the child whose start the init's start-up ends at.
 */
#include "bench-util.h"

int main(int argc, char **argv) {
  int64_t started_ns = now_ns();
  if (argc != 2) die_msg("usage: stamp FILE");
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd == -1) die(argv[1]);
  char line[64];
  int len = snprintf(line, sizeof line, "child %lld\n", (long long)started_ns);
  write_all(fd, line, (size_t)len);
  return 0;
}
