// chmod(2) family, chown(2) family and access(2)/faccessat/faccessat2,
// from the man pages. Permission checks that root bypasses run in a forked
// child that dropped to uid/gid 65534 (ForkAsNobodyAndWait).
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_THAT(lstat(path.c_str(), &st), SyscallSucceeds());
  return st.st_mode & 07777;
}

// Cases that chown to or drop privileges to uid 65534 need root with that
// id mapped (not so in Bazel's linux-sandbox: BUILD tags this test
// no-sandbox).
#define SKIP_UNLESS_ROOT()                          \
  do {                                              \
    std::string why_not = WhyNobodyIsUnavailable(); \
    if (!why_not.empty()) GTEST_SKIP() << why_not;  \
  } while (0)

TEST(ChmodTest, SetsPermissionBits) {
  TempPath f = TempPath::CreateFile();
  ASSERT_THAT(chmod(f.path().c_str(), 0751), SyscallSucceeds());
  EXPECT_EQ(ModeOf(f.path()), 0751u);
}

TEST(ChmodTest, SetsSpecialBits) {
  TempPath f = TempPath::CreateFile();
  ASSERT_THAT(chmod(f.path().c_str(), 04755), SyscallSucceeds());
  EXPECT_EQ(ModeOf(f.path()), 04755u);
}

TEST(ChmodTest, MissingFailsEnoent) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(chmod(dir.Child("x").c_str(), 0644),
              SyscallFailsWithErrno(ENOENT));
}

TEST(ChmodTest, FollowsSymlink) {
  TempPath f = TempPath::CreateFile("", 0600);
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(symlink(f.path().c_str(), dir.Child("l").c_str()),
              SyscallSucceeds());
  ASSERT_THAT(chmod(dir.Child("l").c_str(), 0640), SyscallSucceeds());
  EXPECT_EQ(ModeOf(f.path()), 0640u);
}

TEST(FchmodTest, SetsModeThroughFd) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fchmod(fd.get(), 0604), SyscallSucceeds());
  EXPECT_EQ(ModeOf(f.path()), 0604u);
}

TEST(FchmodTest, BadFdFailsEbadf) {
  EXPECT_THAT(fchmod(-1, 0644), SyscallFailsWithErrno(EBADF));
}

TEST(FchmodTest, OPathFdFailsEbadf) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_PATH));
  EXPECT_THAT(fchmod(fd.get(), 0644), SyscallFailsWithErrno(EBADF));
}

TEST(FchmodatTest, RelativeToDirfd) {
  TempPath dir = TempPath::CreateDir();
  TempPath f = TempPath::CreateFileIn(dir.path());
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  std::string base = f.path().substr(dir.path().size() + 1);
  ASSERT_THAT(fchmodat(dfd.get(), base.c_str(), 0700, 0), SyscallSucceeds());
  EXPECT_EQ(ModeOf(f.path()), 0700u);
}

TEST(FchmodatTest, SymlinkNofollowIsNotSupported) {
  // fchmodat(2): AT_SYMLINK_NOFOLLOW on a symlink → EOPNOTSUPP (Linux has
  // no symlink modes). The raw syscall has no flags argument at all; this
  // is glibc's emulation, which the Sentry sees as other syscalls.
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(symlink("x", dir.Child("l").c_str()), SyscallSucceeds());
  EXPECT_THAT(
      fchmodat(AT_FDCWD, dir.Child("l").c_str(), 0644, AT_SYMLINK_NOFOLLOW),
      SyscallFailsWithErrno(EOPNOTSUPP));
}

