// Interval timers (setitimer(2), getitimer(2)) and alarm(2), from the man
// pages: the three timers and their signals, old values, interval reload,
// sharing between alarm and ITIMER_REAL, and what fork and execve keep.
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

constexpr char kExecChildEnv[] = "SENTRY_ITIMER_TEST_EXEC_CHILD";

// When this binary is re-executed with kExecChildEnv set it only waits, for
// up to 5 seconds, for a timer inherited across execve to kill it.
[[maybe_unused]] const int kExecChildHook = [] {
  if (getenv(kExecChildEnv) != nullptr) {
    for (int i = 0; i < 50; i++) usleep(100 * 1000);
    _exit(0);
  }
  return 0;
}();

int64_t MonoNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t Usec(const struct timeval& tv) {
  return tv.tv_sec * 1000000LL + tv.tv_usec;
}

struct itimerval Itv(int64_t value_us, int64_t interval_us) {
  struct itimerval v;
  v.it_value = {static_cast<time_t>(value_us / 1000000),
                static_cast<suseconds_t>(value_us % 1000000)};
  v.it_interval = {static_cast<time_t>(interval_us / 1000000),
                   static_cast<suseconds_t>(interval_us % 1000000)};
  return v;
}

volatile sig_atomic_t signals_seen = 0;
void CountSignal(int) { signals_seen = signals_seen + 1; }

// Counts deliveries of `sig` for the scope; disarms `which` and restores the
// old action at the end.
class TimerSignal {
 public:
  TimerSignal(int which, int sig) : which_(which), sig_(sig) {
    signals_seen = 0;
    struct sigaction sa = {};
    sa.sa_handler = CountSignal;
    sigaction(sig_, &sa, &old_);
  }
  ~TimerSignal() {
    struct itimerval off = {};
    setitimer(which_, &off, nullptr);
    sigaction(sig_, &old_, nullptr);
  }

 private:
  int which_;
  int sig_;
  struct sigaction old_;
};

// Burns CPU until a signal has been counted or `max_ms` of wall time pass.
void SpinUntilSignal(int max_ms) {
  int64_t end = MonoNs() + max_ms * 1000000LL;
  volatile uint64_t sink = 0;
  while (signals_seen == 0 && MonoNs() < end) {
    for (int i = 0; i < 1000; i++) sink = sink + i;
  }
}

TEST(SetitimerTest, ReturnsTheOldValueAndInterval) {
  TimerSignal guard(ITIMER_REAL, SIGALRM);
  struct itimerval first = Itv(10000000, 3000000);
  ASSERT_THAT(setitimer(ITIMER_REAL, &first, nullptr), SyscallSucceeds());
  struct itimerval second = Itv(20000000, 0), old;
  ASSERT_THAT(setitimer(ITIMER_REAL, &second, &old), SyscallSucceeds());
  EXPECT_LE(Usec(old.it_value), 10000000);
  EXPECT_GT(Usec(old.it_value), 9000000);
  EXPECT_EQ(Usec(old.it_interval), 3000000);
  struct itimerval cur;
  ASSERT_THAT(getitimer(ITIMER_REAL, &cur), SyscallSucceeds());
  EXPECT_GT(Usec(cur.it_value), 19000000);
  EXPECT_EQ(Usec(cur.it_interval), 0);
}

// "If both fields of new_value.it_value are zero, then the timer is
// disarmed", whatever the interval says.
TEST(SetitimerTest, ZeroValueDisarmsEvenWithAnInterval) {
  TimerSignal guard(ITIMER_REAL, SIGALRM);
  struct itimerval v = Itv(0, 10000);
  ASSERT_THAT(setitimer(ITIMER_REAL, &v, nullptr), SyscallSucceeds());
  usleep(50 * 1000);
  EXPECT_EQ(signals_seen, 0);
  struct itimerval cur;
  ASSERT_THAT(getitimer(ITIMER_REAL, &cur), SyscallSucceeds());
  EXPECT_EQ(Usec(cur.it_value), 0);
}

