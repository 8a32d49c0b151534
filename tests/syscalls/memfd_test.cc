// memfd_create(2) and file sealing (fcntl(2) F_ADD_SEALS/F_GET_SEALS), from
// the man pages.
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

TEST(MemfdTest, CreatesEmptyReadWriteFile) {
  FileDescriptor fd(memfd_create("test", 0));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 0);
  EXPECT_EQ(fcntl(fd.get(), F_GETFL) & O_ACCMODE, O_RDWR);
}

TEST(MemfdTest, WriteThenRead) {
  FileDescriptor fd(memfd_create("test", 0));
  ASSERT_THAT(write(fd.get(), "memfd", 5), SyscallSucceedsWithValue(5));
  ASSERT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceeds());
  EXPECT_EQ(ReadAll(fd.get()), "memfd");
}

TEST(MemfdTest, CloexecFlag) {
  FileDescriptor fd(memfd_create("test", MFD_CLOEXEC));
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
}

TEST(MemfdTest, InvalidFlagsFailEinval) {
  EXPECT_THAT(memfd_create("test", 0x1000), SyscallFailsWithErrno(EINVAL));
}

TEST(MemfdTest, NameTooLongFailsEinval) {
  // memfd_create(2): the name may be at most 249 bytes.
  std::string name(250, 'n');
  EXPECT_THAT(memfd_create(name.c_str(), 0), SyscallFailsWithErrno(EINVAL));
}

TEST(MemfdTest, ProcFdLinkShowsName) {
  FileDescriptor fd(memfd_create("hello", 0));
  char buf[256];
  std::string link = "/proc/self/fd/" + std::to_string(fd.get());
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf));
  ASSERT_THAT(n, SyscallSucceeds());
  EXPECT_THAT(std::string(buf, n), ::testing::StartsWith("/memfd:hello"));
}

TEST(MemfdTest, MapSharedSeesWritesBothWays) {
  FileDescriptor fd(memfd_create("test", 0));
  ASSERT_THAT(ftruncate(fd.get(), 4096), SyscallSucceeds());
  void* p =
      mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  ASSERT_NE(p, MAP_FAILED);
  char* c = static_cast<char*>(p);
  ASSERT_THAT(pwrite(fd.get(), "abc", 3, 0), SyscallSucceeds());
  EXPECT_EQ(std::string(c, 3), "abc");
  memcpy(c + 100, "xyz", 3);
  char buf[3];
  ASSERT_THAT(pread(fd.get(), buf, 3, 100), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "xyz");
  munmap(p, 4096);
}

TEST(MemfdTest, TwoSharedMappingsAreCoherent) {
  FileDescriptor fd(memfd_create("test", 0));
  ASSERT_THAT(ftruncate(fd.get(), 4096), SyscallSucceeds());
  char* a = static_cast<char*>(
      mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
  char* b = static_cast<char*>(
      mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd.get(), 0));
  ASSERT_NE(a, MAP_FAILED);
  ASSERT_NE(b, MAP_FAILED);
  a[7] = 'Q';
  EXPECT_EQ(b[7], 'Q');
  munmap(a, 4096);
  munmap(b, 4096);
}

TEST(MemfdTest, MapPrivateDoesNotWriteBack) {
  FileDescriptor fd(memfd_create("test", 0));
  ASSERT_THAT(ftruncate(fd.get(), 4096), SyscallSucceeds());
  char* p = static_cast<char*>(
      mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(), 0));
  ASSERT_NE(p, MAP_FAILED);
  p[0] = 'P';
  char c = 1;
  ASSERT_THAT(pread(fd.get(), &c, 1, 0), SyscallSucceeds());
  EXPECT_EQ(c, 0);
  munmap(p, 4096);
}

TEST(MemfdSealTest, NoSealsByDefaultWithAllowSealing) {
  FileDescriptor fd(memfd_create("test", MFD_ALLOW_SEALING));
  EXPECT_THAT(fcntl(fd.get(), F_GET_SEALS), SyscallSucceedsWithValue(0));
}

TEST(MemfdSealTest, WithoutAllowSealingIsSealed) {
  FileDescriptor fd(memfd_create("test", 0));
  EXPECT_THAT(fcntl(fd.get(), F_GET_SEALS),
              SyscallSucceedsWithValue(F_SEAL_SEAL));
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE),
              SyscallFailsWithErrno(EPERM));
}

TEST(MemfdSealTest, SealWritePreventsWrites) {
  FileDescriptor fd(memfd_create("test", MFD_ALLOW_SEALING));
  ASSERT_THAT(write(fd.get(), "a", 1), SyscallSucceeds());
  ASSERT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE), SyscallSucceeds());
  EXPECT_THAT(write(fd.get(), "b", 1), SyscallFailsWithErrno(EPERM));
  EXPECT_EQ(mmap(nullptr, 4096, PROT_WRITE, MAP_SHARED, fd.get(), 0),
            MAP_FAILED);
}

TEST(MemfdSealTest, SealWriteFailsWithWritableMapping) {
  FileDescriptor fd(memfd_create("test", MFD_ALLOW_SEALING));
  ASSERT_THAT(ftruncate(fd.get(), 4096), SyscallSucceeds());
  void* p =
      mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  ASSERT_NE(p, MAP_FAILED);
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE),
              SyscallFailsWithErrno(EBUSY));
  munmap(p, 4096);
}

TEST(MemfdSealTest, SealShrinkAndGrow) {
  FileDescriptor fd(memfd_create("test", MFD_ALLOW_SEALING));
  ASSERT_THAT(ftruncate(fd.get(), 100), SyscallSucceeds());
  ASSERT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW),
              SyscallSucceeds());
  EXPECT_THAT(ftruncate(fd.get(), 50), SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(ftruncate(fd.get(), 200), SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(pwrite(fd.get(), "x", 1, 500), SyscallFailsWithErrno(EPERM));
  // Writing inside the current size is still fine.
  EXPECT_THAT(pwrite(fd.get(), "x", 1, 10), SyscallSucceedsWithValue(1));
}

TEST(MemfdSealTest, SealSealFreezesSeals) {
  FileDescriptor fd(memfd_create("test", MFD_ALLOW_SEALING));
  ASSERT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SEAL), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_GROW),
              SyscallFailsWithErrno(EPERM));
}

TEST(MemfdSealTest, SealsAccumulate) {
  FileDescriptor fd(memfd_create("test", MFD_ALLOW_SEALING));
  ASSERT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_GROW), SyscallSucceeds());
  ASSERT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_GET_SEALS),
              SyscallSucceedsWithValue(F_SEAL_GROW | F_SEAL_SHRINK));
}

TEST(MemfdSealTest, RegularFileCannotBeSealed) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_GROW),
              SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace sentry::testing
