// truncate/ftruncate, fallocate, utimensat/utimes, fsync/fdatasync/sync/
// syncfs, statfs/fstatfs and the xattr family, from the man pages.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

off_t SizeOf(const std::string& path) {
  struct stat st;
  EXPECT_THAT(stat(path.c_str(), &st), SyscallSucceeds());
  return st.st_size;
}

TEST(TruncateTest, ShrinksAndGrowsWithZeros) {
  TempPath f = TempPath::CreateFile("abcdef");
  ASSERT_THAT(truncate(f.path().c_str(), 3), SyscallSucceeds());
  EXPECT_EQ(SizeOf(f.path()), 3);
  ASSERT_THAT(truncate(f.path().c_str(), 5), SyscallSucceeds());
  EXPECT_EQ(ReadProcFile(f.path()), std::string("abc\0\0", 5));
}

TEST(TruncateTest, NegativeLengthFailsEinval) {
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(truncate(f.path().c_str(), -1), SyscallFailsWithErrno(EINVAL));
}

TEST(TruncateTest, DirectoryFailsEisdir) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(truncate(dir.path().c_str(), 0), SyscallFailsWithErrno(EISDIR));
}

TEST(FtruncateTest, ThroughWritableFd) {
  TempPath f = TempPath::CreateFile("abcdef");
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  ASSERT_THAT(ftruncate(fd.get(), 1), SyscallSucceeds());
  EXPECT_EQ(SizeOf(f.path()), 1);
}

TEST(FtruncateTest, DoesNotMoveOffset) {
  TempPath f = TempPath::CreateFile("abcdef");
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  ASSERT_THAT(lseek(fd.get(), 4, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(ftruncate(fd.get(), 2), SyscallSucceeds());
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(4));
}

TEST(FtruncateTest, ReadOnlyFdFailsEinval) {
  // ftruncate(2): EBADF or EINVAL if fd is not open for writing; Linux
  // returns EINVAL.
  TempPath f = TempPath::CreateFile("abc");
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  EXPECT_THAT(ftruncate(fd.get(), 0),
              SyscallFailsWithErrno(::testing::AnyOf(EINVAL, EBADF)));
}

TEST(FtruncateTest, PipeFailsEinval) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  EXPECT_THAT(ftruncate(w.get(), 0), SyscallFailsWithErrno(EINVAL));
}

TEST(FallocateTest, ExtendsFile) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  int r = fallocate(fd.get(), 0, 0, 8192);
  if (r != 0 && errno == EOPNOTSUPP) GTEST_SKIP() << "no fallocate here";
  ASSERT_THAT(r, SyscallSucceeds());
  EXPECT_EQ(SizeOf(f.path()), 8192);
}

TEST(FallocateTest, KeepSizeDoesNotChangeSize) {
  TempPath f = TempPath::CreateFile("ab");
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  int r = fallocate(fd.get(), FALLOC_FL_KEEP_SIZE, 0, 8192);
  if (r != 0 && errno == EOPNOTSUPP) GTEST_SKIP() << "no fallocate here";
  ASSERT_THAT(r, SyscallSucceeds());
  EXPECT_EQ(SizeOf(f.path()), 2);
}

TEST(FallocateTest, InvalidArgumentsFail) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  EXPECT_THAT(fallocate(fd.get(), 0, -1, 10), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fallocate(fd.get(), 0, 0, 0), SyscallFailsWithErrno(EINVAL));
  FileDescriptor ro(open(f.path().c_str(), O_RDONLY));
  EXPECT_THAT(fallocate(ro.get(), 0, 0, 10), SyscallFailsWithErrno(EBADF));
}

