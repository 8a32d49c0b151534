// nanosleep(2) and clock_nanosleep(2), from the man pages: how long they
// sleep, TIMER_ABSTIME, argument checks and what a signal does to a sleep.
// nanosleep goes through syscall(2) because glibc implements nanosleep(3)
// with clock_nanosleep.
#include <errno.h>
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
constexpr int64_t kNsPerMs = 1000000;

int64_t NowNs(clockid_t clock = CLOCK_MONOTONIC) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * kNsPerSec + ts.tv_nsec;
}

struct timespec FromNs(int64_t ns) {
  return {static_cast<time_t>(ns / kNsPerSec),
          static_cast<long>(ns % kNsPerSec)};
}

int64_t ToNs(const struct timespec& ts) {
  return ts.tv_sec * kNsPerSec + ts.tv_nsec;
}

long RawNanosleep(const struct timespec* req, struct timespec* rem) {
  return syscall(SYS_nanosleep, req, rem);
}

// Installs a do-nothing SIGALRM handler (flags `flags`) for the scope, so
// that an expiring ITIMER_REAL interrupts a sleep without killing us, and
// disarms the timer at the end.
class AlarmHandler {
 public:
  explicit AlarmHandler(int flags = 0) {
    struct sigaction sa = {};
    sa.sa_handler = [](int) {};
    sa.sa_flags = flags;
    sigaction(SIGALRM, &sa, &old_);
  }
  ~AlarmHandler() {
    struct itimerval off = {};
    setitimer(ITIMER_REAL, &off, nullptr);
    sigaction(SIGALRM, &old_, nullptr);
  }
  // Raises SIGALRM once, `ms` from now.
  void ArmMs(int ms) {
    struct itimerval v = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
    setitimer(ITIMER_REAL, &v, nullptr);
  }

 private:
  struct sigaction old_;
};

TEST(NanosleepTest, SleepsAtLeastTheRequestedTime) {
  struct timespec req = FromNs(50 * kNsPerMs);
  int64_t start = NowNs();
  ASSERT_THAT(RawNanosleep(&req, nullptr), SyscallSucceeds());
  EXPECT_GE(NowNs() - start, 50 * kNsPerMs);
}

TEST(NanosleepTest, ZeroDurationReturnsAtOnce) {
  struct timespec req = {0, 0};
  int64_t start = NowNs();
  EXPECT_THAT(RawNanosleep(&req, nullptr), SyscallSucceeds());
  EXPECT_LT(NowNs() - start, 500 * kNsPerMs);
}

TEST(NanosleepTest, NsecOutOfRangeOrNegativeSecondsFailEinval) {
  for (struct timespec req :
       {timespec{0, kNsPerSec}, timespec{0, -1}, timespec{-1, 0}}) {
    EXPECT_THAT(RawNanosleep(&req, nullptr), SyscallFailsWithErrno(EINVAL))
        << req.tv_sec << "." << req.tv_nsec;
  }
}

TEST(NanosleepTest, BadRequestPointerFailsEfault) {
  EXPECT_THAT(RawNanosleep(reinterpret_cast<struct timespec*>(8), nullptr),
              SyscallFailsWithErrno(EFAULT));
}

// A handled signal ends the sleep with EINTR and stores the time left.
TEST(NanosleepTest, SignalInterruptsWithRemainingTime) {
  AlarmHandler handler;
  handler.ArmMs(50);
  struct timespec req = {5, 0};
  struct timespec rem = {-1, -1};
  int64_t start = NowNs();
  EXPECT_THAT(RawNanosleep(&req, &rem), SyscallFailsWithErrno(EINTR));
  int64_t slept = NowNs() - start;
  EXPECT_LT(slept, 4 * kNsPerSec);
  EXPECT_GT(ToNs(rem), 0);
  EXPECT_LE(ToNs(rem), 5 * kNsPerSec);
  // What is left plus what was slept is about what was asked for.
  EXPECT_GE(ToNs(rem) + slept, 5 * kNsPerSec - 100 * kNsPerMs);
}

// signal(7): nanosleep is never restarted after a handler, SA_RESTART or
// not.
TEST(NanosleepTest, SaRestartDoesNotRestartTheSleep) {
  AlarmHandler handler(SA_RESTART);
  handler.ArmMs(50);
  struct timespec req = {5, 0};
  struct timespec rem;
  int64_t start = NowNs();
  EXPECT_THAT(RawNanosleep(&req, &rem), SyscallFailsWithErrno(EINTR));
  EXPECT_LT(NowNs() - start, 4 * kNsPerSec);
}

// A signal whose action is to ignore it does not end the sleep.
TEST(NanosleepTest, IgnoredSignalDoesNotInterrupt) {
  struct sigaction sa = {}, old;
  sa.sa_handler = SIG_IGN;
  ASSERT_THAT(sigaction(SIGUSR1, &sa, &old), SyscallSucceeds());
  std::thread sender([] {
    usleep(20 * 1000);
    kill(getpid(), SIGUSR1);
  });
  struct timespec req = FromNs(100 * kNsPerMs);
  int64_t start = NowNs();
  EXPECT_THAT(RawNanosleep(&req, nullptr), SyscallSucceeds());
  EXPECT_GE(NowNs() - start, 100 * kNsPerMs);
  sender.join();
  ASSERT_THAT(sigaction(SIGUSR1, &old, nullptr), SyscallSucceeds());
}

