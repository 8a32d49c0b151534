// epoll(7), implemented in the Sentry on FileDescription::Readiness and
// the files' wait queues.
//
// Each interest registers a small waiter on its file's wait_queue(); a
// notification marks the interest "triggered" (for EPOLLET) and notifies
// the epoll file's own queue, on which epoll_wait (and poll, or an outer
// epoll, watching this epoll file) waits. Readiness itself is always
// re-read from the file, so level-triggered interests need nothing more.
//
// Files without a wait queue: host FDs (host_fd() >= 0, the caller's
// stdio) are polled on the host with a zero timeout whenever the interest
// list is scanned, and epoll_wait asks the host to wake it (see
// HostInterests()); other files without a queue cannot become ready or
// unready, and epoll_ctl refuses them with EPERM as Linux refuses regular
// files.
//
// How this differs from Linux: EPOLLET on a host FD reports a change of its
// readiness bits, not each new arrival of data (the host is only polled);
// EPOLLEXCLUSIVE is accepted and behaves like a normal interest (every
// waiter is woken); EPOLLWAKEUP is ignored. The interest list is scanned
// in full on each epoll_wait, which is fine for the small sets of the
// programs we run but O(n) where Linux is O(ready).
//
// Interests hold their file weakly: closing the last FD of a file removes
// it from every epoll set, as Linux does. This relies on each file's
// wait_queue() living exactly as long as the file (true for the Sentry's
// files: each open file owns its queue).
//
// Lock order: EpollFile::mu_ before the locks of the files it polls (and
// before an inner epoll's mu_; epoll_ctl refuses loops), and before
// WaitQueue::mu_. Interest waiters (Wake) take no lock but the epoll
// file's queue.
#ifndef SENTRY_FS_EPOLL_H_
#define SENTRY_FS_EPOLL_H_

#include <sys/epoll.h>

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sentry/vfs/file_description.h"

namespace sentry::fs {

class EpollFile final : public vfs::FileDescription {
 public:
  EpollFile();
  ~EpollFile() override;

  // epoll_ctl(2). `fd` and `file`: the target as the caller named it.
  ErrnoOr<void> Ctl(int op, int fd, std::shared_ptr<vfs::FileDescription> file,
                    const struct epoll_event& ev) ABSL_LOCKS_EXCLUDED(mu_);
  // Takes up to `max` ready events, consuming EPOLLET and EPOLLONESHOT
  // state as epoll_wait does.
  std::vector<struct epoll_event> Collect(size_t max) ABSL_LOCKS_EXCLUDED(mu_);

  // Host FDs among the interests with the poll events they wait for.
  std::vector<std::pair<int, short>> HostInterests() ABSL_LOCKS_EXCLUDED(mu_);
  // The earliest time a time-driven interest (timerfd) may become ready.
  std::optional<absl::Time> NextTimedChange() ABSL_LOCKS_EXCLUDED(mu_);

  // POLLIN when epoll_wait would return something.
  uint32_t Readiness(uint32_t mask) override ABSL_LOCKS_EXCLUDED(mu_);
  vfs::WaitQueue* wait_queue() override { return &queue_; }

 private:
  struct Interest : vfs::Waiter {
    EpollFile* owner = nullptr;
    int fd = -1;
    vfs::FileDescription* key = nullptr;  // identity only, never dereferenced
    std::weak_ptr<vfs::FileDescription> file;
    vfs::WaitQueue* queue = nullptr;  // registered on, if any
    std::atomic<uint32_t> events{0};
    uint64_t data = 0;
    std::atomic<bool> triggered{false};
    bool disabled = false;        // EPOLLONESHOT fired
    uint32_t last_host_bits = 0;  // EPOLLET on host FDs
    void Wake(uint32_t ev) override;
  };

  // Whether `target` (an epoll file) reaches this one through nested
  // interests, `depth` levels deep at most.
  bool Reaches(EpollFile* target, int depth) ABSL_LOCKS_EXCLUDED(mu_);
  void Unregister(Interest& in) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Readiness of one interest without consuming anything; null file: gone.
  uint32_t Poll(Interest& in, vfs::FileDescription& f)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::vector<std::unique_ptr<Interest>> interests_ ABSL_GUARDED_BY(mu_);
  vfs::WaitQueue queue_;
};

}  // namespace sentry::fs

#endif  // SENTRY_FS_EPOLL_H_
