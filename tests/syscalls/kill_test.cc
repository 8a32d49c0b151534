// kill(2) and tkill(2) from the man pages: signal 0 probes for a process
// (zombies included), pid 0 and -pgid signal a process group, -1 signals
// every process the caller may signal except itself, permission rules for
// an unprivileged sender (and the SIGCONT exception within a session), and
// the errors.
//
// The test may be PID 1 of a PID namespace, which only receives signals it
// has a handler for; nothing here relies on signalling the test process
// from outside.
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

// A uid no host process should have: kill(-1) as this user reaches only
// the test's own processes.
constexpr uid_t kPrivateUid = 61234;

// Forks a child that sleeps until killed. Returns its pid (or -1).
pid_t ForkSleeper() {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    for (;;) pause();
  }
  return pid;
}

// waitpid() retried on EINTR; the status, or -1.
int Reap(pid_t pid) {
  int status;
  pid_t r;
  do {
    r = waitpid(pid, &status, 0);
  } while (r < 0 && errno == EINTR);
  return r == pid ? status : -1;
}

volatile sig_atomic_t g_count = 0;
volatile sig_atomic_t g_si_uid = -1;
volatile sig_atomic_t g_si_pid = -1;

void Count(int) { g_count = g_count + 1; }

void RecordSender(int, siginfo_t* info, void*) {
  g_count = g_count + 1;
  g_si_uid = info->si_uid;
  g_si_pid = info->si_pid;
}

// --- signal 0 and existence ---

TEST(KillTest, SignalZeroProbesAProcess) {
  EXPECT_THAT(kill(getpid(), 0), SyscallSucceeds());
  pid_t pid = ForkSleeper();
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_THAT(kill(pid, 0), SyscallSucceeds());
  ASSERT_THAT(kill(pid, SIGKILL), SyscallSucceeds());
  EXPECT_THAT(Reap(pid), KilledBySignal(SIGKILL));
}

TEST(KillTest, ZombieExistsUntilReaped) {
  pid_t pid = ForkSleeper();
  ASSERT_THAT(pid, SyscallSucceeds());
  ASSERT_THAT(kill(pid, SIGKILL), SyscallSucceeds());
  // Wait for it to become a zombie without reaping it.
  siginfo_t info = {};
  ASSERT_THAT(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), SyscallSucceeds());
  EXPECT_THAT(kill(pid, 0), SyscallSucceeds());
  EXPECT_THAT(kill(pid, SIGTERM), SyscallSucceeds());
  EXPECT_THAT(Reap(pid), KilledBySignal(SIGKILL));
  EXPECT_THAT(kill(pid, 0), SyscallFailsWithErrno(ESRCH));
}

