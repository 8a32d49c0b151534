// lseek(2), from the man page: behaviours read_write_test does not cover
// (relative moves, the offset shared by an open file description, O_APPEND
// moving it, files that cannot seek, large offsets, /proc and devices).
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

class SeekTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = TempPath::CreateFile("0123456789");
    fd_.reset(open(file_.path().c_str(), O_RDWR));
    ASSERT_THAT(fd_.get(), SyscallSucceeds());
  }

  std::string ReadN(int fd, size_t n) {
    std::string buf(n, '?');
    ssize_t got = read(fd, buf.data(), n);
    buf.resize(got < 0 ? 0 : got);
    return buf;
  }

  TempPath file_;
  FileDescriptor fd_;
};

TEST_F(SeekTest, SeekEndWithANegativeOffsetReadsTheTail) {
  EXPECT_THAT(lseek(fd_.get(), -3, SEEK_END), SyscallSucceedsWithValue(7));
  EXPECT_EQ(ReadN(fd_.get(), 10), "789");
}

TEST_F(SeekTest, SeekCurMovesRelativeToTheOffset) {
  EXPECT_EQ(ReadN(fd_.get(), 4), "0123");
  // SEEK_CUR by 0 reports the offset without moving it.
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(4));
  EXPECT_THAT(lseek(fd_.get(), -3, SEEK_CUR), SyscallSucceedsWithValue(1));
  EXPECT_THAT(lseek(fd_.get(), 5, SEEK_CUR), SyscallSucceedsWithValue(6));
  EXPECT_EQ(ReadN(fd_.get(), 2), "67");
}

// A failed seek leaves the offset where it was.
TEST_F(SeekTest, FailedSeekKeepsTheOffset) {
  ASSERT_THAT(lseek(fd_.get(), 5, SEEK_SET), SyscallSucceeds());
  EXPECT_THAT(lseek(fd_.get(), -6, SEEK_CUR), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(lseek(fd_.get(), 0, 99), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(5));
}

// Reading at an offset past the end returns 0 and leaves the offset there.
TEST_F(SeekTest, ReadPastTheEndReturnsZeroAndKeepsTheOffset) {
  ASSERT_THAT(lseek(fd_.get(), 100, SEEK_SET), SyscallSucceeds());
  char c;
  EXPECT_THAT(read(fd_.get(), &c, 1), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(100));
  struct stat st;
  ASSERT_THAT(fstat(fd_.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 10);
}

// The offset belongs to the open file description, which a forked child
// shares.
TEST_F(SeekTest, OffsetIsSharedWithAForkChildFork) {
  int fd = fd_.get();
  EXPECT_THAT(ForkAndWait([fd]() -> int {
                char buf[3];
                CHILD_EXPECT(read(fd, buf, 3) == 3);
                CHILD_EXPECT(lseek(fd, 2, SEEK_CUR) == 5);
                return 0;
              }),
              ExitedWithCode(0));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(5));
}

// Each open() makes its own open file description with its own offset.
TEST_F(SeekTest, SeparateOpensHaveSeparateOffsets) {
  FileDescriptor other(open(file_.path().c_str(), O_RDONLY));
  ASSERT_THAT(other.get(), SyscallSucceeds());
  ASSERT_THAT(lseek(fd_.get(), 6, SEEK_SET), SyscallSucceeds());
  EXPECT_THAT(lseek(other.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
  EXPECT_EQ(ReadN(other.get(), 2), "01");
  EXPECT_EQ(ReadN(fd_.get(), 2), "67");
}

// An O_APPEND write moves the offset to the end first; afterwards it is at
// the new end.
TEST_F(SeekTest, AppendWriteLeavesTheOffsetAtTheEnd) {
  FileDescriptor fd(open(file_.path().c_str(), O_RDWR | O_APPEND));
  ASSERT_THAT(lseek(fd.get(), 2, SEEK_SET), SyscallSucceedsWithValue(2));
  ASSERT_THAT(write(fd.get(), "ab", 2), SyscallSucceedsWithValue(2));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(12));
  // Reading is still positioned: seek back and read the start.
  ASSERT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceeds());
  EXPECT_EQ(ReadN(fd.get(), 3), "012");
}

TEST_F(SeekTest, FifoAndSocketFailEspipe) {
  TempPath dir = TempPath::CreateDir();
  std::string fifo = dir.Child("fifo");
  ASSERT_THAT(mkfifo(fifo.c_str(), 0600), SyscallSucceeds());
  // O_RDWR on a FIFO does not block on Linux.
  FileDescriptor f(open(fifo.c_str(), O_RDWR));
  ASSERT_THAT(f.get(), SyscallSucceeds());
  EXPECT_THAT(lseek(f.get(), 0, SEEK_SET), SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(lseek(f.get(), 0, SEEK_CUR), SyscallFailsWithErrno(ESPIPE));
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), SyscallSucceeds());
  FileDescriptor s0(sv[0]), s1(sv[1]);
  EXPECT_THAT(lseek(s0.get(), 0, SEEK_SET), SyscallFailsWithErrno(ESPIPE));
}

// O_PATH descriptors support no I/O, seeking included.
TEST_F(SeekTest, OPathDescriptorFailsEbadf) {
  FileDescriptor path(open(file_.path().c_str(), O_PATH));
  ASSERT_THAT(path.get(), SyscallSucceeds());
  EXPECT_THAT(lseek(path.get(), 0, SEEK_SET), SyscallFailsWithErrno(EBADF));
}

// Offsets far beyond the end are allowed (64-bit off_t); nothing is read
// there.
TEST_F(SeekTest, LargeOffsetsAreAllowed) {
  const off_t big = off_t{1} << 40;
  EXPECT_THAT(lseek(fd_.get(), big, SEEK_SET), SyscallSucceedsWithValue(big));
  EXPECT_THAT(lseek(fd_.get(), 5, SEEK_CUR), SyscallSucceedsWithValue(big + 5));
  char c;
  EXPECT_THAT(read(fd_.get(), &c, 1), SyscallSucceedsWithValue(0));
}

// A /proc file can be read again after seeking back to its start.
TEST_F(SeekTest, ProcFileCanBeRewound) {
  FileDescriptor fd(open("/proc/self/status", O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  std::string first = ReadN(fd.get(), 5);
  ASSERT_EQ(first, "Name:");
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceedsWithValue(0));
  EXPECT_EQ(ReadN(fd.get(), 5), first);
}

// /dev/null and /dev/zero accept any seek and stay at offset 0.
TEST_F(SeekTest, NullAndZeroDevicesSeekToZero) {
  for (const char* dev : {"/dev/null", "/dev/zero"}) {
    FileDescriptor fd(open(dev, O_RDWR));
    ASSERT_THAT(fd.get(), SyscallSucceeds()) << dev;
    EXPECT_THAT(lseek(fd.get(), 100, SEEK_SET), SyscallSucceedsWithValue(0))
        << dev;
    EXPECT_THAT(lseek(fd.get(), 5, SEEK_END), SyscallSucceedsWithValue(0))
        << dev;
  }
}

}  // namespace
}  // namespace sentry::testing
