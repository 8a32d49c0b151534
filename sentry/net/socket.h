// Socket: the operations of Linux's struct proto_ops, on an open file
// description. The syscall layer (syscalls/sys_socket.cc) copies addresses,
// data and control messages between guest memory and the Sentry-side
// structures below; the families (only AF_UNIX so far, in unix_socket.h)
// never touch guest memory.
#ifndef SENTRY_NET_SOCKET_H_
#define SENTRY_NET_SOCKET_H_

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "sentry/base/errno_or.h"
#include "sentry/vfs/file_description.h"

namespace sentry::kernel {
class Task;
}

namespace sentry::net {

using FilePtr = std::shared_ptr<vfs::FileDescription>;

// One sendmsg(2): the data, the destination (empty: the connected peer)
// and the control messages, already validated.
struct SendRequest {
  std::span<const uint8_t> data;
  std::vector<uint8_t> address;       // raw sockaddr bytes
  std::vector<FilePtr> rights;        // SCM_RIGHTS
  std::optional<struct ucred> creds;  // explicit SCM_CREDENTIALS
  int flags = 0;                      // MSG_*
};

// What one recvmsg(2) took.
struct RecvResult {
  std::vector<uint8_t> data;
  // The message's whole length (datagrams; MSG_TRUNC returns it).
  size_t message_length = 0;
  std::vector<uint8_t> from;  // the sender's address; empty: none
  std::vector<FilePtr> rights;
  std::optional<struct ucred> creds;  // set when SO_PASSCRED is on
  int msg_flags = 0;                  // MSG_TRUNC, MSG_EOR
};

class Socket : public vfs::FileDescription {
 public:
  // `flags`: O_NONBLOCK or 0; sockets are always O_RDWR.
  explicit Socket(int flags) : vfs::FileDescription(O_RDWR | flags) {}

  virtual int family() const = 0;
  virtual int type() const = 0;
  virtual int protocol() const { return 0; }

  virtual ErrnoOr<void> Bind(kernel::Task& t,
                             std::span<const uint8_t> address) = 0;
  virtual ErrnoOr<void> Listen(kernel::Task& t, int backlog) = 0;
  // Returns the new connection (its file takes `flags`' O_NONBLOCK) and
  // stores the peer's address in `peer`.
  virtual ErrnoOr<std::shared_ptr<Socket>> Accept(
      kernel::Task& t, int flags, std::vector<uint8_t>* peer) = 0;
  virtual ErrnoOr<void> Connect(kernel::Task& t,
                                std::span<const uint8_t> address) = 0;
  virtual ErrnoOr<size_t> SendMsg(kernel::Task& t, SendRequest& req) = 0;
  // Up to `length` bytes; `flags`: MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL...
  virtual ErrnoOr<RecvResult> RecvMsg(kernel::Task& t, size_t length,
                                      int flags) = 0;
  virtual ErrnoOr<void> Shutdown(kernel::Task& t, int how) = 0;
  virtual ErrnoOr<std::vector<uint8_t>> GetSockName() = 0;
  virtual ErrnoOr<std::vector<uint8_t>> GetPeerName() = 0;
  // getsockopt(2): the option's value, at most `length` bytes of it are
  // copied out by the caller.
  virtual ErrnoOr<std::vector<uint8_t>> GetSockOpt(kernel::Task& t, int level,
                                                   int name) = 0;
  virtual ErrnoOr<void> SetSockOpt(kernel::Task& t, int level, int name,
                                   std::span<const uint8_t> value) = 0;

  ErrnoOr<uint64_t> Seek(int64_t, int) override { return Errno(ESPIPE); }
  ErrnoOr<void> Sync() override { return Errno(EINVAL); }
};

}  // namespace sentry::net

#endif  // SENTRY_NET_SOCKET_H_