TEST(KillTest, MissingProcessOrGroupFailsEsrch) {
  // Above the largest possible PID (PID_MAX_LIMIT is 2^22).
  EXPECT_THAT(kill(0x3fffffff, 0), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(kill(-0x3fffffff, 0), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(kill(0x3fffffff, SIGKILL), SyscallFailsWithErrno(ESRCH));
}

TEST(KillTest, InvalidSignalFailsEinval) {
  for (int sig : {-1, 65, 1000}) {
    EXPECT_THAT(kill(getpid(), sig), SyscallFailsWithErrno(EINVAL)) << sig;
  }
}

TEST(KillTest, TkillRejectsNonPositiveThreadIds) {
  EXPECT_THAT(syscall(SYS_tkill, 0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_tkill, -1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_tkill, 0x3fffffff, 0), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(syscall(SYS_tkill, syscall(SYS_gettid), 0), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_tkill, syscall(SYS_gettid), 65),
              SyscallFailsWithErrno(EINVAL));
}

TEST(KillTest, SignalIgnoredByTheTargetIsNotAnError) {
  fflush(stdout);
  fflush(stderr);
  int ready[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGTERM, SIG_IGN);
    (void)!write(ready[1], "r", 1);
    for (;;) pause();
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  char c;
  ASSERT_THAT(read(ready[0], &c, 1), SyscallSucceedsWithValue(1));
  close(ready[0]);
  close(ready[1]);
  EXPECT_THAT(kill(pid, SIGTERM), SyscallSucceeds());
  usleep(20 * 1000);
  int status;
  EXPECT_THAT(waitpid(pid, &status, WNOHANG), SyscallSucceedsWithValue(0));
  ASSERT_THAT(kill(pid, SIGKILL), SyscallSucceeds());
  EXPECT_THAT(Reap(pid), KilledBySignal(SIGKILL));
}

// --- process groups ---

TEST(KillTest, NegativePidSignalsTheWholeGroupFork) {
  pid_t leader = ForkSleeper();
  ASSERT_THAT(leader, SyscallSucceeds());
  // Both sides call setpgid so the group exists whichever runs first.
  ASSERT_THAT(setpgid(leader, leader), SyscallSucceeds());
  pid_t member = fork();
  if (member == 0) {
    setpgid(0, leader);
    for (;;) pause();
  }
  ASSERT_THAT(member, SyscallSucceeds());
  ASSERT_THAT(setpgid(member, leader), SyscallSucceeds());
  EXPECT_THAT(kill(-leader, SIGTERM), SyscallSucceeds());
  EXPECT_THAT(Reap(leader), KilledBySignal(SIGTERM));
  EXPECT_THAT(Reap(member), KilledBySignal(SIGTERM));
  // The group is gone with them.
  EXPECT_THAT(kill(-leader, 0), SyscallFailsWithErrno(ESRCH));
}

TEST(KillTest, PidZeroSignalsTheCallersGroupFork) {
  auto child = [] {
    CHILD_EXPECT(setpgid(0, 0) == 0);
    std::vector<pid_t> kids;
    for (int i = 0; i < 2; i++) {
      pid_t pid = ForkSleeper();
      CHILD_EXPECT(pid > 0);
      kids.push_back(pid);
    }
    // A grandchild in another group is not signalled.
    pid_t outsider = ForkSleeper();
    CHILD_EXPECT(outsider > 0);
    CHILD_EXPECT(setpgid(outsider, outsider) == 0);
    g_count = 0;
    CHILD_EXPECT(signal(SIGUSR1, Count) != SIG_ERR);
    CHILD_EXPECT(kill(0, SIGUSR1) == 0);
    // The caller is in its group too; a signal to itself is delivered
    // before kill returns.
    CHILD_EXPECT(g_count == 1);
    for (pid_t pid : kids) {
      int status = Reap(pid);
      CHILD_EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR1);
    }
    CHILD_EXPECT(kill(outsider, 0) == 0);
    int status;
    CHILD_EXPECT(waitpid(outsider, &status, WNOHANG) == 0);
    kill(outsider, SIGKILL);
    Reap(outsider);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(KillTest, MinusOneSignalsAllPermittedProcessesButTheCallerFork) {
  std::string why_not = WhyNobodyIsUnavailable();
  if (!why_not.empty()) GTEST_SKIP() << why_not;
  // As an otherwise unused uid, kill(-1) may signal only this child's own
  // children: everything else belongs to other users.
  auto child = [] {
    CHILD_EXPECT(setgroups(0, nullptr) == 0);
    CHILD_EXPECT(setresgid(kPrivateUid, kPrivateUid, kPrivateUid) == 0);
    CHILD_EXPECT(setresuid(kPrivateUid, kPrivateUid, kPrivateUid) == 0);
    pid_t a = ForkSleeper();
    pid_t b = ForkSleeper();
    CHILD_EXPECT(a > 0 && b > 0);
    g_count = 0;
    CHILD_EXPECT(signal(SIGUSR2, Count) != SIG_ERR);
    CHILD_EXPECT(kill(-1, SIGUSR2) == 0);
    int sa = Reap(a), sb = Reap(b);
    CHILD_EXPECT(WIFSIGNALED(sa) && WTERMSIG(sa) == SIGUSR2);
    CHILD_EXPECT(WIFSIGNALED(sb) && WTERMSIG(sb) == SIGUSR2);
    // "all processes ... except for process 1 (init)" and, on Linux, the
    // caller itself.
    CHILD_EXPECT(g_count == 0);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

// --- permissions ---

TEST(KillTest, UnprivilegedSenderCannotSignalAnotherUserFork) {
  std::string why_not = WhyNobodyIsUnavailable();
  if (!why_not.empty()) GTEST_SKIP() << why_not;
  pid_t root_sleeper = ForkSleeper();
  ASSERT_THAT(root_sleeper, SyscallSucceeds());
  auto child = [root_sleeper] {
    CHILD_EXPECT(kill(root_sleeper, 0) == -1);
    CHILD_EXPECT(errno == EPERM);
    CHILD_EXPECT(kill(root_sleeper, SIGTERM) == -1);
    CHILD_EXPECT(errno == EPERM);
    // Nonexistent still wins over permission.
    CHILD_EXPECT(kill(0x3fffffff, 0) == -1);
    CHILD_EXPECT(errno == ESRCH);
    return 0;
  };
  EXPECT_THAT(ForkAsNobodyAndWait(child), ExitedWithCode(0));
  EXPECT_THAT(kill(root_sleeper, 0), SyscallSucceeds());
  kill(root_sleeper, SIGKILL);
  EXPECT_THAT(Reap(root_sleeper), KilledBySignal(SIGKILL));
}

TEST(KillTest, SigcontIsAllowedWithinTheSessionFork) {
  // kill(2): "In the case of SIGCONT, it suffices when the sending and
  // receiving processes belong to the same session."
  std::string why_not = WhyNobodyIsUnavailable();
  if (!why_not.empty()) GTEST_SKIP() << why_not;
  pid_t root_sleeper = ForkSleeper();
  ASSERT_THAT(root_sleeper, SyscallSucceeds());
  auto child = [root_sleeper] {
    CHILD_EXPECT(getsid(0) == getsid(root_sleeper));
    CHILD_EXPECT(kill(root_sleeper, SIGCONT) == 0);
    // Only SIGCONT.
    CHILD_EXPECT(kill(root_sleeper, SIGUSR1) == -1);
    CHILD_EXPECT(errno == EPERM);
    return 0;
  };
  EXPECT_THAT(ForkAsNobodyAndWait(child), ExitedWithCode(0));
  kill(root_sleeper, SIGKILL);
  EXPECT_THAT(Reap(root_sleeper), KilledBySignal(SIGKILL));
}

TEST(KillTest, UnprivilegedSenderCanSignalItsOwnProcessesFork) {
  std::string why_not = WhyNobodyIsUnavailable();
  if (!why_not.empty()) GTEST_SKIP() << why_not;
  auto child = [] {
    pid_t pid = ForkSleeper();
    CHILD_EXPECT(pid > 0);
    CHILD_EXPECT(kill(pid, 0) == 0);
    CHILD_EXPECT(kill(pid, SIGTERM) == 0);
    int status = Reap(pid);
    CHILD_EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    return 0;
  };
  EXPECT_THAT(ForkAsNobodyAndWait(child), ExitedWithCode(0));
}

TEST(KillTest, SiginfoCarriesTheSendersRealUidFork) {
  std::string why_not = WhyNobodyIsUnavailable();
  if (!why_not.empty()) GTEST_SKIP() << why_not;
  auto child = [] {
    struct sigaction sa = {};
    sa.sa_sigaction = RecordSender;
    sa.sa_flags = SA_SIGINFO;
    CHILD_EXPECT(sigaction(SIGUSR1, &sa, nullptr) == 0);
    g_count = 0;
    CHILD_EXPECT(kill(getpid(), SIGUSR1) == 0);
    CHILD_EXPECT(g_count == 1);
    CHILD_EXPECT(g_si_uid == static_cast<int>(kNobodyUid));
    CHILD_EXPECT(g_si_pid == getpid());
    return 0;
  };
  EXPECT_THAT(ForkAsNobodyAndWait(child), ExitedWithCode(0));
}

TEST(KillTest, RealUidOfTheSenderMatchesTheTargetsSavedUidFork) {
  // The sender's real or effective uid must match the target's real or
  // saved set-user-ID: a target whose saved uid is the sender's is fair
  // game even when its effective uid is not.
  std::string why_not = WhyNobodyIsUnavailable();
  if (!why_not.empty()) GTEST_SKIP() << why_not;
  auto child = [] {
    int ready[2];
    CHILD_EXPECT(pipe(ready) == 0);
    pid_t target = fork();
    CHILD_EXPECT(target >= 0);
    if (target == 0) {
      // ruid root, euid nobody, suid nobody.
      if (setresuid(0, kNobodyUid, kNobodyUid) != 0) _exit(1);
      (void)!write(ready[1], "r", 1);
      for (;;) pause();
    }
    char c;
    CHILD_EXPECT(read(ready[0], &c, 1) == 1);
    pid_t sender = fork();
    CHILD_EXPECT(sender >= 0);
    if (sender == 0) {
      if (setresuid(kNobodyUid, kNobodyUid, kNobodyUid) != 0) _exit(1);
      _exit(kill(target, SIGTERM) == 0 ? 0 : 2);
    }
    int status = Reap(sender);
    CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    status = Reap(target);
    CHILD_EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

}  // namespace
}  // namespace sentry::testing
