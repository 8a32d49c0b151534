// AF_UNIX sockets (Linux's net/unix/af_unix.c, unix(7)), implemented in
// the Sentry: messages sit in Sentry-side queues, file descriptors travel
// as references to open file descriptions, and nothing reaches the host.
//
// Types: SOCK_STREAM (bytes), SOCK_DGRAM and SOCK_SEQPACKET (messages).
// Addresses: filesystem paths (bind creates an S_IFSOCK node through the
// VFS, so it works in tmpfs and in the overlay), the abstract namespace
// (sun_path[0] == 0) and autobind. Control messages: SCM_RIGHTS and
// SCM_CREDENTIALS.
//
// Flow control follows Linux: a sender's messages in flight count against
// its SO_SNDBUF until the receiver reads them (POLLOUT when at most a
// quarter is used), and a datagram receiver queues at most
// kMaxDgramQueue messages from senders it is not connected to. SO_RCVBUF
// is stored but, as in Linux, limits nothing.
//
// How this differs from Linux:
//  - a message costs its bytes plus kMessageOverhead (about a small skb's
//    truesize), so about as many fit as on Linux, not exactly as many;
//  - there is no garbage collector for sockets that are only reachable
//    through SCM_RIGHTS messages queued on themselves: such a cycle lives
//    until the sandbox exits;
//  - MSG_OOB is EOPNOTSUPP (Linux 5.15 added it for streams);
//  - the abstract namespace and bound paths are per Sentry (one network
//    namespace per sandbox).
//
// Lock order: one lock, unix_mu, guards every AF_UNIX socket's state and
// the address registry (connect touches two or three sockets at once; one
// lock keeps that simple). It is taken after any VFS lock (bind and
// connect resolve paths before taking it) and before WaitQueue::mu_
// (notifications are sent with it held). Files dropped from queues are
// released after it is let go: their release may take it again.
#ifndef SENTRY_NET_UNIX_SOCKET_H_
#define SENTRY_NET_UNIX_SOCKET_H_

#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sentry/net/socket.h"
#include "sentry/vfs/inode.h"
#include "sentry/vfs/wait_queue.h"

namespace sentry::net {

ABSL_CONST_INIT extern absl::Mutex unix_mu;

// net.core.wmem_default/rmem_default and the _max values.
inline constexpr int kUnixDefaultBuffer = 212992;
inline constexpr int kUnixMaxBuffer = 212992;
// SOCK_MIN_SNDBUF and SOCK_MIN_RCVBUF on x86-64.
inline constexpr int kUnixMinSndBuf = 4608;
inline constexpr int kUnixMinRcvBuf = 2304;
// net.unix.max_dgram_qlen.
inline constexpr size_t kMaxDgramQueue = 10;
// What a queued message costs beyond its bytes.
inline constexpr size_t kMessageOverhead = 576;
// SCM_MAX_FD: file descriptors in one message.
inline constexpr size_t kScmMaxFd = 253;

class UnixSocket;

// A message, or a piece of a stream, queued on its receiver.
struct UnixMessage {
  std::vector<uint8_t> data;
  size_t offset = 0;  // stream: bytes already read
  std::vector<FilePtr> rights;
  struct ucred creds {};
  std::vector<uint8_t> from;  // the sender's address, if bound
  // Charged to the sender's SO_SNDBUF until the message is read.
  std::weak_ptr<UnixSocket> sender;
  size_t charge = 0;
};

// A wait queue with a counter of notifications, so that a waiter can tell
// that something changed without looking at the object that changed.
struct WakeChannel {
  void Notify(uint32_t events);
  vfs::WaitQueue queue;
  std::atomic<uint64_t> generation{0};
};

// A bound name: a path's node (by device and inode number), or an
// abstract name. `sockaddr` is what getsockname returns for it.
struct UnixName {
  bool abstract = false;
  std::string key;  // abstract bytes, or "dev:ino" of the node
  std::vector<uint8_t> sockaddr;
};

class UnixSocket final : public Socket {
 public:
  // `type`: SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET. `creds`: the
  // creator's pid/euid/egid (SO_PEERCRED of its peer).
  UnixSocket(int type, int flags, const struct ucred& creds);
  ~UnixSocket() override;

