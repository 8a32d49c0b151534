// The device files of null(4), zero(4), full(4), random(4) and parts of
// proc(5) that programs commonly rely on.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

using ::testing::HasSubstr;

TEST(DevNullTest, ReadsEofWritesVanish) {
  FileDescriptor fd(open("/dev/null", O_RDWR));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  char buf[8];
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
  EXPECT_THAT(write(fd.get(), "discard", 7), SyscallSucceedsWithValue(7));
}

TEST(DevNullTest, LseekSucceeds) {
  FileDescriptor fd(open("/dev/null", O_RDWR));
  EXPECT_THAT(lseek(fd.get(), 100, SEEK_SET), SyscallSucceeds());
}

TEST(DevZeroTest, ReadsZeros) {
  FileDescriptor fd(open("/dev/zero", O_RDONLY));
  char buf[64];
  memset(buf, 'x', sizeof(buf));
  ASSERT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(64));
  EXPECT_EQ(std::string(buf, 64), std::string(64, '\0'));
}

TEST(DevZeroTest, WritesSucceed) {
  FileDescriptor fd(open("/dev/zero", O_WRONLY));
  EXPECT_THAT(write(fd.get(), "abc", 3), SyscallSucceedsWithValue(3));
}

TEST(DevFullTest, WriteFailsEnospc) {
  FileDescriptor fd(open("/dev/full", O_RDWR));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(write(fd.get(), "x", 1), SyscallFailsWithErrno(ENOSPC));
}

TEST(DevFullTest, ReadsZeros) {
  FileDescriptor fd(open("/dev/full", O_RDONLY));
  char buf[4] = {1, 1, 1, 1};
  ASSERT_THAT(read(fd.get(), buf, 4), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), std::string(4, '\0'));
}

TEST(DevUrandomTest, ReadsRandomBytes) {
  FileDescriptor fd(open("/dev/urandom", O_RDONLY));
  char a[32], b[32];
  ASSERT_THAT(read(fd.get(), a, sizeof(a)), SyscallSucceedsWithValue(32));
  ASSERT_THAT(read(fd.get(), b, sizeof(b)), SyscallSucceedsWithValue(32));
  // 2^-256 chance of a false failure.
  EXPECT_NE(std::string(a, 32), std::string(b, 32));
}

TEST(DevUrandomTest, IsCharDevice) {
  struct stat st;
  ASSERT_THAT(stat("/dev/urandom", &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST(ProcSelfTest, ExeIsAbsolutePathOfThisBinary) {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf));
  ASSERT_THAT(n, SyscallSucceeds());
  std::string exe(buf, n);
  EXPECT_EQ(exe[0], '/');
  // Compare by identity, not name: the path may differ between platforms.
  struct stat a, b;
  ASSERT_THAT(stat(exe.c_str(), &a), SyscallSucceeds());
  ASSERT_THAT(stat("/proc/self/exe", &b), SyscallSucceeds());
  EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST(ProcSelfTest, FdDirectoryListsOpenDescriptors) {
  FileDescriptor fd(open("/dev/null", O_RDONLY));
  FileDescriptor dir(open("/proc/self/fd", O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(dir.get(), SyscallSucceeds());
  std::set<std::string> names;
  alignas(8) char buf[4096];
  for (;;) {
    long n = syscall(SYS_getdents64, dir.get(), buf, sizeof(buf));
    ASSERT_THAT(n, SyscallSucceeds());
    if (n == 0) break;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf + off);
      names.insert(d->d_name);
      off += d->d_reclen;
    }
  }
  EXPECT_TRUE(names.count("0") && names.count("1") && names.count("2"));
  EXPECT_TRUE(names.count(std::to_string(fd.get())));
  EXPECT_TRUE(names.count(std::to_string(dir.get())));
}

TEST(ProcSelfTest, FdLinkNamesTheFile) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  char buf[PATH_MAX];
  std::string link = "/proc/self/fd/" + std::to_string(fd.get());
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf));
  ASSERT_THAT(n, SyscallSucceeds());
  char real[PATH_MAX];
  ASSERT_NE(realpath(f.path().c_str(), real), nullptr);
  EXPECT_EQ(std::string(buf, n), real);
}

TEST(ProcSelfTest, StatusHasNamePidAndUidLines) {
  std::string status = ReadProcFile("/proc/self/status");
  EXPECT_THAT(status, HasSubstr("Name:\t"));
  EXPECT_THAT(status, HasSubstr("\nPid:\t" + std::to_string(getpid()) + "\n"));
  EXPECT_THAT(status, HasSubstr("\nUid:\t" + std::to_string(getuid()) + "\t"));
}

TEST(ProcSelfTest, MapsHasTheStack) {
  std::string maps = ReadProcFile("/proc/self/maps");
  EXPECT_THAT(maps, HasSubstr("[stack]"));
}

TEST(ProcSelfTest, MapsCoversALocalVariable) {
  int local = 0;
  uintptr_t addr = reinterpret_cast<uintptr_t>(&local);
  std::string maps = ReadProcFile("/proc/self/maps");
  bool found = false;
  size_t pos = 0;
  while (pos < maps.size()) {
    size_t end = maps.find('\n', pos);
    std::string line = maps.substr(pos, end - pos);
    unsigned long lo, hi;
    if (sscanf(line.c_str(), "%lx-%lx", &lo, &hi) == 2 && lo <= addr &&
        addr < hi) {
      found = true;
      EXPECT_THAT(line, HasSubstr("rw"));
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  EXPECT_TRUE(found);
}

TEST(ProcSelfTest, SelfIsOurPid) {
  char buf[32];
  ssize_t n = readlink("/proc/self", buf, sizeof(buf));
  ASSERT_THAT(n, SyscallSucceeds());
  EXPECT_EQ(std::string(buf, n), std::to_string(getpid()));
}

TEST(ProcSelfTest, CmdlineStartsWithArgv0) {
  std::string cmdline = ReadProcFile("/proc/self/cmdline");
  ASSERT_FALSE(cmdline.empty());
  EXPECT_EQ(cmdline.back(), '\0');
  EXPECT_THAT(cmdline, HasSubstr("dev_proc_test"));
}

TEST(ProcTest, CpuinfoIsNotEmpty) {
  std::string cpuinfo = ReadProcFile("/proc/cpuinfo");
  EXPECT_THAT(cpuinfo, HasSubstr("processor"));
}

TEST(ProcTest, HostnameMatchesUname) {
  std::string name = ReadProcFile("/proc/sys/kernel/hostname");
  ASSERT_FALSE(name.empty());
  EXPECT_EQ(name.back(), '\n');
  char host[256];
  ASSERT_THAT(gethostname(host, sizeof(host)), SyscallSucceeds());
  EXPECT_EQ(name, std::string(host) + "\n");
}

TEST(ProcTest, ProcFilesReportSizeZero) {
  struct stat st;
  ASSERT_THAT(stat("/proc/self/status", &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 0);
}

}  // namespace
}  // namespace sentry::testing
