// POSIX timers (timer_create(2), timer_settime(2), timer_gettime(2),
// timer_getoverrun(2), timer_delete(2)), through the raw syscalls so the
// kernel's IDs and sigevent rules are what is tested (glibc's SIGEV_THREAD
// emulation is its own).
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>

#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

// The kernel's struct sigevent.
struct KernelSigevent {
  sigval_t value;
  int32_t signo;
  int32_t notify;
  int32_t tid;
  int32_t pad[11];
};

constexpr int kSigevThreadId = 4;

long TimerCreate(clockid_t clock, KernelSigevent* sev, int* id) {
  return syscall(SYS_timer_create, clock, sev, id);
}
long TimerSettime(int id, int flags, const struct itimerspec* v,
                  struct itimerspec* old) {
  return syscall(SYS_timer_settime, id, flags, v, old);
}
long TimerGettime(int id, struct itimerspec* v) {
  return syscall(SYS_timer_gettime, id, v);
}
long TimerDelete(int id) { return syscall(SYS_timer_delete, id); }

struct itimerspec Spec(long value_ns, long interval_ns) {
  struct itimerspec v {};
  v.it_value = {value_ns / 1000000000, value_ns % 1000000000};
  v.it_interval = {interval_ns / 1000000000, interval_ns % 1000000000};
  return v;
}

// Blocks `sig` for the scope (so expiries can be taken with sigtimedwait),
// and drops any left pending at the end.
class BlockedSignal {
 public:
  explicit BlockedSignal(int sig) : sig_(sig) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_BLOCK, &set, &old_);
  }
  ~BlockedSignal() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig_);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set, nullptr, &zero) > 0) {
    }
    sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  // Waits up to `ms` for the signal; its siginfo, or si_signo 0.
  siginfo_t Wait(int ms = 2000) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig_);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    siginfo_t info{};
    if (sigtimedwait(&set, &info, &ts) < 0) info.si_signo = 0;
    return info;
  }

 private:
  int sig_;
  sigset_t old_;
};

TEST(TimerTest, DefaultSigeventIsSigalrmCarryingTheId) {
  BlockedSignal blocked(SIGALRM);
  int id = -1;
  ASSERT_THAT(TimerCreate(CLOCK_MONOTONIC, nullptr, &id), SyscallSucceeds());
  struct itimerspec v = Spec(5000000, 0);
  ASSERT_THAT(TimerSettime(id, 0, &v, nullptr), SyscallSucceeds());
  siginfo_t info = blocked.Wait();
  EXPECT_EQ(info.si_signo, SIGALRM);
  EXPECT_EQ(info.si_code, SI_TIMER);
  EXPECT_EQ(info.si_value.sival_int, id);
  EXPECT_THAT(TimerDelete(id), SyscallSucceeds());
}

TEST(TimerTest, SigevSignalCarriesTheValue) {
  BlockedSignal blocked(SIGUSR1);
  KernelSigevent sev{};
  sev.notify = SIGEV_SIGNAL;
  sev.signo = SIGUSR1;
  sev.value.sival_int = 4242;
  int id = -1;
  ASSERT_THAT(TimerCreate(CLOCK_REALTIME, &sev, &id), SyscallSucceeds());
  struct itimerspec v = Spec(2000000, 0);
  ASSERT_THAT(TimerSettime(id, 0, &v, nullptr), SyscallSucceeds());
  siginfo_t info = blocked.Wait();
  EXPECT_EQ(info.si_signo, SIGUSR1);
  EXPECT_EQ(info.si_code, SI_TIMER);
  EXPECT_EQ(info.si_value.sival_int, 4242);
  EXPECT_THAT(TimerDelete(id), SyscallSucceeds());
}

TEST(TimerTest, PeriodicTimerKeepsFiring) {
  BlockedSignal blocked(SIGUSR2);
  KernelSigevent sev{};
  sev.notify = SIGEV_SIGNAL;
  sev.signo = SIGUSR2;
  int id = -1;
  ASSERT_THAT(TimerCreate(CLOCK_MONOTONIC, &sev, &id), SyscallSucceeds());
  struct itimerspec v = Spec(3000000, 3000000);
  ASSERT_THAT(TimerSettime(id, 0, &v, nullptr), SyscallSucceeds());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(blocked.Wait().si_signo, SIGUSR2) << "expiry " << i;
  }
  struct itimerspec cur;
  ASSERT_THAT(TimerGettime(id, &cur), SyscallSucceeds());
  EXPECT_EQ(cur.it_interval.tv_nsec, 3000000);
  EXPECT_THAT(TimerDelete(id), SyscallSucceeds());
}

TEST(TimerTest, SigevNoneCountsDownWithoutSignal) {
  KernelSigevent sev{};
  sev.notify = SIGEV_NONE;
  int id = -1;
  ASSERT_THAT(TimerCreate(CLOCK_MONOTONIC, &sev, &id), SyscallSucceeds());
  struct itimerspec v = Spec(2000000000L, 0);
  ASSERT_THAT(TimerSettime(id, 0, &v, nullptr), SyscallSucceeds());
  usleep(20000);
  struct itimerspec cur;
  ASSERT_THAT(TimerGettime(id, &cur), SyscallSucceeds());
  long left = cur.it_value.tv_sec * 1000000000L + cur.it_value.tv_nsec;
  EXPECT_GT(left, 0);
  EXPECT_LT(left, 2000000000L - 10000000L);
  EXPECT_THAT(TimerDelete(id), SyscallSucceeds());
}

