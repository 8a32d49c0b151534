// mkdir(2)/mkdirat, rmdir(2), getdents64(2), chdir/fchdir/getcwd and the
// umask(2) effect on created modes, from the man pages.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

using ::testing::AnyOf;

TEST(MkdirTest, CreatesDirectoryWithModeMinusUmask) {
  TempPath dir = TempPath::CreateDir();
  ScopedUmask mask(027);
  ASSERT_THAT(mkdir(dir.Child("d").c_str(), 0777), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(dir.Child("d").c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0750u);
}

TEST(MkdirTest, ExistingFailsEexist) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(mkdir(dir.path().c_str(), 0755), SyscallFailsWithErrno(EEXIST));
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(mkdir(f.path().c_str(), 0755), SyscallFailsWithErrno(EEXIST));
}

TEST(MkdirTest, DanglingSymlinkFailsEexist) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(symlink("target", dir.Child("l").c_str()), SyscallSucceeds());
  EXPECT_THAT(mkdir(dir.Child("l").c_str(), 0755),
              SyscallFailsWithErrno(EEXIST));
}

TEST(MkdirTest, MissingParentFailsEnoent) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(mkdir(dir.Child("a/b").c_str(), 0755),
              SyscallFailsWithErrno(ENOENT));
}

TEST(MkdirTest, ParentIsFileFailsEnotdir) {
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(mkdir((f.path() + "/d").c_str(), 0755),
              SyscallFailsWithErrno(ENOTDIR));
}

TEST(MkdirTest, TrailingSlashIsAllowed) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(mkdir((dir.Child("d") + "/").c_str(), 0755), SyscallSucceeds());
}

TEST(MkdirTest, NameTooLongFailsEnametoolong) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(mkdir(dir.Child(std::string(NAME_MAX + 1, 'x')).c_str(), 0755),
              SyscallFailsWithErrno(ENAMETOOLONG));
}

TEST(MkdiratTest, RelativeToDirfd) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(mkdirat(dfd.get(), "sub", 0700), SyscallSucceeds());
  struct stat st;
  EXPECT_THAT(stat(dir.Child("sub").c_str(), &st), SyscallSucceeds());
}

TEST(MkdiratTest, FileDirfdFailsEnotdir) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  EXPECT_THAT(mkdirat(fd.get(), "sub", 0700), SyscallFailsWithErrno(ENOTDIR));
}

TEST(RmdirTest, RemovesEmptyDirectory) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(mkdir(dir.Child("d").c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(rmdir(dir.Child("d").c_str()), SyscallSucceeds());
  EXPECT_THAT(access(dir.Child("d").c_str(), F_OK),
              SyscallFailsWithErrno(ENOENT));
}

TEST(RmdirTest, NonEmptyFailsEnotempty) {
  TempPath dir = TempPath::CreateDir();
  TempPath f = TempPath::CreateFileIn(dir.path());
  EXPECT_THAT(rmdir(dir.path().c_str()),
              SyscallFailsWithErrno(AnyOf(ENOTEMPTY, EEXIST)));
}

TEST(RmdirTest, FileFailsEnotdir) {
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(rmdir(f.path().c_str()), SyscallFailsWithErrno(ENOTDIR));
}

TEST(RmdirTest, DotFailsEinval) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(rmdir((dir.path() + "/.").c_str()),
              SyscallFailsWithErrno(EINVAL));
}

TEST(RmdirTest, DotDotFailsEnotempty) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(mkdir(dir.Child("d").c_str(), 0755), SyscallSucceeds());
  EXPECT_THAT(rmdir(dir.Child("d/..").c_str()),
              SyscallFailsWithErrno(ENOTEMPTY));
}

TEST(RmdirTest, MissingFailsEnoent) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(rmdir(dir.Child("nope").c_str()), SyscallFailsWithErrno(ENOENT));
}

