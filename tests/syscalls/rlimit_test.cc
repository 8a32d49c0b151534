// Resource limits from the man pages (getrlimit(2), setrlimit(2),
// prlimit(2)) and the calls they limit: RLIMIT_NOFILE (open, dup, pipe,
// F_DUPFD), RLIMIT_FSIZE (SIGXFSZ, EFBIG), RLIMIT_NPROC, RLIMIT_AS,
// RLIMIT_CPU, RLIMIT_SIGPENDING and RLIMIT_MEMLOCK; inheritance over fork,
// /proc/[pid]/limits, prlimit on another process and its permission check.
// (The basic get/set round trips and EINVAL/EPERM cases are in
// process_basics_test.)
//
// Every limit is changed in a forked child, never in the test process.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

bool SetLimit(int resource, rlim_t soft, rlim_t hard) {
  struct rlimit rl = {soft, hard};
  return setrlimit(static_cast<__rlimit_resource>(resource), &rl) == 0;
}

// Lowers only the soft limit.
bool SetSoft(int resource, rlim_t soft) {
  struct rlimit rl;
  if (getrlimit(static_cast<__rlimit_resource>(resource), &rl) != 0) {
    return false;
  }
  rl.rlim_cur = soft;
  return setrlimit(static_cast<__rlimit_resource>(resource), &rl) == 0;
}

void NoCoreDump() { SetLimit(RLIMIT_CORE, 0, 0); }

// --- RLIMIT_NOFILE ---

