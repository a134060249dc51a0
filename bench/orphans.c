/*
 * orphans zombies|storm COUNT DEADLINE_MS: run as the init's child, makes
 * COUNT orphans by double fork and times how fast PID 1 reaps them, polling
 * /proc/1/task/<tid>/children (the namespace's /proc, mounted by unshare).
 *
 * zombies: a middle process forks COUNT grandchildren that exit at once,
 *   waits until all of them are zombies, stamps the time and exits: the kernel
 *   hands all COUNT zombies to PID 1 in one go. reap_ns = that stamp → PID 1
 *   has no child left but us. This is the init's own reaping rate; the cost of
 *   creating and exiting processes is kept out of it.
 * storm: fork, fork, exit, as fast as possible, COUNT times; the grandchildren
 *   exit at once and each becomes an orphan as its parent exits.
 *   reap_ns = first fork → none left (bounded by how fast we can fork).
 * create_ns = first fork → last orphan made, in both modes; lag_ns = last
 * orphan made → none left. The deadline counts from the hand-over (zombies)
 * or from the last orphan made (storm), so a slow fork never eats into it.
 *
 * How "none left" is seen, the optional fourth argument:
 * children (default): /proc/1/task/<tid>/children lists none but us. The
 *   kernel builds that list under tasklist_lock, which the reaper's
 *   release_task also takes: with tens of thousands of children each poll
 *   holds the lock for milliseconds and slows the reaping it measures.
 * proc: the namespace's /proc lists no process but PID 1 and us (a zombie
 *   stays listed until it is reaped); readdir of /proc walks the pid table
 *   under RCU, without tasklist_lock. For the scaling scenario.
 *
 * Prints one line: mode= count= create_ns= reap_ns= lag_ns= left_at_deadline=
 * polls= (reap_ns=lag_ns=-1 when some were still left at the deadline).
 */
/* First: it defines _GNU_SOURCE before any system header. */
#include "bench-util.h"

#include <dirent.h>
#include <sys/wait.h>

/* Grown as needed: with 100,000 children a children file is about 700 KB. */
static char *buf;
static size_t buf_cap;

/* Reads a /proc file whole into buf; its length, or -1 when it is gone. */
static ssize_t read_proc(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) return -1;
  size_t len = 0;
  for (;;) {
    if (buf_cap - len < 4096) {
      buf_cap = buf_cap == 0 ? 1 << 16 : buf_cap * 2;
      buf = realloc(buf, buf_cap);
      if (buf == NULL) die("realloc");
    }
    ssize_t n = read(fd, buf + len, buf_cap - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = '\0';
  return (ssize_t)len;
}

/* Children of PID 1 across all its threads: a re-parented orphan may sit
 * under any live thread of the reaper (kernel find_alive_thread). */
static int count_init_children(void) {
  DIR *tasks = opendir("/proc/1/task");
  if (tasks == NULL) die("/proc/1/task");
  int count = 0;
  struct dirent *entry;
  while ((entry = readdir(tasks)) != NULL) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    char path[300];
    snprintf(path, sizeof path, "/proc/1/task/%s/children", entry->d_name);
    ssize_t len = read_proc(path); /* -1: that thread exited meanwhile */
    for (ssize_t i = 0; i < len; i++) count += buf[i] == ' '; /* every pid ends with a space */
  }
  closedir(tasks);
  return count;
}

/* Processes in this PID namespace but PID 1 and us: the numeric entries of
 * its /proc (mounted by unshare --mount-proc). */
static int count_other_processes(void) {
  DIR *proc = opendir("/proc");
  if (proc == NULL) die("/proc");
  int count = 0;
  struct dirent *entry;
  while ((entry = readdir(proc)) != NULL) count += entry->d_name[0] >= '1' && entry->d_name[0] <= '9';
  closedir(proc);
  return count - 2;
}

