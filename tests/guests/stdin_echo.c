// stdin_echo: copies stdin to stdout with raw read/write until EOF, then
// prints "bytes=N checksum=C" (C: a simple rolling hash of the data).
#include "guest.h"

int main(void) {
  static char buf[65536];
  unsigned long long total = 0;
  unsigned int hash = 2166136261u;
  for (;;) {
    long n = syscall(SYS_read, 0, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    CHECK(n >= 0);
    if (n == 0) break;
    for (long i = 0; i < n; i++)
      hash = (hash ^ (unsigned char)buf[i]) * 16777619u;
    if (guest_write_all(1, buf, (size_t)n) != 0) GUEST_FAIL("write to stdout");
    total += (unsigned long long)n;
  }
  guest_dprintf(1, "bytes=%llu checksum=%08x\n", total, hash);
  return 0;
}
