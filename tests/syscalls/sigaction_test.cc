// sigaction(2) from the man pages (sigaction(2), signal(7)): what the old
// action reports, SA_RESETHAND, SA_NODEFER, sa_mask, SA_SIGINFO's siginfo
// for kill/sigqueue/tgkill/faults, the ucontext mask restored by
// sigreturn, SA_RESTART against EINTR, SIG_IGN discarding pending signals,
// children reaped automatically (SIGCHLD ignored, SA_NOCLDWAIT), default
// actions, and the errors.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

// Installs `sa` for `sig` for the scope and restores the old action.
class ScopedSigaction {
 public:
  ScopedSigaction(int sig, const struct sigaction& sa) : sig_(sig) {
    EXPECT_THAT(sigaction(sig, &sa, &old_), SyscallSucceeds());
  }
  ~ScopedSigaction() { sigaction(sig_, &old_, nullptr); }
  ScopedSigaction(const ScopedSigaction&) = delete;
  ScopedSigaction& operator=(const ScopedSigaction&) = delete;

 private:
  int sig_;
  struct sigaction old_;
};

struct sigaction Action(void (*handler)(int), int flags = 0) {
  struct sigaction sa = {};
  sa.sa_handler = handler;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  return sa;
}

struct sigaction InfoAction(void (*handler)(int, siginfo_t*, void*),
                            int flags = 0) {
  struct sigaction sa = {};
  sa.sa_sigaction = handler;
  sa.sa_flags = flags | SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  return sa;
}

// Whether `sig` is in the calling thread's signal mask.
bool IsBlocked(int sig) {
  sigset_t cur;
  sigprocmask(SIG_BLOCK, nullptr, &cur);
  return sigismember(&cur, sig) == 1;
}

// What handlers saw.
volatile sig_atomic_t g_count = 0;
volatile sig_atomic_t g_depth = 0;
volatile sig_atomic_t g_max_depth = 0;
volatile sig_atomic_t g_self_blocked = -1;
volatile sig_atomic_t g_usr2_blocked = -1;
siginfo_t g_info;

void ResetRecords() {
  g_count = 0;
  g_depth = 0;
  g_max_depth = 0;
  g_self_blocked = -1;
  g_usr2_blocked = -1;
  memset(&g_info, 0, sizeof(g_info));
}

void Count(int) { g_count = g_count + 1; }

void RecordMask(int sig) {
  g_count = g_count + 1;
  g_self_blocked = IsBlocked(sig);
  g_usr2_blocked = IsBlocked(SIGUSR2);
}

// Raises its own signal once from inside the handler and tracks nesting.
void ReraiseOnce(int sig) {
  g_depth = g_depth + 1;
  if (g_depth > g_max_depth) g_max_depth = g_depth;
  g_count = g_count + 1;
  if (g_count == 1) raise(sig);
  g_depth = g_depth - 1;
}

void RecordInfo(int, siginfo_t* info, void*) {
  g_count = g_count + 1;
  g_info = *info;
}

// --- the action itself ---

TEST(SigactionTest, OldActionIsWhatWasInstalled) {
  struct sigaction sa = Action(Count, SA_RESTART);
  sigaddset(&sa.sa_mask, SIGUSR2);
  ScopedSigaction scoped(SIGUSR1, sa);
  struct sigaction got = {};
  ASSERT_THAT(sigaction(SIGUSR1, nullptr, &got), SyscallSucceeds());
  EXPECT_EQ(got.sa_handler, Count);
  EXPECT_TRUE(got.sa_flags & SA_RESTART);
  EXPECT_FALSE(got.sa_flags & SA_SIGINFO);
  EXPECT_EQ(sigismember(&got.sa_mask, SIGUSR2), 1);
  EXPECT_EQ(sigismember(&got.sa_mask, SIGINT), 0);
  // Replacing returns the previous action in the same call.
  struct sigaction ign = Action(SIG_IGN);
  struct sigaction old = {};
  ASSERT_THAT(sigaction(SIGUSR1, &ign, &old), SyscallSucceeds());
  EXPECT_EQ(old.sa_handler, Count);
  ASSERT_THAT(sigaction(SIGUSR1, nullptr, &got), SyscallSucceeds());
  EXPECT_EQ(got.sa_handler, SIG_IGN);
}

TEST(SigactionTest, ResethandRestoresTheDefaultOnDelivery) {
  ResetRecords();
  ScopedSigaction scoped(SIGUSR1, Action(Count, SA_RESETHAND));
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_count, 1);
  struct sigaction got = {};
  ASSERT_THAT(sigaction(SIGUSR1, nullptr, &got), SyscallSucceeds());
  EXPECT_EQ(got.sa_handler, SIG_DFL);
  // The default action of SIGUSR1 terminates: shown in a child.
  auto child = [] {
    raise(SIGUSR1);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), KilledBySignal(SIGUSR1));
}

