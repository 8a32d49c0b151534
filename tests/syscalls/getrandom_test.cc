// getrandom(2) and the random devices (random(4)): the flags and their
// errors, short copies into a partly bad buffer, what the bytes look like,
// /dev/random and /dev/urandom (device numbers, reads, poll, the
// RNDGETENTCNT ioctl) and /proc/sys/kernel/random/{boot_id,uuid}. (The
// basic length, GRND_NONBLOCK and unknown-flag cases are in
// process_basics_test.)
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif

namespace sentry::testing {
namespace {

// `s` without its trailing newline.
std::string Chomp(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// Whether `s` looks like 8-4-4-4-12 lowercase hex digits.
bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!isxdigit(static_cast<unsigned char>(s[i])) || isupper(s[i])) {
      return false;
    }
  }
  return true;
}

// --- getrandom(2) ---

TEST(GetrandomTest, ZeroLengthWithANullBufferReturnsZero) {
  EXPECT_THAT(getrandom(nullptr, 0, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(getrandom(nullptr, 0, GRND_NONBLOCK),
              SyscallSucceedsWithValue(0));
}

TEST(GetrandomTest, GrndRandomReturnsSomeBytes) {
  // "GRND_RANDOM ... may return fewer bytes than requested".
  char buf[16] = {};
  ssize_t n = getrandom(buf, sizeof(buf), GRND_RANDOM);
  ASSERT_THAT(n, SyscallSucceeds());
  EXPECT_GT(n, 0);
  EXPECT_LE(n, 16);
}

TEST(GetrandomTest, GrndInsecureReturnsBytesButNotWithGrndRandom) {
  char buf[32];
  EXPECT_THAT(getrandom(buf, sizeof(buf), GRND_INSECURE),
              SyscallSucceedsWithValue(sizeof(buf)));
  // "EINVAL ... both GRND_RANDOM and GRND_INSECURE were specified".
  EXPECT_THAT(getrandom(buf, sizeof(buf), GRND_INSECURE | GRND_RANDOM),
              SyscallFailsWithErrno(EINVAL));
}

TEST(GetrandomTest, UnknownFlagBitsFailEinval) {
  char buf[8];
  for (unsigned flags : {0x8u, 0x10u, 0x80000000u, 0xffffffffu}) {
    EXPECT_THAT(getrandom(buf, sizeof(buf), flags),
                SyscallFailsWithErrno(EINVAL))
        << flags;
  }
}

TEST(GetrandomTest, BadBufferFailsEfault) {
  // The raw syscall: glibc's declaration lets the compiler object.
  EXPECT_THAT(syscall(SYS_getrandom, 8, 16, 0), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_getrandom, 8, 16, GRND_NONBLOCK),
              SyscallFailsWithErrno(EFAULT));
}

TEST(GetrandomTest, BufferRunningIntoAHoleGetsAShortCount) {
  const long page = sysconf(_SC_PAGESIZE);
  void* p = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  char* base = static_cast<char*>(p);
  ASSERT_THAT(munmap(base + page, page), SyscallSucceeds());
  // 100 bytes fit before the hole; like read(2), the bytes copied are
  // reported rather than the fault.
  ssize_t n = getrandom(base + page - 100, 200, 0);
  EXPECT_THAT(n, SyscallSucceeds());
  EXPECT_GT(n, 0);
  EXPECT_LE(n, 100);
  munmap(base, page);
}

TEST(GetrandomTest, BytesAreSpreadOverAllValues) {
  std::vector<unsigned char> buf(1 << 16);
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = getrandom(buf.data() + got, buf.size() - got, 0);
    ASSERT_THAT(n, SyscallSucceeds());
    got += n;
  }
  std::vector<int> counts(256);
  for (unsigned char c : buf) counts[c]++;
  // 256 expected per value; anything random is nowhere near 0 or 512.
  for (int v = 0; v < 256; v++) {
    EXPECT_GT(counts[v], 128) << v;
    EXPECT_LT(counts[v], 400) << v;
  }
}

