// clock_gettime(2), clock_getres(2), clock_settime(2), gettimeofday(2) and
// time(2), from the man pages. The reads go through syscall(2) where the
// point is the kernel's answer (glibc would otherwise answer from the vDSO,
// which vdso_test covers).
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

constexpr int64_t kNsPerSec = 1000000000;

int64_t ToNs(const struct timespec& ts) {
  return ts.tv_sec * kNsPerSec + ts.tv_nsec;
}

// The kernel's reading of `clock` in nanoseconds, or -1 (with a test
// failure) when the call fails.
int64_t RawNowNs(clockid_t clock) {
  struct timespec ts;
  if (syscall(SYS_clock_gettime, clock, &ts) != 0) {
    ADD_FAILURE() << "clock_gettime(" << clock << "): " << strerror(errno);
    return -1;
  }
  return ToNs(ts);
}

// Burns CPU time in this thread until `clock` has advanced by `ns`.
void SpinFor(clockid_t clock, int64_t ns) {
  int64_t start = RawNowNs(clock);
  volatile uint64_t sink = 0;
  while (RawNowNs(clock) - start < ns) {
    for (int i = 0; i < 10000; i++) sink = sink + i;
  }
}

constexpr clockid_t kAllClocks[] = {
    CLOCK_REALTIME,           CLOCK_MONOTONIC,         CLOCK_MONOTONIC_RAW,
    CLOCK_BOOTTIME,           CLOCK_REALTIME_COARSE,   CLOCK_MONOTONIC_COARSE,
    CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
};

TEST(ClockGettimeTest, EveryClockIdGivesANormalizedTimespec) {
  for (clockid_t c : kAllClocks) {
    struct timespec ts = {-1, -1};
    ASSERT_THAT(syscall(SYS_clock_gettime, c, &ts), SyscallSucceeds())
        << "clock " << c;
    EXPECT_GE(ts.tv_sec, 0) << "clock " << c;
    EXPECT_GE(ts.tv_nsec, 0) << "clock " << c;
    EXPECT_LT(ts.tv_nsec, kNsPerSec) << "clock " << c;
  }
}

TEST(ClockGettimeTest, MonotonicRawAndBoottimeNeverGoBack) {
  for (clockid_t c :
       {CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME, CLOCK_MONOTONIC_COARSE}) {
    int64_t prev = RawNowNs(c);
    for (int i = 0; i < 200; i++) {
      int64_t now = RawNowNs(c);
      ASSERT_GE(now, prev) << "clock " << c << " went back at " << i;
      prev = now;
    }
  }
}

// CLOCK_BOOTTIME is CLOCK_MONOTONIC plus the time spent suspended, so it is
// never behind it.
TEST(ClockGettimeTest, BoottimeIsNeverBehindMonotonic) {
  int64_t mono = RawNowNs(CLOCK_MONOTONIC);
  int64_t boot = RawNowNs(CLOCK_BOOTTIME);
  EXPECT_GE(boot, mono);
}

// A coarse clock is a cheaper, lower-resolution reading of the same clock:
// it may lag a later fine reading, but never lead it, and not by much.
TEST(ClockGettimeTest, CoarseClocksTrailTheirFineClocks) {
  const std::pair<clockid_t, clockid_t> pairs[] = {
      {CLOCK_REALTIME_COARSE, CLOCK_REALTIME},
      {CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC}};
  for (auto [coarse, fine] : pairs) {
    int64_t c = RawNowNs(coarse);
    int64_t f = RawNowNs(fine);
    EXPECT_LE(c, f) << "clock " << coarse;
    EXPECT_LT(f - c, kNsPerSec) << "clock " << coarse;
  }
}

TEST(ClockGettimeTest, SleepAdvancesMonotonicByAtLeastTheSleep) {
  int64_t before = RawNowNs(CLOCK_MONOTONIC);
  int64_t before_raw = RawNowNs(CLOCK_MONOTONIC_RAW);
  usleep(50 * 1000);
  EXPECT_GE(RawNowNs(CLOCK_MONOTONIC) - before, 50 * 1000 * 1000);
  // The raw clock is not slewed by NTP, but runs at the same nominal rate:
  // allow a generous 10% margin.
  EXPECT_GE(RawNowNs(CLOCK_MONOTONIC_RAW) - before_raw, 45 * 1000 * 1000);
}

