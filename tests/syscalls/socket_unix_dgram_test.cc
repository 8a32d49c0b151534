// AF_UNIX SOCK_DGRAM sockets, from unix(7), socketpair(2), bind(2),
// connect(2), send(2)/sendto(2), recv(2)/recvfrom(2)/recvmsg(2),
// shutdown(2) and poll(2).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
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

Pair MakePair(int type = SOCK_DGRAM) { return MakeSocketPair(type); }

// An abstract address, unique to this process: a NUL byte then a name.
UnixAddr UniqueAbstractAddr() {
  return AbstractAddr(UniqueAbstractName("sentry_dgram_test"));
}

// A SOCK_DGRAM socket bound to `addr`.
FileDescriptor BoundSocket(const UnixAddr& addr, int flags = 0) {
  FileDescriptor fd(socket(AF_UNIX, SOCK_DGRAM | flags, 0));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(bind(fd.get(), addr.get(), addr.len), SyscallSucceeds());
  return fd;
}

// recvmsg into a buffer of `size` bytes; returns the bytes and sets *flags
// to msg_flags.
std::string RecvMsg(int fd, size_t size, int recv_flags, int* msg_flags,
                    ssize_t* ret = nullptr) {
  std::vector<char> buf(size + 1);
  struct iovec iov = {buf.data(), size};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t n = recvmsg(fd, &msg, recv_flags);
  EXPECT_THAT(n, SyscallSucceeds());
  if (ret != nullptr) *ret = n;
  if (msg_flags != nullptr) *msg_flags = msg.msg_flags;
  return n < 0 ? "" : std::string(buf.data(), std::min<size_t>(n, size));
}

// --- boundaries and truncation -----------------------------------------------

