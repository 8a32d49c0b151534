// spin: writes "ready\n" to stdout, then busy-waits (clock_gettime only) for
// up to 20 seconds and exits 3. The test sends SIGINT or SIGTERM once it sees
// "ready"; the default action must kill the guest (natively the shell would
// report 130 or 143).
#include <time.h>

#include "guest.h"

int main(void) {
  struct timespec start, now;
  CHECK_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &start));
  static const char kReady[] = "ready\n";
  guest_write_all(1, kReady, sizeof(kReady) - 1);
  do {
    CHECK_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now));
  } while (now.tv_sec - start.tv_sec < 20);
  guest_dprintf(2, "spin: no signal arrived within 20 s\n");
  return 3;
}
