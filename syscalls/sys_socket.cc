// socket, socketpair, bind, listen, accept, accept4, connect, getsockname,
// getpeername, sendto, recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg,
// shutdown, setsockopt, getsockopt.
//
// These handlers move addresses, data and control messages between guest
// memory and the Sentry; the socket families (sentry/net) do the rest.
// Only AF_UNIX exists: the sandbox has no network stack yet, so every
// other family is EAFNOSUPPORT, as on a kernel built without it.
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>

#include <atomic>
#include <functional>
#include <vector>

#include "sentry/base/log.h"
#include "sentry/net/unix_socket.h"
#include "syscalls/file_util.h"
#include "syscalls/handlers.h"
#include "syscalls/install_util.h"

namespace sentry::syscalls {
namespace {

using net::RecvResult;
using net::SendRequest;
using SocketPtr = std::shared_ptr<net::Socket>;

constexpr int kSockTypeMask = 0xf;
constexpr int kSockMax = 11;         // SOCK_MAX: types are below it
constexpr size_t kUioMaxIov = 1024;  // UIO_MAXIOV
// net.core.optmem_max: the most control data one sendmsg takes.
constexpr uint64_t kMaxControl = 20480;
// Stream sends move through the Sentry in pieces of this size.
constexpr size_t kStreamChunk = 1 << 20;

ErrnoOr<SocketPtr> GetSocket(Task& t, Fd fd) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  auto socket = std::dynamic_pointer_cast<net::Socket>(file);
  if (!socket) return Errno(ENOTSOCK);
  return socket;
}

struct ucred CredsOf(Task& t) {
  return ucred{t.pid(), t.creds().euid, t.creds().egid};
}

// Linux's move_addr_to_kernel.
ErrnoOr<std::vector<uint8_t>> CopyInAddress(Task& t, UserAddr addr,
                                            uint32_t length) {
  if (length > sizeof(sockaddr_storage)) return Errno(EINVAL);
  std::vector<uint8_t> out(length);
  if (length > 0 && !t.mm().CopyIn(addr.value, out.data(), length).ok())
    return Errno(EFAULT);
  return out;
}

// Linux's move_addr_to_user: the address truncated to the guest's buffer,
// and its whole length stored back.
ErrnoOr<void> CopyOutAddress(Task& t, UserAddr addr, UserAddr length_ptr,
                             const std::vector<uint8_t>& address) {
  if (addr.null() || length_ptr.null()) return {};
  int32_t length;
  if (!t.mm().CopyIn(length_ptr.value, &length, sizeof(length)).ok())
    return Errno(EFAULT);
  if (length < 0) return Errno(EINVAL);
  size_t n = std::min<size_t>(static_cast<size_t>(length), address.size());
  if (n > 0 && !t.mm().CopyOut(addr.value, address.data(), n).ok())
    return Errno(EFAULT);
  int32_t full = static_cast<int32_t>(address.size());
  if (!t.mm().CopyOut(length_ptr.value, &full, sizeof(full)).ok())
    return Errno(EFAULT);
  return {};
}

ErrnoOr<std::vector<struct iovec>> CopyInIovecs(Task& t, uint64_t iov,
                                                uint64_t count) {
  if (count > kUioMaxIov) return Errno(EMSGSIZE);
  std::vector<struct iovec> vecs(count);
  if (count > 0 &&
      !t.mm().CopyIn(iov, vecs.data(), count * sizeof(struct iovec)).ok())
    return Errno(EFAULT);
  uint64_t total = 0;
  for (struct iovec& v : vecs) {
    if (static_cast<int64_t>(v.iov_len) < 0) return Errno(EINVAL);
    v.iov_len = std::min<uint64_t>(v.iov_len, kMaxRwCount - total);
    total += v.iov_len;
  }
  return vecs;
}

uint64_t TotalLength(const std::vector<struct iovec>& vecs) {
  uint64_t total = 0;
  for (const struct iovec& v : vecs) total += v.iov_len;
  return total;
}

// Sends the iovecs' bytes: a datagram in one piece, a stream in chunks
// (control messages ride with the first).
ErrnoOr<uint64_t> SendFromGuest(Task& t, net::Socket& socket,
                                const std::vector<struct iovec>& vecs,
                                SendRequest& req) {
  uint64_t total = TotalLength(vecs);
  if (socket.type() != SOCK_STREAM) {
    // Refuse an oversized datagram before copying it.
    SENTRY_ASSIGN_OR_RETURN(std::vector<uint8_t> sndbuf,
                            socket.GetSockOpt(t, SOL_SOCKET, SO_SNDBUF));
    int limit;
    std::memcpy(&limit, sndbuf.data(), sizeof(limit));
    if (total + 32 > static_cast<uint64_t>(limit)) return Errno(EMSGSIZE);
    std::vector<uint8_t> data(total);
    SENTRY_RETURN_IF_ERRNO(GatherIovecs(t, vecs, 0, data));
    req.data = data;
    SENTRY_ASSIGN_OR_RETURN(size_t n, socket.SendMsg(t, req));
    return static_cast<uint64_t>(n);
  }
  uint64_t done = 0;
  std::vector<uint8_t> chunk;
  do {
    chunk.resize(std::min<uint64_t>(total - done, kStreamChunk));
    ErrnoOr<void> copied = GatherIovecs(t, vecs, done, chunk);
    if (!copied.ok()) return done > 0 ? ErrnoOr<uint64_t>(done) : Errno(EFAULT);
    req.data = chunk;
    ErrnoOr<size_t> n = socket.SendMsg(t, req);
    if (!n.ok()) return done > 0 ? ErrnoOr<uint64_t>(done) : n.error();
    done += *n;
    if (*n < chunk.size()) break;
  } while (done < total);
  return done;
}

// Receives into the iovecs, checking first that they are writable so that
// a bad buffer loses no data.
ErrnoOr<RecvResult> RecvToGuest(Task& t, net::Socket& socket,
                                const std::vector<struct iovec>& vecs,
                                int flags) {
  for (const struct iovec& v : vecs) {
    uint64_t base = reinterpret_cast<uint64_t>(v.iov_base);
    if (v.iov_len > 0 && t.mm().WritableLength(base, v.iov_len) < v.iov_len)
      return Errno(EFAULT);
  }
  constexpr int kPassed = MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL | MSG_OOB;
  SENTRY_ASSIGN_OR_RETURN(
      RecvResult r, socket.RecvMsg(t, TotalLength(vecs), flags & kPassed));
  SENTRY_RETURN_IF_ERRNO(ScatterIovecs(t, vecs, r.data));
  return r;
}

uint64_t ReceivedCount(const net::Socket& socket, const RecvResult& r,
                       int flags) {
  // MSG_TRUNC asks a datagram socket for the message's real length.
  if ((flags & MSG_TRUNC) && socket.type() != SOCK_STREAM)
    return r.message_length;
  return r.data.size();
}

// SCM_CREDENTIALS a sender may claim (Linux's scm_check_creds): its own
// pid and ids unless privileged.
ErrnoOr<void> CheckCreds(Task& t, const struct ucred& c) {
  const kernel::Credentials& mine = t.creds();
  bool root = mine.euid == 0;
  if (c.pid != t.pid() && !root) return Errno(EPERM);
  if (!root && c.uid != mine.ruid && c.uid != mine.euid && c.uid != mine.suid)
    return Errno(EPERM);
  if (!root && c.gid != mine.rgid && c.gid != mine.egid && c.gid != mine.sgid)
    return Errno(EPERM);
  if (!t.kernel().processes().WithLive(c.pid, [](Task&) {}))
    return Errno(ESRCH);
  return {};
}

// Parses sendmsg's control messages (Linux's __scm_send).
ErrnoOr<void> ParseControl(Task& t, std::span<const uint8_t> control,
                           SendRequest& req) {
  size_t at = 0;
  while (control.size() - at >= sizeof(struct cmsghdr)) {
    struct cmsghdr h;
    std::memcpy(&h, control.data() + at, sizeof(h));
    if (h.cmsg_len < sizeof(h) || h.cmsg_len > control.size() - at)
      return Errno(EINVAL);
    std::span<const uint8_t> body =
        control.subspan(at + CMSG_LEN(0), h.cmsg_len - CMSG_LEN(0));
    if (h.cmsg_level == SOL_SOCKET) {
      if (h.cmsg_type == SCM_RIGHTS) {
        size_t count = body.size() / sizeof(int);
        if (req.rights.size() + count > net::kScmMaxFd) return Errno(EINVAL);
        for (size_t i = 0; i < count; ++i) {
          int fd;
          std::memcpy(&fd, body.data() + i * sizeof(int), sizeof(fd));
          SENTRY_ASSIGN_OR_RETURN(FilePtr f, GetFile(t, Fd{fd}));
          req.rights.push_back(std::move(f));
        }
      } else if (h.cmsg_type == SCM_CREDENTIALS) {
        if (h.cmsg_len != CMSG_LEN(sizeof(struct ucred))) return Errno(EINVAL);
        struct ucred c;
        std::memcpy(&c, body.data(), sizeof(c));
        SENTRY_RETURN_IF_ERRNO(CheckCreds(t, c));
        req.creds = c;
      } else {
        return Errno(EINVAL);
      }
    }
    at += CMSG_ALIGN(h.cmsg_len);
    if (at > control.size()) break;
  }
  return {};
}

// Builds recvmsg's control data in a buffer of `capacity` bytes (Linux's
// put_cmsg and scm_detach_fds): credentials, then as many file
// descriptors as fit. Sets MSG_CTRUNC in `msg_flags` when something was
// cut.
std::vector<uint8_t> BuildControl(Task& t, RecvResult& r, size_t capacity,
                                  bool cloexec, int& msg_flags) {
  std::vector<uint8_t> out;
  auto put = [&](int type, const void* data, size_t length) {
    size_t room = capacity - out.size();
    if (room < sizeof(struct cmsghdr)) {
      msg_flags |= MSG_CTRUNC;
      return;
    }
    struct cmsghdr h {};
    h.cmsg_len = CMSG_LEN(length);
    h.cmsg_level = SOL_SOCKET;
    h.cmsg_type = type;
    size_t copy = std::min<size_t>(h.cmsg_len, room);
    if (copy < h.cmsg_len) msg_flags |= MSG_CTRUNC;
    std::vector<uint8_t> piece(CMSG_SPACE(length), 0);
    std::memcpy(piece.data(), &h, sizeof(h));
    std::memcpy(piece.data() + CMSG_LEN(0), data, length);
    size_t advance = std::min<size_t>(CMSG_SPACE(length), room);
    out.insert(out.end(), piece.begin(), piece.begin() + copy);
    out.resize(out.size() - copy + advance, 0);
  };
  if (r.creds) put(SCM_CREDENTIALS, &*r.creds, sizeof(struct ucred));
  if (!r.rights.empty()) {
    size_t room = capacity - out.size();
    size_t fit = room > CMSG_LEN(0) ? (room - CMSG_LEN(0)) / sizeof(int) : 0;
    std::vector<int> fds;
    for (size_t i = 0; i < r.rights.size() && i < fit; ++i) {
      ErrnoOr<uint64_t> fd = InstallFile(t, r.rights[i], cloexec);
      if (!fd.ok()) break;
      fds.push_back(static_cast<int>(*fd));
    }
    if (fds.size() < r.rights.size()) msg_flags |= MSG_CTRUNC;
    if (!fds.empty()) put(SCM_RIGHTS, fds.data(), fds.size() * sizeof(int));
  }
  return out;
}

// One sendmsg on an already copied-in msghdr.
ErrnoOr<uint64_t> SendMsgHdr(Task& t, net::Socket& socket,
                             const struct msghdr& msg, int flags) {
  SENTRY_ASSIGN_OR_RETURN(
      std::vector<struct iovec> vecs,
      CopyInIovecs(t, reinterpret_cast<uint64_t>(msg.msg_iov), msg.msg_iovlen));
  SendRequest req;
  req.flags = flags;
  if (msg.msg_name != nullptr && msg.msg_namelen > 0) {
    SENTRY_ASSIGN_OR_RETURN(
        req.address,
        CopyInAddress(t, UserAddr{reinterpret_cast<uint64_t>(msg.msg_name)},
                      msg.msg_namelen));
  }
  if (msg.msg_controllen > 0) {
    if (msg.msg_controllen > kMaxControl) return Errno(ENOBUFS);
    std::vector<uint8_t> control(msg.msg_controllen);
    if (!t.mm()
             .CopyIn(reinterpret_cast<uint64_t>(msg.msg_control),
                     control.data(), control.size())
             .ok())
      return Errno(EFAULT);
    SENTRY_RETURN_IF_ERRNO(ParseControl(t, control, req));
  }
  return SendFromGuest(t, socket, vecs, req);
}

// One recvmsg into the guest's msghdr at `addr` (already copied in as
// `msg`); writes back msg_namelen, msg_controllen and msg_flags.
ErrnoOr<uint64_t> RecvMsgHdr(Task& t, net::Socket& socket, uint64_t addr,
                             struct msghdr msg, int flags) {
  SENTRY_ASSIGN_OR_RETURN(
      std::vector<struct iovec> vecs,
      CopyInIovecs(t, reinterpret_cast<uint64_t>(msg.msg_iov), msg.msg_iovlen));
  SENTRY_ASSIGN_OR_RETURN(RecvResult r, RecvToGuest(t, socket, vecs, flags));
  int msg_flags = r.msg_flags & (MSG_TRUNC | MSG_EOR);
  if (msg.msg_name != nullptr) {
    size_t n = std::min<size_t>(msg.msg_namelen, r.from.size());
    if (n > 0 && !t.mm()
                      .CopyOut(reinterpret_cast<uint64_t>(msg.msg_name),
                               r.from.data(), n)
                      .ok())
      return Errno(EFAULT);
    msg.msg_namelen = static_cast<socklen_t>(r.from.size());
  } else {
    msg.msg_namelen = 0;
  }
  std::vector<uint8_t> control;
  if (msg.msg_control != nullptr) {
    control = BuildControl(t, r, msg.msg_controllen, flags & MSG_CMSG_CLOEXEC,
                           msg_flags);
    if (!control.empty() &&
        !t.mm()
             .CopyOut(reinterpret_cast<uint64_t>(msg.msg_control),
                      control.data(), control.size())
             .ok())
      return Errno(EFAULT);
  } else if (r.creds || !r.rights.empty()) {
    msg_flags |= MSG_CTRUNC;
  }
  msg.msg_controllen = control.size();
  msg.msg_flags = msg_flags;
  if (!t.mm().CopyOut(addr, &msg, sizeof(msg)).ok()) return Errno(EFAULT);
  return ReceivedCount(socket, r, flags);
}

// socket(2)'s checks, in Linux's order; returns the AF_UNIX type.
ErrnoOr<int> UnixSocketType(int domain, int type, int protocol) {
  if (domain < 0 || domain >= AF_MAX) return Errno(EAFNOSUPPORT);
  if (type & ~(kSockTypeMask | SOCK_CLOEXEC | SOCK_NONBLOCK))
    return Errno(EINVAL);
  int base = type & kSockTypeMask;
  if (base >= kSockMax) return Errno(EINVAL);
  if (domain != AF_UNIX) {
    static std::atomic<bool> logged{false};
    if (!logged.exchange(true)) {
      SENTRY_LOG(kInfo,
                 "socket(family %d): only AF_UNIX exists in the sandbox; "
                 "returning EAFNOSUPPORT",
                 domain);
    }
    return Errno(EAFNOSUPPORT);
  }
  if (protocol != 0 && protocol != PF_UNIX) return Errno(EPROTONOSUPPORT);
  switch (base) {
    case SOCK_STREAM:
    case SOCK_DGRAM:
    case SOCK_SEQPACKET:
      return base;
    case SOCK_RAW:
      return SOCK_DGRAM;  // as Linux's unix_create
    default:
      return Errno(ESOCKTNOSUPPORT);
  }
}

int StatusFlags(int type) { return (type & SOCK_NONBLOCK) ? O_NONBLOCK : 0; }

}  // namespace

