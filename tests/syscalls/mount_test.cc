// mount(2), umount2(2), pivot_root(2) and how mounts bound renames, links
// and openat2(2) RESOLVE_NO_XDEV; from the man pages.
//
// These need CAP_SYS_ADMIN. Natively the suite first moves into a private
// mount namespace (unshare(CLONE_NEWNS), then MS_REC|MS_PRIVATE on "/"), so
// nothing it mounts is seen outside this process; where that is not
// possible every case is skipped. Inside the Sentry the sandbox's mount
// namespace is already its own.
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

// A mount(2) made in the constructor and undone (lazily, MNT_DETACH) in the
// destructor unless Umount() already did. Declare it after the TempPath of
// its target, so that it goes first.
class ScopedMount {
 public:
  ScopedMount(const char* source, const std::string& target, const char* fstype,
              unsigned long flags = 0, const char* data = nullptr)
      : target_(target) {
    if (mount(source, target.c_str(), fstype, flags, data) != 0) {
      errno_ = errno;
      target_.clear();
    }
  }
  ~ScopedMount() {
    if (!target_.empty()) umount2(target_.c_str(), MNT_DETACH);
  }
  ScopedMount(const ScopedMount&) = delete;
  ScopedMount& operator=(const ScopedMount&) = delete;

  bool ok() const { return errno_ == 0; }
  std::string error() const {
    return std::string("mount failed: ") + strerror(errno_);
  }
  // umount2(2)s now; the destructor then does nothing.
  int Umount(int flags = 0) {
    int r = umount2(target_.c_str(), flags);
    if (r == 0) target_.clear();
    return r;
  }

 private:
  std::string target_;
  int errno_ = 0;
};

long Openat2(int dirfd, const char* path, uint64_t flags, uint64_t resolve) {
  struct open_how how = {};
  how.flags = flags;
  how.resolve = resolve;
  return syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

void WriteFile(const std::string& path, const std::string& contents) {
  FileDescriptor fd(open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ASSERT_TRUE(WriteAll(fd.get(), contents));
}

std::string ReadFile(const std::string& path) {
  FileDescriptor fd(open(path.c_str(), O_RDONLY));
  EXPECT_THAT(fd.get(), SyscallSucceeds()) << path;
  return fd.valid() ? ReadAll(fd.get()) : "";
}

// Natively, moves the whole test process into a private mount namespace
// once; skips every case when that is not allowed (not root).
class MountTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (TestPlatform() != "native") return;
    if (unshare(CLONE_NEWNS) != 0) {
      setup_errno_ = errno;
      setup_step_ = "unshare(CLONE_NEWNS)";
      return;
    }
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      setup_errno_ = errno;
      setup_step_ = "making / private";
    }
  }

  void SetUp() override {
    if (setup_errno_ != 0) {
      GTEST_SKIP() << setup_step_ << ": " << strerror(setup_errno_)
                   << " (needs CAP_SYS_ADMIN)";
    }
  }

  static inline int setup_errno_ = 0;
  static inline const char* setup_step_ = "";
};

TEST_F(MountTest, TmpfsHidesTheDirectoryAndHoldsNewFiles) {
  TempPath dir = TempPath::CreateDir();
  WriteFile(dir.Child("under"), "u");
  ScopedMount m("none", dir.path(), "tmpfs");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_FALSE(Exists(dir.Child("under")));
  WriteFile(dir.Child("over"), "hello");
  EXPECT_EQ(ReadFile(dir.Child("over")), "hello");
  ASSERT_THAT(mkdir(dir.Child("sub").c_str(), 0755), SyscallSucceeds());
  WriteFile(dir.Child("sub/f"), "deep");
  EXPECT_EQ(ReadFile(dir.Child("sub/f")), "deep");
}

