// efault: passes wild pointers to syscalls; each must fail with EFAULT
// (not crash the guest or the Sentry). Prints "OK" and exits 0.
//
// Raw syscall() is used throughout so that neither the libc (vDSO,
// fortification, argument checks) nor the compiler can intervene.
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>

#include "guest.h"

// Bad user addresses: near NULL, unmapped user space, the kernel half and
// the non-canonical hole.
static const uintptr_t kBadAddrs[] = {
    1UL,
    8UL,
    0xdead0000UL,
    0xffff800000000000UL,
    0x0000800000000000UL,
    0xfffffffffffff000UL,
};
#define NUM_BAD (sizeof(kBadAddrs) / sizeof(kBadAddrs[0]))

int main(void) {
  for (size_t i = 0; i < NUM_BAD; i++) {
    void* bad = (void*)kBadAddrs[i];

    // Reads from guest memory.
    CHECK_ERRNO(syscall(SYS_write, 1, bad, 10), EFAULT);
    CHECK_ERRNO(syscall(SYS_write, 2, bad, 1), EFAULT);
    // writev: the iovec array itself is unreadable...
    CHECK_ERRNO(syscall(SYS_writev, 1, bad, 1), EFAULT);
    // ...or it is fine but points at a bad buffer.
    struct iovec iov[2] = {{.iov_base = bad, .iov_len = 5},
                           {.iov_base = bad, .iov_len = 5}};
    CHECK_ERRNO(syscall(SYS_writev, 1, iov, 2), EFAULT);
    CHECK_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, bad, NULL, 8), EFAULT);
    CHECK_ERRNO(syscall(SYS_rt_sigprocmask, SIG_BLOCK, bad, NULL, 8), EFAULT);
    CHECK_ERRNO(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, bad, NULL), EFAULT);

    // Writes to guest memory.
    CHECK_ERRNO(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, bad), EFAULT);
    CHECK_ERRNO(syscall(SYS_clock_gettime, CLOCK_REALTIME, bad), EFAULT);
    CHECK_ERRNO(syscall(SYS_uname, bad), EFAULT);
    CHECK_ERRNO(syscall(SYS_getrandom, bad, 16, 0), EFAULT);
    CHECK_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, NULL, bad, 8), EFAULT);
    CHECK_ERRNO(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, bad, 8), EFAULT);
    CHECK_ERRNO(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, bad), EFAULT);
    CHECK_ERRNO(syscall(SYS_fstat, 1, bad), EFAULT);
  }
  // The guest is intact: a normal write still works.
  guest_dprintf(1, "OK\n");
  return 0;
}
