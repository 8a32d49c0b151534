#include "sentry/fs/inotify.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>

#include <cstring>

#include "sentry/kernel/task.h"

namespace sentry::fs {
namespace {
// /proc/sys/fs/inotify/max_queued_events's default.
constexpr size_t kMaxQueuedEvents = 16384;
constexpr uint32_t kEventBits = IN_ALL_EVENTS;
}  // namespace

InotifyFile::InotifyFile(int flags)
    : FileDescription(O_RDONLY | (flags & O_NONBLOCK)) {}

InotifyFile::~InotifyFile() {
  absl::MutexLock l(&watches_mu_);
  for (auto& [wd, w] : watches_) vfs::RemoveWatch(*w.inode, this);
}

size_t InotifyFile::EventSize(const QueuedEvent& e) {
  size_t len = e.name.empty() ? 0 : (e.name.size() + 1 + 15) & ~size_t{15};
  return sizeof(struct inotify_event) + len;
}

ErrnoOr<int> InotifyFile::AddWatch(std::shared_ptr<vfs::Inode> inode,
                                   uint32_t mask) {
  ReapEndedWatches();
  if ((mask & kEventBits) == 0) return Errno(EINVAL);
  if ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE)) return Errno(EINVAL);
  if ((mask & IN_ONLYDIR) && !S_ISDIR(inode->Type())) return Errno(ENOTDIR);
  absl::MutexLock l(&watches_mu_);
  for (auto& [wd, w] : watches_) {
    if (w.inode != inode) continue;
    if (mask & IN_MASK_CREATE) return Errno(EEXIST);
    uint32_t next = (mask & IN_MASK_ADD) ? (w.mask | mask) : mask;
    w.mask = next & ~(IN_MASK_ADD | IN_MASK_CREATE);
    vfs::AddWatch(*inode, this, wd, w.mask);
    absl::MutexLock q(&queue_mu_);
    masks_[wd] = w.mask;
    return wd;
  }
  int wd = next_wd_++;
  uint32_t m = mask & ~(IN_MASK_ADD | IN_MASK_CREATE);
  watches_[wd] = Watch{inode, m};
  {
    absl::MutexLock q(&queue_mu_);
    masks_[wd] = m;
  }
  vfs::AddWatch(*inode, this, wd, m);
  return wd;
}

ErrnoOr<void> InotifyFile::RemoveWatch(int wd) {
  ReapEndedWatches();
  absl::MutexLock l(&watches_mu_);
  auto it = watches_.find(wd);
  if (it == watches_.end()) return Errno(EINVAL);
  vfs::RemoveWatch(*it->second.inode, this);
  watches_.erase(it);
  Event(wd, IN_IGNORED, 0, "");
  absl::MutexLock q(&queue_mu_);
  masks_.erase(wd);
  return {};
}

void InotifyFile::ReapEndedWatches() {
  std::set<int> ended;
  {
    absl::MutexLock q(&queue_mu_);
    ended.swap(ended_);
  }
  if (ended.empty()) return;
  std::vector<std::shared_ptr<vfs::Inode>> released;  // after the locks
  absl::MutexLock l(&watches_mu_);
  for (int wd : ended) {
    auto it = watches_.find(wd);
    if (it == watches_.end()) continue;
    vfs::RemoveWatch(*it->second.inode, this);
    released.push_back(std::move(it->second.inode));
    watches_.erase(it);
  }
}

void InotifyFile::Event(int wd, uint32_t mask, uint32_t cookie,
                        const std::string& name) {
  {
    absl::MutexLock q(&queue_mu_);
    if (ended_.count(wd) && !(mask & IN_IGNORED)) return;
    uint32_t watch_mask = masks_.count(wd) ? masks_[wd] : 0;
    uint32_t shown = mask & ((watch_mask & kEventBits) | IN_ISDIR | IN_IGNORED |
                             IN_UNMOUNT | IN_Q_OVERFLOW);
    if ((shown & ~IN_ISDIR) == 0) return;
    QueuedEvent e{wd, shown, cookie, name};
    if (queue_.size() >= kMaxQueuedEvents) {
      if (!overflowed_) queue_.push_back({-1, IN_Q_OVERFLOW, 0, ""});
      overflowed_ = true;
    } else if (queue_.empty() || !(queue_.back() == e)) {
      // Linux merges an event identical to the last one queued.
      queue_.push_back(e);
    }
    // A watch ends after IN_ONESHOT's event or when its inode is gone.
    if (!(mask & IN_IGNORED) &&
        ((watch_mask & IN_ONESHOT) || (mask & (IN_DELETE_SELF | IN_UNMOUNT)))) {
      ended_.insert(wd);
      masks_.erase(wd);
      queue_.push_back({wd, IN_IGNORED, 0, ""});
    }
  }
  wait_queue_.Notify(POLLIN);
}

ErrnoOr<size_t> InotifyFile::Read(kernel::Task& t, std::span<uint8_t> dst) {
  ReapEndedWatches();
  auto ready = [this] {
    absl::MutexLock q(&queue_mu_);
    return !queue_.empty();
  };
  if (!ready()) {
    if (nonblocking()) return Errno(EAGAIN);
    SENTRY_RETURN_IF_ERRNO(t.Wait(&wait_queue_, POLLIN, ready));
  }
  absl::MutexLock q(&queue_mu_);
  size_t used = 0;
  while (!queue_.empty()) {
    const QueuedEvent& e = queue_.front();
    size_t size = EventSize(e);
    if (used + size > dst.size()) {
      if (used == 0) return Errno(EINVAL);
      break;
    }
    struct inotify_event hdr {};
    hdr.wd = e.wd;
    hdr.mask = e.mask;
    hdr.cookie = e.cookie;
    hdr.len = static_cast<uint32_t>(size - sizeof(hdr));
    std::memcpy(dst.data() + used, &hdr, sizeof(hdr));
    std::memset(dst.data() + used + sizeof(hdr), 0, hdr.len);
    std::memcpy(dst.data() + used + sizeof(hdr), e.name.data(), e.name.size());
    used += size;
    if (e.mask & IN_Q_OVERFLOW) overflowed_ = false;
    queue_.pop_front();
  }
  return used;
}

ErrnoOr<uint64_t> InotifyFile::Ioctl(kernel::Task& t, uint32_t request,
                                     uint64_t arg) {
  if (request != FIONREAD) return Errno(ENOTTY);
  int total = 0;
  {
    absl::MutexLock q(&queue_mu_);
    for (const auto& e : queue_) total += static_cast<int>(EventSize(e));
  }
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(arg, &total, sizeof(total)));
  return uint64_t{0};
}

uint32_t InotifyFile::Readiness(uint32_t mask) {
  absl::MutexLock q(&queue_mu_);
  return queue_.empty() ? 0 : (mask & (POLLIN | POLLRDNORM));
}

}  // namespace sentry::fs
