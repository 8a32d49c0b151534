// truncate(2), ftruncate(2), fallocate(2), posix_fadvise(2) and
// readahead(2), from the man pages: behaviours attr_test does not cover
// (symlinks, permissions, RLIMIT_FSIZE, mappings past the new end, hole
// punching, advice).
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
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

off_t SizeOf(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return st.st_size;
}

std::string Pread(int fd, size_t n, off_t off) {
  std::string buf(n, '?');
  ssize_t got = pread(fd, buf.data(), n, off);
  buf.resize(got < 0 ? 0 : got);
  return buf;
}

TEST(TruncatePathTest, FollowsSymlinks) {
  TempPath dir = TempPath::CreateDir();
  std::string target = dir.Child("target");
  std::string link = dir.Child("link");
  int fd = open(target.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_THAT(fd, SyscallSucceeds());
  close(fd);
  ASSERT_THAT(symlink("target", link.c_str()), SyscallSucceeds());
  ASSERT_THAT(truncate(link.c_str(), 123), SyscallSucceeds());
  EXPECT_EQ(SizeOf(target), 123);
  struct stat st;
  ASSERT_THAT(lstat(link.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST(TruncatePathTest, PathErrors) {
  TempPath f = TempPath::CreateFile("abc");
  EXPECT_THAT(truncate((f.path() + "-missing").c_str(), 0),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(truncate((f.path() + "/x").c_str(), 0),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(truncate("", 0), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(syscall(SYS_truncate, reinterpret_cast<void*>(8), 0),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_EQ(SizeOf(f.path()), 3);
}

// truncate needs write permission on the file.
TEST(TruncatePathTest, WithoutWritePermissionFailsEaccesFork) {
  SKIP_UNLESS_ROOT();
  TempPath f = TempPath::CreateFile("abc", 0644);
  // The child reaches the file through /proc/self/fd, since the test
  // directory may not be searchable by nobody.
  FileDescriptor path(open(f.path().c_str(), O_PATH));
  ASSERT_THAT(path.get(), SyscallSucceeds());
  std::string proc_path = "/proc/self/fd/" + std::to_string(path.get());
  EXPECT_THAT(ForkAsNobodyAndWait([&]() -> int {
                CHILD_EXPECT(truncate(proc_path.c_str(), 0) == -1);
                CHILD_EXPECT(errno == EACCES);
                return 0;
              }),
              ExitedWithCode(0));
  EXPECT_EQ(SizeOf(f.path()), 3);
}

// A size change updates st_mtime and st_ctime.
TEST(TruncatePathTest, SizeChangeUpdatesMtimeAndCtime) {
  TempPath f = TempPath::CreateFile("abcdef");
  struct timespec old_times[2] = {{1000, 0}, {1000, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, f.path().c_str(), old_times, 0),
              SyscallSucceeds());
  struct stat before;
  ASSERT_THAT(stat(f.path().c_str(), &before), SyscallSucceeds());
  ASSERT_THAT(truncate(f.path().c_str(), 2), SyscallSucceeds());
  struct stat after;
  ASSERT_THAT(stat(f.path().c_str(), &after), SyscallSucceeds());
  EXPECT_GT(after.st_mtim.tv_sec, 1000);
  EXPECT_TRUE(after.st_ctim.tv_sec > before.st_ctim.tv_sec ||
              (after.st_ctim.tv_sec == before.st_ctim.tv_sec &&
               after.st_ctim.tv_nsec >= before.st_ctim.tv_nsec));
  EXPECT_EQ(after.st_atim.tv_sec, 1000);
}

// Growing makes a hole: the size is what was asked and the new part reads
// as zeros, however large.
TEST(TruncatePathTest, LargeSizeReadsZerosToTheNewEnd) {
  TempPath f = TempPath::CreateFile("data");
  constexpr off_t kSize = off_t{1} << 30;
  ASSERT_THAT(truncate(f.path().c_str(), kSize), SyscallSucceeds());
  EXPECT_EQ(SizeOf(f.path()), kSize);
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  EXPECT_EQ(Pread(fd.get(), 4, 0), "data");
  EXPECT_EQ(Pread(fd.get(), 8, kSize - 4), std::string(4, '\0'));
  EXPECT_EQ(Pread(fd.get(), 8, kSize), "");
}

TEST(FtruncateFdTest, AppendOnlyDescriptorCanTruncate) {
  TempPath f = TempPath::CreateFile("abcdef");
  FileDescriptor fd(open(f.path().c_str(), O_WRONLY | O_APPEND));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(ftruncate(fd.get(), 2), SyscallSucceeds());
  EXPECT_EQ(SizeOf(f.path()), 2);
}

TEST(FtruncateFdTest, DescriptorErrors) {
  TempPath f = TempPath::CreateFile("abc");
  FileDescriptor path(open(f.path().c_str(), O_PATH));
  EXPECT_THAT(ftruncate(path.get(), 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(ftruncate(-1, 0), SyscallFailsWithErrno(EBADF));
  FileDescriptor rw(open(f.path().c_str(), O_RDWR));
  EXPECT_THAT(ftruncate(rw.get(), -1), SyscallFailsWithErrno(EINVAL));
  TempPath dir = TempPath::CreateDir();
  FileDescriptor d(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  EXPECT_THAT(ftruncate(d.get(), 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(SizeOf(f.path()), 3);
}

// Growing past RLIMIT_FSIZE fails EFBIG and raises SIGXFSZ; shrinking is
// always allowed.
TEST(FtruncateFdTest, BeyondRlimitFsizeFailsEfbigFork) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  int raw = fd.get();
  EXPECT_THAT(ForkAndWait([raw]() -> int {
                signal(SIGXFSZ, SIG_IGN);
                struct rlimit lim = {4096, 4096};
                CHILD_EXPECT(setrlimit(RLIMIT_FSIZE, &lim) == 0);
                CHILD_EXPECT(ftruncate(raw, 4096) == 0);
                CHILD_EXPECT(ftruncate(raw, 4097) == -1 && errno == EFBIG);
                CHILD_EXPECT(ftruncate(raw, 10) == 0);
                return 0;
              }),
              ExitedWithCode(0));
  EXPECT_THAT(ForkAndWait([raw]() -> int {
                signal(SIGXFSZ, SIG_DFL);
                struct rlimit lim = {4096, 4096};
                CHILD_EXPECT(setrlimit(RLIMIT_FSIZE, &lim) == 0);
                ftruncate(raw, 8192);
                return 0;
              }),
              KilledBySignal(SIGXFSZ));
}

// Pages of a shared mapping that lie wholly past the new end of file give
// SIGBUS when touched.
TEST(FtruncateFdTest, MappingPastTheNewEndGivesSigbusFork) {
  long page = sysconf(_SC_PAGESIZE);
  TempPath f = TempPath::CreateFile(std::string(2 * page, 'x'));
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  char* p = static_cast<char*>(
      mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
  ASSERT_NE(p, MAP_FAILED);
  ASSERT_THAT(ftruncate(fd.get(), page / 2), SyscallSucceeds());
  EXPECT_THAT(ForkAndWait([p, page]() -> int {
                // The tail of the first page is zeros, the page still there.
                CHILD_EXPECT(p[page - 1] == 0);
                volatile char c = p[page];
                (void)c;
                return 0;
              }),
              KilledBySignal(SIGBUS));
  munmap(p, 2 * page);
}

// FALLOC_FL_PUNCH_HOLE must come with FALLOC_FL_KEEP_SIZE; the range then
// reads as zeros and the size is unchanged.
TEST(FallocateModeTest, PunchHoleZeroesTheRangeAndKeepsTheSize) {
  TempPath f = TempPath::CreateFile(std::string(3 * 4096, 'x'));
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  EXPECT_THAT(fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE, 0, 4096),
              SyscallFailsWithErrno(EOPNOTSUPP));
  int rc = fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096,
                     4096);
  if (rc != 0 && errno == EOPNOTSUPP) {
    GTEST_SKIP() << "this file system cannot punch holes";
  }
  ASSERT_THAT(rc, SyscallSucceeds());
  EXPECT_EQ(SizeOf(f.path()), 3 * 4096);
  EXPECT_EQ(Pread(fd.get(), 4096, 4096), std::string(4096, '\0'));
  EXPECT_EQ(Pread(fd.get(), 4096, 0), std::string(4096, 'x'));
  EXPECT_EQ(Pread(fd.get(), 4096, 8192), std::string(4096, 'x'));
}

TEST(FallocateModeTest, ZeroRangeZeroesAndMayExtend) {
  TempPath f = TempPath::CreateFile(std::string(8192, 'x'));
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  int rc = fallocate(fd.get(), FALLOC_FL_ZERO_RANGE, 4096, 8192);
  if (rc != 0 && errno == EOPNOTSUPP) {
    GTEST_SKIP() << "this file system has no FALLOC_FL_ZERO_RANGE";
  }
  ASSERT_THAT(rc, SyscallSucceeds());
  EXPECT_EQ(SizeOf(f.path()), 12288);
  EXPECT_EQ(Pread(fd.get(), 8192, 4096), std::string(8192, '\0'));
  EXPECT_EQ(Pread(fd.get(), 4096, 0), std::string(4096, 'x'));
}

TEST(FallocateModeTest, ModeAndRangeErrors) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  EXPECT_THAT(fallocate(fd.get(), 0x1000, 0, 10),
              SyscallFailsWithErrno(EOPNOTSUPP));
  // offset + len beyond the largest possible file.
  EXPECT_THAT(fallocate(fd.get(), 0, LLONG_MAX - 10, 100),
              SyscallFailsWithErrno(EFBIG));
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  EXPECT_THAT(fallocate(w.get(), 0, 0, 10), SyscallFailsWithErrno(ESPIPE));
  EXPECT_EQ(SizeOf(f.path()), 0);
}

// posix_fadvise returns an error number instead of setting errno.
TEST(FadviseTest, EveryAdviceIsAccepted) {
  TempPath f = TempPath::CreateFile(std::string(8192, 'x'));
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  for (int advice :
       {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
        POSIX_FADV_NOREUSE, POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED}) {
    EXPECT_EQ(posix_fadvise(fd.get(), 0, 0, advice), 0) << advice;
    EXPECT_EQ(posix_fadvise(fd.get(), 100, 4096, advice), 0) << advice;
  }
  // Advice changes nothing about the contents.
  EXPECT_EQ(Pread(fd.get(), 4, 0), "xxxx");
}

TEST(FadviseTest, BadArguments) {
  TempPath f = TempPath::CreateFile("abc");
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  EXPECT_EQ(posix_fadvise(fd.get(), 0, 0, 12345), EINVAL);
  EXPECT_EQ(posix_fadvise(fd.get(), 0, -1, POSIX_FADV_NORMAL), EINVAL);
  EXPECT_EQ(posix_fadvise(-1, 0, 0, POSIX_FADV_NORMAL), EBADF);
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  EXPECT_EQ(posix_fadvise(r.get(), 0, 0, POSIX_FADV_NORMAL), ESPIPE);
}

TEST(FadviseTest, ReadaheadNeedsAReadableFile) {
  TempPath f = TempPath::CreateFile(std::string(8192, 'x'));
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  EXPECT_THAT(readahead(fd.get(), 0, 8192), SyscallSucceeds());
  FileDescriptor wo(open(f.path().c_str(), O_WRONLY));
  EXPECT_THAT(readahead(wo.get(), 0, 8192), SyscallFailsWithErrno(EBADF));
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  EXPECT_THAT(readahead(r.get(), 0, 10), SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace sentry::testing
