// read(2), write(2), pread64/pwrite64, readv/writev, preadv/pwritev,
// preadv2/pwritev2 and lseek(2), from the man pages.
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

// A file holding `contents`, opened read-write.
class FileFixture : public ::testing::Test {
 protected:
  void Open(std::string_view contents) {
    file_ = TempPath::CreateFile(contents);
    fd_.reset(open(file_.path().c_str(), O_RDWR));
    ASSERT_THAT(fd_.get(), SyscallSucceeds());
  }
  void SetUp() override { Open("0123456789"); }
  TempPath file_;
  FileDescriptor fd_;
};

// An address that is certainly unmapped: a page we map and then unmap.
void* UnmappedPage() {
  void* p = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(p, 4096);
  return p;
}

using ReadTest = FileFixture;

TEST_F(ReadTest, ReadsAndAdvancesOffset) {
  char buf[4];
  ASSERT_THAT(read(fd_.get(), buf, 4), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "0123");
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(4));
}

TEST_F(ReadTest, ShortReadAtEndThenZero) {
  char buf[16];
  ASSERT_THAT(lseek(fd_.get(), 7, SEEK_SET), SyscallSucceeds());
  EXPECT_THAT(read(fd_.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(3));
  EXPECT_THAT(read(fd_.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
}

TEST_F(ReadTest, ZeroLengthReadReturnsZero) {
  char buf[1];
  EXPECT_THAT(read(fd_.get(), buf, 0), SyscallSucceedsWithValue(0));
}

TEST_F(ReadTest, BadFdFailsEbadf) {
  char buf[1];
  EXPECT_THAT(read(-1, buf, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(read(99999, buf, 1), SyscallFailsWithErrno(EBADF));
}

TEST_F(ReadTest, BadBufferFailsEfault) {
  EXPECT_THAT(read(fd_.get(), UnmappedPage(), 4),
              SyscallFailsWithErrno(EFAULT));
}

TEST_F(ReadTest, ReadOnlyMemoryBufferFailsEfault) {
  void* p = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  EXPECT_THAT(read(fd_.get(), p, 4), SyscallFailsWithErrno(EFAULT));
  munmap(p, 4096);
}

TEST_F(ReadTest, DirectoryFailsEisdir) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(dfd.get(), SyscallSucceeds());
  char buf[16];
  EXPECT_THAT(read(dfd.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EISDIR));
}

using WriteTest = FileFixture;

TEST_F(WriteTest, OverwritesAtOffset) {
  ASSERT_THAT(lseek(fd_.get(), 2, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(write(fd_.get(), "ab", 2), SyscallSucceedsWithValue(2));
  ASSERT_THAT(lseek(fd_.get(), 0, SEEK_SET), SyscallSucceeds());
  EXPECT_EQ(ReadAll(fd_.get()), "01ab456789");
}

TEST_F(WriteTest, PastEndLeavesZeroFilledHole) {
  ASSERT_THAT(lseek(fd_.get(), 12, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(write(fd_.get(), "x", 1), SyscallSucceedsWithValue(1));
  ASSERT_THAT(lseek(fd_.get(), 0, SEEK_SET), SyscallSucceeds());
  EXPECT_EQ(ReadAll(fd_.get()), std::string("0123456789\0\0x", 13));
}

TEST_F(WriteTest, ZeroLengthWriteReturnsZero) {
  EXPECT_THAT(write(fd_.get(), "", 0), SyscallSucceedsWithValue(0));
}

TEST_F(WriteTest, BadFdFailsEbadf) {
  EXPECT_THAT(write(-1, "x", 1), SyscallFailsWithErrno(EBADF));
}

TEST_F(WriteTest, BadBufferFailsEfault) {
  EXPECT_THAT(write(fd_.get(), UnmappedPage(), 4),
              SyscallFailsWithErrno(EFAULT));
}

using PreadPwriteTest = FileFixture;

TEST_F(PreadPwriteTest, PreadDoesNotMoveOffset) {
  char buf[3];
  ASSERT_THAT(pread(fd_.get(), buf, 3, 5), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "567");
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
}

TEST_F(PreadPwriteTest, PwriteDoesNotMoveOffset) {
  ASSERT_THAT(pwrite(fd_.get(), "zz", 2, 8), SyscallSucceedsWithValue(2));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
  EXPECT_EQ(ReadAll(fd_.get()), "01234567zz");
}

TEST_F(PreadPwriteTest, PreadPastEndReturnsZero) {
  char buf[3];
  EXPECT_THAT(pread(fd_.get(), buf, 3, 100), SyscallSucceedsWithValue(0));
}

TEST_F(PreadPwriteTest, NegativeOffsetFailsEinval) {
  char buf[3];
  EXPECT_THAT(pread(fd_.get(), buf, 3, -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(pwrite(fd_.get(), buf, 3, -1), SyscallFailsWithErrno(EINVAL));
}

TEST_F(PreadPwriteTest, PipeFailsEspipe) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  char buf[1];
  EXPECT_THAT(pread(r.get(), buf, 1, 0), SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(pwrite(w.get(), "x", 1, 0), SyscallFailsWithErrno(ESPIPE));
}

TEST_F(PreadPwriteTest, PwriteIgnoresAppendOffsetButAppends) {
  // pwrite(2) BUGS: with O_APPEND, Linux appends regardless of offset.
  FileDescriptor fd(open(file_.path().c_str(), O_WRONLY | O_APPEND));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ASSERT_THAT(pwrite(fd.get(), "A", 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ReadAll(fd_.get()), "0123456789A");
}

using VectorIoTest = FileFixture;

TEST_F(VectorIoTest, ReadvScattersInOrder) {
  char a[3], b[4];
  struct iovec iov[2] = {{a, 3}, {b, 4}};
  ASSERT_THAT(readv(fd_.get(), iov, 2), SyscallSucceedsWithValue(7));
  EXPECT_EQ(std::string(a, 3), "012");
  EXPECT_EQ(std::string(b, 4), "3456");
}

TEST_F(VectorIoTest, WritevGathersInOrder) {
  char a[] = "ab", b[] = "cde";
  struct iovec iov[2] = {{a, 2}, {b, 3}};
  ASSERT_THAT(writev(fd_.get(), iov, 2), SyscallSucceedsWithValue(5));
  ASSERT_THAT(lseek(fd_.get(), 0, SEEK_SET), SyscallSucceeds());
  EXPECT_EQ(ReadAll(fd_.get()), "abcde56789");
}

TEST_F(VectorIoTest, ZeroLengthEntriesAreSkipped) {
  char a[2], b[2];
  struct iovec iov[3] = {{a, 0}, {a, 2}, {b, 2}};
  ASSERT_THAT(readv(fd_.get(), iov, 3), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(b, 2), "23");
}

TEST_F(VectorIoTest, TooManyIovecsFailsEinval) {
  // IOV_MAX is 1024 on Linux.
  std::vector<struct iovec> iov(1025, {nullptr, 0});
  EXPECT_THAT(readv(fd_.get(), iov.data(), iov.size()),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(VectorIoTest, NegativeCountFailsEinval) {
  struct iovec iov = {nullptr, 0};
  // Raw syscall: glibc's prototype takes int, and GCC rejects -1 at
  // compile time.
  EXPECT_THAT(syscall(SYS_readv, fd_.get(), &iov, -1),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(VectorIoTest, BadIovecArrayFailsEfault) {
  EXPECT_THAT(readv(fd_.get(), static_cast<struct iovec*>(UnmappedPage()), 1),
              SyscallFailsWithErrno(EFAULT));
}

TEST_F(VectorIoTest, PreadvAtOffset) {
  char a[2], b[2];
  struct iovec iov[2] = {{a, 2}, {b, 2}};
  ASSERT_THAT(preadv(fd_.get(), iov, 2, 6), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(a, 2) + std::string(b, 2), "6789");
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
}

TEST_F(VectorIoTest, PwritevAtOffset) {
  char a[] = "X", b[] = "Y";
  struct iovec iov[2] = {{a, 1}, {b, 1}};
  ASSERT_THAT(pwritev(fd_.get(), iov, 2, 1), SyscallSucceedsWithValue(2));
  EXPECT_EQ(ReadAll(fd_.get()), "0XY3456789");
}

TEST_F(VectorIoTest, Preadv2WithOffsetMinusOneUsesFileOffset) {
  ASSERT_THAT(lseek(fd_.get(), 3, SEEK_SET), SyscallSucceeds());
  char a[2];
  struct iovec iov = {a, 2};
  ASSERT_THAT(preadv2(fd_.get(), &iov, 1, -1, 0), SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(a, 2), "34");
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(5));
}

TEST_F(VectorIoTest, Pwritev2WithOffset) {
  char a[] = "Q";
  struct iovec iov = {a, 1};
  ASSERT_THAT(pwritev2(fd_.get(), &iov, 1, 9, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ReadAll(fd_.get()), "012345678Q");
}

TEST_F(VectorIoTest, Preadv2UnknownFlagFailsEopnotsupp) {
  char a[2];
  struct iovec iov = {a, 2};
  EXPECT_THAT(preadv2(fd_.get(), &iov, 1, 0, 0x40000000),
              SyscallFailsWithErrno(EOPNOTSUPP));
}

TEST_F(VectorIoTest, Pwritev2AppendFlagAppends) {
  char a[] = "E";
  struct iovec iov = {a, 1};
  ASSERT_THAT(pwritev2(fd_.get(), &iov, 1, -1, RWF_APPEND),
              SyscallSucceedsWithValue(1));
  // With offset -1 the file offset moves to the new end.
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(11));
  ASSERT_THAT(lseek(fd_.get(), 0, SEEK_SET), SyscallSucceeds());
  EXPECT_EQ(ReadAll(fd_.get()), "0123456789E");
}

using LseekTest = FileFixture;

TEST_F(LseekTest, SeekSetCurEnd) {
  EXPECT_THAT(lseek(fd_.get(), 4, SEEK_SET), SyscallSucceedsWithValue(4));
  EXPECT_THAT(lseek(fd_.get(), 2, SEEK_CUR), SyscallSucceedsWithValue(6));
  EXPECT_THAT(lseek(fd_.get(), -3, SEEK_CUR), SyscallSucceedsWithValue(3));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_END), SyscallSucceedsWithValue(10));
  EXPECT_THAT(lseek(fd_.get(), -1, SEEK_END), SyscallSucceedsWithValue(9));
}

TEST_F(LseekTest, BeyondEndIsAllowed) {
  EXPECT_THAT(lseek(fd_.get(), 1000, SEEK_SET), SyscallSucceedsWithValue(1000));
  char c;
  EXPECT_THAT(read(fd_.get(), &c, 1), SyscallSucceedsWithValue(0));
}

TEST_F(LseekTest, NegativeResultFailsEinval) {
  EXPECT_THAT(lseek(fd_.get(), -1, SEEK_SET), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(lseek(fd_.get(), -11, SEEK_END), SyscallFailsWithErrno(EINVAL));
}

TEST_F(LseekTest, BadWhenceFailsEinval) {
  EXPECT_THAT(lseek(fd_.get(), 0, 42), SyscallFailsWithErrno(EINVAL));
}

TEST_F(LseekTest, BadFdFailsEbadf) {
  EXPECT_THAT(lseek(-1, 0, SEEK_SET), SyscallFailsWithErrno(EBADF));
}

TEST_F(LseekTest, PipeFailsEspipe) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  EXPECT_THAT(lseek(r.get(), 0, SEEK_CUR), SyscallFailsWithErrno(ESPIPE));
}

TEST_F(LseekTest, SeekDataAndHoleBasics) {
  // Without holes the whole file is data and the only hole is the
  // implicit one at EOF (lseek(2): SEEK_HOLE).
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_DATA), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(fd_.get(), 3, SEEK_DATA), SyscallSucceedsWithValue(3));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_HOLE), SyscallSucceedsWithValue(10));
}

TEST_F(LseekTest, SeekDataAtOrPastEndFailsEnxio) {
  EXPECT_THAT(lseek(fd_.get(), 10, SEEK_DATA), SyscallFailsWithErrno(ENXIO));
  EXPECT_THAT(lseek(fd_.get(), 11, SEEK_HOLE), SyscallFailsWithErrno(ENXIO));
}

TEST_F(LseekTest, SeekDataSkipsLeadingHole) {
  // A 1 MiB hole then data: SEEK_DATA from 0 lands at or before the data
  // (filesystems may report holes at block granularity or not at all).
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  ASSERT_THAT(pwrite(fd.get(), "d", 1, 1 << 20), SyscallSucceedsWithValue(1));
  off_t data = lseek(fd.get(), 0, SEEK_DATA);
  ASSERT_THAT(data, SyscallSucceeds());
  EXPECT_LE(data, 1 << 20);
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_HOLE),
              SyscallSucceedsWithValue(::testing::AnyOf(0, (1 << 20) + 1)));
}

}  // namespace
}  // namespace sentry::testing