TEST_F(MountTest, UmountUncoversTheDirectory) {
  TempPath dir = TempPath::CreateDir();
  WriteFile(dir.Child("under"), "u");
  ScopedMount m("none", dir.path(), "tmpfs");
  ASSERT_TRUE(m.ok()) << m.error();
  WriteFile(dir.Child("over"), "o");
  ASSERT_THAT(m.Umount(), SyscallSucceeds());
  EXPECT_TRUE(Exists(dir.Child("under")));
  EXPECT_FALSE(Exists(dir.Child("over")));
}

TEST_F(MountTest, TmpfsStatfsHasTmpfsMagicAndSize) {
  TempPath dir = TempPath::CreateDir();
  ScopedMount m("none", dir.path(), "tmpfs", 0, "size=64k");
  ASSERT_TRUE(m.ok()) << m.error();
  struct statfs sfs;
  ASSERT_THAT(statfs(dir.path().c_str(), &sfs), SyscallSucceeds());
  EXPECT_EQ(sfs.f_type, TMPFS_MAGIC);
  EXPECT_EQ(static_cast<uint64_t>(sfs.f_blocks) * sfs.f_bsize, 64u * 1024);
}

TEST_F(MountTest, TmpfsSizeLimitGivesEnospc) {
  TempPath dir = TempPath::CreateDir();
  ScopedMount m("none", dir.path(), "tmpfs", 0, "size=64k");
  ASSERT_TRUE(m.ok()) << m.error();
  FileDescriptor fd(open(dir.Child("big").c_str(), O_CREAT | O_WRONLY, 0644));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  std::string chunk(4096, 'x');
  size_t total = 0;
  ssize_t n;
  while ((n = write(fd.get(), chunk.data(), chunk.size())) > 0) {
    total += n;
    ASSERT_LE(total, 1024u * 1024) << "no limit enforced";
  }
  EXPECT_EQ(n, -1);
  EXPECT_EQ(errno, ENOSPC);
  EXPECT_LE(total, 64u * 1024);
  EXPECT_GT(total, 0u);
}

TEST_F(MountTest, ReadOnlyTmpfsGivesErofs) {
  TempPath dir = TempPath::CreateDir();
  ScopedMount m("none", dir.path(), "tmpfs", MS_RDONLY);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_THAT(open(dir.Child("f").c_str(), O_CREAT | O_WRONLY, 0644),
              SyscallFailsWithErrno(EROFS));
  EXPECT_THAT(mkdir(dir.Child("d").c_str(), 0755),
              SyscallFailsWithErrno(EROFS));
  struct statvfs sv;
  ASSERT_THAT(statvfs(dir.path().c_str(), &sv), SyscallSucceeds());
  EXPECT_TRUE(sv.f_flag & ST_RDONLY);
}

TEST_F(MountTest, BindMountShowsTheSourceBothWays) {
  TempPath src = TempPath::CreateDir();
  TempPath dst = TempPath::CreateDir();
  WriteFile(src.Child("f"), "from source");
  ScopedMount m(src.path().c_str(), dst.path(), nullptr, MS_BIND);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(ReadFile(dst.Child("f")), "from source");
  struct stat a, b;
  ASSERT_THAT(stat(src.Child("f").c_str(), &a), SyscallSucceeds());
  ASSERT_THAT(stat(dst.Child("f").c_str(), &b), SyscallSucceeds());
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_dev, b.st_dev);
  WriteFile(dst.Child("g"), "through the bind mount");
  EXPECT_EQ(ReadFile(src.Child("g")), "through the bind mount");
}

TEST_F(MountTest, BindMountOfAFileShowsItsContents) {
  TempPath src = TempPath::CreateFile("source contents");
  TempPath dst = TempPath::CreateFile("target contents");
  ScopedMount m(src.path().c_str(), dst.path(), nullptr, MS_BIND);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(ReadFile(dst.path()), "source contents");
  ASSERT_THAT(m.Umount(), SyscallSucceeds());
  EXPECT_EQ(ReadFile(dst.path()), "target contents");
}

