// AF_UNIX workloads for bench/socket.sh, run the same way natively, under
// the Sentry and under runsc:
//   pingpong N     two processes bounce one byte over a SOCK_STREAM
//                  socketpair, N round trips; prints ns per round trip
//   stream MiB     one process writes MiB mebibytes in 64 KiB writes to
//                  another over a SOCK_STREAM socketpair; prints MiB/s
//   dgram N        N 1 KiB datagrams over a SOCK_DGRAM socketpair to a
//                  reader process; prints datagrams per second
//   connect N      N connect+accept+close pairs on a listening socket
//                  bound in the abstract namespace; prints us per pair
// Each prints "<mode> <value>". Exits 1 on any failure.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char* what) {
  perror(what);
  return 1;
}

static int wait_child(pid_t pid) {
  int status;
  if (waitpid(pid, &status, 0) != pid) return fail("waitpid");
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static int pingpong(long n) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return fail("socketpair");
  pid_t pid = fork();
  if (pid < 0) return fail("fork");
  char c = 'x';
  if (pid == 0) {
    for (long i = 0; i < n; i++) {
      if (read(sv[1], &c, 1) != 1 || write(sv[1], &c, 1) != 1) _exit(1);
    }
    _exit(0);
  }
  double start = now();
  for (long i = 0; i < n; i++) {
    if (write(sv[0], &c, 1) != 1 || read(sv[0], &c, 1) != 1)
      return fail("pingpong");
  }
  double elapsed = now() - start;
  if (wait_child(pid)) return 1;
  printf("pingpong_ns %.0f\n", elapsed * 1e9 / n);
  return 0;
}

static int stream(long mib) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return fail("socketpair");
  static char buf[65536];
  pid_t pid = fork();
  if (pid < 0) return fail("fork");
  if (pid == 0) {
    close(sv[0]);
    long left = mib << 20;
    while (left > 0) {
      ssize_t n = read(sv[1], buf, sizeof(buf));
      if (n <= 0) _exit(1);
      left -= n;
    }
    _exit(0);
  }
  close(sv[1]);
  double start = now();
  for (long i = 0; i < mib * 16; i++) {
    size_t done = 0;
    while (done < sizeof(buf)) {
      ssize_t n = write(sv[0], buf + done, sizeof(buf) - done);
      if (n <= 0) return fail("write");
      done += (size_t)n;
    }
  }
  if (wait_child(pid)) return 1;
  printf("stream_mib_s %.0f\n", mib / (now() - start));
  return 0;
}

static int dgram(long n) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0) return fail("socketpair");
  char buf[1024] = {0};
  pid_t pid = fork();
  if (pid < 0) return fail("fork");
  if (pid == 0) {
    for (long i = 0; i < n; i++) {
      if (recv(sv[1], buf, sizeof(buf), 0) != sizeof(buf)) _exit(1);
    }
    _exit(0);
  }
  double start = now();
  for (long i = 0; i < n; i++) {
    if (send(sv[0], buf, sizeof(buf), 0) != sizeof(buf)) return fail("send");
  }
  if (wait_child(pid)) return 1;
  printf("dgram_per_s %.0f\n", n / (now() - start));
  return 0;
}

static int connect_accept(long n) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "socket_bench.%d",
           getpid());
  socklen_t len = sizeof(sa_family_t) + 1 + strlen(addr.sun_path + 1);
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  if (l < 0 || bind(l, (struct sockaddr*)&addr, len) != 0 ||
      listen(l, 128) != 0)
    return fail("listen");
  double start = now();
  for (long i = 0; i < n; i++) {
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr*)&addr, len) != 0)
      return fail("connect");
    int s = accept(l, NULL, NULL);
    if (s < 0) return fail("accept");
    close(s);
    close(c);
  }
  printf("connect_us %.2f\n", (now() - start) * 1e6 / n);
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s pingpong|stream|dgram|connect N\n", argv[0]);
    return 2;
  }
  long n = atol(argv[2]);
  if (!strcmp(argv[1], "pingpong")) return pingpong(n);
  if (!strcmp(argv[1], "stream")) return stream(n);
  if (!strcmp(argv[1], "dgram")) return dgram(n);
  if (!strcmp(argv[1], "connect")) return connect_accept(n);
  fprintf(stderr, "unknown mode %s\n", argv[1]);
  return 2;
}
