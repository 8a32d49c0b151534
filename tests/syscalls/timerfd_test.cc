// timerfd_create(2), timerfd_settime(2), timerfd_gettime(2) and reading a
// timerfd, from the man page: expiration counts, intervals, absolute times,
// non-blocking reads, poll readiness and argument checks.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

constexpr int64_t kNsPerSec = 1000000000;
constexpr int64_t kNsPerMs = 1000000;

struct timespec FromNs(int64_t ns) {
  return {static_cast<time_t>(ns / kNsPerSec),
          static_cast<long>(ns % kNsPerSec)};
}

int64_t ToNs(const struct timespec& ts) {
  return ts.tv_sec * kNsPerSec + ts.tv_nsec;
}

int64_t NowNs(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ToNs(ts);
}

struct itimerspec Spec(int64_t value_ns, int64_t interval_ns) {
  struct itimerspec v;
  v.it_value = FromNs(value_ns);
  v.it_interval = FromNs(interval_ns);
  return v;
}

FileDescriptor NewTimerfd(int flags = 0, clockid_t clock = CLOCK_MONOTONIC) {
  FileDescriptor fd(timerfd_create(clock, flags));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
  return fd;
}

// Whether `fd` polls readable within `timeout_ms`.
bool Readable(int fd, int timeout_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

TEST(TimerfdTest, CreateFlagsSetCloexecAndNonblock) {
  FileDescriptor plain = NewTimerfd();
  EXPECT_THAT(fcntl(plain.get(), F_GETFD), SyscallSucceedsWithValue(0));
  EXPECT_EQ(fcntl(plain.get(), F_GETFL) & O_NONBLOCK, 0);
  FileDescriptor both = NewTimerfd(TFD_CLOEXEC | TFD_NONBLOCK);
  EXPECT_THAT(fcntl(both.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_NE(fcntl(both.get(), F_GETFL) & O_NONBLOCK, 0);
}

TEST(TimerfdTest, CreateWithBadClockOrFlagsFailsEinval) {
  EXPECT_THAT(timerfd_create(12345, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(timerfd_create(CLOCK_MONOTONIC, 0x1),
              SyscallFailsWithErrno(EINVAL));
  // Only REALTIME, MONOTONIC, BOOTTIME (and the _ALARM ones) are allowed.
  EXPECT_THAT(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0),
              SyscallFailsWithErrno(EINVAL));
}

TEST(TimerfdTest, NewTimerIsDisarmed) {
  FileDescriptor fd = NewTimerfd(TFD_NONBLOCK);
  struct itimerspec cur = Spec(1, 1);
  ASSERT_THAT(timerfd_gettime(fd.get(), &cur), SyscallSucceeds());
  EXPECT_EQ(ToNs(cur.it_value), 0);
  EXPECT_EQ(ToNs(cur.it_interval), 0);
  uint64_t n;
  EXPECT_THAT(read(fd.get(), &n, sizeof(n)), SyscallFailsWithErrno(EAGAIN));
}

TEST(TimerfdTest, ExpiryIsReadAsAnEightByteCount) {
  FileDescriptor fd = NewTimerfd();
  struct itimerspec v = Spec(10 * kNsPerMs, 0);
  int64_t start = NowNs(CLOCK_MONOTONIC);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &v, nullptr), SyscallSucceeds());
  uint64_t n = 0;
  // A blocking read waits for the expiry.
  ASSERT_THAT(read(fd.get(), &n, sizeof(n)), SyscallSucceedsWithValue(8));
  EXPECT_EQ(n, 1u);
  EXPECT_GE(NowNs(CLOCK_MONOTONIC) - start, 10 * kNsPerMs);
  // The read reset the count and a one-shot timer does not fire again.
  EXPECT_FALSE(Readable(fd.get(), 50));
}

TEST(TimerfdTest, ReadIntoLessThanEightBytesFailsEinval) {
  FileDescriptor fd = NewTimerfd(TFD_NONBLOCK);
  struct itimerspec v = Spec(1000, 0);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &v, nullptr), SyscallSucceeds());
  ASSERT_TRUE(Readable(fd.get(), 2000));
  uint32_t small;
  EXPECT_THAT(read(fd.get(), &small, sizeof(small)),
              SyscallFailsWithErrno(EINVAL));
  // A larger buffer is fine and still gets exactly eight bytes.
  uint64_t big[2] = {0, 0};
  EXPECT_THAT(read(fd.get(), big, sizeof(big)), SyscallSucceedsWithValue(8));
  EXPECT_EQ(big[0], 1u);
}

