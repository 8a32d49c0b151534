// poll(2)/ppoll and select(2)/pselect6 on pipes and eventfds, from the man
// pages.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

struct Pipe {
  FileDescriptor r, w;
};

Pipe MakePipe() {
  int p[2];
  EXPECT_THAT(pipe2(p, O_NONBLOCK), SyscallSucceeds());
  return {FileDescriptor(p[0]), FileDescriptor(p[1])};
}

double Now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST(PollTest, EmptyPipeReadEndNotReadable) {
  Pipe p = MakePipe();
  struct pollfd pfd = {p.r.get(), POLLIN, 0};
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(0));
  EXPECT_EQ(pfd.revents, 0);
}

TEST(PollTest, WriteEndIsWritable) {
  Pipe p = MakePipe();
  struct pollfd pfd = {p.w.get(), POLLOUT, 0};
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pfd.revents, POLLOUT);
}

TEST(PollTest, DataMakesReadable) {
  Pipe p = MakePipe();
  ASSERT_THAT(write(p.w.get(), "x", 1), SyscallSucceeds());
  struct pollfd pfd = {p.r.get(), POLLIN, 0};
  EXPECT_THAT(poll(&pfd, 1, 1000), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pfd.revents, POLLIN);
}

TEST(PollTest, ClosedWriterGivesPollhup) {
  Pipe p = MakePipe();
  p.w.reset();
  struct pollfd pfd = {p.r.get(), POLLIN, 0};
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(pfd.revents & POLLHUP);
}

TEST(PollTest, ClosedReaderGivesPollerr) {
  Pipe p = MakePipe();
  p.r.reset();
  struct pollfd pfd = {p.w.get(), POLLOUT, 0};
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(pfd.revents & POLLERR);
}

TEST(PollTest, InvalidFdGivesPollnval) {
  struct pollfd pfd = {12345, POLLIN, 0};
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pfd.revents, POLLNVAL);
}

TEST(PollTest, NegativeFdIsIgnored) {
  struct pollfd pfd = {-1, POLLIN, 0x7};
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(0));
  EXPECT_EQ(pfd.revents, 0);
}

TEST(PollTest, TimeoutElapses) {
  Pipe p = MakePipe();
  struct pollfd pfd = {p.r.get(), POLLIN, 0};
  double start = Now();
  EXPECT_THAT(poll(&pfd, 1, 50), SyscallSucceedsWithValue(0));
  EXPECT_GE(Now() - start, 0.045);
}

TEST(PollTest, ZeroFdsSleeps) {
  double start = Now();
  EXPECT_THAT(poll(nullptr, 0, 20), SyscallSucceedsWithValue(0));
  EXPECT_GE(Now() - start, 0.015);
}

TEST(PollTest, BadArrayFailsEfault) {
  // Raw syscall: GCC rejects the bad pointer at compile time otherwise.
  EXPECT_THAT(syscall(SYS_poll, 1, 1, 0), SyscallFailsWithErrno(EFAULT));
}

TEST(PollTest, CountsReadyDescriptorsNotEvents) {
  Pipe a = MakePipe(), b = MakePipe();
  ASSERT_THAT(write(a.w.get(), "x", 1), SyscallSucceeds());
  struct pollfd pfds[3] = {
      {a.r.get(), POLLIN, 0}, {b.r.get(), POLLIN, 0}, {a.w.get(), POLLOUT, 0}};
  EXPECT_THAT(poll(pfds, 3, 0), SyscallSucceedsWithValue(2));
  EXPECT_EQ(pfds[1].revents, 0);
}

TEST(PollTest, EventfdReadableAfterWrite) {
  FileDescriptor efd(eventfd(0, EFD_NONBLOCK));
  struct pollfd pfd = {efd.get(), POLLIN | POLLOUT, 0};
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pfd.revents, POLLOUT);
  uint64_t v = 1;
  ASSERT_THAT(write(efd.get(), &v, sizeof(v)), SyscallSucceeds());
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pfd.revents, POLLIN | POLLOUT);
}

TEST(PpollTest, TimeoutAndNullSigmask) {
  Pipe p = MakePipe();
  struct pollfd pfd = {p.r.get(), POLLIN, 0};
  struct timespec ts = {0, 20 * 1000 * 1000};
  EXPECT_THAT(ppoll(&pfd, 1, &ts, nullptr), SyscallSucceedsWithValue(0));
}

TEST(PpollTest, InvalidTimeoutFailsEinval) {
  struct timespec ts = {0, -1};
  EXPECT_THAT(ppoll(nullptr, 0, &ts, nullptr), SyscallFailsWithErrno(EINVAL));
}

