#include "sentry/vfs/fsnotify.h"

#include <sys/inotify.h>

#include <atomic>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace sentry::vfs {

struct InodeWatches {
  struct Entry {
    Watcher* watcher;
    int wd;
    uint32_t mask;
  };
  std::vector<Entry> entries;
};

namespace {

absl::Mutex& WatchMutex() {
  static absl::Mutex* mu = new absl::Mutex;
  return *mu;
}

// Watches in the whole sandbox. Notify* run on every read and write: with
// no watch anywhere (the usual case) they return before touching the tree
// lock or any inode's watch list.
std::atomic<int> watch_count{0};

// Events a watch always gets, whatever its mask.
constexpr uint32_t kAlways = IN_IGNORED | IN_UNMOUNT | IN_Q_OVERFLOW;

void Deliver(Inode& inode, uint32_t mask, uint32_t cookie,
             const std::string& name) {
  absl::MutexLock l(&WatchMutex());
  if (!inode.watches) return;
  for (const auto& e : inode.watches->entries) {
    uint32_t wanted = (e.mask | kAlways) & (mask & ~IN_ISDIR);
    if (wanted == 0) continue;
    e.watcher->Event(e.wd, mask, cookie, name);
  }
}

}  // namespace

void AddWatch(Inode& inode, Watcher* watcher, int wd, uint32_t mask) {
  absl::MutexLock l(&WatchMutex());
  if (!inode.watches) inode.watches = std::make_shared<InodeWatches>();
  for (auto& e : inode.watches->entries) {
    if (e.watcher == watcher) {
      e.wd = wd;
      e.mask = mask;
      return;
    }
  }
  inode.watches->entries.push_back({watcher, wd, mask});
  watch_count.fetch_add(1, std::memory_order_relaxed);
}

void RemoveWatch(Inode& inode, Watcher* watcher) {
  absl::MutexLock l(&WatchMutex());
  if (!inode.watches) return;
  size_t removed =
      std::erase_if(inode.watches->entries,
                    [watcher](const auto& e) { return e.watcher == watcher; });
  watch_count.fetch_sub(static_cast<int>(removed), std::memory_order_relaxed);
}

void NotifyInode(Inode& inode, uint32_t mask, uint32_t cookie) {
  if (watch_count.load(std::memory_order_relaxed) == 0) return;
  Deliver(inode, mask, cookie, "");
}

void NotifyChild(Inode& dir, uint32_t mask, const std::string& name,
                 uint32_t cookie) {
  if (watch_count.load(std::memory_order_relaxed) == 0) return;
  Deliver(dir, mask, cookie, name);
}

void NotifyPath(const Path& p, uint32_t mask) {
  if (!p.dentry || watch_count.load(std::memory_order_relaxed) == 0) return;
  if (S_ISDIR(p.inode().Type())) mask |= IN_ISDIR;
  NotifyInode(p.inode(), mask);
  if (std::shared_ptr<Dentry> parent = p.dentry->parent()) {
    NotifyChild(*parent->inode(), mask, p.dentry->name());
  }
}

uint32_t NewMoveCookie() {
  static std::atomic<uint32_t> next{1};
  return next++;
}

}  // namespace sentry::vfs
