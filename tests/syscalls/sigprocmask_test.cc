// The signal mask and pending signals, from the man pages (sigprocmask(2),
// sigpending(2), sigsuspend(2), sigtimedwait(2), signal(7), execve(2)):
// blocking keeps signals pending until unblocked, standard signals are
// pending at most once while real-time signals queue, sigsuspend and
// sigtimedwait wait for them, fork inherits the mask but not the pending
// set, and execve keeps the mask, the pending set and ignored dispositions
// while resetting handled ones to the default.
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

// --- the execve helper ---

// When this binary is re-executed with SIGPROCMASK_TEST_EXEC_REPORT set, it
// reports the signal state it started with in its exit status (before
// gtest runs) instead of running tests: see ExecReport().
constexpr char kReportEnv[] = "SIGPROCMASK_TEST_EXEC_REPORT";
constexpr int kReportMarker = 0x40;
constexpr int kUsr1Default = 1;  // SIGUSR1 (handled before) is SIG_DFL
constexpr int kUsr2Ignored = 2;  // SIGUSR2 (ignored before) is SIG_IGN
constexpr int kIntBlocked = 4;   // SIGINT (blocked before) is blocked
constexpr int kIntPending = 8;   // SIGINT (pending before) is pending

int ReportSignalState() {
  int bits = kReportMarker;
  struct sigaction sa;
  if (sigaction(SIGUSR1, nullptr, &sa) == 0 && sa.sa_handler == SIG_DFL) {
    bits |= kUsr1Default;
  }
  if (sigaction(SIGUSR2, nullptr, &sa) == 0 && sa.sa_handler == SIG_IGN) {
    bits |= kUsr2Ignored;
  }
  sigset_t set;
  if (sigprocmask(SIG_BLOCK, nullptr, &set) == 0 &&
      sigismember(&set, SIGINT) == 1) {
    bits |= kIntBlocked;
  }
  if (sigpending(&set) == 0 && sigismember(&set, SIGINT) == 1) {
    bits |= kIntPending;
  }
  return bits;
}

[[maybe_unused]] const bool kExecHelper = [] {
  if (getenv(kReportEnv) != nullptr) _exit(ReportSignalState());
  return false;
}();

void Ignore(int) {}

// In a forked child: catches SIGUSR1, ignores SIGUSR2, blocks SIGINT and
// makes it pending, then re-executes this binary to report what survived.
int ExecWithSignalState() {
  struct sigaction sa = {};
  sa.sa_handler = Ignore;
  CHILD_EXPECT(sigaction(SIGUSR1, &sa, nullptr) == 0);
  sa.sa_handler = SIG_IGN;
  CHILD_EXPECT(sigaction(SIGUSR2, &sa, nullptr) == 0);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  CHILD_EXPECT(sigprocmask(SIG_BLOCK, &set, nullptr) == 0);
  CHILD_EXPECT(kill(getpid(), SIGINT) == 0);
  char arg0[] = "sigprocmask_test";
  char* argv[] = {arg0, nullptr};
  std::string env = std::string(kReportEnv) + "=1";
  char* envp[] = {env.data(), nullptr};
  execve("/proc/self/exe", argv, envp);
  CHILD_EXPECT(false);  // execve failed
  return 1;
}

// The bits ExecWithSignalState's re-executed image reported, or -1.
int ExecReport() {
  int status = ForkAndWait(ExecWithSignalState);
  if (!WIFEXITED(status) || (WEXITSTATUS(status) & kReportMarker) == 0) {
    ADD_FAILURE() << "exec helper: " << DescribeWaitStatus(status);
    return -1;
  }
  return WEXITSTATUS(status);
}

// --- helpers ---

sigset_t SetOf(std::initializer_list<int> sigs) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : sigs) sigaddset(&set, s);
  return set;
}

