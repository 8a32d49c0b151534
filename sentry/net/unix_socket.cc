#include "sentry/net/unix_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sentry/fs/anon_inode.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/creds.h"
#include "sentry/vfs/vfs.h"

namespace sentry::net {

ABSL_CONST_INIT absl::Mutex unix_mu(absl::kConstInit);

namespace {

constexpr uint32_t kReadEvents = POLLIN | POLLRDNORM;
constexpr uint32_t kWriteEvents = POLLOUT | POLLWRNORM | POLLWRBAND;
constexpr size_t kPathOffset = offsetof(struct sockaddr_un, sun_path);

// Bound names (abstract "a<type>:<bytes>", paths "p<dev>:<ino>") to
// sockets.
std::map<std::string, std::weak_ptr<UnixSocket>>& Names()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(unix_mu) {
  static auto* names = new std::map<std::string, std::weak_ptr<UnixSocket>>;
  return *names;
}

std::vector<uint8_t> UnnamedAddress() {
  sa_family_t family = AF_UNIX;
  std::vector<uint8_t> out(sizeof(family));
  std::memcpy(out.data(), &family, sizeof(family));
  return out;
}

// A parsed sockaddr_un for bind, connect and sendto.
struct ParsedAddress {
  bool abstract = false;
  std::string name;  // the path, or the abstract bytes after the NUL
  std::vector<uint8_t> sockaddr;
};

// Linux's unix_validate_addr and unix_mkname: a path ends at its first
// NUL (or at the end), an abstract name is every byte given.
ErrnoOr<ParsedAddress> ParseAddress(std::span<const uint8_t> addr) {
  if (addr.size() <= kPathOffset || addr.size() > sizeof(sockaddr_un))
    return Errno(EINVAL);
  sa_family_t family;
  std::memcpy(&family, addr.data(), sizeof(family));
  if (family != AF_UNIX) return Errno(EINVAL);
  ParsedAddress out;
  std::span<const uint8_t> path = addr.subspan(kPathOffset);
  if (path[0] == 0) {
    out.abstract = true;
    out.name.assign(path.begin() + 1, path.end());
    out.sockaddr.assign(addr.begin(), addr.end());
    return out;
  }
  auto nul = std::find(path.begin(), path.end(), 0);
  out.name.assign(path.begin(), nul);
  out.sockaddr.assign(addr.begin(), addr.begin() + kPathOffset);
  out.sockaddr.insert(out.sockaddr.end(), out.name.begin(), out.name.end());
  out.sockaddr.push_back(0);
  return out;
}

// Linux hashes abstract names with the socket type: each type has its
// own abstract namespace.
std::string AbstractKey(int type, const std::string& name) {
  return absl::StrCat("a", type, ":", name);
}

std::string InodeKey(const struct stat& st) {
  return absl::StrCat("p", st.st_dev, ":", st.st_ino);
}

bool SameCreds(const struct ucred& a, const struct ucred& b) {
  return a.pid == b.pid && a.uid == b.uid && a.gid == b.gid;
}

}  // namespace

void WakeChannel::Notify(uint32_t events) {
  generation.fetch_add(1);
  queue.Notify(events);
}

UnixSocket::UnixSocket(int type, int flags, const struct ucred& creds)
    : Socket(flags & O_NONBLOCK),
      type_(type),
      creator_(creds),
      peer_wait_(std::make_shared<WakeChannel>()) {
  set_inode(fs::NewSocketInode(creds.uid, creds.gid));
  // No lock: nothing else can see the socket yet (and connect builds the
  // accepting side while holding unix_mu).
  peer_name_ = UnnamedAddress();
}

UnixSocket::~UnixSocket() {
  // Released after unix_mu: they may be sockets whose release takes it.
  std::shared_ptr<UnixSocket> peer;
  std::deque<std::shared_ptr<UnixSocket>> embryos;
  std::vector<FilePtr> dropped;
  std::shared_ptr<vfs::Inode> node;
  {
    absl::MutexLock l(&unix_mu);
    if (name_ && !accepted_copy_) {
      auto it = Names().find(name_->key);
      if (it != Names().end() && it->second.expired()) Names().erase(it);
    }
    node = std::move(node_);
    peer = peer_.lock();
    if (peer && connection_oriented()) {
      // The peer reads EOF; if it had sent data we never read (or never
      // accepted the connection), it sees ECONNRESET first, as on Linux.
      peer->shutdown_ = kShutdownBoth;
      if (!receive_.empty() || embryo_) peer->error_ = ECONNRESET;
      peer->queue_.Notify(kReadEvents | kWriteEvents | POLLHUP | POLLRDHUP |
                          POLLERR);
    }
    while (!receive_.empty()) PopLocked(dropped);
    embryos = std::move(backlog_);
    state_ = State::kUnconnected;
    peer_wait_->Notify(kWriteEvents | POLLHUP);
  }
}

std::pair<std::shared_ptr<UnixSocket>, std::shared_ptr<UnixSocket>>
UnixSocket::Pair(int type, int flags, const struct ucred& creds) {
  auto a = std::make_shared<UnixSocket>(type, flags, creds);
  auto b = std::make_shared<UnixSocket>(type, flags, creds);
  absl::MutexLock l(&unix_mu);
  a->state_ = b->state_ = State::kConnected;
  a->peer_ = b;
  b->peer_ = a;
  a->peer_creds_ = b->peer_creds_ = creds;
  return {a, b};
}

struct ucred UnixSocket::CredsOf(kernel::Task& t) {
  return ucred{t.pid(), t.creds().euid, t.creds().egid};
}

void UnixSocket::AutobindLocked() {
  static uint32_t next = 0;
  for (uint32_t tries = 0; tries < 0x100000; ++tries) {
    // Linux's names: "\0" and five hex digits.
    std::string name = absl::StrFormat("%05x", next++ & 0xfffff);
    std::string key = AbstractKey(type_, name);
    auto it = Names().find(key);
    if (it != Names().end() && !it->second.expired()) continue;
    UnixName bound;
    bound.abstract = true;
    bound.key = key;
    bound.sockaddr = UnnamedAddress();
    bound.sockaddr.push_back(0);
    bound.sockaddr.insert(bound.sockaddr.end(), name.begin(), name.end());
    Names()[key] = std::static_pointer_cast<UnixSocket>(shared_from_this());
    name_ = std::move(bound);
    return;
  }
}

ErrnoOr<void> UnixSocket::Bind(kernel::Task& t,
                               std::span<const uint8_t> address) {
  if (address.size() == sizeof(sa_family_t)) {
    sa_family_t family;
    std::memcpy(&family, address.data(), sizeof(family));
    if (family != AF_UNIX) return Errno(EINVAL);
    absl::MutexLock l(&unix_mu);
    if (name_) return Errno(EINVAL);
    AutobindLocked();
    return {};
  }
  SENTRY_ASSIGN_OR_RETURN(ParsedAddress parsed, ParseAddress(address));
  {
    absl::MutexLock l(&unix_mu);
    if (name_) return Errno(EINVAL);
  }
  UnixName name;
  name.abstract = parsed.abstract;
  name.sockaddr = parsed.sockaddr;
  std::shared_ptr<vfs::Inode> node;
  if (parsed.abstract) {
    name.key = AbstractKey(type_, parsed.name);
  } else {
    // The node's mode is the socket inode's 0777 less the umask.
    vfs::Resolver r = t.resolver();
    mode_t mode = S_IFSOCK | (0777 & ~t.fs().umask);
    ErrnoOr<void> made = vfs::Mknod(r, t.fs().cwd, parsed.name, mode, 0);
    if (!made.ok()) {
      return made.error().value() == EEXIST ? Errno(EADDRINUSE) : made.error();
    }
    SENTRY_ASSIGN_OR_RETURN(vfs::Path path,
                            vfs::Lookup(r, t.fs().cwd, parsed.name, 0));
    node = path.dentry->inode();
    SENTRY_ASSIGN_OR_RETURN(struct stat st, node->Stat());
    name.key = InodeKey(st);
  }
  absl::MutexLock l(&unix_mu);
  if (name_) return Errno(EINVAL);
  auto it = Names().find(name.key);
  if (it != Names().end() && !it->second.expired()) return Errno(EADDRINUSE);
  Names()[name.key] = std::static_pointer_cast<UnixSocket>(shared_from_this());
  name_ = std::move(name);
  node_ = std::move(node);
  return {};
}

ErrnoOr<std::shared_ptr<UnixSocket>> UnixSocket::Find(
    kernel::Task& t, std::span<const uint8_t> address, int type) {
  SENTRY_ASSIGN_OR_RETURN(ParsedAddress parsed, ParseAddress(address));
  std::string key;
  if (parsed.abstract) {
    key = AbstractKey(type, parsed.name);
  } else {
    vfs::Resolver r = t.resolver();
    SENTRY_ASSIGN_OR_RETURN(
        vfs::Path path, vfs::Lookup(r, t.fs().cwd, parsed.name, vfs::kFollow));
    SENTRY_ASSIGN_OR_RETURN(struct stat st, path.inode().Stat());
    if (!S_ISSOCK(st.st_mode)) return Errno(ECONNREFUSED);
    // Connecting writes to the socket file (Linux's MAY_WRITE check).
    SENTRY_RETURN_IF_ERRNO(vfs::CheckPermission(r.creds, st, vfs::kMayWrite));
    key = InodeKey(st);
  }
  std::shared_ptr<UnixSocket> found;
  {
    absl::MutexLock l(&unix_mu);
    auto it = Names().find(key);
    if (it != Names().end()) found = it->second.lock();
  }
  if (!found) return Errno(ECONNREFUSED);
  // Linux looks abstract names up by type, so another type's name is not
  // there; a path of another type is EPROTOTYPE.
  if (found->type_ != type)
    return Errno(parsed.abstract ? ECONNREFUSED : EPROTOTYPE);
  return found;
}

ErrnoOr<void> UnixSocket::Listen(kernel::Task& t, int backlog) {
  absl::MutexLock l(&unix_mu);
  if (type_ == SOCK_DGRAM) return Errno(EOPNOTSUPP);
  if (!name_ || state_ == State::kConnected) return Errno(EINVAL);
  // net.core.somaxconn caps the backlog; a negative one means the cap.
  constexpr int kSoMaxConn = 4096;
  size_t limit = static_cast<size_t>(
      backlog < 0 || backlog > kSoMaxConn ? kSoMaxConn : backlog);
  if (limit > backlog_limit_) peer_wait_->Notify(kWriteEvents);
  backlog_limit_ = limit;
  if (state_ != State::kListening) {
    state_ = State::kListening;
    // Connecting clients see the listener's credentials (SO_PEERCRED).
    peer_creds_ = CredsOf(t);
  }
  return {};
}

std::optional<absl::Time> UnixSocket::DeadlineFor(
    std::optional<absl::Duration> timeout) const {
  if (!timeout) return std::nullopt;
  return absl::Now() + *timeout;
}

ErrnoOr<void> UnixSocket::Block(kernel::Task& t, vfs::WaitQueue* queue,
                                uint32_t events,
                                std::optional<absl::Time> deadline,
                                const std::function<bool()>& ready) {
  ErrnoOr<void> w = t.Wait(queue, events, ready, deadline);
  if (w.ok()) return w;
  if (w.error().value() == ETIMEDOUT) return Errno(EAGAIN);
  // Linux's sock_intr_errno: with a timeout, a signal is EINTR.
  if (deadline && w.error().value() == kErestartSys) return Errno(EINTR);
  return w;
}

ErrnoOr<std::shared_ptr<Socket>> UnixSocket::Accept(
    kernel::Task& t, int flags, std::vector<uint8_t>* peer_address) {
  std::optional<absl::Time> deadline;
  {
    absl::MutexLock l(&unix_mu);
    deadline = DeadlineFor(rcvtimeo_);
  }
  while (true) {
    std::shared_ptr<UnixSocket> server, client;
    {
      absl::MutexLock l(&unix_mu);
      if (type_ == SOCK_DGRAM) return Errno(EOPNOTSUPP);
      if (state_ != State::kListening) return Errno(EINVAL);
      if (backlog_.empty() && (shutdown_ & kRcvShutdown)) {
        // A shut-down listener accepts nothing more (Linux's
        // skb_recv_datagram sees RCV_SHUTDOWN).
        return Errno(nonblocking() ? EAGAIN : EINVAL);
      }
      if (!backlog_.empty()) {
        server = std::move(backlog_.front());
        backlog_.pop_front();
        server->embryo_ = false;
        peer_wait_->Notify(kWriteEvents);
        client = server->peer_.lock();
        *peer_address = client && client->name_ ? client->name_->sockaddr
                                                : UnnamedAddress();
      }
    }
    if (server) {
      if (flags & O_NONBLOCK) (void)server->SetStatusFlags(O_NONBLOCK);
      return std::shared_ptr<Socket>(server);
    }
    if (nonblocking()) return Errno(EAGAIN);
    SENTRY_RETURN_IF_ERRNO(Block(t, &queue_, kReadEvents, deadline, [this] {
      absl::MutexLock l(&unix_mu);
      return !backlog_.empty() || state_ != State::kListening ||
             (shutdown_ & kRcvShutdown);
    }));
  }
}

ErrnoOr<void> UnixSocket::Connect(kernel::Task& t,
                                  std::span<const uint8_t> address) {
  if (type_ == SOCK_DGRAM && address.size() >= sizeof(sa_family_t)) {
    sa_family_t family;
    std::memcpy(&family, address.data(), sizeof(family));
    if (family == AF_UNSPEC) return DisconnectDgram();
  }
  SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<UnixSocket> target,
                          Find(t, address, type_));
  if (type_ == SOCK_DGRAM) return ConnectDgram(t, std::move(target));
  return ConnectStream(t, std::move(target));
}

