// File-system workloads for bench/fs.sh, run the same way natively, under
// the Sentry and under runsc: stat, open+read+close of a small file, and
// 64 KiB sequential write then read throughput of a file in DIR.
//
//   fs_bench DIR [ITERATIONS] [MIB]
// prints "stat_ns N", "open_read_close_ns N", "write_mib_s N", "read_mib_s N".
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: fs_bench DIR [ITERATIONS] [MIB]\n");
    return 2;
  }
  const char* dir = argv[1];
  long n = argc > 2 ? atol(argv[2]) : 20000;
  long mib = argc > 3 ? atol(argv[3]) : 256;
  char small[4096], big[4096];
  snprintf(small, sizeof(small), "%s/fs_bench_small", dir);
  snprintf(big, sizeof(big), "%s/fs_bench_big", dir);

  int fd = open(small, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0 || write(fd, "0123456789abcdef", 16) != 16) return perror(small), 1;
  close(fd);

  struct stat st;
  double t = now();
  for (long i = 0; i < n; i++) {
    if (stat(small, &st) != 0) return perror("stat"), 1;
  }
  printf("stat_ns %.0f\n", (now() - t) / n * 1e9);

  char buf[64];
  t = now();
  for (long i = 0; i < n; i++) {
    int f = open(small, O_RDONLY);
    if (f < 0 || read(f, buf, sizeof(buf)) != 16) return perror("open+read"), 1;
    close(f);
  }
  printf("open_read_close_ns %.0f\n", (now() - t) / n * 1e9);

  static char chunk[64 << 10];
  memset(chunk, 'x', sizeof(chunk));
  long chunks = mib * 16;
  fd = open(big, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0) return perror(big), 1;
  t = now();
  for (long i = 0; i < chunks; i++) {
    if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk)) {
      return perror("write"), 1;
    }
  }
  close(fd);
  printf("write_mib_s %.0f\n", mib / (now() - t));

  fd = open(big, O_RDONLY);
  if (fd < 0) return perror(big), 1;
  t = now();
  ssize_t r;
  while ((r = read(fd, chunk, sizeof(chunk))) > 0) {
  }
  if (r < 0) return perror("read"), 1;
  close(fd);
  printf("read_mib_s %.0f\n", mib / (now() - t));
  unlink(big);
  unlink(small);
  return 0;
}
