// eventfd and epoll against a real Task.
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <cstring>

#include "gtest/gtest.h"
#include "sentry/fs/epoll.h"
#include "sentry/fs/eventfd.h"
#include "sentry/fs/pipe.h"
#include "sentry/fs/test_task.h"
#include "sentry/fs/timerfd.h"

namespace sentry::fs {
namespace {

using SpecialFileTest = TaskTest;

uint64_t ReadCounter(kernel::Task& t, vfs::FileDescription& f) {
  uint8_t buf[8];
  ErrnoOr<size_t> n = f.Read(t, buf);
  if (!n.ok()) return ~uint64_t{0};
  uint64_t v;
  std::memcpy(&v, buf, 8);
  return v;
}

ErrnoOr<size_t> WriteCounter(kernel::Task& t, vfs::FileDescription& f,
                             uint64_t v) {
  uint8_t buf[8];
  std::memcpy(buf, &v, 8);
  return f.Write(t, buf);
}

TEST_F(SpecialFileTest, EventfdCounterAndSemaphore) {
  EventFd e(3, EFD_NONBLOCK);
  EXPECT_EQ(ReadCounter(task(), e), 3u);
  uint8_t buf[8];
  EXPECT_EQ(e.Read(task(), buf).error(), Errno(EAGAIN));
  EXPECT_EQ(WriteCounter(task(), e, ~uint64_t{0}).error(), Errno(EINVAL));
  ASSERT_TRUE(WriteCounter(task(), e, 0xfffffffffffffffe).ok());
  EXPECT_EQ(WriteCounter(task(), e, 1).error(), Errno(EAGAIN));
  EXPECT_EQ(e.Readiness(POLLIN | POLLOUT), uint32_t{POLLIN});

  EventFd sem(2, EFD_SEMAPHORE | EFD_NONBLOCK);
  EXPECT_EQ(ReadCounter(task(), sem), 1u);
  EXPECT_EQ(ReadCounter(task(), sem), 1u);
  EXPECT_EQ(sem.Read(task(), buf).error(), Errno(EAGAIN));
  uint8_t small[4];
  EXPECT_EQ(sem.Read(task(), small).error(), Errno(EINVAL));
}

TEST_F(SpecialFileTest, EpollLevelEdgeOneshot) {
  auto ep = std::make_shared<EpollFile>();
  auto level = std::make_shared<EventFd>(1, EFD_NONBLOCK);
  auto edge = std::make_shared<EventFd>(1, EFD_NONBLOCK);
  auto once = std::make_shared<EventFd>(1, EFD_NONBLOCK);
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.u64 = 1;
  ASSERT_TRUE(ep->Ctl(EPOLL_CTL_ADD, 10, level, ev).ok());
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = 2;
  ASSERT_TRUE(ep->Ctl(EPOLL_CTL_ADD, 11, edge, ev).ok());
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.u64 = 3;
  ASSERT_TRUE(ep->Ctl(EPOLL_CTL_ADD, 12, once, ev).ok());
  EXPECT_EQ(ep->Ctl(EPOLL_CTL_ADD, 12, once, ev).error(), Errno(EEXIST));
  EXPECT_EQ(ep->Ctl(EPOLL_CTL_MOD, 13, once, ev).error(), Errno(ENOENT));

  EXPECT_EQ(ep->Collect(10).size(), 3u);
  // Still ready: level reports again, edge and oneshot do not.
  auto again = ep->Collect(10);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].data.u64, 1u);
  // A new event re-arms the edge-triggered interest.
  ASSERT_TRUE(WriteCounter(task(), *edge, 1).ok());
  auto after = ep->Collect(10);
  EXPECT_EQ(after.size(), 2u);
  // MOD re-enables the oneshot interest.
  ASSERT_TRUE(ep->Ctl(EPOLL_CTL_MOD, 12, once, ev).ok());
  EXPECT_EQ(ep->Collect(10).size(), 2u);
  // Closing the last reference removes the interest.
  level.reset();
  EXPECT_TRUE(ep->Collect(10).empty());
}

TEST_F(SpecialFileTest, EpollRefusesFilesThatCannotWaitAndLoops) {
  auto ep = std::make_shared<EpollFile>();
  auto ep2 = std::make_shared<EpollFile>();
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  // A plain FileDescription has no queue: like a regular file, EPERM.
  auto plain = std::make_shared<vfs::FileDescription>(O_RDONLY);
  EXPECT_EQ(ep->Ctl(EPOLL_CTL_ADD, 3, plain, ev).error(), Errno(EPERM));
  EXPECT_EQ(ep->Ctl(EPOLL_CTL_ADD, 4, ep, ev).error(), Errno(EINVAL));
  ASSERT_TRUE(ep->Ctl(EPOLL_CTL_ADD, 5, ep2, ev).ok());
  EXPECT_EQ(ep2->Ctl(EPOLL_CTL_ADD, 6, ep, ev).error(), Errno(ELOOP));
}

TEST_F(SpecialFileTest, EpollOnPipeWakesWaiter) {
  auto ep = std::make_shared<EpollFile>();
  auto [r, w] = Pipe::Create(0, 0, 0);
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ASSERT_TRUE(ep->Ctl(EPOLL_CTL_ADD, 3, r, ev).ok());
  EXPECT_EQ(ep->Readiness(POLLIN), 0u);
  std::thread writer([&w = w, this] {
    absl::SleepFor(absl::Milliseconds(30));
    uint8_t b = 'x';
    ASSERT_TRUE(w->Write(task(), std::span<const uint8_t>(&b, 1)).ok());
  });
  ErrnoOr<void> waited = task().Wait(
      ep->wait_queue(), POLLIN, [&] { return ep->Readiness(POLLIN) != 0; },
      absl::Now() + absl::Seconds(5));
  writer.join();
  EXPECT_TRUE(waited.ok());
  auto got = ep->Collect(4);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].events, uint32_t{EPOLLIN});
}

TEST_F(SpecialFileTest, TimerfdExpiresAndCounts) {
  TimerFd t(CLOCK_MONOTONIC, 0);
  struct itimerspec its {};
  its.it_value.tv_nsec = 20'000'000;
  its.it_interval.tv_nsec = 10'000'000;
  ASSERT_TRUE(t.Set(0, its).ok());
  EXPECT_TRUE(t.NextReadinessChange().has_value());
  // The blocking read sleeps until the first expiry.
  EXPECT_GE(ReadCounter(task(), t), 1u);
  absl::SleepFor(absl::Milliseconds(35));
  EXPECT_GE(ReadCounter(task(), t), 2u);
  struct itimerspec off {};
  ASSERT_TRUE(t.Set(0, off).ok());
  EXPECT_EQ(t.Get().it_value.tv_sec, 0);
  EXPECT_EQ(t.Get().it_value.tv_nsec, 0);
}

}  // namespace
}  // namespace sentry::fs