ErrnoOr<void> UnixSocket::DisconnectDgram() {
  std::shared_ptr<UnixSocket> old;
  absl::MutexLock l(&unix_mu);
  old = peer_.lock();
  peer_.reset();
  state_ = State::kUnconnected;
  return {};
}

ErrnoOr<void> UnixSocket::ConnectDgram(kernel::Task&,
                                       std::shared_ptr<UnixSocket> target) {
  std::shared_ptr<UnixSocket> old, targets_peer;
  std::vector<FilePtr> dropped;
  absl::MutexLock l(&unix_mu);
  // unix_may_send: a target connected elsewhere takes nothing from us.
  targets_peer = target->peer_.lock();
  if (target.get() != this && targets_peer && targets_peer.get() != this)
    return Errno(EPERM);
  if (passcred_ && !name_) AutobindLocked();
  old = peer_.lock();
  if (old && old != target) {
    // Linux's unix_dgram_disconnected: queued messages are lost, and an
    // old peer connected back to us learns it with ECONNRESET.
    if (!receive_.empty()) {
      while (!receive_.empty()) PopLocked(dropped);
      std::shared_ptr<UnixSocket> olds_peer = old->peer_.lock();
      if (olds_peer.get() == this) {
        old->error_ = ECONNRESET;
        old->queue_.Notify(POLLERR);
      }
      dropped.push_back(std::move(olds_peer));
    }
  }
  peer_ = target;
  state_ = State::kConnected;
  return {};
}

