// AF_UNIX SOCK_STREAM sockets, from unix(7), socket(2), socketpair(2),
// bind(2), listen(2), accept4(2), connect(2), send(2)/recv(2), shutdown(2),
// getsockopt(2) and socket(7).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
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

Pair MakePair(int type = SOCK_STREAM) { return MakeSocketPair(type); }

// A listening socket bound to `dir`/name.
struct Listener {
  std::string path;
  UnixAddr addr;
  FileDescriptor fd;
};

Listener Listen(const TempPath& dir, int backlog = 16,
                const std::string& name = "srv") {
  Listener l;
  l.path = dir.Child(name);
  l.addr = PathAddr(l.path);
  l.fd.reset(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(l.fd.get(), SyscallSucceeds());
  EXPECT_THAT(bind(l.fd.get(), l.addr.get(), l.addr.len), SyscallSucceeds());
  EXPECT_THAT(listen(l.fd.get(), backlog), SyscallSucceeds());
  return l;
}

FileDescriptor Connect(const UnixAddr& addr, int flags = 0) {
  FileDescriptor fd(socket(AF_UNIX, SOCK_STREAM | flags, 0));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(connect(fd.get(), addr.get(), addr.len), SyscallSucceeds());
  return fd;
}

// getsockname/getpeername into a fresh buffer.
UnixAddr SockName(int fd) {
  UnixAddr a;
  a.len = sizeof(a.sun);
  EXPECT_THAT(getsockname(fd, reinterpret_cast<sockaddr*>(&a.sun), &a.len),
              SyscallSucceeds());
  return a;
}

UnixAddr PeerName(int fd) {
  UnixAddr a;
  a.len = sizeof(a.sun);
  EXPECT_THAT(getpeername(fd, reinterpret_cast<sockaddr*>(&a.sun), &a.len),
              SyscallSucceeds());
  return a;
}

// Ignores SIGPIPE for its lifetime.
class ScopedIgnoreSigpipe {
 public:
  ScopedIgnoreSigpipe() { old_ = signal(SIGPIPE, SIG_IGN); }
  ~ScopedIgnoreSigpipe() { signal(SIGPIPE, old_); }

 private:
  sighandler_t old_;
};

// Reads until `want` bytes arrived, EOF, an error, or no data for
// `timeout_ms`, so that a failed peer cannot hang the test.
std::string ReadWithTimeout(int fd, size_t want, int timeout_ms = 10000) {
  std::string out;
  char buf[65536];
  while (out.size() < want) {
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, timeout_ms) != 1) {
      ADD_FAILURE() << "no data for " << timeout_ms << " ms after "
                    << out.size() << " bytes";
      break;
    }
    ssize_t n = read(fd, buf, std::min(sizeof(buf), want - out.size()));
    if (n <= 0) {
      ADD_FAILURE() << "read returned " << n << " after " << out.size()
                    << " bytes: " << strerror(errno);
      break;
    }
    out.append(buf, n);
  }
  return out;
}

// --- socketpair, read/write --------------------------------------------------

TEST(UnixStreamTest, SocketpairIsConnectedBothWays) {
  Pair p = MakePair();
  ASSERT_THAT(write(p.a.get(), "ping", 4), SyscallSucceedsWithValue(4));
  char buf[8];
  ASSERT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "ping");
  ASSERT_THAT(write(p.b.get(), "pong", 4), SyscallSucceedsWithValue(4));
  ASSERT_THAT(read(p.a.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "pong");
}

TEST(UnixStreamTest, SocketpairFlags) {
  int sv[2];
  ASSERT_THAT(
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv),
      SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  for (int fd : sv) {
    EXPECT_THAT(fcntl(fd, F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
    int fl = fcntl(fd, F_GETFL);
    EXPECT_EQ(fl & O_ACCMODE, O_RDWR);
    EXPECT_TRUE(fl & O_NONBLOCK);
  }
  // Without the flags, neither is set.
  Pair p = MakePair();
  EXPECT_THAT(fcntl(p.a.get(), F_GETFD), SyscallSucceedsWithValue(0));
  EXPECT_FALSE(fcntl(p.a.get(), F_GETFL) & O_NONBLOCK);
}

TEST(UnixStreamTest, StreamHasNoMessageBoundaries) {
  Pair p = MakePair();
  ASSERT_THAT(write(p.a.get(), "abc", 3), SyscallSucceeds());
  ASSERT_THAT(write(p.a.get(), "de", 2), SyscallSucceeds());
  // Both writes are queued before the read: one read returns them together.
  char buf[16];
  ASSERT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(5));
  EXPECT_EQ(std::string(buf, 5), "abcde");
  // And a short read leaves the rest of a write for the next one.
  ASSERT_THAT(write(p.a.get(), "fghij", 5), SyscallSucceeds());
  ASSERT_THAT(read(p.b.get(), buf, 2), SyscallSucceedsWithValue(2));
  ASSERT_THAT(read(p.b.get(), buf + 2, 8), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 5), "fghij");
}

TEST(UnixStreamTest, ReadvWritev) {
  Pair p = MakePair();
  char a[] = "hello", b[] = ", ", c[] = "world";
  struct iovec out[3] = {{a, 5}, {b, 2}, {c, 5}};
  ASSERT_THAT(writev(p.a.get(), out, 3), SyscallSucceedsWithValue(12));
  char x[4], y[20];
  struct iovec in[2] = {{x, sizeof(x)}, {y, sizeof(y)}};
  ASSERT_THAT(readv(p.b.get(), in, 2), SyscallSucceedsWithValue(12));
  EXPECT_EQ(std::string(x, 4) + std::string(y, 8), "hello, world");
}

TEST(UnixStreamTest, SendmsgRecvmsgWithIovecs) {
  Pair p = MakePair();
  char a[] = "one", b[] = "two";
  struct iovec out[2] = {{a, 3}, {b, 3}};
  struct msghdr msg = {};
  msg.msg_iov = out;
  msg.msg_iovlen = 2;
  ASSERT_THAT(sendmsg(p.a.get(), &msg, 0), SyscallSucceedsWithValue(6));
  char buf[16];
  struct iovec in = {buf, sizeof(buf)};
  struct msghdr rmsg = {};
  rmsg.msg_iov = &in;
  rmsg.msg_iovlen = 1;
  ASSERT_THAT(recvmsg(p.b.get(), &rmsg, 0), SyscallSucceedsWithValue(6));
  EXPECT_EQ(std::string(buf, 6), "onetwo");
  EXPECT_EQ(rmsg.msg_flags, 0);
}

// --- bind and the socket file ------------------------------------------------