ErrnoOr<uint64_t> Socket(Task& t, int domain, int type, int protocol) {
  SENTRY_ASSIGN_OR_RETURN(int unix_type,
                          UnixSocketType(domain, type, protocol));
  auto socket = std::make_shared<net::UnixSocket>(unix_type, StatusFlags(type),
                                                  CredsOf(t));
  return InstallFile(t, std::move(socket), type & SOCK_CLOEXEC);
}

ErrnoOr<void> Socketpair(Task& t, int domain, int type, int protocol,
                         UserAddr fds) {
  if (type & ~(kSockTypeMask | SOCK_CLOEXEC | SOCK_NONBLOCK))
    return Errno(EINVAL);
  // Internet sockets exist on Linux but cannot be paired.
  if (domain == AF_INET || domain == AF_INET6) return Errno(EOPNOTSUPP);
  SENTRY_ASSIGN_OR_RETURN(int unix_type,
                          UnixSocketType(domain, type, protocol));
  auto [a, b] = net::UnixSocket::Pair(unix_type, StatusFlags(type), CredsOf(t));
  return InstallPair(t, fds, std::move(a), std::move(b), type & SOCK_CLOEXEC);
}

ErrnoOr<void> Bind(Task& t, Fd fd, UserAddr addr, uint32_t addrlen) {
  SENTRY_ASSIGN_OR_RETURN(SocketPtr socket, GetSocket(t, fd));
  SENTRY_ASSIGN_OR_RETURN(std::vector<uint8_t> address,
                          CopyInAddress(t, addr, addrlen));
  return socket->Bind(t, address);
}