TEST_F(MountTest, ReadOnlyBindRemountGivesErofsOnlyThere) {
  TempPath src = TempPath::CreateDir();
  TempPath dst = TempPath::CreateDir();
  WriteFile(src.Child("f"), "x");
  ScopedMount m(src.path().c_str(), dst.path(), nullptr, MS_BIND);
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_THAT(mount(nullptr, dst.path().c_str(), nullptr,
                    MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr),
              SyscallSucceeds());
  EXPECT_THAT(open(dst.Child("new").c_str(), O_CREAT | O_WRONLY, 0644),
              SyscallFailsWithErrno(EROFS));
  EXPECT_THAT(open(dst.Child("f").c_str(), O_WRONLY),
              SyscallFailsWithErrno(EROFS));
  EXPECT_THAT(unlink(dst.Child("f").c_str()), SyscallFailsWithErrno(EROFS));
  EXPECT_EQ(ReadFile(dst.Child("f")), "x");
  // The source mount stays writable.
  WriteFile(src.Child("g"), "y");
  EXPECT_EQ(ReadFile(dst.Child("g")), "y");
}

TEST_F(MountTest, UmountOfNonMountPointFailsEinval) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(umount2(dir.path().c_str(), 0), SyscallFailsWithErrno(EINVAL));
}

TEST_F(MountTest, UmountOfMissingPathFailsEnoent) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(umount2(dir.Child("nope").c_str(), 0),
              SyscallFailsWithErrno(ENOENT));
}

TEST_F(MountTest, Umount2UnknownOrConflictingFlagsFailEinval) {
  TempPath dir = TempPath::CreateDir();
  ScopedMount m("none", dir.path(), "tmpfs");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_THAT(umount2(dir.path().c_str(), 0x100),
              SyscallFailsWithErrno(EINVAL));
  // "MNT_EXPIRE cannot be specified with either MNT_FORCE or MNT_DETACH."
  EXPECT_THAT(umount2(dir.path().c_str(), MNT_EXPIRE | MNT_DETACH),
              SyscallFailsWithErrno(EINVAL));
  // Still mounted.
  struct statfs sfs;
  ASSERT_THAT(statfs(dir.path().c_str(), &sfs), SyscallSucceeds());
  EXPECT_EQ(sfs.f_type, TMPFS_MAGIC);
}