TEST(ClockGettimeTest, ProcessCpuClockCountsWorkButNotSleep) {
  int64_t before = RawNowNs(CLOCK_PROCESS_CPUTIME_ID);
  SpinFor(CLOCK_MONOTONIC, 30 * 1000 * 1000);
  int64_t after_spin = RawNowNs(CLOCK_PROCESS_CPUTIME_ID);
  // Busy for 30ms of wall time: most of it is CPU time unless the machine is
  // very loaded, so ask only for some.
  EXPECT_GT(after_spin - before, 1000 * 1000);
  usleep(100 * 1000);
  // Sleeping 100ms costs (almost) no CPU time.
  EXPECT_LT(RawNowNs(CLOCK_PROCESS_CPUTIME_ID) - after_spin, 50 * 1000 * 1000);
}

// The process clock sums all threads; the thread clock counts only the
// caller, so another thread's work shows in the first and not the second.
TEST(ClockGettimeTest, ThreadCpuClockExcludesOtherThreads) {
  int64_t proc_before = RawNowNs(CLOCK_PROCESS_CPUTIME_ID);
  int64_t thread_before = RawNowNs(CLOCK_THREAD_CPUTIME_ID);
  std::thread worker(
      [] { SpinFor(CLOCK_THREAD_CPUTIME_ID, 50 * 1000 * 1000); });
  worker.join();
  int64_t proc_delta = RawNowNs(CLOCK_PROCESS_CPUTIME_ID) - proc_before;
  int64_t thread_delta = RawNowNs(CLOCK_THREAD_CPUTIME_ID) - thread_before;
  EXPECT_GE(proc_delta, 50 * 1000 * 1000);
  EXPECT_LT(thread_delta, 25 * 1000 * 1000);
}

TEST(ClockGettimeTest, PthreadCpuClockOfAnotherThreadIsReadable) {
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    volatile uint64_t sink = 0;
    while (!stop.load()) sink = sink + 1;
  });
  clockid_t cid;
  ASSERT_EQ(pthread_getcpuclockid(worker.native_handle(), &cid), 0);
  int64_t before = RawNowNs(cid);
  usleep(50 * 1000);
  int64_t after = RawNowNs(cid);
  stop = true;
  worker.join();
  EXPECT_GT(after, before);
}

TEST(ClockGettimeTest, CpuClockOfAChildProcessFork) {
  int pipefd[2];
  ASSERT_THAT(pipe(pipefd), SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    close(pipefd[0]);
    SpinFor(CLOCK_PROCESS_CPUTIME_ID, 50 * 1000 * 1000);
    char c = 'x';
    (void)!write(pipefd[1], &c, 1);
    pause();
    _exit(0);
  }
  close(pipefd[1]);
  char c;
  EXPECT_THAT(read(pipefd[0], &c, 1), SyscallSucceedsWithValue(1));
  close(pipefd[0]);
  clockid_t cid;
  ASSERT_EQ(clock_getcpuclockid(pid, &cid), 0);
  EXPECT_GE(RawNowNs(cid), 50 * 1000 * 1000);
  kill(pid, SIGKILL);
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
}

TEST(ClockGettimeTest, CpuClockOfAMissingProcessFailsEinvalFork) {
  // A pid that surely is gone: a child already reaped.
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) _exit(0);
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  // MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED) from the kernel's ABI, as
  // clock_getcpuclockid(3) builds it.
  clockid_t cid = (~static_cast<clockid_t>(pid) << 3) | 2;
  struct timespec ts;
  EXPECT_THAT(syscall(SYS_clock_gettime, cid, &ts),
              SyscallFailsWithErrno(EINVAL));
}

TEST(ClockGettimeTest, BadPointerFailsEfault) {
  for (clockid_t c :
       {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID}) {
    EXPECT_THAT(syscall(SYS_clock_gettime, c, reinterpret_cast<void*>(8)),
                SyscallFailsWithErrno(EFAULT))
        << "clock " << c;
  }
}

TEST(ClockGetresTest, EveryClockHasAResolution) {
  for (clockid_t c : kAllClocks) {
    struct timespec res = {-1, -1};
    ASSERT_THAT(syscall(SYS_clock_getres, c, &res), SyscallSucceeds())
        << "clock " << c;
    EXPECT_EQ(res.tv_sec, 0) << "clock " << c;
    EXPECT_GT(res.tv_nsec, 0) << "clock " << c;
  }
}

