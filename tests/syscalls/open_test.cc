// open(2), openat(2), creat(2) and openat2(2), from the man pages.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

using ::testing::AnyOf;

long Openat2(int dirfd, const char* path, uint64_t flags, uint64_t resolve,
             uint64_t mode = 0) {
  struct open_how how = {};
  how.flags = flags;
  how.mode = mode;
  how.resolve = resolve;
  return syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

TEST(OpenTest, OpenExistingFileReadOnly) {
  TempPath f = TempPath::CreateFile("hello");
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  char buf[8];
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(5));
}

TEST(OpenTest, MissingFileWithoutCreatFailsEnoent) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(open(dir.Child("nope").c_str(), O_RDONLY),
              SyscallFailsWithErrno(ENOENT));
}

TEST(OpenTest, MissingIntermediateDirectoryFailsEnoent) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(open(dir.Child("no/file").c_str(), O_CREAT | O_RDWR, 0644),
              SyscallFailsWithErrno(ENOENT));
}

TEST(OpenTest, OpenCreatesFileWithModeMinusUmask) {
  TempPath dir = TempPath::CreateDir();
  ScopedUmask mask(022);
  std::string path = dir.Child("new");
  FileDescriptor fd(open(path.c_str(), O_CREAT | O_WRONLY, 0666));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(path.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(st.st_size, 0);
}

TEST(OpenTest, CreatExclFailsOnExistingFile) {
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(open(f.path().c_str(), O_CREAT | O_EXCL | O_RDWR, 0644),
              SyscallFailsWithErrno(EEXIST));
}

TEST(OpenTest, CreatExclFailsOnDanglingSymlink) {
  // "If pathname is a symbolic link, then open() fails regardless of where
  // the symbolic link points."
  TempPath dir = TempPath::CreateDir();
  std::string link = dir.Child("link");
  ASSERT_THAT(symlink(dir.Child("target").c_str(), link.c_str()),
              SyscallSucceeds());
  EXPECT_THAT(open(link.c_str(), O_CREAT | O_EXCL | O_RDWR, 0644),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(access(dir.Child("target").c_str(), F_OK),
              SyscallFailsWithErrno(ENOENT));
}

TEST(OpenTest, CreatWithoutExclOpensExisting) {
  TempPath f = TempPath::CreateFile("keep");
  FileDescriptor fd(open(f.path().c_str(), O_CREAT | O_RDWR, 0600));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(ReadAll(fd.get()), "keep");
}

TEST(OpenTest, CreatThroughDanglingSymlinkCreatesTarget) {
  TempPath dir = TempPath::CreateDir();
  std::string link = dir.Child("link");
  ASSERT_THAT(symlink("target", link.c_str()), SyscallSucceeds());
  FileDescriptor fd(open(link.c_str(), O_CREAT | O_WRONLY, 0644));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(access(dir.Child("target").c_str(), F_OK), SyscallSucceeds());
}

TEST(OpenTest, TruncEmptiesExistingFile) {
  TempPath f = TempPath::CreateFile("some data");
  FileDescriptor fd(open(f.path().c_str(), O_WRONLY | O_TRUNC));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 0);
}

TEST(OpenTest, AppendWritesAtEndEvenAfterSeek) {
  TempPath f = TempPath::CreateFile("abc");
  FileDescriptor fd(open(f.path().c_str(), O_RDWR | O_APPEND));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ASSERT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceedsWithValue(0));
  ASSERT_THAT(write(fd.get(), "de", 2), SyscallSucceedsWithValue(2));
  // The offset is left at the new end of file.
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(5));
  ASSERT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceeds());
  EXPECT_EQ(ReadAll(fd.get()), "abcde");
}

TEST(OpenTest, DirectoryFlagOnFileFailsEnotdir) {
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(open(f.path().c_str(), O_RDONLY | O_DIRECTORY),
              SyscallFailsWithErrno(ENOTDIR));
}

