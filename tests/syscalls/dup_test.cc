// dup(2), dup2(2), dup3(2), the fcntl(2) descriptor and status-flag
// commands and close_range(2), from the man pages: behaviours fd_test does
// not cover (lowest-number rule, RLIMIT_NOFILE, close-on-exec across
// execve, what F_SETFD and F_SETFL keep or ignore).
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

constexpr char kExecChildEnv[] = "SENTRY_DUP_TEST_EXEC_CHILD";

// Re-executed with kExecChildEnv="A B", this binary only reports whether
// descriptor A is closed (bit 0) and B open (bit 1), as exit code 10 + bits.
[[maybe_unused]] const int kExecChildHook = [] {
  const char* fds = getenv(kExecChildEnv);
  if (fds != nullptr) {
    char* end;
    int a = strtol(fds, &end, 10);
    int b = strtol(end, nullptr, 10);
    int bits = 0;
    if (fcntl(a, F_GETFD) == -1 && errno == EBADF) bits |= 1;
    if (fcntl(b, F_GETFD) >= 0) bits |= 2;
    _exit(10 + bits);
  }
  return 0;
}();

class DupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = TempPath::CreateFile("0123456789");
    fd_.reset(open(file_.path().c_str(), O_RDWR));
    ASSERT_THAT(fd_.get(), SyscallSucceeds());
  }

  FileDescriptor OpenNull() {
    FileDescriptor fd(open("/dev/null", O_RDONLY));
    EXPECT_THAT(fd.get(), SyscallSucceeds());
    return fd;
  }

  TempPath file_;
  FileDescriptor fd_;
};

TEST_F(DupTest, ReturnsTheLowestFreeNumber) {
  FileDescriptor a = OpenNull(), b = OpenNull(), c = OpenNull();
  int hole = b.get();
  b.reset();
  FileDescriptor d(dup(fd_.get()));
  EXPECT_EQ(d.get(), hole);
  FileDescriptor e(fcntl(fd_.get(), F_DUPFD, 0));
  EXPECT_GT(e.get(), c.get());
}

TEST_F(DupTest, CopySurvivesClosingTheOriginal) {
  FileDescriptor d(dup(fd_.get()));
  ASSERT_THAT(d.get(), SyscallSucceeds());
  fd_.reset();
  char buf[4] = {};
  EXPECT_THAT(read(d.get(), buf, 4), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "0123");
}

