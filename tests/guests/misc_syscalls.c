// misc_syscalls: checks the small syscalls of the Sentry's first step
// (identity, uname, clocks, getrandom, prlimit64, rt_sigaction,
// rt_sigprocmask, set_tid_address, arch_prctl, ioctl and fstat on stdio).
// Values that legitimately differ between runs or kernels (pids, times,
// limits, the kernel release) are checked but not printed; what is printed
// must match a native run exactly. Ends with "OK", exits 0.
//
// Expects stdin, stdout and stderr to be pipes (as the integration test
// arranges); it prints the file type it sees for each.
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>

#include "guest.h"

// From <asm/prctl.h>, which musl-gcc cannot see.
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

// The kernel's struct sigaction for x86-64 rt_sigaction.
struct kernel_sigaction {
  void* handler;
  unsigned long flags;
  void* restorer;
  uint64_t mask;
};
#define KSA_RESTORER 0x04000000UL

static void handler(int sig) { (void)sig; }
static void restorer(void) {}

static void test_ids(void) {
  long pid = syscall(SYS_getpid);
  long tid = syscall(SYS_gettid);
  long ppid = syscall(SYS_getppid);
  CHECK(pid > 0);
  CHECK(tid > 0);
  CHECK(ppid >= 0);
  CHECK(pid == tid);
  CHECK(getpid() == pid);
  CHECK(getppid() == ppid);
  // set_tid_address returns the caller's tid.
  static int ctid;
  CHECK(syscall(SYS_set_tid_address, &ctid) == tid);
}

static void test_uname(void) {
  struct utsname u;
  CHECK_OK(syscall(SYS_uname, &u));
  CHECK(strcmp(u.sysname, "Linux") == 0);
  CHECK(strcmp(u.machine, "x86_64") == 0);
  CHECK(u.release[0] >= '1' && u.release[0] <= '9');
  CHECK(strlen(u.version) > 0);
  CHECK(strlen(u.nodename) < sizeof(u.nodename));
  struct utsname u2;
  CHECK_OK(uname(&u2));
  CHECK(memcmp(&u, &u2, sizeof(u)) == 0);
  printf("uname: sysname=%s machine=%s\n", u.sysname, u.machine);
}

static long long ts_ns(const struct timespec* ts) {
  return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static void test_clocks(void) {
  struct timespec rt, mono, prev, raw;
  CHECK_OK(syscall(SYS_clock_gettime, CLOCK_REALTIME, &rt));
  CHECK(rt.tv_sec > 1577836800);  // after 2020-01-01
  CHECK(rt.tv_nsec >= 0 && rt.tv_nsec < 1000000000L);
  // The libc path (vDSO natively) agrees with the raw syscall.
  struct timespec libc_rt;
  CHECK_OK(clock_gettime(CLOCK_REALTIME, &libc_rt));
  long long diff = ts_ns(&libc_rt) - ts_ns(&rt);
  if (diff < -1000000000LL || diff > 5000000000LL) {
    GUEST_FAIL("realtime: raw %lld libc %lld", ts_ns(&rt), ts_ns(&libc_rt));
  }

  CHECK_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &prev));
  CHECK(prev.tv_nsec >= 0 && prev.tv_nsec < 1000000000L);
  for (int i = 0; i < 1000; i++) {
    if (i % 2 == 0) {
      CHECK_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &mono));
    } else {
      CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &mono));
    }
    CHECK(mono.tv_nsec >= 0 && mono.tv_nsec < 1000000000L);
    if (ts_ns(&mono) < ts_ns(&prev)) {
      GUEST_FAIL("CLOCK_MONOTONIC went back: %lld then %lld", ts_ns(&prev),
                 ts_ns(&mono));
    }
    prev = mono;
  }
  CHECK_ERRNO(syscall(SYS_clock_gettime, 12345, &raw), EINVAL);
  printf("clocks: ok\n");
}

static int all_zero(const unsigned char* b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (b[i] != 0) return 0;
  }
  return 1;
}

static void test_getrandom(void) {
  unsigned char a[64] = {0}, b[64] = {0};
  CHECK(syscall(SYS_getrandom, a, sizeof(a), 0) == (long)sizeof(a));
  CHECK(syscall(SYS_getrandom, b, sizeof(b), 1 /* GRND_NONBLOCK */) ==
        (long)sizeof(b));
  CHECK(!all_zero(a, sizeof(a)));
  CHECK(!all_zero(b, sizeof(b)));
  CHECK(memcmp(a, b, sizeof(a)) != 0);
  CHECK(syscall(SYS_getrandom, a, 0, 0) == 0);
  CHECK_ERRNO(syscall(SYS_getrandom, a, sizeof(a), 0x100), EINVAL);
  printf("getrandom: ok\n");
}

