// eventfd(2), from the man page.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

TEST(EventfdTest, InitialValueIsRead) {
  FileDescriptor fd(eventfd(5, 0));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  uint64_t v = 0;
  ASSERT_THAT(read(fd.get(), &v, sizeof(v)), SyscallSucceedsWithValue(8));
  EXPECT_EQ(v, 5u);
}

TEST(EventfdTest, WritesAddUp) {
  FileDescriptor fd(eventfd(0, 0));
  uint64_t a = 2, b = 3, v = 0;
  ASSERT_THAT(write(fd.get(), &a, 8), SyscallSucceedsWithValue(8));
  ASSERT_THAT(write(fd.get(), &b, 8), SyscallSucceedsWithValue(8));
  ASSERT_THAT(read(fd.get(), &v, 8), SyscallSucceeds());
  EXPECT_EQ(v, 5u);
}

TEST(EventfdTest, ReadResetsCounter) {
  FileDescriptor fd(eventfd(7, EFD_NONBLOCK));
  uint64_t v;
  ASSERT_THAT(read(fd.get(), &v, 8), SyscallSucceeds());
  EXPECT_THAT(read(fd.get(), &v, 8), SyscallFailsWithErrno(EAGAIN));
}

TEST(EventfdTest, SemaphoreReadsOne) {
  FileDescriptor fd(eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK));
  uint64_t v;
  for (int i = 0; i < 3; i++) {
    ASSERT_THAT(read(fd.get(), &v, 8), SyscallSucceeds());
    EXPECT_EQ(v, 1u);
  }
  EXPECT_THAT(read(fd.get(), &v, 8), SyscallFailsWithErrno(EAGAIN));
}

TEST(EventfdTest, ShortBufferFailsEinval) {
  FileDescriptor fd(eventfd(1, 0));
  uint32_t small;
  EXPECT_THAT(read(fd.get(), &small, 4), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(write(fd.get(), &small, 4), SyscallFailsWithErrno(EINVAL));
}

TEST(EventfdTest, WritingMaxFailsEinval) {
  FileDescriptor fd(eventfd(0, 0));
  uint64_t v = UINT64_MAX;
  EXPECT_THAT(write(fd.get(), &v, 8), SyscallFailsWithErrno(EINVAL));
}

TEST(EventfdTest, OverflowWouldBlock) {
  FileDescriptor fd(eventfd(0, EFD_NONBLOCK));
  uint64_t big = UINT64_MAX - 1, one = 1;
  ASSERT_THAT(write(fd.get(), &big, 8), SyscallSucceeds());
  EXPECT_THAT(write(fd.get(), &one, 8), SyscallFailsWithErrno(EAGAIN));
}

TEST(EventfdTest, Flags) {
  FileDescriptor fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_TRUE(fcntl(fd.get(), F_GETFL) & O_NONBLOCK);
}

TEST(EventfdTest, InvalidFlagsFailEinval) {
  EXPECT_THAT(eventfd(0, 0x1234), SyscallFailsWithErrno(EINVAL));
}

TEST(EventfdTest, LargeBufferReadsEightBytes) {
  FileDescriptor fd(eventfd(9, 0));
  uint64_t buf[2] = {0, 0};
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(8));
  EXPECT_EQ(buf[0], 9u);
}

TEST(EventfdTest, BadBufferFailsEfault) {
  FileDescriptor fd(eventfd(1, 0));
  // Raw syscall: GCC rejects the bad pointer at compile time otherwise.
  EXPECT_THAT(syscall(SYS_read, fd.get(), 1, 8), SyscallFailsWithErrno(EFAULT));
}

TEST(EventfdTest, SharedAcrossForkFork) {
  FileDescriptor fd(eventfd(0, 0));
  int efd = fd.get();
  EXPECT_THAT(ForkAndWait([efd]() -> int {
                uint64_t v = 42;
                CHILD_EXPECT(write(efd, &v, 8) == 8);
                return 0;
              }),
              ExitedWithCode(0));
  uint64_t v = 0;
  ASSERT_THAT(read(fd.get(), &v, 8), SyscallSucceeds());
  EXPECT_EQ(v, 42u);
}

}  // namespace
}  // namespace sentry::testing