TEST(ClockGetresTest, CoarseIsNoFinerThanTheFineClock) {
  struct timespec fine, coarse;
  ASSERT_THAT(syscall(SYS_clock_getres, CLOCK_MONOTONIC, &fine),
              SyscallSucceeds());
  ASSERT_THAT(syscall(SYS_clock_getres, CLOCK_MONOTONIC_COARSE, &coarse),
              SyscallSucceeds());
  EXPECT_GE(ToNs(coarse), ToNs(fine));
}

// "If res is NULL, the clock resolution is not returned."
TEST(ClockGetresTest, NullResultIsAllowed) {
  EXPECT_THAT(syscall(SYS_clock_getres, CLOCK_MONOTONIC, nullptr),
              SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_clock_getres, 12345, nullptr),
              SyscallFailsWithErrno(EINVAL));
}

TEST(ClockGetresTest, BadPointerFailsEfault) {
  EXPECT_THAT(
      syscall(SYS_clock_getres, CLOCK_REALTIME, reinterpret_cast<void*>(8)),
      SyscallFailsWithErrno(EFAULT));
}

// Only CLOCK_REALTIME is settable; the monotonic clocks never are, not even
// for root, so this cannot change the host's clocks.
TEST(ClockSettimeTest, MonotonicClocksAreNotSettable) {
  for (clockid_t c : {CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME}) {
    struct timespec ts;
    ASSERT_THAT(clock_gettime(c, &ts), SyscallSucceeds());
    EXPECT_THAT(syscall(SYS_clock_settime, c, &ts),
                SyscallFailsWithErrno(EINVAL))
        << "clock " << c;
  }
}

TEST(ClockSettimeTest, UnprivilegedSetFailsEpermFork) {
  std::string why_not = WhyNobodyIsUnavailable();
  if (!why_not.empty()) GTEST_SKIP() << why_not;
  EXPECT_THAT(
      ForkAsNobodyAndWait([]() -> int {
        struct timespec ts;
        CHILD_EXPECT(clock_gettime(CLOCK_REALTIME, &ts) == 0);
        CHILD_EXPECT(syscall(SYS_clock_settime, CLOCK_REALTIME, &ts) == -1);
        CHILD_EXPECT(errno == EPERM);
        struct timeval tv = {ts.tv_sec, 0};
        CHILD_EXPECT(syscall(SYS_settimeofday, &tv, nullptr) == -1);
        CHILD_EXPECT(errno == EPERM);
        return 0;
      }),
      ExitedWithCode(0));
}

TEST(GettimeofdayTest, AgreesWithRealtimeToTheMicrosecond) {
  int64_t before = RawNowNs(CLOCK_REALTIME);
  struct timeval tv;
  ASSERT_THAT(syscall(SYS_gettimeofday, &tv, nullptr), SyscallSucceeds());
  int64_t after = RawNowNs(CLOCK_REALTIME);
  int64_t tv_ns = (tv.tv_sec * 1000000 + tv.tv_usec) * 1000;
  // gettimeofday truncates to microseconds.
  EXPECT_GE(tv_ns, before - 1000);
  EXPECT_LE(tv_ns, after);
}

// The timezone argument is obsolete but still accepted and filled.
TEST(GettimeofdayTest, TimezoneArgumentIsAccepted) {
  struct timeval tv;
  struct timezone tz = {-1, -1};
  ASSERT_THAT(syscall(SYS_gettimeofday, &tv, &tz), SyscallSucceeds());
  EXPECT_NE(tz.tz_dsttime, -1);
  EXPECT_THAT(syscall(SYS_gettimeofday, nullptr, nullptr), SyscallSucceeds());
}

TEST(GettimeofdayTest, BadPointerFailsEfault) {
  EXPECT_THAT(syscall(SYS_gettimeofday, reinterpret_cast<void*>(8), nullptr),
              SyscallFailsWithErrno(EFAULT));
}

// time(2) returns the seconds and also stores them through a non-NULL
// pointer.
TEST(TimeTest, ReturnsAndStoresRealtimeSeconds) {
  time_t stored = -1;
  long t = syscall(SYS_time, &stored);
  ASSERT_THAT(t, SyscallSucceeds());
  EXPECT_EQ(stored, t);
  struct timespec ts;
  ASSERT_THAT(syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts),
              SyscallSucceeds());
  EXPECT_LE(t, ts.tv_sec);
  EXPECT_GE(t, ts.tv_sec - 1);
  EXPECT_THAT(syscall(SYS_time, nullptr), SyscallSucceeds());
}

}  // namespace
}  // namespace sentry::testing