TEST(RlimitTest, NofileLimitsOpenWithEmfile) {
  auto child = [] {
    CHILD_EXPECT(SetSoft(RLIMIT_NOFILE, 16));
    int last = -1;
    for (int i = 0; i < 32; i++) {
      int fd = open("/dev/null", O_RDONLY);
      if (fd < 0) {
        CHILD_EXPECT(errno == EMFILE);
        break;
      }
      last = fd;
    }
    // Every descriptor below the limit is in use, none above it.
    CHILD_EXPECT(last >= 3 && last <= 15);
    for (int fd = 0; fd < 16; fd++) CHILD_EXPECT(fcntl(fd, F_GETFD) != -1);
    CHILD_EXPECT(open("/dev/null", O_RDONLY) == -1 && errno == EMFILE);
    // Freeing one makes room for exactly one.
    close(7);
    CHILD_EXPECT(open("/dev/null", O_RDONLY) == 7);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

// (dup, dup2 and F_DUPFD against the limit are in dup_test.)
TEST(RlimitTest, NofileLimitsPipeWhichNeedsTwoSlots) {
  auto child = [] {
    CHILD_EXPECT(SetSoft(RLIMIT_NOFILE, 16));
    while (dup(0) >= 0) {
    }
    CHILD_EXPECT(errno == EMFILE);
    int fds[2] = {-1, -1};
    CHILD_EXPECT(pipe(fds) == -1 && errno == EMFILE);
    // One free slot is not enough, and nothing is left open.
    close(3);
    CHILD_EXPECT(pipe(fds) == -1 && errno == EMFILE);
    CHILD_EXPECT(fcntl(3, F_GETFD) == -1 && errno == EBADF);
    close(4);
    CHILD_EXPECT(pipe(fds) == 0);
    CHILD_EXPECT((fds[0] == 3 && fds[1] == 4) || (fds[0] == 4 && fds[1] == 3));
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(RlimitTest, LoweringNofileKeepsDescriptorsAboveIt) {
  auto child = [] {
    int fds[2];
    CHILD_EXPECT(pipe(fds) == 0);
    CHILD_EXPECT(dup2(fds[1], 40) == 40);
    CHILD_EXPECT(SetSoft(RLIMIT_NOFILE, 20));
    // Already open descriptors stay usable.
    CHILD_EXPECT(write(40, "k", 1) == 1);
    char c;
    CHILD_EXPECT(read(fds[0], &c, 1) == 1 && c == 'k');
    CHILD_EXPECT(close(40) == 0);
    CHILD_EXPECT(dup2(fds[1], 40) == -1 && errno == EBADF);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

// --- RLIMIT_FSIZE ---

TEST(RlimitTest, WritePastFsizeRaisesSigxfsz) {
  TempPath dir = TempPath::CreateDir();
  std::string path = dir.Child("f");
  auto child = [&path] {
    NoCoreDump();
    int fd = open(path.c_str(), O_CREAT | O_WRONLY, 0644);
    CHILD_EXPECT(fd >= 0);
    CHILD_EXPECT(SetSoft(RLIMIT_FSIZE, 1024));
    char buf[2048] = {};
    CHILD_EXPECT(write(fd, buf, 1024) == 1024);
    // At the limit: SIGXFSZ, whose default action ends the process.
    (void)!write(fd, buf, 1);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), KilledBySignal(SIGXFSZ));
  struct stat st;
  ASSERT_THAT(stat(path.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 1024);
}

TEST(RlimitTest, WithSigxfszIgnoredWritesStopAtFsizeWithEfbig) {
  TempPath dir = TempPath::CreateDir();
  std::string path = dir.Child("f");
  auto child = [&path] {
    CHILD_EXPECT(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
    int fd = open(path.c_str(), O_CREAT | O_RDWR, 0644);
    CHILD_EXPECT(fd >= 0);
    CHILD_EXPECT(SetSoft(RLIMIT_FSIZE, 1024));
    char buf[2048] = {};
    // A write crossing the limit is cut short at it.
    CHILD_EXPECT(write(fd, buf, sizeof(buf)) == 1024);
    CHILD_EXPECT(write(fd, buf, 1) == -1 && errno == EFBIG);
    CHILD_EXPECT(pwrite(fd, buf, 1, 5000) == -1 && errno == EFBIG);
    // Below the limit writing still works. (ftruncate against the limit is
    // in truncate_test.)
    CHILD_EXPECT(pwrite(fd, "x", 1, 10) == 1);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

// --- other resources ---

TEST(RlimitTest, NprocZeroStopsForkForAnUnprivilegedUser) {
  std::string why_not = WhyNobodyIsUnavailable();
  if (!why_not.empty()) GTEST_SKIP() << why_not;
  auto child = [] {
    // "the number of extant process ... for the real user ID": at least
    // this one, so a limit of 0 refuses every fork.
    CHILD_EXPECT(SetLimit(RLIMIT_NPROC, 0, 0));
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    CHILD_EXPECT(pid == -1);
    CHILD_EXPECT(errno == EAGAIN);
    return 0;
  };
  EXPECT_THAT(ForkAsNobodyAndWait(child), ExitedWithCode(0));
}

TEST(RlimitTest, AsLimitsNewMappings) {
  auto child = [] {
    const size_t big = size_t{512} << 20;
    void* p = mmap(nullptr, big, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHILD_EXPECT(p != MAP_FAILED);
    CHILD_EXPECT(munmap(p, big) == 0);
    CHILD_EXPECT(SetSoft(RLIMIT_AS, size_t{256} << 20));
    p = mmap(nullptr, big, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHILD_EXPECT(p == MAP_FAILED);
    CHILD_EXPECT(errno == ENOMEM);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(RlimitTest, CpuLimitRaisesSigxcpu) {
  auto child = [] {
    NoCoreDump();
    CHILD_EXPECT(SetLimit(RLIMIT_CPU, 1, 5));
    // Spin for up to 4 s of CPU time; SIGXCPU comes after 1 s.
    struct timespec ts;
    do {
      for (int i = 0; i < 1000000; i++) asm volatile("" ::: "memory");
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    } while (ts.tv_sec < 4);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), KilledBySignal(SIGXCPU));
}

TEST(RlimitTest, SigpendingLimitsQueuedSignals) {
  auto child = [] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigaddset(&set, SIGUSR1);
    CHILD_EXPECT(sigprocmask(SIG_BLOCK, &set, nullptr) == 0);
    CHILD_EXPECT(SetLimit(RLIMIT_SIGPENDING, 0, 0));
    // sigqueue(3): "EAGAIN The limit of signals which may be queued has
    // been reached."
    union sigval v = {};
    CHILD_EXPECT(sigqueue(getpid(), SIGRTMIN, v) == -1);
    CHILD_EXPECT(errno == EAGAIN);
    // kill(2) of a standard signal is not limited.
    CHILD_EXPECT(kill(getpid(), SIGUSR1) == 0);
    sigset_t pending;
    CHILD_EXPECT(sigpending(&pending) == 0);
    CHILD_EXPECT(sigismember(&pending, SIGUSR1) == 1);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(RlimitTest, MemlockZeroStopsMlockForAnUnprivilegedUser) {
  std::string why_not = WhyNobodyIsUnavailable();
  if (!why_not.empty()) GTEST_SKIP() << why_not;
  auto child = [] {
    CHILD_EXPECT(SetLimit(RLIMIT_MEMLOCK, 0, 0));
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHILD_EXPECT(p != MAP_FAILED);
    // mlock(2): "EPERM The caller is not privileged ... and its
    // RLIMIT_MEMLOCK soft resource limit is 0."
    CHILD_EXPECT(mlock(p, 4096) == -1);
    CHILD_EXPECT(errno == EPERM);
    return 0;
  };
  EXPECT_THAT(ForkAsNobodyAndWait(child), ExitedWithCode(0));
}

// --- inheritance, /proc, prlimit ---

TEST(RlimitTest, LimitsAreInheritedByForkChildren) {
  auto child = [] {
    CHILD_EXPECT(SetSoft(RLIMIT_NOFILE, 77));
    CHILD_EXPECT(SetLimit(RLIMIT_CORE, 0, 4096));
    pid_t pid = fork();
    CHILD_EXPECT(pid >= 0);
    if (pid == 0) {
      struct rlimit nofile, core;
      bool ok = getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
                nofile.rlim_cur == 77 && getrlimit(RLIMIT_CORE, &core) == 0 &&
                core.rlim_cur == 0 && core.rlim_max == 4096;
      _exit(ok ? 0 : 1);
    }
    int status;
    CHILD_EXPECT(waitpid(pid, &status, 0) == pid);
    CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(RlimitTest, ProcLimitsShowsTheLimits) {
  auto child = [] {
    CHILD_EXPECT(SetLimit(RLIMIT_CORE, 1024, 2048));
    std::string limits = ReadProcFile("/proc/self/limits");
    size_t pos = limits.find("Max core file size");
    CHILD_EXPECT(pos != std::string::npos);
    std::string line = limits.substr(pos, limits.find('\n', pos) - pos);
    char name[64];
    unsigned long soft = 0, hard = 0;
    CHILD_EXPECT(sscanf(line.c_str(), "Max core file size %lu %lu %63s", &soft,
                        &hard, name) == 3);
    CHILD_EXPECT(soft == 1024 && hard == 2048);
    CHILD_EXPECT(strcmp(name, "bytes") == 0);
    CHILD_EXPECT(limits.find("Max open files") != std::string::npos);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(RlimitTest, PrlimitSetsAnotherProcesssLimit) {
  int go[2];
  ASSERT_THAT(pipe(go), SyscallSucceeds());
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    close(go[1]);
    char c;
    if (read(go[0], &c, 1) != 1) _exit(2);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    _exit(rl.rlim_cur == 33 ? 0 : 1);
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  close(go[0]);
  struct rlimit old = {}, prev = {}, now = {};
  EXPECT_THAT(prlimit(pid, RLIMIT_NOFILE, nullptr, &old), SyscallSucceeds());
  struct rlimit want = {33, old.rlim_max};
  EXPECT_THAT(prlimit(pid, RLIMIT_NOFILE, &want, &prev), SyscallSucceeds());
  EXPECT_EQ(prev.rlim_cur, old.rlim_cur);
  EXPECT_THAT(prlimit(pid, RLIMIT_NOFILE, nullptr, &now), SyscallSucceeds());
  EXPECT_EQ(now.rlim_cur, 33u);
  // The child checks that it sees the new limit too.
  EXPECT_THAT(write(go[1], "g", 1), SyscallSucceeds());
  close(go[1]);
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_THAT(status, ExitedWithCode(0));
}

TEST(RlimitTest, PrlimitOfAnotherUsersProcessFailsEperm) {
  std::string why_not = WhyNobodyIsUnavailable();
  if (!why_not.empty()) GTEST_SKIP() << why_not;
  // A root-owned process to inspect.
  fflush(stdout);
  fflush(stderr);
  pid_t target = fork();
  if (target == 0) {
    for (;;) pause();
  }
  ASSERT_THAT(target, SyscallSucceeds());
  auto child = [target] {
    struct rlimit rl;
    CHILD_EXPECT(prlimit(target, RLIMIT_NOFILE, nullptr, &rl) == -1);
    CHILD_EXPECT(errno == EPERM);
    // Its own limits are fine.
    CHILD_EXPECT(prlimit(getpid(), RLIMIT_NOFILE, nullptr, &rl) == 0);
    return 0;
  };
  EXPECT_THAT(ForkAsNobodyAndWait(child), ExitedWithCode(0));
  kill(target, SIGKILL);
  waitpid(target, nullptr, 0);
}

TEST(RlimitTest, UnprivilegedUserMayRaiseSoftUpToHard) {
  std::string why_not = WhyNobodyIsUnavailable();
  if (!why_not.empty()) GTEST_SKIP() << why_not;
  auto child = [] {
    struct rlimit rl;
    CHILD_EXPECT(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    const rlim_t hard = rl.rlim_max;
    CHILD_EXPECT(SetSoft(RLIMIT_NOFILE, 10));
    CHILD_EXPECT(SetSoft(RLIMIT_NOFILE, hard));
    // Lowering the hard limit is allowed, and irreversible.
    CHILD_EXPECT(SetLimit(RLIMIT_NOFILE, 10, 20));
    CHILD_EXPECT(!SetLimit(RLIMIT_NOFILE, 10, 21) && errno == EPERM);
    CHILD_EXPECT(SetLimit(RLIMIT_NOFILE, 20, 20));
    return 0;
  };
  EXPECT_THAT(ForkAsNobodyAndWait(child), ExitedWithCode(0));
}

TEST(RlimitTest, BadPointersFailEfault) {
  EXPECT_THAT(getrlimit(RLIMIT_NOFILE, reinterpret_cast<struct rlimit*>(8)),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(setrlimit(RLIMIT_NOFILE, reinterpret_cast<struct rlimit*>(8)),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(
      prlimit(0, RLIMIT_NOFILE, nullptr, reinterpret_cast<struct rlimit*>(8)),
      SyscallFailsWithErrno(EFAULT));
}

}  // namespace
}  // namespace sentry::testing
