#include "sentry/vfs/dentry.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace sentry::vfs {

absl::Mutex& TreeMutex() {
  static absl::Mutex* mu = new absl::Mutex;
  return *mu;
}

Dentry::Dentry(std::shared_ptr<Inode> inode)
    : is_root_(true), inode_(std::move(inode)) {}

Dentry::Dentry(std::shared_ptr<Dentry> parent, std::string name,
               std::shared_ptr<Inode> inode)
    : parent_(std::move(parent)),
      name_(std::move(name)),
      is_root_(false),
      inode_(std::move(inode)) {}

std::string Dentry::name() const {
  absl::MutexLock l(&TreeMutex());
  return name_;
}

std::shared_ptr<Dentry> Dentry::parent() const {
  absl::MutexLock l(&TreeMutex());
  return parent_;
}

bool Dentry::deleted() const {
  absl::MutexLock l(&TreeMutex());
  return deleted_;
}

std::shared_ptr<Dentry> Dentry::CachedChild(const std::string& name) {
  absl::MutexLock l(&TreeMutex());
  auto it = children_.find(name);
  if (it == children_.end()) return nullptr;
  std::shared_ptr<Dentry> d = it->second.lock();
  if (!d) children_.erase(it);
  return d;
}

namespace {

// Parents hold children weakly, so something must keep recently used
// dentries (and their inodes: Gofer handles, overlay state) alive between
// syscalls, or every path walk would go back to the Gofer. This ring holds
// the last kRecentDentries lookups: Linux's dcache LRU in miniature.
constexpr size_t kRecentDentries = 8192;

class RecentDentries {
 public:
  void Touch(std::shared_ptr<Dentry> d) {
    std::shared_ptr<Dentry> evicted;  // released after the lock
    absl::MutexLock l(&mu_);
    if (ring_.size() < kRecentDentries) {
      ring_.push_back(std::move(d));
      return;
    }
    evicted = std::move(ring_[next_]);
    ring_[next_] = std::move(d);
    next_ = (next_ + 1) % kRecentDentries;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::shared_ptr<Dentry>> ring_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
};

RecentDentries& Recent() {
  static RecentDentries* r = new RecentDentries;
  return *r;
}

}  // namespace

ErrnoOr<std::shared_ptr<Dentry>> Dentry::Child(const std::string& name) {
  if (!inode_->CacheableChildren()) {
    SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, inode_->Lookup(name));
    return std::make_shared<Dentry>(shared_from_this(), name, std::move(inode));
  }
  if (std::shared_ptr<Dentry> d = CachedChild(name)) return d;
  // Looked up without the tree lock: the file system may block (Gofer).
  SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, inode_->Lookup(name));
  std::shared_ptr<Dentry> d = AddChild(name, std::move(inode));
  Recent().Touch(d);
  return d;
}

std::shared_ptr<Dentry> Dentry::AddChild(const std::string& name,
                                         std::shared_ptr<Inode> inode) {
  absl::MutexLock l(&TreeMutex());
  auto& slot = children_[name];
  if (std::shared_ptr<Dentry> existing = slot.lock();
      existing && existing->inode_ == inode) {
    return existing;  // raced with another lookup of the same name
  }
  auto d = std::make_shared<Dentry>(shared_from_this(), name, std::move(inode));
  slot = d;
  return d;
}

void Dentry::RemoveChild(const std::string& name) {
  absl::MutexLock l(&TreeMutex());
  auto it = children_.find(name);
  if (it == children_.end()) return;
  if (std::shared_ptr<Dentry> d = it->second.lock()) d->deleted_ = true;
  children_.erase(it);
}

void Dentry::MoveChild(Dentry& old_dir, const std::string& old_name,
                       Dentry& new_dir, const std::string& new_name,
                       bool exchange) {
  absl::MutexLock l(&TreeMutex());
  auto take = [](Dentry& dir, const std::string& name) {
    std::shared_ptr<Dentry> d;
    auto it = dir.children_.find(name);
    if (it != dir.children_.end()) {
      d = it->second.lock();
      dir.children_.erase(it);
    }
    return d;
  };
  std::shared_ptr<Dentry> moved = take(old_dir, old_name);
  std::shared_ptr<Dentry> target = take(new_dir, new_name);
  if (moved) {
    moved->parent_ = new_dir.shared_from_this();
    moved->name_ = new_name;
    new_dir.children_[new_name] = moved;
  }
  if (target) {
    if (exchange) {
      target->parent_ = old_dir.shared_from_this();
      target->name_ = old_name;
      old_dir.children_[old_name] = target;
    } else {
      target->deleted_ = true;  // replaced: its inode lost this name
    }
  }
}

void Dentry::DropChildren() {
  absl::MutexLock l(&TreeMutex());
  children_.clear();
}

bool Dentry::IsDescendantOf(const Dentry* other) const {
  absl::MutexLock l(&TreeMutex());
  for (const Dentry* d = this; d != nullptr; d = d->parent_.get()) {
    if (d == other) return true;
  }
  return false;
}

namespace {
std::atomic<uint64_t> next_mount_id{1};
}

Mount::Mount(std::string fstype, std::string source,
             std::shared_ptr<Dentry> root, MountFlags flags,
             std::string options)
    : id_(next_mount_id++),
      fstype_(std::move(fstype)),
      source_(std::move(source)),
      options_(std::move(options)),
      root_(std::move(root)),
      flags_(flags) {}

MountFlags Mount::flags() const {
  absl::MutexLock l(&mu_);
  return flags_;
}

void Mount::set_flags(MountFlags f) {
  absl::MutexLock l(&mu_);
  flags_ = f;
}