TEST(OpenTest, DirectoryFlagOnDirectorySucceeds) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
}

TEST(OpenTest, DirectoryForWritingFailsEisdir) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(open(dir.path().c_str(), O_WRONLY),
              SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(open(dir.path().c_str(), O_RDWR), SyscallFailsWithErrno(EISDIR));
}

TEST(OpenTest, NofollowOnSymlinkFailsEloop) {
  TempPath f = TempPath::CreateFile();
  TempPath dir = TempPath::CreateDir();
  std::string link = dir.Child("link");
  ASSERT_THAT(symlink(f.path().c_str(), link.c_str()), SyscallSucceeds());
  EXPECT_THAT(open(link.c_str(), O_RDONLY | O_NOFOLLOW),
              SyscallFailsWithErrno(ELOOP));
}

TEST(OpenTest, NofollowOnlyAppliesToLastComponent) {
  TempPath dir = TempPath::CreateDir();
  TempPath sub = TempPath::CreateDirIn(dir.path());
  ASSERT_THAT(symlink(sub.path().c_str(), dir.Child("l").c_str()),
              SyscallSucceeds());
  TempPath f = TempPath::CreateFileIn(sub.path());
  std::string base = f.path().substr(f.path().rfind('/') + 1);
  FileDescriptor fd(
      open(dir.Child("l/" + base).c_str(), O_RDONLY | O_NOFOLLOW));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
}

TEST(OpenTest, PathFlagWithNofollowOpensSymlinkItself) {
  TempPath dir = TempPath::CreateDir();
  std::string link = dir.Child("link");
  ASSERT_THAT(symlink("nowhere", link.c_str()), SyscallSucceeds());
  FileDescriptor fd(open(link.c_str(), O_PATH | O_NOFOLLOW));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST(OpenTest, PathFdCannotBeRead) {
  TempPath f = TempPath::CreateFile("x");
  FileDescriptor fd(open(f.path().c_str(), O_PATH));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  char c;
  EXPECT_THAT(read(fd.get(), &c, 1), SyscallFailsWithErrno(EBADF));
}

TEST(OpenTest, TrailingSlashOnFileFailsEnotdir) {
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(open((f.path() + "/").c_str(), O_RDONLY),
              SyscallFailsWithErrno(ENOTDIR));
}

TEST(OpenTest, TrailingSlashCreateFailsEisdir) {
  // open(2): "EISDIR pathname refers to an existing directory, or O_CREAT
  // was given and the name ends in a slash" (the file would not be a dir).
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(open((dir.Child("new") + "/").c_str(), O_CREAT | O_RDWR, 0644),
              SyscallFailsWithErrno(EISDIR));
}

TEST(OpenTest, TrailingSlashOnDirectoryIsFine) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd(open((dir.path() + "/").c_str(), O_RDONLY));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
}

TEST(OpenTest, ComponentLongerThanNameMaxFailsEnametoolong) {
  TempPath dir = TempPath::CreateDir();
  std::string name(NAME_MAX + 1, 'a');
  EXPECT_THAT(open(dir.Child(name).c_str(), O_CREAT | O_RDWR, 0644),
              SyscallFailsWithErrno(ENAMETOOLONG));
}

TEST(OpenTest, ComponentOfNameMaxIsAllowed) {
  TempPath dir = TempPath::CreateDir();
  std::string name(NAME_MAX, 'b');
  FileDescriptor fd(open(dir.Child(name).c_str(), O_CREAT | O_RDWR, 0644));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
}

TEST(OpenTest, PathLongerThanPathMaxFailsEnametoolong) {
  std::string path;
  while (path.size() <= PATH_MAX) path += "/a";
  EXPECT_THAT(open(path.c_str(), O_RDONLY),
              SyscallFailsWithErrno(ENAMETOOLONG));
}

