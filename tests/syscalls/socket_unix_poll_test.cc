// Readiness of AF_UNIX stream sockets under poll(2) and epoll(7), and
// blocking calls woken from another thread, from unix(7), poll(2), epoll(7),
// accept(2) and recv(2).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/socket_util.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

using Pair = SocketPair;

Pair MakePair(int flags = 0) { return MakeSocketPair(SOCK_STREAM | flags); }

// A listening socket on a fresh abstract name (nothing to clean up), and
// that name.
struct Listener {
  UnixAddr addr;
  FileDescriptor fd;
};

Listener Listen() {
  Listener l;
  l.addr = AbstractAddr(UniqueAbstractName("sentry_poll_test"));
  l.fd.reset(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(l.fd.get(), SyscallSucceeds());
  EXPECT_THAT(bind(l.fd.get(), l.addr.get(), l.addr.len), SyscallSucceeds());
  EXPECT_THAT(listen(l.fd.get(), 8), SyscallSucceeds());
  return l;
}

FileDescriptor Connect(const Listener& l) {
  FileDescriptor fd(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(connect(fd.get(), l.addr.get(), l.addr.len), SyscallSucceeds());
  return fd;
}

constexpr short kAll = POLLIN | POLLOUT | POLLRDHUP | POLLPRI;

// --- poll(2) -----------------------------------------------------------------

TEST(UnixPollTest, ConnectedPairIsWritableNotReadable) {
  Pair p = MakePair();
  EXPECT_EQ(PollEvents(p.a.get(), kAll), POLLOUT);
}

TEST(UnixPollTest, DataMakesPeerReadable) {
  Pair p = MakePair();
  ASSERT_THAT(write(p.a.get(), "x", 1), SyscallSucceeds());
  EXPECT_EQ(PollEvents(p.b.get(), kAll), POLLIN | POLLOUT);
  // Only the receiving side.
  EXPECT_EQ(PollEvents(p.a.get(), kAll), POLLOUT);
  char c;
  ASSERT_THAT(read(p.b.get(), &c, 1), SyscallSucceeds());
  EXPECT_EQ(PollEvents(p.b.get(), kAll), POLLOUT);
}

TEST(UnixPollTest, ListenerReadableWhenConnectionPending) {
  Listener l = Listen();
  // A listener is never writable, and readable only with a connection
  // waiting to be accepted.
  EXPECT_EQ(PollEvents(l.fd.get(), kAll), 0);
  FileDescriptor c = Connect(l);
  EXPECT_EQ(PollEvents(l.fd.get(), kAll), POLLIN);
  FileDescriptor s(accept(l.fd.get(), nullptr, nullptr));
  ASSERT_THAT(s.get(), SyscallSucceeds());
  EXPECT_EQ(PollEvents(l.fd.get(), kAll), 0);
}

TEST(UnixPollTest, UnconnectedStreamSocketPollsHup) {
  // Linux reports POLLHUP for a stream socket that is not connected, plus
  // POLLOUT (its send buffer is empty).
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_EQ(PollEvents(s.get(), kAll), POLLOUT | POLLHUP);
}

TEST(UnixPollTest, PeerCloseGivesHupRdhupAndIn) {
  Pair p = MakePair();
  p.a.reset();
  // Readable (read returns 0), hung up in both directions; still "writable"
  // in that a write does not block (it fails EPIPE).
  EXPECT_EQ(PollEvents(p.b.get(), kAll),
            POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
  // POLLHUP is reported even when not requested.
  EXPECT_EQ(PollEvents(p.b.get(), 0), POLLHUP);
}

TEST(UnixPollTest, PeerShutdownWrGivesRdhupWithoutHup) {
  Pair p = MakePair();
  ASSERT_THAT(shutdown(p.a.get(), SHUT_WR), SyscallSucceeds());
  EXPECT_EQ(PollEvents(p.b.get(), kAll), POLLIN | POLLOUT | POLLRDHUP);
  // The side that shut down sees nothing new.
  EXPECT_EQ(PollEvents(p.a.get(), kAll), POLLOUT);
}

TEST(UnixPollTest, OwnShutdownRdGivesRdhup) {
  Pair p = MakePair();
  ASSERT_THAT(shutdown(p.a.get(), SHUT_RD), SyscallSucceeds());
  EXPECT_EQ(PollEvents(p.a.get(), kAll), POLLIN | POLLOUT | POLLRDHUP);
}

TEST(UnixPollTest, HupAfterBothDirectionsShutDown) {
  Pair p = MakePair();
  ASSERT_THAT(shutdown(p.a.get(), SHUT_WR), SyscallSucceeds());
  EXPECT_FALSE(PollEvents(p.b.get(), kAll) & POLLHUP);
  ASSERT_THAT(shutdown(p.b.get(), SHUT_WR), SyscallSucceeds());
  // Each side has now lost both directions.
  EXPECT_TRUE(PollEvents(p.a.get(), kAll) & POLLHUP);
  EXPECT_TRUE(PollEvents(p.b.get(), kAll) & POLLHUP);
  // The same through one shutdown(SHUT_RDWR).
  Pair q = MakePair();
  ASSERT_THAT(shutdown(q.a.get(), SHUT_RDWR), SyscallSucceeds());
  EXPECT_TRUE(PollEvents(q.a.get(), kAll) & POLLHUP);
  EXPECT_TRUE(PollEvents(q.b.get(), kAll) & POLLHUP);
}

TEST(UnixPollTest, FullSendBufferIsNotWritable) {
  Pair p = MakePair(SOCK_NONBLOCK);
  std::vector<char> chunk(65536, 'f');
  size_t total = 0;
  for (;;) {
    ssize_t n = write(p.a.get(), chunk.data(), chunk.size());
    if (n < 0) {
      ASSERT_EQ(errno, EAGAIN);
      break;
    }
    total += n;
    ASSERT_LT(total, 256u << 20) << "send buffer never filled";
  }
  EXPECT_EQ(PollEvents(p.a.get(), POLLOUT), 0);
  // Draining the peer makes it writable again.
  size_t drained = 0;
  while (drained < total) {
    ssize_t n = read(p.b.get(), chunk.data(), chunk.size());
    ASSERT_THAT(n, SyscallSucceeds());
    drained += n;
  }
  EXPECT_EQ(PollEvents(p.a.get(), POLLOUT), POLLOUT);
}

TEST(UnixPollTest, PollWokenByWriterThread) {
  Pair p = MakePair();
  std::thread writer([&] {
    usleep(20 * 1000);
    EXPECT_THAT(write(p.a.get(), "w", 1), SyscallSucceeds());
  });
  EXPECT_EQ(PollEvents(p.b.get(), POLLIN, 10000), POLLIN);
  writer.join();
}

TEST(UnixPollTest, SelectSeesReadableAndWritable) {
  Pair p = MakePair();
  ASSERT_THAT(write(p.a.get(), "s", 1), SyscallSucceeds());
  fd_set rd, wr;
  FD_ZERO(&rd);
  FD_ZERO(&wr);
  FD_SET(p.a.get(), &rd);
  FD_SET(p.b.get(), &rd);
  FD_SET(p.a.get(), &wr);
  struct timeval tv = {0, 0};
  int nfds = std::max(p.a.get(), p.b.get()) + 1;
  ASSERT_THAT(select(nfds, &rd, &wr, nullptr, &tv),
              SyscallSucceedsWithValue(2));
  EXPECT_FALSE(FD_ISSET(p.a.get(), &rd));
  EXPECT_TRUE(FD_ISSET(p.b.get(), &rd));
  EXPECT_TRUE(FD_ISSET(p.a.get(), &wr));
}

TEST(UnixPollTest, OAsyncRaisesSigioOnData) {
  // fcntl(2): with O_ASYNC and an owner, input on the socket raises SIGIO.
  Pair p = MakePair();
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGIO);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, &old), SyscallSucceeds());
  ASSERT_THAT(fcntl(p.b.get(), F_SETOWN, getpid()), SyscallSucceeds());
  ASSERT_THAT(fcntl(p.b.get(), F_SETFL, O_ASYNC), SyscallSucceeds());
  ASSERT_THAT(write(p.a.get(), "x", 1), SyscallSucceeds());
  struct timespec timeout = {2, 0};
  EXPECT_THAT(sigtimedwait(&set, nullptr, &timeout),
              SyscallSucceedsWithValue(SIGIO));
  ASSERT_THAT(sigprocmask(SIG_SETMASK, &old, nullptr), SyscallSucceeds());
}

