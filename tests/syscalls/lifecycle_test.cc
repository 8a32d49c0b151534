// Process lifecycle and address-space edge cases from the man pages:
// prctl(2) PR_SET_CHILD_SUBREAPER (orphans are reparented to the nearest
// living subreaper ancestor, which can wait for them) and PR_SET_PDEATHSIG
// (a signal sent when the parent dies, cleared in fork(2) children),
// mincore(2) and mmap(2) stacks (main-thread stack growth up to
// RLIMIT_STACK, MAP_GROWSDOWN).
//
// The test binary may be PID 1 inside the sandbox, so everything that makes
// a process a subreaper or an orphan happens in a forked child.
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

long PageSize() { return sysconf(_SC_PAGESIZE); }

// Seconds on CLOCK_MONOTONIC.
double Now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

// Polls getppid() until it is `parent`; false after `timeout` seconds.
bool WaitForParent(pid_t parent, double timeout = 5) {
  const double deadline = Now() + timeout;
  while (getppid() != parent) {
    if (Now() > deadline) return false;
    usleep(1000);
  }
  return true;
}

bool WritePid(int fd, pid_t pid) {
  return write(fd, &pid, sizeof(pid)) == static_cast<ssize_t>(sizeof(pid));
}

// The PID written by WritePid, or -1.
pid_t ReadPid(int fd) {
  pid_t pid;
  ssize_t n;
  do {
    n = read(fd, &pid, sizeof(pid));
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof(pid)) ? pid : -1;
}

// waitpid() retried on EINTR.
pid_t WaitFor(pid_t pid, int* status, int options = 0) {
  pid_t r;
  do {
    r = waitpid(pid, status, options);
  } while (r < 0 && errno == EINTR);
  return r;
}

// The calling process forks a "middle" child that forks a grandchild and
// exits. The grandchild exits with 42 once getppid() is `expected_parent`
// (3 if that does not happen within 5 s). Returns the grandchild's PID
// after reaping the middle process, or -1.
pid_t OrphanGrandchild(pid_t expected_parent) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t middle = fork();
  if (middle < 0) return -1;
  if (middle == 0) {
    pid_t grandchild = fork();
    if (grandchild < 0) _exit(2);
    if (grandchild == 0) _exit(WaitForParent(expected_parent) ? 42 : 3);
    _exit(WritePid(fds[1], grandchild) ? 0 : 4);
  }
  close(fds[1]);
  int status = 0;
  pid_t grandchild = -1;
  if (WaitFor(middle, &status) == middle && WIFEXITED(status) &&
      WEXITSTATUS(status) == 0) {
    grandchild = ReadPid(fds[0]);
  }
  close(fds[0]);
  return grandchild;
}

TEST(SubreaperTest, GetReturnsWhatWasSet) {
  EXPECT_THAT(
      ForkAndWait([] {
        int value = -1;
        CHILD_EXPECT(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
        CHILD_EXPECT(prctl(PR_GET_CHILD_SUBREAPER, &value, 0, 0, 0) == 0);
        CHILD_EXPECT(value == 1);
        CHILD_EXPECT(prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) == 0);
        CHILD_EXPECT(prctl(PR_GET_CHILD_SUBREAPER, &value, 0, 0, 0) == 0);
        CHILD_EXPECT(value == 0);
        return 0;
      }),
      ExitedWithCode(0));
}