TEST(OpenTest, BadPathPointerFailsEfault) {
  EXPECT_THAT(open(reinterpret_cast<const char*>(1), O_RDONLY),
              SyscallFailsWithErrno(EFAULT));
}

TEST(OpenTest, EmptyPathFailsEnoent) {
  EXPECT_THAT(open("", O_RDONLY), SyscallFailsWithErrno(ENOENT));
}

TEST(OpenTest, SymlinkLoopFailsEloop) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(symlink("b", dir.Child("a").c_str()), SyscallSucceeds());
  ASSERT_THAT(symlink("a", dir.Child("b").c_str()), SyscallSucceeds());
  EXPECT_THAT(open(dir.Child("a").c_str(), O_RDONLY),
              SyscallFailsWithErrno(ELOOP));
}

TEST(OpenTest, SelfSymlinkFailsEloop) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(symlink("self", dir.Child("self").c_str()), SyscallSucceeds());
  EXPECT_THAT(open(dir.Child("self").c_str(), O_RDONLY),
              SyscallFailsWithErrno(ELOOP));
}

// Makes a chain l0 -> l1 -> ... -> l<n-1> -> file in `dir`, so opening l0
// follows n symlinks.
void MakeChain(const TempPath& dir, int n) {
  TempPath f = TempPath::CreateFileIn(dir.path());
  std::string target = f.release();
  for (int i = n - 1; i >= 0; i--) {
    std::string link = dir.Child("l" + std::to_string(i));
    ASSERT_THAT(symlink(target.c_str(), link.c_str()), SyscallSucceeds());
    target = link;
  }
}

TEST(OpenTest, FortySymlinksInAChainAreFollowed) {
  // path_resolution(7): at most 40 symbolic links per resolution.
  TempPath dir = TempPath::CreateDir();
  ASSERT_NO_FATAL_FAILURE(MakeChain(dir, 40));
  FileDescriptor fd(open(dir.Child("l0").c_str(), O_RDONLY));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
}

TEST(OpenTest, FortyOneSymlinksInAChainFailEloop) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_NO_FATAL_FAILURE(MakeChain(dir, 41));
  EXPECT_THAT(open(dir.Child("l0").c_str(), O_RDONLY),
              SyscallFailsWithErrno(ELOOP));
}

TEST(OpenTest, CloexecSetsFdFlag) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  FileDescriptor fd2(open(f.path().c_str(), O_RDONLY));
  EXPECT_THAT(fcntl(fd2.get(), F_GETFD), SyscallSucceedsWithValue(0));
}

TEST(OpenTest, ReadOnlyFdCannotBeWritten) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(write(fd.get(), "x", 1), SyscallFailsWithErrno(EBADF));
}

TEST(OpenTest, WriteOnlyFdCannotBeRead) {
  TempPath f = TempPath::CreateFile("x");
  FileDescriptor fd(open(f.path().c_str(), O_WRONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  char c;
  EXPECT_THAT(read(fd.get(), &c, 1), SyscallFailsWithErrno(EBADF));
}

TEST(OpenTest, ReturnsLowestFreeDescriptor) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor a(open(f.path().c_str(), O_RDONLY));
  FileDescriptor b(open(f.path().c_str(), O_RDONLY));
  ASSERT_TRUE(a.valid() && b.valid());
  int freed = a.get();
  a.reset();
  FileDescriptor c(open(f.path().c_str(), O_RDONLY));
  EXPECT_EQ(c.get(), freed);
}

TEST(OpenTest, TmpfileCreatesUnnamedFile) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd(open(dir.path().c_str(), O_TMPFILE | O_RDWR, 0600));
  if (!fd.valid() && errno == EOPNOTSUPP) {
    GTEST_SKIP() << "the filesystem of " << dir.path() << " lacks O_TMPFILE";
  }
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(write(fd.get(), "x", 1), SyscallSucceedsWithValue(1));
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_nlink, 0u);
}