ErrnoOr<void> UnixSocket::ConnectStream(kernel::Task& t,
                                        std::shared_ptr<UnixSocket> listener) {
  std::optional<absl::Time> deadline;
  {
    absl::MutexLock l(&unix_mu);
    deadline = DeadlineFor(sndtimeo_);
  }
  std::weak_ptr<UnixSocket> weak_listener = listener;
  while (true) {
    std::shared_ptr<WakeChannel> channel;
    uint64_t seen = 0;
    {
      absl::MutexLock l(&unix_mu);
      if (state_ == State::kConnected) return Errno(EISCONN);
      if (state_ == State::kListening) return Errno(EINVAL);
      if (!listener || listener->state_ != State::kListening ||
          (listener->shutdown_ & kRcvShutdown))
        return Errno(ECONNREFUSED);
      if (listener->backlog_.size() > listener->backlog_limit_) {
        if (nonblocking()) return Errno(EAGAIN);
        // Wait for room without keeping the listener open.
        channel = listener->peer_wait_;
        seen = channel->generation.load();
      } else {
        if (passcred_ && !name_) AutobindLocked();
        auto server = std::make_shared<UnixSocket>(type_, 0, creator_);
        server->state_ = State::kConnected;
        server->embryo_ = true;
        server->accepted_copy_ = true;
        server->name_ = listener->name_;
        server->peer_ = self();
        server->peer_creds_ = CredsOf(t);
        server->sndbuf_ = listener->sndbuf_;
        server->passcred_ = listener->passcred_;
        server->peer_name_ = name_ ? name_->sockaddr : UnnamedAddress();
        state_ = State::kConnected;
        peer_ = server;
        peer_creds_ = listener->peer_creds_;
        peer_name_ = listener->name_->sockaddr;
        listener->backlog_.push_back(std::move(server));
        listener->queue_.Notify(kReadEvents);
        return {};
      }
    }
    listener.reset();
    SENTRY_RETURN_IF_ERRNO(
        Block(t, &channel->queue, kWriteEvents, deadline,
              [&] { return channel->generation.load() != seen; }));
    listener = weak_listener.lock();
  }
}