static void test_prlimit(void) {
  struct rlimit stack, nofile, again;
  CHECK_OK(syscall(SYS_prlimit64, 0, RLIMIT_STACK, NULL, &stack));
  CHECK(stack.rlim_cur > 0);
  CHECK(stack.rlim_max == RLIM_INFINITY || stack.rlim_cur <= stack.rlim_max);
  CHECK_OK(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &nofile));
  CHECK(nofile.rlim_cur > 2);
  CHECK(nofile.rlim_cur <= nofile.rlim_max);
  CHECK_OK(getrlimit(RLIMIT_NOFILE, &again));
  CHECK(again.rlim_cur == nofile.rlim_cur && again.rlim_max == nofile.rlim_max);
  // Only reading limits is in scope here (first step of the Sentry).
  CHECK_ERRNO(syscall(SYS_prlimit64, 0, 1000, NULL, &again), EINVAL);
  printf("prlimit64: ok\n");
}

static void test_sigaction(void) {
  // Raw rt_sigaction: install a handler, read it back.
  struct kernel_sigaction act = {(void*)handler, SA_RESTART | KSA_RESTORER,
                                 (void*)restorer, 1UL << (SIGUSR2 - 1)};
  struct kernel_sigaction old;
  memset(&old, 0xff, sizeof(old));
  CHECK_OK(syscall(SYS_rt_sigaction, SIGUSR1, &act, &old, 8));
  CHECK(old.handler == SIG_DFL);
  struct kernel_sigaction got;
  memset(&got, 0, sizeof(got));
  CHECK_OK(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &got, 8));
  CHECK(got.handler == (void*)handler);
  CHECK(got.restorer == (void*)restorer);
  CHECK(got.flags == act.flags);
  CHECK(got.mask == act.mask);

  // SIG_IGN round trip through the libc wrapper.
  struct sigaction ign = {0}, prev = {0};
  ign.sa_handler = SIG_IGN;
  CHECK_OK(sigaction(SIGUSR2, &ign, NULL));
  CHECK_OK(sigaction(SIGUSR2, NULL, &prev));
  CHECK(prev.sa_handler == SIG_IGN);
  // Back to the default.
  struct sigaction dfl = {0};
  dfl.sa_handler = SIG_DFL;
  CHECK_OK(sigaction(SIGUSR2, &dfl, NULL));
  CHECK_OK(sigaction(SIGUSR2, NULL, &prev));
  CHECK(prev.sa_handler == SIG_DFL);

  // SIGKILL and SIGSTOP cannot be caught; bad numbers and sizes fail.
  CHECK_ERRNO(syscall(SYS_rt_sigaction, SIGKILL, &act, NULL, 8), EINVAL);
  CHECK_ERRNO(syscall(SYS_rt_sigaction, SIGSTOP, &act, NULL, 8), EINVAL);
  CHECK_ERRNO(syscall(SYS_rt_sigaction, 0, NULL, &got, 8), EINVAL);
  CHECK_ERRNO(syscall(SYS_rt_sigaction, 65, NULL, &got, 8), EINVAL);
  CHECK_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &got, 4), EINVAL);
  // Reading SIGKILL's action is allowed.
  CHECK_OK(syscall(SYS_rt_sigaction, SIGKILL, NULL, &got, 8));
  CHECK(got.handler == SIG_DFL);

  // Restore SIGUSR1.
  struct kernel_sigaction def = {SIG_DFL, 0, NULL, 0};
  CHECK_OK(syscall(SYS_rt_sigaction, SIGUSR1, &def, NULL, 8));
  printf("rt_sigaction: ok\n");
}

