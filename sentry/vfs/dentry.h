// Dentry, Mount, Path and MountNamespace: the name side of the VFS.
//
// A Dentry is one name of an Inode in one parent directory. Dentries are
// cached in their parent (weakly: an unused dentry goes away with its last
// holder) so that a name looked up twice is the same Dentry, and rename
// moves a Dentry rather than leaving holders with a stale path (getcwd and
// /proc/self/fd keep working after a rename, as in Linux).
//
// A Path is a (Mount, Dentry) pair: the same dentry can be reached through
// several mounts (bind mounts), and ".." at a mount's root leaves the mount.
//
// Lock order: the tree lock (TreeMutex(), the equivalent of Linux's
// rename_lock and dcache locks) before MountNamespace::mu_; inode locks are
// never taken while holding either.
#ifndef SENTRY_VFS_DENTRY_H_
#define SENTRY_VFS_DENTRY_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/base/errno_or.h"
#include "sentry/vfs/inode.h"

namespace sentry::vfs {

// Guards every Dentry's name, parent, children and flags.
absl::Mutex& TreeMutex();

class Dentry : public std::enable_shared_from_this<Dentry> {
 public:
  // A root dentry (its own parent for "..").
  explicit Dentry(std::shared_ptr<Inode> inode);
  Dentry(std::shared_ptr<Dentry> parent, std::string name,
         std::shared_ptr<Inode> inode);

  const std::shared_ptr<Inode>& inode() const { return inode_; }

  std::string name() const ABSL_LOCKS_EXCLUDED(TreeMutex());
  // Null for a root dentry.
  std::shared_ptr<Dentry> parent() const ABSL_LOCKS_EXCLUDED(TreeMutex());
  bool deleted() const ABSL_LOCKS_EXCLUDED(TreeMutex());
  bool is_root() const { return is_root_; }

  // The cached child `name`, or null.
  std::shared_ptr<Dentry> CachedChild(const std::string& name)
      ABSL_LOCKS_EXCLUDED(TreeMutex());
  // The child `name`: from the cache, or looked up in the inode and cached.
  ErrnoOr<std::shared_ptr<Dentry>> Child(const std::string& name)
      ABSL_LOCKS_EXCLUDED(TreeMutex());
  // Records a child just created in the inode.
  std::shared_ptr<Dentry> AddChild(const std::string& name,
                                   std::shared_ptr<Inode> inode)
      ABSL_LOCKS_EXCLUDED(TreeMutex());
  // After unlink/rmdir of `name`: drop it from the cache, mark it deleted.
  void RemoveChild(const std::string& name) ABSL_LOCKS_EXCLUDED(TreeMutex());
  // After rename: move the cached dentries (exchanging them if `exchange`).
  static void MoveChild(Dentry& old_dir, const std::string& old_name,
                        Dentry& new_dir, const std::string& new_name,
                        bool exchange) ABSL_LOCKS_EXCLUDED(TreeMutex());
  // Forgets every cached child (after the file system changed behind us).
  void DropChildren() ABSL_LOCKS_EXCLUDED(TreeMutex());

  // Number of mounts on this dentry (in any namespace): a fast "no".
  std::atomic<int>& mount_count() const { return mount_count_; }

  // True if `this` is `other` or below it.
  bool IsDescendantOf(const Dentry* other) const
      ABSL_LOCKS_EXCLUDED(TreeMutex());

 private:
  std::shared_ptr<Dentry> parent_ ABSL_GUARDED_BY(TreeMutex());
  std::string name_ ABSL_GUARDED_BY(TreeMutex());
  bool deleted_ ABSL_GUARDED_BY(TreeMutex()) = false;
  const bool is_root_;
  const std::shared_ptr<Inode> inode_;
  std::map<std::string, std::weak_ptr<Dentry>> children_
      ABSL_GUARDED_BY(TreeMutex());
  // Bookkeeping of the mount tables, not state of the name: mutable so the
  // tables can key on const dentries.
  mutable std::atomic<int> mount_count_{0};
};

class Mount;

struct Path {
  std::shared_ptr<Mount> mount;
  std::shared_ptr<Dentry> dentry;

  Inode& inode() const { return *dentry->inode(); }
  bool operator==(const Path& o) const {
    return mount == o.mount && dentry == o.dentry;
  }
};

// Mount flags we honour (MS_* values).
struct MountFlags {
  bool read_only = false;
  bool nosuid = false;
  bool nodev = false;
  bool noexec = false;
};

class Mount {
 public:
  Mount(std::string fstype, std::string source, std::shared_ptr<Dentry> root,
        MountFlags flags, std::string options = "");

  uint64_t id() const { return id_; }
  const std::string& fstype() const { return fstype_; }
  const std::string& source() const { return source_; }
  const std::string& options() const { return options_; }
  const std::shared_ptr<Dentry>& root() const { return root_; }
  MountFlags flags() const ABSL_LOCKS_EXCLUDED(mu_);
  void set_flags(MountFlags f) ABSL_LOCKS_EXCLUDED(mu_);
  // Where this mount sits, set by MountNamespace (empty for the root).
  Path mountpoint() const ABSL_LOCKS_EXCLUDED(mu_);
  void set_mountpoint(Path p) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const uint64_t id_;
  const std::string fstype_, source_, options_;
  const std::shared_ptr<Dentry> root_;
  mutable absl::Mutex mu_;
  MountFlags flags_ ABSL_GUARDED_BY(mu_);
  // The parent mount is held weakly through Path's shared_ptr: a mount
  // keeps its mountpoint alive, as Linux's mnt_mountpoint does.
  Path mountpoint_ ABSL_GUARDED_BY(mu_);
};

class MountNamespace {
 public:
  explicit MountNamespace(std::shared_ptr<Mount> root);

  Path root() const ABSL_LOCKS_EXCLUDED(mu_);
  // The mount stacked on `p`, if any (the top of a stack).
  std::shared_ptr<Mount> MountedOn(const Path& p) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Mounts `m` on `at` (on top of whatever is already there).
  void Attach(std::shared_ptr<Mount> m, const Path& at)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Detaches the mount whose root `p` is. EINVAL if `p` is not a mount
  // root, EBUSY if other mounts sit on it.
  ErrnoOr<void> Detach(const Path& p) ABSL_LOCKS_EXCLUDED(mu_);
  // umount2(MNT_DETACH): detaches the mount at `p` and every mount below
  // it. EINVAL if `p` is not a mount root, or is the namespace's root.
  ErrnoOr<void> DetachTree(const Path& p) ABSL_LOCKS_EXCLUDED(mu_);
  // pivot_root: `new_root` becomes the root, the old root goes to
  // `put_old`.
  ErrnoOr<void> Pivot(const Path& new_root, const Path& put_old)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Every mount, parents before children (for /proc/self/mounts).
  std::vector<std::shared_ptr<Mount>> All() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<Mount> root_ ABSL_GUARDED_BY(mu_);
  // (parent mount, mountpoint dentry) → stack of mounts there.
  std::map<std::pair<const Mount*, const Dentry*>,
           std::vector<std::shared_ptr<Mount>>>
      mounts_ ABSL_GUARDED_BY(mu_);
};

// The path of `p` as seen from `root` ("/a/b"), as getcwd and
// /proc/self/fd report it: " (deleted)" appended for unlinked files, and a
// path outside `root` is reported from its mount's root.
std::string PathName(const Path& p, const Path& root);

}  // namespace sentry::vfs

#endif  // SENTRY_VFS_DENTRY_H_