// --- epoll(7) ----------------------------------------------------------------

class UnixEpollTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ep_.reset(epoll_create1(EPOLL_CLOEXEC));
    ASSERT_THAT(ep_.get(), SyscallSucceeds());
  }
  int Add(int fd, uint32_t events) {
    struct epoll_event ev = {};
    ev.events = events;
    ev.data.fd = fd;
    return epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev);
  }
  // Events of the one ready descriptor, 0 if none is ready.
  uint32_t Wait(int timeout_ms = 0) {
    struct epoll_event ev = {};
    int n = epoll_wait(ep_.get(), &ev, 1, timeout_ms);
    EXPECT_THAT(n, SyscallSucceeds());
    return n == 1 ? ev.events : 0;
  }
  FileDescriptor ep_;
};

TEST_F(UnixEpollTest, ListenerReportsPendingConnection) {
  Listener l = Listen();
  ASSERT_THAT(Add(l.fd.get(), EPOLLIN), SyscallSucceeds());
  EXPECT_EQ(Wait(), 0u);
  FileDescriptor c = Connect(l);
  EXPECT_EQ(Wait(), static_cast<uint32_t>(EPOLLIN));
}

TEST_F(UnixEpollTest, RdhupOnPeerShutdown) {
  Pair p = MakePair();
  ASSERT_THAT(Add(p.b.get(), EPOLLIN | EPOLLRDHUP), SyscallSucceeds());
  EXPECT_EQ(Wait(), 0u);
  ASSERT_THAT(shutdown(p.a.get(), SHUT_WR), SyscallSucceeds());
  EXPECT_EQ(Wait(), static_cast<uint32_t>(EPOLLIN | EPOLLRDHUP));
}