// Restores the signal mask at the end of the scope.
class MaskRestorer {
 public:
  MaskRestorer() { sigprocmask(SIG_BLOCK, nullptr, &old_); }
  ~MaskRestorer() { sigprocmask(SIG_SETMASK, &old_, nullptr); }
  MaskRestorer(const MaskRestorer&) = delete;
  MaskRestorer& operator=(const MaskRestorer&) = delete;

 private:
  sigset_t old_;
};

// Installs a recording handler for each of `sigs` for the scope; on
// leaving, takes any of them still pending (they are blocked by then). With
// `serialize`, each handler blocks all of `sigs`, so that handlers run one
// after the other in delivery order instead of nesting.
class ScopedHandlers {
 public:
  explicit ScopedHandlers(std::initializer_list<int> sigs,
                          bool serialize = false)
      : sigs_(sigs) {
    for (int s : sigs_) {
      struct sigaction sa = {};
      sa.sa_sigaction = Record;
      sa.sa_flags = SA_SIGINFO;
      sigemptyset(&sa.sa_mask);
      if (serialize) {
        for (int t : sigs_) sigaddset(&sa.sa_mask, t);
      }
      struct sigaction old;
      EXPECT_THAT(sigaction(s, &sa, &old), SyscallSucceeds());
      olds_.push_back(old);
    }
    count = 0;
  }
  ~ScopedHandlers() {
    // Take any still pending (blocked) ones, so that the restored default
    // action cannot kill the test.
    for (int s : sigs_) {
      sigset_t one;
      sigemptyset(&one);
      sigaddset(&one, s);
      struct timespec zero = {0, 0};
      while (sigtimedwait(&one, nullptr, &zero) == s) {
      }
    }
    for (size_t i = 0; i < sigs_.size(); i++) {
      sigaction(sigs_[i], &olds_[i], nullptr);
    }
  }
  ScopedHandlers(const ScopedHandlers&) = delete;
  ScopedHandlers& operator=(const ScopedHandlers&) = delete;

  static constexpr int kMax = 16;
  static inline volatile sig_atomic_t count = 0;
  static inline int signo[kMax];
  static inline int value[kMax];

 private:
  static void Record(int sig, siginfo_t* info, void*) {
    int i = count;
    if (i < kMax) {
      signo[i] = sig;
      value[i] = info->si_value.sival_int;
    }
    count = i + 1;
  }
  std::vector<int> sigs_;
  std::vector<struct sigaction> olds_;
};

bool IsPending(int sig) {
  sigset_t set;
  sigpending(&set);
  return sigismember(&set, sig) == 1;
}

// --- sigprocmask ---

TEST(SigprocmaskTest, BlockUnblockAndSetmaskReturnTheOldMask) {
  MaskRestorer restore;
  sigset_t empty = SetOf({});
  ASSERT_THAT(sigprocmask(SIG_SETMASK, &empty, nullptr), SyscallSucceeds());
  sigset_t usr1 = SetOf({SIGUSR1}), usr2 = SetOf({SIGUSR2}), old;
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &usr1, &old), SyscallSucceeds());
  EXPECT_EQ(sigismember(&old, SIGUSR1), 0);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &usr2, &old), SyscallSucceeds());
  EXPECT_EQ(sigismember(&old, SIGUSR1), 1);
  EXPECT_EQ(sigismember(&old, SIGUSR2), 0);
  ASSERT_THAT(sigprocmask(SIG_UNBLOCK, &usr1, &old), SyscallSucceeds());
  EXPECT_EQ(sigismember(&old, SIGUSR1), 1);
  EXPECT_EQ(sigismember(&old, SIGUSR2), 1);
  ASSERT_THAT(sigprocmask(SIG_SETMASK, &usr1, &old), SyscallSucceeds());
  EXPECT_EQ(sigismember(&old, SIGUSR1), 0);
  EXPECT_EQ(sigismember(&old, SIGUSR2), 1);
  sigset_t now;
  ASSERT_THAT(sigprocmask(SIG_BLOCK, nullptr, &now), SyscallSucceeds());
  EXPECT_EQ(sigismember(&now, SIGUSR1), 1);
  EXPECT_EQ(sigismember(&now, SIGUSR2), 0);
}