int UnixSocket::TakeErrorLocked() {
  int e = error_;
  error_ = 0;
  return e;
}

void UnixSocket::EnqueueLocked(UnixSocket& receiver, UnixMessage msg) {
  msg.sender = std::static_pointer_cast<UnixSocket>(shared_from_this());
  msg.charge = msg.data.size() + kMessageOverhead;
  in_flight_ += msg.charge;
  receiver.receive_bytes_ += msg.data.size();
  receiver.receive_.push_back(std::move(msg));
  receiver.queue_.Notify(kReadEvents);
}

void UnixSocket::PopLocked(std::vector<FilePtr>& dropped) {
  UnixMessage& msg = receive_.front();
  receive_bytes_ -= msg.data.size() - msg.offset;
  std::shared_ptr<UnixSocket> sender = msg.sender.lock();
  if (sender) {
    sender->in_flight_ -= std::min(sender->in_flight_, msg.charge);
    sender->queue_.Notify(kWriteEvents);
    dropped.push_back(std::move(sender));
  }
  for (FilePtr& f : msg.rights) dropped.push_back(std::move(f));
  receive_.pop_front();
  // Datagram senders blocked on our full queue may go on.
  peer_wait_->Notify(kWriteEvents);
}

ErrnoOr<size_t> UnixSocket::SendMsg(kernel::Task& t, SendRequest& req) {
  if (req.flags & MSG_OOB) return Errno(EOPNOTSUPP);
  return type_ == SOCK_STREAM ? SendStream(t, req) : SendDatagram(t, req);
}