TEST(TimerTest, SettimeReturnsTheOldSettingAndZeroDisarms) {
  // A signalling timer (Linux 6.x reports a disarmed SIGEV_NONE timer's
  // old expiry from timer_gettime), whose signal is never due here.
  BlockedSignal blocked(SIGUSR1);
  KernelSigevent sev{};
  sev.notify = SIGEV_SIGNAL;
  sev.signo = SIGUSR1;
  int id = -1;
  ASSERT_THAT(TimerCreate(CLOCK_MONOTONIC, &sev, &id), SyscallSucceeds());
  struct itimerspec cur;
  ASSERT_THAT(TimerGettime(id, &cur), SyscallSucceeds());
  EXPECT_EQ(cur.it_value.tv_sec, 0);
  EXPECT_EQ(cur.it_value.tv_nsec, 0);
  struct itimerspec v = Spec(5000000000L, 1000000000L), old;
  ASSERT_THAT(TimerSettime(id, 0, &v, &old), SyscallSucceeds());
  EXPECT_EQ(old.it_value.tv_sec, 0);
  EXPECT_EQ(old.it_value.tv_nsec, 0);
  struct itimerspec zero = Spec(0, 0);
  ASSERT_THAT(TimerSettime(id, 0, &zero, &old), SyscallSucceeds());
  EXPECT_GE(old.it_value.tv_sec, 4);
  EXPECT_EQ(old.it_interval.tv_sec, 1);
  ASSERT_THAT(TimerGettime(id, &cur), SyscallSucceeds());
  EXPECT_EQ(cur.it_value.tv_sec, 0);
  EXPECT_EQ(cur.it_value.tv_nsec, 0);
  EXPECT_THAT(TimerDelete(id), SyscallSucceeds());
}

TEST(TimerTest, AbsoluteTimeInThePastFiresAtOnce) {
  BlockedSignal blocked(SIGUSR1);
  KernelSigevent sev{};
  sev.notify = SIGEV_SIGNAL;
  sev.signo = SIGUSR1;
  int id = -1;
  ASSERT_THAT(TimerCreate(CLOCK_MONOTONIC, &sev, &id), SyscallSucceeds());
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  struct itimerspec v {};
  v.it_value = {now.tv_sec - 1, now.tv_nsec};
  ASSERT_THAT(TimerSettime(id, TIMER_ABSTIME, &v, nullptr), SyscallSucceeds());
  EXPECT_EQ(blocked.Wait(500).si_signo, SIGUSR1);
  EXPECT_THAT(TimerDelete(id), SyscallSucceeds());
}

TEST(TimerTest, AbsoluteTimeInTheFutureWaits) {
  BlockedSignal blocked(SIGUSR1);
  KernelSigevent sev{};
  sev.notify = SIGEV_SIGNAL;
  sev.signo = SIGUSR1;
  int id = -1;
  ASSERT_THAT(TimerCreate(CLOCK_REALTIME, &sev, &id), SyscallSucceeds());
  struct timespec start;
  clock_gettime(CLOCK_REALTIME, &start);
  struct itimerspec v {};
  v.it_value = start;
  v.it_value.tv_nsec += 30000000;
  if (v.it_value.tv_nsec >= 1000000000) {
    v.it_value.tv_sec++;
    v.it_value.tv_nsec -= 1000000000;
  }
  ASSERT_THAT(TimerSettime(id, TIMER_ABSTIME, &v, nullptr), SyscallSucceeds());
  EXPECT_EQ(blocked.Wait().si_signo, SIGUSR1);
  struct timespec end;
  clock_gettime(CLOCK_REALTIME, &end);
  long waited =
      (end.tv_sec - start.tv_sec) * 1000000000L + (end.tv_nsec - start.tv_nsec);
  EXPECT_GE(waited, 25000000L);
  EXPECT_THAT(TimerDelete(id), SyscallSucceeds());
}

