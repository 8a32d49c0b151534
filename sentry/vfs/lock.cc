#include "sentry/vfs/lock.h"

#include <fcntl.h>

#include <map>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace sentry::vfs {
namespace {}  // namespace

struct InodeLocks {
  std::vector<LockRequest> held;
  WaitQueue queue;
};

namespace {

absl::Mutex& TableMutex() {
  static absl::Mutex* mu = new absl::Mutex;
  return *mu;
}

InodeLocks& LocksOf(Inode& inode) ABSL_EXCLUSIVE_LOCKS_REQUIRED(TableMutex()) {
  if (!inode.locks) inode.locks = std::make_shared<InodeLocks>();
  return *inode.locks;
}

bool Overlaps(const LockRequest& a, const LockRequest& b) {
  return a.start <= b.end && b.start <= a.end;
}

bool Conflicts(const LockRequest& held, const LockRequest& req) {
  if (held.kind != req.kind || held.owner == req.owner) return false;
  if (held.type != F_WRLCK && req.type != F_WRLCK) return false;
  return req.kind == LockKind::kFlock || Overlaps(held, req);
}

// Removes `owner`'s range [start, end] from `held`, splitting locks that
// straddle it.
void Carve(std::vector<LockRequest>& held, const LockRequest& req) {
  std::vector<LockRequest> out;
  for (const LockRequest& l : held) {
    if (l.owner != req.owner || l.kind != req.kind ||
        (req.kind == LockKind::kRange && !Overlaps(l, req))) {
      out.push_back(l);
      continue;
    }
    if (req.kind == LockKind::kFlock) continue;
    if (l.start < req.start) {
      LockRequest left = l;
      left.end = req.start - 1;
      out.push_back(left);
    }
    if (l.end > req.end) {
      LockRequest right = l;
      right.start = req.end + 1;
      out.push_back(right);
    }
  }
  held.swap(out);
}

}  // namespace

ErrnoOr<void> TryLock(Inode& inode, const LockRequest& req) {
  std::shared_ptr<InodeLocks> notify;
  {
    absl::MutexLock l(&TableMutex());
    InodeLocks& entry = LocksOf(inode);
    if (req.type != F_UNLCK) {
      for (const LockRequest& h : entry.held) {
        if (Conflicts(h, req)) return Errno(EAGAIN);
      }
    }
    Carve(entry.held, req);
    if (req.type != F_UNLCK) entry.held.push_back(req);
    notify = inode.locks;
  }
  // Downgrades and unlocks may let waiters in.
  notify->queue.Notify(~0u);
  return {};
}

LockRequest TestLock(Inode& inode, const LockRequest& req) {
  absl::MutexLock l(&TableMutex());
  if (inode.locks) {
    for (const LockRequest& h : inode.locks->held) {
      if (Conflicts(h, req)) return h;
    }
  }
  LockRequest none = req;
  none.type = F_UNLCK;
  return none;
}

WaitQueue& LockQueue(Inode& inode) {
  absl::MutexLock l(&TableMutex());
  return LocksOf(inode).queue;
}

void ReleaseLocksOf(Inode& inode, const void* owner) {
  std::shared_ptr<InodeLocks> notify;
  {
    absl::MutexLock l(&TableMutex());
    if (!inode.locks) return;
    auto& held = inode.locks->held;
    size_t before = held.size();
    std::erase_if(held,
                  [owner](const LockRequest& r) { return r.owner == owner; });
    if (held.size() != before) notify = inode.locks;
  }
  if (notify) notify->queue.Notify(~0u);
}

}  // namespace sentry::vfs
