// epoll(7): epoll_create1, epoll_ctl and epoll_wait/epoll_pwait, from the
// man pages.
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

class EpollTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ep_.reset(epoll_create1(EPOLL_CLOEXEC));
    ASSERT_THAT(ep_.get(), SyscallSucceeds());
    int p[2];
    ASSERT_THAT(pipe2(p, O_NONBLOCK), SyscallSucceeds());
    r_.reset(p[0]);
    w_.reset(p[1]);
  }
  int Add(int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev = {};
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev);
  }
  int Wait(struct epoll_event* evs, int max, int timeout = 0) {
    return epoll_wait(ep_.get(), evs, max, timeout);
  }
  FileDescriptor ep_, r_, w_;
};

TEST_F(EpollTest, CreateFlags) {
  EXPECT_THAT(fcntl(ep_.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(epoll_create1(0x1234), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_create(0), SyscallFailsWithErrno(EINVAL));
}

TEST_F(EpollTest, NothingReadyTimesOut) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN, 1), SyscallSucceeds());
  struct epoll_event ev;
  EXPECT_THAT(Wait(&ev, 1, 20), SyscallSucceedsWithValue(0));
}

TEST_F(EpollTest, LevelTriggeredReportsRepeatedly) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN, 7), SyscallSucceeds());
  ASSERT_THAT(write(w_.get(), "x", 1), SyscallSucceeds());
  struct epoll_event ev;
  for (int i = 0; i < 2; i++) {
    ASSERT_THAT(Wait(&ev, 1), SyscallSucceedsWithValue(1));
    EXPECT_EQ(ev.events, static_cast<uint32_t>(EPOLLIN));
    EXPECT_EQ(ev.data.u64, 7u);
  }
}

TEST_F(EpollTest, EdgeTriggeredReportsOncePerChange) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN | EPOLLET, 1), SyscallSucceeds());
  ASSERT_THAT(write(w_.get(), "x", 1), SyscallSucceeds());
  struct epoll_event ev;
  EXPECT_THAT(Wait(&ev, 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(Wait(&ev, 1), SyscallSucceedsWithValue(0));
  ASSERT_THAT(write(w_.get(), "y", 1), SyscallSucceeds());
  EXPECT_THAT(Wait(&ev, 1), SyscallSucceedsWithValue(1));
}

TEST_F(EpollTest, OneshotDisablesUntilMod) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN | EPOLLONESHOT, 1), SyscallSucceeds());
  ASSERT_THAT(write(w_.get(), "x", 1), SyscallSucceeds());
  struct epoll_event ev;
  EXPECT_THAT(Wait(&ev, 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(Wait(&ev, 1), SyscallSucceedsWithValue(0));
  struct epoll_event mod = {};
  mod.events = EPOLLIN | EPOLLONESHOT;
  mod.data.u64 = 2;
  ASSERT_THAT(epoll_ctl(ep_.get(), EPOLL_CTL_MOD, r_.get(), &mod),
              SyscallSucceeds());
  ASSERT_THAT(Wait(&ev, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ev.data.u64, 2u);
}

TEST_F(EpollTest, ModChangesEvents) {
  ASSERT_THAT(Add(w_.get(), EPOLLIN, 1), SyscallSucceeds());
  struct epoll_event ev;
  EXPECT_THAT(Wait(&ev, 1), SyscallSucceedsWithValue(0));
  struct epoll_event mod = {};
  mod.events = EPOLLOUT;
  ASSERT_THAT(epoll_ctl(ep_.get(), EPOLL_CTL_MOD, w_.get(), &mod),
              SyscallSucceeds());
  ASSERT_THAT(Wait(&ev, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ev.events, static_cast<uint32_t>(EPOLLOUT));
}

TEST_F(EpollTest, DelStopsReporting) {
  ASSERT_THAT(Add(w_.get(), EPOLLOUT, 1), SyscallSucceeds());
  ASSERT_THAT(epoll_ctl(ep_.get(), EPOLL_CTL_DEL, w_.get(), nullptr),
              SyscallSucceeds());
  struct epoll_event ev;
  EXPECT_THAT(Wait(&ev, 1), SyscallSucceedsWithValue(0));
}

TEST_F(EpollTest, AddTwiceFailsEexist) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN, 1), SyscallSucceeds());
  EXPECT_THAT(Add(r_.get(), EPOLLIN, 1), SyscallFailsWithErrno(EEXIST));
}