TEST(TimerTest, UnknownIdsAreEinval) {
  int id = -1;
  ASSERT_THAT(TimerCreate(CLOCK_MONOTONIC, nullptr, &id), SyscallSucceeds());
  ASSERT_THAT(TimerDelete(id), SyscallSucceeds());
  EXPECT_THAT(TimerDelete(id), SyscallFailsWithErrno(EINVAL));
  struct itimerspec v = Spec(1000000, 0), cur;
  EXPECT_THAT(TimerSettime(id, 0, &v, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(TimerGettime(id, &cur), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_timer_getoverrun, id), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(TimerDelete(12345), SyscallFailsWithErrno(EINVAL));
}

TEST(TimerTest, BadArgumentsAreRejected) {
  int id = -1;
  EXPECT_THAT(TimerCreate(12345, nullptr, &id), SyscallFailsWithErrno(EINVAL));
  KernelSigevent sev{};
  sev.notify = 99;
  EXPECT_THAT(TimerCreate(CLOCK_MONOTONIC, &sev, &id),
              SyscallFailsWithErrno(EINVAL));
  sev.notify = SIGEV_SIGNAL;
  sev.signo = 0;
  EXPECT_THAT(TimerCreate(CLOCK_MONOTONIC, &sev, &id),
              SyscallFailsWithErrno(EINVAL));
  sev.signo = 65;
  EXPECT_THAT(TimerCreate(CLOCK_MONOTONIC, &sev, &id),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(TimerCreate(CLOCK_MONOTONIC, nullptr, reinterpret_cast<int*>(8)),
              SyscallFailsWithErrno(EFAULT));
  ASSERT_THAT(TimerCreate(CLOCK_MONOTONIC, nullptr, &id), SyscallSucceeds());
  struct itimerspec v = Spec(0, 0);
  v.it_value.tv_nsec = 1000000000;
  EXPECT_THAT(TimerSettime(id, 0, &v, nullptr), SyscallFailsWithErrno(EINVAL));
  v.it_value.tv_nsec = -1;
  EXPECT_THAT(TimerSettime(id, 0, &v, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(TimerDelete(id), SyscallSucceeds());
}

TEST(TimerTest, ThreadIdMustBeInTheProcess) {
  KernelSigevent sev{};
  sev.notify = SIGEV_SIGNAL | kSigevThreadId;
  sev.signo = SIGUSR1;
  sev.tid = static_cast<int32_t>(syscall(SYS_gettid));
  int id = -1;
  ASSERT_THAT(TimerCreate(CLOCK_MONOTONIC, &sev, &id), SyscallSucceeds());
  EXPECT_THAT(TimerDelete(id), SyscallSucceeds());
  sev.tid = 999999;
  EXPECT_THAT(TimerCreate(CLOCK_MONOTONIC, &sev, &id),
              SyscallFailsWithErrno(EINVAL));
}

TEST(TimerTest, ThreadIdTimerSignalsThatThread) {
  BlockedSignal blocked(SIGUSR1);
  KernelSigevent sev{};
  sev.notify = SIGEV_SIGNAL | kSigevThreadId;
  sev.signo = SIGUSR1;
  sev.tid = static_cast<int32_t>(syscall(SYS_gettid));
  int id = -1;
  ASSERT_THAT(TimerCreate(CLOCK_MONOTONIC, &sev, &id), SyscallSucceeds());
  struct itimerspec v = Spec(2000000, 0);
  ASSERT_THAT(TimerSettime(id, 0, &v, nullptr), SyscallSucceeds());
  EXPECT_EQ(blocked.Wait().si_signo, SIGUSR1);
  EXPECT_THAT(TimerDelete(id), SyscallSucceeds());
}

TEST(TimerTest, IdsAreSmallAndReused) {
  int a = -1, b = -1;
  ASSERT_THAT(TimerCreate(CLOCK_MONOTONIC, nullptr, &a), SyscallSucceeds());
  ASSERT_THAT(TimerCreate(CLOCK_MONOTONIC, nullptr, &b), SyscallSucceeds());
  EXPECT_NE(a, b);
  EXPECT_GE(a, 0);
  EXPECT_GE(b, 0);
  EXPECT_THAT(TimerDelete(a), SyscallSucceeds());
  EXPECT_THAT(TimerDelete(b), SyscallSucceeds());
}

TEST(TimerTest, TimersDoNotSurviveExecOrFork) {
  int id = -1;
  ASSERT_THAT(TimerCreate(CLOCK_MONOTONIC, nullptr, &id), SyscallSucceeds());
  EXPECT_THAT(ForkAndWait([&] {
                struct itimerspec cur;
                CHILD_EXPECT(TimerGettime(id, &cur) == -1 && errno == EINVAL);
                return 0;
              }),
              ExitedWithCode(0));
  EXPECT_THAT(TimerDelete(id), SyscallSucceeds());
}

TEST(TimerTest, DeliveredExpiryIsHandledByAHandler) {
  static volatile sig_atomic_t hits = 0;
  struct sigaction sa {
  }, old{};
  sa.sa_handler = [](int) { hits = hits + 1; };
  sigemptyset(&sa.sa_mask);
  ASSERT_THAT(sigaction(SIGUSR2, &sa, &old), SyscallSucceeds());
  KernelSigevent sev{};
  sev.notify = SIGEV_SIGNAL;
  sev.signo = SIGUSR2;
  int id = -1;
  ASSERT_THAT(TimerCreate(CLOCK_MONOTONIC, &sev, &id), SyscallSucceeds());
  struct itimerspec v = Spec(2000000, 2000000);
  ASSERT_THAT(TimerSettime(id, 0, &v, nullptr), SyscallSucceeds());
  for (int i = 0; i < 200 && hits < 3; ++i) usleep(5000);
  EXPECT_GE(hits, 3);
  EXPECT_THAT(TimerDelete(id), SyscallSucceeds());
  sigaction(SIGUSR2, &old, nullptr);
}

}  // namespace
}  // namespace sentry::testing