Path Mount::mountpoint() const {
  absl::MutexLock l(&mu_);
  return mountpoint_;
}

void Mount::set_mountpoint(Path p) {
  absl::MutexLock l(&mu_);
  mountpoint_ = std::move(p);
}

MountNamespace::MountNamespace(std::shared_ptr<Mount> root)
    : root_(std::move(root)) {}

Path MountNamespace::root() const {
  absl::MutexLock l(&mu_);
  return Path{root_, root_->root()};
}

std::shared_ptr<Mount> MountNamespace::MountedOn(const Path& p) const {
  if (p.dentry->mount_count().load() == 0) return nullptr;
  absl::MutexLock l(&mu_);
  auto it = mounts_.find({p.mount.get(), p.dentry.get()});
  if (it == mounts_.end() || it->second.empty()) return nullptr;
  return it->second.back();
}

void MountNamespace::Attach(std::shared_ptr<Mount> m, const Path& at) {
  m->set_mountpoint(at);
  at.dentry->mount_count()++;
  absl::MutexLock l(&mu_);
  mounts_[{at.mount.get(), at.dentry.get()}].push_back(std::move(m));
}

ErrnoOr<void> MountNamespace::Detach(const Path& p) {
  if (p.dentry != p.mount->root()) return Errno(EINVAL);
  Path at = p.mount->mountpoint();
  absl::MutexLock l(&mu_);
  if (p.mount == root_ || at.mount == nullptr) return Errno(EBUSY);
  for (const auto& [key, stack] : mounts_) {
    if (key.first == p.mount.get() && !stack.empty()) return Errno(EBUSY);
  }
  auto it = mounts_.find({at.mount.get(), at.dentry.get()});
  if (it == mounts_.end()) return Errno(EINVAL);
  auto& stack = it->second;
  auto pos = std::find(stack.begin(), stack.end(), p.mount);
  if (pos == stack.end()) return Errno(EINVAL);
  stack.erase(pos);
  if (stack.empty()) mounts_.erase(it);
  at.dentry->mount_count()--;
  return {};
}

ErrnoOr<void> MountNamespace::DetachTree(const Path& p) {
  if (p.dentry != p.mount->root()) return Errno(EINVAL);
  absl::MutexLock l(&mu_);
  if (p.mount == root_) return Errno(EINVAL);
  // Every mount whose chain of parents reaches p.mount goes too.
  std::vector<const Mount*> doomed = {p.mount.get()};
  for (size_t i = 0; i < doomed.size(); ++i) {
    for (const auto& [key, stack] : mounts_) {
      if (key.first != doomed[i]) continue;
      for (const auto& m : stack) doomed.push_back(m.get());
    }
  }
  for (auto it = mounts_.begin(); it != mounts_.end();) {
    auto& stack = it->second;
    for (auto m = stack.begin(); m != stack.end();) {
      if (std::find(doomed.begin(), doomed.end(), m->get()) != doomed.end()) {
        it->first.second->mount_count()--;
        m = stack.erase(m);
      } else {
        ++m;
      }
    }
    it = stack.empty() ? mounts_.erase(it) : std::next(it);
  }
  return {};
}

ErrnoOr<void> MountNamespace::Pivot(const Path& new_root, const Path& put_old) {
  if (new_root.dentry != new_root.mount->root()) return Errno(EINVAL);
  Path at = new_root.mount->mountpoint();
  {
    absl::MutexLock l(&mu_);
    if (new_root.mount == root_) return Errno(EBUSY);
    auto it = mounts_.find({at.mount.get(), at.dentry.get()});
    if (it == mounts_.end()) return Errno(EINVAL);
    auto& stack = it->second;
    stack.erase(std::remove(stack.begin(), stack.end(), new_root.mount),
                stack.end());
    if (stack.empty()) mounts_.erase(it);
    at.dentry->mount_count()--;
    std::shared_ptr<Mount> old_root = root_;
    root_ = new_root.mount;
    new_root.mount->set_mountpoint(Path{});
    old_root->set_mountpoint(put_old);
    put_old.dentry->mount_count()++;
    mounts_[{put_old.mount.get(), put_old.dentry.get()}].push_back(old_root);
  }
  return {};
}

std::vector<std::shared_ptr<Mount>> MountNamespace::All() const {
  absl::MutexLock l(&mu_);
  std::vector<std::shared_ptr<Mount>> out{root_};
  // Breadth-first from the root so parents come first.
  for (size_t i = 0; i < out.size(); ++i) {
    for (const auto& [key, stack] : mounts_) {
      if (key.first != out[i].get()) continue;
      for (const auto& m : stack) out.push_back(m);
    }
  }
  return out;
}

std::string PathName(const Path& p, const Path& root) {
  std::vector<std::string> parts;
  Path cur = p;
  bool deleted = p.dentry->deleted();
  for (int guard = 0; guard < 4096; ++guard) {
    if (cur == root) break;
    if (cur.dentry == cur.mount->root()) {
      Path up = cur.mount->mountpoint();
      if (up.mount == nullptr) break;  // outside `root`: stop at the top
      cur = up;
      continue;
    }
    std::shared_ptr<Dentry> parent = cur.dentry->parent();
    if (!parent) break;
    parts.push_back(cur.dentry->name());
    cur.dentry = parent;
  }
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    absl::StrAppend(&out, "/", *it);
  }
  // One StrCat rather than appends: GCC 12's -Wrestrict misfires on
  // `s = "/"; s += "..."` at -O2.
  return absl::StrCat(out.empty() ? absl::string_view("/") : out,
                      deleted ? " (deleted)" : "");
}

}  // namespace sentry::vfs