TEST(OpenatTest, RelativeToDirfd) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(dfd.get(), SyscallSucceeds());
  FileDescriptor fd(openat(dfd.get(), "f", O_CREAT | O_RDWR, 0644));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(access(dir.Child("f").c_str(), F_OK), SyscallSucceeds());
}

TEST(OpenatTest, AtFdcwdUsesWorkingDirectory) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor old_cwd(open(".", O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(chdir(dir.path().c_str()), SyscallSucceeds());
  FileDescriptor fd(openat(AT_FDCWD, "g", O_CREAT | O_RDWR, 0644));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
  ASSERT_THAT(fchdir(old_cwd.get()), SyscallSucceeds());
  EXPECT_THAT(access(dir.Child("g").c_str(), F_OK), SyscallSucceeds());
}

TEST(OpenatTest, AbsolutePathIgnoresDirfd) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(openat(-1, f.path().c_str(), O_RDONLY));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
}

TEST(OpenatTest, BadDirfdFailsEbadf) {
  EXPECT_THAT(openat(-1, "relative", O_RDONLY), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(openat(9999, "relative", O_RDONLY), SyscallFailsWithErrno(EBADF));
}

TEST(OpenatTest, FileDirfdFailsEnotdir) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(openat(fd.get(), "x", O_RDONLY), SyscallFailsWithErrno(ENOTDIR));
}

TEST(CreatTest, IsCreatWriteOnlyTrunc) {
  TempPath f = TempPath::CreateFile("old contents");
  FileDescriptor fd(creat(f.path().c_str(), 0644));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_GETFL) & O_ACCMODE,
              SyscallSucceedsWithValue(O_WRONLY));
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 0);
}

class Openat2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    // Probe: openat2 appeared in Linux 5.6.
    if (Openat2(AT_FDCWD, "/", O_RDONLY, 0) < 0 && errno == ENOSYS) {
      GTEST_SKIP() << "openat2 is not available";
    }
    dir_ = TempPath::CreateDir();
    dfd_.reset(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY));
    ASSERT_THAT(dfd_.get(), SyscallSucceeds());
    ASSERT_THAT(mkdir(dir_.Child("sub").c_str(), 0755), SyscallSucceeds());
    FileDescriptor f(
        open(dir_.Child("sub/file").c_str(), O_CREAT | O_RDWR, 0644));
    ASSERT_THAT(f.get(), SyscallSucceeds());
  }
  TempPath dir_;
  FileDescriptor dfd_;
};

TEST_F(Openat2Test, PlainOpenWorks) {
  FileDescriptor fd(Openat2(dfd_.get(), "sub/file", O_RDONLY, 0));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
}

TEST_F(Openat2Test, CreatesWithMode) {
  FileDescriptor fd(Openat2(dfd_.get(), "created", O_CREAT | O_RDWR, 0, 0600));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode & 0077, 0u);
}