TEST_F(UnixEpollTest, HupOnPeerClose) {
  Pair p = MakePair();
  ASSERT_THAT(Add(p.b.get(), EPOLLIN | EPOLLRDHUP), SyscallSucceeds());
  p.a.reset();
  EXPECT_EQ(Wait(), static_cast<uint32_t>(EPOLLIN | EPOLLRDHUP | EPOLLHUP));
}

TEST_F(UnixEpollTest, WaitWokenByPeerCloseOnAnotherThread) {
  Pair p = MakePair();
  ASSERT_THAT(Add(p.b.get(), EPOLLIN), SyscallSucceeds());
  std::thread closer([&] {
    usleep(20 * 1000);
    p.a.reset();
  });
  uint32_t ev = Wait(10000);
  closer.join();
  EXPECT_TRUE(ev & EPOLLHUP) << ev;
  EXPECT_TRUE(ev & EPOLLIN) << ev;
}

TEST_F(UnixEpollTest, EdgeTriggeredWakesOncePerWrite) {
  // A writer thread sends a byte, then waits for the main thread to ack it
  // over a second pair before sending the next. Each write is a new edge,
  // even though the main thread reads until EAGAIN every time.
  Pair data = MakePair(SOCK_NONBLOCK);
  Pair ack = MakePair();
  ASSERT_THAT(Add(data.b.get(), EPOLLIN | EPOLLET), SyscallSucceeds());
  constexpr int kRounds = 20;
  std::thread writer([&] {
    for (int i = 0; i < kRounds; i++) {
      char c = static_cast<char>('a' + i);
      ASSERT_THAT(write(data.a.get(), &c, 1), SyscallSucceeds());
      char k;
      ASSERT_THAT(read(ack.a.get(), &k, 1), SyscallSucceedsWithValue(1));
    }
  });
  // No ASSERTs until the join: on failure, closing ack.b lets the writer
  // out of its read.
  std::string got;
  for (int i = 0; i < kRounds; i++) {
    uint32_t ev = Wait(10000);
    if (ev != EPOLLIN) {
      ADD_FAILURE() << "round " << i << ": events " << ev;
      break;
    }
    char buf[8];
    ssize_t n;
    while ((n = read(data.b.get(), buf, sizeof(buf))) > 0) got.append(buf, n);
    EXPECT_EQ(errno, EAGAIN);
    // Drained and no new write yet: no further event.
    EXPECT_EQ(Wait(), 0u);
    if (write(ack.b.get(), "k", 1) != 1) {
      ADD_FAILURE() << "ack: " << strerror(errno);
      break;
    }
  }
  ack.b.reset();
  writer.join();
  EXPECT_EQ(got.size(), static_cast<size_t>(kRounds));
}

