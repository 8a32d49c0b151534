// eventfd(2): a 64-bit counter as a file, implemented in the Sentry.
//
// read(2) takes the whole counter (or 1 with EFD_SEMAPHORE) and blocks
// while it is 0; write(2) adds and blocks while the sum would exceed
// 0xfffffffffffffffe. How this differs from Linux: no in-kernel producers
// (AIO, KVM irqfd), so the counter never overflows to POLLERR.
//
// Lock order: EventFd::mu_ before WaitQueue::mu_.
#ifndef SENTRY_FS_EVENTFD_H_
#define SENTRY_FS_EVENTFD_H_

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/vfs/file_description.h"

namespace sentry::fs {

class EventFd final : public vfs::FileDescription {
 public:
  // `flags`: EFD_SEMAPHORE, EFD_NONBLOCK (EFD_CLOEXEC is the FD's).
  EventFd(uint64_t initial, int flags);

  ErrnoOr<size_t> Read(kernel::Task& t, std::span<uint8_t> dst) override;
  ErrnoOr<size_t> Write(kernel::Task& t, std::span<const uint8_t> src) override;
  uint32_t Readiness(uint32_t mask) override;
  vfs::WaitQueue* wait_queue() override { return &queue_; }

  uint64_t count() const ABSL_LOCKS_EXCLUDED(mu_);
  // Adds `n` without blocking: EAGAIN if it would overflow.
  ErrnoOr<void> Signal(uint64_t n) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const bool semaphore_;
  mutable absl::Mutex mu_;
  uint64_t count_ ABSL_GUARDED_BY(mu_);
  vfs::WaitQueue queue_;
};

}  // namespace sentry::fs

#endif  // SENTRY_FS_EVENTFD_H_