TEST(SigprocmaskTest, SigkillAndSigstopAreSilentlyNotBlocked) {
  MaskRestorer restore;
  sigset_t set = SetOf({SIGKILL, SIGSTOP, SIGUSR1});
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, nullptr), SyscallSucceeds());
  sigset_t now;
  ASSERT_THAT(sigprocmask(SIG_BLOCK, nullptr, &now), SyscallSucceeds());
  EXPECT_EQ(sigismember(&now, SIGKILL), 0);
  EXPECT_EQ(sigismember(&now, SIGSTOP), 0);
  EXPECT_EQ(sigismember(&now, SIGUSR1), 1);
}

TEST(SigprocmaskTest, InvalidHowFailsEinvalUnlessSetIsNull) {
  MaskRestorer restore;
  sigset_t set = SetOf({SIGUSR1}), old;
  EXPECT_THAT(sigprocmask(12345, &set, &old), SyscallFailsWithErrno(EINVAL));
  // "If set is NULL, then the signal mask is unchanged (i.e., how is
  // ignored)".
  EXPECT_THAT(sigprocmask(12345, nullptr, &old), SyscallSucceeds());
}

TEST(SigprocmaskTest, RawSigsetsizeIsChecked) {
  uint64_t set = 0, old = 0;
  EXPECT_THAT(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 4),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 16),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_rt_sigpending, &set, 16),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 8),
              SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_rt_sigprocmask, SIG_BLOCK, reinterpret_cast<void*>(8),
                      nullptr, 8),
              SyscallFailsWithErrno(EFAULT));
}

// --- pending signals ---

TEST(SigprocmaskTest, BlockedSignalStaysPendingUntilUnblocked) {
  MaskRestorer restore;
  ScopedHandlers handlers({SIGUSR1});
  sigset_t set = SetOf({SIGUSR1});
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, nullptr), SyscallSucceeds());
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(ScopedHandlers::count, 0);
  EXPECT_TRUE(IsPending(SIGUSR1));
  // Delivered before sigprocmask returns.
  ASSERT_THAT(sigprocmask(SIG_UNBLOCK, &set, nullptr), SyscallSucceeds());
  EXPECT_EQ(ScopedHandlers::count, 1);
  EXPECT_FALSE(IsPending(SIGUSR1));
}

TEST(SigprocmaskTest, StandardSignalIsPendingOnlyOnce) {
  MaskRestorer restore;
  ScopedHandlers handlers({SIGUSR1});
  sigset_t set = SetOf({SIGUSR1});
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, nullptr), SyscallSucceeds());
  for (int i = 0; i < 3; i++) ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  ASSERT_THAT(sigprocmask(SIG_UNBLOCK, &set, nullptr), SyscallSucceeds());
  EXPECT_EQ(ScopedHandlers::count, 1);
}

TEST(SigprocmaskTest, RealtimeSignalsQueueInOrder) {
  MaskRestorer restore;
  ScopedHandlers handlers({SIGRTMIN});
  sigset_t set = SetOf({SIGRTMIN});
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, nullptr), SyscallSucceeds());
  for (int i = 1; i <= 3; i++) {
    union sigval v;
    v.sival_int = i * 10;
    ASSERT_THAT(sigqueue(getpid(), SIGRTMIN, v), SyscallSucceeds());
  }
  ASSERT_THAT(sigprocmask(SIG_UNBLOCK, &set, nullptr), SyscallSucceeds());
  ASSERT_EQ(ScopedHandlers::count, 3);
  EXPECT_EQ(ScopedHandlers::value[0], 10);
  EXPECT_EQ(ScopedHandlers::value[1], 20);
  EXPECT_EQ(ScopedHandlers::value[2], 30);
}

