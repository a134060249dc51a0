/*
 * Shared by the bench helpers: monotonic time, reading a child's lines with a
 * deadline, starting `unshare ... INIT CHILD` with its stdout on a pipe, and
 * finding the init's host pid (the one child of `unshare --fork`).
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* CLOCK_MONOTONIC is not namespaced by a PID namespace: values taken inside
 * and outside it compare directly. */
static inline int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void die(const char *what) {
  perror(what);
  exit(2);
}

static inline void die_msg(const char *message) {
  fprintf(stderr, "%s\n", message);
  exit(2);
}

/* Writes a whole buffer; the children report with one write per line so a
 * reader never sees half a line from them. */
static inline void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("write");
    }
    buf += n;
    len -= (size_t)n;
  }
}

/* A read may return several lines at once: keep the rest for the next call. */
struct line_reader {
  int fd;
  size_t len;
  char buf[4096];
};

/* Next line without its '\n': 1 when read, 0 at the deadline, -1 at EOF. */
static inline int read_line(struct line_reader *r, char *out, size_t cap, int64_t deadline_ns) {
  for (;;) {
    char *nl = memchr(r->buf, '\n', r->len);
    if (nl != NULL) {
      size_t n = (size_t)(nl - r->buf);
      size_t copy = n < cap - 1 ? n : cap - 1;
      memcpy(out, r->buf, copy);
      out[copy] = '\0';
      memmove(r->buf, nl + 1, r->len - n - 1);
      r->len -= n + 1;
      return 1;
    }
    int64_t left_ns = deadline_ns - now_ns();
    if (left_ns <= 0) return 0;
    struct pollfd p = {.fd = r->fd, .events = POLLIN};
    int rc = poll(&p, 1, (int)((left_ns + 999999) / 1000000));
    if (rc < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (rc == 0) return 0;
    if (r->len == sizeof r->buf) die_msg("bench: a child wrote a line longer than 4 KiB");
    ssize_t got = read(r->fd, r->buf + r->len, sizeof r->buf - r->len);
    if (got < 0) {
      if (errno == EINTR) continue;
      die("read");
    }
    if (got == 0) return -1;
    r->len += (size_t)got;
  }
}

/* fork+exec argv with stdout on a pipe (returned in *out_fd) and stdin on
 * /dev/null, so boxinit takes its non-terminal path as under `docker run`. */
static inline pid_t spawn_piped(char **argv, int *out_fd) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) == -1) die("pipe2");
  pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull == -1 || dup2(devnull, 0) == -1 || dup2(p[1], 1) == -1) die("child stdio");
    execvp(argv[0], argv);
    perror(argv[0]);
    _exit(127);
  }
  close(p[1]);
  *out_fd = p[0];
  return pid;
}

/* First pid in /proc/PARENT/task/PARENT/children, waiting until the deadline:
 * `unshare --fork` has exactly one child, the namespace's PID 1. */
static inline pid_t first_child(pid_t parent, int64_t deadline_ns) {
  char path[80];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)parent, (int)parent);
  for (;;) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char buf[64];
      ssize_t n = read(fd, buf, sizeof buf - 1);
      close(fd);
      if (n > 0) {
        buf[n] = '\0';
        long pid = strtol(buf, NULL, 10);
        if (pid > 0) return (pid_t)pid;
      }
    }
    if (now_ns() > deadline_ns) return -1;
    usleep(1000);
  }
}


/* Start `unshare ... INIT ... CHILD` (its pid in *launcher) with stdout piped
 * into *reader, wait for the child's "ready" line and return the init's host
 * pid (the launcher's only child). `who` names the caller in error messages. */
static inline pid_t launch_until_ready(char **argv, pid_t *launcher_out, struct line_reader *reader, const char *who) {
  int out_fd;
  pid_t launcher = spawn_piped(argv, &out_fd);
  *launcher_out = launcher;
  reader->fd = out_fd;
  reader->len = 0;
  char line[128];
  char message[160];
  /* Generous: the Node inits start in tens of ms, more on a loaded machine. */
  if (read_line(reader, line, sizeof line, now_ns() + 10000000000LL) != 1 || strcmp(line, "ready") != 0) {
    snprintf(message, sizeof message, "%s: the child never said ready", who);
    die_msg(message);
  }
  pid_t init = first_child(launcher, now_ns() + 1000000000LL);
  if (init <= 0) {
    snprintf(message, sizeof message, "%s: no init under unshare", who);
    die_msg(message);
  }
  return init;
}

#endif