TEST(RmdirTest, SymlinkToDirFailsEnotdir) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(mkdir(dir.Child("d").c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(symlink("d", dir.Child("l").c_str()), SyscallSucceeds());
  EXPECT_THAT(rmdir(dir.Child("l").c_str()), SyscallFailsWithErrno(ENOTDIR));
}

// name -> d_type of every entry getdents64 returns for `path`.
std::map<std::string, unsigned char> ListDir(const std::string& path) {
  std::map<std::string, unsigned char> out;
  FileDescriptor fd(open(path.c_str(), O_RDONLY | O_DIRECTORY));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
  alignas(8) char buf[4096];
  for (;;) {
    long n = syscall(SYS_getdents64, fd.get(), buf, sizeof(buf));
    EXPECT_THAT(n, SyscallSucceeds());
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf + off);
      out[d->d_name] = d->d_type;
      off += d->d_reclen;
    }
  }
  return out;
}

TEST(Getdents64Test, ListsDotDotDotAndEntriesWithTypes) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(mkdir(dir.Child("sub").c_str(), 0755), SyscallSucceeds());
  FileDescriptor f(open(dir.Child("file").c_str(), O_CREAT | O_RDWR, 0644));
  ASSERT_THAT(symlink("file", dir.Child("link").c_str()), SyscallSucceeds());
  auto entries = ListDir(dir.path());
  EXPECT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries["."], DT_DIR);
  EXPECT_EQ(entries[".."], DT_DIR);
  // d_type may be DT_UNKNOWN on filesystems that do not store it.
  EXPECT_THAT(entries["sub"], AnyOf(DT_DIR, DT_UNKNOWN));
  EXPECT_THAT(entries["file"], AnyOf(DT_REG, DT_UNKNOWN));
  EXPECT_THAT(entries["link"], AnyOf(DT_LNK, DT_UNKNOWN));
}

TEST(Getdents64Test, EmptyDirectoryHasOnlyDots) {
  TempPath dir = TempPath::CreateDir();
  auto entries = ListDir(dir.path());
  EXPECT_EQ(entries.size(), 2u);
  EXPECT_TRUE(entries.count(".") && entries.count(".."));
}

TEST(Getdents64Test, ManyEntriesAcrossCalls) {
  TempPath dir = TempPath::CreateDir();
  for (int i = 0; i < 300; i++) {
    FileDescriptor f(
        open(dir.Child("file_with_a_longish_name_" + std::to_string(i)).c_str(),
             O_CREAT | O_RDWR, 0644));
    ASSERT_THAT(f.get(), SyscallSucceeds());
  }
  EXPECT_EQ(ListDir(dir.path()).size(), 302u);
}

TEST(Getdents64Test, TooSmallBufferFailsEinval) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  char buf[4];
  EXPECT_THAT(syscall(SYS_getdents64, fd.get(), buf, sizeof(buf)),
              SyscallFailsWithErrno(EINVAL));
}

TEST(Getdents64Test, FileFailsEnotdir) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  char buf[256];
  EXPECT_THAT(syscall(SYS_getdents64, fd.get(), buf, sizeof(buf)),
              SyscallFailsWithErrno(ENOTDIR));
}

TEST(Getdents64Test, BadFdFailsEbadf) {
  char buf[256];
  EXPECT_THAT(syscall(SYS_getdents64, -1, buf, sizeof(buf)),
              SyscallFailsWithErrno(EBADF));
}

TEST(Getdents64Test, RewindWithLseekListsAgain) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  alignas(8) char buf[4096];
  long first = syscall(SYS_getdents64, fd.get(), buf, sizeof(buf));
  ASSERT_THAT(first, SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_getdents64, fd.get(), buf, sizeof(buf)),
              SyscallSucceedsWithValue(0));
  ASSERT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_getdents64, fd.get(), buf, sizeof(buf)),
              SyscallSucceedsWithValue(first));
}

// Saves and restores the working directory around a test.
class CwdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_.reset(open(".", O_RDONLY | O_DIRECTORY));
    ASSERT_THAT(saved_.get(), SyscallSucceeds());
  }
  void TearDown() override {
    EXPECT_THAT(fchdir(saved_.get()), SyscallSucceeds());
  }
  FileDescriptor saved_;
};