ErrnoOr<RecvResult> UnixSocket::RecvMsg(kernel::Task& t, size_t length,
                                        int flags) {
  if (flags & MSG_OOB) return Errno(EOPNOTSUPP);
  return type_ == SOCK_STREAM ? RecvStream(t, length, flags)
                              : RecvDatagram(t, length, flags);
}

ErrnoOr<size_t> UnixSocket::SendStream(kernel::Task& t, SendRequest& req) {
  const bool nonblock = nonblocking() || (req.flags & MSG_DONTWAIT);
  size_t sent = 0;
  ErrnoOr<size_t> result = size_t{0};
  bool broken_pipe = false;
  std::optional<absl::Time> deadline;
  {
    absl::MutexLock l(&unix_mu);
    if (!req.address.empty())
      return Errno(state_ == State::kConnected ? EISCONN : EOPNOTSUPP);
    deadline = DeadlineFor(sndtimeo_);
  }
  while (true) {
    std::shared_ptr<UnixSocket> peer;
    std::vector<FilePtr> dropped;
    bool wait = false;
    {
      absl::MutexLock l(&unix_mu);
      if (state_ != State::kConnected) {
        result = Errno(ENOTCONN);
        break;
      }
      peer = peer_.lock();
      if ((shutdown_ & kSendShutdown) || !peer ||
          (peer->shutdown_ & kRcvShutdown)) {
        broken_pipe = true;
        result = Errno(EPIPE);
        break;
      }
      if (sent == req.data.size()) {
        result = sent;
        break;
      }
      size_t room =
          static_cast<size_t>(sndbuf_) > in_flight_ + kMessageOverhead
              ? static_cast<size_t>(sndbuf_) - in_flight_ - kMessageOverhead
              : 0;
      if (room == 0) {
        if (nonblock) {
          result = Errno(EAGAIN);
          break;
        }
        wait = true;
      } else {
        size_t n = std::min(req.data.size() - sent, room);
        UnixMessage msg;
        msg.data.assign(req.data.begin() + sent, req.data.begin() + sent + n);
        if (sent == 0) msg.rights = std::move(req.rights);
        msg.creds =
            req.creds.value_or(ucred{t.pid(), t.creds().ruid, t.creds().rgid});
        if (name_) msg.from = name_->sockaddr;
        EnqueueLocked(*peer, std::move(msg));
        sent += n;
        continue;
      }
    }
    if (wait) {
      ErrnoOr<void> w = Block(t, &queue_, kWriteEvents, deadline, [this] {
        absl::MutexLock l(&unix_mu);
        return static_cast<int>(in_flight_) < sndbuf_ || shutdown_ != 0 ||
               peer_.expired() || state_ != State::kConnected;
      });
      if (!w.ok()) {
        result = w.error();
        break;
      }
    }
  }
  if (sent > 0) return sent;
  if (broken_pipe && !(req.flags & MSG_NOSIGNAL)) t.QueueThreadSignal(SIGPIPE);
  return result;
}