TEST(SubreaperTest, NotInheritedByForkChildren) {
  EXPECT_THAT(ForkAndWait([] {
                CHILD_EXPECT(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
                pid_t child = fork();
                CHILD_EXPECT(child >= 0);
                if (child == 0) {
                  int value = -1;
                  if (prctl(PR_GET_CHILD_SUBREAPER, &value, 0, 0, 0) != 0) {
                    _exit(2);
                  }
                  _exit(value == 0 ? 0 : 3);
                }
                int status = 0;
                CHILD_EXPECT(WaitFor(child, &status) == child);
                CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(SubreaperTest, OrphanIsReparentedToSubreaperWhichCanWaitForIt) {
  EXPECT_THAT(
      ForkAndWait([] {
        CHILD_EXPECT(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
        pid_t grandchild = OrphanGrandchild(getpid());
        CHILD_EXPECT(grandchild > 0);
        int status = 0;
        CHILD_EXPECT(WaitFor(grandchild, &status) == grandchild);
        // 42: the grandchild saw getppid() == this process.
        CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 42);
        // Nothing else is left to wait for.
        CHILD_EXPECT(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD);
        return 0;
      }),
      ExitedWithCode(0));
}

// "the nearest still living ancestor subreaper": a subreaper below another
// one gets the orphan.
TEST(SubreaperTest, NearestSubreaperAncestorWins) {
  EXPECT_THAT(ForkAndWait([] {
                CHILD_EXPECT(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
                pid_t inner = fork();
                CHILD_EXPECT(inner >= 0);
                if (inner == 0) {
                  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) _exit(2);
                  pid_t grandchild = OrphanGrandchild(getpid());
                  if (grandchild <= 0) _exit(3);
                  int status = 0;
                  if (WaitFor(grandchild, &status) != grandchild) _exit(4);
                  _exit(WIFEXITED(status) && WEXITSTATUS(status) == 42 ? 0 : 5);
                }
                int status = 0;
                CHILD_EXPECT(WaitFor(inner, &status) == inner);
                CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                return 0;
              }),
              ExitedWithCode(0));
}

// An ancestor that is not a subreaper is skipped: the orphan goes to the
// subreaper above it, and the skipped ancestor cannot wait for it.
TEST(SubreaperTest, NonSubreaperAncestorIsSkipped) {
  EXPECT_THAT(
      ForkAndWait([] {
        CHILD_EXPECT(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
        const pid_t reaper = getpid();
        int fds[2];
        CHILD_EXPECT(pipe(fds) == 0);
        pid_t inner = fork();
        CHILD_EXPECT(inner >= 0);
        if (inner == 0) {
          pid_t grandchild = OrphanGrandchild(reaper);
          if (grandchild <= 0) _exit(3);
          // The middle process has been reaped, so the orphan has already
          // been reparented (exit(2) reparents before the zombie is
          // waitable): it is not our child.
          int status = 0;
          if (waitpid(grandchild, &status, WNOHANG) != -1 || errno != ECHILD) {
            _exit(4);
          }
          _exit(WritePid(fds[1], grandchild) ? 0 : 5);
        }
        close(fds[1]);
        int status = 0;
        CHILD_EXPECT(WaitFor(inner, &status) == inner);
        CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        pid_t grandchild = ReadPid(fds[0]);
        CHILD_EXPECT(grandchild > 0);
        CHILD_EXPECT(WaitFor(grandchild, &status) == grandchild);
        CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 42);
        return 0;
      }),
      ExitedWithCode(0));
}

TEST(PdeathsigTest, GetReturnsWhatWasSet) {
  EXPECT_THAT(ForkAndWait([] {
                int sig = -1;
                CHILD_EXPECT(prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) == 0);
                CHILD_EXPECT(sig == 0);
                CHILD_EXPECT(prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0) == 0);
                CHILD_EXPECT(prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) == 0);
                CHILD_EXPECT(sig == SIGUSR1);
                CHILD_EXPECT(prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) == 0);
                CHILD_EXPECT(prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) == 0);
                CHILD_EXPECT(sig == 0);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(PdeathsigTest, InvalidSignalFails) {
  EXPECT_THAT(
      ForkAndWait([] {
        CHILD_EXPECT(prctl(PR_SET_PDEATHSIG, _NSIG + 1, 0, 0, 0) == -1 &&
                     errno == EINVAL);
        CHILD_EXPECT(prctl(PR_SET_PDEATHSIG, -1L, 0, 0, 0) == -1 &&
                     errno == EINVAL);
        int sig = -1;
        CHILD_EXPECT(prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) == 0);
        CHILD_EXPECT(sig == 0);
        return 0;
      }),
      ExitedWithCode(0));
}

TEST(PdeathsigTest, ClearedInForkChild) {
  EXPECT_THAT(ForkAndWait([] {
                CHILD_EXPECT(prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0) == 0);
                pid_t child = fork();
                CHILD_EXPECT(child >= 0);
                if (child == 0) {
                  int sig = -1;
                  if (prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) != 0) _exit(2);
                  _exit(sig == 0 ? 0 : 3);
                }
                int status = 0;
                CHILD_EXPECT(WaitFor(child, &status) == child);
                CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                // The parent's own setting is unchanged.
                int sig = -1;
                CHILD_EXPECT(prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) == 0);
                CHILD_EXPECT(sig == SIGUSR1);
                return 0;
              }),
              ExitedWithCode(0));
}

volatile sig_atomic_t g_got_sigusr1 = 0;
void OnSigusr1(int) { g_got_sigusr1 = 1; }