TEST(GetrandomTest, ForkChildGetsDifferentBytes) {
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor r(fds[0]), w(fds[1]);
  auto child = [&w] {
    unsigned char buf[32];
    CHILD_EXPECT(getrandom(buf, sizeof(buf), 0) == sizeof(buf));
    CHILD_EXPECT(write(w.get(), buf, sizeof(buf)) == sizeof(buf));
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
  unsigned char theirs[32], mine[32];
  ASSERT_THAT(read(r.get(), theirs, sizeof(theirs)),
              SyscallSucceedsWithValue(32));
  ASSERT_THAT(getrandom(mine, sizeof(mine), 0), SyscallSucceedsWithValue(32));
  EXPECT_NE(memcmp(theirs, mine, sizeof(mine)), 0);
}

// --- /dev/random and /dev/urandom ---

TEST(RandomDeviceTest, AreCharacterDevicesOneEightAndOneNine) {
  struct stat st;
  ASSERT_THAT(stat("/dev/random", &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(major(st.st_rdev), 1u);
  EXPECT_EQ(minor(st.st_rdev), 8u);
  EXPECT_EQ(st.st_mode & 0666, 0666u);
  ASSERT_THAT(stat("/dev/urandom", &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(major(st.st_rdev), 1u);
  EXPECT_EQ(minor(st.st_rdev), 9u);
  EXPECT_EQ(st.st_mode & 0666, 0666u);
}

TEST(RandomDeviceTest, UrandomFillsALargeRead) {
  FileDescriptor fd(open("/dev/urandom", O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  std::vector<char> buf(1 << 20);
  EXPECT_THAT(read(fd.get(), buf.data(), buf.size()),
              SyscallSucceedsWithValue(buf.size()));
  char a[32], b[32];
  ASSERT_THAT(read(fd.get(), a, sizeof(a)), SyscallSucceedsWithValue(32));
  ASSERT_THAT(read(fd.get(), b, sizeof(b)), SyscallSucceedsWithValue(32));
  EXPECT_NE(memcmp(a, b, sizeof(a)), 0);
}

TEST(RandomDeviceTest, RandomDoesNotBlockOnceInitialized) {
  // Since Linux 5.6 /dev/random blocks only until the pool is initialized;
  // GRND_NONBLOCK succeeding says it is.
  char probe[1];
  ASSERT_THAT(getrandom(probe, 1, GRND_NONBLOCK), SyscallSucceeds());
  FileDescriptor fd(open("/dev/random", O_RDONLY | O_NONBLOCK));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  char buf[64];
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)),
              SyscallSucceedsWithValue(sizeof(buf)));
  struct pollfd pfd = {fd.get(), POLLIN, 0};
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(pfd.revents & POLLIN);
}

TEST(RandomDeviceTest, EntropyCountIoctl) {
  FileDescriptor fd(open("/dev/urandom", O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  int count = -1;
  // random(4): "RNDGETENTCNT Retrieve the entropy count of the input pool".
  ASSERT_THAT(ioctl(fd.get(), RNDGETENTCNT, &count), SyscallSucceeds());
  EXPECT_GE(count, 0);
}

TEST(RandomDeviceTest, SeekingIsIgnored) {
  FileDescriptor fd(open("/dev/urandom", O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(lseek(fd.get(), 100, SEEK_SET), SyscallSucceeds());
  char buf[16];
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(16));
}

// --- /proc/sys/kernel/random ---

TEST(RandomProcTest, BootIdIsAStableUuid) {
  std::string a = Chomp(ReadProcFile("/proc/sys/kernel/random/boot_id"));
  std::string b = Chomp(ReadProcFile("/proc/sys/kernel/random/boot_id"));
  EXPECT_TRUE(IsUuid(a)) << a;
  EXPECT_EQ(a, b);
}

TEST(RandomProcTest, UuidIsANewVersionFourUuidEachRead) {
  std::string a = Chomp(ReadProcFile("/proc/sys/kernel/random/uuid"));
  std::string b = Chomp(ReadProcFile("/proc/sys/kernel/random/uuid"));
  ASSERT_TRUE(IsUuid(a)) << a;
  ASSERT_TRUE(IsUuid(b)) << b;
  EXPECT_NE(a, b);
  // Version 4 (random), RFC 4122 variant.
  EXPECT_EQ(a[14], '4');
  EXPECT_THAT(std::string("89ab"), ::testing::HasSubstr(std::string(1, a[19])));
}

}  // namespace
}  // namespace sentry::testing