TEST(SigactionTest, SignalIsBlockedInsideItsOwnHandler) {
  ResetRecords();
  ScopedSigaction scoped(SIGUSR1, Action(RecordMask));
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_count, 1);
  EXPECT_EQ(g_self_blocked, 1);
  EXPECT_EQ(g_usr2_blocked, 0);
  // The mask is back to normal after the handler returns.
  EXPECT_FALSE(IsBlocked(SIGUSR1));
}

TEST(SigactionTest, SaMaskIsBlockedOnlyDuringTheHandler) {
  ResetRecords();
  struct sigaction sa = Action(RecordMask);
  sigaddset(&sa.sa_mask, SIGUSR2);
  ScopedSigaction scoped(SIGUSR1, sa);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_count, 1);
  EXPECT_EQ(g_usr2_blocked, 1);
  EXPECT_FALSE(IsBlocked(SIGUSR2));
}

TEST(SigactionTest, NodeferLetsTheHandlerBeInterruptedBySameSignal) {
  ResetRecords();
  ScopedSigaction scoped(SIGUSR1, Action(ReraiseOnce, SA_NODEFER));
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_count, 2);
  EXPECT_EQ(g_max_depth, 2);  // the second ran inside the first
}

TEST(SigactionTest, WithoutNodeferTheSameSignalWaitsForTheHandler) {
  ResetRecords();
  ScopedSigaction scoped(SIGUSR1, Action(ReraiseOnce));
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_count, 2);
  EXPECT_EQ(g_max_depth, 1);  // the second ran after the first returned
}

// --- SA_SIGINFO ---

TEST(SigactionTest, SiginfoOfKillNamesTheSender) {
  ResetRecords();
  ScopedSigaction scoped(SIGUSR1, InfoAction(RecordInfo));
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(g_info.si_signo, SIGUSR1);
  EXPECT_EQ(g_info.si_code, SI_USER);
  EXPECT_EQ(g_info.si_pid, getpid());
  EXPECT_EQ(g_info.si_uid, getuid());
}

TEST(SigactionTest, SiginfoOfSigqueueCarriesTheValue) {
  ResetRecords();
  ScopedSigaction scoped(SIGRTMIN, InfoAction(RecordInfo));
  union sigval v;
  v.sival_int = 4242;
  ASSERT_THAT(sigqueue(getpid(), SIGRTMIN, v), SyscallSucceeds());
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(g_info.si_signo, SIGRTMIN);
  EXPECT_EQ(g_info.si_code, SI_QUEUE);
  EXPECT_EQ(g_info.si_pid, getpid());
  EXPECT_EQ(g_info.si_value.sival_int, 4242);
}

TEST(SigactionTest, SiginfoOfTgkillIsSiTkill) {
  ResetRecords();
  ScopedSigaction scoped(SIGUSR2, InfoAction(RecordInfo));
  ASSERT_THAT(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2),
              SyscallSucceeds());
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(g_info.si_code, SI_TKILL);
  EXPECT_EQ(g_info.si_pid, getpid());
}

void* g_fault_page = nullptr;

void ExitOnSegv(int sig, siginfo_t* info, void*) {
  // Exit codes tell the parent what the handler saw.
  if (sig != SIGSEGV || info->si_signo != SIGSEGV) _exit(10);
  if (info->si_addr != static_cast<char*>(g_fault_page) + 8) _exit(11);
  if (info->si_code != SEGV_ACCERR) _exit(12);
  _exit(0);
}