TEST_F(Openat2Test, ModeWithoutCreatFailsEinval) {
  EXPECT_THAT(Openat2(dfd_.get(), "sub/file", O_RDONLY, 0, 0644),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(Openat2Test, UnknownResolveFlagFailsEinval) {
  EXPECT_THAT(Openat2(dfd_.get(), "sub/file", O_RDONLY, 1ULL << 40),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(Openat2Test, TooSmallHowFailsEinval) {
  struct open_how how = {};
  EXPECT_THAT(syscall(SYS_openat2, dfd_.get(), "sub/file", &how, 8),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(Openat2Test, LargerHowWithNonzeroTailFailsE2big) {
  char buf[sizeof(open_how) + 8] = {};
  buf[sizeof(open_how)] = 1;
  EXPECT_THAT(syscall(SYS_openat2, dfd_.get(), "sub/file", buf, sizeof(buf)),
              SyscallFailsWithErrno(E2BIG));
}

TEST_F(Openat2Test, BeneathAllowsPathsInside) {
  FileDescriptor fd(
      Openat2(dfd_.get(), "sub/../sub/file", O_RDONLY, RESOLVE_BENEATH));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
}

TEST_F(Openat2Test, BeneathRejectsDotDotEscape) {
  EXPECT_THAT(Openat2(dfd_.get(), "../x", O_RDONLY, RESOLVE_BENEATH),
              SyscallFailsWithErrno(EXDEV));
}

TEST_F(Openat2Test, BeneathRejectsAbsolutePath) {
  EXPECT_THAT(Openat2(dfd_.get(), "/", O_RDONLY, RESOLVE_BENEATH),
              SyscallFailsWithErrno(EXDEV));
}

TEST_F(Openat2Test, BeneathRejectsAbsoluteSymlink) {
  ASSERT_THAT(symlink("/", dir_.Child("abs").c_str()), SyscallSucceeds());
  EXPECT_THAT(Openat2(dfd_.get(), "abs", O_RDONLY, RESOLVE_BENEATH),
              SyscallFailsWithErrno(EXDEV));
}

TEST_F(Openat2Test, NoSymlinksRejectsAnySymlink) {
  ASSERT_THAT(symlink("sub", dir_.Child("link").c_str()), SyscallSucceeds());
  EXPECT_THAT(Openat2(dfd_.get(), "link/file", O_RDONLY, RESOLVE_NO_SYMLINKS),
              SyscallFailsWithErrno(ELOOP));
  FileDescriptor fd(
      Openat2(dfd_.get(), "sub/file", O_RDONLY, RESOLVE_NO_SYMLINKS));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
}

TEST_F(Openat2Test, InRootResolvesAbsoluteSymlinkInsideRoot) {
  // With RESOLVE_IN_ROOT, "/" means dirfd: /sub/file is dir/sub/file.
  ASSERT_THAT(symlink("/sub/file", dir_.Child("abs").c_str()),
              SyscallSucceeds());
  FileDescriptor fd(Openat2(dfd_.get(), "abs", O_RDONLY, RESOLVE_IN_ROOT));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct stat a, b;
  ASSERT_THAT(fstat(fd.get(), &a), SyscallSucceeds());
  ASSERT_THAT(stat(dir_.Child("sub/file").c_str(), &b), SyscallSucceeds());
  EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST_F(Openat2Test, InRootClampsDotDotAtRoot) {
  FileDescriptor fd(
      Openat2(dfd_.get(), "../../../sub/file", O_RDONLY, RESOLVE_IN_ROOT));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
}

TEST_F(Openat2Test, NoXdevRejectsMountCrossing) {
  struct stat root, proc;
  ASSERT_THAT(stat("/", &root), SyscallSucceeds());
  if (stat("/proc", &proc) != 0 || proc.st_dev == root.st_dev) {
    GTEST_SKIP() << "/proc is not a separate mount here";
  }
  FileDescriptor rfd(open("/", O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(rfd.get(), SyscallSucceeds());
  EXPECT_THAT(Openat2(rfd.get(), "proc/self", O_RDONLY, RESOLVE_NO_XDEV),
              SyscallFailsWithErrno(EXDEV));
  // Within one mount it is fine.
  FileDescriptor fd(Openat2(dfd_.get(), "sub/file", O_RDONLY, RESOLVE_NO_XDEV));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
}

TEST_F(Openat2Test, NoMagiclinksRejectsProcFdLinks) {
  FileDescriptor f(open(dir_.Child("sub/file").c_str(), O_RDONLY));
  ASSERT_THAT(f.get(), SyscallSucceeds());
  std::string magic = "/proc/self/fd/" + std::to_string(f.get());
  EXPECT_THAT(Openat2(AT_FDCWD, magic.c_str(), O_RDONLY, RESOLVE_NO_MAGICLINKS),
              SyscallFailsWithErrno(AnyOf(ELOOP, EXDEV)));
}

}  // namespace
}  // namespace sentry::testing