TEST(UtimensatTest, SetsExplicitTimes) {
  TempPath f = TempPath::CreateFile();
  struct timespec ts[2] = {{1000, 1}, {2000, 2}};
  ASSERT_THAT(utimensat(AT_FDCWD, f.path().c_str(), ts, 0), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(f.path().c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_atim.tv_sec, 1000);
  EXPECT_EQ(st.st_mtim.tv_sec, 2000);
}

TEST(UtimensatTest, OmitLeavesTimeAndNowSetsCurrent) {
  TempPath f = TempPath::CreateFile();
  struct timespec set[2] = {{1000, 0}, {2000, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, f.path().c_str(), set, 0), SyscallSucceeds());
  struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
  time_t before = time(nullptr);
  ASSERT_THAT(utimensat(AT_FDCWD, f.path().c_str(), ts, 0), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(f.path().c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_atim.tv_sec, 1000);
  EXPECT_GE(st.st_mtim.tv_sec, before - 1);
}

TEST(UtimensatTest, NullTimesSetsBothToNow) {
  TempPath f = TempPath::CreateFile();
  struct timespec set[2] = {{1000, 0}, {2000, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, f.path().c_str(), set, 0), SyscallSucceeds());
  ASSERT_THAT(utimensat(AT_FDCWD, f.path().c_str(), nullptr, 0),
              SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(f.path().c_str(), &st), SyscallSucceeds());
  EXPECT_GT(st.st_atim.tv_sec, 2000);
  EXPECT_GT(st.st_mtim.tv_sec, 2000);
}

TEST(UtimensatTest, SymlinkNofollowChangesLink) {
  TempPath f = TempPath::CreateFile();
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(symlink(f.path().c_str(), dir.Child("l").c_str()),
              SyscallSucceeds());
  struct timespec ts[2] = {{3000, 0}, {3000, 0}};
  ASSERT_THAT(
      utimensat(AT_FDCWD, dir.Child("l").c_str(), ts, AT_SYMLINK_NOFOLLOW),
      SyscallSucceeds());
  struct stat lst, st;
  ASSERT_THAT(lstat(dir.Child("l").c_str(), &lst), SyscallSucceeds());
  ASSERT_THAT(stat(f.path().c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(lst.st_mtim.tv_sec, 3000);
  EXPECT_NE(st.st_mtim.tv_sec, 3000);
}

TEST(UtimensatTest, InvalidNsecFailsEinval) {
  TempPath f = TempPath::CreateFile();
  struct timespec ts[2] = {{0, 1000000000}, {0, 0}};
  EXPECT_THAT(utimensat(AT_FDCWD, f.path().c_str(), ts, 0),
              SyscallFailsWithErrno(EINVAL));
}

TEST(UtimensatTest, ThroughFd) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  struct timespec ts[2] = {{4000, 0}, {5000, 0}};
  ASSERT_THAT(futimens(fd.get(), ts), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mtim.tv_sec, 5000);
}

TEST(UtimesTest, SetsMicroseconds) {
  TempPath f = TempPath::CreateFile();
  struct timeval tv[2] = {{6000, 5}, {7000, 6}};
  ASSERT_THAT(utimes(f.path().c_str(), tv), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(f.path().c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mtim.tv_sec, 7000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 6000);
}

TEST(SyncTest, AllSyncCallsSucceed) {
  TempPath f = TempPath::CreateFile("x");
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  EXPECT_THAT(fsync(fd.get()), SyscallSucceeds());
  EXPECT_THAT(fdatasync(fd.get()), SyscallSucceeds());
  EXPECT_THAT(syncfs(fd.get()), SyscallSucceeds());
  sync();  // sync(2) cannot fail.
}

TEST(SyncTest, FsyncBadFdFailsEbadf) {
  EXPECT_THAT(fsync(-1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(syncfs(-1), SyscallFailsWithErrno(EBADF));
}

TEST(SyncTest, FsyncPipeFailsEinval) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  EXPECT_THAT(fsync(r.get()), SyscallFailsWithErrno(EINVAL));
}

TEST(StatfsTest, BasicFields) {
  TempPath dir = TempPath::CreateDir();
  struct statfs st;
  ASSERT_THAT(statfs(dir.path().c_str(), &st), SyscallSucceeds());
  EXPECT_GT(st.f_bsize, 0);
  EXPECT_GT(st.f_namelen, 0);
  EXPECT_LE(st.f_bfree, st.f_blocks);
  EXPECT_LE(st.f_bavail, st.f_bfree);
}

TEST(StatfsTest, FstatfsMatchesStatfs) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  struct statfs a, b;
  ASSERT_THAT(fstatfs(fd.get(), &a), SyscallSucceeds());
  ASSERT_THAT(statfs(f.path().c_str(), &b), SyscallSucceeds());
  EXPECT_EQ(a.f_type, b.f_type);
  EXPECT_EQ(a.f_bsize, b.f_bsize);
}

TEST(StatfsTest, ProcHasProcMagic) {
  struct statfs st;
  ASSERT_THAT(statfs("/proc", &st), SyscallSucceeds());
  EXPECT_EQ(st.f_type, 0x9fa0);  // PROC_SUPER_MAGIC, statfs(2)
}

TEST(StatfsTest, MissingFailsEnoent) {
  TempPath dir = TempPath::CreateDir();
  struct statfs st;
  EXPECT_THAT(statfs(dir.Child("x").c_str(), &st),
              SyscallFailsWithErrno(ENOENT));
}

class XattrTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = TempPath::CreateFile();
    if (setxattr(file_.path().c_str(), "user.probe", "1", 1, 0) != 0 &&
        (errno == ENOTSUP || errno == EOPNOTSUPP)) {
      GTEST_SKIP() << "no user.* xattrs on the filesystem of " << file_.path();
    }
    ASSERT_THAT(removexattr(file_.path().c_str(), "user.probe"),
                SyscallSucceeds());
  }
  const char* P() const { return file_.path().c_str(); }
  TempPath file_;
};

TEST_F(XattrTest, SetThenGet) {
  ASSERT_THAT(setxattr(P(), "user.k", "value", 5, 0), SyscallSucceeds());
  char buf[16];
  ASSERT_THAT(getxattr(P(), "user.k", buf, sizeof(buf)),
              SyscallSucceedsWithValue(5));
  EXPECT_EQ(std::string(buf, 5), "value");
}

TEST_F(XattrTest, ZeroSizeReturnsLength) {
  ASSERT_THAT(setxattr(P(), "user.k", "value", 5, 0), SyscallSucceeds());
  EXPECT_THAT(getxattr(P(), "user.k", nullptr, 0), SyscallSucceedsWithValue(5));
}

TEST_F(XattrTest, SmallBufferFailsErange) {
  ASSERT_THAT(setxattr(P(), "user.k", "value", 5, 0), SyscallSucceeds());
  char buf[2];
  EXPECT_THAT(getxattr(P(), "user.k", buf, sizeof(buf)),
              SyscallFailsWithErrno(ERANGE));
}

TEST_F(XattrTest, MissingFailsEnodata) {
  char buf[8];
  EXPECT_THAT(getxattr(P(), "user.none", buf, sizeof(buf)),
              SyscallFailsWithErrno(ENODATA));
}

TEST_F(XattrTest, CreateAndReplaceFlags) {
  EXPECT_THAT(setxattr(P(), "user.k", "a", 1, XATTR_REPLACE),
              SyscallFailsWithErrno(ENODATA));
  ASSERT_THAT(setxattr(P(), "user.k", "a", 1, XATTR_CREATE), SyscallSucceeds());
  EXPECT_THAT(setxattr(P(), "user.k", "b", 1, XATTR_CREATE),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(setxattr(P(), "user.k", "c", 1, XATTR_REPLACE),
              SyscallSucceeds());
}

TEST_F(XattrTest, ListNamesNulSeparated) {
  ASSERT_THAT(setxattr(P(), "user.a", "1", 1, 0), SyscallSucceeds());
  ASSERT_THAT(setxattr(P(), "user.bb", "2", 1, 0), SyscallSucceeds());
  char buf[256];
  ssize_t n = listxattr(P(), buf, sizeof(buf));
  ASSERT_THAT(n, SyscallSucceeds());
  std::string list(buf, n);
  // Other (e.g. security.*) names may be present too.
  EXPECT_NE(list.find(std::string("user.a\0", 7)), std::string::npos);
  EXPECT_NE(list.find(std::string("user.bb\0", 8)), std::string::npos);
  EXPECT_THAT(listxattr(P(), nullptr, 0), SyscallSucceedsWithValue(n));
}

TEST_F(XattrTest, RemoveThenMissing) {
  ASSERT_THAT(setxattr(P(), "user.k", "v", 1, 0), SyscallSucceeds());
  ASSERT_THAT(removexattr(P(), "user.k"), SyscallSucceeds());
  EXPECT_THAT(removexattr(P(), "user.k"), SyscallFailsWithErrno(ENODATA));
}

TEST_F(XattrTest, FdVariants) {
  FileDescriptor fd(open(P(), O_RDONLY));
  ASSERT_THAT(fsetxattr(fd.get(), "user.f", "xy", 2, 0), SyscallSucceeds());
  char buf[4];
  EXPECT_THAT(fgetxattr(fd.get(), "user.f", buf, sizeof(buf)),
              SyscallSucceedsWithValue(2));
  EXPECT_THAT(fremovexattr(fd.get(), "user.f"), SyscallSucceeds());
}

TEST_F(XattrTest, UnknownNamespaceFailsEopnotsupp) {
  EXPECT_THAT(setxattr(P(), "bogus.k", "v", 1, 0),
              SyscallFailsWithErrno(EOPNOTSUPP));
}

TEST_F(XattrTest, EmptyValueAllowed) {
  ASSERT_THAT(setxattr(P(), "user.empty", "", 0, 0), SyscallSucceeds());
  EXPECT_THAT(getxattr(P(), "user.empty", nullptr, 0),
              SyscallSucceedsWithValue(0));
}

}  // namespace
}  // namespace sentry::testing
