// sendfile(2) and copy_file_range(2), from the man pages: behaviours
// splice_test does not cover (counts past EOF, sockets, O_APPEND, bad
// offsets, full pipes, large copies, same-file copies, holes).
#include <errno.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

std::string Contents(const std::string& path) {
  FileDescriptor fd(open(path.c_str(), O_RDONLY));
  if (!fd.valid()) return "<error>";
  return ReadAll(fd.get());
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i++) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

class SendfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    in_file_ = TempPath::CreateFile("0123456789");
    out_file_ = TempPath::CreateFile();
    in_.reset(open(in_file_.path().c_str(), O_RDONLY));
    out_.reset(open(out_file_.path().c_str(), O_WRONLY));
    ASSERT_THAT(in_.get(), SyscallSucceeds());
    ASSERT_THAT(out_.get(), SyscallSucceeds());
  }
  TempPath in_file_, out_file_;
  FileDescriptor in_, out_;
};

// Asking for more than is left copies what is left and moves *offset to the
// end of it.
TEST_F(SendfileTest, CountPastEofCopiesTheRest) {
  off_t off = 6;
  EXPECT_THAT(sendfile(out_.get(), in_.get(), &off, 1000),
              SyscallSucceedsWithValue(4));
  EXPECT_EQ(off, 10);
  EXPECT_EQ(Contents(out_file_.path()), "6789");
  // From the end there is nothing more.
  EXPECT_THAT(sendfile(out_.get(), in_.get(), &off, 1000),
              SyscallSucceedsWithValue(0));
  off = 100;
  EXPECT_THAT(sendfile(out_.get(), in_.get(), &off, 10),
              SyscallSucceedsWithValue(0));
  EXPECT_EQ(off, 100);
}

TEST_F(SendfileTest, ZeroCountCopiesNothing) {
  EXPECT_THAT(sendfile(out_.get(), in_.get(), nullptr, 0),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(in_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
}

// The output file's offset advances like a write's.
TEST_F(SendfileTest, OutputOffsetAdvances) {
  ASSERT_THAT(write(out_.get(), "AB", 2), SyscallSucceedsWithValue(2));
  EXPECT_THAT(sendfile(out_.get(), in_.get(), nullptr, 3),
              SyscallSucceedsWithValue(3));
  EXPECT_THAT(lseek(out_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(5));
  EXPECT_THAT(sendfile(out_.get(), in_.get(), nullptr, 2),
              SyscallSucceedsWithValue(2));
  EXPECT_EQ(Contents(out_file_.path()), "AB01234");
}

TEST_F(SendfileTest, ToASocket) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  EXPECT_THAT(sendfile(a.get(), in_.get(), nullptr, 10),
              SyscallSucceedsWithValue(10));
  char buf[16] = {};
  EXPECT_THAT(read(b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(10));
  EXPECT_EQ(std::string(buf, 10), "0123456789");
}

// A large copy may be split: repeated calls move all of it, in order.
TEST_F(SendfileTest, LargeFileCopiesCompletely) {
  const std::string data = Pattern(3 << 20);
  TempPath big = TempPath::CreateFile(data);
  FileDescriptor in(open(big.path().c_str(), O_RDONLY));
  size_t total = 0;
  while (total < data.size()) {
    ssize_t n = sendfile(out_.get(), in.get(), nullptr, data.size() - total);
    ASSERT_THAT(n, SyscallSucceeds());
    ASSERT_GT(n, 0);
    total += n;
  }
  EXPECT_EQ(total, data.size());
  EXPECT_TRUE(Contents(out_file_.path()) == data);
}

// "EINVAL out_fd has the O_APPEND flag set. This is not currently supported
// by sendfile()."
TEST_F(SendfileTest, AppendOutputFailsEinval) {
  FileDescriptor append(open(out_file_.path().c_str(), O_WRONLY | O_APPEND));
  EXPECT_THAT(sendfile(append.get(), in_.get(), nullptr, 10),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(SendfileTest, ArgumentErrors) {
  off_t negative = -1;
  EXPECT_THAT(sendfile(out_.get(), in_.get(), &negative, 10),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sendfile(out_.get(), -1, nullptr, 10),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(sendfile(-1, in_.get(), nullptr, 10),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(syscall(SYS_sendfile, out_.get(), in_.get(),
                      reinterpret_cast<void*>(8), 10),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_EQ(Contents(out_file_.path()), "");
}

TEST_F(SendfileTest, FullNonblockingPipeFailsEagain) {
  int p[2];
  ASSERT_THAT(pipe2(p, O_NONBLOCK), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  std::string chunk(4096, 'x');
  while (write(w.get(), chunk.data(), chunk.size()) > 0) {
  }
  ASSERT_EQ(errno, EAGAIN);
  off_t off = 0;
  EXPECT_THAT(sendfile(w.get(), in_.get(), &off, 10),
              SyscallFailsWithErrno(EAGAIN));
  EXPECT_EQ(off, 0);
}

class CopyFileRangeTest : public SendfileTest {};

TEST_F(CopyFileRangeTest, CountPastEofCopiesTheRest) {
  EXPECT_THAT(lseek(in_.get(), 7, SEEK_SET), SyscallSucceeds());
  EXPECT_THAT(copy_file_range(in_.get(), nullptr, out_.get(), nullptr, 100, 0),
              SyscallSucceedsWithValue(3));
  EXPECT_THAT(lseek(in_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(10));
  EXPECT_THAT(lseek(out_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(3));
  EXPECT_EQ(Contents(out_file_.path()), "789");
}

// Writing at an output offset past its end leaves a hole of zeros.
TEST_F(CopyFileRangeTest, OutputOffsetPastEndLeavesAHole) {
  loff_t in_off = 0, out_off = 5;
  EXPECT_THAT(copy_file_range(in_.get(), &in_off, out_.get(), &out_off, 3, 0),
              SyscallSucceedsWithValue(3));
  EXPECT_EQ(in_off, 3);
  EXPECT_EQ(out_off, 8);
  EXPECT_EQ(Contents(out_file_.path()), std::string(5, '\0') + "012");
}

// Within one file, ranges that do not overlap can be copied.
TEST_F(CopyFileRangeTest, SameFileWithoutOverlap) {
  FileDescriptor rw(open(in_file_.path().c_str(), O_RDWR));
  loff_t in_off = 0, out_off = 10;
  EXPECT_THAT(copy_file_range(rw.get(), &in_off, rw.get(), &out_off, 5, 0),
              SyscallSucceedsWithValue(5));
  EXPECT_EQ(Contents(in_file_.path()), "012345678901234");
}

// "EBADF ... fd_out is open for appending (O_APPEND)."
TEST_F(CopyFileRangeTest, AppendOutputFailsEbadf) {
  FileDescriptor append(open(out_file_.path().c_str(), O_WRONLY | O_APPEND));
  EXPECT_THAT(copy_file_range(in_.get(), nullptr, append.get(), nullptr, 10, 0),
              SyscallFailsWithErrno(EBADF));
}

TEST_F(CopyFileRangeTest, NonRegularFilesFail) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor d(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  EXPECT_THAT(copy_file_range(d.get(), nullptr, out_.get(), nullptr, 10, 0),
              SyscallFailsWithErrno(EISDIR));
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  EXPECT_THAT(copy_file_range(in_.get(), nullptr, w.get(), nullptr, 10, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(copy_file_range(r.get(), nullptr, out_.get(), nullptr, 10, 0),
              SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace sentry::testing