  // socketpair(2): two connected sockets.
  static std::pair<std::shared_ptr<UnixSocket>, std::shared_ptr<UnixSocket>>
  Pair(int type, int flags, const struct ucred& creds);

  int family() const override { return AF_UNIX; }
  int type() const override { return type_; }

  ErrnoOr<void> Bind(kernel::Task& t,
                     std::span<const uint8_t> address) override;
  ErrnoOr<void> Listen(kernel::Task& t, int backlog) override;
  ErrnoOr<std::shared_ptr<Socket>> Accept(kernel::Task& t, int flags,
                                          std::vector<uint8_t>* peer) override;
  ErrnoOr<void> Connect(kernel::Task& t,
                        std::span<const uint8_t> address) override;
  ErrnoOr<size_t> SendMsg(kernel::Task& t, SendRequest& req) override;
  ErrnoOr<RecvResult> RecvMsg(kernel::Task& t, size_t length,
                              int flags) override;
  ErrnoOr<void> Shutdown(kernel::Task& t, int how) override;
  ErrnoOr<std::vector<uint8_t>> GetSockName() override;
  ErrnoOr<std::vector<uint8_t>> GetPeerName() override;
  ErrnoOr<std::vector<uint8_t>> GetSockOpt(kernel::Task& t, int level,
                                           int name) override;
  ErrnoOr<void> SetSockOpt(kernel::Task& t, int level, int name,
                           std::span<const uint8_t> value) override;

  // read(2)/write(2): recv/send without flags.
  ErrnoOr<size_t> Read(kernel::Task& t, std::span<uint8_t> dst) override;
  ErrnoOr<size_t> Write(kernel::Task& t, std::span<const uint8_t> src) override;
  ErrnoOr<uint64_t> Ioctl(kernel::Task& t, uint32_t request,
                          uint64_t arg) override;
  uint32_t Readiness(uint32_t mask) override;
  vfs::WaitQueue* wait_queue() override { return &queue_; }

 private:
  enum class State { kUnconnected, kListening, kConnected };
  // sk_shutdown bits.
  static constexpr int kRcvShutdown = 1;
  static constexpr int kSendShutdown = 2;
  static constexpr int kShutdownBoth = 3;

  bool connection_oriented() const { return type_ != SOCK_DGRAM; }
  std::shared_ptr<UnixSocket> self() {
    return std::static_pointer_cast<UnixSocket>(shared_from_this());
  }
  // SO_PEERCRED's view of the task: its process, effective uid and gid.
  static struct ucred CredsOf(kernel::Task& t);

  // Finds the socket of `type` bound at `address` (ECONNREFUSED if none).
  // Resolves paths through the VFS, so it runs without unix_mu.
  static ErrnoOr<std::shared_ptr<UnixSocket>> Find(
      kernel::Task& t, std::span<const uint8_t> address, int type);
  // Gives the socket an abstract "\0XXXXX" name (autobind).
  void AutobindLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(unix_mu);

  ErrnoOr<void> ConnectStream(kernel::Task& t,
                              std::shared_ptr<UnixSocket> listener);
  ErrnoOr<void> ConnectDgram(kernel::Task& t,
                             std::shared_ptr<UnixSocket> target);
  ErrnoOr<void> DisconnectDgram();
  ErrnoOr<size_t> SendStream(kernel::Task& t, SendRequest& req);
  ErrnoOr<size_t> SendDatagram(kernel::Task& t, SendRequest& req);
  ErrnoOr<RecvResult> RecvStream(kernel::Task& t, size_t length, int flags);
  ErrnoOr<RecvResult> RecvDatagram(kernel::Task& t, size_t length, int flags);

