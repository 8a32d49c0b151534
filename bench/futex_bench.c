// Futex and thread workloads for bench/futex.sh, run the same way natively,
// under the Sentry and under runsc:
//   thread_pingpong N    two threads hand a turn back and forth through one
//                        futex word (FUTEX_WAIT/FUTEX_WAKE, private), N
//                        round trips
//   process_pingpong N   the same between two processes sharing the word
//                        through a MAP_SHARED mapping (shared futex ops)
//   thread_create N      pthread_create + pthread_join, N times
// Each prints "<mode>_ns <nanoseconds per round trip>" (microseconds,
// "<mode>_us", for thread_create). Exits 1 on any failure.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long futex(uint32_t* uaddr, int op, uint32_t val) {
  return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

// The turn counter: even means the first side's turn, odd the second's.
// Side `side` (0 or 1) plays rounds [from, to): it waits for its parity,
// then bumps the counter and wakes the other side.
static int play(uint32_t* turn, int side, long from, long to, int private_ops) {
  int wait_op = private_ops ? FUTEX_WAIT_PRIVATE : FUTEX_WAIT;
  int wake_op = private_ops ? FUTEX_WAKE_PRIVATE : FUTEX_WAKE;
  for (long i = from; i < to; i++) {
    uint32_t mine = (uint32_t)(2 * i + side);
    uint32_t v;
    while ((v = __atomic_load_n(turn, __ATOMIC_ACQUIRE)) != mine) {
      if (futex(turn, wait_op, v) < 0 && errno != EAGAIN && errno != EINTR) {
        perror("futex wait");
        return 1;
      }
    }
    __atomic_store_n(turn, mine + 1, __ATOMIC_RELEASE);
    if (futex(turn, wake_op, 1) < 0) {
      perror("futex wake");
      return 1;
    }
  }
  return 0;
}

struct peer {
  uint32_t* turn;
  long n;
  int rc;
};

static void* peer_main(void* arg) {
  struct peer* p = arg;
  p->rc = play(p->turn, 1, 0, p->n + 1, 1);
  return NULL;
}

static void* empty_thread(void* arg) { return arg; }

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: futex_bench MODE N\n");
    return 2;
  }
  const char* mode = argv[1];
  long n = atol(argv[2]);
  if (n <= 0) return 2;
  double t;
  if (strcmp(mode, "thread_pingpong") == 0) {
    static uint32_t turn;
    struct peer p = {&turn, n, 0};
    pthread_t th;
    if (pthread_create(&th, NULL, peer_main, &p) != 0) {
      fprintf(stderr, "pthread_create failed\n");
      return 1;
    }
    // Round 0 only proves both sides are running: not timed.
    if (play(&turn, 0, 0, 1, 1)) return 1;
    t = now();
    int rc = play(&turn, 0, 1, n + 1, 1);
    pthread_join(th, NULL);
    if (rc || p.rc) return 1;
  } else if (strcmp(mode, "process_pingpong") == 0) {
    uint32_t* turn = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (turn == MAP_FAILED) return perror("mmap"), 1;
    pid_t pid = fork();
    if (pid < 0) return perror("fork"), 1;
    if (pid == 0) _exit(play(turn, 1, 0, n + 1, 0));
    if (play(turn, 0, 0, 1, 0)) return 1;  // untimed, as above
    t = now();
    int rc = play(turn, 0, 1, n + 1, 0);
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      return fprintf(stderr, "peer process failed\n"), 1;
    }
    if (rc) return 1;
  } else if (strcmp(mode, "thread_create") == 0) {
    t = now();
    for (long i = 0; i < n; i++) {
      pthread_t th;
      if (pthread_create(&th, NULL, empty_thread, NULL) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
      }
      pthread_join(th, NULL);
    }
    printf("%s_us %.1f\n", mode, (now() - t) / n * 1e6);
    return 0;
  } else {
    return 2;
  }
  printf("%s_ns %.0f\n", mode, (now() - t) / n * 1e9);
  return 0;
}