TEST(UnixDgramTest, MessageBoundariesArePreserved) {
  Pair p = MakePair();
  ASSERT_THAT(send(p.a.get(), "one", 3, 0), SyscallSucceedsWithValue(3));
  ASSERT_THAT(send(p.a.get(), "three", 5, 0), SyscallSucceedsWithValue(5));
  ASSERT_THAT(send(p.a.get(), "xy", 2, 0), SyscallSucceedsWithValue(2));
  char buf[64];
  ASSERT_THAT(recv(p.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "one");
  ASSERT_THAT(recv(p.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(5));
  EXPECT_EQ(std::string(buf, 5), "three");
  ASSERT_THAT(recv(p.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(buf, 2), "xy");
}

TEST(UnixDgramTest, BothEndsOfAPairSend) {
  Pair p = MakePair();
  ASSERT_THAT(write(p.b.get(), "back", 4), SyscallSucceedsWithValue(4));
  char buf[8];
  ASSERT_THAT(read(p.a.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "back");
}

TEST(UnixDgramTest, WritevMakesOneDatagram) {
  Pair p = MakePair();
  char x[] = "ab", y[] = "cde";
  struct iovec iov[2] = {{x, 2}, {y, 3}};
  ASSERT_THAT(writev(p.a.get(), iov, 2), SyscallSucceedsWithValue(5));
  ASSERT_THAT(send(p.a.get(), "next", 4, 0), SyscallSucceeds());
  // A scatter read of one datagram does not reach into the next one.
  char r1[3], r2[10];
  struct iovec in[2] = {{r1, sizeof(r1)}, {r2, sizeof(r2)}};
  ASSERT_THAT(readv(p.b.get(), in, 2), SyscallSucceedsWithValue(5));
  EXPECT_EQ(std::string(r1, 3) + std::string(r2, 2), "abcde");
}

TEST(UnixDgramTest, TruncationSetsMsgTruncAndDiscardsRest) {
  Pair p = MakePair();
  ASSERT_THAT(send(p.a.get(), "0123456789", 10, 0), SyscallSucceeds());
  ASSERT_THAT(send(p.a.get(), "next", 4, 0), SyscallSucceeds());
  int flags = 0;
  ssize_t n = 0;
  EXPECT_EQ(RecvMsg(p.b.get(), 4, 0, &flags, &n), "0123");
  EXPECT_EQ(n, 4);
  EXPECT_TRUE(flags & MSG_TRUNC);
  // The rest of the first datagram is gone.
  EXPECT_EQ(RecvMsg(p.b.get(), 64, 0, &flags), "next");
  EXPECT_FALSE(flags & MSG_TRUNC);
}

TEST(UnixDgramTest, RecvMsgTruncFlagReturnsRealLength) {
  // recv(2): with MSG_TRUNC in flags, the real length of the datagram is
  // returned even when it was longer than the buffer.
  Pair p = MakePair();
  ASSERT_THAT(send(p.a.get(), "0123456789", 10, 0), SyscallSucceeds());
  char buf[4];
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), MSG_TRUNC),
              SyscallSucceedsWithValue(10));
  EXPECT_EQ(std::string(buf, 4), "0123");
}

TEST(UnixDgramTest, ZeroLengthDatagrams) {
  Pair p = MakePair();
  ASSERT_THAT(send(p.a.get(), "", 0, 0), SyscallSucceedsWithValue(0));
  ASSERT_THAT(send(p.a.get(), "x", 1, 0), SyscallSucceedsWithValue(1));
  // The empty datagram makes the socket readable and is a message of its
  // own.
  EXPECT_EQ(PollEvents(p.b.get(), POLLIN), POLLIN);
  char buf[8];
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(1));
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), MSG_DONTWAIT),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixDgramTest, MsgPeekLeavesDatagram) {
  Pair p = MakePair();
  ASSERT_THAT(send(p.a.get(), "peeked", 6, 0), SyscallSucceeds());
  char buf[16];
  EXPECT_THAT(recv(p.b.get(), buf, 2, MSG_PEEK | MSG_TRUNC),
              SyscallSucceedsWithValue(6));
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), MSG_PEEK),
              SyscallSucceedsWithValue(6));
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(6));
  EXPECT_EQ(std::string(buf, 6), "peeked");
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), MSG_DONTWAIT),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixDgramTest, FionreadIsSizeOfNextDatagram) {
  Pair p = MakePair();
  int n = -1;
  ASSERT_THAT(ioctl(p.b.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 0);
  ASSERT_THAT(send(p.a.get(), "abc", 3, 0), SyscallSucceeds());
  ASSERT_THAT(send(p.a.get(), "defgh", 5, 0), SyscallSucceeds());
  // Linux reports the first datagram's size, not the total queued.
  ASSERT_THAT(ioctl(p.b.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 3);
  char buf[8];
  ASSERT_THAT(recv(p.b.get(), buf, sizeof(buf), 0), SyscallSucceeds());
  ASSERT_THAT(ioctl(p.b.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 5);
}

TEST(UnixDgramTest, MsgDontwaitOnEmptyFailsEagain) {
  Pair p = MakePair();
  char c;
  EXPECT_THAT(recv(p.b.get(), &c, 1, MSG_DONTWAIT),
              SyscallFailsWithErrno(EAGAIN));
  FileDescriptor nb(socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0));
  EXPECT_THAT(recv(nb.get(), &c, 1, 0), SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixDgramTest, OversizedDatagramFailsEmsgsize) {
  Pair p = MakePair();
  // Much larger than any send buffer the kernel allows by default.
  std::vector<char> big(8 << 20, 'b');
  EXPECT_THAT(send(p.a.get(), big.data(), big.size(), 0),
              SyscallFailsWithErrno(EMSGSIZE));
  // Nothing was queued.
  char c;
  EXPECT_THAT(recv(p.b.get(), &c, 1, MSG_DONTWAIT),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixDgramTest, LargeDatagramArrivesWhole) {
  Pair p = MakePair();
  std::string msg(100000, '\0');
  for (size_t i = 0; i < msg.size(); i++) msg[i] = static_cast<char>(i % 251);
  ASSERT_THAT(send(p.a.get(), msg.data(), msg.size(), 0),
              SyscallSucceedsWithValue(msg.size()));
  int flags = 0;
  EXPECT_EQ(RecvMsg(p.b.get(), msg.size() + 10, 0, &flags), msg);
  EXPECT_EQ(flags, 0);
}

TEST(UnixDgramTest, SendmmsgRecvmmsg) {
  Pair p = MakePair();
  char m0[] = "a", m1[] = "bb", m2[] = "ccc";
  struct iovec out[3] = {{m0, 1}, {m1, 2}, {m2, 3}};
  struct mmsghdr msgs[3] = {};
  for (int i = 0; i < 3; i++) {
    msgs[i].msg_hdr.msg_iov = &out[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  ASSERT_THAT(sendmmsg(p.a.get(), msgs, 3, 0), SyscallSucceedsWithValue(3));
  char bufs[4][8];
  struct iovec in[4];
  struct mmsghdr rmsgs[4] = {};
  for (int i = 0; i < 4; i++) {
    in[i] = {bufs[i], sizeof(bufs[i])};
    rmsgs[i].msg_hdr.msg_iov = &in[i];
    rmsgs[i].msg_hdr.msg_iovlen = 1;
  }
  // Three are queued: MSG_DONTWAIT stops after them instead of blocking.
  ASSERT_THAT(recvmmsg(p.b.get(), rmsgs, 4, MSG_DONTWAIT, nullptr),
              SyscallSucceedsWithValue(3));
  for (int i = 0; i < 3; i++) {
    EXPECT_EQ(rmsgs[i].msg_len, static_cast<unsigned>(i + 1));
    EXPECT_EQ(bufs[i][0], 'a' + i);
  }
}

// --- addresses ---------------------------------------------------------------

TEST(UnixDgramTest, SendtoBoundPath) {
  TempPath dir = SocketDir();
  UnixAddr raddr = PathAddr(dir.Child("r"));
  FileDescriptor r = BoundSocket(raddr);
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  ASSERT_THAT(sendto(s.get(), "to path", 7, 0, raddr.get(), raddr.len),
              SyscallSucceedsWithValue(7));
  char buf[16];
  ASSERT_THAT(recv(r.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(7));
  EXPECT_EQ(std::string(buf, 7), "to path");
  struct stat st;
  ASSERT_THAT(stat(dir.Child("r").c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
}

TEST(UnixDgramTest, RecvfromReportsBoundSender) {
  TempPath dir = SocketDir();
  UnixAddr raddr = PathAddr(dir.Child("r")), saddr = PathAddr(dir.Child("s"));
  FileDescriptor r = BoundSocket(raddr);
  FileDescriptor s = BoundSocket(saddr);
  ASSERT_THAT(sendto(s.get(), "x", 1, 0, raddr.get(), raddr.len),
              SyscallSucceeds());
  sockaddr_un from;
  memset(&from, 0, sizeof(from));
  socklen_t fromlen = sizeof(from);
  char c;
  ASSERT_THAT(
      recvfrom(r.get(), &c, 1, 0, reinterpret_cast<sockaddr*>(&from), &fromlen),
      SyscallSucceedsWithValue(1));
  EXPECT_EQ(fromlen, saddr.len);
  EXPECT_EQ(from.sun_family, AF_UNIX);
  EXPECT_EQ(std::string(from.sun_path), dir.Child("s"));
  // The reply goes back to the reported address.
  ASSERT_THAT(
      sendto(r.get(), "y", 1, 0, reinterpret_cast<sockaddr*>(&from), fromlen),
      SyscallSucceeds());
  EXPECT_THAT(recv(s.get(), &c, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, 'y');
}

TEST(UnixDgramTest, RecvfromUnboundSenderHasNoAddress) {
  TempPath dir = SocketDir();
  UnixAddr raddr = PathAddr(dir.Child("r"));
  FileDescriptor r = BoundSocket(raddr);
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  ASSERT_THAT(sendto(s.get(), "x", 1, 0, raddr.get(), raddr.len),
              SyscallSucceeds());
  sockaddr_un from;
  memset(&from, 'z', sizeof(from));
  socklen_t fromlen = sizeof(from);
  char c;
  ASSERT_THAT(
      recvfrom(r.get(), &c, 1, 0, reinterpret_cast<sockaddr*>(&from), &fromlen),
      SyscallSucceedsWithValue(1));
  // Linux returns no address at all for an unnamed sender: addrlen 0.
  EXPECT_EQ(fromlen, 0u);
  // The sender was not autobound by sending.
  sockaddr_un name;
  socklen_t namelen = sizeof(name);
  ASSERT_THAT(
      getsockname(s.get(), reinterpret_cast<sockaddr*>(&name), &namelen),
      SyscallSucceeds());
  EXPECT_EQ(namelen, sizeof(sa_family_t));
}

TEST(UnixDgramTest, RecvfromTruncatesAddressButReportsItsLength) {
  TempPath dir = SocketDir();
  UnixAddr raddr = PathAddr(dir.Child("r")), saddr = PathAddr(dir.Child("s"));
  FileDescriptor r = BoundSocket(raddr);
  FileDescriptor s = BoundSocket(saddr);
  ASSERT_THAT(sendto(s.get(), "x", 1, 0, raddr.get(), raddr.len),
              SyscallSucceeds());
  char from[sizeof(sockaddr_un)];
  memset(from, '#', sizeof(from));
  const socklen_t room = kPathOffset + 3;
  socklen_t fromlen = room;
  char c;
  ASSERT_THAT(
      recvfrom(r.get(), &c, 1, 0, reinterpret_cast<sockaddr*>(from), &fromlen),
      SyscallSucceedsWithValue(1));
  EXPECT_EQ(fromlen, saddr.len);
  EXPECT_EQ(std::string(from + kPathOffset, 3), dir.Child("s").substr(0, 3));
  EXPECT_EQ(from[room], '#');
}

TEST(UnixDgramTest, AbstractAddresses) {
  UnixAddr raddr = UniqueAbstractAddr(), saddr = UniqueAbstractAddr();
  FileDescriptor r = BoundSocket(raddr);
  FileDescriptor s = BoundSocket(saddr);
  ASSERT_THAT(sendto(s.get(), "abs", 3, 0, raddr.get(), raddr.len),
              SyscallSucceeds());
  sockaddr_un from = {};
  socklen_t fromlen = sizeof(from);
  char buf[4];
  ASSERT_THAT(recvfrom(r.get(), buf, sizeof(buf), 0,
                       reinterpret_cast<sockaddr*>(&from), &fromlen),
              SyscallSucceedsWithValue(3));
  ASSERT_EQ(fromlen, saddr.len);
  EXPECT_EQ(memcmp(&from, &saddr.sun, fromlen), 0);
}

TEST(UnixDgramTest, SendtoSelf) {
  UnixAddr addr = UniqueAbstractAddr();
  FileDescriptor s = BoundSocket(addr);
  ASSERT_THAT(sendto(s.get(), "me", 2, 0, addr.get(), addr.len),
              SyscallSucceeds());
  char buf[4];
  EXPECT_THAT(recv(s.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(2));
}

TEST(UnixDgramTest, DatagramsFromSeveralSendersKeepOrder) {
  UnixAddr raddr = UniqueAbstractAddr();
  FileDescriptor r = BoundSocket(raddr);
  FileDescriptor s1(socket(AF_UNIX, SOCK_DGRAM, 0));
  FileDescriptor s2(socket(AF_UNIX, SOCK_DGRAM, 0));
  for (int i = 0; i < 4; i++) {
    int fd = i % 2 ? s2.get() : s1.get();
    char c = static_cast<char>('0' + i);
    ASSERT_THAT(sendto(fd, &c, 1, 0, raddr.get(), raddr.len),
                SyscallSucceeds());
  }
  std::string got;
  for (int i = 0; i < 4; i++) {
    char c;
    ASSERT_THAT(recv(r.get(), &c, 1, 0), SyscallSucceedsWithValue(1));
    got += c;
  }
  EXPECT_EQ(got, "0123");
}

// --- connect -----------------------------------------------------------------

TEST(UnixDgramTest, ConnectSetsDefaultDestination) {
  UnixAddr raddr = UniqueAbstractAddr();
  FileDescriptor r = BoundSocket(raddr);
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  // Unconnected and no address: nowhere to send.
  EXPECT_THAT(send(s.get(), "x", 1, 0), SyscallFailsWithErrno(ENOTCONN));
  ASSERT_THAT(connect(s.get(), raddr.get(), raddr.len), SyscallSucceeds());
  ASSERT_THAT(send(s.get(), "x", 1, 0), SyscallSucceeds());
  char c;
  EXPECT_THAT(recv(r.get(), &c, 1, 0), SyscallSucceedsWithValue(1));
  // getpeername reports the connected address.
  sockaddr_un peer = {};
  socklen_t len = sizeof(peer);
  ASSERT_THAT(getpeername(s.get(), reinterpret_cast<sockaddr*>(&peer), &len),
              SyscallSucceeds());
  EXPECT_EQ(len, raddr.len);
}

TEST(UnixDgramTest, ConnectedReceiverFiltersOtherSenders) {
  // A socket connected to B accepts datagrams only from B: others' sends
  // fail with EPERM.
  UnixAddr aaddr = UniqueAbstractAddr(), baddr = UniqueAbstractAddr();
  FileDescriptor a = BoundSocket(aaddr);
  FileDescriptor b = BoundSocket(baddr);
  ASSERT_THAT(connect(a.get(), baddr.get(), baddr.len), SyscallSucceeds());
  FileDescriptor c(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_THAT(sendto(c.get(), "x", 1, 0, aaddr.get(), aaddr.len),
              SyscallFailsWithErrno(EPERM));
  // B itself may send.
  ASSERT_THAT(sendto(b.get(), "b", 1, 0, aaddr.get(), aaddr.len),
              SyscallSucceeds());
  char ch;
  EXPECT_THAT(recv(a.get(), &ch, 1, MSG_DONTWAIT), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ch, 'b');
}

TEST(UnixDgramTest, SendtoAnotherAddressWhileConnected) {
  // connect() sets a default destination; an explicit one still wins.
  UnixAddr r1addr = UniqueAbstractAddr(), r2addr = UniqueAbstractAddr();
  FileDescriptor r1 = BoundSocket(r1addr);
  FileDescriptor r2 = BoundSocket(r2addr);
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  ASSERT_THAT(connect(s.get(), r1addr.get(), r1addr.len), SyscallSucceeds());
  ASSERT_THAT(sendto(s.get(), "2", 1, 0, r2addr.get(), r2addr.len),
              SyscallSucceeds());
  char c;
  EXPECT_THAT(recv(r2.get(), &c, 1, MSG_DONTWAIT), SyscallSucceedsWithValue(1));
  EXPECT_THAT(recv(r1.get(), &c, 1, MSG_DONTWAIT),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixDgramTest, ConnectAfUnspecDissolvesAssociation) {
  UnixAddr raddr = UniqueAbstractAddr();
  FileDescriptor r = BoundSocket(raddr);
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  ASSERT_THAT(connect(s.get(), raddr.get(), raddr.len), SyscallSucceeds());
  sockaddr unspec = {};
  unspec.sa_family = AF_UNSPEC;
  ASSERT_THAT(connect(s.get(), &unspec, sizeof(unspec)), SyscallSucceeds());
  EXPECT_THAT(send(s.get(), "x", 1, 0), SyscallFailsWithErrno(ENOTCONN));
}

TEST(UnixDgramTest, ReconnectChangesPeer) {
  UnixAddr r1addr = UniqueAbstractAddr(), r2addr = UniqueAbstractAddr();
  FileDescriptor r1 = BoundSocket(r1addr);
  FileDescriptor r2 = BoundSocket(r2addr);
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  ASSERT_THAT(connect(s.get(), r1addr.get(), r1addr.len), SyscallSucceeds());
  ASSERT_THAT(connect(s.get(), r2addr.get(), r2addr.len), SyscallSucceeds());
  ASSERT_THAT(send(s.get(), "x", 1, 0), SyscallSucceeds());
  char c;
  EXPECT_THAT(recv(r2.get(), &c, 1, MSG_DONTWAIT), SyscallSucceedsWithValue(1));
  EXPECT_THAT(recv(r1.get(), &c, 1, MSG_DONTWAIT),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixDgramTest, ConnectToStreamSocketPath) {
  // A socket file of another type: EPROTOTYPE.
  TempPath dir = SocketDir();
  UnixAddr addr = PathAddr(dir.Child("l"));
  FileDescriptor l(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(bind(l.get(), addr.get(), addr.len), SyscallSucceeds());
  ASSERT_THAT(listen(l.get(), 1), SyscallSucceeds());
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_THAT(connect(s.get(), addr.get(), addr.len),
              SyscallFailsWithErrno(EPROTOTYPE));
  EXPECT_THAT(sendto(s.get(), "x", 1, 0, addr.get(), addr.len),
              SyscallFailsWithErrno(EPROTOTYPE));
}

TEST(UnixDgramTest, ConnectToStreamSocketAbstractName) {
  // Linux looks abstract names up per socket type, so a stream socket's
  // abstract name is simply not found by a datagram socket: ECONNREFUSED,
  // unlike the EPROTOTYPE of a path.
  UnixAddr addr = UniqueAbstractAddr();
  FileDescriptor l(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(bind(l.get(), addr.get(), addr.len), SyscallSucceeds());
  ASSERT_THAT(listen(l.get(), 1), SyscallSucceeds());
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_THAT(connect(s.get(), addr.get(), addr.len),
              SyscallFailsWithErrno(ECONNREFUSED));
  EXPECT_THAT(sendto(s.get(), "x", 1, 0, addr.get(), addr.len),
              SyscallFailsWithErrno(ECONNREFUSED));
}

TEST(UnixDgramTest, ListenAndAcceptFailEopnotsupp) {
  UnixAddr addr = UniqueAbstractAddr();
  FileDescriptor s = BoundSocket(addr);
  EXPECT_THAT(listen(s.get(), 1), SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(accept(s.get(), nullptr, nullptr),
              SyscallFailsWithErrno(EOPNOTSUPP));
}

// --- vanished peers ----------------------------------------------------------

TEST(UnixDgramTest, SendtoMissingPathFailsEnoent) {
  TempPath dir = SocketDir();
  UnixAddr addr = PathAddr(dir.Child("none"));
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_THAT(sendto(s.get(), "x", 1, 0, addr.get(), addr.len),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(connect(s.get(), addr.get(), addr.len),
              SyscallFailsWithErrno(ENOENT));
}

TEST(UnixDgramTest, SendtoClosedReceiverFailsEconnrefused) {
  TempPath dir = SocketDir();
  UnixAddr addr = PathAddr(dir.Child("r"));
  BoundSocket(addr).reset();  // leaves the socket file behind
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_THAT(sendto(s.get(), "x", 1, 0, addr.get(), addr.len),
              SyscallFailsWithErrno(ECONNREFUSED));
  UnixAddr abs = UniqueAbstractAddr();
  EXPECT_THAT(sendto(s.get(), "x", 1, 0, abs.get(), abs.len),
              SyscallFailsWithErrno(ECONNREFUSED));
}

TEST(UnixDgramTest, SendToClosedConnectedPeer) {
  // The first send after the peer is gone fails ECONNREFUSED and drops the
  // association; later ones find no peer at all.
  UnixAddr raddr = UniqueAbstractAddr();
  FileDescriptor r = BoundSocket(raddr);
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  ASSERT_THAT(connect(s.get(), raddr.get(), raddr.len), SyscallSucceeds());
  r.reset();
  EXPECT_THAT(send(s.get(), "x", 1, 0), SyscallFailsWithErrno(ECONNREFUSED));
  EXPECT_THAT(send(s.get(), "x", 1, 0), SyscallFailsWithErrno(ENOTCONN));
}

TEST(UnixDgramTest, SocketpairPeerClosed) {
  Pair p = MakePair();
  p.b.reset();
  EXPECT_THAT(send(p.a.get(), "x", 1, 0), SyscallFailsWithErrno(ECONNREFUSED));
  // Nothing will ever arrive, but a datagram socket does not see EOF:
  // Linux keeps reporting no data.
  char c;
  EXPECT_THAT(recv(p.a.get(), &c, 1, MSG_DONTWAIT),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixDgramTest, ForkSendtoWithoutWritePermissionFailsEacces) {
  // unix(7): sending to a socket file needs write permission on it.
  std::string why = WhyNobodyIsUnavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  TempPath dir = SocketDir();
  UnixAddr open_addr = PathAddr(dir.Child("open"));
  UnixAddr closed_addr = PathAddr(dir.Child("closed"));
  FileDescriptor open_r = BoundSocket(open_addr);
  FileDescriptor closed_r = BoundSocket(closed_addr);
  ASSERT_THAT(chmod(dir.Child("open").c_str(), 0777), SyscallSucceeds());
  ASSERT_THAT(chmod(dir.Child("closed").c_str(), 0755), SyscallSucceeds());
  constexpr int kUnreachable = 99;
  int status = ForkAsNobodyAndWait([&] {
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHILD_EXPECT(s >= 0);
    // Nothing can be checked if the directory is not searchable by nobody.
    if (sendto(s, "o", 1, 0, open_addr.get(), open_addr.len) != 1) {
      return kUnreachable;
    }
    CHILD_EXPECT(sendto(s, "c", 1, 0, closed_addr.get(), closed_addr.len) ==
                     -1 &&
                 errno == EACCES);
    CHILD_EXPECT(connect(s, closed_addr.get(), closed_addr.len) == -1 &&
                 errno == EACCES);
    return 0;
  });
  if (WIFEXITED(status) && WEXITSTATUS(status) == kUnreachable) {
    GTEST_SKIP() << dir.path() << " is not searchable by nobody";
  }
  EXPECT_THAT(status, ExitedWithCode(0));
  char c;
  EXPECT_THAT(recv(closed_r.get(), &c, 1, MSG_DONTWAIT),
              SyscallFailsWithErrno(EAGAIN));
}

// --- shutdown ----------------------------------------------------------------

TEST(UnixDgramTest, ShutdownWrFailsSendsWithEpipe) {
  Pair p = MakePair();
  ASSERT_THAT(shutdown(p.a.get(), SHUT_WR), SyscallSucceeds());
  // Linux raises no SIGPIPE for datagram sockets: keep it blocked and check
  // that none is pending afterwards.
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, &old), SyscallSucceeds());
  EXPECT_THAT(send(p.a.get(), "x", 1, 0), SyscallFailsWithErrno(EPIPE));
  sigset_t pending;
  ASSERT_THAT(sigpending(&pending), SyscallSucceeds());
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
  struct timespec zero = {0, 0};
  sigtimedwait(&set, nullptr, &zero);
  ASSERT_THAT(sigprocmask(SIG_SETMASK, &old, nullptr), SyscallSucceeds());
  // The other direction still works.
  ASSERT_THAT(send(p.b.get(), "y", 1, 0), SyscallSucceeds());
  char c;
  EXPECT_THAT(recv(p.a.get(), &c, 1, 0), SyscallSucceedsWithValue(1));
}

TEST(UnixDgramTest, ShutdownRdMakesEmptyReadsReturnZero) {
  Pair p = MakePair();
  ASSERT_THAT(send(p.b.get(), "q", 1, 0), SyscallSucceeds());
  ASSERT_THAT(shutdown(p.a.get(), SHUT_RD), SyscallSucceeds());
  // What was queued can still be read; then reads return 0 at once.
  char c;
  EXPECT_THAT(recv(p.a.get(), &c, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_THAT(recv(p.a.get(), &c, 1, 0), SyscallSucceedsWithValue(0));
  EXPECT_EQ(PollEvents(p.a.get(), POLLIN) & POLLIN, POLLIN);
}

// --- poll --------------------------------------------------------------------

TEST(UnixDgramTest, PollReadiness) {
  Pair p = MakePair();
  EXPECT_EQ(PollEvents(p.b.get(), POLLIN | POLLOUT), POLLOUT);
  ASSERT_THAT(send(p.a.get(), "x", 1, 0), SyscallSucceeds());
  EXPECT_EQ(PollEvents(p.b.get(), POLLIN | POLLOUT), POLLIN | POLLOUT);
  char c;
  ASSERT_THAT(recv(p.b.get(), &c, 1, 0), SyscallSucceeds());
  EXPECT_EQ(PollEvents(p.b.get(), POLLIN | POLLOUT), POLLOUT);
}

TEST(UnixDgramTest, FullReceiverBlocksSender) {
  // A connected sender is not writable while its peer's queue is full.
  Pair p = MakePair();
  ASSERT_THAT(fcntl(p.a.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  int sent = 0;
  for (;;) {
    if (send(p.a.get(), "d", 1, 0) < 0) {
      ASSERT_EQ(errno, EAGAIN);
      break;
    }
    ASSERT_LT(++sent, 100000) << "receive queue never filled";
  }
  EXPECT_GT(sent, 0);
  EXPECT_EQ(PollEvents(p.a.get(), POLLOUT), 0);
  // Draining the receiver makes the sender writable again.
  char c;
  for (int i = 0; i < sent; i++) {
    ASSERT_THAT(recv(p.b.get(), &c, 1, 0), SyscallSucceedsWithValue(1));
  }
  EXPECT_EQ(PollEvents(p.a.get(), POLLOUT), POLLOUT);
  EXPECT_THAT(send(p.a.get(), "d", 1, 0), SyscallSucceeds());
}

TEST(UnixDgramTest, BlockingRecvWokenBySender) {
  Pair p = MakePair();
  std::thread sender([&] {
    // Let the main thread block in recv first.
    usleep(20 * 1000);
    EXPECT_THAT(send(p.a.get(), "wake", 4, 0), SyscallSucceeds());
  });
  char buf[8];
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(4));
  sender.join();
}

// --- options -----------------------------------------------------------------

TEST(UnixDgramTest, SocketOptions) {
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  int v = -1;
  socklen_t len = sizeof(v);
  ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_TYPE, &v, &len),
              SyscallSucceeds());
  EXPECT_EQ(v, SOCK_DGRAM);
  len = sizeof(v);
  ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_ACCEPTCONN, &v, &len),
              SyscallSucceeds());
  EXPECT_EQ(v, 0);
}

}  // namespace
}  // namespace sentry::testing
