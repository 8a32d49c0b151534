// Ancillary data on AF_UNIX sockets, from unix(7), cmsg(3), sendmsg(2) and
// recvmsg(2): SCM_RIGHTS (passing descriptors) and SCM_CREDENTIALS with
// SO_PASSCRED.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/socket_util.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

using Pair = SocketPair;

Pair MakePair(int type = SOCK_STREAM) { return MakeSocketPair(type); }

struct Pipe {
  FileDescriptor r, w;
};

Pipe MakePipe() {
  int p[2] = {-1, -1};
  EXPECT_THAT(pipe2(p, O_CLOEXEC), SyscallSucceeds());
  return {FileDescriptor(p[0]), FileDescriptor(p[1])};
}

// A control buffer aligned for struct cmsghdr.
class ControlBuffer {
 public:
  explicit ControlBuffer(size_t size)
      : words_((size + sizeof(uint64_t) - 1) / sizeof(uint64_t) + 1),
        size_(size) {}
  void* data() { return words_.data(); }
  size_t size() const { return size_; }

 private:
  std::vector<uint64_t> words_;
  size_t size_;
};

// sendmsg() of `data` with one SCM_RIGHTS message carrying `fds` (none when
// empty).
ssize_t SendFds(int sock, const std::vector<int>& fds,
                std::string_view data = "x", int flags = 0) {
  struct iovec iov = {const_cast<char*>(data.data()), data.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ControlBuffer control(CMSG_SPACE(fds.size() * sizeof(int)));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    memcpy(CMSG_DATA(cmsg), fds.data(), fds.size() * sizeof(int));
  }
  return sendmsg(sock, &msg, flags);
}

// What one recvmsg() returned.
struct Received {
  ssize_t n = -1;
  std::string data;
  int msg_flags = 0;
  size_t controllen = 0;
  // SCM_RIGHTS descriptors, owned.
  std::vector<FileDescriptor> fds;
  // cmsg_len of the SCM_RIGHTS message, 0 if none.
  size_t rights_len = 0;
  bool has_creds = false;
  struct ucred creds = {};
};

// recvmsg() with a `controllen`-byte control buffer (no buffer at all when
// 0).
Received Recv(int sock, size_t controllen, int flags = 0, size_t datalen = 64) {
  Received r;
  std::vector<char> buf(datalen);
  struct iovec iov = {buf.data(), buf.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ControlBuffer control(controllen);
  if (controllen > 0) {
    msg.msg_control = control.data();
    msg.msg_controllen = controllen;
  }
  r.n = recvmsg(sock, &msg, flags);
  if (r.n < 0) {
    ADD_FAILURE() << "recvmsg: " << strerror(errno);
    return r;
  }
  r.data.assign(buf.data(), std::min<size_t>(r.n, buf.size()));
  r.msg_flags = msg.msg_flags;
  r.controllen = msg.msg_controllen;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      r.rights_len = c->cmsg_len;
      size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < n; i++) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
        r.fds.emplace_back(fd);
      }
    } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      EXPECT_EQ(c->cmsg_len, CMSG_LEN(sizeof(struct ucred)));
      r.has_creds = true;
      memcpy(&r.creds, CMSG_DATA(c), sizeof(r.creds));
    } else {
      ADD_FAILURE() << "unexpected cmsg level " << c->cmsg_level << " type "
                    << c->cmsg_type;
    }
  }
  return r;
}

constexpr size_t kRoomy = 1024;

void SetPasscred(int fd, int on) {
  ASSERT_THAT(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)),
              SyscallSucceeds());
}

// Sends `data` with an explicit SCM_CREDENTIALS message.
ssize_t SendCreds(int sock, const struct ucred& creds,
                  std::string_view data = "c") {
  struct iovec iov = {const_cast<char*>(data.data()), data.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ControlBuffer control(CMSG_SPACE(sizeof(creds)));
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_CREDENTIALS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(creds));
  memcpy(CMSG_DATA(cmsg), &creds, sizeof(creds));
  return sendmsg(sock, &msg, 0);
}