// After an expiry the value is reloaded from the interval.
TEST(SetitimerTest, ExpiryReloadsTheValueFromTheInterval) {
  TimerSignal guard(ITIMER_REAL, SIGALRM);
  struct itimerval v = Itv(10000, 5000000);
  ASSERT_THAT(setitimer(ITIMER_REAL, &v, nullptr), SyscallSucceeds());
  for (int i = 0; i < 200 && signals_seen == 0; i++) usleep(10 * 1000);
  ASSERT_EQ(signals_seen, 1);
  struct itimerval cur;
  ASSERT_THAT(getitimer(ITIMER_REAL, &cur), SyscallSucceeds());
  EXPECT_GT(Usec(cur.it_value), 4000000);
  EXPECT_LE(Usec(cur.it_value), 5000000);
  EXPECT_EQ(Usec(cur.it_interval), 5000000);
}

TEST(SetitimerTest, UnknownTimerFailsEinval) {
  struct itimerval v = Itv(1000000, 0), cur;
  EXPECT_THAT(setitimer(static_cast<__itimer_which>(3), &v, nullptr),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(getitimer(static_cast<__itimer_which>(3), &cur),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(getitimer(static_cast<__itimer_which>(-1), &cur),
              SyscallFailsWithErrno(EINVAL));
}

TEST(SetitimerTest, NegativeTimevalFailsEinval) {
  struct itimerval v = Itv(0, 0);
  v.it_value.tv_usec = -1;
  EXPECT_THAT(setitimer(ITIMER_REAL, &v, nullptr),
              SyscallFailsWithErrno(EINVAL));
  v = Itv(1000000, 0);
  v.it_interval.tv_usec = 1000000;
  EXPECT_THAT(setitimer(ITIMER_VIRTUAL, &v, nullptr),
              SyscallFailsWithErrno(EINVAL));
}

TEST(SetitimerTest, BadPointersFailEfault) {
  EXPECT_THAT(syscall(SYS_getitimer, ITIMER_REAL, reinterpret_cast<void*>(8)),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(
      syscall(SYS_setitimer, ITIMER_REAL, reinterpret_cast<void*>(8), nullptr),
      SyscallFailsWithErrno(EFAULT));
}

// ITIMER_VIRTUAL counts user CPU time and raises SIGVTALRM.
TEST(SetitimerTest, VirtualTimerFiresWhileSpinning) {
  TimerSignal guard(ITIMER_VIRTUAL, SIGVTALRM);
  struct itimerval v = Itv(20000, 0);
  ASSERT_THAT(setitimer(ITIMER_VIRTUAL, &v, nullptr), SyscallSucceeds());
  SpinUntilSignal(5000);
  EXPECT_EQ(signals_seen, 1);
}

// ITIMER_PROF counts user and system CPU time and raises SIGPROF.
TEST(SetitimerTest, ProfTimerFiresWhileSpinning) {
  TimerSignal guard(ITIMER_PROF, SIGPROF);
  struct itimerval v = Itv(20000, 0);
  ASSERT_THAT(setitimer(ITIMER_PROF, &v, nullptr), SyscallSucceeds());
  SpinUntilSignal(5000);
  EXPECT_EQ(signals_seen, 1);
}

// A sleeping process uses no CPU time, so its CPU-time timers stand still.
TEST(SetitimerTest, VirtualTimerDoesNotRunWhileSleeping) {
  TimerSignal guard(ITIMER_VIRTUAL, SIGVTALRM);
  struct itimerval v = Itv(1000000, 0);
  ASSERT_THAT(setitimer(ITIMER_VIRTUAL, &v, nullptr), SyscallSucceeds());
  usleep(200 * 1000);
  struct itimerval cur;
  ASSERT_THAT(getitimer(ITIMER_VIRTUAL, &cur), SyscallSucceeds());
  EXPECT_GT(Usec(cur.it_value), 900000);
  EXPECT_EQ(signals_seen, 0);
}

// "A child created via fork(2) does not inherit its parent's interval
// timers."
TEST(SetitimerTest, TimersAreNotInheritedByForkChildren) {
  TimerSignal real(ITIMER_REAL, SIGALRM);
  struct itimerval v = Itv(30000000, 1000000);
  ASSERT_THAT(setitimer(ITIMER_REAL, &v, nullptr), SyscallSucceeds());
  EXPECT_THAT(ForkAndWait([]() -> int {
                struct itimerval cur;
                CHILD_EXPECT(getitimer(ITIMER_REAL, &cur) == 0);
                CHILD_EXPECT(Usec(cur.it_value) == 0);
                CHILD_EXPECT(Usec(cur.it_interval) == 0);
                CHILD_EXPECT(alarm(0) == 0);
                return 0;
              }),
              ExitedWithCode(0));
}

// "Interval timers are preserved across execve(2)": an ITIMER_REAL armed
// before execve kills the new program (SIGALRM's default action).
TEST(SetitimerTest, RealTimerSurvivesExecveFork) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    struct itimerval v = Itv(100000, 0);
    setitimer(ITIMER_REAL, &v, nullptr);
    setenv(kExecChildEnv, "1", 1);
    char self[] = "/proc/self/exe";
    char* argv[] = {self, nullptr};
    execv(self, argv);
    _exit(127);
  }
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_THAT(status, KilledBySignal(SIGALRM));
}

TEST(AlarmTest, AlarmAndItimerRealAreTheSameTimer) {
  TimerSignal guard(ITIMER_REAL, SIGALRM);
  struct itimerval v = Itv(10000000, 0);
  ASSERT_THAT(setitimer(ITIMER_REAL, &v, nullptr), SyscallSucceeds());
  // alarm replaces the ITIMER_REAL setting and reports what was left of it.
  unsigned left = alarm(5);
  EXPECT_GE(left, 9u);
  EXPECT_LE(left, 10u);
  struct itimerval cur;
  ASSERT_THAT(getitimer(ITIMER_REAL, &cur), SyscallSucceeds());
  EXPECT_GT(Usec(cur.it_value), 4000000);
  EXPECT_LE(Usec(cur.it_value), 5000000);
  // And setitimer's old value is what alarm set.
  struct itimerval off = {}, old;
  ASSERT_THAT(setitimer(ITIMER_REAL, &off, &old), SyscallSucceeds());
  EXPECT_GT(Usec(old.it_value), 4000000);
  EXPECT_EQ(alarm(0), 0u);
}

// A pending alarm under a second away still reports one second: alarm()
// returns 0 only when no alarm was pending.
TEST(AlarmTest, PendingSubsecondAlarmReportsOneSecond) {
  TimerSignal guard(ITIMER_REAL, SIGALRM);
  struct itimerval v = Itv(300000, 0);
  ASSERT_THAT(setitimer(ITIMER_REAL, &v, nullptr), SyscallSucceeds());
  EXPECT_EQ(alarm(0), 1u);
  EXPECT_EQ(signals_seen, 0);
}

TEST(AlarmTest, ZeroCancelsThePendingAlarm) {
  TimerSignal guard(ITIMER_REAL, SIGALRM);
  EXPECT_EQ(alarm(1), 0u);
  EXPECT_EQ(alarm(0), 1u);
  usleep(1200 * 1000);
  EXPECT_EQ(signals_seen, 0);
}

// SIGALRM's default action terminates the process.
TEST(AlarmTest, DefaultActionKillsTheProcessFork) {
  EXPECT_THAT(ForkAndWait([]() -> int {
                signal(SIGALRM, SIG_DFL);
                alarm(1);
                for (int i = 0; i < 50; i++) usleep(100 * 1000);
                return 0;
              }),
              KilledBySignal(SIGALRM));
}

}  // namespace
}  // namespace sentry::testing