TEST(SigprocmaskTest, LowestRealtimeSignalIsDeliveredFirst) {
  // signal(7): "If multiple real-time signals are pending, the
  // lowest-numbered signal is delivered first."
  MaskRestorer restore;
  ScopedHandlers handlers({SIGRTMIN, SIGRTMIN + 1, SIGRTMIN + 2},
                          /*serialize=*/true);
  sigset_t set = SetOf({SIGRTMIN, SIGRTMIN + 1, SIGRTMIN + 2});
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, nullptr), SyscallSucceeds());
  ASSERT_THAT(raise(SIGRTMIN + 2), SyscallSucceeds());
  ASSERT_THAT(raise(SIGRTMIN), SyscallSucceeds());
  ASSERT_THAT(raise(SIGRTMIN + 1), SyscallSucceeds());
  // Unblocking delivers all three. Each handler blocks the others (without
  // that, the later deliveries would nest on top of the first handler and
  // run before it), so they run in delivery order.
  ASSERT_THAT(sigprocmask(SIG_UNBLOCK, &set, nullptr), SyscallSucceeds());
  ASSERT_EQ(ScopedHandlers::count, 3);
  EXPECT_EQ(ScopedHandlers::signo[0], SIGRTMIN);
  EXPECT_EQ(ScopedHandlers::signo[1], SIGRTMIN + 1);
  EXPECT_EQ(ScopedHandlers::signo[2], SIGRTMIN + 2);
}

TEST(SigprocmaskTest, ForkChildInheritsTheMaskButNotPendingSignals) {
  MaskRestorer restore;
  ScopedHandlers handlers({SIGUSR1});
  sigset_t set = SetOf({SIGUSR1});
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, nullptr), SyscallSucceeds());
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  auto child = [] {
    sigset_t now;
    CHILD_EXPECT(sigprocmask(SIG_BLOCK, nullptr, &now) == 0);
    CHILD_EXPECT(sigismember(&now, SIGUSR1) == 1);
    // fork(2): "The child's set of pending signals is initially empty".
    CHILD_EXPECT(!IsPending(SIGUSR1));
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
  EXPECT_TRUE(IsPending(SIGUSR1));
}

TEST(SigprocmaskTest, ProcStatusShowsTheSignalSets) {
  // /proc/[pid]/status: SigBlk, SigIgn, SigCgt and ShdPnd are hex masks in
  // which signal n is bit n-1.
  auto child = [] {
    struct sigaction sa = {};
    sa.sa_handler = Ignore;
    CHILD_EXPECT(sigaction(SIGINT, &sa, nullptr) == 0);
    sa.sa_handler = SIG_IGN;
    CHILD_EXPECT(sigaction(SIGUSR2, &sa, nullptr) == 0);
    sigset_t set = SetOf({SIGUSR1});
    CHILD_EXPECT(sigprocmask(SIG_BLOCK, &set, nullptr) == 0);
    CHILD_EXPECT(kill(getpid(), SIGUSR1) == 0);
    std::string status = ReadProcFile("/proc/self/status");
    auto field = [&status](const char* name) -> uint64_t {
      size_t pos = status.find(std::string("\n") + name + ":");
      if (pos == std::string::npos) return 0;
      return strtoull(status.c_str() + pos + strlen(name) + 2, nullptr, 16);
    };
    CHILD_EXPECT(field("SigBlk") & (1ull << (SIGUSR1 - 1)));
    CHILD_EXPECT(field("ShdPnd") & (1ull << (SIGUSR1 - 1)));
    CHILD_EXPECT(field("SigIgn") & (1ull << (SIGUSR2 - 1)));
    CHILD_EXPECT(field("SigCgt") & (1ull << (SIGINT - 1)));
    CHILD_EXPECT(!(field("SigCgt") & (1ull << (SIGUSR2 - 1))));
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

// --- sigsuspend ---

TEST(SigsuspendTest, RunsAPendingSignalAndRestoresTheMask) {
  MaskRestorer restore;
  ScopedHandlers handlers({SIGUSR1});
  sigset_t set = SetOf({SIGUSR1});
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, nullptr), SyscallSucceeds());
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  sigset_t none = SetOf({});
  EXPECT_THAT(sigsuspend(&none), SyscallFailsWithErrno(EINTR));
  EXPECT_EQ(ScopedHandlers::count, 1);
  sigset_t now;
  ASSERT_THAT(sigprocmask(SIG_BLOCK, nullptr, &now), SyscallSucceeds());
  EXPECT_EQ(sigismember(&now, SIGUSR1), 1);
}

