#include "sentry/fs/timerfd.h"

#include <poll.h>
#include <sys/timerfd.h>

#include <cstring>

#include "sentry/kernel/task.h"

namespace sentry::fs {
namespace {

constexpr int64_t kNsPerSec = 1000000000;

int64_t ToNs(const struct timespec& ts) {
  return ts.tv_sec * kNsPerSec + ts.tv_nsec;
}
struct timespec FromNs(int64_t ns) {
  struct timespec ts;
  ts.tv_sec = ns / kNsPerSec;
  ts.tv_nsec = ns % kNsPerSec;
  return ts;
}

}  // namespace

TimerFd::TimerFd(clockid_t clock, int flags)
    : vfs::FileDescription(O_RDWR | ((flags & TFD_NONBLOCK) ? O_NONBLOCK : 0)),
      clock_(clock) {
  set_inode(AnonInodeOf("[timerfd]"));
}

int64_t TimerFd::NowNs() const {
  struct timespec ts;
  clock_gettime(clock_, &ts);
  return ToNs(ts);
}

void TimerFd::UpdateLocked(int64_t now) {
  if (next_ns_ == 0 || now < next_ns_) return;
  if (interval_ns_ == 0) {
    ticks_ += 1;
    next_ns_ = 0;
    return;
  }
  uint64_t n = static_cast<uint64_t>((now - next_ns_) / interval_ns_) + 1;
  ticks_ += n;
  next_ns_ += static_cast<int64_t>(n) * interval_ns_;
}

ErrnoOr<struct itimerspec> TimerFd::Set(int flags,
                                        const struct itimerspec& value) {
  struct itimerspec old = Get();
  absl::MutexLock l(&mu_);
  ticks_ = 0;
  int64_t value_ns = ToNs(value.it_value);
  interval_ns_ = ToNs(value.it_interval);
  if (value_ns == 0) {
    next_ns_ = 0;
  } else if (flags & TFD_TIMER_ABSTIME) {
    // An absolute time in the past expires at once (next read sees 1+).
    next_ns_ = value_ns > 0 ? value_ns : 1;
  } else {
    next_ns_ = NowNs() + value_ns;
  }
  // Blocked readers recompute their deadline.
  queue_.Notify(POLLIN);
  return old;
}

struct itimerspec TimerFd::Get() {
  absl::MutexLock l(&mu_);
  int64_t now = NowNs();
  UpdateLocked(now);
  struct itimerspec out {};
  out.it_interval = FromNs(interval_ns_);
  if (next_ns_ != 0)
    out.it_value = FromNs(std::max<int64_t>(next_ns_ - now, 1));
  return out;
}

std::optional<absl::Time> TimerFd::NextReadinessChange() {
  absl::MutexLock l(&mu_);
  UpdateLocked(NowNs());
  if (ticks_ > 0 || next_ns_ == 0) return std::nullopt;
  return absl::Now() + absl::Nanoseconds(next_ns_ - NowNs());
}

ErrnoOr<size_t> TimerFd::Read(kernel::Task& t, std::span<uint8_t> dst) {
  if (dst.size() < sizeof(uint64_t)) return Errno(EINVAL);
  for (;;) {
    {
      absl::MutexLock l(&mu_);
      UpdateLocked(NowNs());
      if (ticks_ > 0) {
        std::memcpy(dst.data(), &ticks_, sizeof(ticks_));
        ticks_ = 0;
        return sizeof(uint64_t);
      }
    }
    if (nonblocking()) return Errno(EAGAIN);
    std::optional<absl::Time> deadline = NextReadinessChange();
    ErrnoOr<void> w = t.Wait(
        &queue_, POLLIN,
        [this] {
          absl::MutexLock l(&mu_);
          UpdateLocked(NowNs());
          return ticks_ > 0;
        },
        deadline);
    // The deadline is the expiry: loop to collect it.
    if (!w.ok() && w.error() != Errno(ETIMEDOUT)) return w.error();
  }
}

uint32_t TimerFd::Readiness(uint32_t mask) {
  absl::MutexLock l(&mu_);
  UpdateLocked(NowNs());
  return ticks_ > 0 ? (mask & (POLLIN | POLLRDNORM)) : 0;
}

}  // namespace sentry::fs
