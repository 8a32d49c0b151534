// link(2)/linkat, symlink(2)/symlinkat, readlink(2)/readlinkat and
// unlink(2)/unlinkat, from the man pages.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

using ::testing::AnyOf;

TEST(LinkTest, CreatesSecondNameForSameInode) {
  TempPath dir = TempPath::CreateDir();
  TempPath f = TempPath::CreateFileIn(dir.path(), "data");
  ASSERT_THAT(link(f.path().c_str(), dir.Child("h").c_str()),
              SyscallSucceeds());
  struct stat a, b;
  ASSERT_THAT(stat(f.path().c_str(), &a), SyscallSucceeds());
  ASSERT_THAT(stat(dir.Child("h").c_str(), &b), SyscallSucceeds());
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(b.st_nlink, 2u);
}

TEST(LinkTest, ExistingNewpathFailsEexist) {
  TempPath dir = TempPath::CreateDir();
  TempPath a = TempPath::CreateFileIn(dir.path());
  TempPath b = TempPath::CreateFileIn(dir.path());
  EXPECT_THAT(link(a.path().c_str(), b.path().c_str()),
              SyscallFailsWithErrno(EEXIST));
}

TEST(LinkTest, MissingOldpathFailsEnoent) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(link(dir.Child("a").c_str(), dir.Child("b").c_str()),
              SyscallFailsWithErrno(ENOENT));
}

TEST(LinkTest, DirectoryFailsEperm) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(mkdir(dir.Child("d").c_str(), 0755), SyscallSucceeds());
  EXPECT_THAT(link(dir.Child("d").c_str(), dir.Child("e").c_str()),
              SyscallFailsWithErrno(EPERM));
}

TEST(LinkTest, DoesNotFollowSymlinkOldpath) {
  // link(2): Linux does not dereference oldpath if it is a symlink.
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(symlink("missing", dir.Child("s").c_str()), SyscallSucceeds());
  ASSERT_THAT(link(dir.Child("s").c_str(), dir.Child("h").c_str()),
              SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(lstat(dir.Child("h").c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST(LinkatTest, SymlinkFollowFlagFollows) {
  TempPath dir = TempPath::CreateDir();
  TempPath f = TempPath::CreateFileIn(dir.path());
  ASSERT_THAT(symlink(f.path().c_str(), dir.Child("s").c_str()),
              SyscallSucceeds());
  ASSERT_THAT(linkat(AT_FDCWD, dir.Child("s").c_str(), AT_FDCWD,
                     dir.Child("h").c_str(), AT_SYMLINK_FOLLOW),
              SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(lstat(dir.Child("h").c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST(LinkatTest, RelativeToDirfds) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  FileDescriptor f(openat(dfd.get(), "a", O_CREAT | O_RDWR, 0644));
  ASSERT_THAT(linkat(dfd.get(), "a", dfd.get(), "b", 0), SyscallSucceeds());
  EXPECT_THAT(access(dir.Child("b").c_str(), F_OK), SyscallSucceeds());
}

TEST(LinkatTest, EmptyPathLinksOpenFile) {
  // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; skip as non-root.
  if (geteuid() != 0) GTEST_SKIP() << "AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH";
  TempPath dir = TempPath::CreateDir();
  TempPath f = TempPath::CreateFileIn(dir.path(), "x");
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(
      linkat(fd.get(), "", AT_FDCWD, dir.Child("h").c_str(), AT_EMPTY_PATH),
      SyscallSucceeds());
  EXPECT_THAT(access(dir.Child("h").c_str(), F_OK), SyscallSucceeds());
}

TEST(LinkatTest, InvalidFlagFailsEinval) {
  TempPath dir = TempPath::CreateDir();
  TempPath f = TempPath::CreateFileIn(dir.path());
  EXPECT_THAT(
      linkat(AT_FDCWD, f.path().c_str(), AT_FDCWD, dir.Child("h").c_str(), 0x1),
      SyscallFailsWithErrno(EINVAL));
}

TEST(SymlinkTest, CreatesLinkWithTarget) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(symlink("some/target", dir.Child("l").c_str()),
              SyscallSucceeds());
  char buf[64];
  ASSERT_THAT(readlink(dir.Child("l").c_str(), buf, sizeof(buf)),
              SyscallSucceedsWithValue(11));
  EXPECT_EQ(std::string(buf, 11), "some/target");
}

TEST(SymlinkTest, ExistingFailsEexist) {
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(symlink("x", f.path().c_str()), SyscallFailsWithErrno(EEXIST));
}

TEST(SymlinkTest, EmptyTargetFailsEnoent) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(symlink("", dir.Child("l").c_str()),
              SyscallFailsWithErrno(ENOENT));
}

TEST(SymlinkTest, TargetLongerThanPathMaxFailsEnametoolong) {
  TempPath dir = TempPath::CreateDir();
  std::string target(PATH_MAX + 1, 'a');
  EXPECT_THAT(symlink(target.c_str(), dir.Child("l").c_str()),
              SyscallFailsWithErrno(ENAMETOOLONG));
}

TEST(SymlinkatTest, RelativeToDirfd) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(symlinkat("t", dfd.get(), "l"), SyscallSucceeds());
  char buf[8];
  EXPECT_THAT(readlinkat(dfd.get(), "l", buf, sizeof(buf)),
              SyscallSucceedsWithValue(1));
}

TEST(ReadlinkTest, TruncatesWithoutNul) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(symlink("abcdef", dir.Child("l").c_str()), SyscallSucceeds());
  char buf[8];
  memset(buf, 'Z', sizeof(buf));
  ASSERT_THAT(readlink(dir.Child("l").c_str(), buf, 3),
              SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 4), "abcZ");
}

TEST(ReadlinkTest, NotASymlinkFailsEinval) {
  TempPath f = TempPath::CreateFile();
  char buf[8];
  EXPECT_THAT(readlink(f.path().c_str(), buf, sizeof(buf)),
              SyscallFailsWithErrno(EINVAL));
}

TEST(ReadlinkTest, ZeroSizeFailsEinval) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(symlink("x", dir.Child("l").c_str()), SyscallSucceeds());
  char buf[1];
  EXPECT_THAT(readlink(dir.Child("l").c_str(), buf, 0),
              SyscallFailsWithErrno(EINVAL));
}

TEST(ReadlinkTest, MissingFailsEnoent) {
  TempPath dir = TempPath::CreateDir();
  char buf[8];
  EXPECT_THAT(readlink(dir.Child("l").c_str(), buf, sizeof(buf)),
              SyscallFailsWithErrno(ENOENT));
}

TEST(ReadlinkatTest, EmptyPathReadsOPathSymlinkFd) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(symlink("tgt", dir.Child("l").c_str()), SyscallSucceeds());
  FileDescriptor fd(open(dir.Child("l").c_str(), O_PATH | O_NOFOLLOW));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  char buf[8];
  ASSERT_THAT(readlinkat(fd.get(), "", buf, sizeof(buf)),
              SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "tgt");
}