// --- SCM_RIGHTS --------------------------------------------------------------

TEST(UnixCmsgTest, PassOneFd) {
  Pair s = MakePair();
  Pipe p = MakePipe();
  ASSERT_THAT(SendFds(s.a.get(), {p.w.get()}, "fd"),
              SyscallSucceedsWithValue(2));
  Received r = Recv(s.b.get(), kRoomy);
  EXPECT_EQ(r.data, "fd");
  ASSERT_EQ(r.fds.size(), 1u);
  EXPECT_EQ(r.rights_len, CMSG_LEN(sizeof(int)));
  // A new descriptor for the same pipe end.
  EXPECT_NE(r.fds[0].get(), p.w.get());
  ASSERT_THAT(write(r.fds[0].get(), "via", 3), SyscallSucceedsWithValue(3));
  char buf[4];
  ASSERT_THAT(read(p.r.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "via");
}

TEST(UnixCmsgTest, ControllenIsSpaceOfOneRightsMessage) {
  Pair s = MakePair();
  Pipe p = MakePipe();
  ASSERT_THAT(SendFds(s.a.get(), {p.w.get()}), SyscallSucceeds());
  Received r = Recv(s.b.get(), kRoomy);
  ASSERT_EQ(r.fds.size(), 1u);
  EXPECT_EQ(r.controllen, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(r.msg_flags, 0);
}

TEST(UnixCmsgTest, PassSeveralFdsInOneMessage) {
  Pair s = MakePair();
  Pipe p1 = MakePipe(), p2 = MakePipe(), p3 = MakePipe();
  ASSERT_THAT(SendFds(s.a.get(), {p1.w.get(), p2.w.get(), p3.w.get()}),
              SyscallSucceeds());
  Received r = Recv(s.b.get(), kRoomy);
  ASSERT_EQ(r.fds.size(), 3u);
  EXPECT_EQ(r.rights_len, CMSG_LEN(3 * sizeof(int)));
  // In the order sent.
  Pipe* pipes[] = {&p1, &p2, &p3};
  for (int i = 0; i < 3; i++) {
    char c = static_cast<char>('1' + i);
    ASSERT_THAT(write(r.fds[i].get(), &c, 1), SyscallSucceeds());
    char got;
    ASSERT_THAT(read(pipes[i]->r.get(), &got, 1), SyscallSucceedsWithValue(1));
    EXPECT_EQ(got, c);
  }
}

TEST(UnixCmsgTest, ReceivedFdSharesOpenFileDescription) {
  TempPath f = TempPath::CreateFile("0123456789");
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  Pair s = MakePair();
  ASSERT_THAT(SendFds(s.a.get(), {fd.get()}), SyscallSucceeds());
  Received r = Recv(s.b.get(), kRoomy);
  ASSERT_EQ(r.fds.size(), 1u);
  struct stat a, b;
  ASSERT_THAT(fstat(fd.get(), &a), SyscallSucceeds());
  ASSERT_THAT(fstat(r.fds[0].get(), &b), SyscallSucceeds());
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_dev, b.st_dev);
  // The file offset is shared, as after dup(2).
  char buf[3];
  ASSERT_THAT(read(r.fds[0].get(), buf, 3), SyscallSucceedsWithValue(3));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(3));
  ASSERT_THAT(read(fd.get(), buf, 3), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "345");
  // So are the file status flags; the descriptor flags are not.
  ASSERT_THAT(fcntl(fd.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  EXPECT_TRUE(fcntl(r.fds[0].get(), F_GETFL) & O_NONBLOCK);
}

TEST(UnixCmsgTest, FdInFlightOutlivesSendersCopy) {
  Pair s = MakePair();
  Pipe p = MakePipe();
  ASSERT_THAT(SendFds(s.a.get(), {p.w.get()}), SyscallSucceeds());
  // The sender's descriptor and socket go away before the receive.
  p.w.reset();
  s.a.reset();
  Received r = Recv(s.b.get(), kRoomy);
  ASSERT_EQ(r.fds.size(), 1u);
  ASSERT_THAT(write(r.fds[0].get(), "z", 1), SyscallSucceeds());
  char c;
  EXPECT_THAT(read(p.r.get(), &c, 1), SyscallSucceedsWithValue(1));
  // Closing the received copy closes the last writer.
  r.fds.clear();
  EXPECT_THAT(read(p.r.get(), &c, 1), SyscallSucceedsWithValue(0));
}

TEST(UnixCmsgTest, UnreceivedFdsAreClosedWithTheSocket) {
  Pair s = MakePair();
  Pipe p = MakePipe();
  ASSERT_THAT(SendFds(s.a.get(), {p.w.get()}), SyscallSucceeds());
  p.w.reset();
  // Nobody receives the message: closing the sockets releases the
  // in-flight descriptor, the pipe's last writer.
  s.a.reset();
  s.b.reset();
  char c;
  EXPECT_THAT(read(p.r.get(), &c, 1), SyscallSucceedsWithValue(0));
}

TEST(UnixCmsgTest, ForkPassFdFromChild) {
  TempPath f = TempPath::CreateFile("from the child");
  Pair s = MakePair();
  int status = ForkAndWait([&] {
    int fd = open(f.path().c_str(), O_RDONLY);
    CHILD_EXPECT(fd >= 0);
    CHILD_EXPECT(SendFds(s.b.get(), {fd}) == 1);
    return 0;
  });
  ASSERT_THAT(status, ExitedWithCode(0));
  // The child has exited; the descriptor it sent is still good.
  Received r = Recv(s.a.get(), kRoomy);
  ASSERT_EQ(r.fds.size(), 1u);
  EXPECT_EQ(ReadAll(r.fds[0].get()), "from the child");
}

TEST(UnixCmsgTest, ForkPassFdToChild) {
  Pair s = MakePair();
  Pipe p = MakePipe();
  ASSERT_THAT(SendFds(s.a.get(), {p.w.get()}), SyscallSucceeds());
  p.w.reset();
  int status = ForkAndWait([&] {
    char buf[8];
    struct iovec iov = {buf, sizeof(buf)};
    ControlBuffer control(CMSG_SPACE(sizeof(int)));
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    CHILD_EXPECT(recvmsg(s.b.get(), &msg, 0) == 1);
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    CHILD_EXPECT(cmsg != nullptr && cmsg->cmsg_type == SCM_RIGHTS);
    int fd;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
    CHILD_EXPECT(write(fd, "kid", 3) == 3);
    return 0;
  });
  EXPECT_THAT(status, ExitedWithCode(0));
  // The child's copy died with it; ours was closed above: EOF after data.
  EXPECT_EQ(ReadAll(p.r.get()), "kid");
}

TEST(UnixCmsgTest, PassSocketFd) {
  Pair carrier = MakePair();
  Pair inner = MakePair();
  ASSERT_THAT(SendFds(carrier.a.get(), {inner.a.get()}), SyscallSucceeds());
  inner.a.reset();
  Received r = Recv(carrier.b.get(), kRoomy);
  ASSERT_EQ(r.fds.size(), 1u);
  ASSERT_THAT(send(r.fds[0].get(), "sock", 4, 0), SyscallSucceedsWithValue(4));
  char buf[8];
  EXPECT_THAT(recv(inner.b.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(4));
}

TEST(UnixCmsgTest, PassFdOverDatagramAndSeqpacket) {
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    Pair s = MakePair(type);
    Pipe p = MakePipe();
    ASSERT_THAT(SendFds(s.a.get(), {p.w.get()}, "dg"), SyscallSucceeds());
    ASSERT_THAT(send(s.a.get(), "plain", 5, 0), SyscallSucceeds());
    Received r = Recv(s.b.get(), kRoomy);
    EXPECT_EQ(r.data, "dg");
    EXPECT_EQ(r.fds.size(), 1u);
    // The next datagram carries nothing.
    Received r2 = Recv(s.b.get(), kRoomy);
    EXPECT_EQ(r2.data, "plain");
    EXPECT_TRUE(r2.fds.empty());
    EXPECT_EQ(r2.controllen, 0u);
  }
}

TEST(UnixCmsgTest, StreamReadStopsAtMessageWithFds) {
  // A stream read returns the descriptors with the bytes they were sent
  // with, so it does not run on into the following data.
  Pair s = MakePair();
  Pipe p = MakePipe();
  ASSERT_THAT(SendFds(s.a.get(), {p.w.get()}, "a"), SyscallSucceeds());
  ASSERT_THAT(send(s.a.get(), "b", 1, 0), SyscallSucceeds());
  Received r = Recv(s.b.get(), kRoomy, 0, 2);
  EXPECT_EQ(r.data, "a");
  EXPECT_EQ(r.fds.size(), 1u);
  Received r2 = Recv(s.b.get(), kRoomy, 0, 2);
  EXPECT_EQ(r2.data, "b");
  EXPECT_TRUE(r2.fds.empty());
}

TEST(UnixCmsgTest, CtruncWhenControlBufferTooSmall) {
  Pair s = MakePair();
  Pipe p1 = MakePipe(), p2 = MakePipe();
  ASSERT_THAT(SendFds(s.a.get(), {p1.w.get(), p2.w.get()}), SyscallSucceeds());
  p1.w.reset();
  p2.w.reset();
  // Room for one descriptor only.
  Received r = Recv(s.b.get(), CMSG_LEN(sizeof(int)));
  EXPECT_TRUE(r.msg_flags & MSG_CTRUNC) << r.msg_flags;
  ASSERT_EQ(r.fds.size(), 1u);
  // The first was delivered; the one that did not fit was closed rather
  // than leaked into our table, so the second pipe has no writer left.
  char c;
  ASSERT_THAT(write(r.fds[0].get(), "1", 1), SyscallSucceeds());
  EXPECT_THAT(read(p1.r.get(), &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(read(p2.r.get(), &c, 1), SyscallSucceedsWithValue(0));
}

TEST(UnixCmsgTest, NoControlBufferDropsFdsWithCtrunc) {
  Pair s = MakePair();
  Pipe p = MakePipe();
  ASSERT_THAT(SendFds(s.a.get(), {p.w.get()}, "d"), SyscallSucceeds());
  p.w.reset();
  Received r = Recv(s.b.get(), 0);
  EXPECT_EQ(r.data, "d");
  EXPECT_TRUE(r.msg_flags & MSG_CTRUNC) << r.msg_flags;
  EXPECT_TRUE(r.fds.empty());
  char c;
  EXPECT_THAT(read(p.r.get(), &c, 1), SyscallSucceedsWithValue(0));
}

TEST(UnixCmsgTest, MsgCmsgCloexecSetsCloseOnExec) {
  Pair s = MakePair();
  Pipe p = MakePipe();  // O_CLOEXEC on our copy: not carried over
  ASSERT_THAT(SendFds(s.a.get(), {p.w.get()}), SyscallSucceeds());
  ASSERT_THAT(SendFds(s.a.get(), {p.w.get()}), SyscallSucceeds());
  Received plain = Recv(s.b.get(), kRoomy, 0, 1);
  ASSERT_EQ(plain.fds.size(), 1u);
  EXPECT_THAT(fcntl(plain.fds[0].get(), F_GETFD), SyscallSucceedsWithValue(0));
  Received cloexec = Recv(s.b.get(), kRoomy, MSG_CMSG_CLOEXEC, 1);
  ASSERT_EQ(cloexec.fds.size(), 1u);
  EXPECT_THAT(fcntl(cloexec.fds[0].get(), F_GETFD),
              SyscallSucceedsWithValue(FD_CLOEXEC));
}

TEST(UnixCmsgTest, InvalidFdFailsEbadf) {
  Pair s = MakePair();
  Pipe p = MakePipe();
  // A number that is not open (and will not be reused below).
  int closed = dup(p.r.get());
  ASSERT_THAT(closed, SyscallSucceeds());
  ASSERT_THAT(close(closed), SyscallSucceeds());
  EXPECT_THAT(SendFds(s.a.get(), {-1}), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(SendFds(s.a.get(), {closed}), SyscallFailsWithErrno(EBADF));
  // One bad descriptor among good ones fails the whole message.
  EXPECT_THAT(SendFds(s.a.get(), {p.w.get(), closed}),
              SyscallFailsWithErrno(EBADF));
  // Nothing was sent.
  char c;
  EXPECT_THAT(recv(s.b.get(), &c, 1, MSG_DONTWAIT),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixCmsgTest, TooManyFdsFailEinval) {
  // unix(7): at most SCM_MAX_FD (253) descriptors per message.
  Pair s = MakePair();
  Pipe p = MakePipe();
  std::vector<int> fds(253, p.w.get());
  ASSERT_THAT(SendFds(s.a.get(), fds), SyscallSucceeds());
  Received r = Recv(s.b.get(), CMSG_SPACE(253 * sizeof(int)));
  EXPECT_EQ(r.fds.size(), 253u);
  EXPECT_FALSE(r.msg_flags & MSG_CTRUNC);
  fds.push_back(p.w.get());
  EXPECT_THAT(SendFds(s.a.get(), fds), SyscallFailsWithErrno(EINVAL));
}

// sendmsg() of one byte with `control` as the control buffer.
ssize_t SendControl(int sock, void* control, size_t controllen) {
  char c = 'm';
  struct iovec iov = {&c, 1};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = controllen;
  return sendmsg(sock, &msg, 0);
}

TEST(UnixCmsgTest, MalformedControlMessagesFailEinval) {
  Pair s = MakePair();
  Pipe p = MakePipe();
  ControlBuffer control(CMSG_SPACE(sizeof(int)));
  auto* cmsg = static_cast<struct cmsghdr*>(control.data());
  cmsg->cmsg_level = SOL_SOCKET;
  int fd = p.w.get();
  memcpy(CMSG_DATA(cmsg), &fd, sizeof(fd));
  // An SOL_SOCKET type that does not exist.
  cmsg->cmsg_type = 99;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  EXPECT_THAT(SendControl(s.a.get(), control.data(), control.size()),
              SyscallFailsWithErrno(EINVAL));
  // cmsg_len beyond msg_controllen.
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = control.size() + 8;
  EXPECT_THAT(SendControl(s.a.get(), control.data(), control.size()),
              SyscallFailsWithErrno(EINVAL));
  // cmsg_len shorter than the header.
  cmsg->cmsg_len = sizeof(struct cmsghdr) - 1;
  EXPECT_THAT(SendControl(s.a.get(), control.data(), control.size()),
              SyscallFailsWithErrno(EINVAL));
  // None of those sent anything.
  char c;
  EXPECT_THAT(recv(s.b.get(), &c, 1, MSG_DONTWAIT),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixCmsgTest, EmptyRightsMessageSendsNoFds) {
  Pair s = MakePair();
  ControlBuffer control(CMSG_SPACE(0));
  auto* cmsg = static_cast<struct cmsghdr*>(control.data());
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(0);
  ASSERT_THAT(SendControl(s.a.get(), control.data(), control.size()),
              SyscallSucceedsWithValue(1));
  Received r = Recv(s.b.get(), kRoomy);
  EXPECT_EQ(r.data, "m");
  EXPECT_TRUE(r.fds.empty());
  EXPECT_EQ(r.controllen, 0u);
}

TEST(UnixCmsgTest, PassOpathFd) {
  // An O_PATH descriptor can be passed, and still names its file.
  TempPath dir = TempPath::CreateDir();
  TempPath f = TempPath::CreateFileIn(dir.path(), "via O_PATH");
  FileDescriptor d(open(dir.path().c_str(), O_PATH | O_DIRECTORY));
  ASSERT_THAT(d.get(), SyscallSucceeds());
  Pair s = MakePair();
  ASSERT_THAT(SendFds(s.a.get(), {d.get()}), SyscallSucceeds());
  Received r = Recv(s.b.get(), kRoomy);
  ASSERT_EQ(r.fds.size(), 1u);
  EXPECT_TRUE(fcntl(r.fds[0].get(), F_GETFL) & O_PATH);
  std::string name = f.path().substr(dir.path().size() + 1);
  FileDescriptor file(openat(r.fds[0].get(), name.c_str(), O_RDONLY));
  ASSERT_THAT(file.get(), SyscallSucceeds());
  EXPECT_EQ(ReadAll(file.get()), "via O_PATH");
}

TEST(UnixCmsgTest, PassListeningSocket) {
  // The received listener accepts connections to the same name.
  static std::atomic<int> counter{0};
  std::string name = "sentry_cmsg_listen_" + std::to_string(getpid()) + "_" +
                     std::to_string(counter++);
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path + 1, name.data(), name.size());
  socklen_t len = offsetof(sockaddr_un, sun_path) + 1 + name.size();
  FileDescriptor l(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(bind(l.get(), reinterpret_cast<sockaddr*>(&addr), len),
              SyscallSucceeds());
  ASSERT_THAT(listen(l.get(), 4), SyscallSucceeds());
  Pair s = MakePair();
  ASSERT_THAT(SendFds(s.a.get(), {l.get()}), SyscallSucceeds());
  l.reset();
  Received r = Recv(s.b.get(), kRoomy);
  ASSERT_EQ(r.fds.size(), 1u);
  FileDescriptor c(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(connect(c.get(), reinterpret_cast<sockaddr*>(&addr), len),
              SyscallSucceeds());
  FileDescriptor a(accept(r.fds[0].get(), nullptr, nullptr));
  EXPECT_THAT(a.get(), SyscallSucceeds());
}

TEST(UnixCmsgTest, MsgPeekAlsoDeliversFds) {
  // Linux installs the descriptors for a MSG_PEEK too; the real receive
  // gets its own copies.
  Pair s = MakePair(SOCK_DGRAM);
  Pipe p = MakePipe();
  ASSERT_THAT(SendFds(s.a.get(), {p.w.get()}), SyscallSucceeds());
  Received peek = Recv(s.b.get(), kRoomy, MSG_PEEK);
  Received real = Recv(s.b.get(), kRoomy);
  ASSERT_EQ(peek.fds.size(), 1u);
  ASSERT_EQ(real.fds.size(), 1u);
  EXPECT_NE(peek.fds[0].get(), real.fds[0].get());
  struct stat a, b;
  ASSERT_THAT(fstat(peek.fds[0].get(), &a), SyscallSucceeds());
  ASSERT_THAT(fstat(real.fds[0].get(), &b), SyscallSucceeds());
  EXPECT_EQ(a.st_ino, b.st_ino);
}

// --- SCM_CREDENTIALS ---------------------------------------------------------

TEST(UnixCmsgTest, SoPasscredOption) {
  Pair s = MakePair();
  int v = -1;
  socklen_t len = sizeof(v);
  ASSERT_THAT(getsockopt(s.a.get(), SOL_SOCKET, SO_PASSCRED, &v, &len),
              SyscallSucceeds());
  EXPECT_EQ(v, 0);
  SetPasscred(s.a.get(), 1);
  len = sizeof(v);
  ASSERT_THAT(getsockopt(s.a.get(), SOL_SOCKET, SO_PASSCRED, &v, &len),
              SyscallSucceeds());
  EXPECT_EQ(v, 1);
  SetPasscred(s.a.get(), 0);
  len = sizeof(v);
  ASSERT_THAT(getsockopt(s.a.get(), SOL_SOCKET, SO_PASSCRED, &v, &len),
              SyscallSucceeds());
  EXPECT_EQ(v, 0);
}

TEST(UnixCmsgTest, NoCredentialsWithoutPasscred) {
  Pair s = MakePair(SOCK_DGRAM);
  ASSERT_THAT(send(s.a.get(), "x", 1, 0), SyscallSucceeds());
  // Even explicit credentials are not delivered to a receiver that did
  // not ask for them.
  struct ucred mine = {getpid(), getuid(), getgid()};
  ASSERT_THAT(SendCreds(s.a.get(), mine), SyscallSucceeds());
  for (int i = 0; i < 2; i++) {
    Received r = Recv(s.b.get(), kRoomy);
    EXPECT_FALSE(r.has_creds);
    EXPECT_EQ(r.controllen, 0u);
  }
}

TEST(UnixCmsgTest, PasscredDeliversSenderCredentials) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    Pair s = MakePair(type);
    SetPasscred(s.b.get(), 1);
    ASSERT_THAT(send(s.a.get(), "x", 1, 0), SyscallSucceeds());
    Received r = Recv(s.b.get(), kRoomy);
    ASSERT_TRUE(r.has_creds);
    EXPECT_EQ(r.creds.pid, getpid());
    EXPECT_EQ(r.creds.uid, getuid());
    EXPECT_EQ(r.creds.gid, getgid());
  }
}

TEST(UnixCmsgTest, ForkPasscredReportsSendingProcess) {
  Pair s = MakePair(SOCK_DGRAM);
  SetPasscred(s.a.get(), 1);
  int status = ForkAndWait([&] {
    pid_t self = getpid();
    CHILD_EXPECT(send(s.b.get(), &self, sizeof(self), 0) == sizeof(self));
    return 0;
  });
  ASSERT_THAT(status, ExitedWithCode(0));
  Received r = Recv(s.a.get(), kRoomy);
  ASSERT_EQ(r.data.size(), sizeof(pid_t));
  pid_t child;
  memcpy(&child, r.data.data(), sizeof(child));
  ASSERT_TRUE(r.has_creds);
  EXPECT_EQ(r.creds.pid, child);
  EXPECT_NE(r.creds.pid, getpid());
}

TEST(UnixCmsgTest, ExplicitCredentialsOfOwnProcess) {
  Pair s = MakePair(SOCK_DGRAM);
  SetPasscred(s.b.get(), 1);
  struct ucred mine = {getpid(), geteuid(), getegid()};
  ASSERT_THAT(SendCreds(s.a.get(), mine), SyscallSucceeds());
  Received r = Recv(s.b.get(), kRoomy);
  ASSERT_TRUE(r.has_creds);
  EXPECT_EQ(r.creds.pid, mine.pid);
  EXPECT_EQ(r.creds.uid, mine.uid);
  EXPECT_EQ(r.creds.gid, mine.gid);
}

TEST(UnixCmsgTest, ForkUnprivilegedCannotClaimOtherCredentials) {
  std::string why = WhyNobodyIsUnavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  Pair s = MakePair(SOCK_DGRAM);
  const pid_t parent = getpid();
  int status = ForkAsNobodyAndWait([&] {
    // Another process's pid.
    struct ucred c = {parent, kNobodyUid, kNobodyGid};
    CHILD_EXPECT(SendCreds(s.a.get(), c) == -1 && errno == EPERM);
    // Another uid (root's).
    c = {getpid(), 0, kNobodyGid};
    CHILD_EXPECT(SendCreds(s.a.get(), c) == -1 && errno == EPERM);
    // Its own are fine.
    c = {getpid(), kNobodyUid, kNobodyGid};
    CHILD_EXPECT(SendCreds(s.a.get(), c) == 1);
    return 0;
  });
  EXPECT_THAT(status, ExitedWithCode(0));
}

TEST(UnixCmsgTest, RootMayClaimAnotherUid) {
  // Root (CAP_SETUID) may send credentials with any mapped uid/gid; the
  // receiver sees what was claimed, not the real ids.
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string why = WhyNobodyIsUnavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  Pair s = MakePair(SOCK_DGRAM);
  SetPasscred(s.b.get(), 1);
  struct ucred claim = {getpid(), kNobodyUid, kNobodyGid};
  ASSERT_THAT(SendCreds(s.a.get(), claim), SyscallSucceeds());
  Received r = Recv(s.b.get(), kRoomy);
  ASSERT_TRUE(r.has_creds);
  EXPECT_EQ(r.creds.pid, getpid());
  EXPECT_EQ(r.creds.uid, kNobodyUid);
  EXPECT_EQ(r.creds.gid, kNobodyGid);
}

TEST(UnixCmsgTest, ForkStreamReadDoesNotMergeDifferentSenders) {
  // With SO_PASSCRED, a stream read stops where the sender changes, so each
  // returned chunk has one set of credentials.
  Pair s = MakePair();
  SetPasscred(s.b.get(), 1);
  ASSERT_THAT(send(s.a.get(), "p", 1, 0), SyscallSucceeds());
  int status = ForkAndWait([&] {
    pid_t self = getpid();
    CHILD_EXPECT(send(s.a.get(), &self, sizeof(self), 0) == sizeof(self));
    return 0;
  });
  ASSERT_THAT(status, ExitedWithCode(0));
  Received first = Recv(s.b.get(), kRoomy);
  EXPECT_EQ(first.data, "p");
  ASSERT_TRUE(first.has_creds);
  EXPECT_EQ(first.creds.pid, getpid());
  Received second = Recv(s.b.get(), kRoomy);
  ASSERT_EQ(second.data.size(), sizeof(pid_t));
  pid_t child;
  memcpy(&child, second.data.data(), sizeof(child));
  ASSERT_TRUE(second.has_creds);
  EXPECT_EQ(second.creds.pid, child);
}

TEST(UnixCmsgTest, RightsAndCredentialsTogether) {
  Pair s = MakePair();
  SetPasscred(s.b.get(), 1);
  Pipe p = MakePipe();
  ASSERT_THAT(SendFds(s.a.get(), {p.w.get()}), SyscallSucceeds());
  Received r = Recv(s.b.get(), kRoomy);
  EXPECT_TRUE(r.has_creds);
  EXPECT_EQ(r.creds.pid, getpid());
  EXPECT_EQ(r.fds.size(), 1u);
}

TEST(UnixCmsgTest, PasscredAutobindsUnboundSender) {
  // unix(7): a socket with SO_PASSCRED that was not bound is autobound to an
  // abstract address when it sends, so the receiver learns a name.
  static std::atomic<int> counter{0};
  std::string name = "sentry_cmsg_test_" + std::to_string(getpid()) + "_" +
                     std::to_string(counter++);
  sockaddr_un raddr = {};
  raddr.sun_family = AF_UNIX;
  memcpy(raddr.sun_path + 1, name.data(), name.size());
  socklen_t rlen = offsetof(sockaddr_un, sun_path) + 1 + name.size();
  FileDescriptor r(socket(AF_UNIX, SOCK_DGRAM, 0));
  ASSERT_THAT(bind(r.get(), reinterpret_cast<sockaddr*>(&raddr), rlen),
              SyscallSucceeds());
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  SetPasscred(s.get(), 1);
  ASSERT_THAT(
      sendto(s.get(), "x", 1, 0, reinterpret_cast<sockaddr*>(&raddr), rlen),
      SyscallSucceeds());
  sockaddr_un from = {};
  socklen_t fromlen = sizeof(from);
  char c;
  ASSERT_THAT(
      recvfrom(r.get(), &c, 1, 0, reinterpret_cast<sockaddr*>(&from), &fromlen),
      SyscallSucceeds());
  // A NUL and five hex digits.
  EXPECT_EQ(fromlen, offsetof(sockaddr_un, sun_path) + 6);
  EXPECT_EQ(from.sun_path[0], '\0');
  sockaddr_un name_of_s = {};
  socklen_t len = sizeof(name_of_s);
  ASSERT_THAT(
      getsockname(s.get(), reinterpret_cast<sockaddr*>(&name_of_s), &len),
      SyscallSucceeds());
  EXPECT_EQ(len, fromlen);
  EXPECT_EQ(memcmp(&name_of_s, &from, len), 0);
}

}  // namespace
}  // namespace sentry::testing
