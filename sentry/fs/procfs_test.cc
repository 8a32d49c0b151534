// procfs and devfs content, read through the VFS from a real Task.
#include "sentry/fs/procfs.h"

#include <fcntl.h>
#include <sys/sysmacros.h>

#include <string>

#include "gtest/gtest.h"
#include "sentry/fs/devices.h"
#include "sentry/fs/mounts.h"
#include "sentry/fs/pipe.h"
#include "sentry/fs/test_task.h"
#include "sentry/kernel/version.h"
#include "sentry/vfs/vfs.h"

namespace sentry::fs {
namespace {

class ProcfsTest : public TaskTest {
 protected:
  void SetUp() override {
    TaskTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(MountSpecialFilesystems(kernel()).ok());
    task().argv() = {"prog", "arg one"};
  }

  ErrnoOr<std::string> ReadFile(const std::string& path) {
    vfs::Resolver r = task().resolver();
    SENTRY_ASSIGN_OR_RETURN(auto f,
                            vfs::Open(r, task().fs().root, path, O_RDONLY, 0));
    std::string out;
    uint8_t buf[4096];
    for (;;) {
      SENTRY_ASSIGN_OR_RETURN(size_t n, f->Read(task(), buf));
      if (n == 0) break;
      out.append(reinterpret_cast<char*>(buf), n);
    }
    return out;
  }

  ErrnoOr<std::string> ReadLink(const std::string& path) {
    return vfs::ReadLink(task().resolver(), task().fs().root, path);
  }
};

TEST_F(ProcfsTest, TaskFiles) {
  EXPECT_EQ(*ReadFile("/proc/1/cmdline"), std::string("prog\0arg one\0", 13));
  EXPECT_EQ(*ReadFile("/proc/1/comm"), "prog\n");
  std::string status = *ReadFile("/proc/1/status");
  EXPECT_NE(status.find("Name:\tprog\n"), std::string::npos) << status;
  EXPECT_NE(status.find("Pid:\t1\n"), std::string::npos);
  EXPECT_EQ(ReadFile("/proc/1/stat")->rfind("1 (prog) S 0 1 1 ", 0), 0u);
  EXPECT_NE(ReadFile("/proc/1/maps")->find("[vsyscall]"), std::string::npos);
  EXPECT_NE(ReadFile("/proc/1/limits")->find("Max open files"),
            std::string::npos);
  EXPECT_NE(ReadFile("/proc/1/mounts")->find("proc /proc proc rw,nosuid"),
            std::string::npos);
  EXPECT_EQ(*ReadFile("/proc/1/task/1/comm"), "prog\n");
  EXPECT_EQ(*ReadLink("/proc/1/cwd"), "/");
  // No task runs on the test thread: /proc/self has no target.
  EXPECT_EQ(ReadLink("/proc/self").error(), Errno(ENOENT));
  EXPECT_EQ(ReadFile("/proc/2/status").error(), Errno(ENOENT));
}

TEST_F(ProcfsTest, FdLinksAndFdinfo) {
  auto [r, w] = Pipe::Create(0, 0, 0);
  uint64_t ino = r->pipe().inode()->ino();
  ASSERT_TRUE(task().fds().InstallAt(5, r, true, 1024).ok());
  EXPECT_EQ(*ReadLink("/proc/1/fd/5"), "pipe:[" + std::to_string(ino) + "]");
  std::string info = *ReadFile("/proc/1/fdinfo/5");
  EXPECT_NE(info.find("flags:\t02000000\n"), std::string::npos) << info;
  // Re-opening a pipe through its magic link gives a new end.
  vfs::Resolver res = task().resolver();
  auto again = vfs::Open(res, task().fs().root, "/proc/1/fd/5", O_WRONLY, 0);
  ASSERT_TRUE(again.ok());
  uint8_t b = 'k';
  ASSERT_TRUE((*again)->Write(task(), std::span<const uint8_t>(&b, 1)).ok());
  EXPECT_EQ(r->pipe().size(), 1u);
}

TEST_F(ProcfsTest, SystemFiles) {
  EXPECT_EQ(*ReadFile("/proc/sys/kernel/ostype"), "Linux\n");
  EXPECT_EQ(*ReadFile("/proc/sys/kernel/osrelease"),
            std::string(kernel::kLinuxRelease) + "\n");
  EXPECT_EQ(*ReadFile("/proc/sys/kernel/hostname"), "sentry\n");
  EXPECT_EQ(*ReadFile("/proc/sys/kernel/random/boot_id"),
            *ReadFile("/proc/sys/kernel/random/boot_id"));
  EXPECT_NE(*ReadFile("/proc/sys/kernel/random/uuid"),
            *ReadFile("/proc/sys/kernel/random/uuid"));
  EXPECT_EQ(*ReadFile("/proc/sys/fs/pipe-max-size"), "1048576\n");
  EXPECT_NE(ReadFile("/proc/cpuinfo")->find("processor\t: 0"),
            std::string::npos);
  EXPECT_EQ(ReadFile("/proc/meminfo")->rfind("MemTotal:", 0), 0u);
  EXPECT_NE(ReadFile("/proc/version")->find(kernel::kLinuxRelease),
            std::string::npos);
  EXPECT_EQ(*ReadLink("/proc/mounts"), "self/mounts");
  EXPECT_EQ(ReadFile("/sys/devices/system/cpu/online")->rfind("0", 0), 0u);
  // Files without a writer open for root (whose permission check passes),
  // and writing fails with EIO, as on Linux.
  auto status = vfs::Open(task().resolver(), task().fs().root, "/proc/1/status",
                          O_WRONLY, 0);
  ASSERT_TRUE(status.ok());
  uint8_t byte = 'x';
  EXPECT_EQ(
      (*status)->Write(task(), std::span<const uint8_t>(&byte, 1)).error(),
      Errno(EIO));
  // comm is writable (proc(5)) and renames the task.
  auto comm = vfs::Open(task().resolver(), task().fs().root, "/proc/1/comm",
                        O_WRONLY, 0);
  ASSERT_TRUE(comm.ok());
  std::string name = "renamed\n";
  EXPECT_TRUE(
      (*comm)
          ->Write(task(), std::span<const uint8_t>(
                              reinterpret_cast<const uint8_t*>(name.data()),
                              name.size()))
          .ok());
  EXPECT_EQ(task().comm(), "renamed");
}

TEST_F(ProcfsTest, DevNodes) {
  vfs::Resolver r = task().resolver();
  auto zero = vfs::Open(r, task().fs().root, "/dev/zero", O_RDWR, 0);
  ASSERT_TRUE(zero.ok());
  uint8_t buf[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_EQ(*(*zero)->Read(task(), buf), 8u);
  EXPECT_EQ(buf[7], 0);
  auto full = vfs::Open(r, task().fs().root, "/dev/full", O_WRONLY, 0);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ((*full)->Write(task(), buf).error(), Errno(ENOSPC));
  auto st = (*zero)->Stat();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_rdev, makedev(1, 5));
  EXPECT_EQ(st->st_mode, S_IFCHR | 0666);
  EXPECT_EQ(vfs::Open(r, task().fs().root, "/dev/tty", O_RDWR, 0).error(),
            Errno(ENXIO));
  EXPECT_EQ(*ReadLink("/dev/stdin"), "/proc/self/fd/0");
  EXPECT_EQ(*ReadLink("/dev/fd"), "/proc/self/fd");
}

}  // namespace
}  // namespace sentry::fs