std::string RealPath(const std::string& p) {
  char buf[PATH_MAX];
  return realpath(p.c_str(), buf) ? buf : "";
}

TEST_F(CwdTest, ChdirThenGetcwd) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(chdir(dir.path().c_str()), SyscallSucceeds());
  char buf[PATH_MAX];
  ASSERT_NE(getcwd(buf, sizeof(buf)), nullptr);
  EXPECT_EQ(std::string(buf), RealPath(dir.path()));
}

TEST_F(CwdTest, FchdirThenRelativeOpen) {
  TempPath dir = TempPath::CreateDir();
  TempPath f = TempPath::CreateFileIn(dir.path(), "rel");
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(fchdir(dfd.get()), SyscallSucceeds());
  std::string base = f.path().substr(dir.path().size() + 1);
  FileDescriptor fd(open(base.c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(ReadAll(fd.get()), "rel");
}

TEST_F(CwdTest, ChdirToFileFailsEnotdir) {
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(chdir(f.path().c_str()), SyscallFailsWithErrno(ENOTDIR));
}

TEST_F(CwdTest, ChdirToMissingFailsEnoent) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(chdir(dir.Child("x").c_str()), SyscallFailsWithErrno(ENOENT));
}

TEST_F(CwdTest, FchdirOnFileFailsEnotdir) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  EXPECT_THAT(fchdir(fd.get()), SyscallFailsWithErrno(ENOTDIR));
}

TEST_F(CwdTest, FchdirBadFdFailsEbadf) {
  EXPECT_THAT(fchdir(-1), SyscallFailsWithErrno(EBADF));
}

TEST_F(CwdTest, GetcwdSmallBufferFailsErange) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(chdir(dir.path().c_str()), SyscallSucceeds());
  char buf[4];
  // The raw syscall, so glibc cannot allocate or retry on our behalf.
  EXPECT_THAT(syscall(SYS_getcwd, buf, sizeof(buf)),
              SyscallFailsWithErrno(ERANGE));
}

TEST_F(CwdTest, GetcwdReturnsLengthWithNul) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(chdir(dir.path().c_str()), SyscallSucceeds());
  char buf[PATH_MAX];
  std::string real = RealPath(dir.path());
  EXPECT_THAT(syscall(SYS_getcwd, buf, sizeof(buf)),
              SyscallSucceedsWithValue(static_cast<long>(real.size() + 1)));
}

TEST_F(CwdTest, GetcwdOfRemovedDirectoryFailsEnoent) {
  // getcwd(3) ERRORS: ENOENT, the current working directory was unlinked.
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(mkdir(dir.Child("gone").c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(chdir(dir.Child("gone").c_str()), SyscallSucceeds());
  ASSERT_THAT(rmdir(dir.Child("gone").c_str()), SyscallSucceeds());
  char buf[PATH_MAX];
  EXPECT_THAT(syscall(SYS_getcwd, buf, sizeof(buf)),
              SyscallFailsWithErrno(ENOENT));
}

TEST(UmaskTest, ReturnsPreviousMask) {
  mode_t old = umask(0123);
  EXPECT_EQ(umask(old), 0123u);
}

TEST(UmaskTest, OnlyPermissionBitsAreKept) {
  mode_t old = umask(07777);
  EXPECT_EQ(umask(old), 0777u);
}

TEST(UmaskTest, AppliesToMkdirOpenAndMknod) {
  TempPath dir = TempPath::CreateDir();
  ScopedUmask mask(077);
  ASSERT_THAT(mkdir(dir.Child("d").c_str(), 0777), SyscallSucceeds());
  FileDescriptor fd(open(dir.Child("f").c_str(), O_CREAT | O_RDWR, 0666));
  ASSERT_THAT(mknod(dir.Child("p").c_str(), S_IFIFO | 0666, 0),
              SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(dir.Child("d").c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_THAT(stat(dir.Child("f").c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_THAT(stat(dir.Child("p").c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace sentry::testing