TEST(TimerfdTest, NonblockingReadBeforeExpiryFailsEagain) {
  FileDescriptor fd = NewTimerfd(TFD_NONBLOCK);
  struct itimerspec v = Spec(10 * kNsPerSec, 0);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &v, nullptr), SyscallSucceeds());
  uint64_t n;
  EXPECT_THAT(read(fd.get(), &n, sizeof(n)), SyscallFailsWithErrno(EAGAIN));
  EXPECT_FALSE(Readable(fd.get(), 0));
}

// Expirations that were not read accumulate in the count.
TEST(TimerfdTest, IntervalExpirationsAccumulate) {
  FileDescriptor fd = NewTimerfd(TFD_NONBLOCK);
  struct itimerspec v = Spec(10 * kNsPerMs, 10 * kNsPerMs);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &v, nullptr), SyscallSucceeds());
  int64_t start = NowNs(CLOCK_MONOTONIC);
  usleep(110 * 1000);
  uint64_t n = 0;
  ASSERT_THAT(read(fd.get(), &n, sizeof(n)), SyscallSucceedsWithValue(8));
  int64_t elapsed = NowNs(CLOCK_MONOTONIC) - start;
  EXPECT_GE(n, 5u);
  // At most one expiration per interval that has passed.
  EXPECT_LE(n, static_cast<uint64_t>(elapsed / (10 * kNsPerMs)) + 1);
  // The interval keeps it going after the read.
  EXPECT_TRUE(Readable(fd.get(), 2000));
}

TEST(TimerfdTest, AbsoluteTimeInThePastExpiresAtOnce) {
  for (clockid_t c : {CLOCK_REALTIME, CLOCK_MONOTONIC}) {
    FileDescriptor fd = NewTimerfd(TFD_NONBLOCK, c);
    struct itimerspec v = Spec(NowNs(c) - kNsPerSec, 0);
    ASSERT_THAT(timerfd_settime(fd.get(), TFD_TIMER_ABSTIME, &v, nullptr),
                SyscallSucceeds());
    EXPECT_TRUE(Readable(fd.get(), 1000)) << "clock " << c;
  }
}

TEST(TimerfdTest, AbsoluteTimeInTheFutureExpiresThen) {
  FileDescriptor fd = NewTimerfd();
  int64_t deadline = NowNs(CLOCK_MONOTONIC) + 50 * kNsPerMs;
  struct itimerspec v = Spec(deadline, 0);
  ASSERT_THAT(timerfd_settime(fd.get(), TFD_TIMER_ABSTIME, &v, nullptr),
              SyscallSucceeds());
  uint64_t n;
  ASSERT_THAT(read(fd.get(), &n, sizeof(n)), SyscallSucceedsWithValue(8));
  EXPECT_GE(NowNs(CLOCK_MONOTONIC), deadline);
}

// gettime reports the time left (relative even for an absolute setting).
TEST(TimerfdTest, GettimeCountsDownAndReportsTheInterval) {
  FileDescriptor fd = NewTimerfd();
  struct itimerspec v =
      Spec(NowNs(CLOCK_MONOTONIC) + 10 * kNsPerSec, 3 * kNsPerSec);
  ASSERT_THAT(timerfd_settime(fd.get(), TFD_TIMER_ABSTIME, &v, nullptr),
              SyscallSucceeds());
  struct itimerspec cur;
  ASSERT_THAT(timerfd_gettime(fd.get(), &cur), SyscallSucceeds());
  EXPECT_LE(ToNs(cur.it_value), 10 * kNsPerSec);
  EXPECT_GT(ToNs(cur.it_value), 9 * kNsPerSec);
  EXPECT_EQ(ToNs(cur.it_interval), 3 * kNsPerSec);
}

