// Advisory file locks: fcntl record locks (owned by a process), OFD locks
// (owned by an open file description) and flock (also per description),
// kept per inode in the Sentry. As in Linux, fcntl and OFD locks share one
// byte-range space and conflict with each other; flock locks are separate.
//
// Lock order: the lock table's mutex is a leaf.
#ifndef SENTRY_VFS_LOCK_H_
#define SENTRY_VFS_LOCK_H_

#include <cstdint>

#include "sentry/base/errno_or.h"
#include "sentry/vfs/inode.h"
#include "sentry/vfs/wait_queue.h"

namespace sentry::vfs {

enum class LockKind { kRange, kFlock };

struct LockRequest {
  LockKind kind = LockKind::kRange;
  const void* owner = nullptr;  // a process or a FileDescription
  int pid = 0;                  // reported by F_GETLK (-1 for OFD locks)
  short type = 0;               // F_RDLCK, F_WRLCK or F_UNLCK
  uint64_t start = 0;
  uint64_t end = UINT64_MAX;  // inclusive
};

// Tries to apply `req` (F_UNLCK releases). Returns EAGAIN on a conflict.
ErrnoOr<void> TryLock(Inode& inode, const LockRequest& req);
// The first lock conflicting with `req`, or a request with type F_UNLCK.
LockRequest TestLock(Inode& inode, const LockRequest& req);
// Notified whenever locks on `inode` are released (for F_SETLKW, LOCK_EX).
WaitQueue& LockQueue(Inode& inode);
// Drops every lock of `owner` on `inode`.
void ReleaseLocksOf(Inode& inode, const void* owner);

}  // namespace sentry::vfs

#endif  // SENTRY_VFS_LOCK_H_
