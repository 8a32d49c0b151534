// signalfd(2): reads the calling task's pending signals (its own and its
// process's) as struct signalfd_siginfo records, each filled from the
// queued siginfo as signalfd(2) describes, real-time signals once per
// queued instance.
//
// How this differs from Linux: poll and epoll are woken by the creating
// process's signals (Linux wakes from the poller's); readiness itself is
// the poller's pending set, as on Linux, and a blocking read waits for
// the reader's.
//
// Lock order: SignalFd::mu_ is a leaf; the forwarding waiter in the
// process's signal queue notifies queue_ from Wake (its mu before ours).
#ifndef SENTRY_FS_SIGNALFD_H_
#define SENTRY_FS_SIGNALFD_H_

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/vfs/file_description.h"

namespace sentry::kernel {
class Task;
class ThreadGroup;
}  // namespace sentry::kernel

namespace sentry::fs {

class SignalFd final : public vfs::FileDescription {
 public:
  // `mask`: bit sig-1 per signal (SIGKILL/SIGSTOP are dropped, as Linux
  // silently does). `flags`: SFD_NONBLOCK. `task`: the creator, whose
  // process's signal queue wakes pollers (the file keeps the process's
  // ThreadGroup alive: it may outlive the creator, inherited by fork).
  SignalFd(kernel::Task& task, uint64_t mask, int flags);
  ~SignalFd() override;

  void set_mask(uint64_t mask) ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t mask() const ABSL_LOCKS_EXCLUDED(mu_);

  ErrnoOr<size_t> Read(kernel::Task& t, std::span<uint8_t> dst) override;
  uint32_t Readiness(uint32_t mask) override;
  vfs::WaitQueue* wait_queue() override { return &queue_; }

 private:
  class Forwarder : public vfs::Waiter {
   public:
    explicit Forwarder(vfs::WaitQueue& to) : to_(to) {}
    void Wake(uint32_t events) override { to_.Notify(events); }

   private:
    vfs::WaitQueue& to_;
  };

  std::shared_ptr<kernel::ThreadGroup> group_;
  mutable absl::Mutex mu_;
  uint64_t mask_ ABSL_GUARDED_BY(mu_);
  vfs::WaitQueue queue_;
  Forwarder forwarder_{queue_};
};

}  // namespace sentry::fs

#endif  // SENTRY_FS_SIGNALFD_H_
