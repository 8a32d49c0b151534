// enosys: syscalls that do not exist must fail with ENOSYS, and the guest
// must keep running. Number 1000 is called twice so that the test can check
// the Sentry logs an unimplemented syscall only once. Prints "OK", exits 0.
#include "guest.h"

int main(void) {
  CHECK_ERRNO(syscall(1000), ENOSYS);
  CHECK_ERRNO(syscall(1000, 1, 2, 3, 4, 5, 6), ENOSYS);
  // Far out of range, including numbers with high bits set.
  CHECK_ERRNO(syscall(100000), ENOSYS);
  CHECK_ERRNO(syscall(0x7fffffffL), ENOSYS);
  // -1 is special to ptrace (orig_rax == -1 means "no syscall"); Linux
  // itself just returns ENOSYS.
  CHECK_ERRNO(syscall(-1L), ENOSYS);
  // Slots in the x86-64 table that Linux never implemented.
  CHECK_ERRNO(syscall(SYS_tuxcall), ENOSYS);
  CHECK_ERRNO(syscall(SYS_afs_syscall), ENOSYS);
  CHECK_ERRNO(syscall(SYS_tuxcall), ENOSYS);
  // Still alive and able to make real syscalls.
  CHECK(syscall(SYS_getpid) > 0);
  guest_dprintf(1, "OK\n");
  return 0;
}
