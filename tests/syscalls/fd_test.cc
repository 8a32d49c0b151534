// dup/dup2/dup3, fcntl(2) descriptor commands, close_range(2),
// RLIMIT_NOFILE and the generic file ioctls, from the man pages.
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

class FdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = TempPath::CreateFile("0123456789");
    fd_.reset(open(file_.path().c_str(), O_RDWR));
    ASSERT_THAT(fd_.get(), SyscallSucceeds());
  }
  TempPath file_;
  FileDescriptor fd_;
};

TEST_F(FdTest, DupSharesOffset) {
  FileDescriptor d(dup(fd_.get()));
  ASSERT_THAT(d.get(), SyscallSucceeds());
  EXPECT_NE(d.get(), fd_.get());
  ASSERT_THAT(lseek(fd_.get(), 4, SEEK_SET), SyscallSucceeds());
  EXPECT_THAT(lseek(d.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(4));
}

TEST_F(FdTest, DupClearsCloexec) {
  ASSERT_THAT(fcntl(fd_.get(), F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  FileDescriptor d(dup(fd_.get()));
  EXPECT_THAT(fcntl(d.get(), F_GETFD), SyscallSucceedsWithValue(0));
}

TEST_F(FdTest, DupBadFdFailsEbadf) {
  EXPECT_THAT(dup(-1), SyscallFailsWithErrno(EBADF));
}

TEST_F(FdTest, Dup2ToChosenNumber) {
  ASSERT_THAT(dup2(fd_.get(), 100), SyscallSucceedsWithValue(100));
  FileDescriptor d(100);
  EXPECT_THAT(fcntl(100, F_GETFD), SyscallSucceeds());
}

TEST_F(FdTest, Dup2ClosesExistingTarget) {
  FileDescriptor other(open("/dev/null", O_RDONLY));
  ASSERT_THAT(dup2(fd_.get(), other.get()), SyscallSucceeds());
  // `other` now refers to our file: reading gives its contents.
  char buf[2];
  EXPECT_THAT(pread(other.get(), buf, 2, 0), SyscallSucceedsWithValue(2));
}

TEST_F(FdTest, Dup2SameFdReturnsItUnchanged) {
  ASSERT_THAT(fcntl(fd_.get(), F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  EXPECT_THAT(dup2(fd_.get(), fd_.get()), SyscallSucceedsWithValue(fd_.get()));
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
}

TEST_F(FdTest, Dup2SameInvalidFdFailsEbadf) {
  EXPECT_THAT(dup2(12345, 12345), SyscallFailsWithErrno(EBADF));
}

TEST_F(FdTest, Dup2NewfdOutOfRangeFailsEbadf) {
  EXPECT_THAT(dup2(fd_.get(), -1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(dup2(fd_.get(), 1 << 30), SyscallFailsWithErrno(EBADF));
}

TEST_F(FdTest, Dup3Cloexec) {
  ASSERT_THAT(dup3(fd_.get(), 101, O_CLOEXEC), SyscallSucceedsWithValue(101));
  FileDescriptor d(101);
  EXPECT_THAT(fcntl(101, F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
}

TEST_F(FdTest, Dup3SameFdFailsEinval) {
  EXPECT_THAT(dup3(fd_.get(), fd_.get(), 0), SyscallFailsWithErrno(EINVAL));
}

TEST_F(FdTest, Dup3BadFlagsFailEinval) {
  EXPECT_THAT(dup3(fd_.get(), 102, O_NONBLOCK), SyscallFailsWithErrno(EINVAL));
}

TEST_F(FdTest, FcntlDupfdReturnsLowestAtOrAbove) {
  int d = fcntl(fd_.get(), F_DUPFD, 200);
  ASSERT_THAT(d, SyscallSucceedsWithValue(::testing::Ge(200)));
  FileDescriptor owned(d);
  FileDescriptor d2(fcntl(fd_.get(), F_DUPFD, 200));
  EXPECT_GT(d2.get(), d);
  EXPECT_THAT(fcntl(d, F_GETFD), SyscallSucceedsWithValue(0));
}

TEST_F(FdTest, FcntlDupfdCloexec) {
  FileDescriptor d(fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
  ASSERT_THAT(d.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(d.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
}

TEST_F(FdTest, FcntlDupfdNegativeFailsEinval) {
  EXPECT_THAT(fcntl(fd_.get(), F_DUPFD, -1), SyscallFailsWithErrno(EINVAL));
}

TEST_F(FdTest, FcntlSetfdGetfd) {
  ASSERT_THAT(fcntl(fd_.get(), F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  ASSERT_THAT(fcntl(fd_.get(), F_SETFD, 0), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceedsWithValue(0));
}

TEST_F(FdTest, FcntlGetflReportsAccessMode) {
  EXPECT_THAT(fcntl(fd_.get(), F_GETFL) & O_ACCMODE, O_RDWR);
  FileDescriptor ro(open(file_.path().c_str(), O_RDONLY));
  EXPECT_EQ(fcntl(ro.get(), F_GETFL) & O_ACCMODE, O_RDONLY);
}

TEST_F(FdTest, FcntlSetflAppendAndNonblock) {
  ASSERT_THAT(fcntl(fd_.get(), F_SETFL, O_APPEND | O_NONBLOCK),
              SyscallSucceeds());
  int fl = fcntl(fd_.get(), F_GETFL);
  EXPECT_TRUE(fl & O_APPEND);
  EXPECT_TRUE(fl & O_NONBLOCK);
  ASSERT_THAT(write(fd_.get(), "A", 1), SyscallSucceeds());
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(11));
}

TEST_F(FdTest, FcntlSetflIgnoresAccessMode) {
  // fcntl(2): F_SETFL ignores the access mode bits.
  ASSERT_THAT(fcntl(fd_.get(), F_SETFL, O_RDONLY), SyscallSucceeds());
  EXPECT_EQ(fcntl(fd_.get(), F_GETFL) & O_ACCMODE, O_RDWR);
}

TEST_F(FdTest, FcntlStatusFlagsAreSharedByDup) {
  FileDescriptor d(dup(fd_.get()));
  ASSERT_THAT(fcntl(fd_.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  EXPECT_TRUE(fcntl(d.get(), F_GETFL) & O_NONBLOCK);
}

TEST_F(FdTest, FcntlUnknownCommandFailsEinval) {
  EXPECT_THAT(fcntl(fd_.get(), 123456), SyscallFailsWithErrno(EINVAL));
}

TEST_F(FdTest, FcntlBadFdFailsEbadf) {
  EXPECT_THAT(fcntl(-1, F_GETFD), SyscallFailsWithErrno(EBADF));
}

int CloseRange(unsigned first, unsigned last, unsigned flags) {
  return static_cast<int>(syscall(SYS_close_range, first, last, flags));
}

TEST_F(FdTest, CloseRangeClosesRange) {
  ASSERT_THAT(dup2(fd_.get(), 300), SyscallSucceeds());
  ASSERT_THAT(dup2(fd_.get(), 301), SyscallSucceeds());
  ASSERT_THAT(dup2(fd_.get(), 303), SyscallSucceeds());
  ASSERT_THAT(CloseRange(300, 302, 0), SyscallSucceeds());
  EXPECT_THAT(fcntl(300, F_GETFD), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fcntl(301, F_GETFD), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fcntl(303, F_GETFD), SyscallSucceeds());
  close(303);
}

TEST_F(FdTest, CloseRangeCloexecOnlyMarks) {
  ASSERT_THAT(dup2(fd_.get(), 310), SyscallSucceeds());
  ASSERT_THAT(CloseRange(310, 310, CLOSE_RANGE_CLOEXEC), SyscallSucceeds());
  EXPECT_THAT(fcntl(310, F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  close(310);
}

TEST_F(FdTest, CloseRangeFirstAboveLastFailsEinval) {
  EXPECT_THAT(CloseRange(10, 5, 0), SyscallFailsWithErrno(EINVAL));
}

TEST_F(FdTest, CloseRangeUnknownFlagFailsEinval) {
  EXPECT_THAT(CloseRange(400, 401, 0x80), SyscallFailsWithErrno(EINVAL));
}

TEST_F(FdTest, CloseRangeEmptyIsFine) {
  EXPECT_THAT(CloseRange(5000, ~0U, 0), SyscallSucceeds());
}

TEST_F(FdTest, CloseTwiceFailsEbadf) {
  int d = dup(fd_.get());
  ASSERT_THAT(close(d), SyscallSucceeds());
  EXPECT_THAT(close(d), SyscallFailsWithErrno(EBADF));
}

TEST(RlimitNofileTest, OpenBeyondLimitFailsEmfile) {
  struct rlimit old;
  ASSERT_THAT(getrlimit(RLIMIT_NOFILE, &old), SyscallSucceeds());
  struct rlimit low = {64, old.rlim_max};
  ASSERT_THAT(setrlimit(RLIMIT_NOFILE, &low), SyscallSucceeds());
  std::vector<FileDescriptor> fds;
  int last_errno = 0;
  for (int i = 0; i < 100; i++) {
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0) {
      last_errno = errno;
      break;
    }
    fds.emplace_back(fd);
    EXPECT_LT(fd, 64);
  }
  EXPECT_EQ(last_errno, EMFILE);
  EXPECT_THAT(dup(0), SyscallFailsWithErrno(EMFILE));
  EXPECT_THAT(dup2(0, 64), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fcntl(0, F_DUPFD, 64), SyscallFailsWithErrno(EINVAL));
  fds.clear();
  ASSERT_THAT(setrlimit(RLIMIT_NOFILE, &old), SyscallSucceeds());
}

TEST_F(FdTest, IoctlFioclexAndFionclex) {
  ASSERT_THAT(ioctl(fd_.get(), FIOCLEX), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  ASSERT_THAT(ioctl(fd_.get(), FIONCLEX), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceedsWithValue(0));
}

TEST_F(FdTest, IoctlFionbioSetsNonblock) {
  int on = 1;
  ASSERT_THAT(ioctl(fd_.get(), FIONBIO, &on), SyscallSucceeds());
  EXPECT_TRUE(fcntl(fd_.get(), F_GETFL) & O_NONBLOCK);
  int off = 0;
  ASSERT_THAT(ioctl(fd_.get(), FIONBIO, &off), SyscallSucceeds());
  EXPECT_FALSE(fcntl(fd_.get(), F_GETFL) & O_NONBLOCK);
}

TEST_F(FdTest, IoctlFionreadOnFileReportsRemainingBytes) {
  ASSERT_THAT(lseek(fd_.get(), 3, SEEK_SET), SyscallSucceeds());
  int n = -1;
  ASSERT_THAT(ioctl(fd_.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 7);
}

TEST_F(FdTest, IoctlFionreadOnPipe) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  ASSERT_THAT(write(w.get(), "abcd", 4), SyscallSucceeds());
  int n = -1;
  ASSERT_THAT(ioctl(r.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 4);
}

TEST_F(FdTest, IoctlUnknownOnFileFailsEnotty) {
  EXPECT_THAT(ioctl(fd_.get(), TCGETS, nullptr), SyscallFailsWithErrno(ENOTTY));
}

TEST_F(FdTest, IoctlBadFdFailsEbadf) {
  EXPECT_THAT(ioctl(-1, FIOCLEX), SyscallFailsWithErrno(EBADF));
}

}  // namespace
}  // namespace sentry::testing