ErrnoOr<size_t> UnixSocket::SendDatagram(kernel::Task& t, SendRequest& req) {
  const bool nonblock = nonblocking() || (req.flags & MSG_DONTWAIT);
  std::shared_ptr<UnixSocket> target;
  // SOCK_SEQPACKET ignores a destination, as Linux does.
  if (type_ == SOCK_DGRAM && !req.address.empty()) {
    SENTRY_ASSIGN_OR_RETURN(target, Find(t, req.address, type_));
  }
  std::optional<absl::Time> deadline;
  {
    absl::MutexLock l(&unix_mu);
    deadline = DeadlineFor(sndtimeo_);
  }
  while (true) {
    std::shared_ptr<UnixSocket> receiver, receivers_peer;
    std::shared_ptr<WakeChannel> channel;
    uint64_t seen = 0;
    {
      absl::MutexLock l(&unix_mu);
      if (type_ == SOCK_SEQPACKET) {
        if (int e = TakeErrorLocked()) return Errno(e);
        if (state_ != State::kConnected) return Errno(ENOTCONN);
      }
      if (req.data.size() + 32 > static_cast<size_t>(sndbuf_))
        return Errno(EMSGSIZE);
      if (shutdown_ & kSendShutdown) return Errno(EPIPE);
      receiver = target ? target : peer_.lock();
      if (!receiver) {
        if (target) return Errno(ECONNREFUSED);
        if (state_ != State::kConnected) return Errno(ENOTCONN);
        if (type_ == SOCK_SEQPACKET) return Errno(EPIPE);
        // The connected peer is gone: Linux disconnects and refuses.
        peer_.reset();
        state_ = State::kUnconnected;
        return Errno(ECONNREFUSED);
      }
      receivers_peer = receiver->peer_.lock();
      // unix_may_send: a receiver connected elsewhere takes nothing.
      if (type_ == SOCK_DGRAM && receiver.get() != this &&
          receiver->state_ == State::kConnected && receivers_peer.get() != this)
        return Errno(EPERM);
      if (receiver->shutdown_ & kRcvShutdown) return Errno(EPIPE);
      if ((passcred_ || receiver->passcred_) && !name_) AutobindLocked();
      bool queue_full = receiver.get() != this &&
                        receivers_peer.get() != this &&
                        receiver->receive_.size() > kMaxDgramQueue;
      bool no_room = static_cast<int>(in_flight_) >= sndbuf_;
      if (!queue_full && !no_room) {
        UnixMessage msg;
        msg.data.assign(req.data.begin(), req.data.end());
        msg.rights = std::move(req.rights);
        msg.creds =
            req.creds.value_or(ucred{t.pid(), t.creds().ruid, t.creds().rgid});
        if (name_) msg.from = name_->sockaddr;
        EnqueueLocked(*receiver, std::move(msg));
        return req.data.size();
      }
      if (nonblock) return Errno(EAGAIN);
      channel = queue_full ? receiver->peer_wait_ : nullptr;
      if (channel) seen = channel->generation.load();
    }
    receiver.reset();
    receivers_peer.reset();
    if (channel) {
      SENTRY_RETURN_IF_ERRNO(
          Block(t, &channel->queue, kWriteEvents, deadline,
                [&] { return channel->generation.load() != seen; }));
    } else {
      SENTRY_RETURN_IF_ERRNO(Block(t, &queue_, kWriteEvents, deadline, [this] {
        absl::MutexLock l(&unix_mu);
        return static_cast<int>(in_flight_) < sndbuf_ || shutdown_ != 0;
      }));
    }
  }
}

