// Process workloads for bench/proc.sh, run the same way natively, under
// the Sentry and under runsc:
//   fork_wait N        fork + child _exit + wait4, N times
//   fork_100m N        the same with 100 MiB of touched memory
//   exec_true N PATH   fork + execve(PATH) + wait4, N times
//   clock_gettime N    clock_gettime(CLOCK_MONOTONIC), N times
// Each prints "<mode>_us <microseconds per iteration>" (ns for
// clock_gettime).
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fork_wait(long n) {
  for (long i = 0; i < n; i++) {
    pid_t p = fork();
    if (p < 0) return perror("fork"), 1;
    if (p == 0) _exit(0);
    int st;
    if (waitpid(p, &st, 0) != p) return perror("waitpid"), 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: proc_bench MODE N [PATH]\n");
    return 2;
  }
  const char* mode = argv[1];
  long n = atol(argv[2]);
  double t = now();
  if (strcmp(mode, "fork_wait") == 0) {
    if (fork_wait(n)) return 1;
  } else if (strcmp(mode, "fork_100m") == 0) {
    size_t size = 100 << 20;
    char* p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return perror("mmap"), 1;
    memset(p, 1, size);
    t = now();
    if (fork_wait(n)) return 1;
  } else if (strcmp(mode, "exec_true") == 0) {
    if (argc < 4) return 2;
    for (long i = 0; i < n; i++) {
      pid_t p = fork();
      if (p < 0) return perror("fork"), 1;
      if (p == 0) {
        execl(argv[3], argv[3], (char*)NULL);
        _exit(127);
      }
      int st;
      if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        return fprintf(stderr, "exec failed\n"), 1;
      }
    }
  } else if (strcmp(mode, "clock_gettime") == 0) {
    struct timespec ts;
    for (long i = 0; i < n; i++) clock_gettime(CLOCK_MONOTONIC, &ts);
    printf("%s_ns %.0f\n", mode, (now() - t) / n * 1e9);
    return 0;
  } else {
    return 2;
  }
  printf("%s_us %.0f\n", mode, (now() - t) / n * 1e6);
  return 0;
}