TEST_F(DupTest, OPathDescriptorsCanBeDuplicated) {
  FileDescriptor path(open(file_.path().c_str(), O_PATH));
  ASSERT_THAT(path.get(), SyscallSucceeds());
  FileDescriptor d(dup(path.get()));
  ASSERT_THAT(d.get(), SyscallSucceeds());
  EXPECT_NE(fcntl(d.get(), F_GETFL) & O_PATH, 0);
  struct stat st;
  EXPECT_THAT(fstat(d.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 10);
  char c;
  EXPECT_THAT(read(d.get(), &c, 1), SyscallFailsWithErrno(EBADF));
}

// The new descriptor's close-on-exec flag is off, whatever the descriptor
// that used that number had.
TEST_F(DupTest, Dup2OntoACloexecTargetClearsTheFlag) {
  FileDescriptor target(open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_THAT(fcntl(target.get(), F_GETFD),
              SyscallSucceedsWithValue(FD_CLOEXEC));
  ASSERT_THAT(dup2(fd_.get(), target.get()),
              SyscallSucceedsWithValue(target.get()));
  EXPECT_THAT(fcntl(target.get(), F_GETFD), SyscallSucceedsWithValue(0));
}

// "If oldfd is a valid file descriptor, and newfd has the same value as
// oldfd, then dup2() does nothing": not even clearing close-on-exec.
TEST_F(DupTest, Dup2OntoItselfKeepsCloexec) {
  ASSERT_THAT(fcntl(fd_.get(), F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  EXPECT_THAT(dup2(fd_.get(), fd_.get()), SyscallSucceedsWithValue(fd_.get()));
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
}

// "If oldfd is not a valid file descriptor, then the call fails, and newfd
// is not closed."
TEST_F(DupTest, Dup2FromABadFdLeavesTheTargetOpen) {
  FileDescriptor closed = OpenNull();
  int bad = closed.get();
  closed.reset();
  EXPECT_THAT(dup2(bad, fd_.get()), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceeds());
  EXPECT_THAT(dup3(bad, fd_.get(), 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceeds());
}

TEST_F(DupTest, Dup3ReplacesAnOpenTarget) {
  FileDescriptor target = OpenNull();
  ASSERT_THAT(dup3(fd_.get(), target.get(), O_CLOEXEC),
              SyscallSucceedsWithValue(target.get()));
  EXPECT_THAT(fcntl(target.get(), F_GETFD),
              SyscallSucceedsWithValue(FD_CLOEXEC));
  // It is our file now, not /dev/null.
  char buf[2] = {};
  EXPECT_THAT(pread(target.get(), buf, 2, 0), SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(buf, 2), "01");
}

// With RLIMIT_NOFILE n: no new descriptor may be n or above.
TEST_F(DupTest, RlimitNofileBoundsEveryDupFork) {
  int fd = fd_.get();
  EXPECT_THAT(
      ForkAndWait([fd]() -> int {
        constexpr int kLimit = 64;
        CHILD_EXPECT(fd < kLimit);
        struct rlimit lim = {kLimit, kLimit};
        CHILD_EXPECT(setrlimit(RLIMIT_NOFILE, &lim) == 0);
        // Fill every free number below the limit.
        while (dup(fd) >= 0) {
        }
        CHILD_EXPECT(errno == EMFILE);
        CHILD_EXPECT(fcntl(fd, F_DUPFD, 0) == -1 && errno == EMFILE);
        CHILD_EXPECT(dup3(fd, kLimit, 0) == -1 && errno == EBADF);
        CHILD_EXPECT(dup2(fd, kLimit) == -1 && errno == EBADF);
        // F_DUPFD's minimum at or above the limit is EINVAL.
        CHILD_EXPECT(fcntl(fd, F_DUPFD, kLimit) == -1 && errno == EINVAL);
        CHILD_EXPECT(fcntl(fd, F_DUPFD_CLOEXEC, kLimit) == -1 &&
                     errno == EINVAL);
        // Below the limit, replacing a number is still fine.
        CHILD_EXPECT(dup2(fd, kLimit - 1) == kLimit - 1);
        return 0;
      }),
      ExitedWithCode(0));
}

// execve closes descriptors marked close-on-exec and keeps the others.
TEST_F(DupTest, CloexecDescriptorsAreClosedByExecveFork) {
  FileDescriptor cloexec(fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
  FileDescriptor inherited(dup(fd_.get()));
  ASSERT_THAT(cloexec.get(), SyscallSucceeds());
  ASSERT_THAT(inherited.get(), SyscallSucceeds());
  std::string arg =
      std::to_string(cloexec.get()) + " " + std::to_string(inherited.get());
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    setenv(kExecChildEnv, arg.c_str(), 1);
    char self[] = "/proc/self/exe";
    char* argv[] = {self, nullptr};
    execv(self, argv);
    _exit(127);
  }
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  // 10 + (closed: 1) + (open: 2).
  EXPECT_THAT(status, ExitedWithCode(13));
}

// F_SETFD stores only FD_CLOEXEC.
TEST_F(DupTest, SetfdKeepsOnlyTheCloexecBit) {
  ASSERT_THAT(fcntl(fd_.get(), F_SETFD, 0xff), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  ASSERT_THAT(fcntl(fd_.get(), F_SETFD, 0xfe), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceedsWithValue(0));
}

// "File access mode ... and file creation flags (i.e., O_CREAT, O_EXCL,
// O_NOCTTY, O_TRUNC) in arg are ignored."
TEST_F(DupTest, SetflIgnoresCreationFlags) {
  ASSERT_THAT(fcntl(fd_.get(), F_SETFL, O_TRUNC | O_CREAT | O_EXCL),
              SyscallSucceeds());
  int flags = fcntl(fd_.get(), F_GETFL);
  EXPECT_EQ(flags & (O_TRUNC | O_CREAT | O_EXCL), 0);
  EXPECT_EQ(flags & O_ACCMODE, O_RDWR);
  struct stat st;
  ASSERT_THAT(fstat(fd_.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 10);
}

// O_APPEND set with F_SETFL takes effect for the next write, and clearing it
// restores positioned writes.
TEST_F(DupTest, SetflAppendChangesWhereWritesGo) {
  ASSERT_THAT(fcntl(fd_.get(), F_SETFL, O_APPEND), SyscallSucceeds());
  ASSERT_THAT(lseek(fd_.get(), 0, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(write(fd_.get(), "ab", 2), SyscallSucceedsWithValue(2));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(12));
  ASSERT_THAT(fcntl(fd_.get(), F_SETFL, 0), SyscallSucceeds());
  ASSERT_THAT(lseek(fd_.get(), 0, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(write(fd_.get(), "XY", 2), SyscallSucceedsWithValue(2));
  char buf[12];
  ASSERT_THAT(pread(fd_.get(), buf, 12, 0), SyscallSucceedsWithValue(12));
  EXPECT_EQ(std::string(buf, 12), "XY23456789ab");
}

// O_NONBLOCK is a property of the open file description: set through one
// descriptor, it makes reads through a duplicate fail EAGAIN.
TEST_F(DupTest, SetflNonblockAppliesToDuplicates) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  FileDescriptor r2(dup(r.get()));
  ASSERT_THAT(fcntl(r.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  char c;
  EXPECT_THAT(read(r2.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
}

// close_range(first, ~0U, 0) closes every descriptor from first up.
TEST_F(DupTest, CloseRangeToTheMaximumClosesEverythingAboveFork) {
  int fd = fd_.get();
  EXPECT_THAT(ForkAndWait([fd]() -> int {
                int high1 = fcntl(fd, F_DUPFD, 100);
                int high2 = fcntl(fd, F_DUPFD, 1000);
                CHILD_EXPECT(high1 == 100 && high2 == 1000);
                CHILD_EXPECT(syscall(SYS_close_range, 100, ~0U, 0) == 0);
                CHILD_EXPECT(fcntl(high1, F_GETFD) == -1 && errno == EBADF);
                CHILD_EXPECT(fcntl(high2, F_GETFD) == -1 && errno == EBADF);
                CHILD_EXPECT(fcntl(fd, F_GETFD) >= 0);
                return 0;
              }),
              ExitedWithCode(0));
}

}  // namespace
}  // namespace sentry::testing
