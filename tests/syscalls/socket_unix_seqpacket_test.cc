// AF_UNIX SOCK_SEQPACKET sockets, from unix(7), socket(2), listen(2),
// accept4(2), send(2)/recv(2)/recvmsg(2), shutdown(2) and poll(2): a
// connection like SOCK_STREAM that keeps message boundaries like
// SOCK_DGRAM.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
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

Pair MakePair(int flags = 0) { return MakeSocketPair(SOCK_SEQPACKET | flags); }

// An abstract address, unique to this process: a NUL byte then a name.
UnixAddr UniqueAbstractAddr() {
  return AbstractAddr(UniqueAbstractName("sentry_seqpacket_test"));
}

FileDescriptor ListenOn(const UnixAddr& addr, int type = SOCK_SEQPACKET) {
  FileDescriptor fd(socket(AF_UNIX, type, 0));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(bind(fd.get(), addr.get(), addr.len), SyscallSucceeds());
  EXPECT_THAT(listen(fd.get(), 8), SyscallSucceeds());
  return fd;
}

FileDescriptor ConnectTo(const UnixAddr& addr) {
  FileDescriptor fd(socket(AF_UNIX, SOCK_SEQPACKET, 0));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(connect(fd.get(), addr.get(), addr.len), SyscallSucceeds());
  return fd;
}

TEST(UnixSeqpacketTest, MessageBoundariesArePreserved) {
  Pair p = MakePair();
  ASSERT_THAT(send(p.a.get(), "abc", 3, 0), SyscallSucceedsWithValue(3));
  ASSERT_THAT(send(p.a.get(), "defgh", 5, 0), SyscallSucceedsWithValue(5));
  char buf[64];
  // Unlike SOCK_STREAM, one read never returns two messages.
  ASSERT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "abc");
  ASSERT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(5));
  EXPECT_EQ(std::string(buf, 5), "defgh");
}

TEST(UnixSeqpacketTest, TruncationSetsMsgTruncAndDiscardsRest) {
  Pair p = MakePair();
  ASSERT_THAT(send(p.a.get(), "0123456789", 10, 0), SyscallSucceeds());
  ASSERT_THAT(send(p.a.get(), "next", 4, 0), SyscallSucceeds());
  char buf[16];
  struct iovec iov = {buf, 4};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ASSERT_THAT(recvmsg(p.b.get(), &msg, 0), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "0123");
  EXPECT_TRUE(msg.msg_flags & MSG_TRUNC);
  // The remainder is discarded, not delivered by the next read.
  iov.iov_len = sizeof(buf);
  msg.msg_flags = 0;
  ASSERT_THAT(recvmsg(p.b.get(), &msg, 0), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "next");
  EXPECT_FALSE(msg.msg_flags & MSG_TRUNC);
}

TEST(UnixSeqpacketTest, RecvMsgTruncFlagReturnsRealLength) {
  Pair p = MakePair();
  ASSERT_THAT(send(p.a.get(), "0123456789", 10, 0), SyscallSucceeds());
  char buf[4];
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), MSG_TRUNC),
              SyscallSucceedsWithValue(10));
}

TEST(UnixSeqpacketTest, MsgPeekLeavesMessage) {
  Pair p = MakePair();
  ASSERT_THAT(send(p.a.get(), "first", 5, 0), SyscallSucceeds());
  ASSERT_THAT(send(p.a.get(), "second", 6, 0), SyscallSucceeds());
  char buf[16];
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), MSG_PEEK),
              SyscallSucceedsWithValue(5));
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(5));
  EXPECT_EQ(std::string(buf, 5), "first");
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(6));
}

TEST(UnixSeqpacketTest, LargeMessageArrivesWhole) {
  Pair p = MakePair();
  std::string msg(60000, '\0');
  for (size_t i = 0; i < msg.size(); i++) msg[i] = static_cast<char>(i % 253);
  ASSERT_THAT(send(p.a.get(), msg.data(), msg.size(), 0),
              SyscallSucceedsWithValue(msg.size()));
  std::vector<char> buf(msg.size() * 2);
  ASSERT_THAT(recv(p.b.get(), buf.data(), buf.size(), 0),
              SyscallSucceedsWithValue(msg.size()));
  EXPECT_EQ(std::string(buf.data(), msg.size()), msg);
}

