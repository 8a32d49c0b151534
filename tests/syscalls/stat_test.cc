// stat(2), lstat, fstat, newfstatat (fstatat) and statx(2), from the man
// pages.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

bool Later(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

// Timestamps have the filesystem's granularity (often a jiffy): wait long
// enough for a change to be visible.
void SleepForTimestampTick() { usleep(20 * 1000); }

TEST(StatTest, RegularFileFields) {
  TempPath f = TempPath::CreateFile("12345", 0640);
  struct stat st;
  ASSERT_THAT(stat(f.path().c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_size, 5);
  EXPECT_EQ(st.st_nlink, 1u);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_GT(st.st_blksize, 0);
}

TEST(StatTest, DirectoryIsDir) {
  TempPath dir = TempPath::CreateDir();
  struct stat st;
  ASSERT_THAT(stat(dir.path().c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_GE(st.st_nlink, 2u);
}

TEST(StatTest, MissingFailsEnoent) {
  TempPath dir = TempPath::CreateDir();
  struct stat st;
  EXPECT_THAT(stat(dir.Child("x").c_str(), &st), SyscallFailsWithErrno(ENOENT));
}

TEST(StatTest, ComponentNotDirFailsEnotdir) {
  TempPath f = TempPath::CreateFile();
  struct stat st;
  EXPECT_THAT(stat((f.path() + "/x").c_str(), &st),
              SyscallFailsWithErrno(ENOTDIR));
}

TEST(StatTest, BadBufferFailsEfault) {
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(stat(f.path().c_str(), reinterpret_cast<struct stat*>(1)),
              SyscallFailsWithErrno(EFAULT));
}

TEST(StatTest, StatFollowsSymlinkLstatDoesNot) {
  TempPath f = TempPath::CreateFile("abc");
  TempPath dir = TempPath::CreateDir();
  std::string link = dir.Child("l");
  ASSERT_THAT(symlink(f.path().c_str(), link.c_str()), SyscallSucceeds());
  struct stat st, lst;
  ASSERT_THAT(stat(link.c_str(), &st), SyscallSucceeds());
  ASSERT_THAT(lstat(link.c_str(), &lst), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_TRUE(S_ISLNK(lst.st_mode));
  // A symlink's size is the length of its target.
  EXPECT_EQ(lst.st_size, static_cast<off_t>(f.path().size()));
}

TEST(StatTest, DanglingSymlinkStatFailsLstatSucceeds) {
  TempPath dir = TempPath::CreateDir();
  std::string link = dir.Child("l");
  ASSERT_THAT(symlink("missing", link.c_str()), SyscallSucceeds());
  struct stat st;
  EXPECT_THAT(stat(link.c_str(), &st), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(lstat(link.c_str(), &st), SyscallSucceeds());
}

TEST(FstatTest, MatchesStat) {
  TempPath f = TempPath::CreateFile("abc");
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  struct stat a, b;
  ASSERT_THAT(fstat(fd.get(), &a), SyscallSucceeds());
  ASSERT_THAT(stat(f.path().c_str(), &b), SyscallSucceeds());
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_dev, b.st_dev);
  EXPECT_EQ(a.st_size, 3);
}

TEST(FstatTest, BadFdFailsEbadf) {
  struct stat st;
  EXPECT_THAT(fstat(-1, &st), SyscallFailsWithErrno(EBADF));
}

TEST(FstatTest, PipeIsFifo) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  struct stat st;
  ASSERT_THAT(fstat(r.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST(FstatTest, DevNullIsCharDevice) {
  FileDescriptor fd(open("/dev/null", O_RDONLY));
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(major(st.st_rdev), 1u);
  EXPECT_EQ(minor(st.st_rdev), 3u);
}

TEST(FstatatTest, RelativeToDirfd) {
  TempPath dir = TempPath::CreateDir();
  TempPath f = TempPath::CreateFileIn(dir.path(), "xy");
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  std::string base = f.path().substr(dir.path().size() + 1);
  struct stat st;
  ASSERT_THAT(fstatat(dfd.get(), base.c_str(), &st, 0), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 2);
}

TEST(FstatatTest, EmptyPathNeedsFlag) {
  TempPath f = TempPath::CreateFile("xyz");
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  struct stat st;
  EXPECT_THAT(fstatat(fd.get(), "", &st, 0), SyscallFailsWithErrno(ENOENT));
  ASSERT_THAT(fstatat(fd.get(), "", &st, AT_EMPTY_PATH), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 3);
}

TEST(FstatatTest, EmptyPathOnOPathFd) {
  TempPath f = TempPath::CreateFile("xyz");
  FileDescriptor fd(open(f.path().c_str(), O_PATH));
  struct stat st;
  ASSERT_THAT(fstatat(fd.get(), "", &st, AT_EMPTY_PATH), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST(FstatatTest, SymlinkNofollow) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(symlink("/", dir.Child("l").c_str()), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(
      fstatat(AT_FDCWD, dir.Child("l").c_str(), &st, AT_SYMLINK_NOFOLLOW),
      SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_THAT(fstatat(AT_FDCWD, dir.Child("l").c_str(), &st, 0),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST(FstatatTest, InvalidFlagFailsEinval) {
  struct stat st;
  EXPECT_THAT(fstatat(AT_FDCWD, "/", &st, 0x10000000),
              SyscallFailsWithErrno(EINVAL));
}

TEST(StatxTest, BasicFieldsAndMask) {
  TempPath f = TempPath::CreateFile("hello", 0600);
  struct statx stx;
  ASSERT_THAT(statx(AT_FDCWD, f.path().c_str(), 0, STATX_BASIC_STATS, &stx),
              SyscallSucceeds());
  EXPECT_EQ(stx.stx_mask & STATX_BASIC_STATS, STATX_BASIC_STATS);
  EXPECT_EQ(stx.stx_size, 5u);
  EXPECT_TRUE(S_ISREG(stx.stx_mode));
  EXPECT_EQ(stx.stx_mode & 07777, 0600);
  EXPECT_EQ(stx.stx_nlink, 1u);
  struct stat st;
  ASSERT_THAT(stat(f.path().c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(stx.stx_ino, st.st_ino);
  EXPECT_EQ(makedev(stx.stx_dev_major, stx.stx_dev_minor), st.st_dev);
}

TEST(StatxTest, EmptyPathWithFd) {
  TempPath f = TempPath::CreateFile("abcd");
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  struct statx stx;
  ASSERT_THAT(statx(fd.get(), "", AT_EMPTY_PATH, STATX_SIZE, &stx),
              SyscallSucceeds());
  EXPECT_EQ(stx.stx_size, 4u);
}

TEST(StatxTest, ReservedMaskBitFailsEinval) {
  // statx(2): STATX__RESERVED set in mask → EINVAL.
  struct statx stx;
  EXPECT_THAT(statx(AT_FDCWD, "/", 0, 0x80000000U, &stx),
              SyscallFailsWithErrno(EINVAL));
}

TEST(StatxTest, BadSyncFlagsFailEinval) {
  struct statx stx;
  EXPECT_THAT(statx(AT_FDCWD, "/", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC,
                    STATX_BASIC_STATS, &stx),
              SyscallFailsWithErrno(EINVAL));
}

TEST(StatxTest, SymlinkNofollow) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(symlink("abc", dir.Child("l").c_str()), SyscallSucceeds());
  struct statx stx;
  ASSERT_THAT(statx(AT_FDCWD, dir.Child("l").c_str(), AT_SYMLINK_NOFOLLOW,
                    STATX_TYPE | STATX_SIZE, &stx),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(stx.stx_mode));
  EXPECT_EQ(stx.stx_size, 3u);
}

TEST(StatTest, NlinkFollowsLinkAndUnlink) {
  TempPath dir = TempPath::CreateDir();
  TempPath f = TempPath::CreateFileIn(dir.path());
  std::string l1 = dir.Child("l1"), l2 = dir.Child("l2");
  ASSERT_THAT(link(f.path().c_str(), l1.c_str()), SyscallSucceeds());
  ASSERT_THAT(link(f.path().c_str(), l2.c_str()), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(f.path().c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_nlink, 3u);
  ASSERT_THAT(unlink(l1.c_str()), SyscallSucceeds());
  ASSERT_THAT(stat(l2.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_nlink, 2u);
}

TEST(StatTest, DirectoryNlinkCountsSubdirectories) {
  TempPath dir = TempPath::CreateDir();
  struct stat before, after;
  ASSERT_THAT(stat(dir.path().c_str(), &before), SyscallSucceeds());
  ASSERT_THAT(mkdir(dir.Child("sub").c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(stat(dir.path().c_str(), &after), SyscallSucceeds());
  // Each subdirectory's ".." is a link to the parent.
  EXPECT_EQ(after.st_nlink, before.st_nlink + 1);
}

TEST(StatTest, SizeFollowsWritesAndTruncate) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  ASSERT_THAT(write(fd.get(), "1234567", 7), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 7);
  ASSERT_THAT(ftruncate(fd.get(), 2), SyscallSucceeds());
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 2);
}

TEST(StatTest, WriteUpdatesMtimeAndCtime) {
  TempPath f = TempPath::CreateFile("a");
  struct stat before, after;
  ASSERT_THAT(stat(f.path().c_str(), &before), SyscallSucceeds());
  SleepForTimestampTick();
  FileDescriptor fd(open(f.path().c_str(), O_WRONLY));
  ASSERT_THAT(write(fd.get(), "b", 1), SyscallSucceeds());
  ASSERT_THAT(fstat(fd.get(), &after), SyscallSucceeds());
  EXPECT_TRUE(Later(after.st_mtim, before.st_mtim));
  EXPECT_TRUE(Later(after.st_ctim, before.st_ctim));
}

TEST(StatTest, ChmodUpdatesCtimeNotMtime) {
  TempPath f = TempPath::CreateFile("a");
  struct stat before, after;
  ASSERT_THAT(stat(f.path().c_str(), &before), SyscallSucceeds());
  SleepForTimestampTick();
  ASSERT_THAT(chmod(f.path().c_str(), 0600), SyscallSucceeds());
  ASSERT_THAT(stat(f.path().c_str(), &after), SyscallSucceeds());
  EXPECT_TRUE(Later(after.st_ctim, before.st_ctim));
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

TEST(StatTest, CreatingEntryUpdatesDirectoryMtime) {
  TempPath dir = TempPath::CreateDir();
  struct stat before, after;
  ASSERT_THAT(stat(dir.path().c_str(), &before), SyscallSucceeds());
  SleepForTimestampTick();
  FileDescriptor fd(open(dir.Child("n").c_str(), O_CREAT | O_RDWR, 0644));
  ASSERT_THAT(stat(dir.path().c_str(), &after), SyscallSucceeds());
  EXPECT_TRUE(Later(after.st_mtim, before.st_mtim));
}

}  // namespace
}  // namespace sentry::testing
