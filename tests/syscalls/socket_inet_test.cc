// socket(2) and socketpair(2) argument checking, socket operations on
// descriptors that are not sockets, and (natively only) the existence of
// AF_INET/AF_INET6 sockets. The Sentry has no network stack, so there
// socket(AF_INET*, ...) must fail cleanly instead.
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

int GetIntOpt(int fd, int name) {
  int v = -1;
  socklen_t len = sizeof(v);
  EXPECT_THAT(getsockopt(fd, SOL_SOCKET, name, &v, &len), SyscallSucceeds());
  return v;
}

// --- socket(2) arguments -----------------------------------------------------

TEST(SocketArgsTest, UnknownFamilyFailsEafnosupport) {
  EXPECT_THAT(socket(1000, SOCK_STREAM, 0),
              SyscallFailsWithErrno(EAFNOSUPPORT));
  EXPECT_THAT(socket(-1, SOCK_STREAM, 0), SyscallFailsWithErrno(EAFNOSUPPORT));
  EXPECT_THAT(socket(AF_MAX, SOCK_STREAM, 0),
              SyscallFailsWithErrno(EAFNOSUPPORT));
}

TEST(SocketArgsTest, TypeOutOfRangeFailsEinval) {
  // Types at or beyond SOCK_MAX (11) are rejected before the family sees
  // them.
  EXPECT_THAT(socket(AF_UNIX, 11, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(socket(AF_UNIX, 1000, 0), SyscallFailsWithErrno(EINVAL));
}

TEST(SocketArgsTest, UnknownTypeFlagFailsEinval) {
  // Only SOCK_NONBLOCK and SOCK_CLOEXEC may be or'ed into the type.
  EXPECT_THAT(socket(AF_UNIX, SOCK_STREAM | 0x1000, 0),
              SyscallFailsWithErrno(EINVAL));
  int sv[2];
  EXPECT_THAT(socketpair(AF_UNIX, SOCK_STREAM | 0x1000, 0, sv),
              SyscallFailsWithErrno(EINVAL));
}

TEST(SocketArgsTest, UnixTypesAFamilyDoesNotProvide) {
  // In range but not an AF_UNIX type: ESOCKTNOSUPPORT.
  EXPECT_THAT(socket(AF_UNIX, 0, 0), SyscallFailsWithErrno(ESOCKTNOSUPPORT));
  EXPECT_THAT(socket(AF_UNIX, SOCK_RDM, 0),
              SyscallFailsWithErrno(ESOCKTNOSUPPORT));
  EXPECT_THAT(socket(AF_UNIX, SOCK_PACKET, 0),
              SyscallFailsWithErrno(ESOCKTNOSUPPORT));
}

TEST(SocketArgsTest, UnixRawIsDatagram) {
  // Linux accepts SOCK_RAW for AF_UNIX and makes it a SOCK_DGRAM socket.
  FileDescriptor s(socket(AF_UNIX, SOCK_RAW, 0));
  ASSERT_THAT(s.get(), SyscallSucceeds());
  EXPECT_EQ(GetIntOpt(s.get(), SO_TYPE), SOCK_DGRAM);
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_RAW, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  EXPECT_EQ(GetIntOpt(a.get(), SO_TYPE), SOCK_DGRAM);
  ASSERT_THAT(send(a.get(), "ab", 2, 0), SyscallSucceeds());
  ASSERT_THAT(send(a.get(), "c", 1, 0), SyscallSucceeds());
  char buf[4];
  EXPECT_THAT(recv(b.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(2));
}

TEST(SocketArgsTest, UnixProtocol) {
  // AF_UNIX takes protocol 0 or PF_UNIX (1); SO_PROTOCOL reports 0 either
  // way. Anything else is EPROTONOSUPPORT.
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, PF_UNIX));
  ASSERT_THAT(s.get(), SyscallSucceeds());
  EXPECT_EQ(GetIntOpt(s.get(), SO_PROTOCOL), 0);
  EXPECT_THAT(socket(AF_UNIX, SOCK_STREAM, 2),
              SyscallFailsWithErrno(EPROTONOSUPPORT));
  EXPECT_THAT(socket(AF_UNIX, SOCK_DGRAM, -1),
              SyscallFailsWithErrno(EPROTONOSUPPORT));
  int sv[2];
  EXPECT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 2, sv),
              SyscallFailsWithErrno(EPROTONOSUPPORT));
}