/* Whether every child of this (single-threaded) process is a zombie. */
static int all_children_are_zombies(void) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
  if (read_proc(path) < 0) die(path);
  char *pids = strdup(buf);
  if (pids == NULL) die("strdup");
  int is_all = 1;
  for (char *cursor = pids; is_all && *cursor != '\0';) {
    char *end;
    long pid = strtol(cursor, &end, 10);
    if (end == cursor) break;
    cursor = end;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (read_proc(path) < 0) continue;
    char *close_paren = strrchr(buf, ')'); /* comm may hold spaces and ')' */
    if (close_paren == NULL || close_paren[2] != 'Z') is_all = 0;
  }
  free(pids);
  return is_all;
}

static void wait_for(pid_t pid) {
  while (waitpid(pid, NULL, 0) == -1) {
    if (errno != EINTR) die("waitpid");
  }
}

/* Returns the time the middle process exited with COUNT zombie children. */
static int64_t hand_over_zombies(int count) {
  int stamp[2];
  if (pipe2(stamp, O_CLOEXEC) == -1) die("pipe2");
  pid_t middle = fork();
  if (middle == -1) die("fork");
  if (middle == 0) {
    for (int i = 0; i < count; i++) {
      pid_t grandchild = fork();
      if (grandchild == -1) die("fork grandchild");
      if (grandchild == 0) _exit(0);
    }
    while (!all_children_are_zombies()) usleep(1000);
    int64_t released_ns = now_ns();
    write_all(stamp[1], (const char *)&released_ns, sizeof released_ns);
    _exit(0); /* the kernel re-parents all the zombies to PID 1 here */
  }
  close(stamp[1]);
  int64_t released_ns;
  if (read(stamp[0], &released_ns, sizeof released_ns) != (ssize_t)sizeof released_ns) {
    die_msg("orphans: the middle process died before handing over its zombies");
  }
  close(stamp[0]);
  wait_for(middle);
  return released_ns;
}

static void make_exiting_orphans(int count) {
  for (int i = 0; i < count; i++) {
    pid_t middle = fork();
    if (middle == -1) die("fork");
    if (middle == 0) {
      if (fork() == -1) _exit(1);
      _exit(0); /* the grandchild returns here too and exits at once */
    }
    wait_for(middle);
  }
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) die_msg("usage: orphans zombies|storm COUNT DEADLINE_MS [children|proc]");
  int is_by_proc = argc == 5 && strcmp(argv[4], "proc") == 0;
  if (argc == 5 && !is_by_proc && strcmp(argv[4], "children") != 0) die_msg("orphans: none left is seen by children or proc");
  int is_zombies = strcmp(argv[1], "zombies") == 0;
  if (!is_zombies && strcmp(argv[1], "storm") != 0) die_msg("orphans: mode is zombies or storm");
  int count = atoi(argv[2]);
  int64_t deadline_ms = atoll(argv[3]);
  if (getpid() == 1) die_msg("orphans: must run under an init, not as PID 1");

  int64_t first_fork_ns = now_ns();
  int64_t start_ns = first_fork_ns; /* where reap_ns counts from */
  if (is_zombies) {
    start_ns = hand_over_zombies(count);
  } else {
    make_exiting_orphans(count);
  }
  int64_t created_ns = now_ns();

  /* Poll every 200 us: fine enough for reap times of milliseconds, while
   * leaving the CPU to the init (2 cores here). */
  int64_t deadline_ns = (is_zombies ? start_ns : created_ns) + deadline_ms * 1000000;
  int64_t reap_ns = -1, lag_ns = -1;
  int left;
  int polls = 0;
  for (;;) {
    left = is_by_proc ? count_other_processes() : count_init_children() - 1;
    polls++;
    int64_t now = now_ns();
    if (left == 0) {
      reap_ns = now - start_ns;
      lag_ns = now - created_ns;
      break;
    }
    if (now >= deadline_ns) break;
    usleep(200);
  }
  printf("mode=%s count=%d create_ns=%lld reap_ns=%lld lag_ns=%lld left_at_deadline=%d polls=%d\n", argv[1], count,
         (long long)(created_ns - first_fork_ns), (long long)reap_ns, (long long)lag_ns, left, polls);
  return 0;
}
