// WaitQueue: how a blocked task learns that a Sentry-side object (a pipe,
// an eventfd, a lock) may have changed. Waiters are woken with the event
// mask that happened; a woken waiter re-checks its condition, so spurious
// wake-ups are harmless.
//
// Lock order: WaitQueue::mu_ is a leaf; Notify() calls Waiter::Wake() with
// it held, so Wake() must not take other VFS locks.
#ifndef SENTRY_VFS_WAIT_QUEUE_H_
#define SENTRY_VFS_WAIT_QUEUE_H_

#include <cstdint>
#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace sentry::vfs {

class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual void Wake(uint32_t events) = 0;
};

class WaitQueue {
 public:
  // Registers `w` for `events` (POLLIN, POLLOUT, ...; all if ~0).
  void Add(Waiter* w, uint32_t events) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    waiters_[w] = events;
  }
  void Remove(Waiter* w) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    waiters_.erase(w);
  }
  void Notify(uint32_t events) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    for (auto& [w, mask] : waiters_) {
      if (mask & events) w->Wake(events);
    }
  }

 private:
  absl::Mutex mu_;
  std::map<Waiter*, uint32_t> waiters_ ABSL_GUARDED_BY(mu_);
};

// RAII registration.
class WaitRegistration {
 public:
  WaitRegistration(WaitQueue& q, Waiter* w, uint32_t events) : q_(q), w_(w) {
    q_.Add(w_, events);
  }
  ~WaitRegistration() { q_.Remove(w_); }
  WaitRegistration(const WaitRegistration&) = delete;
  WaitRegistration& operator=(const WaitRegistration&) = delete;

 private:
  WaitQueue& q_;
  Waiter* w_;
};

}  // namespace sentry::vfs

#endif  // SENTRY_VFS_WAIT_QUEUE_H_