// Being stopped and continued (no handler runs) does not end the sleep
// early: the kernel restarts it transparently.
TEST(NanosleepTest, StopAndContinueDoNotEndTheSleepFork) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    // Long enough that the parent stops it mid-sleep even on a busy
    // machine.
    struct timespec req = FromNs(1000 * kNsPerMs);
    int64_t start = NowNs();
    if (RawNanosleep(&req, nullptr) != 0) _exit(errno == EINTR ? 3 : 1);
    if (NowNs() - start < 1000 * kNsPerMs) _exit(2);
    _exit(0);
  }
  usleep(50 * 1000);
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  int status;
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFSTOPPED(status)) << DescribeWaitStatus(status);
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_THAT(status, ExitedWithCode(0));
}

// clock_nanosleep returns the error number instead of setting errno.
TEST(ClockNanosleepTest, RelativeSleepOnEachSleepableClock) {
  for (clockid_t c : {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME}) {
    struct timespec req = FromNs(20 * kNsPerMs);
    int64_t start = NowNs();
    EXPECT_EQ(clock_nanosleep(c, 0, &req, nullptr), 0) << "clock " << c;
    EXPECT_GE(NowNs() - start, 20 * kNsPerMs) << "clock " << c;
  }
}

TEST(ClockNanosleepTest, AbsoluteTimeInThePastReturnsAtOnce) {
  for (clockid_t c : {CLOCK_REALTIME, CLOCK_MONOTONIC}) {
    struct timespec req = FromNs(NowNs(c) - kNsPerSec);
    int64_t start = NowNs();
    EXPECT_EQ(clock_nanosleep(c, TIMER_ABSTIME, &req, nullptr), 0);
    EXPECT_LT(NowNs() - start, 500 * kNsPerMs) << "clock " << c;
    // The epoch itself is long past too.
    struct timespec zero = {0, 0};
    EXPECT_EQ(clock_nanosleep(c, TIMER_ABSTIME, &zero, nullptr), 0);
  }
}

TEST(ClockNanosleepTest, AbsoluteTimeInTheFutureSleepsUntilThen) {
  for (clockid_t c : {CLOCK_REALTIME, CLOCK_MONOTONIC}) {
    int64_t deadline = NowNs(c) + 50 * kNsPerMs;
    struct timespec req = FromNs(deadline);
    EXPECT_EQ(clock_nanosleep(c, TIMER_ABSTIME, &req, nullptr), 0);
    EXPECT_GE(NowNs(c), deadline) << "clock " << c;
  }
}

TEST(ClockNanosleepTest, InvalidArgumentsReturnEinval) {
  struct timespec bad = {0, kNsPerSec};
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, nullptr), EINVAL);
  struct timespec ok = {0, 1000};
  EXPECT_EQ(syscall(SYS_clock_nanosleep, 12345, 0, &ok, nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
  // "CLOCK_THREAD_CPUTIME_ID is not a permitted value for clockid": the
  // man page says EINVAL, newer kernels say EOPNOTSUPP (no sleeping on that
  // clock).
  EXPECT_THAT(
      syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &ok, nullptr),
      SyscallFailsWithErrno(::testing::AnyOf(EINVAL, EOPNOTSUPP)));
}

// The coarse clocks cannot be slept on: "ENOTSUP The kernel does not
// support sleeping against this clockid."
TEST(ClockNanosleepTest, CoarseClockIsNotSupported) {
  struct timespec req = {0, 1000};
  EXPECT_THAT(
      syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC_COARSE, 0, &req, nullptr),
      SyscallFailsWithErrno(ENOTSUP));
}

TEST(ClockNanosleepTest, RelativeInterruptionFillsRemain) {
  AlarmHandler handler;
  handler.ArmMs(50);
  struct timespec req = {5, 0};
  struct timespec rem = {-1, -1};
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem), EINTR);
  EXPECT_GT(ToNs(rem), 0);
  EXPECT_LT(ToNs(rem), 5 * kNsPerSec);
}

// "If ... flags is TIMER_ABSTIME, then remain is not used": the sleep is
// simply restarted with the same deadline.
TEST(ClockNanosleepTest, AbsoluteInterruptionLeavesRemainAlone) {
  AlarmHandler handler;
  handler.ArmMs(50);
  struct timespec req = FromNs(NowNs() + 5 * kNsPerSec);
  struct timespec rem = {-1, -1};
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &req, &rem), EINTR);
  EXPECT_EQ(rem.tv_sec, -1);
  EXPECT_EQ(rem.tv_nsec, -1);
}

// Sleeping on the process CPU-time clock ends once the process (here a
// spinning second thread) has used that much CPU time.
TEST(ClockNanosleepTest, ProcessCpuClockSleepEndsAfterCpuTimeIsUsed) {
  std::atomic<bool> stop{false};
  std::thread spinner([&] {
    int64_t give_up = NowNs() + 10 * kNsPerSec;
    volatile uint64_t sink = 0;
    while (!stop.load() && NowNs() < give_up) sink = sink + 1;
  });
  struct timespec start_cpu;
  ASSERT_THAT(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start_cpu),
              SyscallSucceeds());
  struct timespec req = FromNs(30 * kNsPerMs);
  int rc = clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &req, nullptr);
  struct timespec end_cpu;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &end_cpu);
  stop = true;
  spinner.join();
  EXPECT_EQ(rc, 0);
  EXPECT_GE(ToNs(end_cpu) - ToNs(start_cpu), 30 * kNsPerMs);
}

}  // namespace
}  // namespace sentry::testing