TEST(ChownTest, RootCanGiveFileAway) {
  SKIP_UNLESS_ROOT();
  TempPath f = TempPath::CreateFile();
  ASSERT_THAT(chown(f.path().c_str(), kNobodyUid, kNobodyGid),
              SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(f.path().c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_uid, kNobodyUid);
  EXPECT_EQ(st.st_gid, kNobodyGid);
}

TEST(ChownTest, MinusOneLeavesIdUnchanged) {
  SKIP_UNLESS_ROOT();
  TempPath f = TempPath::CreateFile();
  ASSERT_THAT(chown(f.path().c_str(), kNobodyUid, -1), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(f.path().c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_uid, kNobodyUid);
  EXPECT_EQ(st.st_gid, getegid());
}

TEST(ChownTest, ClearsSetuidOnNonRootOwnerChange) {
  SKIP_UNLESS_ROOT();
  TempPath f = TempPath::CreateFile("", 04755);
  ASSERT_THAT(chown(f.path().c_str(), kNobodyUid, kNobodyGid),
              SyscallSucceeds());
  // chown(2): the set-user-ID bit is cleared when an executable's owner
  // changes (also for root, on Linux).
  EXPECT_EQ(ModeOf(f.path()) & S_ISUID, 0u);
}

TEST(FchownTest, ThroughFd) {
  SKIP_UNLESS_ROOT();
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fchown(fd.get(), kNobodyUid, kNobodyGid), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_uid, kNobodyUid);
}

TEST(LchownTest, ChangesSymlinkNotTarget) {
  SKIP_UNLESS_ROOT();
  TempPath f = TempPath::CreateFile();
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(symlink(f.path().c_str(), dir.Child("l").c_str()),
              SyscallSucceeds());
  ASSERT_THAT(lchown(dir.Child("l").c_str(), kNobodyUid, kNobodyGid),
              SyscallSucceeds());
  struct stat lst, st;
  ASSERT_THAT(lstat(dir.Child("l").c_str(), &lst), SyscallSucceeds());
  ASSERT_THAT(stat(f.path().c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(lst.st_uid, kNobodyUid);
  EXPECT_EQ(st.st_uid, geteuid());
}

// The forked nobody child works through descriptors the parent opened: the
// test's temp directory sits under paths (e.g. /root/.cache) that nobody
// cannot search, and a path lookup would fail there for the wrong reason.

// The last component of a TempPath inside `dir`.
std::string Base(const TempPath& p) {
  return p.path().substr(p.path().rfind('/') + 1);
}

TEST(ChownTest, NonOwnerFailsEpermFork) {
  SKIP_UNLESS_ROOT();
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(ForkAsNobodyAndWait([&]() -> int {
                CHILD_EXPECT(fchown(fd.get(), kNobodyUid, -1) == -1);
                CHILD_EXPECT(errno == EPERM);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(ChmodTest, NonOwnerFailsEpermFork) {
  SKIP_UNLESS_ROOT();
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(ForkAsNobodyAndWait([&]() -> int {
                CHILD_EXPECT(fchmod(fd.get(), 0777) == -1);
                CHILD_EXPECT(errno == EPERM);
                return 0;
              }),
              ExitedWithCode(0));
  EXPECT_EQ(ModeOf(f.path()), 0644u);
}

TEST(AccessTest, ExistenceCheck) {
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(access(f.path().c_str(), F_OK), SyscallSucceeds());
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(access(dir.Child("x").c_str(), F_OK),
              SyscallFailsWithErrno(ENOENT));
}

TEST(AccessTest, InvalidModeFailsEinval) {
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(access(f.path().c_str(), 0100), SyscallFailsWithErrno(EINVAL));
}

TEST(AccessTest, RootExecNeedsSomeExecuteBit) {
  // access(2): for root, X_OK succeeds only if some execute bit is set.
  SKIP_UNLESS_ROOT();
  TempPath f = TempPath::CreateFile("", 0644);
  EXPECT_THAT(access(f.path().c_str(), X_OK), SyscallFailsWithErrno(EACCES));
  ASSERT_THAT(chmod(f.path().c_str(), 0744), SyscallSucceeds());
  EXPECT_THAT(access(f.path().c_str(), X_OK), SyscallSucceeds());
}

TEST(AccessTest, RootReadsAndWritesMode000) {
  SKIP_UNLESS_ROOT();
  TempPath f = TempPath::CreateFile("", 0);
  EXPECT_THAT(access(f.path().c_str(), R_OK | W_OK), SyscallSucceeds());
}

TEST(AccessTest, NonRootModeBitsApplyFork) {
  SKIP_UNLESS_ROOT();
  TempPath dir = TempPath::CreateDir(0755);
  TempPath f = TempPath::CreateFileIn(dir.path(), "", 0604);
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  std::string name = Base(f);
  EXPECT_THAT(ForkAsNobodyAndWait([&]() -> int {
                // "other" bits apply: read yes, write and execute no.
                int d = dfd.get();
                CHILD_EXPECT(faccessat(d, name.c_str(), R_OK, 0) == 0);
                CHILD_EXPECT(faccessat(d, name.c_str(), W_OK, 0) == -1 &&
                             errno == EACCES);
                CHILD_EXPECT(faccessat(d, name.c_str(), X_OK, 0) == -1 &&
                             errno == EACCES);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(AccessTest, OpenWithoutPermissionFailsEaccesFork) {
  SKIP_UNLESS_ROOT();
  TempPath dir = TempPath::CreateDir(0755);
  TempPath f = TempPath::CreateFileIn(dir.path(), "secret", 0600);
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  std::string name = Base(f);
  EXPECT_THAT(ForkAsNobodyAndWait([&]() -> int {
                CHILD_EXPECT(openat(dfd.get(), name.c_str(), O_RDONLY) == -1);
                CHILD_EXPECT(errno == EACCES);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(AccessTest, SearchPermissionOnDirectoryFork) {
  SKIP_UNLESS_ROOT();
  TempPath dir = TempPath::CreateDir(0700);
  TempPath f = TempPath::CreateFileIn(dir.path(), "", 0644);
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  std::string name = Base(f);
  EXPECT_THAT(ForkAsNobodyAndWait([&]() -> int {
                CHILD_EXPECT(faccessat(dfd.get(), name.c_str(), F_OK, 0) == -1);
                CHILD_EXPECT(errno == EACCES);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(AccessTest, CreateInUnwritableDirectoryFailsEaccesFork) {
  SKIP_UNLESS_ROOT();
  TempPath dir = TempPath::CreateDir(0755);
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  EXPECT_THAT(
      ForkAsNobodyAndWait([&]() -> int {
        CHILD_EXPECT(openat(dfd.get(), "new", O_CREAT | O_RDWR, 0644) == -1);
        CHILD_EXPECT(errno == EACCES);
        CHILD_EXPECT(mkdirat(dfd.get(), "new", 0755) == -1 && errno == EACCES);
        return 0;
      }),
      ExitedWithCode(0));
}

TEST(FaccessatTest, RelativeToDirfd) {
  TempPath dir = TempPath::CreateDir();
  TempPath f = TempPath::CreateFileIn(dir.path());
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  std::string base = f.path().substr(dir.path().size() + 1);
  EXPECT_THAT(faccessat(dfd.get(), base.c_str(), R_OK, 0), SyscallSucceeds());
}

TEST(FaccessatTest, Faccessat2InvalidFlagFailsEinval) {
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(syscall(SYS_faccessat2, AT_FDCWD, f.path().c_str(), R_OK, 0x1),
              SyscallFailsWithErrno(EINVAL));
}

TEST(FaccessatTest, Faccessat2SymlinkNofollowChecksLink) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(symlink("missing", dir.Child("l").c_str()), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_faccessat2, AT_FDCWD, dir.Child("l").c_str(), F_OK,
                      AT_SYMLINK_NOFOLLOW),
              SyscallSucceeds());
  EXPECT_THAT(
      syscall(SYS_faccessat2, AT_FDCWD, dir.Child("l").c_str(), F_OK, 0),
      SyscallFailsWithErrno(ENOENT));
}

TEST(FaccessatTest, Faccessat2EmptyPath) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  EXPECT_THAT(syscall(SYS_faccessat2, fd.get(), "", R_OK, AT_EMPTY_PATH),
              SyscallSucceeds());
}

TEST(FaccessatTest, EaccessUsesEffectiveIdsFork) {
  // Real uid 0, effective uid nobody: faccessat2 checks the real ids, so it
  // passes; with AT_EACCESS it checks the effective ids, so it fails.
  SKIP_UNLESS_ROOT();
  TempPath dir = TempPath::CreateDir(0755);
  TempPath f = TempPath::CreateFileIn(dir.path(), "", 0600);
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  std::string name = Base(f);
  EXPECT_THAT(ForkAndWait([&]() -> int {
                CHILD_EXPECT(setresuid(0, kNobodyUid, 0) == 0);
                CHILD_EXPECT(syscall(SYS_faccessat2, dfd.get(), name.c_str(),
                                     R_OK, 0) == 0);
                CHILD_EXPECT(syscall(SYS_faccessat2, dfd.get(), name.c_str(),
                                     R_OK, AT_EACCESS) == -1);
                CHILD_EXPECT(errno == EACCES);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(StickyTest, OthersCannotDeleteInStickyDirFork) {
  // inode(7): in a sticky directory only the file's owner, the directory's
  // owner or a privileged process may unlink or rename a file.
  SKIP_UNLESS_ROOT();
  TempPath dir = TempPath::CreateDir(01777);
  TempPath f = TempPath::CreateFileIn(dir.path(), "", 0666);
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  std::string name = Base(f);
  EXPECT_THAT(
      ForkAsNobodyAndWait([&]() -> int {
        int d = dfd.get();
        CHILD_EXPECT(unlinkat(d, name.c_str(), 0) == -1 && errno == EPERM);
        CHILD_EXPECT(renameat(d, name.c_str(), d, "renamed") == -1 &&
                     errno == EPERM);
        // Writing the world-writable file itself is still allowed.
        int fd = openat(d, name.c_str(), O_WRONLY);
        CHILD_EXPECT(fd >= 0);
        close(fd);
        return 0;
      }),
      ExitedWithCode(0));
  EXPECT_THAT(access(f.path().c_str(), F_OK), SyscallSucceeds());
}

TEST(StickyTest, OwnerCanDeleteOwnFileInStickyDirFork) {
  SKIP_UNLESS_ROOT();
  TempPath dir = TempPath::CreateDir(01777);
  FileDescriptor dfd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  EXPECT_THAT(ForkAsNobodyAndWait([&]() -> int {
                int fd = openat(dfd.get(), "mine", O_CREAT | O_RDWR, 0644);
                CHILD_EXPECT(fd >= 0);
                close(fd);
                CHILD_EXPECT(unlinkat(dfd.get(), "mine", 0) == 0);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(StickyTest, StickyBitIsKeptOnDirectory) {
  TempPath dir = TempPath::CreateDir(01777);
  EXPECT_EQ(ModeOf(dir.path()), 01777u);
}

}  // namespace
}  // namespace sentry::testing
