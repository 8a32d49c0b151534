// Framing shared by the Gofer and its client: one protobuf message per
// SOCK_SEQPACKET datagram, at most kMaxMessageSize bytes, with host FDs
// travelling as SCM_RIGHTS.
#ifndef GOFER_WIRE_H_
#define GOFER_WIRE_H_

#include <sys/stat.h>
#include <sys/statfs.h>

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gofer/gofer.pb.h"
#include "google/protobuf/message_lite.h"
#include "sentry/base/unique_fd.h"

namespace sentry::gofer {

// Every message, either way, fits in this. Fixed so that a receiver needs
// one recvmsg per message and can reject anything larger (MSG_TRUNC).
inline constexpr size_t kMaxMessageSize = 64 * 1024;

// At most this many FDs are accepted per message; the protocol uses one.
// More than that is truncated by the kernel (MSG_CTRUNC), which closes the
// rest.
inline constexpr size_t kMaxFdsPerMessage = 4;

// Sends `msg` as one datagram, donating `fd` when it is >= 0. The caller
// keeps its own copy of `fd`.
absl::Status SendMessage(int sock, const google::protobuf::MessageLite& msg,
                         int fd = -1);

struct Datagram {
  // True when the peer has closed its end; nothing else is set.
  bool eof = false;
  // The datagram did not fit in kMaxMessageSize; `bytes` holds its start.
  bool truncated = false;
  // More FDs came than kMaxFdsPerMessage, or a control message other than
  // SCM_RIGHTS.
  bool control_truncated = false;
  std::string bytes;
  std::vector<UniqueFd> fds;
};

// Receives one datagram. Retries EINTR. A zero-length datagram and the
// peer's close both read as 0 bytes; they are told apart by the hang-up
// flag poll reports.
absl::StatusOr<Datagram> ReceiveDatagram(int sock);

void StatToProto(const struct stat& st, Stat* out);
struct stat StatFromProto(const Stat& in);
void StatFsToProto(const struct statfs& st, StatFsResult* out);
struct statfs StatFsFromProto(const StatFsResult& in);

}  // namespace sentry::gofer

#endif  // GOFER_WIRE_H_
