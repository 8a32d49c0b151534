// wait4(2)/waitpid(2) and waitid(2) from the man pages: WNOHANG, choosing
// children by pid, process group or any, ECHILD, the exit status (its low 8
// bits), rusage, waitid's siginfo (CLD_EXITED, CLD_KILLED), WNOWAIT,
// "clone" children (__WCLONE, __WALL), P_PIDFD, and EINTR against
// SA_RESTART.
//
// Every case runs in a forked child of its own, so that the children it
// waits for are the only ones there are.
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace sentry::testing {
namespace {

// Forks a child that exits with `code` after `delay_ms`; returns its pid.
pid_t ForkExiting(int code, int delay_ms = 0) {
  pid_t pid = fork();
  if (pid == 0) {
    if (delay_ms > 0) usleep(delay_ms * 1000);
    _exit(code);
  }
  return pid;
}

// Forks a child that sleeps until killed.
pid_t ForkSleeper() {
  pid_t pid = fork();
  if (pid == 0) {
    for (;;) pause();
  }
  return pid;
}

// Burns about `ms` milliseconds of CPU time in user mode.
void Spin(int ms) {
  struct timespec start, now;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
  volatile unsigned long x = 0;
  do {
    for (int i = 0; i < 100000; i++) x = x + i;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  } while ((now.tv_sec - start.tv_sec) * 1000 +
               (now.tv_nsec - start.tv_nsec) / 1000000 <
           ms);
}

volatile sig_atomic_t g_signals = 0;
void Count(int) { g_signals = g_signals + 1; }

TEST(WaitTest, WnohangReturnsZeroWhileTheChildRuns) {
  auto child = [] {
    pid_t pid = ForkSleeper();
    CHILD_EXPECT(pid > 0);
    int status = -1;
    CHILD_EXPECT(waitpid(pid, &status, WNOHANG) == 0);
    CHILD_EXPECT(waitpid(-1, &status, WNOHANG) == 0);
    CHILD_EXPECT(kill(pid, SIGKILL) == 0);
    CHILD_EXPECT(waitpid(pid, &status, 0) == pid);
    CHILD_EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(WaitTest, WithoutChildrenFailsEchild) {
  auto child = [] {
    int status;
    CHILD_EXPECT(wait(&status) == -1 && errno == ECHILD);
    CHILD_EXPECT(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD);
    // Neither the caller itself nor a missing pid is a child.
    CHILD_EXPECT(waitpid(getpid(), &status, 0) == -1 && errno == ECHILD);
    CHILD_EXPECT(waitpid(0x3fffffff, &status, 0) == -1 && errno == ECHILD);
    siginfo_t info;
    CHILD_EXPECT(waitid(P_ALL, 0, &info, WEXITED) == -1 && errno == ECHILD);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(WaitTest, GrandchildIsNotAChild) {
  auto child = [] {
    int pipefd[2];
    CHILD_EXPECT(pipe(pipefd) == 0);
    pid_t middle = fork();
    CHILD_EXPECT(middle >= 0);
    if (middle == 0) {
      pid_t grandchild = ForkSleeper();
      (void)!write(pipefd[1], &grandchild, sizeof(grandchild));
      int status;
      waitpid(grandchild, &status, 0);
      _exit(0);
    }
    pid_t grandchild;
    CHILD_EXPECT(read(pipefd[0], &grandchild, sizeof(grandchild)) ==
                 sizeof(grandchild));
    int status;
    CHILD_EXPECT(waitpid(grandchild, &status, WNOHANG) == -1);
    CHILD_EXPECT(errno == ECHILD);
    kill(grandchild, SIGKILL);
    CHILD_EXPECT(waitpid(middle, &status, 0) == middle);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(WaitTest, SpecificPidLeavesTheOtherChildrenWaitable) {
  auto child = [] {
    pid_t first = ForkExiting(1);
    pid_t second = ForkExiting(2, 30);
    CHILD_EXPECT(first > 0 && second > 0);
    int status;
    // The first has (very likely) exited already; asking for the second
    // still waits for the second.
    CHILD_EXPECT(waitpid(second, &status, 0) == second);
    CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 2);
    CHILD_EXPECT(waitpid(-1, &status, 0) == first);
    CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    CHILD_EXPECT(waitpid(-1, &status, 0) == -1 && errno == ECHILD);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(WaitTest, AnyChildReapsEachOnceThenEchild) {
  auto child = [] {
    std::vector<pid_t> kids;
    for (int i = 0; i < 4; i++) {
      pid_t pid = ForkExiting(10 + i, 5 * i);
      CHILD_EXPECT(pid > 0);
      kids.push_back(pid);
    }
    std::vector<pid_t> reaped;
    for (int i = 0; i < 4; i++) {
      int status;
      pid_t pid = wait(&status);
      CHILD_EXPECT(pid > 0);
      auto it = std::find(kids.begin(), kids.end(), pid);
      CHILD_EXPECT(it != kids.end());
      CHILD_EXPECT(WIFEXITED(status) &&
                   WEXITSTATUS(status) == 10 + (it - kids.begin()));
      reaped.push_back(pid);
    }
    std::sort(reaped.begin(), reaped.end());
    CHILD_EXPECT(std::unique(reaped.begin(), reaped.end()) == reaped.end());
    int status;
    CHILD_EXPECT(wait(&status) == -1 && errno == ECHILD);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(WaitTest, ExitStatusIsTheLowEightBits) {
  auto child = [] {
    const int codes[][2] = {
        {0, 0}, {255, 255}, {256 + 7, 7}, {-1, 255}, {0x1234, 0x34}};
    for (const auto& c : codes) {
      pid_t pid = ForkExiting(c[0]);
      CHILD_EXPECT(pid > 0);
      int status;
      CHILD_EXPECT(waitpid(pid, &status, 0) == pid);
      CHILD_EXPECT(WIFEXITED(status));
      CHILD_EXPECT(WEXITSTATUS(status) == c[1]);
    }
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(WaitTest, ProcessGroupSelectsChildren) {
  auto child = [] {
    CHILD_EXPECT(setpgid(0, 0) == 0);
    // `other` is in a group of its own; `same` stays in ours.
    pid_t other = fork();
    CHILD_EXPECT(other >= 0);
    if (other == 0) {
      setpgid(0, 0);
      usleep(20 * 1000);
      _exit(3);
    }
    CHILD_EXPECT(setpgid(other, other) == 0);
    int status;
    // The only child is in another group: nothing to wait for in ours.
    CHILD_EXPECT(waitpid(0, &status, 0) == -1 && errno == ECHILD);
    pid_t same = ForkExiting(4, 20);
    CHILD_EXPECT(same > 0);
    CHILD_EXPECT(waitpid(0, &status, 0) == same);
    CHILD_EXPECT(WEXITSTATUS(status) == 4);
    CHILD_EXPECT(waitpid(-other, &status, 0) == other);
    CHILD_EXPECT(WEXITSTATUS(status) == 3);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(WaitTest, Wait4ReportsTheChildsCpuTime) {
  auto child = [] {
    pid_t pid = fork();
    CHILD_EXPECT(pid >= 0);
    if (pid == 0) {
      Spin(100);
      _exit(0);
    }
    int status;
    struct rusage ru = {};
    CHILD_EXPECT(wait4(pid, &status, 0, &ru) == pid);
    long us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L +
              ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
    CHILD_EXPECT(us >= 50 * 1000);
    CHILD_EXPECT(ru.ru_maxrss > 0);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(WaitTest, InvalidOptionsFailEinval) {
  int status;
  EXPECT_THAT(waitpid(-1, &status, 0x100), SyscallFailsWithErrno(EINVAL));
  siginfo_t info;
  // waitid needs at least one of WEXITED, WSTOPPED, WCONTINUED.
  EXPECT_THAT(waitid(P_ALL, 0, &info, WNOHANG), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(waitid(static_cast<idtype_t>(42), 0, &info, WEXITED),
              SyscallFailsWithErrno(EINVAL));
}

// --- waitid ---

TEST(WaitidTest, ExitFillsTheSiginfo) {
  auto child = [] {
    pid_t pid = ForkExiting(42);
    CHILD_EXPECT(pid > 0);
    siginfo_t info = {};
    CHILD_EXPECT(waitid(P_PID, pid, &info, WEXITED) == 0);
    CHILD_EXPECT(info.si_signo == SIGCHLD);
    CHILD_EXPECT(info.si_code == CLD_EXITED);
    CHILD_EXPECT(info.si_pid == pid);
    CHILD_EXPECT(info.si_uid == getuid());
    CHILD_EXPECT(info.si_status == 42);
    // Reaped: gone.
    CHILD_EXPECT(waitid(P_PID, pid, &info, WEXITED) == -1 && errno == ECHILD);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(WaitidTest, KilledChildReportsTheSignal) {
  auto child = [] {
    pid_t pid = ForkSleeper();
    CHILD_EXPECT(pid > 0);
    CHILD_EXPECT(kill(pid, SIGTERM) == 0);
    siginfo_t info = {};
    CHILD_EXPECT(waitid(P_PID, pid, &info, WEXITED) == 0);
    CHILD_EXPECT(info.si_code == CLD_KILLED);
    CHILD_EXPECT(info.si_status == SIGTERM);
    CHILD_EXPECT(info.si_pid == pid);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(WaitidTest, WnowaitLeavesTheChildWaitable) {
  auto child = [] {
    pid_t pid = ForkExiting(5);
    CHILD_EXPECT(pid > 0);
    siginfo_t info = {};
    CHILD_EXPECT(waitid(P_PID, pid, &info, WEXITED | WNOWAIT) == 0);
    CHILD_EXPECT(info.si_pid == pid && info.si_status == 5);
    memset(&info, 0, sizeof(info));
    CHILD_EXPECT(waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) == 0);
    CHILD_EXPECT(info.si_pid == pid);
    int status;
    CHILD_EXPECT(waitpid(pid, &status, 0) == pid);
    CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 5);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(WaitidTest, WnohangWithNothingReadyLeavesSiPidZero) {
  auto child = [] {
    pid_t pid = ForkSleeper();
    CHILD_EXPECT(pid > 0);
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    // "zero out the si_pid field before the call and check for a nonzero
    // value in this field after the call returns".
    CHILD_EXPECT(waitid(P_PID, pid, &info, WEXITED | WNOHANG) == 0);
    CHILD_EXPECT(info.si_pid == 0);
    kill(pid, SIGKILL);
    CHILD_EXPECT(waitid(P_PID, pid, &info, WEXITED) == 0);
    CHILD_EXPECT(info.si_pid == pid);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(WaitidTest, PPgidSelectsTheGroup) {
  auto child = [] {
    pid_t leader = fork();
    CHILD_EXPECT(leader >= 0);
    if (leader == 0) {
      setpgid(0, 0);
      usleep(30 * 1000);
      _exit(8);
    }
    CHILD_EXPECT(setpgid(leader, leader) == 0);
    pid_t outsider = ForkExiting(9);
    CHILD_EXPECT(outsider > 0);
    siginfo_t info = {};
    CHILD_EXPECT(waitid(P_PGID, leader, &info, WEXITED) == 0);
    CHILD_EXPECT(info.si_pid == leader && info.si_status == 8);
    CHILD_EXPECT(waitid(P_ALL, 0, &info, WEXITED) == 0);
    CHILD_EXPECT(info.si_pid == outsider && info.si_status == 9);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(WaitidTest, PPidfdWaitsForThatChild) {
  auto child = [] {
    pid_t pid = ForkExiting(6, 10);
    CHILD_EXPECT(pid > 0);
    int pidfd = syscall(SYS_pidfd_open, pid, 0);
    CHILD_EXPECT(pidfd >= 0);
    siginfo_t info = {};
    CHILD_EXPECT(
        waitid(static_cast<idtype_t>(P_PIDFD), pidfd, &info, WEXITED) == 0);
    CHILD_EXPECT(info.si_pid == pid && info.si_status == 6);
    close(pidfd);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

// --- clone children ---

TEST(WaitTest, CloneChildNeedsWcloneOrWall) {
  // wait(2): a "clone" child delivers no signal or a signal other than
  // SIGCHLD on termination; without __WCLONE or __WALL it is not waited
  // for.
  auto child = [] {
    CHILD_EXPECT(signal(SIGUSR1, Count) != SIG_ERR);
    for (int wall = 0; wall < 2; wall++) {
      long pid = syscall(SYS_clone, SIGUSR1, nullptr, nullptr, nullptr, 0);
      CHILD_EXPECT(pid >= 0);
      if (pid == 0) _exit(3);
      int status;
      CHILD_EXPECT(waitpid(pid, &status, WNOHANG) == -1);
      CHILD_EXPECT(errno == ECHILD);
      CHILD_EXPECT(waitpid(pid, &status, wall ? __WALL : __WCLONE) == pid);
      CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    }
    // Each exit was announced with SIGUSR1.
    CHILD_EXPECT(g_signals == 2);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(WaitTest, WcloneSkipsOrdinaryChildren) {
  auto child = [] {
    pid_t pid = ForkExiting(1);
    CHILD_EXPECT(pid > 0);
    int status;
    CHILD_EXPECT(waitpid(pid, &status, __WCLONE) == -1 && errno == ECHILD);
    CHILD_EXPECT(waitpid(pid, &status, __WALL) == pid);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

// --- signals ---

// Arms a one-shot ITIMER_REAL of `ms` milliseconds.
void AlarmIn(int ms) {
  struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
  setitimer(ITIMER_REAL, &it, nullptr);
}

TEST(WaitTest, SignalInterruptsAWaitEintr) {
  auto child = [] {
    struct sigaction sa = {};
    sa.sa_handler = Count;
    CHILD_EXPECT(sigaction(SIGALRM, &sa, nullptr) == 0);
    pid_t pid = ForkSleeper();
    CHILD_EXPECT(pid > 0);
    AlarmIn(50);
    int status;
    CHILD_EXPECT(waitpid(pid, &status, 0) == -1);
    CHILD_EXPECT(errno == EINTR);
    CHILD_EXPECT(g_signals == 1);
    kill(pid, SIGKILL);
    CHILD_EXPECT(waitpid(pid, &status, 0) == pid);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

// Write end of a pipe that CountAndRelease writes to.
int g_release_fd = -1;

void CountAndRelease(int) {
  g_signals = g_signals + 1;
  (void)!write(g_release_fd, "r", 1);
}

TEST(WaitTest, SaRestartRestartsAWait) {
  auto child = [] {
    struct sigaction sa = {};
    sa.sa_handler = CountAndRelease;
    sa.sa_flags = SA_RESTART;
    CHILD_EXPECT(sigaction(SIGALRM, &sa, nullptr) == 0);
    int release[2];
    CHILD_EXPECT(pipe(release) == 0);
    g_release_fd = release[1];
    // The grandchild exits only once the handler has run, so the signal
    // surely arrives during the wait.
    pid_t pid = fork();
    CHILD_EXPECT(pid >= 0);
    if (pid == 0) {
      char c;
      _exit(read(release[0], &c, 1) == 1 ? 12 : 1);
    }
    AlarmIn(50);
    int status;
    CHILD_EXPECT(waitpid(pid, &status, 0) == pid);
    CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 12);
    CHILD_EXPECT(g_signals == 1);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(WaitTest, ChildExitSendsSigchldWithItsStatus) {
  auto child = [] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    CHILD_EXPECT(sigprocmask(SIG_BLOCK, &set, nullptr) == 0);
    pid_t pid = ForkExiting(33);
    CHILD_EXPECT(pid > 0);
    siginfo_t info = {};
    struct timespec timeout = {5, 0};
    CHILD_EXPECT(sigtimedwait(&set, &info, &timeout) == SIGCHLD);
    CHILD_EXPECT(info.si_code == CLD_EXITED);
    CHILD_EXPECT(info.si_pid == pid);
    CHILD_EXPECT(info.si_status == 33);
    int status;
    CHILD_EXPECT(waitpid(pid, &status, 0) == pid);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

}  // namespace
}  // namespace sentry::testing