TEST(PpollTest, ReadyWithSigmask) {
  Pipe p = MakePipe();
  ASSERT_THAT(write(p.w.get(), "x", 1), SyscallSucceeds());
  struct pollfd pfd = {p.r.get(), POLLIN, 0};
  sigset_t mask;
  sigemptyset(&mask);
  struct timespec ts = {1, 0};
  EXPECT_THAT(ppoll(&pfd, 1, &ts, &mask), SyscallSucceedsWithValue(1));
}

TEST(SelectTest, ReadableAndWritableSets) {
  Pipe p = MakePipe();
  ASSERT_THAT(write(p.w.get(), "x", 1), SyscallSucceeds());
  fd_set rfds, wfds;
  FD_ZERO(&rfds);
  FD_ZERO(&wfds);
  FD_SET(p.r.get(), &rfds);
  FD_SET(p.w.get(), &wfds);
  struct timeval tv = {0, 0};
  int nfds = std::max(p.r.get(), p.w.get()) + 1;
  EXPECT_THAT(select(nfds, &rfds, &wfds, nullptr, &tv),
              SyscallSucceedsWithValue(2));
  EXPECT_TRUE(FD_ISSET(p.r.get(), &rfds));
  EXPECT_TRUE(FD_ISSET(p.w.get(), &wfds));
}

TEST(SelectTest, NotReadyIsClearedFromSet) {
  Pipe p = MakePipe();
  fd_set rfds;
  FD_ZERO(&rfds);
  FD_SET(p.r.get(), &rfds);
  struct timeval tv = {0, 10000};
  EXPECT_THAT(select(p.r.get() + 1, &rfds, nullptr, nullptr, &tv),
              SyscallSucceedsWithValue(0));
  EXPECT_FALSE(FD_ISSET(p.r.get(), &rfds));
}

TEST(SelectTest, ClosedFdFailsEbadf) {
  // A number inside the descriptor table but closed (select ignores
  // numbers beyond the table's size).
  int closed = dup(0);
  ASSERT_THAT(closed, SyscallSucceeds());
  ASSERT_THAT(close(closed), SyscallSucceeds());
  fd_set rfds;
  FD_ZERO(&rfds);
  FD_SET(closed, &rfds);
  struct timeval tv = {0, 0};
  EXPECT_THAT(select(closed + 1, &rfds, nullptr, nullptr, &tv),
              SyscallFailsWithErrno(EBADF));
}

TEST(SelectTest, NegativeNfdsFailsEinval) {
  struct timeval tv = {0, 0};
  EXPECT_THAT(select(-1, nullptr, nullptr, nullptr, &tv),
              SyscallFailsWithErrno(EINVAL));
}

TEST(SelectTest, InvalidTimeoutFailsEinval) {
  struct timeval tv = {0, -5};
  EXPECT_THAT(select(0, nullptr, nullptr, nullptr, &tv),
              SyscallFailsWithErrno(EINVAL));
}

TEST(SelectTest, TimeoutIsUpdatedOnLinux) {
  // select(2): Linux modifies timeout to reflect the time not slept.
  struct timeval tv = {0, 30000};
  EXPECT_THAT(select(0, nullptr, nullptr, nullptr, &tv),
              SyscallSucceedsWithValue(0));
  EXPECT_EQ(tv.tv_sec, 0);
  EXPECT_EQ(tv.tv_usec, 0);
}

TEST(PselectTest, ReadyEventfd) {
  FileDescriptor efd(eventfd(3, 0));
  fd_set rfds;
  FD_ZERO(&rfds);
  FD_SET(efd.get(), &rfds);
  struct timespec ts = {1, 0};
  sigset_t mask;
  sigemptyset(&mask);
  EXPECT_THAT(pselect(efd.get() + 1, &rfds, nullptr, nullptr, &ts, &mask),
              SyscallSucceedsWithValue(1));
}

TEST(PselectTest, TimeoutElapses) {
  fd_set rfds;
  Pipe p = MakePipe();
  FD_ZERO(&rfds);
  FD_SET(p.r.get(), &rfds);
  struct timespec ts = {0, 30 * 1000 * 1000};
  double start = Now();
  EXPECT_THAT(pselect(p.r.get() + 1, &rfds, nullptr, nullptr, &ts, nullptr),
              SyscallSucceedsWithValue(0));
  EXPECT_GE(Now() - start, 0.025);
}

// A signal blocked by the thread's mask but let through by the call's
// temporary mask interrupts ppoll/pselect: its handler runs (under the
// temporary mask), the call fails with EINTR, and afterwards the old mask
// blocks the signal again. GNU make's jobserver waits on SIGCHLD this way.
volatile sig_atomic_t temp_mask_handled = 0;
void CountTempMaskSignal(int) { temp_mask_handled = temp_mask_handled + 1; }

class TemporaryMaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    struct sigaction sa = {};
    sa.sa_handler = CountTempMaskSignal;
    ASSERT_THAT(sigaction(SIGUSR1, &sa, &old_action_), SyscallSucceeds());
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    ASSERT_THAT(sigprocmask(SIG_BLOCK, &block, &old_mask_), SyscallSucceeds());
    temp_mask_handled = 0;
    // Pending, and blocked outside the call.
    ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  }
  void TearDown() override {
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    sigaction(SIGUSR1, &old_action_, nullptr);
  }
  void ExpectBlockedAgain() {
    sigset_t now;
    ASSERT_THAT(sigprocmask(SIG_SETMASK, nullptr, &now), SyscallSucceeds());
    EXPECT_TRUE(sigismember(&now, SIGUSR1));
  }
  struct sigaction old_action_ = {};
  sigset_t old_mask_;
};

TEST_F(TemporaryMaskTest, PpollRunsTheHandlerAndFailsEintr) {
  Pipe p = MakePipe();
  struct pollfd pfd = {p.r.get(), POLLIN, 0};
  sigset_t empty;
  sigemptyset(&empty);
  struct timespec ts = {5, 0};
  EXPECT_THAT(ppoll(&pfd, 1, &ts, &empty), SyscallFailsWithErrno(EINTR));
  EXPECT_EQ(temp_mask_handled, 1);
  ExpectBlockedAgain();
}

TEST_F(TemporaryMaskTest, PselectRunsTheHandlerAndFailsEintr) {
  Pipe p = MakePipe();
  fd_set rfds;
  FD_ZERO(&rfds);
  FD_SET(p.r.get(), &rfds);
  sigset_t empty;
  sigemptyset(&empty);
  struct timespec ts = {5, 0};
  EXPECT_THAT(pselect(p.r.get() + 1, &rfds, nullptr, nullptr, &ts, &empty),
              SyscallFailsWithErrno(EINTR));
  EXPECT_EQ(temp_mask_handled, 1);
  ExpectBlockedAgain();
}

TEST_F(TemporaryMaskTest, ReadyCallLeavesTheSignalPending) {
  // A call that finds a file ready returns it; the old mask comes back at
  // once and the signal stays pending.
  Pipe p = MakePipe();
  ASSERT_THAT(write(p.w.get(), "x", 1), SyscallSucceeds());
  struct pollfd pfd = {p.r.get(), POLLIN, 0};
  sigset_t full;
  sigfillset(&full);
  struct timespec ts = {5, 0};
  EXPECT_THAT(ppoll(&pfd, 1, &ts, &full), SyscallSucceedsWithValue(1));
  EXPECT_EQ(temp_mask_handled, 0);
  sigset_t pending;
  ASSERT_THAT(sigpending(&pending), SyscallSucceeds());
  EXPECT_TRUE(sigismember(&pending, SIGUSR1));
  // Drain it so it does not leak into other tests.
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, SIGUSR1);
  struct timespec zero = {0, 0};
  EXPECT_THAT(sigtimedwait(&one, nullptr, &zero),
              SyscallSucceedsWithValue(SIGUSR1));
}

// signal(7): poll and select fail with EINTR after a handler even when it
// was installed with SA_RESTART.
volatile sig_atomic_t restart_alarms = 0;
void CountRestartAlarm(int) { restart_alarms = restart_alarms + 1; }

class SaRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    struct sigaction sa = {};
    sa.sa_handler = CountRestartAlarm;
    sa.sa_flags = SA_RESTART;
    ASSERT_THAT(sigaction(SIGALRM, &sa, &old_), SyscallSucceeds());
    restart_alarms = 0;
    struct itimerval it = {{0, 0}, {0, 50 * 1000}};
    ASSERT_THAT(setitimer(ITIMER_REAL, &it, nullptr), SyscallSucceeds());
  }
  void TearDown() override {
    struct itimerval off = {};
    setitimer(ITIMER_REAL, &off, nullptr);
    sigaction(SIGALRM, &old_, nullptr);
  }
  struct sigaction old_ = {};
};

TEST_F(SaRestartTest, PollIsNotRestarted) {
  Pipe p = MakePipe();
  struct pollfd pfd = {p.r.get(), POLLIN, 0};
  EXPECT_THAT(poll(&pfd, 1, 5000), SyscallFailsWithErrno(EINTR));
  EXPECT_EQ(restart_alarms, 1);
}

TEST_F(SaRestartTest, SelectIsNotRestarted) {
  Pipe p = MakePipe();
  fd_set rfds;
  FD_ZERO(&rfds);
  FD_SET(p.r.get(), &rfds);
  struct timeval tv = {5, 0};
  EXPECT_THAT(select(p.r.get() + 1, &rfds, nullptr, nullptr, &tv),
              SyscallFailsWithErrno(EINTR));
  EXPECT_EQ(restart_alarms, 1);
}

}  // namespace
}  // namespace sentry::testing
