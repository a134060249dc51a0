/*
 * Scenario 12's client, both kinds of probe one after another:
 *   probebench http PORT PATH N [INTERVAL_US]
 *                                 N httpGet probes as the kubelet asks them (a
 *                                 new connection each, no keep-alive), one
 *                                 starting every INTERVAL_US (0: back to back):
 *                                 one line "LATENCY_NS STATUS" per probe,
 *                                 connect to EOF.
 *   probebench exec N CMD ARGS    N exec probes: CMD run and waited for, one
 *                                 line "WALL_NS CPU_NS MAXRSS_KB EXIT" each
 *                                 (user + system time and peak RSS from wait4).
 * The server's own CPU time is read by the caller from its /proc/PID/schedstat.
 */
#include "bench-util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

/* What kube-probe sends (its Go client: Host, User-Agent, Accept, Connection: close). */
static int probe_once(int port, const char *path) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1) die("socket");
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&to, sizeof to) == -1) die("connect");
  char request[256];
  int len = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: kube-probe/1.31\r\n"
                     "Accept: */*\r\nConnection: close\r\n\r\n",
                     path, port);
  write_all(fd, request, (size_t)len);
  char response[1024];
  size_t got = 0;
  for (;;) {
    ssize_t n = read(fd, response + got, sizeof response - 1 - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("read");
    }
    if (n == 0 || got + (size_t)n == sizeof response - 1) break;
    got += (size_t)n;
  }
  close(fd);
  response[got] = '\0';
  int status = 0;
  if (sscanf(response, "HTTP/1.%*d %d", &status) != 1) die_msg("probebench: not an HTTP answer");
  return status;
}

static void http_probes(int port, const char *path, long count, long interval_us) {
  int64_t next = now_ns();
  for (long i = 0; i < count; i++) {
    int64_t wait = next - now_ns();
    if (wait > 0) usleep((useconds_t)(wait / 1000));
    next += (int64_t)interval_us * 1000;
    int64_t start = now_ns();
    int status = probe_once(port, path);
    printf("%lld %d\n", (long long)(now_ns() - start), status);
  }
}

static void exec_probes(long count, char **argv) {
  for (long i = 0; i < count; i++) {
    int64_t start = now_ns();
    pid_t pid = fork();
    if (pid == -1) die("fork");
    if (pid == 0) {
      int devnull = open("/dev/null", O_RDWR);
      if (devnull == -1 || dup2(devnull, 0) == -1 || dup2(devnull, 1) == -1) die("child stdio");
      execvp(argv[0], argv);
      perror(argv[0]);
      _exit(127);
    }
    int status;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) != pid) die("wait4");
    int64_t wall = now_ns() - start;
    int64_t cpu = ((int64_t)usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000000LL +
                  ((int64_t)usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000LL;
    printf("%lld %lld %ld %d\n", (long long)wall, (long long)cpu, usage.ru_maxrss,
           WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
}

int main(int argc, char **argv) {
  if (argc >= 5 && strcmp(argv[1], "http") == 0) {
    http_probes(atoi(argv[2]), argv[3], atol(argv[4]), argc >= 6 ? atol(argv[5]) : 0);
  } else if (argc >= 4 && strcmp(argv[1], "exec") == 0) {
    exec_probes(atol(argv[2]), argv + 3);
  } else {
    die_msg("usage: probebench http PORT PATH N [INTERVAL_US] | probebench exec N CMD ARGS...");
  }
  return 0;
}