TEST(SocketArgsTest, TypeFlagsApply) {
  FileDescriptor s(
      socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  ASSERT_THAT(s.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(s.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  int fl = fcntl(s.get(), F_GETFL);
  EXPECT_TRUE(fl & O_NONBLOCK);
  EXPECT_EQ(fl & O_ACCMODE, O_RDWR);
  // The flags are not part of the type.
  EXPECT_EQ(GetIntOpt(s.get(), SO_TYPE), SOCK_DGRAM);
  FileDescriptor plain(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_THAT(fcntl(plain.get(), F_GETFD), SyscallSucceedsWithValue(0));
  EXPECT_FALSE(fcntl(plain.get(), F_GETFL) & O_NONBLOCK);
}

// --- socketpair(2) -----------------------------------------------------------

TEST(SocketpairArgsTest, InetFailsEopnotsupp) {
  // Natively AF_INET exists but has no socketpair operation.
  int sv[2];
  EXPECT_THAT(socketpair(AF_INET, SOCK_STREAM, 0, sv),
              SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(socketpair(AF_INET, SOCK_DGRAM, 0, sv),
              SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(socketpair(AF_INET6, SOCK_STREAM, 0, sv),
              SyscallFailsWithErrno(EOPNOTSUPP));
}

TEST(SocketpairArgsTest, UnknownFamilyFailsEafnosupport) {
  int sv[2];
  EXPECT_THAT(socketpair(1000, SOCK_STREAM, 0, sv),
              SyscallFailsWithErrno(EAFNOSUPPORT));
}

TEST(SocketpairArgsTest, BadPointerFailsEfaultWithoutLeaking) {
  // The lowest free descriptor before and after: a failed socketpair must
  // not leave descriptors behind.
  FileDescriptor before(open("/dev/null", O_RDONLY));
  ASSERT_THAT(before.get(), SyscallSucceeds());
  int lowest = before.get();
  before.reset();
  // Through a variable so the compiler does not see the bad pointer.
  int* volatile bad = reinterpret_cast<int*>(8);
  EXPECT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 0, bad),
              SyscallFailsWithErrno(EFAULT));
  FileDescriptor after(open("/dev/null", O_RDONLY));
  EXPECT_EQ(after.get(), lowest);
}

// --- not a socket ------------------------------------------------------------

TEST(NotSocketTest, SocketCallsOnPipeFailEnotsock) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  const int fd = r.get();
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  socklen_t len = sizeof(addr);
  int v = 0;
  socklen_t vlen = sizeof(v);
  char c = 'x';
  struct iovec iov = {&c, 1};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  sockaddr* sa = reinterpret_cast<sockaddr*>(&addr);
  EXPECT_THAT(bind(fd, sa, sizeof(sa_family_t)),
              SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(connect(fd, sa, sizeof(addr)), SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(listen(fd, 1), SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(accept(fd, nullptr, nullptr), SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(accept4(fd, nullptr, nullptr, 0),
              SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(getsockname(fd, sa, &len), SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(getpeername(fd, sa, &len), SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vlen),
              SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &v, sizeof(v)),
              SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(shutdown(fd, SHUT_RDWR), SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(send(w.get(), &c, 1, 0), SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(sendto(w.get(), &c, 1, 0, sa, sizeof(addr)),
              SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(sendmsg(w.get(), &msg, 0), SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(recv(fd, &c, 1, MSG_DONTWAIT), SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(recvfrom(fd, &c, 1, MSG_DONTWAIT, nullptr, nullptr),
              SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(recvmsg(fd, &msg, MSG_DONTWAIT), SyscallFailsWithErrno(ENOTSOCK));
}

TEST(NotSocketTest, RegularFileFailsEnotsock) {
  TempPath f = TempPath::CreateFile("data");
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(listen(fd.get(), 1), SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(send(fd.get(), "x", 1, 0), SyscallFailsWithErrno(ENOTSOCK));
  char c;
  EXPECT_THAT(recv(fd.get(), &c, 1, 0), SyscallFailsWithErrno(ENOTSOCK));
  // The file was not touched.
  EXPECT_EQ(ReadAll(fd.get()), "data");
}

TEST(NotSocketTest, ClosedDescriptorFailsEbadf) {
  int fd = open("/dev/null", O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  ASSERT_THAT(close(fd), SyscallSucceeds());
  EXPECT_THAT(listen(fd, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(send(fd, "x", 1, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(shutdown(fd, SHUT_RDWR), SyscallFailsWithErrno(EBADF));
  int v;
  socklen_t len = sizeof(v);
  EXPECT_THAT(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len),
              SyscallFailsWithErrno(EBADF));
}

// --- AF_INET / AF_INET6 ------------------------------------------------------

TEST(InetSocketTest, NativeInetSocketsExist) {
  if (!IsRunningNatively()) {
    GTEST_SKIP() << "the Sentry has no network stack";
  }
  struct {
    int family, type, protocol;
  } cases[] = {
      {AF_INET, SOCK_STREAM, 0},           {AF_INET, SOCK_DGRAM, 0},
      {AF_INET, SOCK_STREAM, IPPROTO_TCP}, {AF_INET, SOCK_DGRAM, IPPROTO_UDP},
      {AF_INET6, SOCK_STREAM, 0},          {AF_INET6, SOCK_DGRAM, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message()
                 << c.family << "/" << c.type << "/" << c.protocol);
    FileDescriptor s(socket(c.family, c.type, c.protocol));
    ASSERT_THAT(s.get(), SyscallSucceeds());
    EXPECT_EQ(GetIntOpt(s.get(), SO_DOMAIN), c.family);
    EXPECT_EQ(GetIntOpt(s.get(), SO_TYPE), c.type);
    EXPECT_EQ(GetIntOpt(s.get(), SO_PROTOCOL),
              c.type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
  }
}

TEST(InetSocketTest, NativeInetArgumentErrors) {
  if (!IsRunningNatively()) {
    GTEST_SKIP() << "the Sentry has no network stack";
  }
  // A protocol that does not fit the type.
  EXPECT_THAT(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP),
              SyscallFailsWithErrno(EPROTONOSUPPORT));
  EXPECT_THAT(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP),
              SyscallFailsWithErrno(EPROTONOSUPPORT));
  // A type AF_INET does not have.
  EXPECT_THAT(socket(AF_INET, SOCK_SEQPACKET, 0),
              SyscallFailsWithErrno(ESOCKTNOSUPPORT));
}

TEST(InetSocketTest, SentryRefusesInetSockets) {
  if (IsRunningNatively()) {
    GTEST_SKIP() << "only the Sentry lacks a network stack";
  }
  // No network stack: the family is unsupported, cleanly.
  EXPECT_THAT(socket(AF_INET, SOCK_STREAM, 0),
              SyscallFailsWithErrno(EAFNOSUPPORT));
  EXPECT_THAT(socket(AF_INET, SOCK_DGRAM, 0),
              SyscallFailsWithErrno(EAFNOSUPPORT));
  EXPECT_THAT(socket(AF_INET6, SOCK_STREAM, 0),
              SyscallFailsWithErrno(EAFNOSUPPORT));
}

}  // namespace
}  // namespace sentry::testing