static void test_sigprocmask(void) {
  uint64_t orig;
  CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &orig, 8));
  uint64_t usr1 = 1UL << (SIGUSR1 - 1), usr2 = 1UL << (SIGUSR2 - 1);
  uint64_t got, old;
  CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &usr1, &old, 8));
  CHECK(old == orig);
  CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &got, 8));
  CHECK(got == (orig | usr1));
  CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &usr2, NULL, 8));
  CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &usr1, &old, 8));
  CHECK(old == (orig | usr1 | usr2));
  CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, NULL, &got, 8));
  CHECK(got == ((orig | usr2) & ~usr1));
  // SIGKILL and SIGSTOP are silently left unblocked.
  uint64_t all = ~0UL;
  CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8));
  CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &orig, &got, 8));
  CHECK(got == (all & ~((1UL << (SIGKILL - 1)) | (1UL << (SIGSTOP - 1)))));
  CHECK_ERRNO(syscall(SYS_rt_sigprocmask, 99, &usr1, NULL, 8), EINVAL);
  CHECK_ERRNO(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &usr1, NULL, 4), EINVAL);
  // The libc wrapper sees the same mask.
  sigset_t set;
  CHECK_OK(sigprocmask(SIG_BLOCK, NULL, &set));
  CHECK(!sigismember(&set, SIGUSR1));
  CHECK(sigismember(&set, SIGUSR2) == ((orig & usr2) != 0));
  printf("rt_sigprocmask: ok\n");
}

static void test_arch_prctl(void) {
  unsigned long fs = 0;
  CHECK_OK(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
  // On x86-64 both glibc and musl keep a self-pointer at %fs:0.
  unsigned long self;
  __asm__ volatile("mov %%fs:0, %0" : "=r"(self));
  CHECK(fs != 0 && fs == self);
  CHECK(fs == (unsigned long)__builtin_thread_pointer());
  // Setting it to the same value is harmless.
  CHECK_OK(syscall(SYS_arch_prctl, ARCH_SET_FS, fs));
  unsigned long again = 0;
  CHECK_OK(syscall(SYS_arch_prctl, ARCH_GET_FS, &again));
  CHECK(again == fs);
  CHECK_ERRNO(syscall(SYS_arch_prctl, 0x9999, 0), EINVAL);
  printf("arch_prctl: ok\n");
}

static const char* file_type(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFIFO:
      return "fifo";
    case S_IFCHR:
      return "chr";
    case S_IFREG:
      return "reg";
    case S_IFSOCK:
      return "sock";
    case S_IFDIR:
      return "dir";
    default:
      return "other";
  }
}

static const char* errno_name(int e) {
  switch (e) {
    case 0:
      return "0";
    case ENOTTY:
      return "ENOTTY";
    case EBADF:
      return "EBADF";
    case EINVAL:
      return "EINVAL";
    default:
      return "other";
  }
}

static void test_stdio_fds(void) {
  for (int fd = 0; fd <= 2; fd++) {
    struct stat st, st2;
    CHECK_OK(syscall(SYS_fstat, fd, &st));
    CHECK_OK(syscall(SYS_newfstatat, fd, "", &st2, AT_EMPTY_PATH));
    CHECK(st.st_mode == st2.st_mode);
    CHECK(st.st_ino == st2.st_ino);
    CHECK(st.st_dev == st2.st_dev);
    struct stat st3;
    CHECK_OK(fstat(fd, &st3));
    CHECK(st3.st_mode == st.st_mode);
    printf("fstat(%d): %s\n", fd, file_type(st.st_mode));

    struct termios t;
    errno = 0;
    long r = syscall(SYS_ioctl, fd, TCGETS, &t);
    int tcgets_errno = r == 0 ? 0 : errno;
    CHECK(r == 0 || tcgets_errno == ENOTTY);
    struct winsize ws;
    errno = 0;
    r = syscall(SYS_ioctl, fd, TIOCGWINSZ, &ws);
    int winsz_errno = r == 0 ? 0 : errno;
    CHECK(r == 0 || winsz_errno == ENOTTY);
    CHECK((tcgets_errno == 0) == (winsz_errno == 0));
    CHECK((tcgets_errno == 0) == (isatty(fd) == 1));
    printf("ioctl(%d): TCGETS=%s TIOCGWINSZ=%s\n", fd, errno_name(tcgets_errno),
           errno_name(winsz_errno));
  }
  struct stat st;
  CHECK_ERRNO(syscall(SYS_fstat, 100, &st), EBADF);
  CHECK_ERRNO(syscall(SYS_fstat, -1, &st), EBADF);
  CHECK_ERRNO(syscall(SYS_ioctl, 100, TCGETS, &st), EBADF);
  CHECK_ERRNO(syscall(SYS_write, 100, "x", 1), EBADF);
  CHECK_ERRNO(syscall(SYS_read, 100, &st, 1), EBADF);
}

int main(void) {
  test_ids();
  test_uname();
  test_clocks();
  test_getrandom();
  test_prlimit();
  test_sigaction();
  test_sigprocmask();
  test_arch_prctl();
  test_stdio_fds();
  printf("OK\n");
  return 0;
}
