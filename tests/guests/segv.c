// segv: announces itself on stdout with a raw write, then stores through a
// NULL pointer and must die by SIGSEGV (a shell reports 139).
#include "guest.h"

int main(void) {
  static const char kMsg[] = "about to write through NULL\n";
  guest_write_all(1, kMsg, sizeof(kMsg) - 1);
  // Both volatiles matter: the compiler must not see that p is NULL (at -O2
  // GCC would turn the store into a trap instruction, i.e. SIGILL), nor drop
  // the store as dead because only _exit() follows it.
  volatile int* volatile p = NULL;
  *p = 42;
  GUEST_FAIL("still alive after writing through NULL");
}