TEST(UnlinkTest, RemovesNameKeepsOpenFile) {
  TempPath dir = TempPath::CreateDir();
  TempPath f = TempPath::CreateFileIn(dir.path(), "still here");
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(unlink(f.path().c_str()), SyscallSucceeds());
  EXPECT_THAT(access(f.path().c_str(), F_OK), SyscallFailsWithErrno(ENOENT));
  EXPECT_EQ(ReadAll(fd.get()), "still here");
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_nlink, 0u);
}

TEST(UnlinkTest, DirectoryFailsEisdir) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(unlink(dir.path().c_str()), SyscallFailsWithErrno(EISDIR));
}

TEST(UnlinkTest, MissingFailsEnoent) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(unlink(dir.Child("x").c_str()), SyscallFailsWithErrno(ENOENT));
}

TEST(UnlinkTest, RemovesSymlinkNotTarget) {
  TempPath dir = TempPath::CreateDir();
  TempPath f = TempPath::CreateFileIn(dir.path());
  ASSERT_THAT(symlink(f.path().c_str(), dir.Child("l").c_str()),
              SyscallSucceeds());
  ASSERT_THAT(unlink(dir.Child("l").c_str()), SyscallSucceeds());
  EXPECT_THAT(access(f.path().c_str(), F_OK), SyscallSucceeds());
}

TEST(UnlinkTest, TrailingSlashOnFileFailsEnotdir) {
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(unlink((f.path() + "/").c_str()), SyscallFailsWithErrno(ENOTDIR));
}

TEST(UnlinkatTest, RemoveDirFlagRemovesDirectory) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(mkdirat(dfd.get(), "d", 0755), SyscallSucceeds());
  ASSERT_THAT(unlinkat(dfd.get(), "d", AT_REMOVEDIR), SyscallSucceeds());
  EXPECT_THAT(access(dir.Child("d").c_str(), F_OK),
              SyscallFailsWithErrno(ENOENT));
}

TEST(UnlinkatTest, RemoveDirOnFileFailsEnotdir) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  FileDescriptor f(openat(dfd.get(), "f", O_CREAT | O_RDWR, 0644));
  EXPECT_THAT(unlinkat(dfd.get(), "f", AT_REMOVEDIR),
              SyscallFailsWithErrno(ENOTDIR));
}

TEST(UnlinkatTest, WithoutFlagOnDirFailsEisdir) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(mkdirat(dfd.get(), "d", 0755), SyscallSucceeds());
  EXPECT_THAT(unlinkat(dfd.get(), "d", 0), SyscallFailsWithErrno(EISDIR));
}

TEST(UnlinkatTest, RemoveDirNonEmptyFailsEnotempty) {
  TempPath dir = TempPath::CreateDir();
  TempPath f = TempPath::CreateFileIn(dir.path());
  EXPECT_THAT(unlinkat(AT_FDCWD, dir.path().c_str(), AT_REMOVEDIR),
              SyscallFailsWithErrno(AnyOf(ENOTEMPTY, EEXIST)));
}

TEST(UnlinkatTest, InvalidFlagFailsEinval) {
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(unlinkat(AT_FDCWD, f.path().c_str(), 0x1),
              SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace sentry::testing