ErrnoOr<RecvResult> UnixSocket::RecvStream(kernel::Task& t, size_t length,
                                           int flags) {
  const bool nonblock = nonblocking() || (flags & MSG_DONTWAIT);
  const bool peek = flags & MSG_PEEK;
  const bool waitall = (flags & MSG_WAITALL) && !peek;
  RecvResult r;
  std::optional<absl::Time> deadline;
  {
    absl::MutexLock l(&unix_mu);
    if (state_ != State::kConnected) return Errno(EINVAL);
    deadline = DeadlineFor(rcvtimeo_);
  }
  bool took_message = false;
  while (true) {
    std::vector<FilePtr> dropped;
    {
      absl::MutexLock l(&unix_mu);
      bool rights_end = false, creds_end = false;
      size_t index = 0;
      while (r.data.size() < length || (length == 0 && !took_message)) {
        if (index >= receive_.size()) break;
        UnixMessage& m = receive_[index];
        // Pieces sent with other credentials are not merged into one read
        // when SO_PASSCRED wants them (Linux's unix_skb_scm_eq).
        if (passcred_) {
          if (r.creds && !SameCreds(*r.creds, m.creds)) {
            creds_end = true;
            break;
          }
          r.creds = m.creds;
        }
        if (!took_message && r.from.empty()) r.from = m.from;
        took_message = true;
        size_t n = std::min(m.data.size() - m.offset, length - r.data.size());
        r.data.insert(r.data.end(), m.data.begin() + m.offset,
                      m.data.begin() + m.offset + n);
        if (!m.rights.empty()) {
          // File descriptors end a read, so they arrive with their bytes.
          if (peek) {
            r.rights = m.rights;
          } else {
            r.rights = std::move(m.rights);
            m.rights.clear();
          }
          rights_end = true;
        }
        if (peek) {
          ++index;
        } else {
          m.offset += n;
          receive_bytes_ -= n;
          if (m.offset == m.data.size()) PopLocked(dropped);
        }
        if (rights_end) break;
      }
      bool done = took_message && (!waitall || r.data.size() >= length ||
                                   rights_end || creds_end);
      if (!done && receive_.empty()) {
        // An error ends the read; with bytes read, it waits for the next.
        if (error_ != 0) {
          if (!took_message) return Errno(TakeErrorLocked());
          done = true;
        } else if (shutdown_ & kRcvShutdown) {
          done = true;
        }
      }
      if (done) break;
      if (nonblock) {
        if (took_message) break;
        return Errno(EAGAIN);
      }
    }
    ErrnoOr<void> w =
        Block(t, &queue_, kReadEvents | POLLRDHUP | POLLHUP, deadline, [this] {
          absl::MutexLock l(&unix_mu);
          return !receive_.empty() || (shutdown_ & kRcvShutdown) || error_ != 0;
        });
    if (!w.ok()) {
      if (took_message) break;
      return w.error();
    }
  }
  return r;
}

ErrnoOr<RecvResult> UnixSocket::RecvDatagram(kernel::Task& t, size_t length,
                                             int flags) {
  const bool nonblock = nonblocking() || (flags & MSG_DONTWAIT);
  const bool peek = flags & MSG_PEEK;
  std::optional<absl::Time> deadline;
  {
    absl::MutexLock l(&unix_mu);
    if (type_ == SOCK_SEQPACKET && state_ != State::kConnected)
      return Errno(ENOTCONN);
    deadline = DeadlineFor(rcvtimeo_);
  }
  while (true) {
    std::vector<FilePtr> dropped;
    RecvResult r;
    {
      absl::MutexLock l(&unix_mu);
      if (!receive_.empty()) {
        UnixMessage& m = receive_.front();
        r.message_length = m.data.size();
        size_t n = std::min(length, m.data.size());
        r.data.assign(m.data.begin(), m.data.begin() + n);
        if (n < m.data.size()) r.msg_flags |= MSG_TRUNC;
        r.from = m.from;
        if (passcred_) r.creds = m.creds;
        if (peek) {
          r.rights = m.rights;
        } else {
          r.rights = std::move(m.rights);
          m.rights.clear();
          PopLocked(dropped);
        }
        if (type_ == SOCK_SEQPACKET) r.msg_flags |= MSG_EOR;
        return r;
      }
      if (int e = TakeErrorLocked()) return Errno(e);
      if (shutdown_ & kRcvShutdown) {
        if (nonblock && type_ == SOCK_DGRAM) return Errno(EAGAIN);
        return r;
      }
      if (nonblock) return Errno(EAGAIN);
    }
    SENTRY_RETURN_IF_ERRNO(
        Block(t, &queue_, kReadEvents | POLLRDHUP | POLLHUP, deadline, [this] {
          absl::MutexLock l(&unix_mu);
          return !receive_.empty() || (shutdown_ & kRcvShutdown) || error_ != 0;
        }));
  }
}