ErrnoOr<void> Listen(Task& t, Fd fd, int backlog) {
  SENTRY_ASSIGN_OR_RETURN(SocketPtr socket, GetSocket(t, fd));
  return socket->Listen(t, backlog);
}

ErrnoOr<uint64_t> Accept4(Task& t, Fd fd, UserAddr addr, UserAddr addrlen,
                          int flags) {
  if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(SocketPtr socket, GetSocket(t, fd));
  std::vector<uint8_t> peer;
  SENTRY_ASSIGN_OR_RETURN(
      SocketPtr accepted,
      socket->Accept(t, (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0, &peer));
  // As in Linux, a bad address buffer drops the connection.
  SENTRY_RETURN_IF_ERRNO(CopyOutAddress(t, addr, addrlen, peer));
  return InstallFile(t, std::move(accepted), flags & SOCK_CLOEXEC);
}

ErrnoOr<uint64_t> Accept(Task& t, Fd fd, UserAddr addr, UserAddr addrlen) {
  return Accept4(t, fd, addr, addrlen, 0);
}

ErrnoOr<void> Connect(Task& t, Fd fd, UserAddr addr, uint32_t addrlen) {
  SENTRY_ASSIGN_OR_RETURN(SocketPtr socket, GetSocket(t, fd));
  SENTRY_ASSIGN_OR_RETURN(std::vector<uint8_t> address,
                          CopyInAddress(t, addr, addrlen));
  return socket->Connect(t, address);
}

ErrnoOr<void> Getsockname(Task& t, Fd fd, UserAddr addr, UserAddr addrlen) {
  SENTRY_ASSIGN_OR_RETURN(SocketPtr socket, GetSocket(t, fd));
  SENTRY_ASSIGN_OR_RETURN(std::vector<uint8_t> name, socket->GetSockName());
  if (addrlen.null()) return Errno(EFAULT);
  return CopyOutAddress(t, addr, addrlen, name);
}

ErrnoOr<void> Getpeername(Task& t, Fd fd, UserAddr addr, UserAddr addrlen) {
  SENTRY_ASSIGN_OR_RETURN(SocketPtr socket, GetSocket(t, fd));
  SENTRY_ASSIGN_OR_RETURN(std::vector<uint8_t> name, socket->GetPeerName());
  if (addrlen.null()) return Errno(EFAULT);
  return CopyOutAddress(t, addr, addrlen, name);
}

ErrnoOr<uint64_t> Sendto(Task& t, Fd fd, InBuf buf, uint64_t len, int flags,
                         UserAddr addr, uint32_t addrlen) {
  SENTRY_ASSIGN_OR_RETURN(SocketPtr socket, GetSocket(t, fd));
  std::vector<struct iovec> vecs{{reinterpret_cast<void*>(buf.value),
                                  std::min<uint64_t>(len, kMaxRwCount)}};
  SendRequest req;
  req.flags = flags;
  if (!addr.null()) {
    SENTRY_ASSIGN_OR_RETURN(req.address, CopyInAddress(t, addr, addrlen));
  }
  return SendFromGuest(t, *socket, vecs, req);
}

ErrnoOr<uint64_t> Recvfrom(Task& t, Fd fd, UserAddr buf, uint64_t len,
                           int flags, UserAddr addr, UserAddr addrlen) {
  SENTRY_ASSIGN_OR_RETURN(SocketPtr socket, GetSocket(t, fd));
  std::vector<struct iovec> vecs{{reinterpret_cast<void*>(buf.value),
                                  std::min<uint64_t>(len, kMaxRwCount)}};
  SENTRY_ASSIGN_OR_RETURN(RecvResult r, RecvToGuest(t, *socket, vecs, flags));
  if (!addr.null()) {
    // Linux stores a length of 0 when the sender had no address.
    SENTRY_RETURN_IF_ERRNO(CopyOutAddress(t, addr, addrlen, r.from));
  }
  return ReceivedCount(*socket, r, flags);
}

ErrnoOr<uint64_t> Sendmsg(Task& t, Fd fd, UserAddr msgp, int flags) {
  SENTRY_ASSIGN_OR_RETURN(SocketPtr socket, GetSocket(t, fd));
  struct msghdr msg;
  if (!t.mm().CopyIn(msgp.value, &msg, sizeof(msg)).ok()) return Errno(EFAULT);
  return SendMsgHdr(t, *socket, msg, flags);
}

ErrnoOr<uint64_t> Recvmsg(Task& t, Fd fd, UserAddr msgp, int flags) {
  SENTRY_ASSIGN_OR_RETURN(SocketPtr socket, GetSocket(t, fd));
  struct msghdr msg;
  if (!t.mm().CopyIn(msgp.value, &msg, sizeof(msg)).ok()) return Errno(EFAULT);
  return RecvMsgHdr(t, *socket, msgp.value, msg, flags);
}

namespace {

// sendmmsg/recvmmsg: `one` handles the msghdr of each mmsghdr in turn and
// its count is stored in msg_len; `more` says whether to go on after one
// succeeded. An error ends the call; it is returned only if it came first.
ErrnoOr<uint64_t> ForEachMmsghdr(
    Task& t, UserAddr msgvec, uint32_t vlen,
    const std::function<ErrnoOr<uint64_t>(uint64_t, const struct msghdr&)>& one,
    const std::function<bool()>& more) {
  vlen = std::min<uint32_t>(vlen, kUioMaxIov);
  uint32_t done = 0;
  while (done < vlen) {
    uint64_t at = msgvec.value + done * sizeof(struct mmsghdr);
    struct mmsghdr m;
    if (!t.mm().CopyIn(at, &m, sizeof(m)).ok()) {
      if (done == 0) return Errno(EFAULT);
      break;
    }
    ErrnoOr<uint64_t> n = one(at, m.msg_hdr);
    if (!n.ok()) {
      if (done == 0) return n.error();
      break;
    }
    unsigned int len = static_cast<unsigned int>(*n);
    if (!t.mm()
             .CopyOut(at + offsetof(struct mmsghdr, msg_len), &len, sizeof(len))
             .ok())
      break;
    ++done;
    if (!more()) break;
  }
  return done;
}

}  // namespace

ErrnoOr<uint64_t> Sendmmsg(Task& t, Fd fd, UserAddr msgvec, uint32_t vlen,
                           int flags) {
  SENTRY_ASSIGN_OR_RETURN(SocketPtr socket, GetSocket(t, fd));
  return ForEachMmsghdr(
      t, msgvec, vlen,
      [&](uint64_t, const struct msghdr& msg) {
        return SendMsgHdr(t, *socket, msg, flags);
      },
      [] { return true; });
}

ErrnoOr<uint64_t> Recvmmsg(Task& t, Fd fd, UserAddr msgvec, uint32_t vlen,
                           int flags, UserAddr timeout) {
  SENTRY_ASSIGN_OR_RETURN(SocketPtr socket, GetSocket(t, fd));
  std::optional<absl::Time> deadline;
  if (!timeout.null()) {
    struct timespec ts;
    if (!t.mm().CopyIn(timeout.value, &ts, sizeof(ts)).ok())
      return Errno(EFAULT);
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
      return Errno(EINVAL);
    deadline = absl::Now() + absl::DurationFromTimespec(ts);
  }
  return ForEachMmsghdr(
      t, msgvec, vlen,
      [&](uint64_t at, const struct msghdr& msg) {
        return RecvMsgHdr(t, *socket, at, msg, flags);
      },
      [&] {
        // MSG_WAITFORONE: only the first waits.
        if (flags & MSG_WAITFORONE) flags |= MSG_DONTWAIT;
        return !(deadline && absl::Now() >= *deadline);
      });
}

ErrnoOr<void> Shutdown(Task& t, Fd fd, int how) {
  SENTRY_ASSIGN_OR_RETURN(SocketPtr socket, GetSocket(t, fd));
  return socket->Shutdown(t, how);
}

ErrnoOr<void> Setsockopt(Task& t, Fd fd, int level, int name, UserAddr optval,
                         int optlen) {
  SENTRY_ASSIGN_OR_RETURN(SocketPtr socket, GetSocket(t, fd));
  if (optlen < 0) return Errno(EINVAL);
  // No SOL_SOCKET option is larger than this.
  std::vector<uint8_t> value(std::min(optlen, 256));
  if (!value.empty() &&
      !t.mm().CopyIn(optval.value, value.data(), value.size()).ok())
    return Errno(EFAULT);
  return socket->SetSockOpt(t, level, name, value);
}

ErrnoOr<void> Getsockopt(Task& t, Fd fd, int level, int name, UserAddr optval,
                         UserAddr optlen) {
  SENTRY_ASSIGN_OR_RETURN(SocketPtr socket, GetSocket(t, fd));
  int32_t length;
  if (!t.mm().CopyIn(optlen.value, &length, sizeof(length)).ok())
    return Errno(EFAULT);
  if (length < 0) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(std::vector<uint8_t> value,
                          socket->GetSockOpt(t, level, name));
  size_t n = std::min<size_t>(static_cast<size_t>(length), value.size());
  if (n > 0 && !t.mm().CopyOut(optval.value, value.data(), n).ok())
    return Errno(EFAULT);
  int32_t written = static_cast<int32_t>(n);
  if (!t.mm().CopyOut(optlen.value, &written, sizeof(written)).ok())
    return Errno(EFAULT);
  return {};
}

}  // namespace sentry::syscalls
