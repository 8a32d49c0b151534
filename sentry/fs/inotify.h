// inotify instances: an FD that queues fsnotify events for the inodes it
// watches (inotify(7)).
//
// Lock order: the fsnotify watch-list mutex before InotifyFile::queue_mu_;
// InotifyFile::watches_mu_ before the watch-list mutex. Event() (called
// with the watch-list mutex held) therefore only queues; watches that end
// (IN_ONESHOT, IN_DELETE_SELF) are dropped at the next syscall on the FD.
#ifndef SENTRY_FS_INOTIFY_H_
#define SENTRY_FS_INOTIFY_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/vfs/file_description.h"
#include "sentry/vfs/fsnotify.h"

namespace sentry::fs {

class InotifyFile : public vfs::FileDescription, public vfs::Watcher {
 public:
  explicit InotifyFile(int flags);
  ~InotifyFile() override;

  // inotify_add_watch on an already resolved inode; returns the wd.
  ErrnoOr<int> AddWatch(std::shared_ptr<vfs::Inode> inode, uint32_t mask)
      ABSL_LOCKS_EXCLUDED(watches_mu_, queue_mu_);
  ErrnoOr<void> RemoveWatch(int wd) ABSL_LOCKS_EXCLUDED(watches_mu_, queue_mu_);

  void Event(int wd, uint32_t mask, uint32_t cookie,
             const std::string& name) override ABSL_LOCKS_EXCLUDED(queue_mu_);

  ErrnoOr<size_t> Read(kernel::Task& t, std::span<uint8_t> dst) override;
  ErrnoOr<uint64_t> Ioctl(kernel::Task& t, uint32_t request,
                          uint64_t arg) override;
  uint32_t Readiness(uint32_t mask) override;
  vfs::WaitQueue* wait_queue() override { return &wait_queue_; }

 private:
  struct Watch {
    std::shared_ptr<vfs::Inode> inode;  // pinned while watched
    uint32_t mask;
  };
  struct QueuedEvent {
    int wd;
    uint32_t mask;
    uint32_t cookie;
    std::string name;
    bool operator==(const QueuedEvent&) const = default;
  };
  // Drops watches that ended since the last call.
  void ReapEndedWatches() ABSL_LOCKS_EXCLUDED(watches_mu_, queue_mu_);
  static size_t EventSize(const QueuedEvent& e);

  absl::Mutex watches_mu_;
  std::map<int, Watch> watches_ ABSL_GUARDED_BY(watches_mu_);
  int next_wd_ ABSL_GUARDED_BY(watches_mu_) = 1;

  absl::Mutex queue_mu_;
  std::deque<QueuedEvent> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool overflowed_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::set<int> ended_ ABSL_GUARDED_BY(queue_mu_);            // wds to reap
  std::map<int, uint32_t> masks_ ABSL_GUARDED_BY(queue_mu_);  // for ONESHOT
  vfs::WaitQueue wait_queue_;
};

}  // namespace sentry::fs

#endif  // SENTRY_FS_INOTIFY_H_