TEST(SigsuspendTest, WaitsForASignalFromAnotherProcessFork) {
  MaskRestorer restore;
  ScopedHandlers handlers({SIGUSR1});
  sigset_t set = SetOf({SIGUSR1});
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, nullptr), SyscallSucceeds());
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    usleep(50 * 1000);
    kill(parent, SIGUSR1);
    _exit(0);
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  sigset_t none = SetOf({});
  EXPECT_THAT(sigsuspend(&none), SyscallFailsWithErrno(EINTR));
  EXPECT_EQ(ScopedHandlers::count, 1);
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
}

TEST(SigsuspendTest, SignalsBlockedByTheTemporaryMaskStayPending) {
  MaskRestorer restore;
  ScopedHandlers handlers({SIGUSR1, SIGUSR2});
  sigset_t set = SetOf({SIGUSR1, SIGUSR2});
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, nullptr), SyscallSucceeds());
  ASSERT_THAT(raise(SIGUSR2), SyscallSucceeds());
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  // Waiting with only SIGUSR2 blocked runs SIGUSR1's handler.
  sigset_t usr2 = SetOf({SIGUSR2});
  EXPECT_THAT(sigsuspend(&usr2), SyscallFailsWithErrno(EINTR));
  ASSERT_EQ(ScopedHandlers::count, 1);
  EXPECT_EQ(ScopedHandlers::signo[0], SIGUSR1);
  EXPECT_TRUE(IsPending(SIGUSR2));
}

// --- sigtimedwait ---

TEST(SigtimedwaitTest, TimeoutFailsEagain) {
  MaskRestorer restore;
  sigset_t set = SetOf({SIGUSR1});
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, nullptr), SyscallSucceeds());
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  struct timespec timeout = {0, 30 * 1000 * 1000};
  EXPECT_THAT(sigtimedwait(&set, nullptr, &timeout),
              SyscallFailsWithErrno(EAGAIN));
  clock_gettime(CLOCK_MONOTONIC, &end);
  double elapsed =
      (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
  EXPECT_GE(elapsed, 0.029);
  // A zero timeout polls.
  struct timespec zero = {0, 0};
  EXPECT_THAT(sigtimedwait(&set, nullptr, &zero),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(SigtimedwaitTest, InvalidTimeoutFailsEinval) {
  MaskRestorer restore;
  sigset_t set = SetOf({SIGUSR1});
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, nullptr), SyscallSucceeds());
  struct timespec bad = {0, 1000000000};
  EXPECT_THAT(sigtimedwait(&set, nullptr, &bad), SyscallFailsWithErrno(EINVAL));
}