TEST(SigactionTest, SiginfoOfAFaultHasTheAddressFork) {
  auto child = [] {
    g_fault_page =
        mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHILD_EXPECT(g_fault_page != MAP_FAILED);
    struct sigaction sa = InfoAction(ExitOnSegv);
    CHILD_EXPECT(sigaction(SIGSEGV, &sa, nullptr) == 0);
    *(static_cast<volatile char*>(g_fault_page) + 8) = 1;
    return 20;  // not reached
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

void AddUsr2ToTheInterruptedMask(int, siginfo_t*, void* uc) {
  g_count = g_count + 1;
  ucontext_t* ctx = static_cast<ucontext_t*>(uc);
  // The saved mask is the one from before the handler: SIGUSR1 (being
  // handled) is not in it.
  g_self_blocked = sigismember(&ctx->uc_sigmask, SIGUSR1);
  sigaddset(&ctx->uc_sigmask, SIGUSR2);
}

TEST(SigactionTest, SigreturnRestoresTheMaskFromTheUcontext) {
  ResetRecords();
  sigset_t before;
  ASSERT_THAT(sigprocmask(SIG_BLOCK, nullptr, &before), SyscallSucceeds());
  ASSERT_FALSE(sigismember(&before, SIGUSR2));
  {
    ScopedSigaction scoped(SIGUSR1, InfoAction(AddUsr2ToTheInterruptedMask));
    ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  }
  EXPECT_EQ(g_count, 1);
  EXPECT_EQ(g_self_blocked, 0);
  bool usr2_blocked = IsBlocked(SIGUSR2);
  sigprocmask(SIG_SETMASK, &before, nullptr);
  EXPECT_TRUE(usr2_blocked);
}

// --- SA_RESTART ---

void NotifyParent(int) {
  // fd 100 is the notification pipe set up by ReadAcrossASignal's child.
  char c = 'h';
  (void)!write(100, &c, 1);
}

// Field 3 of /proc/<pid>/stat: R, S, D, ...
char ProcState(pid_t pid) {
  std::string stat = ReadProcFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size()
             ? '?'
             : stat[paren + 2];
}

// Forks a child that catches SIGUSR1 with `flags` and reads one byte from
// a pipe. Once the child sleeps in that read, signals it, waits for the
// handler to run, writes a byte if `write_data`, and closes the pipe. The
// child exits 0 if read returned the byte, 1 at EOF, 2 on EINTR, 3 on
// another error. Returns the wait status.
int ReadAcrossASignal(int flags, bool write_data) {
  int data[2], notify[2];
  if (pipe(data) != 0 || pipe(notify) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(notify[1], 100);
    close(data[1]);
    struct sigaction sa = Action(NotifyParent, flags);
    sigaction(SIGUSR1, &sa, nullptr);
    char c;
    ssize_t n = read(data[0], &c, 1);
    _exit(n == 1 ? 0 : n == 0 ? 1 : errno == EINTR ? 2 : 3);
  }
  close(data[0]);
  close(notify[1]);
  // Wait (up to 5 s) for the child to sleep in read.
  for (int i = 0; i < 5000 && ProcState(pid) != 'S'; i++) usleep(1000);
  usleep(20 * 1000);
  kill(pid, SIGUSR1);
  struct pollfd pfd = {notify[0], POLLIN, 0};
  EXPECT_THAT(poll(&pfd, 1, 5000), SyscallSucceedsWithValue(1));
  if (write_data) {
    EXPECT_THAT(write(data[1], "x", 1), SyscallSucceeds());
  }
  close(data[1]);
  close(notify[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(SigactionTest, SaRestartResumesABlockedPipeReadFork) {
  EXPECT_THAT(ReadAcrossASignal(SA_RESTART, true), ExitedWithCode(0));
}

TEST(SigactionTest, WithoutSaRestartABlockedReadFailsEintrFork) {
  EXPECT_THAT(ReadAcrossASignal(0, false), ExitedWithCode(2));
}

// --- ignoring ---

TEST(SigactionTest, IgnoringAPendingSignalDiscardsIt) {
  // signal(7)/POSIX: setting SIG_IGN for a pending signal discards it.
  ResetRecords();
  ScopedSigaction handled(SIGUSR1, Action(Count));
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, &old), SyscallSucceeds());
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  sigset_t pending;
  ASSERT_THAT(sigpending(&pending), SyscallSucceeds());
  EXPECT_EQ(sigismember(&pending, SIGUSR1), 1);
  struct sigaction ign = Action(SIG_IGN);
  ASSERT_THAT(sigaction(SIGUSR1, &ign, nullptr), SyscallSucceeds());
  ASSERT_THAT(sigpending(&pending), SyscallSucceeds());
  EXPECT_EQ(sigismember(&pending, SIGUSR1), 0);
  struct sigaction count = Action(Count);
  ASSERT_THAT(sigaction(SIGUSR1, &count, nullptr), SyscallSucceeds());
  ASSERT_THAT(sigprocmask(SIG_SETMASK, &old, nullptr), SyscallSucceeds());
  EXPECT_EQ(g_count, 0);
}

// In a child: forks a grandchild that exits after 50 ms, then waits. With
// the children reaped automatically, wait blocks until the grandchild is
// gone and then fails with ECHILD.
int WaitForAutoReapedChild() {
  pid_t pid = fork();
  CHILD_EXPECT(pid >= 0);
  if (pid == 0) {
    usleep(50 * 1000);
    _exit(7);
  }
  int status;
  CHILD_EXPECT(wait(&status) == -1);
  CHILD_EXPECT(errno == ECHILD);
  CHILD_EXPECT(waitpid(pid, &status, WNOHANG) == -1);
  CHILD_EXPECT(errno == ECHILD);
  return 0;
}

TEST(SigactionTest, IgnoredSigchldReapsChildrenFork) {
  auto child = [] {
    struct sigaction sa = Action(SIG_IGN);
    CHILD_EXPECT(sigaction(SIGCHLD, &sa, nullptr) == 0);
    return WaitForAutoReapedChild();
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(SigactionTest, SaNocldwaitReapsChildrenFork) {
  auto child = [] {
    struct sigaction sa = Action(SIG_DFL, SA_NOCLDWAIT);
    CHILD_EXPECT(sigaction(SIGCHLD, &sa, nullptr) == 0);
    return WaitForAutoReapedChild();
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(SigactionTest, DefaultSigchldLeavesAZombieToWaitFor) {
  auto child = [] {
    struct sigaction sa = Action(SIG_DFL);
    CHILD_EXPECT(sigaction(SIGCHLD, &sa, nullptr) == 0);
    pid_t pid = fork();
    CHILD_EXPECT(pid >= 0);
    if (pid == 0) _exit(7);
    int status;
    CHILD_EXPECT(waitpid(pid, &status, 0) == pid);
    CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 7);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

// --- default actions ---

TEST(SigactionTest, DefaultActionsIgnoreOrTerminateFork) {
  // signal(7): SIGURG, SIGWINCH and SIGCHLD are ignored by default; SIGTERM
  // terminates.
  auto child = [] {
    struct sigaction dfl = Action(SIG_DFL);
    for (int sig : {SIGURG, SIGWINCH, SIGCHLD, SIGTERM}) {
      CHILD_EXPECT(sigaction(sig, &dfl, nullptr) == 0);
    }
    CHILD_EXPECT(raise(SIGURG) == 0);
    CHILD_EXPECT(raise(SIGWINCH) == 0);
    CHILD_EXPECT(raise(SIGCHLD) == 0);
    raise(SIGTERM);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), KilledBySignal(SIGTERM));
}

TEST(SigactionTest, HandlersAreInheritedByAForkChild) {
  ResetRecords();
  ScopedSigaction scoped(SIGUSR1, Action(Count));
  auto child = [] {
    CHILD_EXPECT(raise(SIGUSR1) == 0);
    CHILD_EXPECT(g_count == 1);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
  EXPECT_EQ(g_count, 0);
}

// --- errors ---

TEST(SigactionTest, SigkillAndSigstopCannotBeCaughtOrIgnored) {
  struct sigaction handler = Action(Count);
  struct sigaction ign = Action(SIG_IGN);
  for (int sig : {SIGKILL, SIGSTOP}) {
    EXPECT_THAT(sigaction(sig, &handler, nullptr),
                SyscallFailsWithErrno(EINVAL))
        << sig;
    EXPECT_THAT(sigaction(sig, &ign, nullptr), SyscallFailsWithErrno(EINVAL))
        << sig;
    // Reading their action is allowed.
    struct sigaction got;
    EXPECT_THAT(sigaction(sig, nullptr, &got), SyscallSucceeds()) << sig;
    EXPECT_EQ(got.sa_handler, SIG_DFL) << sig;
  }
}

TEST(SigactionTest, InvalidSignalNumbersFailEinval) {
  struct sigaction sa = Action(Count);
  struct sigaction got;
  for (int sig : {0, -1, 65, 1000}) {
    EXPECT_THAT(sigaction(sig, &sa, nullptr), SyscallFailsWithErrno(EINVAL))
        << sig;
    EXPECT_THAT(sigaction(sig, nullptr, &got), SyscallFailsWithErrno(EINVAL))
        << sig;
  }
  // The last real-time signal is valid.
  EXPECT_THAT(sigaction(SIGRTMAX, nullptr, &got), SyscallSucceeds());
}

// The kernel's struct sigaction for the raw rt_sigaction(2).
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  uint64_t mask;
};

TEST(SigactionTest, RawSigsetsizeMustBeEight) {
  KernelSigaction old = {};
  EXPECT_THAT(syscall(SYS_rt_sigaction, SIGUSR1, nullptr, &old, 4),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_rt_sigaction, SIGUSR1, nullptr, &old, 16),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_rt_sigaction, SIGUSR1, nullptr, &old, 8),
              SyscallSucceeds());
}

TEST(SigactionTest, BadPointersFailEfault) {
  EXPECT_THAT(syscall(SYS_rt_sigaction, SIGUSR1, reinterpret_cast<void*>(8),
                      nullptr, 8),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_rt_sigaction, SIGUSR1, nullptr,
                      reinterpret_cast<void*>(8), 8),
              SyscallFailsWithErrno(EFAULT));
}

}  // namespace
}  // namespace sentry::testing