TEST_F(UnixEpollTest, EdgeTriggeredWritableAfterDrain) {
  Pair p = MakePair(SOCK_NONBLOCK);
  ASSERT_THAT(Add(p.a.get(), EPOLLOUT | EPOLLET), SyscallSucceeds());
  EXPECT_EQ(Wait(), static_cast<uint32_t>(EPOLLOUT));
  EXPECT_EQ(Wait(), 0u);
  // Fill the buffer, then drain it: writability comes back as a new edge.
  std::vector<char> chunk(65536, 'e');
  while (write(p.a.get(), chunk.data(), chunk.size()) > 0) {
  }
  ASSERT_EQ(errno, EAGAIN);
  EXPECT_EQ(Wait(), 0u);
  while (read(p.b.get(), chunk.data(), chunk.size()) > 0) {
  }
  EXPECT_EQ(Wait(1000), static_cast<uint32_t>(EPOLLOUT));
}

// --- blocking calls woken by another thread ----------------------------------

TEST(UnixBlockingTest, RecvWokenByWriterThread) {
  Pair p = MakePair();
  std::thread writer([&] {
    // Let the main thread block in recv first.
    usleep(20 * 1000);
    EXPECT_THAT(write(p.a.get(), "wake", 4), SyscallSucceeds());
  });
  char buf[8];
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(4));
  writer.join();
}

TEST(UnixBlockingTest, RecvWokenByPeerClose) {
  Pair p = MakePair();
  std::thread closer([&] {
    usleep(20 * 1000);
    p.a.reset();
  });
  char c;
  EXPECT_THAT(recv(p.b.get(), &c, 1, 0), SyscallSucceedsWithValue(0));
  closer.join();
}