TEST(SigtimedwaitTest, ReturnsAQueuedSignalWithItsInfo) {
  MaskRestorer restore;
  sigset_t set = SetOf({SIGRTMIN});
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, nullptr), SyscallSucceeds());
  union sigval v;
  v.sival_int = 77;
  ASSERT_THAT(sigqueue(getpid(), SIGRTMIN, v), SyscallSucceeds());
  siginfo_t info = {};
  struct timespec timeout = {5, 0};
  ASSERT_THAT(sigtimedwait(&set, &info, &timeout),
              SyscallSucceedsWithValue(SIGRTMIN));
  EXPECT_EQ(info.si_signo, SIGRTMIN);
  EXPECT_EQ(info.si_code, SI_QUEUE);
  EXPECT_EQ(info.si_pid, getpid());
  EXPECT_EQ(info.si_uid, getuid());
  EXPECT_EQ(info.si_value.sival_int, 77);
  EXPECT_FALSE(IsPending(SIGRTMIN));
}

TEST(SigtimedwaitTest, SigwaitinfoReportsTheSenderOfKill) {
  MaskRestorer restore;
  sigset_t set = SetOf({SIGUSR2});
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, nullptr), SyscallSucceeds());
  ASSERT_THAT(kill(getpid(), SIGUSR2), SyscallSucceeds());
  siginfo_t info = {};
  ASSERT_THAT(sigwaitinfo(&set, &info), SyscallSucceedsWithValue(SIGUSR2));
  EXPECT_EQ(info.si_code, SI_USER);
  EXPECT_EQ(info.si_pid, getpid());
  EXPECT_EQ(info.si_uid, getuid());
}

TEST(SigtimedwaitTest, TakesOnlySignalsInTheSet) {
  MaskRestorer restore;
  ScopedHandlers handlers({SIGUSR1, SIGUSR2});
  sigset_t both = SetOf({SIGUSR1, SIGUSR2});
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &both, nullptr), SyscallSucceeds());
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  ASSERT_THAT(raise(SIGUSR2), SyscallSucceeds());
  sigset_t usr2 = SetOf({SIGUSR2});
  struct timespec zero = {0, 0};
  EXPECT_THAT(sigtimedwait(&usr2, nullptr, &zero),
              SyscallSucceedsWithValue(SIGUSR2));
  EXPECT_TRUE(IsPending(SIGUSR1));
  EXPECT_FALSE(IsPending(SIGUSR2));
  EXPECT_EQ(ScopedHandlers::count, 0);  // taken, not delivered
}

TEST(SigtimedwaitTest, WakesForASignalSentLaterFork) {
  MaskRestorer restore;
  // The test may be PID 1 of a PID namespace, which only receives signals it
  // has a handler for (kill(2)); the signal is blocked, so the handler never
  // runs.
  ScopedHandlers handlers({SIGUSR1});
  sigset_t set = SetOf({SIGUSR1});
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, nullptr), SyscallSucceeds());
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    usleep(50 * 1000);
    kill(parent, SIGUSR1);
    _exit(0);
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  siginfo_t info = {};
  struct timespec timeout = {10, 0};
  EXPECT_THAT(sigtimedwait(&set, &info, &timeout),
              SyscallSucceedsWithValue(SIGUSR1));
  EXPECT_EQ(info.si_pid, pid);
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
}

// --- execve ---

TEST(SignalExecTest, HandledSignalIsResetToDefaultFork) {
  int bits = ExecReport();
  ASSERT_NE(bits, -1);
  EXPECT_TRUE(bits & kUsr1Default) << bits;
}

TEST(SignalExecTest, IgnoredSignalStaysIgnoredFork) {
  int bits = ExecReport();
  ASSERT_NE(bits, -1);
  EXPECT_TRUE(bits & kUsr2Ignored) << bits;
}

TEST(SignalExecTest, MaskIsKeptFork) {
  int bits = ExecReport();
  ASSERT_NE(bits, -1);
  EXPECT_TRUE(bits & kIntBlocked) << bits;
}

TEST(SignalExecTest, PendingSignalsAreKeptFork) {
  // signal(7): "the pending signal set is preserved across an execve(2)".
  int bits = ExecReport();
  ASSERT_NE(bits, -1);
  EXPECT_TRUE(bits & kIntPending) << bits;
}

}  // namespace
}  // namespace sentry::testing
