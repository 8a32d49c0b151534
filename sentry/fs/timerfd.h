// timerfd_create(2): a timer whose expirations are read from a file,
// implemented in the Sentry on the host's clocks (the Sentry reads its own
// clock; the guest's time is the host's, as for clock_gettime).
//
// There is no timer thread: the expiration count is computed from the
// clock whenever the file is read or polled, a blocked read sleeps through
// Task::Wait with the expiry as its deadline, and poll/epoll shorten their
// waits to NextReadinessChange() (TimedReadiness).
//
// How this differs from Linux: the *_ALARM clocks are refused with EPERM,
// as Linux does without CAP_WAKE_ALARM, even for root (the Sentry cannot
// wake a suspended host); TFD_TIMER_CANCEL_ON_SET is accepted but a clock
// change never cancels (the guest cannot set the clock).
//
// Lock order: TimerFd::mu_ before WaitQueue::mu_.
#ifndef SENTRY_FS_TIMERFD_H_
#define SENTRY_FS_TIMERFD_H_

#include <time.h>

#include <cstdint>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/fs/anon_inode.h"
#include "sentry/vfs/file_description.h"

namespace sentry::fs {

class TimerFd final : public vfs::FileDescription, public TimedReadiness {
 public:
  // `flags`: TFD_NONBLOCK. `clock`: CLOCK_REALTIME, CLOCK_MONOTONIC or
  // CLOCK_BOOTTIME (checked by the caller).
  TimerFd(clockid_t clock, int flags);

  // timerfd_settime/gettime; `flags` TFD_TIMER_ABSTIME.
  ErrnoOr<struct itimerspec> Set(int flags, const struct itimerspec& value)
      ABSL_LOCKS_EXCLUDED(mu_);
  struct itimerspec Get() ABSL_LOCKS_EXCLUDED(mu_);

  ErrnoOr<size_t> Read(kernel::Task& t, std::span<uint8_t> dst) override;
  uint32_t Readiness(uint32_t mask) override;
  vfs::WaitQueue* wait_queue() override { return &queue_; }
  std::optional<absl::Time> NextReadinessChange() override;

 private:
  int64_t NowNs() const;
  // Folds expirations up to now into ticks_.
  void UpdateLocked(int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const clockid_t clock_;
  absl::Mutex mu_;
  int64_t next_ns_ ABSL_GUARDED_BY(mu_) = 0;  // 0: disarmed
  int64_t interval_ns_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t ticks_ ABSL_GUARDED_BY(mu_) = 0;
  vfs::WaitQueue queue_;
};

}  // namespace sentry::fs

#endif  // SENTRY_FS_TIMERFD_H_