TEST(UnixStreamTest, BindCreatesSocketFile) {
  TempPath dir = SocketDir();
  ScopedUmask umask(022);
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(s.get(), SyscallSucceeds());
  UnixAddr addr = PathAddr(dir.Child("s"));
  ASSERT_THAT(bind(s.get(), addr.get(), addr.len), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(dir.Child("s").c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISSOCK(st.st_mode)) << std::oct << st.st_mode;
  // The file is created with mode 0777 less the umask.
  EXPECT_EQ(st.st_mode & 07777, 0755u) << std::oct << st.st_mode;
}

TEST(UnixStreamTest, SocketFileSurvivesClose) {
  // unix(7): the socket file persists after the socket is closed; it must be
  // unlinked, and until then binding to it fails.
  TempPath dir = SocketDir();
  UnixAddr addr = PathAddr(dir.Child("s"));
  {
    FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
    ASSERT_THAT(bind(s.get(), addr.get(), addr.len), SyscallSucceeds());
  }
  struct stat st;
  ASSERT_THAT(lstat(dir.Child("s").c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(bind(s.get(), addr.get(), addr.len),
              SyscallFailsWithErrno(EADDRINUSE));
  ASSERT_THAT(unlink(dir.Child("s").c_str()), SyscallSucceeds());
  EXPECT_THAT(bind(s.get(), addr.get(), addr.len), SyscallSucceeds());
}

TEST(UnixStreamTest, BindExistingFileFailsEaddrinuse) {
  TempPath dir = SocketDir();
  std::string path = dir.Child("f");
  FileDescriptor f(open(path.c_str(), O_CREAT | O_WRONLY, 0644));
  ASSERT_THAT(f.get(), SyscallSucceeds());
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  UnixAddr addr = PathAddr(path);
  EXPECT_THAT(bind(s.get(), addr.get(), addr.len),
              SyscallFailsWithErrno(EADDRINUSE));
  // A bound, live socket's path is in use too.
  Listener l = Listen(dir);
  EXPECT_THAT(bind(s.get(), l.addr.get(), l.addr.len),
              SyscallFailsWithErrno(EADDRINUSE));
}

TEST(UnixStreamTest, BindMissingDirectoryFailsEnoent) {
  TempPath dir = SocketDir();
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  UnixAddr addr = PathAddr(dir.Child("no/s"));
  EXPECT_THAT(bind(s.get(), addr.get(), addr.len),
              SyscallFailsWithErrno(ENOENT));
}

TEST(UnixStreamTest, BindTwiceFailsEinval) {
  TempPath dir = SocketDir();
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  UnixAddr a = PathAddr(dir.Child("a")), b = PathAddr(dir.Child("b"));
  ASSERT_THAT(bind(s.get(), a.get(), a.len), SyscallSucceeds());
  EXPECT_THAT(bind(s.get(), b.get(), b.len), SyscallFailsWithErrno(EINVAL));
  // The failed bind created nothing.
  struct stat st;
  EXPECT_THAT(lstat(dir.Child("b").c_str(), &st),
              SyscallFailsWithErrno(ENOENT));
}

TEST(UnixStreamTest, BindBadAddressFailsEinval) {
  TempPath dir = SocketDir();
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  UnixAddr addr = PathAddr(dir.Child("s"));
  // Wrong family.
  addr.sun.sun_family = AF_INET;
  EXPECT_THAT(bind(s.get(), addr.get(), addr.len),
              SyscallFailsWithErrno(EINVAL));
  addr.sun.sun_family = AF_UNIX;
  // Longer than a sockaddr_un.
  EXPECT_THAT(bind(s.get(), addr.get(), sizeof(sockaddr_un) + 1),
              SyscallFailsWithErrno(EINVAL));
  // Too short to hold even the family.
  EXPECT_THAT(bind(s.get(), addr.get(), 1), SyscallFailsWithErrno(EINVAL));
}

TEST(UnixStreamTest, FullLengthPathWithoutNul) {
  // unix(7): a sun_path that fills all 108 bytes without a NUL is still a
  // valid name; getsockname then reports one more byte than a sockaddr_un
  // holds.
  TempPath dir = SocketDir();
  std::string path = dir.Child("");
  ASSERT_LT(path.size(), sizeof(sockaddr_un::sun_path));
  path.append(sizeof(sockaddr_un::sun_path) - path.size(), 'n');
  UnixAddr addr;
  addr.sun.sun_family = AF_UNIX;
  memcpy(addr.sun.sun_path, path.data(), path.size());
  addr.len = sizeof(sockaddr_un);
  FileDescriptor l(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(bind(l.get(), addr.get(), addr.len), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(path.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  char buf[sizeof(sockaddr_un) + 16] = {};
  socklen_t len = sizeof(buf);
  ASSERT_THAT(getsockname(l.get(), reinterpret_cast<sockaddr*>(buf), &len),
              SyscallSucceeds());
  EXPECT_EQ(len, sizeof(sockaddr_un) + 1);
  EXPECT_EQ(std::string(buf + kPathOffset), path);
  ASSERT_THAT(listen(l.get(), 1), SyscallSucceeds());
  FileDescriptor c = Connect(addr);
}

TEST(UnixStreamTest, BadAddressArguments) {
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  UnixAddr addr = AbstractAddr(UniqueAbstractName("sentry_stream_test"));
  // Too short to hold a name at all.
  EXPECT_THAT(connect(s.get(), addr.get(), sizeof(sa_family_t)),
              SyscallFailsWithErrno(EINVAL));
  // Unreadable or unwritable memory.
  EXPECT_THAT(bind(s.get(), reinterpret_cast<sockaddr*>(8), addr.len),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(connect(s.get(), reinterpret_cast<sockaddr*>(8), addr.len),
              SyscallFailsWithErrno(EFAULT));
  sockaddr_un name;
  EXPECT_THAT(getsockname(s.get(), reinterpret_cast<sockaddr*>(&name),
                          reinterpret_cast<socklen_t*>(8)),
              SyscallFailsWithErrno(EFAULT));
  // A negative length.
  socklen_t len = -1;
  EXPECT_THAT(getsockname(s.get(), reinterpret_cast<sockaddr*>(&name), &len),
              SyscallFailsWithErrno(EINVAL));
}

TEST(UnixStreamTest, ForkPermissionChecks) {
  // unix(7): connecting to a socket file needs write permission on it, and
  // creating one needs write permission on the directory.
  std::string why = WhyNobodyIsUnavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  TempPath dir = SocketDir();  // 0755
  Listener open_l = Listen(dir, 4, "open");
  Listener closed_l = Listen(dir, 4, "closed");
  ASSERT_THAT(chmod(open_l.path.c_str(), 0777), SyscallSucceeds());
  ASSERT_THAT(chmod(closed_l.path.c_str(), 0755), SyscallSucceeds());
  constexpr int kUnreachable = 99;
  int status = ForkAsNobodyAndWait([&] {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    CHILD_EXPECT(s >= 0);
    // The directory may not be searchable by nobody (the test tmpdir need
    // not be): then nothing here can be checked.
    if (connect(s, open_l.addr.get(), open_l.addr.len) != 0) {
      return kUnreachable;
    }
    int t = socket(AF_UNIX, SOCK_STREAM, 0);
    CHILD_EXPECT(t >= 0);
    CHILD_EXPECT(connect(t, closed_l.addr.get(), closed_l.addr.len) == -1 &&
                 errno == EACCES);
    UnixAddr mine = PathAddr(dir.Child("mine"));
    CHILD_EXPECT(bind(t, mine.get(), mine.len) == -1 && errno == EACCES);
    return 0;
  });
  if (WIFEXITED(status) && WEXITSTATUS(status) == kUnreachable) {
    GTEST_SKIP() << dir.path() << " is not searchable by nobody";
  }
  EXPECT_THAT(status, ExitedWithCode(0));
}

// --- names -------------------------------------------------------------------

TEST(UnixStreamTest, UnboundSocketNameIsUnnamed) {
  // unix(7): an unnamed socket's address length is sizeof(sa_family_t).
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  UnixAddr name = SockName(s.get());
  EXPECT_EQ(name.len, sizeof(sa_family_t));
  EXPECT_EQ(name.sun.sun_family, AF_UNIX);
  // Not connected: no peer.
  sockaddr_un peer;
  socklen_t len = sizeof(peer);
  EXPECT_THAT(getpeername(s.get(), reinterpret_cast<sockaddr*>(&peer), &len),
              SyscallFailsWithErrno(ENOTCONN));
}

TEST(UnixStreamTest, SocketpairEndsAreUnnamed) {
  Pair p = MakePair();
  EXPECT_EQ(SockName(p.a.get()).len, sizeof(sa_family_t));
  UnixAddr peer = PeerName(p.a.get());
  EXPECT_EQ(peer.len, sizeof(sa_family_t));
  EXPECT_EQ(peer.sun.sun_family, AF_UNIX);
}

TEST(UnixStreamTest, BoundNameIncludesTerminatingNul) {
  TempPath dir = SocketDir();
  std::string path = dir.Child("s");
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  // Bind without counting the NUL: unix(7) says the kernel adds it, and the
  // returned length is offsetof(sun_path) + strlen(sun_path) + 1.
  UnixAddr addr = PathAddr(path);
  ASSERT_THAT(bind(s.get(), addr.get(), addr.len - 1), SyscallSucceeds());
  UnixAddr name = SockName(s.get());
  EXPECT_EQ(name.len, kPathOffset + path.size() + 1);
  EXPECT_EQ(std::string(name.sun.sun_path), path);
}

TEST(UnixStreamTest, BindWithWholeStructLength) {
  // addrlen == sizeof(sockaddr_un) with NUL padding names the same path.
  TempPath dir = SocketDir();
  std::string path = dir.Child("s");
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  UnixAddr addr = PathAddr(path);
  ASSERT_THAT(bind(s.get(), addr.get(), sizeof(sockaddr_un)),
              SyscallSucceeds());
  EXPECT_EQ(SockName(s.get()).len, kPathOffset + path.size() + 1);
  struct stat st;
  EXPECT_THAT(stat(path.c_str(), &st), SyscallSucceeds());
}

TEST(UnixStreamTest, GetsocknameTruncatesToBuffer) {
  // The returned addrlen is the real length even when the buffer is smaller.
  TempPath dir = SocketDir();
  std::string path = dir.Child("s");
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  UnixAddr addr = PathAddr(path);
  ASSERT_THAT(bind(s.get(), addr.get(), addr.len), SyscallSucceeds());
  char buf[sizeof(sockaddr_un)];
  memset(buf, 'x', sizeof(buf));
  socklen_t len = kPathOffset + 4;
  ASSERT_THAT(getsockname(s.get(), reinterpret_cast<sockaddr*>(buf), &len),
              SyscallSucceeds());
  EXPECT_EQ(len, kPathOffset + path.size() + 1);
  EXPECT_EQ(std::string(buf + kPathOffset, 4), path.substr(0, 4));
  EXPECT_EQ(buf[kPathOffset + 4], 'x');
}

TEST(UnixStreamTest, ConnectAcceptNames) {
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  FileDescriptor c = Connect(l.addr);
  sockaddr_un from;
  memset(&from, 'x', sizeof(from));
  socklen_t fromlen = sizeof(from);
  FileDescriptor s(
      accept(l.fd.get(), reinterpret_cast<sockaddr*>(&from), &fromlen));
  ASSERT_THAT(s.get(), SyscallSucceeds());
  // The client is unbound, so accept reports an unnamed address.
  EXPECT_EQ(fromlen, sizeof(sa_family_t));
  EXPECT_EQ(from.sun_family, AF_UNIX);
  // The client's peer is the listener's path; the accepted socket carries
  // the listener's name and has an unnamed peer.
  EXPECT_EQ(std::string(PeerName(c.get()).sun.sun_path), l.path);
  EXPECT_EQ(SockName(c.get()).len, sizeof(sa_family_t));
  EXPECT_EQ(std::string(SockName(s.get()).sun.sun_path), l.path);
  EXPECT_EQ(PeerName(s.get()).len, sizeof(sa_family_t));
}

TEST(UnixStreamTest, AcceptReportsBoundClientName) {
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  FileDescriptor c(socket(AF_UNIX, SOCK_STREAM, 0));
  UnixAddr caddr = PathAddr(dir.Child("cli"));
  ASSERT_THAT(bind(c.get(), caddr.get(), caddr.len), SyscallSucceeds());
  ASSERT_THAT(connect(c.get(), l.addr.get(), l.addr.len), SyscallSucceeds());
  sockaddr_un from = {};
  socklen_t fromlen = sizeof(from);
  FileDescriptor s(
      accept(l.fd.get(), reinterpret_cast<sockaddr*>(&from), &fromlen));
  ASSERT_THAT(s.get(), SyscallSucceeds());
  EXPECT_EQ(fromlen, caddr.len);
  EXPECT_EQ(std::string(from.sun_path), dir.Child("cli"));
  EXPECT_EQ(std::string(PeerName(s.get()).sun.sun_path), dir.Child("cli"));
}

// --- connect, listen, accept -------------------------------------------------

TEST(UnixStreamTest, ConnectAcceptDataFlows) {
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  FileDescriptor c = Connect(l.addr);
  FileDescriptor s(accept(l.fd.get(), nullptr, nullptr));
  ASSERT_THAT(s.get(), SyscallSucceeds());
  ASSERT_THAT(send(c.get(), "hi", 2, 0), SyscallSucceedsWithValue(2));
  char buf[4];
  ASSERT_THAT(recv(s.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(buf, 2), "hi");
  ASSERT_THAT(send(s.get(), "yo", 2, 0), SyscallSucceedsWithValue(2));
  ASSERT_THAT(recv(c.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(buf, 2), "yo");
}

TEST(UnixStreamTest, DataSentBeforeAcceptIsKept) {
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  FileDescriptor c = Connect(l.addr);
  ASSERT_THAT(write(c.get(), "early", 5), SyscallSucceedsWithValue(5));
  FileDescriptor s(accept(l.fd.get(), nullptr, nullptr));
  ASSERT_THAT(s.get(), SyscallSucceeds());
  char buf[8];
  ASSERT_THAT(read(s.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(5));
  EXPECT_EQ(std::string(buf, 5), "early");
}

TEST(UnixStreamTest, Accept4Flags) {
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  FileDescriptor c1 = Connect(l.addr);
  FileDescriptor c2 = Connect(l.addr);
  FileDescriptor s1(
      accept4(l.fd.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  ASSERT_THAT(s1.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(s1.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_TRUE(fcntl(s1.get(), F_GETFL) & O_NONBLOCK);
  char c;
  EXPECT_THAT(read(s1.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
  // accept4(2): on Linux the new socket does not inherit O_NONBLOCK from
  // the listener.
  ASSERT_THAT(fcntl(l.fd.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  FileDescriptor s2(accept4(l.fd.get(), nullptr, nullptr, 0));
  ASSERT_THAT(s2.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(s2.get(), F_GETFD), SyscallSucceedsWithValue(0));
  EXPECT_FALSE(fcntl(s2.get(), F_GETFL) & O_NONBLOCK);
}

TEST(UnixStreamTest, Accept4InvalidFlagsFailEinval) {
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  EXPECT_THAT(accept4(l.fd.get(), nullptr, nullptr, O_APPEND),
              SyscallFailsWithErrno(EINVAL));
}

TEST(UnixStreamTest, NonblockingAcceptWithNothingPendingFailsEagain) {
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  ASSERT_THAT(fcntl(l.fd.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  EXPECT_THAT(accept(l.fd.get(), nullptr, nullptr),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixStreamTest, AcceptOnNonListeningSocketFailsEinval) {
  TempPath dir = SocketDir();
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(accept(s.get(), nullptr, nullptr), SyscallFailsWithErrno(EINVAL));
  UnixAddr addr = PathAddr(dir.Child("s"));
  ASSERT_THAT(bind(s.get(), addr.get(), addr.len), SyscallSucceeds());
  EXPECT_THAT(accept(s.get(), nullptr, nullptr), SyscallFailsWithErrno(EINVAL));
  Pair p = MakePair();
  EXPECT_THAT(accept(p.a.get(), nullptr, nullptr),
              SyscallFailsWithErrno(EINVAL));
}

TEST(UnixStreamTest, ListenOnUnboundSocketFailsEinval) {
  // Linux does not autobind a stream socket on listen(): it needs a name.
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(listen(s.get(), 1), SyscallFailsWithErrno(EINVAL));
  Pair p = MakePair();
  EXPECT_THAT(listen(p.a.get(), 1), SyscallFailsWithErrno(EINVAL));
}

TEST(UnixStreamTest, ListenAgainSucceeds) {
  // A second listen() on a listening socket just updates the backlog.
  TempPath dir = SocketDir();
  Listener l = Listen(dir, 1);
  EXPECT_THAT(listen(l.fd.get(), 4), SyscallSucceeds());
  FileDescriptor c = Connect(l.addr);
  FileDescriptor s(accept(l.fd.get(), nullptr, nullptr));
  EXPECT_THAT(s.get(), SyscallSucceeds());
}

TEST(UnixStreamTest, ConnectWithoutListenerFailsEconnrefused) {
  TempPath dir = SocketDir();
  // A bound socket that is not listening.
  FileDescriptor b(socket(AF_UNIX, SOCK_STREAM, 0));
  UnixAddr addr = PathAddr(dir.Child("s"));
  ASSERT_THAT(bind(b.get(), addr.get(), addr.len), SyscallSucceeds());
  FileDescriptor c(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(connect(c.get(), addr.get(), addr.len),
              SyscallFailsWithErrno(ECONNREFUSED));
  // A stale socket file whose socket is gone.
  b.reset();
  EXPECT_THAT(connect(c.get(), addr.get(), addr.len),
              SyscallFailsWithErrno(ECONNREFUSED));
  // A regular file.
  std::string f = dir.Child("f");
  FileDescriptor ffd(open(f.c_str(), O_CREAT | O_WRONLY, 0644));
  UnixAddr faddr = PathAddr(f);
  EXPECT_THAT(connect(c.get(), faddr.get(), faddr.len),
              SyscallFailsWithErrno(ECONNREFUSED));
}

TEST(UnixStreamTest, ConnectMissingPathFailsEnoent) {
  TempPath dir = SocketDir();
  FileDescriptor c(socket(AF_UNIX, SOCK_STREAM, 0));
  UnixAddr addr = PathAddr(dir.Child("none"));
  EXPECT_THAT(connect(c.get(), addr.get(), addr.len),
              SyscallFailsWithErrno(ENOENT));
}

TEST(UnixStreamTest, ConnectToDatagramSocketFailsEprototype) {
  TempPath dir = SocketDir();
  FileDescriptor d(socket(AF_UNIX, SOCK_DGRAM, 0));
  UnixAddr addr = PathAddr(dir.Child("d"));
  ASSERT_THAT(bind(d.get(), addr.get(), addr.len), SyscallSucceeds());
  FileDescriptor c(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(connect(c.get(), addr.get(), addr.len),
              SyscallFailsWithErrno(EPROTOTYPE));
}

TEST(UnixStreamTest, ConnectTwiceFailsEisconn) {
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  FileDescriptor c = Connect(l.addr);
  EXPECT_THAT(connect(c.get(), l.addr.get(), l.addr.len),
              SyscallFailsWithErrno(EISCONN));
  Pair p = MakePair();
  EXPECT_THAT(connect(p.a.get(), l.addr.get(), l.addr.len),
              SyscallFailsWithErrno(EISCONN));
}

TEST(UnixStreamTest, ConnectFromListeningSocketFailsEinval) {
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  Listener other = Listen(dir, 1, "other");
  EXPECT_THAT(connect(l.fd.get(), other.addr.get(), other.addr.len),
              SyscallFailsWithErrno(EINVAL));
}

TEST(UnixStreamTest, UnconnectedIoFails) {
  ScopedIgnoreSigpipe ignore;
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  char c = 'x';
  EXPECT_THAT(send(s.get(), &c, 1, 0), SyscallFailsWithErrno(ENOTCONN));
  EXPECT_THAT(write(s.get(), &c, 1), SyscallFailsWithErrno(ENOTCONN));
  // Linux answers a read on an unconnected stream socket with EINVAL.
  EXPECT_THAT(recv(s.get(), &c, 1, 0), SyscallFailsWithErrno(EINVAL));
}

TEST(UnixStreamTest, SendtoWithAddressOnStream) {
  // A stream socket ignores no address: Linux rejects one with EISCONN
  // when connected and EOPNOTSUPP when not.
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  FileDescriptor c = Connect(l.addr);
  EXPECT_THAT(sendto(c.get(), "x", 1, 0, l.addr.get(), l.addr.len),
              SyscallFailsWithErrno(EISCONN));
  FileDescriptor u(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(sendto(u.get(), "x", 1, MSG_NOSIGNAL, l.addr.get(), l.addr.len),
              SyscallFailsWithErrno(EOPNOTSUPP));
}

TEST(UnixStreamTest, NonblockingConnectToFullBacklogFailsEagain) {
  TempPath dir = SocketDir();
  Listener l = Listen(dir, 2);
  std::vector<FileDescriptor> clients;
  int err = 0;
  for (int i = 0; i < 64; i++) {
    FileDescriptor c(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
    if (connect(c.get(), l.addr.get(), l.addr.len) != 0) {
      err = errno;
      break;
    }
    clients.push_back(std::move(c));
  }
  EXPECT_EQ(err, EAGAIN);
  // At least `backlog` connections were queued before it filled.
  EXPECT_GE(clients.size(), 2u);
  // Accepting one makes room for another.
  FileDescriptor s(accept(l.fd.get(), nullptr, nullptr));
  ASSERT_THAT(s.get(), SyscallSucceeds());
  FileDescriptor c(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
  EXPECT_THAT(connect(c.get(), l.addr.get(), l.addr.len), SyscallSucceeds());
}

TEST(UnixStreamTest, BlockingConnectWaitsForBacklogRoom) {
  TempPath dir = SocketDir();
  Listener l = Listen(dir, 0);
  // Fill the queue without blocking.
  std::vector<FileDescriptor> clients;
  for (int i = 0; i < 64; i++) {
    FileDescriptor c(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
    if (connect(c.get(), l.addr.get(), l.addr.len) != 0) {
      ASSERT_EQ(errno, EAGAIN);
      break;
    }
    clients.push_back(std::move(c));
  }
  ASSERT_FALSE(clients.empty());
  std::atomic<bool> connected{false};
  std::thread t([&] {
    FileDescriptor c(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_THAT(connect(c.get(), l.addr.get(), l.addr.len), SyscallSucceeds());
    connected = true;
  });
  // Give the thread time to block in connect().
  usleep(50 * 1000);
  EXPECT_FALSE(connected);
  FileDescriptor s(accept(l.fd.get(), nullptr, nullptr));
  EXPECT_THAT(s.get(), SyscallSucceeds());
  t.join();
  EXPECT_TRUE(connected);
}

TEST(UnixStreamTest, ClosingListenerResetsPendingConnections) {
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  FileDescriptor c = Connect(l.addr);
  l.fd.reset();
  // The connection was never accepted: the client sees ECONNRESET once,
  // then end of file.
  char buf[4];
  EXPECT_THAT(read(c.get(), buf, sizeof(buf)),
              SyscallFailsWithErrno(ECONNRESET));
  EXPECT_THAT(read(c.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
}

TEST(UnixStreamTest, UnlinkedPathKeepsConnectionsButRefusesNewOnes) {
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  FileDescriptor c1 = Connect(l.addr);
  ASSERT_THAT(unlink(l.path.c_str()), SyscallSucceeds());
  FileDescriptor c2(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(connect(c2.get(), l.addr.get(), l.addr.len),
              SyscallFailsWithErrno(ENOENT));
  FileDescriptor s(accept(l.fd.get(), nullptr, nullptr));
  ASSERT_THAT(s.get(), SyscallSucceeds());
  ASSERT_THAT(write(c1.get(), "x", 1), SyscallSucceeds());
  char c;
  EXPECT_THAT(read(s.get(), &c, 1), SyscallSucceedsWithValue(1));
}

TEST(UnixStreamTest, RenamedSocketFileStillReachesListener) {
  // Connecting resolves the path to the socket's inode, not its name.
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  ASSERT_THAT(rename(l.path.c_str(), dir.Child("moved").c_str()),
              SyscallSucceeds());
  FileDescriptor c = Connect(PathAddr(dir.Child("moved")));
  FileDescriptor s(accept(l.fd.get(), nullptr, nullptr));
  EXPECT_THAT(s.get(), SyscallSucceeds());
  // getsockname still reports the name it was bound to.
  EXPECT_EQ(std::string(SockName(l.fd.get()).sun.sun_path), l.path);
}

TEST(UnixStreamTest, ConnectThroughSymlink) {
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  ASSERT_THAT(symlink(l.path.c_str(), dir.Child("ln").c_str()),
              SyscallSucceeds());
  FileDescriptor c = Connect(PathAddr(dir.Child("ln")));
  FileDescriptor s(accept(l.fd.get(), nullptr, nullptr));
  EXPECT_THAT(s.get(), SyscallSucceeds());
}

TEST(UnixStreamTest, AcceptedConnectionOutlivesListener) {
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  FileDescriptor c = Connect(l.addr);
  FileDescriptor s(accept(l.fd.get(), nullptr, nullptr));
  ASSERT_THAT(s.get(), SyscallSucceeds());
  l.fd.reset();
  ASSERT_THAT(write(c.get(), "still", 5), SyscallSucceeds());
  char buf[8];
  EXPECT_THAT(read(s.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(5));
}

// --- abstract namespace and autobind -----------------------------------------

TEST(UnixStreamTest, AbstractBindCreatesNoFile) {
  TempPath dir = SocketDir();
  std::string name = UniqueAbstractName("sentry_stream_test");
  UnixAddr addr = AbstractAddr(name);
  FileDescriptor l(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(bind(l.get(), addr.get(), addr.len), SyscallSucceeds());
  ASSERT_THAT(listen(l.get(), 4), SyscallSucceeds());
  // getsockname returns exactly the bytes bound, leading NUL included.
  UnixAddr got = SockName(l.get());
  ASSERT_EQ(got.len, addr.len);
  EXPECT_EQ(got.sun.sun_path[0], '\0');
  EXPECT_EQ(std::string(got.sun.sun_path + 1, name.size()), name);
  FileDescriptor c = Connect(addr);
  FileDescriptor s(accept(l.get(), nullptr, nullptr));
  ASSERT_THAT(s.get(), SyscallSucceeds());
  EXPECT_EQ(PeerName(c.get()).len, addr.len);
  // Nothing appeared in the directory (nor anywhere we could name).
  struct stat st;
  EXPECT_THAT(lstat(dir.Child(name).c_str(), &st),
              SyscallFailsWithErrno(ENOENT));
}

TEST(UnixStreamTest, AbstractNamesAreLengthSensitive) {
  std::string name = UniqueAbstractName("sentry_stream_test");
  UnixAddr addr = AbstractAddr(name);
  FileDescriptor l(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(bind(l.get(), addr.get(), addr.len), SyscallSucceeds());
  ASSERT_THAT(listen(l.get(), 4), SyscallSucceeds());
  // The same bytes plus a trailing NUL are a different name.
  UnixAddr longer = addr;
  longer.len++;
  FileDescriptor c(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(connect(c.get(), longer.get(), longer.len),
              SyscallFailsWithErrno(ECONNREFUSED));
  // ...which can be bound separately.
  FileDescriptor other(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(bind(other.get(), longer.get(), longer.len), SyscallSucceeds());
  // A prefix is different too.
  UnixAddr shorter = addr;
  shorter.len--;
  EXPECT_THAT(connect(c.get(), shorter.get(), shorter.len),
              SyscallFailsWithErrno(ECONNREFUSED));
}

TEST(UnixStreamTest, AbstractNameInUseUntilClosed) {
  UnixAddr addr = AbstractAddr(UniqueAbstractName("sentry_stream_test"));
  FileDescriptor a(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(bind(a.get(), addr.get(), addr.len), SyscallSucceeds());
  FileDescriptor b(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(bind(b.get(), addr.get(), addr.len),
              SyscallFailsWithErrno(EADDRINUSE));
  // unix(7): the name goes away automatically when the socket is closed.
  a.reset();
  EXPECT_THAT(bind(b.get(), addr.get(), addr.len), SyscallSucceeds());
}

TEST(UnixStreamTest, ConnectToUnboundAbstractNameFailsEconnrefused) {
  UnixAddr addr = AbstractAddr(UniqueAbstractName("sentry_stream_test"));
  FileDescriptor c(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(connect(c.get(), addr.get(), addr.len),
              SyscallFailsWithErrno(ECONNREFUSED));
}

bool IsAutobindName(const UnixAddr& a) {
  // unix(7): a NUL followed by 5 bytes in the character set [0-9a-f].
  if (a.len != kPathOffset + 6 || a.sun.sun_path[0] != '\0') return false;
  for (int i = 1; i <= 5; i++) {
    char c = a.sun.sun_path[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST(UnixStreamTest, AutobindGivesAbstractHexName) {
  FileDescriptor a(socket(AF_UNIX, SOCK_STREAM, 0));
  FileDescriptor b(socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  ASSERT_THAT(
      bind(a.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(sa_family_t)),
      SyscallSucceeds());
  ASSERT_THAT(
      bind(b.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(sa_family_t)),
      SyscallSucceeds());
  UnixAddr na = SockName(a.get()), nb = SockName(b.get());
  EXPECT_TRUE(IsAutobindName(na))
      << na.len << " " << std::string(na.sun.sun_path, 6);
  EXPECT_TRUE(IsAutobindName(nb));
  EXPECT_NE(std::string(na.sun.sun_path, 6), std::string(nb.sun.sun_path, 6));
  // The autobound name can be listened on and connected to.
  ASSERT_THAT(listen(a.get(), 1), SyscallSucceeds());
  FileDescriptor c = Connect(na);
  FileDescriptor s(accept(a.get(), nullptr, nullptr));
  EXPECT_THAT(s.get(), SyscallSucceeds());
}

TEST(UnixStreamTest, FstatAndProcFdShowASocket) {
  Pair p = MakePair();
  struct stat st;
  ASSERT_THAT(fstat(p.a.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISSOCK(st.st_mode)) << std::oct << st.st_mode;
  // /proc/self/fd names it "socket:[<inode>]".
  char link[64] = {};
  std::string fdpath = "/proc/self/fd/" + std::to_string(p.a.get());
  ASSERT_THAT(readlink(fdpath.c_str(), link, sizeof(link) - 1),
              SyscallSucceeds());
  EXPECT_EQ(std::string(link), "socket:[" + std::to_string(st.st_ino) + "]");
  // The two ends are different sockets.
  struct stat st2;
  ASSERT_THAT(fstat(p.b.get(), &st2), SyscallSucceeds());
  EXPECT_NE(st.st_ino, st2.st_ino);
}

// --- end of file, EPIPE, SIGPIPE ---------------------------------------------

TEST(UnixStreamTest, ReadReturnsQueuedDataThenEofAfterPeerClose) {
  Pair p = MakePair();
  ASSERT_THAT(write(p.a.get(), "bye", 3), SyscallSucceeds());
  p.a.reset();
  char buf[8];
  EXPECT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(3));
  EXPECT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
  EXPECT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
}

TEST(UnixStreamTest, ForkWriteAfterPeerCloseRaisesSigpipe) {
  Pair p = MakePair();
  p.b.reset();
  int status = ForkAndWait([&] {
    signal(SIGPIPE, SIG_DFL);
    write(p.a.get(), "x", 1);
    return 0;  // not reached: SIGPIPE kills
  });
  EXPECT_THAT(status, KilledBySignal(SIGPIPE));
}

TEST(UnixStreamTest, WriteAfterPeerCloseFailsEpipeWhenIgnored) {
  ScopedIgnoreSigpipe ignore;
  Pair p = MakePair();
  p.b.reset();
  EXPECT_THAT(write(p.a.get(), "x", 1), SyscallFailsWithErrno(EPIPE));
  EXPECT_THAT(send(p.a.get(), "x", 1, 0), SyscallFailsWithErrno(EPIPE));
}

TEST(UnixStreamTest, MsgNosignalSuppressesSigpipe) {
  Pair p = MakePair();
  p.b.reset();
  // With SIGPIPE blocked, a raised signal would stay pending; MSG_NOSIGNAL
  // must not raise it at all.
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, &old), SyscallSucceeds());
  EXPECT_THAT(send(p.a.get(), "x", 1, MSG_NOSIGNAL),
              SyscallFailsWithErrno(EPIPE));
  sigset_t pending;
  ASSERT_THAT(sigpending(&pending), SyscallSucceeds());
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
  // Without the flag it is raised (and left pending here).
  EXPECT_THAT(send(p.a.get(), "x", 1, 0), SyscallFailsWithErrno(EPIPE));
  ASSERT_THAT(sigpending(&pending), SyscallSucceeds());
  EXPECT_TRUE(sigismember(&pending, SIGPIPE));
  struct timespec zero = {0, 0};
  EXPECT_THAT(sigtimedwait(&set, nullptr, &zero),
              SyscallSucceedsWithValue(SIGPIPE));
  ASSERT_THAT(sigprocmask(SIG_SETMASK, &old, nullptr), SyscallSucceeds());
}

// --- shutdown ----------------------------------------------------------------

TEST(UnixStreamTest, ShutdownWrGivesPeerEof) {
  ScopedIgnoreSigpipe ignore;
  Pair p = MakePair();
  ASSERT_THAT(write(p.a.get(), "last", 4), SyscallSucceeds());
  ASSERT_THAT(shutdown(p.a.get(), SHUT_WR), SyscallSucceeds());
  char buf[8];
  EXPECT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(4));
  EXPECT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
  // The shut-down side can no longer write...
  EXPECT_THAT(write(p.a.get(), "x", 1), SyscallFailsWithErrno(EPIPE));
  // ...but the other direction still works.
  ASSERT_THAT(write(p.b.get(), "back", 4), SyscallSucceedsWithValue(4));
  EXPECT_THAT(read(p.a.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(4));
}

TEST(UnixStreamTest, ShutdownRd) {
  ScopedIgnoreSigpipe ignore;
  Pair p = MakePair();
  ASSERT_THAT(shutdown(p.a.get(), SHUT_RD), SyscallSucceeds());
  // Reading now returns end of file instead of blocking.
  char buf[8];
  EXPECT_THAT(read(p.a.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
  // The peer can no longer send to it.
  EXPECT_THAT(write(p.b.get(), "x", 1), SyscallFailsWithErrno(EPIPE));
  // It can still send.
  ASSERT_THAT(write(p.a.get(), "ok", 2), SyscallSucceedsWithValue(2));
  EXPECT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(2));
}

TEST(UnixStreamTest, ShutdownInvalidHowFailsEinval) {
  Pair p = MakePair();
  EXPECT_THAT(shutdown(p.a.get(), 3), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(shutdown(p.a.get(), -1), SyscallFailsWithErrno(EINVAL));
}

// --- recv flags --------------------------------------------------------------

TEST(UnixStreamTest, MsgPeekLeavesData) {
  Pair p = MakePair();
  ASSERT_THAT(write(p.a.get(), "peekaboo", 8), SyscallSucceeds());
  char buf[16];
  ASSERT_THAT(recv(p.b.get(), buf, 4, MSG_PEEK), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "peek");
  ASSERT_THAT(recv(p.b.get(), buf, sizeof(buf), MSG_PEEK),
              SyscallSucceedsWithValue(8));
  ASSERT_THAT(recv(p.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(8));
  EXPECT_EQ(std::string(buf, 8), "peekaboo");
}

TEST(UnixStreamTest, MsgDontwaitOnEmptyFailsEagain) {
  Pair p = MakePair();
  char c;
  EXPECT_THAT(recv(p.b.get(), &c, 1, MSG_DONTWAIT),
              SyscallFailsWithErrno(EAGAIN));
  // The socket itself stayed blocking.
  EXPECT_FALSE(fcntl(p.b.get(), F_GETFL) & O_NONBLOCK);
  // A nonblocking socket fails the same way on a plain read.
  ASSERT_THAT(fcntl(p.b.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  EXPECT_THAT(read(p.b.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixStreamTest, MsgDontwaitOnFullSendBufferFailsEagain) {
  Pair p = MakePair();
  std::vector<char> chunk(65536, 'z');
  ssize_t total = 0;
  for (;;) {
    ssize_t n = send(p.a.get(), chunk.data(), chunk.size(), MSG_DONTWAIT);
    if (n < 0) {
      EXPECT_EQ(errno, EAGAIN);
      break;
    }
    total += n;
    ASSERT_LT(total, 256 << 20) << "send buffer never filled";
  }
  EXPECT_GT(total, 0);
}

TEST(UnixStreamTest, ZeroLengthSendAndRecv) {
  Pair p = MakePair();
  EXPECT_THAT(send(p.a.get(), "", 0, 0), SyscallSucceedsWithValue(0));
  ASSERT_THAT(send(p.a.get(), "ab", 2, 0), SyscallSucceeds());
  // A zero-length read with data queued returns 0 and consumes nothing.
  char buf[4];
  EXPECT_THAT(recv(p.b.get(), buf, 0, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(2));
}

TEST(UnixStreamTest, SendmsgTooManyIovecsFailsEmsgsize) {
  // More than UIO_MAXIOV (1024) iovecs: sendmsg says EMSGSIZE (writev
  // would say EINVAL).
  Pair p = MakePair();
  char c = 'i';
  std::vector<struct iovec> iov(1025, {&c, 1});
  struct msghdr msg = {};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  EXPECT_THAT(sendmsg(p.a.get(), &msg, 0), SyscallFailsWithErrno(EMSGSIZE));
  EXPECT_THAT(writev(p.a.get(), iov.data(), iov.size()),
              SyscallFailsWithErrno(EINVAL));
  msg.msg_iovlen = 1024;
  EXPECT_THAT(sendmsg(p.a.get(), &msg, 0), SyscallSucceedsWithValue(1024));
}

TEST(UnixStreamTest, MsgWaitallWaitsForEverything) {
  Pair p = MakePair();
  std::thread writer([&] {
    for (int i = 0; i < 4; i++) {
      // Spread over several writes so one plain read might return early.
      EXPECT_THAT(write(p.a.get(), "abcd", 4), SyscallSucceedsWithValue(4));
      usleep(5 * 1000);
    }
  });
  char buf[16];
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), MSG_WAITALL),
              SyscallSucceedsWithValue(16));
  EXPECT_EQ(std::string(buf, 16), "abcdabcdabcdabcd");
  writer.join();
}

TEST(UnixStreamTest, MsgWaitallReturnsShortAtEof) {
  Pair p = MakePair();
  ASSERT_THAT(write(p.a.get(), "abc", 3), SyscallSucceeds());
  p.a.reset();
  char buf[16];
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), MSG_WAITALL),
              SyscallSucceedsWithValue(3));
}

// --- bulk transfer -----------------------------------------------------------

constexpr size_t kBulkSize = 4 << 20;

char Pattern(size_t i) { return static_cast<char>((i * 7 + i / 251) & 0xff); }

TEST(UnixStreamTest, LargeTransferAcrossThread) {
  Pair p = MakePair();
  std::thread writer([&] {
    std::vector<char> data(kBulkSize);
    for (size_t i = 0; i < data.size(); i++) data[i] = Pattern(i);
    EXPECT_TRUE(
        WriteAll(p.a.get(), std::string_view(data.data(), data.size())));
    p.a.reset();
  });
  std::string got = ReadAll(p.b.get());
  writer.join();
  ASSERT_EQ(got.size(), kBulkSize);
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); i++) bad += got[i] != Pattern(i);
  EXPECT_EQ(bad, 0u);
}

TEST(UnixStreamTest, ForkLargeTransfer) {
  Pair p = MakePair();
  // A parent thread reads while the child writes; ForkAndWait blocks the
  // main thread until the child is done.
  std::string got;
  std::thread reader([&] {
    got = ReadWithTimeout(p.b.get(), kBulkSize);
    // Should the read have stopped early, this makes the child's writes
    // fail instead of blocking forever.
    p.b.reset();
  });
  int status = ForkAndWait([&] {
    close(p.b.get());
    std::vector<char> data(kBulkSize);
    for (size_t i = 0; i < data.size(); i++) data[i] = Pattern(i);
    CHILD_EXPECT(
        WriteAll(p.a.get(), std::string_view(data.data(), data.size())));
    return 0;
  });
  reader.join();
  EXPECT_THAT(status, ExitedWithCode(0));
  ASSERT_EQ(got.size(), kBulkSize);
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); i++) bad += got[i] != Pattern(i);
  EXPECT_EQ(bad, 0u);
}

TEST(UnixStreamTest, NonblockingLargeWriteIsPartial) {
  // A nonblocking write larger than the free buffer space writes what fits
  // and returns that count rather than failing.
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv),
              SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  std::vector<char> big(16 << 20, 'p');
  ssize_t n = write(a.get(), big.data(), big.size());
  ASSERT_THAT(n, SyscallSucceeds());
  EXPECT_GT(n, 0);
  EXPECT_LT(n, static_cast<ssize_t>(big.size()));
  EXPECT_THAT(write(a.get(), big.data(), big.size()),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixStreamTest, SendfileIntoSocket) {
  TempPath f = TempPath::CreateFile("0123456789abcdef");
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  Pair p = MakePair();
  off_t off = 4;
  ASSERT_THAT(sendfile(p.a.get(), fd.get(), &off, 8),
              SyscallSucceedsWithValue(8));
  EXPECT_EQ(off, 12);
  char buf[16];
  ASSERT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(8));
  EXPECT_EQ(std::string(buf, 8), "456789ab");
}

TEST(UnixStreamTest, SpliceFromSocketToPipe) {
  Pair p = MakePair();
  int pp[2];
  ASSERT_THAT(pipe(pp), SyscallSucceeds());
  FileDescriptor r(pp[0]), w(pp[1]);
  ASSERT_THAT(write(p.a.get(), "spliced", 7), SyscallSucceeds());
  ASSERT_THAT(splice(p.b.get(), nullptr, w.get(), nullptr, 7, 0),
              SyscallSucceedsWithValue(7));
  char buf[8];
  ASSERT_THAT(read(r.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(7));
  EXPECT_EQ(std::string(buf, 7), "spliced");
}

// --- ioctl and socket options ------------------------------------------------

TEST(UnixStreamTest, FionreadCountsQueuedBytes) {
  Pair p = MakePair();
  int n = -1;
  ASSERT_THAT(ioctl(p.b.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 0);
  ASSERT_THAT(write(p.a.get(), "abc", 3), SyscallSucceeds());
  ASSERT_THAT(write(p.a.get(), "defgh", 5), SyscallSucceeds());
  ASSERT_THAT(ioctl(p.b.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 8);
  char buf[2];
  ASSERT_THAT(read(p.b.get(), buf, 2), SyscallSucceeds());
  ASSERT_THAT(ioctl(p.b.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 6);
}

TEST(UnixStreamTest, TypeDomainProtocolOptions) {
  Pair p = MakePair();
  EXPECT_EQ(GetIntOpt(p.a.get(), SO_TYPE), SOCK_STREAM);
  EXPECT_EQ(GetIntOpt(p.a.get(), SO_DOMAIN), AF_UNIX);
  EXPECT_EQ(GetIntOpt(p.a.get(), SO_PROTOCOL), 0);
  // These are read-only.
  int v = SOCK_DGRAM;
  EXPECT_THAT(setsockopt(p.a.get(), SOL_SOCKET, SO_TYPE, &v, sizeof(v)),
              SyscallFailsWithErrno(ENOPROTOOPT));
}

TEST(UnixStreamTest, SoAcceptconn) {
  TempPath dir = SocketDir();
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_EQ(GetIntOpt(s.get(), SO_ACCEPTCONN), 0);
  UnixAddr addr = PathAddr(dir.Child("s"));
  ASSERT_THAT(bind(s.get(), addr.get(), addr.len), SyscallSucceeds());
  EXPECT_EQ(GetIntOpt(s.get(), SO_ACCEPTCONN), 0);
  ASSERT_THAT(listen(s.get(), 1), SyscallSucceeds());
  EXPECT_EQ(GetIntOpt(s.get(), SO_ACCEPTCONN), 1);
  FileDescriptor c = Connect(addr);
  FileDescriptor a(accept(s.get(), nullptr, nullptr));
  EXPECT_EQ(GetIntOpt(a.get(), SO_ACCEPTCONN), 0);
}

TEST(UnixStreamTest, SoErrorIsZeroOnHealthySocket) {
  Pair p = MakePair();
  EXPECT_EQ(GetIntOpt(p.a.get(), SO_ERROR), 0);
}

TEST(UnixStreamTest, SoErrorReportsResetOnce) {
  // The same reset the read in ClosingListenerResetsPendingConnections sees,
  // fetched (and cleared) through SO_ERROR instead.
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  FileDescriptor c = Connect(l.addr);
  l.fd.reset();
  EXPECT_EQ(GetIntOpt(c.get(), SO_ERROR), ECONNRESET);
  EXPECT_EQ(GetIntOpt(c.get(), SO_ERROR), 0);
}

TEST(UnixStreamTest, SetBufferSizesAreDoubled) {
  // socket(7): the kernel doubles the value set, and getsockopt returns the
  // doubled value.
  Pair p = MakePair();
  int v = 32768;
  ASSERT_THAT(setsockopt(p.a.get(), SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)),
              SyscallSucceeds());
  EXPECT_EQ(GetIntOpt(p.a.get(), SO_SNDBUF), 2 * v);
  ASSERT_THAT(setsockopt(p.a.get(), SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)),
              SyscallSucceeds());
  EXPECT_EQ(GetIntOpt(p.a.get(), SO_RCVBUF), 2 * v);
  // Too short an option value.
  char small = 1;
  EXPECT_THAT(
      setsockopt(p.a.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)),
      SyscallFailsWithErrno(EINVAL));
}

TEST(UnixStreamTest, UnknownSocketOptionFailsEnoprotoopt) {
  Pair p = MakePair();
  int v = 0;
  socklen_t len = sizeof(v);
  EXPECT_THAT(getsockopt(p.a.get(), SOL_SOCKET, 12345, &v, &len),
              SyscallFailsWithErrno(ENOPROTOOPT));
}

// Milliseconds since an arbitrary point.
double NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

TEST(UnixStreamTest, SoRcvtimeoTimesOutEagain) {
  Pair p = MakePair();
  struct timeval tv = {0, 100 * 1000};
  ASSERT_THAT(setsockopt(p.b.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)),
              SyscallSucceeds());
  // Read back, rounded to the kernel's clock granularity at most.
  struct timeval got = {};
  socklen_t len = sizeof(got);
  ASSERT_THAT(getsockopt(p.b.get(), SOL_SOCKET, SO_RCVTIMEO, &got, &len),
              SyscallSucceeds());
  EXPECT_EQ(len, sizeof(got));
  EXPECT_EQ(got.tv_sec, 0);
  EXPECT_GE(got.tv_usec, 100 * 1000);
  EXPECT_LE(got.tv_usec, 120 * 1000);
  double start = NowMs();
  char c;
  EXPECT_THAT(recv(p.b.get(), &c, 1, 0), SyscallFailsWithErrno(EAGAIN));
  EXPECT_GE(NowMs() - start, 90);
}

TEST(UnixStreamTest, SoSndtimeoTimesOutEagain) {
  Pair p = MakePair();
  std::vector<char> chunk(65536, 't');
  while (send(p.a.get(), chunk.data(), chunk.size(), MSG_DONTWAIT) > 0) {
  }
  ASSERT_EQ(errno, EAGAIN);
  struct timeval tv = {0, 50 * 1000};
  ASSERT_THAT(setsockopt(p.a.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)),
              SyscallSucceeds());
  double start = NowMs();
  EXPECT_THAT(send(p.a.get(), chunk.data(), chunk.size(), 0),
              SyscallFailsWithErrno(EAGAIN));
  EXPECT_GE(NowMs() - start, 40);
}

TEST(UnixStreamTest, SoPeercredOfUnconnectedSocket) {
  // No peer: Linux reports pid 0 and uid/gid -1.
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  struct ucred cred = {1, 1, 1};
  socklen_t len = sizeof(cred);
  ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len),
              SyscallSucceeds());
  EXPECT_EQ(cred.pid, 0);
  EXPECT_EQ(cred.uid, static_cast<uid_t>(-1));
  EXPECT_EQ(cred.gid, static_cast<gid_t>(-1));
}

TEST(UnixStreamTest, SoPeercredOfSocketpair) {
  Pair p = MakePair();
  struct ucred cred = {};
  socklen_t len = sizeof(cred);
  ASSERT_THAT(getsockopt(p.a.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len),
              SyscallSucceeds());
  EXPECT_EQ(len, sizeof(cred));
  EXPECT_EQ(cred.pid, getpid());
  EXPECT_EQ(cred.uid, geteuid());
  EXPECT_EQ(cred.gid, getegid());
}

TEST(UnixStreamTest, ForkSoPeercredOfConnectAccept) {
  TempPath dir = SocketDir();
  Listener l = Listen(dir);
  const pid_t parent = getpid();
  // The parent accepts on a thread while the child stays connected.
  std::thread acceptor([&] {
    // Bounded wait, so that a child that failed to connect fails the test
    // instead of hanging it.
    struct pollfd pfd = {l.fd.get(), POLLIN, 0};
    ASSERT_THAT(poll(&pfd, 1, 10000), SyscallSucceedsWithValue(1));
    FileDescriptor s(accept(l.fd.get(), nullptr, nullptr));
    ASSERT_THAT(s.get(), SyscallSucceeds());
    pid_t child = 0;
    std::string msg = ReadWithTimeout(s.get(), sizeof(child));
    ASSERT_EQ(msg.size(), sizeof(child));
    memcpy(&child, msg.data(), sizeof(child));
    struct ucred cred = {};
    socklen_t len = sizeof(cred);
    ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len),
                SyscallSucceeds());
    EXPECT_EQ(cred.pid, child);
    EXPECT_EQ(cred.uid, geteuid());
    EXPECT_EQ(cred.gid, getegid());
    // Let the child exit.
    EXPECT_THAT(write(s.get(), "k", 1), SyscallSucceeds());
  });
  int status = ForkAndWait([&] {
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHILD_EXPECT(c >= 0);
    CHILD_EXPECT(connect(c, l.addr.get(), l.addr.len) == 0);
    // The client sees the credentials of the process that called listen().
    struct ucred cred = {};
    socklen_t len = sizeof(cred);
    CHILD_EXPECT(getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0);
    CHILD_EXPECT(cred.pid == parent);
    pid_t self = getpid();
    CHILD_EXPECT(write(c, &self, sizeof(self)) == sizeof(self));
    char k;
    CHILD_EXPECT(read(c, &k, 1) == 1);
    return 0;
  });
  acceptor.join();
  EXPECT_THAT(status, ExitedWithCode(0));
}

}  // namespace
}  // namespace sentry::testing