TEST(UnixBlockingTest, AcceptWokenByConnectFromAnotherThread) {
  Listener l = Listen();
  std::thread connector([&] {
    usleep(20 * 1000);
    FileDescriptor c = Connect(l);
    EXPECT_THAT(write(c.get(), "hello", 5), SyscallSucceeds());
  });
  FileDescriptor s(accept(l.fd.get(), nullptr, nullptr));
  connector.join();
  ASSERT_THAT(s.get(), SyscallSucceeds());
  char buf[8];
  // The connector closed its end after writing: data, then end of file.
  EXPECT_THAT(read(s.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(5));
  EXPECT_THAT(read(s.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
}

// The two cases below run in a child with a short timeout: an accept() that
// is never woken would otherwise hang the whole binary.

TEST(UnixBlockingTest, ForkAcceptOnShutDownListenerFailsEinval) {
  // Linux: after shutdown(2) of a listening socket, a blocking accept()
  // fails EINVAL at once (it does not wait), the listener polls readable
  // and hung up, and connections are refused.
  int status = ForkAndWait(
      [] {
        Listener l = Listen();
        CHILD_EXPECT(shutdown(l.fd.get(), SHUT_RDWR) == 0);
        CHILD_EXPECT(accept(l.fd.get(), nullptr, nullptr) == -1 &&
                     errno == EINVAL);
        struct pollfd pfd = {l.fd.get(), POLLIN | POLLOUT, 0};
        CHILD_EXPECT(poll(&pfd, 1, 0) == 1);
        CHILD_EXPECT(pfd.revents == (POLLIN | POLLHUP));
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        CHILD_EXPECT(connect(c, l.addr.get(), l.addr.len) == -1 &&
                     errno == ECONNREFUSED);
        return 0;
      },
      5);
  EXPECT_THAT(status, ExitedWithCode(0));
}

TEST(UnixBlockingTest, ForkShutdownOfListenerWakesAccept) {
  int status = ForkAndWait(
      [] {
        Listener l = Listen();
        std::atomic<int> err{0};
        std::thread acceptor([&] {
          int fd = accept(l.fd.get(), nullptr, nullptr);
          err = fd < 0 ? errno : 0;
        });
        // Let the thread block in accept() first.
        usleep(20 * 1000);
        CHILD_EXPECT(shutdown(l.fd.get(), SHUT_RDWR) == 0);
        acceptor.join();
        CHILD_EXPECT(err == EINVAL);
        return 0;
      },
      5);
  EXPECT_THAT(status, ExitedWithCode(0));
}

std::atomic<int> g_usr1_count{0};
void CountUsr1(int) { g_usr1_count++; }

// Installs a SIGUSR1 handler with `flags` for its lifetime.
class ScopedUsr1Handler {
 public:
  explicit ScopedUsr1Handler(int flags) {
    struct sigaction sa = {};
    sa.sa_handler = CountUsr1;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    EXPECT_THAT(sigaction(SIGUSR1, &sa, &old_), SyscallSucceeds());
  }
  ~ScopedUsr1Handler() { sigaction(SIGUSR1, &old_, nullptr); }

 private:
  struct sigaction old_;
};

TEST(UnixBlockingTest, SignalInterruptsBlockedAccept) {
  // signal(7): without SA_RESTART, a handler interrupts a blocked
  // accept() with EINTR.
  ScopedUsr1Handler handler(0);
  Listener l = Listen();
  std::atomic<bool> done{false};
  std::atomic<int> result{0}, err{0};
  std::thread acceptor([&] {
    int fd = accept(l.fd.get(), nullptr, nullptr);
    err = errno;
    result = fd;
    if (fd >= 0) close(fd);
    done = true;
  });
  // Signal until it is out: a signal that arrives before accept() blocks
  // would just run the handler.
  for (int i = 0; i < 500 && !done; i++) {
    pthread_kill(acceptor.native_handle(), SIGUSR1);
    usleep(10 * 1000);
  }
  // Never interrupted: a connection lets accept() return so the test can
  // fail instead of hanging.
  FileDescriptor unblock;
  if (!done) unblock = Connect(l);
  acceptor.join();
  EXPECT_EQ(result, -1);
  EXPECT_EQ(err, EINTR);
}

TEST(UnixBlockingTest, SaRestartRestartsBlockedRecv) {
  // With SA_RESTART the handler runs and recv() keeps waiting.
  ScopedUsr1Handler handler(SA_RESTART);
  Pair p = MakePair();
  std::atomic<ssize_t> result{0};
  std::thread reader([&] {
    char c;
    result = recv(p.b.get(), &c, 1, 0);
  });
  const int before = g_usr1_count;
  // Deliver a few signals; at least the later ones find recv() blocked.
  for (int i = 0; i < 5; i++) {
    usleep(10 * 1000);
    pthread_kill(reader.native_handle(), SIGUSR1);
  }
  usleep(10 * 1000);
  EXPECT_EQ(result, 0) << "recv returned early";
  EXPECT_THAT(write(p.a.get(), "r", 1), SyscallSucceeds());
  p.a.reset();  // so that the reader returns even if the write failed
  reader.join();
  EXPECT_EQ(result, 1);
  EXPECT_GT(g_usr1_count, before);
}

TEST(UnixBlockingTest, SendBlocksUntilPeerReads) {
  Pair p = MakePair();
  // Fill the buffer without blocking, then block in a plain send.
  std::vector<char> chunk(65536, 's');
  size_t queued = 0;
  for (;;) {
    ssize_t n = send(p.a.get(), chunk.data(), chunk.size(), MSG_DONTWAIT);
    if (n < 0) {
      ASSERT_EQ(errno, EAGAIN);
      break;
    }
    queued += n;
  }
  std::atomic<bool> sent{false};
  std::thread sender([&] {
    EXPECT_THAT(send(p.a.get(), "!", 1, MSG_NOSIGNAL),
                SyscallSucceedsWithValue(1));
    sent = true;
  });
  usleep(20 * 1000);
  EXPECT_FALSE(sent);
  // Read everything, including the byte from the blocked send.
  size_t got = 0;
  while (got <= queued) {
    ssize_t n = read(p.b.get(), chunk.data(), chunk.size());
    if (n <= 0) {
      ADD_FAILURE() << "read returned " << n << ": " << strerror(errno);
      break;
    }
    got += n;
  }
  // Should the loop have stopped early, this fails the blocked send.
  p.b.reset();
  sender.join();
  EXPECT_TRUE(sent);
  EXPECT_EQ(got, queued + 1);
}

}  // namespace
}  // namespace sentry::testing