TEST_F(EpollTest, ModOrDelUnregisteredFailsEnoent) {
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  EXPECT_THAT(epoll_ctl(ep_.get(), EPOLL_CTL_MOD, r_.get(), &ev),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(epoll_ctl(ep_.get(), EPOLL_CTL_DEL, r_.get(), &ev),
              SyscallFailsWithErrno(ENOENT));
}

TEST_F(EpollTest, RegularFileFailsEperm) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  EXPECT_THAT(Add(fd.get(), EPOLLIN, 1), SyscallFailsWithErrno(EPERM));
}

TEST_F(EpollTest, AddSelfFailsEinval) {
  EXPECT_THAT(Add(ep_.get(), EPOLLIN, 1), SyscallFailsWithErrno(EINVAL));
}

TEST_F(EpollTest, BadFdFailsEbadf) {
  EXPECT_THAT(Add(12345, EPOLLIN, 1), SyscallFailsWithErrno(EBADF));
  struct epoll_event ev;
  EXPECT_THAT(epoll_wait(12345, &ev, 1, 0), SyscallFailsWithErrno(EBADF));
}

TEST_F(EpollTest, WaitOnNonEpollFdFailsEinval) {
  struct epoll_event ev;
  EXPECT_THAT(epoll_wait(r_.get(), &ev, 1, 0), SyscallFailsWithErrno(EINVAL));
}

TEST_F(EpollTest, WaitZeroMaxeventsFailsEinval) {
  struct epoll_event ev;
  EXPECT_THAT(Wait(&ev, 0), SyscallFailsWithErrno(EINVAL));
}

TEST_F(EpollTest, HangupReportedWithoutAsking) {
  ASSERT_THAT(Add(r_.get(), EPOLLIN, 1), SyscallSucceeds());
  w_.reset();
  struct epoll_event ev;
  ASSERT_THAT(Wait(&ev, 1), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(ev.events & EPOLLHUP);
}

TEST_F(EpollTest, ClosingFdRemovesIt) {
  FileDescriptor efd(eventfd(1, 0));
  ASSERT_THAT(Add(efd.get(), EPOLLIN, 1), SyscallSucceeds());
  efd.reset();
  struct epoll_event ev;
  EXPECT_THAT(Wait(&ev, 1), SyscallSucceedsWithValue(0));
}

TEST_F(EpollTest, MultipleReadyAndMaxevents) {
  FileDescriptor a(eventfd(1, 0)), b(eventfd(1, 0)), c(eventfd(1, 0));
  ASSERT_THAT(Add(a.get(), EPOLLIN, 1), SyscallSucceeds());
  ASSERT_THAT(Add(b.get(), EPOLLIN, 2), SyscallSucceeds());
  ASSERT_THAT(Add(c.get(), EPOLLIN, 3), SyscallSucceeds());
  struct epoll_event evs[8];
  EXPECT_THAT(Wait(evs, 8), SyscallSucceedsWithValue(3));
  EXPECT_THAT(Wait(evs, 2), SyscallSucceedsWithValue(2));
}

TEST_F(EpollTest, PwaitWithSigmask) {
  FileDescriptor efd(eventfd(1, 0));
  ASSERT_THAT(Add(efd.get(), EPOLLIN, 9), SyscallSucceeds());
  sigset_t mask;
  sigemptyset(&mask);
  struct epoll_event ev;
  ASSERT_THAT(epoll_pwait(ep_.get(), &ev, 1, 100, &mask),
              SyscallSucceedsWithValue(1));
  EXPECT_EQ(ev.data.u64, 9u);
}

TEST_F(EpollTest, NestedEpollReportsReadiness) {
  FileDescriptor inner(epoll_create1(0));
  FileDescriptor efd(eventfd(1, 0));
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  ASSERT_THAT(epoll_ctl(inner.get(), EPOLL_CTL_ADD, efd.get(), &ev),
              SyscallSucceeds());
  ASSERT_THAT(Add(inner.get(), EPOLLIN, 5), SyscallSucceeds());
  struct epoll_event out;
  ASSERT_THAT(Wait(&out, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(out.data.u64, 5u);
}

}  // namespace
}  // namespace sentry::testing
