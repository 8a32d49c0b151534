// getpid_loop N: makes N raw getpid syscalls and prints
// "ns_per_call <value>" (the mean cost, from CLOCK_MONOTONIC). Used by
// bench/ to measure the syscall round trip of each platform.
#include <stdlib.h>
#include <time.h>

#include "guest.h"

static long long now_ns(void) {
  struct timespec ts;
  CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &ts));
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc != 2) GUEST_FAIL("usage: getpid_loop N");
  long n = atol(argv[1]);
  if (n <= 0) GUEST_FAIL("N must be positive, got %s", argv[1]);
  long pid = syscall(SYS_getpid);
  CHECK(pid > 0);
  long long start = now_ns();
  for (long i = 0; i < n; i++) {
    if (syscall(SYS_getpid) != pid) GUEST_FAIL("getpid changed");
  }
  long long elapsed = now_ns() - start;
  guest_dprintf(1, "ns_per_call %.1f\n", (double)elapsed / (double)n);
  return 0;
}
