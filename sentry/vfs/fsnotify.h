// fsnotify: how VFS operations tell inotify watches what happened. The VFS
// and the syscall layer call Notify*() after each successful change; an
// inotify instance registers a Watcher on the inodes it watches.
//
// A watch pins its inode (the watcher holds it), as in Linux, so events on
// a watched object are never lost to a dentry being evicted and looked up
// anew.
//
// Lock order: the watch-list mutex (fsnotify.cc) before each Watcher's own
// lock; Watcher::Event must not call back into the VFS.
#ifndef SENTRY_VFS_FSNOTIFY_H_
#define SENTRY_VFS_FSNOTIFY_H_

#include <cstdint>
#include <string>

#include "sentry/vfs/dentry.h"
#include "sentry/vfs/inode.h"

namespace sentry::vfs {

class Watcher {
 public:
  virtual ~Watcher() = default;
  // One event for watch descriptor `wd`; `name` is empty for events on the
  // watched object itself.
  virtual void Event(int wd, uint32_t mask, uint32_t cookie,
                     const std::string& name) = 0;
};

// Registers (or replaces) `watcher`'s watch `wd` on `inode` for `mask`.
void AddWatch(Inode& inode, Watcher* watcher, int wd, uint32_t mask);
// Removes `watcher`'s watch from `inode`.
void RemoveWatch(Inode& inode, Watcher* watcher);

// An event on `inode` itself.
void NotifyInode(Inode& inode, uint32_t mask, uint32_t cookie = 0);
// An event about child `name` of directory `dir` (IN_CREATE, IN_DELETE,
// IN_MOVED_FROM/TO).
void NotifyChild(Inode& dir, uint32_t mask, const std::string& name,
                 uint32_t cookie = 0);
// An event on the object at `p`: reported on it and, with its name, on its
// parent directory (IN_MODIFY, IN_ATTRIB, IN_OPEN, IN_CLOSE_*, IN_ACCESS).
void NotifyPath(const Path& p, uint32_t mask);
// A fresh cookie tying an IN_MOVED_FROM to its IN_MOVED_TO.
uint32_t NewMoveCookie();

}  // namespace sentry::vfs

#endif  // SENTRY_VFS_FSNOTIFY_H_