// A subreaper forks a middle process that forks a grandchild; the
// grandchild sets PR_SET_PDEATHSIG(`sig`) and tells the middle process,
// which then exits. If `sig` is SIGUSR1 the grandchild catches it and exits
// 0; otherwise it waits up to 5 s to be killed and exits 3. Returns the
// grandchild's wait status as seen by the subreaper (exit code from the
// subreaper if something else went wrong).
int PdeathsigScenario(int sig) {
  return ForkAndWait([sig] {
    CHILD_EXPECT(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
    int ready[2], pids[2];
    CHILD_EXPECT(pipe(ready) == 0 && pipe(pids) == 0);
    pid_t middle = fork();
    CHILD_EXPECT(middle >= 0);
    if (middle == 0) {
      const pid_t middle_pid = getpid();
      pid_t grandchild = fork();
      if (grandchild < 0) _exit(2);
      if (grandchild == 0) {
        if (sig == SIGUSR1) {
          struct sigaction sa = {};
          sa.sa_handler = OnSigusr1;
          if (sigaction(SIGUSR1, &sa, nullptr) != 0) _exit(4);
        }
        if (prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0) _exit(5);
        if (getppid() != middle_pid) _exit(6);
        if (write(ready[1], "x", 1) != 1) _exit(7);
        const double deadline = Now() + 5;
        while (!g_got_sigusr1 && Now() < deadline) usleep(1000);
        _exit(g_got_sigusr1 ? 0 : 3);
      }
      char c;
      if (read(ready[0], &c, 1) != 1) _exit(8);
      _exit(WritePid(pids[1], grandchild) ? 0 : 9);
    }
    close(pids[1]);
    int status = 0;
    CHILD_EXPECT(WaitFor(middle, &status) == middle);
    CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    pid_t grandchild = ReadPid(pids[0]);
    CHILD_EXPECT(grandchild > 0);
    CHILD_EXPECT(WaitFor(grandchild, &status) == grandchild);
    // Pass the grandchild's status on: killed by the same signal, or its
    // exit code.
    if (WIFSIGNALED(status)) {
      signal(WTERMSIG(status), SIG_DFL);
      kill(getpid(), WTERMSIG(status));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
  });
}

TEST(PdeathsigTest, SigkillDeliveredWhenParentExits) {
  EXPECT_THAT(PdeathsigScenario(SIGKILL), KilledBySignal(SIGKILL));
}

TEST(PdeathsigTest, CaughtSignalDeliveredWhenParentExits) {
  EXPECT_THAT(PdeathsigScenario(SIGUSR1), ExitedWithCode(0));
}

// An anonymous private mapping of `pages` pages, unmapped on destruction.
class Mapping {
 public:
  explicit Mapping(size_t pages, int flags = MAP_PRIVATE | MAP_ANONYMOUS)
      : size_(pages * PageSize()) {
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, flags, -1, 0);
    addr_ = p == MAP_FAILED ? nullptr : static_cast<char*>(p);
  }
  ~Mapping() {
    if (addr_ != nullptr) munmap(addr_, size_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  char* addr() const { return addr_; }
  char* page(size_t i) const { return addr_ + i * PageSize(); }
  size_t size() const { return size_; }

 private:
  size_t size_;
  char* addr_;
};

TEST(MincoreTest, TouchedPagesAreResident) {
  Mapping m(4);
  ASSERT_NE(m.addr(), nullptr);
  *m.page(0) = 1;
  *m.page(2) = 1;
  unsigned char vec[4] = {0xfe, 0xfe, 0xfe, 0xfe};
  ASSERT_THAT(mincore(m.addr(), m.size(), vec), SyscallSucceedsWithValue(0));
  EXPECT_EQ(vec[0] & 1, 1);
  EXPECT_EQ(vec[2] & 1, 1);
  // "The settings of the other bits in each byte are undefined", and an
  // untouched page may or may not be resident: nothing asserted for 1, 3.
}

// A length that is not a page multiple covers the partial last page, and
// exactly one byte per page is written.
TEST(MincoreTest, PartialLastPageIsIncluded) {
  Mapping m(3);
  ASSERT_NE(m.addr(), nullptr);
  memset(m.addr(), 1, m.size());
  unsigned char vec[3] = {0, 0, 0xaa};
  ASSERT_THAT(mincore(m.addr(), PageSize() + 1, vec),
              SyscallSucceedsWithValue(0));
  EXPECT_EQ(vec[0] & 1, 1);
  EXPECT_EQ(vec[1] & 1, 1);
  EXPECT_EQ(vec[2], 0xaa);
}

TEST(MincoreTest, UnalignedAddressFails) {
  Mapping m(2);
  ASSERT_NE(m.addr(), nullptr);
  unsigned char vec[2];
  EXPECT_THAT(mincore(m.addr() + 1, PageSize(), vec),
              SyscallFailsWithErrno(EINVAL));
}

TEST(MincoreTest, UnmappedRangeFails) {
  Mapping m(3);
  ASSERT_NE(m.addr(), nullptr);
  ASSERT_THAT(munmap(m.page(1), PageSize()), SyscallSucceeds());
  unsigned char vec[3];
  EXPECT_THAT(mincore(m.addr(), m.size(), vec), SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(mincore(m.page(1), PageSize(), vec),
              SyscallFailsWithErrno(ENOMEM));
  // The mapped pages on either side still work.
  EXPECT_THAT(mincore(m.page(2), PageSize(), vec), SyscallSucceeds());
}

TEST(MincoreTest, BadVectorFails) {
  Mapping m(2);
  ASSERT_NE(m.addr(), nullptr);
  *m.page(0) = 1;
  ASSERT_THAT(munmap(m.page(1), PageSize()), SyscallSucceeds());
  EXPECT_THAT(mincore(m.addr(), PageSize(),
                      reinterpret_cast<unsigned char*>(m.page(1))),
              SyscallFailsWithErrno(EFAULT));
}

TEST(MincoreTest, ZeroLengthSucceeds) {
  Mapping m(1);
  ASSERT_NE(m.addr(), nullptr);
  unsigned char vec[1] = {0xaa};
  EXPECT_THAT(mincore(m.addr(), 0, vec), SyscallSucceedsWithValue(0));
  EXPECT_EQ(vec[0], 0xaa);
}

// Recurses `depth` times with a 4 KiB frame each; touches every frame.
__attribute__((noinline)) int UseStack(int depth) {
  volatile char buf[4096];
  buf[0] = static_cast<char>(depth);
  buf[sizeof(buf) - 1] = 1;
  if (depth == 0) return buf[0];
  // Using the result after the call prevents a tail call.
  return UseStack(depth - 1) + buf[sizeof(buf) - 1];
}

constexpr size_t kMiB = 1 << 20;

TEST(StackTest, MainThreadStackGrowsToFourMiB) {
  struct rlimit rl;
  ASSERT_THAT(getrlimit(RLIMIT_STACK, &rl), SyscallSucceeds());
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 8 * kMiB) {
    GTEST_SKIP() << "RLIMIT_STACK is " << rl.rlim_cur << ", below 8 MiB";
  }
  // 4 MiB of frames in a forked (single-threaded) child on its main stack.
  EXPECT_THAT(ForkAndWait([] {
                CHILD_EXPECT(UseStack(4 * kMiB / 4096) == 4 * kMiB / 4096);
                return 0;
              }),
              ExitedWithCode(0));
}

// Growth beyond RLIMIT_STACK fails: the process gets SIGSEGV.
TEST(StackTest, GrowthBeyondRlimitStackIsSigsegv) {
  EXPECT_THAT(ForkAndWait([] {
                struct rlimit rl = {0, 0};
                CHILD_EXPECT(setrlimit(RLIMIT_CORE, &rl) == 0);
                CHILD_EXPECT(getrlimit(RLIMIT_STACK, &rl) == 0);
                rl.rlim_cur = 1 * kMiB;
                CHILD_EXPECT(setrlimit(RLIMIT_STACK, &rl) == 0);
                UseStack(16 * kMiB / 4096);
                return 0;
              }),
              KilledBySignal(SIGSEGV));
}

TEST(StackTest, MapGrowsdownIsAcceptedAndUsable) {
  Mapping m(1, MAP_GROWSDOWN | MAP_PRIVATE | MAP_ANONYMOUS);
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(m.addr()) % PageSize(), 0u);
  memset(m.addr(), 0x5a, m.size());
  std::vector<char> expected(m.size(), 0x5a);
  EXPECT_EQ(memcmp(m.addr(), expected.data(), m.size()), 0);
}

TEST(StackTest, MapGrowsdownGrowsOnAccessBelow) {
  // Room for the area and its guard gap: reserve 4 MiB, keep only the top
  // page as the growable area.
  const long page = PageSize();
  const size_t span = 4 << 20;
  void* r = mmap(nullptr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(r, MAP_FAILED);
  char* top = static_cast<char*>(r) + span - page;
  ASSERT_EQ(munmap(r, span), 0);
  void* p =
      mmap(top, page, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED, -1, 0);
  ASSERT_EQ(p, top) << strerror(errno);
  // Touching pages below the area grows it down to them (in a child, so a
  // sandbox that does not grow it fails with SIGSEGV, not a crash here).
  EXPECT_THAT(ForkAndWait([&] {
                volatile char* c = top;
                c[-page] = 7;
                c[-3 * page] = 9;
                CHILD_EXPECT(c[-page] == 7 && c[-3 * page] == 9);
                CHILD_EXPECT(c[-2 * page] == 0);
                return 0;
              }),
              ExitedWithCode(0));
  munmap(top - 8 * page, 9 * page);
}

}  // namespace
}  // namespace sentry::testing
