#include "sentry/fs/eventfd.h"

#include <poll.h>
#include <sys/eventfd.h>

#include <cstring>

#include "sentry/fs/anon_inode.h"
#include "sentry/kernel/task.h"

namespace sentry::fs {
namespace {
constexpr uint64_t kMax = 0xfffffffffffffffe;
}  // namespace

EventFd::EventFd(uint64_t initial, int flags)
    : vfs::FileDescription(O_RDWR | ((flags & EFD_NONBLOCK) ? O_NONBLOCK : 0)),
      semaphore_(flags & EFD_SEMAPHORE),
      count_(initial) {
  set_inode(AnonInodeOf("[eventfd]"));
}

uint64_t EventFd::count() const {
  absl::MutexLock l(&mu_);
  return count_;
}

ErrnoOr<size_t> EventFd::Read(kernel::Task& t, std::span<uint8_t> dst) {
  if (dst.size() < sizeof(uint64_t)) return Errno(EINVAL);
  for (;;) {
    {
      absl::MutexLock l(&mu_);
      if (count_ > 0) {
        uint64_t v = semaphore_ ? 1 : count_;
        count_ -= v;
        std::memcpy(dst.data(), &v, sizeof(v));
        queue_.Notify(POLLOUT);
        return sizeof(v);
      }
    }
    if (nonblocking()) return Errno(EAGAIN);
    SENTRY_RETURN_IF_ERRNO(t.Wait(&queue_, POLLIN, [this] {
      absl::MutexLock l(&mu_);
      return count_ > 0;
    }));
  }
}

ErrnoOr<void> EventFd::Signal(uint64_t n) {
  absl::MutexLock l(&mu_);
  if (kMax - count_ < n) return Errno(EAGAIN);
  count_ += n;
  if (count_ > 0) queue_.Notify(POLLIN);
  return {};
}

ErrnoOr<size_t> EventFd::Write(kernel::Task& t, std::span<const uint8_t> src) {
  if (src.size() < sizeof(uint64_t)) return Errno(EINVAL);
  uint64_t v;
  std::memcpy(&v, src.data(), sizeof(v));
  if (v == ~uint64_t{0}) return Errno(EINVAL);
  for (;;) {
    if (Signal(v).ok()) return sizeof(v);
    if (nonblocking()) return Errno(EAGAIN);
    SENTRY_RETURN_IF_ERRNO(t.Wait(&queue_, POLLOUT, [this, v] {
      absl::MutexLock l(&mu_);
      return kMax - count_ >= v;
    }));
  }
}

uint32_t EventFd::Readiness(uint32_t mask) {
  absl::MutexLock l(&mu_);
  uint32_t r = 0;
  if (count_ > 0) r |= POLLIN | POLLRDNORM;
  if (count_ < kMax) r |= POLLOUT | POLLWRNORM;
  return r & mask;
}

}  // namespace sentry::fs
