// sendfile(2), splice(2), tee(2) and copy_file_range(2), from the man pages.
#include <errno.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

struct Pipe {
  FileDescriptor r, w;
};

Pipe MakePipe(int flags = 0) {
  int p[2];
  EXPECT_THAT(pipe2(p, flags), SyscallSucceeds());
  return {FileDescriptor(p[0]), FileDescriptor(p[1])};
}

class SpliceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_file_ = TempPath::CreateFile("0123456789");
    dst_file_ = TempPath::CreateFile();
    src_.reset(open(src_file_.path().c_str(), O_RDONLY));
    dst_.reset(open(dst_file_.path().c_str(), O_RDWR));
    ASSERT_TRUE(src_.valid() && dst_.valid());
  }
  std::string DstContents() { return ReadProcFile(dst_file_.path()); }
  TempPath src_file_, dst_file_;
  FileDescriptor src_, dst_;
};

TEST_F(SpliceTest, SendfileCopiesAndAdvancesOffset) {
  ASSERT_THAT(sendfile(dst_.get(), src_.get(), nullptr, 4),
              SyscallSucceedsWithValue(4));
  EXPECT_EQ(DstContents(), "0123");
  EXPECT_THAT(lseek(src_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(4));
}

TEST_F(SpliceTest, SendfileWithOffsetLeavesFileOffset) {
  off_t off = 6;
  ASSERT_THAT(sendfile(dst_.get(), src_.get(), &off, 100),
              SyscallSucceedsWithValue(4));
  EXPECT_EQ(off, 10);
  EXPECT_EQ(DstContents(), "6789");
  EXPECT_THAT(lseek(src_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
}

TEST_F(SpliceTest, SendfileAtEofReturnsZero) {
  off_t off = 10;
  EXPECT_THAT(sendfile(dst_.get(), src_.get(), &off, 5),
              SyscallSucceedsWithValue(0));
}

TEST_F(SpliceTest, SendfileToPipe) {
  Pipe p = MakePipe();
  ASSERT_THAT(sendfile(p.w.get(), src_.get(), nullptr, 10),
              SyscallSucceedsWithValue(10));
  char buf[16];
  ASSERT_THAT(read(p.r.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(10));
}

TEST_F(SpliceTest, SendfileWrongModesFailEbadf) {
  FileDescriptor wo(open(dst_file_.path().c_str(), O_WRONLY));
  EXPECT_THAT(sendfile(dst_.get(), wo.get(), nullptr, 1),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(sendfile(src_.get(), src_.get(), nullptr, 1),
              SyscallFailsWithErrno(EBADF));
}

TEST_F(SpliceTest, SpliceFileToPipeToFile) {
  Pipe p = MakePipe();
  ASSERT_THAT(splice(src_.get(), nullptr, p.w.get(), nullptr, 5, 0),
              SyscallSucceedsWithValue(5));
  ASSERT_THAT(splice(p.r.get(), nullptr, dst_.get(), nullptr, 5, 0),
              SyscallSucceedsWithValue(5));
  EXPECT_EQ(DstContents(), "01234");
}

TEST_F(SpliceTest, SpliceWithOffsets) {
  Pipe p = MakePipe();
  loff_t in_off = 3, out_off = 2;
  ASSERT_THAT(splice(src_.get(), &in_off, p.w.get(), nullptr, 2, 0),
              SyscallSucceedsWithValue(2));
  EXPECT_EQ(in_off, 5);
  ASSERT_THAT(splice(p.r.get(), nullptr, dst_.get(), &out_off, 2, 0),
              SyscallSucceedsWithValue(2));
  EXPECT_EQ(out_off, 4);
  EXPECT_EQ(DstContents(), std::string("\0\0"
                                       "34",
                                       4));
}

TEST_F(SpliceTest, SpliceNeedsAPipe) {
  EXPECT_THAT(splice(src_.get(), nullptr, dst_.get(), nullptr, 5, 0),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(SpliceTest, SpliceOffsetOnPipeFailsEspipe) {
  Pipe p = MakePipe();
  loff_t off = 0;
  EXPECT_THAT(splice(src_.get(), nullptr, p.w.get(), &off, 5, 0),
              SyscallFailsWithErrno(ESPIPE));
}

TEST_F(SpliceTest, SpliceEmptyNonblockingPipeFailsEagain) {
  Pipe p = MakePipe(O_NONBLOCK);
  EXPECT_THAT(
      splice(p.r.get(), nullptr, dst_.get(), nullptr, 5, SPLICE_F_NONBLOCK),
      SyscallFailsWithErrno(EAGAIN));
}

TEST_F(SpliceTest, SplicePipeToPipe) {
  Pipe a = MakePipe(), b = MakePipe();
  ASSERT_THAT(write(a.w.get(), "pipe", 4), SyscallSucceeds());
  ASSERT_THAT(splice(a.r.get(), nullptr, b.w.get(), nullptr, 4, 0),
              SyscallSucceedsWithValue(4));
  char buf[4];
  ASSERT_THAT(read(b.r.get(), buf, 4), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "pipe");
}

TEST_F(SpliceTest, TeeDuplicatesWithoutConsuming) {
  Pipe a = MakePipe(), b = MakePipe();
  ASSERT_THAT(write(a.w.get(), "teedata", 7), SyscallSucceeds());
  ASSERT_THAT(tee(a.r.get(), b.w.get(), 7, 0), SyscallSucceedsWithValue(7));
  char buf[8];
  ASSERT_THAT(read(a.r.get(), buf, 8), SyscallSucceedsWithValue(7));
  ASSERT_THAT(read(b.r.get(), buf, 8), SyscallSucceedsWithValue(7));
  EXPECT_EQ(std::string(buf, 7), "teedata");
}

TEST_F(SpliceTest, TeeSamePipeFailsEinval) {
  Pipe a = MakePipe();
  ASSERT_THAT(write(a.w.get(), "x", 1), SyscallSucceeds());
  EXPECT_THAT(tee(a.r.get(), a.w.get(), 1, 0), SyscallFailsWithErrno(EINVAL));
}

TEST_F(SpliceTest, TeeNonPipeFailsEinval) {
  Pipe a = MakePipe();
  EXPECT_THAT(tee(src_.get(), a.w.get(), 1, 0), SyscallFailsWithErrno(EINVAL));
}

TEST_F(SpliceTest, CopyFileRangeCopies) {
  ASSERT_THAT(copy_file_range(src_.get(), nullptr, dst_.get(), nullptr, 10, 0),
              SyscallSucceedsWithValue(10));
  EXPECT_EQ(DstContents(), "0123456789");
  EXPECT_THAT(lseek(src_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(10));
}

TEST_F(SpliceTest, CopyFileRangeWithOffsets) {
  loff_t in = 5, out = 1;
  ASSERT_THAT(copy_file_range(src_.get(), &in, dst_.get(), &out, 3, 0),
              SyscallSucceedsWithValue(3));
  EXPECT_EQ(in, 8);
  EXPECT_EQ(out, 4);
  EXPECT_EQ(DstContents(), std::string("\0"
                                       "567",
                                       4));
}

TEST_F(SpliceTest, CopyFileRangeAtEofReturnsZero) {
  loff_t in = 10;
  EXPECT_THAT(copy_file_range(src_.get(), &in, dst_.get(), nullptr, 3, 0),
              SyscallSucceedsWithValue(0));
}

TEST_F(SpliceTest, CopyFileRangeNonzeroFlagsFailEinval) {
  EXPECT_THAT(copy_file_range(src_.get(), nullptr, dst_.get(), nullptr, 3, 1),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(SpliceTest, CopyFileRangeWrongModesFailEbadf) {
  EXPECT_THAT(copy_file_range(src_.get(), nullptr, src_.get(), nullptr, 3, 0),
              SyscallFailsWithErrno(EBADF));
}

TEST_F(SpliceTest, CopyFileRangeOverlappingSameFileFailsEinval) {
  // The ranges must hold data: a copy from EOF returns 0 before the check.
  ASSERT_THAT(pwrite(dst_.get(), "0123456789", 10, 0), SyscallSucceeds());
  loff_t in = 0, out = 2;
  EXPECT_THAT(copy_file_range(dst_.get(), &in, dst_.get(), &out, 5, 0),
              SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace sentry::testing
