// getsockopt/setsockopt for AF_UNIX sockets: the SOL_SOCKET options of
// socket(7) that Linux's sock_getsockopt/sock_setsockopt answer for them.
#include <sys/socket.h>
#include <sys/time.h>

#include <cstring>

#include "sentry/base/log.h"
#include "sentry/kernel/task.h"
#include "sentry/net/unix_socket.h"

namespace sentry::net {
namespace {

template <typename T>
std::vector<uint8_t> Bytes(const T& value) {
  std::vector<uint8_t> out(sizeof(T));
  std::memcpy(out.data(), &value, sizeof(T));
  return out;
}

ErrnoOr<int> IntValue(std::span<const uint8_t> value) {
  if (value.size() < sizeof(int)) return Errno(EINVAL);
  int v;
  std::memcpy(&v, value.data(), sizeof(v));
  return v;
}

// Linux's sock_set_timeout: {0, 0} waits forever; a negative time does
// not wait at all.
ErrnoOr<std::optional<absl::Duration>> TimeoutValue(
    std::span<const uint8_t> value) {
  struct timeval tv;
  if (value.size() < sizeof(tv)) return Errno(EINVAL);
  std::memcpy(&tv, value.data(), sizeof(tv));
  if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return Errno(EDOM);
  if (tv.tv_sec < 0) return std::optional<absl::Duration>(absl::ZeroDuration());
  if (tv.tv_sec == 0 && tv.tv_usec == 0) {
    return std::optional<absl::Duration>(std::nullopt);
  }
  return std::optional<absl::Duration>(absl::Seconds(tv.tv_sec) +
                                       absl::Microseconds(tv.tv_usec));
}

std::vector<uint8_t> TimevalOf(const std::optional<absl::Duration>& d) {
  struct timeval tv {};
  if (d) tv = absl::ToTimeval(*d);
  return Bytes(tv);
}

// Boolean options read back as 0 or 1; the others as given.
bool IsBoolOption(int name) {
  switch (name) {
    case SO_REUSEADDR:
    case SO_REUSEPORT:
    case SO_KEEPALIVE:
    case SO_BROADCAST:
    case SO_DONTROUTE:
    case SO_OOBINLINE:
    case SO_TIMESTAMP:
    case SO_TIMESTAMPNS:
    case SO_PASSSEC:
    case SO_NOFCS:
    case SO_SELECT_ERR_QUEUE:
      return true;
    default:
      return false;
  }
}

}  // namespace

ErrnoOr<std::vector<uint8_t>> UnixSocket::GetSockOpt(kernel::Task&, int level,
                                                     int name) {
  // AF_UNIX has no options of its own (Linux's sock_no_getsockopt).
  if (level != SOL_SOCKET) return Errno(EOPNOTSUPP);
  absl::MutexLock l(&unix_mu);
  switch (name) {
    case SO_TYPE:
      return Bytes(type_);
    case SO_DOMAIN:
      return Bytes(int{AF_UNIX});
    case SO_PROTOCOL:
      return Bytes(int{0});
    case SO_ACCEPTCONN:
      return Bytes(int{state_ == State::kListening});
    case SO_ERROR:
      return Bytes(TakeErrorLocked());
    case SO_SNDBUF:
      return Bytes(sndbuf_);
    case SO_RCVBUF:
      return Bytes(rcvbuf_);
    case SO_PASSCRED:
      return Bytes(int{passcred_});
    case SO_PEERCRED: {
      // Linux's cred_to_ucred with no peer: pid 0, ids -1.
      struct ucred none {
        0, static_cast<uid_t>(-1), static_cast<gid_t>(-1)
      };
      return Bytes(peer_creds_.value_or(none));
    }
    // The _NEW variants take the same 16-byte layout on x86-64.
    case SO_RCVTIMEO_OLD:
    case SO_RCVTIMEO_NEW:
      return TimevalOf(rcvtimeo_);
    case SO_SNDTIMEO_OLD:
    case SO_SNDTIMEO_NEW:
      return TimevalOf(sndtimeo_);
    case SO_LINGER: {
      auto it = plain_options_.find(name);
      if (it != plain_options_.end()) return it->second;
      return Bytes(linger{0, 0});
    }
    case SO_RCVLOWAT:
    case SO_SNDLOWAT: {
      auto it = plain_options_.find(name);
      if (it != plain_options_.end()) return it->second;
      return Bytes(int{1});
    }
    case SO_PEEK_OFF:
      return Bytes(int{-1});
    case SO_PEERSEC:
      // No security module labels sockets in the sandbox.
      return Errno(ENOPROTOOPT);
    case SO_PRIORITY:
    case SO_MARK:
    default: {
      if (!IsBoolOption(name) && name != SO_PRIORITY && name != SO_MARK)
        return Errno(ENOPROTOOPT);
      auto it = plain_options_.find(name);
      if (it != plain_options_.end()) return it->second;
      return Bytes(int{0});
    }
  }
}

ErrnoOr<void> UnixSocket::SetSockOpt(kernel::Task& t, int level, int name,
                                     std::span<const uint8_t> value) {
  if (level != SOL_SOCKET) return Errno(EOPNOTSUPP);
  const bool privileged = t.creds().euid == 0;  // CAP_NET_ADMIN
  switch (name) {
    case SO_SNDBUF:
    case SO_SNDBUFFORCE:
    case SO_RCVBUF:
    case SO_RCVBUFFORCE: {
      SENTRY_ASSIGN_OR_RETURN(int v, IntValue(value));
      bool force = name == SO_SNDBUFFORCE || name == SO_RCVBUFFORCE;
      if (force && !privileged) return Errno(EPERM);
      // Linux doubles the request (for bookkeeping overhead), capped by
      // net.core.[wr]mem_max unless forced, floored by SOCK_MIN_*BUF.
      int64_t want = force ? std::max(v, 0) : std::min(v, kUnixMaxBuffer);
      want = std::min<int64_t>(want * 2, INT32_MAX);
      bool send = name == SO_SNDBUF || name == SO_SNDBUFFORCE;
      absl::MutexLock l(&unix_mu);
      if (send) {
        sndbuf_ = std::max<int>(static_cast<int>(want), kUnixMinSndBuf);
        queue_.Notify(POLLOUT | POLLWRNORM);
      } else {
        rcvbuf_ = std::max<int>(static_cast<int>(want), kUnixMinRcvBuf);
      }
      return {};
    }
    case SO_PASSCRED: {
      SENTRY_ASSIGN_OR_RETURN(int v, IntValue(value));
      absl::MutexLock l(&unix_mu);
      passcred_ = v != 0;
      return {};
    }
    case SO_RCVTIMEO_OLD:
    case SO_RCVTIMEO_NEW:
    case SO_SNDTIMEO_OLD:
    case SO_SNDTIMEO_NEW: {
      SENTRY_ASSIGN_OR_RETURN(std::optional<absl::Duration> d,
                              TimeoutValue(value));
      bool receive = name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW;
      absl::MutexLock l(&unix_mu);
      (receive ? rcvtimeo_ : sndtimeo_) = d;
      return {};
    }
    case SO_LINGER: {
      if (value.size() < sizeof(linger)) return Errno(EINVAL);
      absl::MutexLock l(&unix_mu);
      plain_options_[name].assign(value.begin(),
                                  value.begin() + sizeof(linger));
      return {};
    }
    case SO_SNDLOWAT:
      // Linux: "not changeable".
      return Errno(ENOPROTOOPT);
    case SO_RCVLOWAT:
    case SO_PRIORITY:
    case SO_MARK: {
      SENTRY_ASSIGN_OR_RETURN(int v, IntValue(value));
      if (name == SO_MARK && !privileged) return Errno(EPERM);
      if (name == SO_PRIORITY && (v < 0 || v > 6) && !privileged)
        return Errno(EPERM);
      if (name == SO_RCVLOWAT && v < 0) v = INT32_MAX;
      absl::MutexLock l(&unix_mu);
      plain_options_[name] = Bytes(v == 0 && name == SO_RCVLOWAT ? 1 : v);
      return {};
    }
    case SO_TYPE:
    case SO_DOMAIN:
    case SO_PROTOCOL:
    case SO_ACCEPTCONN:
    case SO_ERROR:
    case SO_PEERCRED:
      return Errno(ENOPROTOOPT);
    default: {
      if (!IsBoolOption(name)) {
        SENTRY_LOG(kInfo, "setsockopt(AF_UNIX, SOL_SOCKET, %d): unsupported",
                   name);
        return Errno(ENOPROTOOPT);
      }
      SENTRY_ASSIGN_OR_RETURN(int v, IntValue(value));
      absl::MutexLock l(&unix_mu);
      plain_options_[name] = Bytes(int{v != 0});
      return {};
    }
  }
}

}  // namespace sentry::net