ErrnoOr<void> UnixSocket::Shutdown(kernel::Task&, int how) {
  if (how < SHUT_RD || how > SHUT_RDWR) return Errno(EINVAL);
  int mode = how + 1;  // SHUT_RD → kRcvShutdown, ...
  std::shared_ptr<UnixSocket> peer;
  absl::MutexLock l(&unix_mu);
  shutdown_ |= mode;
  queue_.Notify(kReadEvents | kWriteEvents | POLLHUP | POLLRDHUP);
  peer = peer_.lock();
  if (peer && connection_oriented()) {
    int peer_mode = ((mode & kRcvShutdown) ? kSendShutdown : 0) |
                    ((mode & kSendShutdown) ? kRcvShutdown : 0);
    peer->shutdown_ |= peer_mode;
    peer->queue_.Notify(kReadEvents | kWriteEvents | POLLHUP | POLLRDHUP);
  }
  return {};
}

ErrnoOr<std::vector<uint8_t>> UnixSocket::GetSockName() {
  absl::MutexLock l(&unix_mu);
  return name_ ? name_->sockaddr : UnnamedAddress();
}

ErrnoOr<std::vector<uint8_t>> UnixSocket::GetPeerName() {
  std::shared_ptr<UnixSocket> peer;
  absl::MutexLock l(&unix_mu);
  if (state_ != State::kConnected) return Errno(ENOTCONN);
  peer = peer_.lock();
  if (peer) return peer->name_ ? peer->name_->sockaddr : UnnamedAddress();
  // A stream peer that went away leaves the connection named: Linux keeps
  // the dead peer and reports its address.
  if (connection_oriented()) return peer_name_;
  return Errno(ENOTCONN);
}

ErrnoOr<size_t> UnixSocket::Read(kernel::Task& t, std::span<uint8_t> dst) {
  SENTRY_ASSIGN_OR_RETURN(RecvResult r, RecvMsg(t, dst.size(), 0));
  if (!r.data.empty()) std::memcpy(dst.data(), r.data.data(), r.data.size());
  // read(2) has nowhere to put file descriptors: they are closed, as
  // Linux's scm_destroy does.
  return r.data.size();
}

ErrnoOr<size_t> UnixSocket::Write(kernel::Task& t,
                                  std::span<const uint8_t> src) {
  SendRequest req;
  req.data = src;
  return SendMsg(t, req);
}

ErrnoOr<uint64_t> UnixSocket::Ioctl(kernel::Task& t, uint32_t request,
                                    uint64_t arg) {
  int value = 0;
  {
    absl::MutexLock l(&unix_mu);
    switch (request) {
      case TIOCINQ:  // SIOCINQ
        if (state_ == State::kListening) return Errno(EINVAL);
        if (type_ != SOCK_DGRAM) {
          value = static_cast<int>(receive_bytes_);
        } else {
          value = receive_.empty()
                      ? 0
                      : static_cast<int>(receive_.front().data.size());
        }
        break;
      case TIOCOUTQ:  // SIOCOUTQ
        value = static_cast<int>(in_flight_);
        break;
      default:
        return Errno(ENOTTY);
    }
  }
  if (!t.mm().CopyOut(arg, &value, sizeof(value)).ok()) return Errno(EFAULT);
  return uint64_t{0};
}

uint32_t UnixSocket::Readiness(uint32_t mask) {
  std::shared_ptr<UnixSocket> peer, peers_peer;
  uint32_t r = 0;
  {
    absl::MutexLock l(&unix_mu);
    if (error_) r |= POLLERR;
    if (shutdown_ == kShutdownBoth) r |= POLLHUP;
    if (shutdown_ & kRcvShutdown) r |= POLLRDHUP | kReadEvents;
    if (!receive_.empty() || !backlog_.empty()) r |= kReadEvents;
    if (connection_oriented() && state_ == State::kUnconnected) r |= POLLHUP;
    // Linux's unix_writable: not a listener, and at most a quarter of
    // SO_SNDBUF in flight.
    bool writable = state_ != State::kListening &&
                    static_cast<int>(in_flight_) * 4 <= sndbuf_;
    if (writable && type_ != SOCK_STREAM) {
      peer = peer_.lock();
      if (peer) peers_peer = peer->peer_.lock();
      if (peer && peers_peer.get() != this &&
          peer->receive_.size() > kMaxDgramQueue)
        writable = false;
    }
    if (writable) r |= kWriteEvents;
  }
  return r & (mask | POLLHUP | POLLERR);
}

}  // namespace sentry::net