TEST_F(MountTest, UmountWithCwdInsideFailsEbusy) {
  TempPath dir = TempPath::CreateDir();
  ScopedMount m("none", dir.path(), "tmpfs");
  ASSERT_TRUE(m.ok()) << m.error();
  FileDescriptor old_cwd(open(".", O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(old_cwd.get(), SyscallSucceeds());
  ASSERT_THAT(chdir(dir.path().c_str()), SyscallSucceeds());
  int r = umount2(dir.path().c_str(), 0);
  int err = errno;
  ASSERT_THAT(fchdir(old_cwd.get()), SyscallSucceeds());
  EXPECT_EQ(r, -1);
  EXPECT_EQ(err, EBUSY);
  EXPECT_THAT(m.Umount(), SyscallSucceeds());
}

TEST_F(MountTest, DetachedUmountKeepsOpenFilesUsable) {
  TempPath dir = TempPath::CreateDir();
  ScopedMount m("none", dir.path(), "tmpfs");
  ASSERT_TRUE(m.ok()) << m.error();
  WriteFile(dir.Child("f"), "still here");
  FileDescriptor fd(open(dir.Child("f").c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ASSERT_THAT(m.Umount(MNT_DETACH), SyscallSucceeds());
  EXPECT_FALSE(Exists(dir.Child("f")));
  EXPECT_EQ(ReadAll(fd.get()), "still here");
}

TEST_F(MountTest, UnknownFilesystemTypeFailsEnodev) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(mount("none", dir.path().c_str(), "no_such_fs_type", 0, nullptr),
              SyscallFailsWithErrno(ENODEV));
}

TEST_F(MountTest, MountOnMissingTargetFailsEnoent) {
  TempPath dir = TempPath::CreateDir();
  EXPECT_THAT(mount("none", dir.Child("nope").c_str(), "tmpfs", 0, nullptr),
              SyscallFailsWithErrno(ENOENT));
}

TEST_F(MountTest, ProcMountShowsThisProcess) {
  TempPath dir = TempPath::CreateDir();
  ScopedMount m("proc", dir.path(), "proc");
  ASSERT_TRUE(m.ok()) << m.error();
  struct statfs sfs;
  ASSERT_THAT(statfs(dir.path().c_str(), &sfs), SyscallSucceeds());
  EXPECT_EQ(sfs.f_type, PROC_SUPER_MAGIC);
  char buf[64] = {};
  ASSERT_THAT(readlink(dir.Child("self").c_str(), buf, sizeof(buf) - 1),
              SyscallSucceeds());
  EXPECT_EQ(std::string(buf), std::to_string(getpid()));
  std::string status = ReadFile(dir.Child("self/status"));
  EXPECT_NE(status.find("\nPid:\t" + std::to_string(getpid()) + "\n"),
            std::string::npos)
      << status;
}

TEST_F(MountTest, RenameAcrossMountsFailsExdev) {
  TempPath dir = TempPath::CreateDir();
  TempPath mnt = TempPath::CreateDirIn(dir.path());
  ScopedMount m("none", mnt.path(), "tmpfs");
  ASSERT_TRUE(m.ok()) << m.error();
  WriteFile(mnt.Child("f"), "x");
  EXPECT_THAT(rename(mnt.Child("f").c_str(), dir.Child("f").c_str()),
              SyscallFailsWithErrno(EXDEV));
  WriteFile(dir.Child("g"), "y");
  EXPECT_THAT(rename(dir.Child("g").c_str(), mnt.Child("g").c_str()),
              SyscallFailsWithErrno(EXDEV));
}

TEST_F(MountTest, RenameBetweenBindMountAndItsSourceFailsExdev) {
  // rename(2): EXDEV "oldpath and newpath are not on the same mounted
  // filesystem" -- a bind mount is another mount of the same filesystem.
  TempPath src = TempPath::CreateDir();
  TempPath dst = TempPath::CreateDir();
  WriteFile(src.Child("f"), "x");
  ScopedMount m(src.path().c_str(), dst.path(), nullptr, MS_BIND);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_THAT(rename(dst.Child("f").c_str(), src.Child("g").c_str()),
              SyscallFailsWithErrno(EXDEV));
  // Within the bind mount it works.
  EXPECT_THAT(rename(dst.Child("f").c_str(), dst.Child("h").c_str()),
              SyscallSucceeds());
  EXPECT_TRUE(Exists(src.Child("h")));
}

TEST_F(MountTest, LinkAcrossMountsFailsExdev) {
  TempPath dir = TempPath::CreateDir();
  TempPath mnt = TempPath::CreateDirIn(dir.path());
  ScopedMount m("none", mnt.path(), "tmpfs");
  ASSERT_TRUE(m.ok()) << m.error();
  WriteFile(mnt.Child("f"), "x");
  EXPECT_THAT(link(mnt.Child("f").c_str(), dir.Child("f").c_str()),
              SyscallFailsWithErrno(EXDEV));
  EXPECT_THAT(link(mnt.Child("f").c_str(), mnt.Child("f2").c_str()),
              SyscallSucceeds());
}

TEST_F(MountTest, Openat2NoXdevRefusesToCrossIntoAMount) {
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(mkdir(dir.Child("mnt").c_str(), 0755), SyscallSucceeds());
  ScopedMount m("none", dir.Child("mnt"), "tmpfs");
  ASSERT_TRUE(m.ok()) << m.error();
  WriteFile(dir.Child("mnt/f"), "x");
  FileDescriptor base(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(base.get(), SyscallSucceeds());
  long r = Openat2(base.get(), "mnt/f", O_RDONLY, RESOLVE_NO_XDEV);
  if (r < 0 && errno == ENOSYS) GTEST_SKIP() << "openat2 is not available";
  EXPECT_THAT(r, SyscallFailsWithErrno(EXDEV));
  if (r >= 0) close(r);
  // Without the flag it opens; from inside the mount it opens too.
  FileDescriptor plain(Openat2(base.get(), "mnt/f", O_RDONLY, 0));
  EXPECT_THAT(plain.get(), SyscallSucceeds());
  FileDescriptor inner(open(dir.Child("mnt").c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(inner.get(), SyscallSucceeds());
  FileDescriptor f(Openat2(inner.get(), "f", O_RDONLY, RESOLVE_NO_XDEV));
  EXPECT_THAT(f.get(), SyscallSucceeds());
  // ".." out of the mount's root crosses back: refused as well.
  EXPECT_THAT(Openat2(inner.get(), "..", O_RDONLY, RESOLVE_NO_XDEV),
              SyscallFailsWithErrno(EXDEV));
}

TEST_F(MountTest, PivotRootOntoNonMountPointFailsEinval) {
  // pivot_root(2): EINVAL "new_root is not a mount point". Both paths are
  // on a tmpfs of our own, so no other check (EBUSY for paths on the
  // current root's mount) comes first.
  TempPath dir = TempPath::CreateDir();
  ScopedMount m("none", dir.path(), "tmpfs");
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_THAT(mkdir(dir.Child("new").c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(mkdir(dir.Child("new/old").c_str(), 0755), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_pivot_root, dir.Child("new").c_str(),
                      dir.Child("new/old").c_str()),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(MountTest, PivotRootPutOldOutsideNewRootFailsEinval) {
  // EINVAL "put_old is not at or underneath new_root".
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(mkdir(dir.Child("new").c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(mkdir(dir.Child("elsewhere").c_str(), 0755), SyscallSucceeds());
  ScopedMount m("none", dir.Child("new"), "tmpfs");
  ASSERT_TRUE(m.ok()) << m.error();
  ScopedMount m2("none", dir.Child("elsewhere"), "tmpfs");
  ASSERT_TRUE(m2.ok()) << m2.error();
  EXPECT_THAT(syscall(SYS_pivot_root, dir.Child("new").c_str(),
                      dir.Child("elsewhere").c_str()),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(MountTest, PivotRootForkSwapsTheRoot) {
  // The whole mount namespace's root changes, so do it in a child with a
  // namespace of its own (natively), leaving this process's root alone.
  TempPath dir = TempPath::CreateDir();
  const std::string path = dir.path();
  EXPECT_THAT(
      ForkAndWait([&path] {
        if (TestPlatform() == "native") {
          CHILD_EXPECT(unshare(CLONE_NEWNS) == 0);
          CHILD_EXPECT(
              mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
        }
        CHILD_EXPECT(mount("none", path.c_str(), "tmpfs", 0, nullptr) == 0);
        CHILD_EXPECT(mkdir((path + "/old").c_str(), 0755) == 0);
        int fd = open((path + "/marker").c_str(), O_CREAT | O_WRONLY, 0644);
        CHILD_EXPECT(fd >= 0);
        close(fd);
        CHILD_EXPECT(syscall(SYS_pivot_root, path.c_str(),
                             (path + "/old").c_str()) == 0);
        CHILD_EXPECT(chdir("/") == 0);
        struct stat st;
        CHILD_EXPECT(stat("/marker", &st) == 0);
        // The old root now hangs below put_old; the tmpfs moved
        // away from `path` there, uncovering the empty directory.
        CHILD_EXPECT(stat(("/old" + path).c_str(), &st) == 0);
        CHILD_EXPECT(stat(("/old" + path + "/marker").c_str(), &st) == -1);
        CHILD_EXPECT(umount2("/old", MNT_DETACH) == 0);
        CHILD_EXPECT(stat(("/old" + path).c_str(), &st) == -1);
        return 0;
      }),
      ExitedWithCode(0));
}

}  // namespace
}  // namespace sentry::testing