TEST(UnixSeqpacketTest, FionreadCountsAllQueuedBytes) {
  // Linux counts every queued byte for SOCK_SEQPACKET, as for SOCK_STREAM
  // (SOCK_DGRAM reports only the next datagram).
  Pair p = MakePair();
  ASSERT_THAT(send(p.a.get(), "abc", 3, 0), SyscallSucceeds());
  ASSERT_THAT(send(p.a.get(), "defgh", 5, 0), SyscallSucceeds());
  int n = -1;
  ASSERT_THAT(ioctl(p.b.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 8);
}

TEST(UnixSeqpacketTest, NonblockingReadOnEmptyFailsEagain) {
  Pair p = MakePair(SOCK_NONBLOCK);
  char c;
  EXPECT_THAT(read(p.b.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
  Pair q = MakePair();
  EXPECT_THAT(recv(q.b.get(), &c, 1, MSG_DONTWAIT),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixSeqpacketTest, ListenConnectAccept) {
  TempPath dir = SocketDir();
  UnixAddr addr = PathAddr(dir.Child("s"));
  FileDescriptor l = ListenOn(addr);
  FileDescriptor c = ConnectTo(addr);
  FileDescriptor s(accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_THAT(s.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(s.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  ASSERT_THAT(send(c.get(), "m1", 2, 0), SyscallSucceeds());
  ASSERT_THAT(send(c.get(), "m2", 2, 0), SyscallSucceeds());
  char buf[8];
  EXPECT_THAT(recv(s.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(2));
  EXPECT_THAT(recv(s.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(2));
  ASSERT_THAT(send(s.get(), "reply", 5, 0), SyscallSucceeds());
  EXPECT_THAT(recv(c.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(5));
  int type = -1;
  socklen_t len = sizeof(type);
  ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_TYPE, &type, &len),
              SyscallSucceeds());
  EXPECT_EQ(type, SOCK_SEQPACKET);
}

TEST(UnixSeqpacketTest, ListenOnAbstractName) {
  UnixAddr addr = UniqueAbstractAddr();
  FileDescriptor l = ListenOn(addr);
  FileDescriptor c = ConnectTo(addr);
  FileDescriptor s(accept(l.get(), nullptr, nullptr));
  ASSERT_THAT(s.get(), SyscallSucceeds());
  ASSERT_THAT(send(c.get(), "x", 1, 0), SyscallSucceeds());
  char ch;
  EXPECT_THAT(recv(s.get(), &ch, 1, 0), SyscallSucceedsWithValue(1));
}

TEST(UnixSeqpacketTest, ConnectToStreamListenerFailsEprototype) {
  TempPath dir = SocketDir();
  UnixAddr addr = PathAddr(dir.Child("s"));
  FileDescriptor l = ListenOn(addr, SOCK_STREAM);
  FileDescriptor c(socket(AF_UNIX, SOCK_SEQPACKET, 0));
  EXPECT_THAT(connect(c.get(), addr.get(), addr.len),
              SyscallFailsWithErrno(EPROTOTYPE));
}

TEST(UnixSeqpacketTest, AbstractNamespaceIsPerSocketType) {
  // Linux keeps abstract names per socket type: a stream and a seqpacket
  // socket may both bind the same name, and connect() finds the one of its
  // own type.
  UnixAddr addr = UniqueAbstractAddr();
  FileDescriptor stream = ListenOn(addr, SOCK_STREAM);
  FileDescriptor seq = ListenOn(addr, SOCK_SEQPACKET);
  FileDescriptor c = ConnectTo(addr);
  FileDescriptor s(accept4(seq.get(), nullptr, nullptr, SOCK_NONBLOCK));
  EXPECT_THAT(s.get(), SyscallSucceeds());
}

TEST(UnixSeqpacketTest, ConnectWithoutListenerFailsEconnrefused) {
  TempPath dir = SocketDir();
  UnixAddr addr = PathAddr(dir.Child("s"));
  FileDescriptor b(socket(AF_UNIX, SOCK_SEQPACKET, 0));
  ASSERT_THAT(bind(b.get(), addr.get(), addr.len), SyscallSucceeds());
  FileDescriptor c(socket(AF_UNIX, SOCK_SEQPACKET, 0));
  EXPECT_THAT(connect(c.get(), addr.get(), addr.len),
              SyscallFailsWithErrno(ECONNREFUSED));
}

TEST(UnixSeqpacketTest, UnconnectedSendFailsEnotconn) {
  FileDescriptor s(socket(AF_UNIX, SOCK_SEQPACKET, 0));
  EXPECT_THAT(send(s.get(), "x", 1, MSG_NOSIGNAL),
              SyscallFailsWithErrno(ENOTCONN));
}

TEST(UnixSeqpacketTest, ConnectedSendtoIgnoresAddress) {
  // Linux drops the address of a send on a connected SOCK_SEQPACKET socket
  // (SOCK_STREAM would fail EISCONN): the message goes to the peer.
  Pair p = MakePair();
  UnixAddr elsewhere = UniqueAbstractAddr();
  FileDescriptor other(socket(AF_UNIX, SOCK_DGRAM, 0));
  ASSERT_THAT(bind(other.get(), elsewhere.get(), elsewhere.len),
              SyscallSucceeds());
  ASSERT_THAT(sendto(p.a.get(), "x", 1, 0, elsewhere.get(), elsewhere.len),
              SyscallSucceedsWithValue(1));
  char c;
  EXPECT_THAT(recv(p.b.get(), &c, 1, MSG_DONTWAIT),
              SyscallSucceedsWithValue(1));
  EXPECT_THAT(recv(other.get(), &c, 1, MSG_DONTWAIT),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixSeqpacketTest, EofAfterPeerClose) {
  Pair p = MakePair();
  ASSERT_THAT(send(p.a.get(), "last", 4, 0), SyscallSucceeds());
  p.a.reset();
  char buf[8];
  // Queued messages first, then 0 for end of file, repeatedly.
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(4));
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(0));
}

TEST(UnixSeqpacketTest, ShutdownWrGivesPeerEof) {
  Pair p = MakePair();
  ASSERT_THAT(shutdown(p.a.get(), SHUT_WR), SyscallSucceeds());
  char buf[8];
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(send(p.a.get(), "x", 1, MSG_NOSIGNAL),
              SyscallFailsWithErrno(EPIPE));
  // The other direction is still open.
  ASSERT_THAT(send(p.b.get(), "back", 4, 0), SyscallSucceeds());
  EXPECT_THAT(recv(p.a.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(4));
}

TEST(UnixSeqpacketTest, SendAfterPeerCloseFailsEpipe) {
  Pair p = MakePair();
  p.b.reset();
  EXPECT_THAT(send(p.a.get(), "x", 1, MSG_NOSIGNAL),
              SyscallFailsWithErrno(EPIPE));
}

TEST(UnixSeqpacketTest, ForkSendAfterPeerCloseRaisesNoSigpipe) {
  // Unlike SOCK_STREAM, Linux sends SOCK_SEQPACKET through the datagram
  // path, which fails with EPIPE but raises no SIGPIPE.
  Pair p = MakePair();
  p.b.reset();
  int status = ForkAndWait([&] {
    signal(SIGPIPE, SIG_DFL);
    CHILD_EXPECT(send(p.a.get(), "x", 1, 0) == -1 && errno == EPIPE);
    return 0;
  });
  EXPECT_THAT(status, ExitedWithCode(0));
}

TEST(UnixSeqpacketTest, PollReadiness) {
  Pair p = MakePair();
  EXPECT_EQ(PollEvents(p.b.get(), POLLIN | POLLOUT | POLLRDHUP), POLLOUT);
  ASSERT_THAT(send(p.a.get(), "x", 1, 0), SyscallSucceeds());
  EXPECT_EQ(PollEvents(p.b.get(), POLLIN | POLLOUT | POLLRDHUP),
            POLLIN | POLLOUT);
}

TEST(UnixSeqpacketTest, PollHupAndRdhupAfterPeerClose) {
  Pair p = MakePair();
  p.a.reset();
  short ev = PollEvents(p.b.get(), POLLIN | POLLRDHUP);
  EXPECT_TRUE(ev & POLLIN) << ev;
  EXPECT_TRUE(ev & POLLRDHUP) << ev;
  EXPECT_TRUE(ev & POLLHUP) << ev;
  // POLLHUP is reported even when not requested.
  EXPECT_TRUE(PollEvents(p.b.get(), 0) & POLLHUP);
}

TEST(UnixSeqpacketTest, PeerShutdownWrGivesRdhupWithoutHup) {
  Pair p = MakePair();
  ASSERT_THAT(shutdown(p.a.get(), SHUT_WR), SyscallSucceeds());
  short ev = PollEvents(p.b.get(), POLLIN | POLLOUT | POLLRDHUP);
  EXPECT_EQ(ev, POLLIN | POLLOUT | POLLRDHUP);
}

TEST(UnixSeqpacketTest, PollWokenByPeerCloseOnAnotherThread) {
  Pair p = MakePair();
  std::thread closer([&] {
    usleep(20 * 1000);
    p.a.reset();
  });
  short ev = PollEvents(p.b.get(), POLLIN, 10000);
  closer.join();
  EXPECT_TRUE(ev & POLLHUP) << ev;
  EXPECT_TRUE(ev & POLLIN) << ev;
}

TEST(UnixSeqpacketTest, ListenerPollsReadableWithPendingConnection) {
  UnixAddr addr = UniqueAbstractAddr();
  FileDescriptor l = ListenOn(addr);
  EXPECT_EQ(PollEvents(l.get(), POLLIN | POLLOUT), 0);
  FileDescriptor c = ConnectTo(addr);
  EXPECT_EQ(PollEvents(l.get(), POLLIN | POLLOUT), POLLIN);
}

TEST(UnixSeqpacketTest, MessagesAcrossFork) {
  Pair p = MakePair();
  int status = ForkAndWait([&] {
    close(p.a.get());
    for (int i = 1; i <= 3; i++) {
      std::string m(i * 100, static_cast<char>('a' + i));
      CHILD_EXPECT(send(p.b.get(), m.data(), m.size(), 0) ==
                   static_cast<ssize_t>(m.size()));
    }
    return 0;
  });
  EXPECT_THAT(status, ExitedWithCode(0));
  p.b.reset();
  char buf[1024];
  for (int i = 1; i <= 3; i++) {
    ASSERT_THAT(recv(p.a.get(), buf, sizeof(buf), 0),
                SyscallSucceedsWithValue(i * 100));
    EXPECT_EQ(buf[0], 'a' + i);
  }
  // Both copies of the other end are closed now.
  EXPECT_THAT(recv(p.a.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(0));
}

}  // namespace
}  // namespace sentry::testing
