// The working directory and the file mode creation mask, from the man pages
// of chdir(2), getcwd(3) (the raw syscall's rules), umask(2) and
// proc_pid_status(5): behaviours dir_test does not cover (symlinks, "..",
// permissions, per-process state across fork, chroot, /proc views, umask
// for FIFOs, sockets and symlinks).
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

#define SKIP_UNLESS_ROOT()                          \
  do {                                              \
    std::string why_not = WhyNobodyIsUnavailable(); \
    if (!why_not.empty()) GTEST_SKIP() << why_not;  \
  } while (0)

std::string Cwd() {
  char buf[PATH_MAX];
  return getcwd(buf, sizeof(buf)) == nullptr ? "" : buf;
}

// The canonical path of `path` (the temporary directory may sit under a
// symlink).
std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) == nullptr ? "" : buf;
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// Restores the working directory at the end of a test.
class CwdRestorer {
 public:
  CwdRestorer() : fd_(open(".", O_PATH | O_DIRECTORY)) {}
  ~CwdRestorer() {
    if (fd_.valid()) (void)!fchdir(fd_.get());
  }

 private:
  FileDescriptor fd_;
};

TEST(ChdirTest, DotDotGoesToTheParent) {
  CwdRestorer restore;
  TempPath dir = TempPath::CreateDir();
  std::string sub = dir.Child("sub");
  ASSERT_THAT(mkdir(sub.c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(chdir(sub.c_str()), SyscallSucceeds());
  ASSERT_THAT(chdir(".."), SyscallSucceeds());
  EXPECT_EQ(Cwd(), RealPath(dir.path()));
  // ".." of the root is the root.
  ASSERT_THAT(chdir("/"), SyscallSucceeds());
  ASSERT_THAT(chdir(".."), SyscallSucceeds());
  EXPECT_EQ(Cwd(), "/");
}

// The working directory is the symlink's target; getcwd names the target.
TEST(ChdirTest, ThroughASymlinkLandsInTheTarget) {
  CwdRestorer restore;
  TempPath dir = TempPath::CreateDir();
  std::string target = dir.Child("target");
  std::string link = dir.Child("link");
  ASSERT_THAT(mkdir(target.c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(symlink("target", link.c_str()), SyscallSucceeds());
  ASSERT_THAT(chdir(link.c_str()), SyscallSucceeds());
  EXPECT_EQ(Cwd(), RealPath(target));
}

TEST(ChdirTest, PathErrors) {
  EXPECT_THAT(chdir(""), SyscallFailsWithErrno(ENOENT));
  std::string long_name(NAME_MAX + 1, 'x');
  EXPECT_THAT(chdir(long_name.c_str()), SyscallFailsWithErrno(ENAMETOOLONG));
  EXPECT_THAT(syscall(SYS_chdir, reinterpret_cast<void*>(8)),
              SyscallFailsWithErrno(EFAULT));
  TempPath dir = TempPath::CreateDir();
  std::string loop = dir.Child("loop");
  ASSERT_THAT(symlink("loop", loop.c_str()), SyscallSucceeds());
  EXPECT_THAT(chdir(loop.c_str()), SyscallFailsWithErrno(ELOOP));
}

// Relative paths, for every call, start at the new working directory.
TEST(ChdirTest, RelativePathsStartAtTheNewDirectory) {
  CwdRestorer restore;
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(chdir(dir.path().c_str()), SyscallSucceeds());
  ASSERT_THAT(mkdir("made", 0755), SyscallSucceeds());
  FileDescriptor fd(open("made/file", O_CREAT | O_WRONLY, 0644));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct stat st;
  EXPECT_THAT(stat(dir.Child("made/file").c_str(), &st), SyscallSucceeds());
  EXPECT_THAT(rename("made/file", "moved"), SyscallSucceeds());
  EXPECT_THAT(stat(dir.Child("moved").c_str(), &st), SyscallSucceeds());
}

// chdir needs search (execute) permission on the directory.
TEST(ChdirTest, WithoutSearchPermissionFailsEaccesFork) {
  SKIP_UNLESS_ROOT();
  TempPath dir = TempPath::CreateDir(0700);
  // The child gets there through /proc/self/fd: the test directory itself
  // may not be searchable by nobody.
  FileDescriptor path(open(dir.path().c_str(), O_PATH | O_DIRECTORY));
  ASSERT_THAT(path.get(), SyscallSucceeds());
  FileDescriptor rd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(rd.get(), SyscallSucceeds());
  std::string proc_path = "/proc/self/fd/" + std::to_string(path.get());
  int rd_fd = rd.get();
  EXPECT_THAT(ForkAsNobodyAndWait([&]() -> int {
                CHILD_EXPECT(chdir(proc_path.c_str()) == -1);
                CHILD_EXPECT(errno == EACCES);
                CHILD_EXPECT(fchdir(rd_fd) == -1);
                CHILD_EXPECT(errno == EACCES);
                return 0;
              }),
              ExitedWithCode(0));
}

// fchdir accepts an O_PATH descriptor of a directory.
TEST(FchdirTest, OPathDirectoryDescriptorWorks) {
  CwdRestorer restore;
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd(open(dir.path().c_str(), O_PATH | O_DIRECTORY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ASSERT_THAT(fchdir(fd.get()), SyscallSucceeds());
  EXPECT_EQ(Cwd(), RealPath(dir.path()));
}

// Each process has its own working directory: a child's chdir does not move
// the parent, and a child starts where its parent was.
TEST(ChdirTest, WorkingDirectoryIsPerProcessFork) {
  CwdRestorer restore;
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(chdir(dir.path().c_str()), SyscallSucceeds());
  std::string expected = RealPath(dir.path());
  EXPECT_THAT(ForkAndWait([&]() -> int {
                CHILD_EXPECT(Cwd() == expected);
                CHILD_EXPECT(chdir("/") == 0);
                CHILD_EXPECT(Cwd() == "/");
                return 0;
              }),
              ExitedWithCode(0));
  EXPECT_EQ(Cwd(), expected);
}

TEST(GetcwdTest, ProcSelfCwdNamesTheSameDirectory) {
  CwdRestorer restore;
  TempPath dir = TempPath::CreateDir();
  ASSERT_THAT(chdir(dir.path().c_str()), SyscallSucceeds());
  char link[PATH_MAX] = {};
  ASSERT_THAT(readlink("/proc/self/cwd", link, sizeof(link) - 1),
              SyscallSucceeds());
  EXPECT_EQ(std::string(link), Cwd());
}

TEST(GetcwdTest, BadBufferFailsEfault) {
  EXPECT_THAT(syscall(SYS_getcwd, reinterpret_cast<void*>(8), PATH_MAX),
              SyscallFailsWithErrno(EFAULT));
}

// A working directory outside the process's root (after chroot) has no
// path from that root: the raw syscall prefixes "(unreachable)".
TEST(GetcwdTest, OutsideTheRootIsUnreachableFork) {
  if (geteuid() != 0) GTEST_SKIP() << "chroot needs root";
  TempPath dir = TempPath::CreateDir();
  std::string a = dir.Child("a");
  std::string b = dir.Child("b");
  ASSERT_THAT(mkdir(a.c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(mkdir(b.c_str(), 0755), SyscallSucceeds());
  EXPECT_THAT(ForkAndWait([&]() -> int {
                CHILD_EXPECT(chdir(a.c_str()) == 0);
                CHILD_EXPECT(chroot(b.c_str()) == 0);
                char buf[PATH_MAX] = {};
                long n = syscall(SYS_getcwd, buf, sizeof(buf));
                CHILD_EXPECT(n > 0);
                CHILD_EXPECT(std::string(buf).rfind("(unreachable)", 0) == 0);
                // glibc refuses such a path.
                CHILD_EXPECT(getcwd(buf, sizeof(buf)) == nullptr);
                CHILD_EXPECT(errno == ENOENT);
                // Once inside the new root, paths are relative to it.
                CHILD_EXPECT(chdir("/") == 0);
                CHILD_EXPECT(Cwd() == "/");
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(UmaskScopeTest, InheritedByForkChildrenFork) {
  ScopedUmask mask(027);
  EXPECT_THAT(ForkAndWait([]() -> int {
                CHILD_EXPECT(umask(0) == 027);
                return 0;
              }),
              ExitedWithCode(0));
  // The child's change did not reach us.
  EXPECT_EQ(umask(027), 027u);
}

TEST(UmaskScopeTest, ProcStatusShowsTheMask) {
  ScopedUmask mask(0247);
  std::string status = ReadProcFile("/proc/self/status");
  EXPECT_NE(status.find("\nUmask:\t0247\n"), std::string::npos) << status;
}

// The mask applies to creating files, not to changing modes later.
TEST(UmaskScopeTest, DoesNotApplyToChmod) {
  ScopedUmask mask(077);
  TempPath f = TempPath::CreateFile();
  ASSERT_THAT(chmod(f.path().c_str(), 0777), SyscallSucceeds());
  EXPECT_EQ(ModeOf(f.path()), 0777u);
}

// FIFOs and Unix socket files are created through the mask; symlinks always
// have mode 0777.
TEST(UmaskScopeTest, AppliesToFifosAndSocketsNotSymlinks) {
  ScopedUmask mask(022);
  TempPath dir = TempPath::CreateDir();
  std::string fifo = dir.Child("fifo");
  ASSERT_THAT(mkfifo(fifo.c_str(), 0666), SyscallSucceeds());
  EXPECT_EQ(ModeOf(fifo), 0644u);
  std::string link = dir.Child("link");
  ASSERT_THAT(symlink("fifo", link.c_str()), SyscallSucceeds());
  EXPECT_EQ(ModeOf(link), 0777u);
  // Bound by a relative name from inside the directory: Bazel's temporary
  // directories are longer than sun_path.
  std::string sock_path = dir.Child("s");
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, "s");
  FileDescriptor sock(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(sock.get(), SyscallSucceeds());
  FileDescriptor old_cwd(open(".", O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(old_cwd.get(), SyscallSucceeds());
  ASSERT_THAT(chdir(dir.path().c_str()), SyscallSucceeds());
  int bound =
      bind(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  ASSERT_THAT(fchdir(old_cwd.get()), SyscallSucceeds());
  ASSERT_THAT(bound, SyscallSucceeds());
  EXPECT_EQ(ModeOf(sock_path), 0755u);
}

}  // namespace
}  // namespace sentry::testing