TEST(TimerfdTest, SettimeReturnsTheOldSetting) {
  FileDescriptor fd = NewTimerfd();
  struct itimerspec first = Spec(10 * kNsPerSec, kNsPerSec);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &first, nullptr), SyscallSucceeds());
  struct itimerspec second = Spec(20 * kNsPerSec, 0), old;
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &second, &old), SyscallSucceeds());
  EXPECT_GT(ToNs(old.it_value), 9 * kNsPerSec);
  EXPECT_LE(ToNs(old.it_value), 10 * kNsPerSec);
  EXPECT_EQ(ToNs(old.it_interval), kNsPerSec);
}

// A zero it_value disarms; setting the timer also discards expirations not
// yet read.
TEST(TimerfdTest, ZeroValueDisarmsAndClearsTheCount) {
  FileDescriptor fd = NewTimerfd(TFD_NONBLOCK);
  struct itimerspec v = Spec(1000, 0);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &v, nullptr), SyscallSucceeds());
  ASSERT_TRUE(Readable(fd.get(), 2000));
  struct itimerspec off = Spec(0, 0);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &off, nullptr), SyscallSucceeds());
  uint64_t n;
  EXPECT_THAT(read(fd.get(), &n, sizeof(n)), SyscallFailsWithErrno(EAGAIN));
  struct itimerspec cur;
  ASSERT_THAT(timerfd_gettime(fd.get(), &cur), SyscallSucceeds());
  EXPECT_EQ(ToNs(cur.it_value), 0);
}

TEST(TimerfdTest, SettimeInvalidArgumentsFailEinval) {
  FileDescriptor fd = NewTimerfd();
  struct itimerspec bad = Spec(0, 0);
  bad.it_value.tv_nsec = kNsPerSec;
  EXPECT_THAT(timerfd_settime(fd.get(), 0, &bad, nullptr),
              SyscallFailsWithErrno(EINVAL));
  bad = Spec(kNsPerSec, 0);
  bad.it_interval.tv_nsec = -1;
  EXPECT_THAT(timerfd_settime(fd.get(), 0, &bad, nullptr),
              SyscallFailsWithErrno(EINVAL));
  struct itimerspec ok = Spec(kNsPerSec, 0);
  EXPECT_THAT(timerfd_settime(fd.get(), 0x100, &ok, nullptr),
              SyscallFailsWithErrno(EINVAL));
}

TEST(TimerfdTest, NotATimerfdFailsEinvalOrEbadf) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  struct itimerspec v = Spec(kNsPerSec, 0), cur;
  EXPECT_THAT(timerfd_settime(r.get(), 0, &v, nullptr),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(timerfd_gettime(r.get(), &cur), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(timerfd_settime(-1, 0, &v, nullptr),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(timerfd_gettime(-1, &cur), SyscallFailsWithErrno(EBADF));
}

TEST(TimerfdTest, BadPointersFailEfault) {
  FileDescriptor fd = NewTimerfd();
  EXPECT_THAT(
      timerfd_settime(fd.get(), 0, reinterpret_cast<itimerspec*>(8), nullptr),
      SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(timerfd_gettime(fd.get(), reinterpret_cast<itimerspec*>(8)),
              SyscallFailsWithErrno(EFAULT));
}

// The timer and its count belong to the open file description, which a
// forked child shares.
TEST(TimerfdTest, ForkChildReadsTheSharedTimerFork) {
  FileDescriptor fd = NewTimerfd();
  struct itimerspec v = Spec(20 * kNsPerMs, 0);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &v, nullptr), SyscallSucceeds());
  int raw = fd.get();
  EXPECT_THAT(ForkAndWait([raw]() -> int {
                uint64_t n = 0;
                CHILD_EXPECT(read(raw, &n, sizeof(n)) == 8);
                CHILD_EXPECT(n == 1);
                return 0;
              }),
              ExitedWithCode(0));
  // The child consumed the expiration.
  EXPECT_FALSE(Readable(fd.get(), 0));
}

}  // namespace
}  // namespace sentry::testing