  // Queues `msg` on `receiver`, charging this socket's send buffer.
  void EnqueueLocked(UnixSocket& receiver, UnixMessage msg)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(unix_mu);
  // Removes the first queued message: uncharges and wakes its sender.
  // What must be released outside unix_mu goes to `dropped`.
  void PopLocked(std::vector<FilePtr>& dropped)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(unix_mu);
  // Takes an error the peer left (SO_ERROR semantics): 0 if none.
  int TakeErrorLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(unix_mu);
  // The deadline for a blocking call under SO_RCVTIMEO/SO_SNDTIMEO.
  std::optional<absl::Time> DeadlineFor(
      std::optional<absl::Duration> timeout) const;
  // Waits (without unix_mu) until `ready`. A timeout is EAGAIN; a signal
  // restarts the call, or is EINTR when a timeout is set (Linux's
  // sock_intr_errno).
  ErrnoOr<void> Block(kernel::Task& t, vfs::WaitQueue* queue, uint32_t events,
                      std::optional<absl::Time> deadline,
                      const std::function<bool()>& ready)
      ABSL_LOCKS_EXCLUDED(unix_mu);

  const int type_;
  const struct ucred creator_;
  vfs::WaitQueue queue_;
  // Datagram senders blocked on this receiver's full queue, and
  // connectors blocked on this listener's full backlog, wait here. Shared,
  // so that they need not keep this socket open while they wait.
  const std::shared_ptr<WakeChannel> peer_wait_;

  State state_ ABSL_GUARDED_BY(unix_mu) = State::kUnconnected;
  int shutdown_ ABSL_GUARDED_BY(unix_mu) = 0;
  int error_ ABSL_GUARDED_BY(unix_mu) = 0;
  std::optional<UnixName> name_ ABSL_GUARDED_BY(unix_mu);
  // An accepted socket shares its listener's name without owning it.
  bool accepted_copy_ ABSL_GUARDED_BY(unix_mu) = false;
  // Queued on a listener and not accepted yet.
  bool embryo_ ABSL_GUARDED_BY(unix_mu) = false;
  // The node a path bind created.
  std::shared_ptr<vfs::Inode> node_ ABSL_GUARDED_BY(unix_mu);
  std::weak_ptr<UnixSocket> peer_ ABSL_GUARDED_BY(unix_mu);
  // getpeername after a stream peer is gone.
  std::vector<uint8_t> peer_name_ ABSL_GUARDED_BY(unix_mu);
  // SO_PEERCRED: the peer's creator (socketpair, accept), or the
  // listener's at listen(2) (connect).
  std::optional<struct ucred> peer_creds_ ABSL_GUARDED_BY(unix_mu);
  std::deque<UnixMessage> receive_ ABSL_GUARDED_BY(unix_mu);
  size_t receive_bytes_ ABSL_GUARDED_BY(unix_mu) = 0;
  // Connections waiting for accept(2), already connected to their
  // clients, and how many more than this may wait.
  std::deque<std::shared_ptr<UnixSocket>> backlog_ ABSL_GUARDED_BY(unix_mu);
  size_t backlog_limit_ ABSL_GUARDED_BY(unix_mu) = 0;
  // Bytes sent and not yet read (sk_wmem_alloc).
  size_t in_flight_ ABSL_GUARDED_BY(unix_mu) = 0;
  int sndbuf_ ABSL_GUARDED_BY(unix_mu) = kUnixDefaultBuffer;
  int rcvbuf_ ABSL_GUARDED_BY(unix_mu) = kUnixDefaultBuffer;
  bool passcred_ ABSL_GUARDED_BY(unix_mu) = false;
  // SO_RCVTIMEO/SO_SNDTIMEO; none means wait forever.
  std::optional<absl::Duration> rcvtimeo_ ABSL_GUARDED_BY(unix_mu);
  std::optional<absl::Duration> sndtimeo_ ABSL_GUARDED_BY(unix_mu);
  // Options kept only for getsockopt (SO_REUSEADDR, SO_KEEPALIVE, ...).
  std::map<int, std::vector<uint8_t>> plain_options_ ABSL_GUARDED_BY(unix_mu);
};

}  // namespace sentry::net

#endif  // SENTRY_NET_UNIX_SOCKET_H_
