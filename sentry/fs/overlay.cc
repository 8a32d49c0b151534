#include "sentry/fs/overlay.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>

#include <map>
#include <set>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "sentry/fs/tmpfs.h"
#include "sentry/vfs/file_description.h"

namespace sentry::fs {
namespace {

using vfs::DirEntry;
using vfs::FileDescription;
using vfs::Inode;
using vfs::NewNode;
using vfs::SetAttrRequest;

constexpr char kOpaqueXattr[] = "trusted.overlay.opaque";
// Where trusted.* cannot be set (a host upper directory without
// CAP_SYS_ADMIN over it), overlayfs's "userxattr" spelling.
constexpr char kUserOpaqueXattr[] = "user.overlay.opaque";
constexpr size_t kCopyChunk = 1 << 20;

struct Overlay {
  absl::Mutex mu;
  // The device every directory reports: the lower root's (0 without one).
  dev_t dir_dev = 0;
};

// Upper-only directories report the overlay's device with their inode
// numbers moved into a range lower inode numbers do not reach, so that a
// new directory never matches an ancestor (find's loop check).
constexpr ino_t kUpperDirInoBit = ino_t{1} << 62;

bool IsWhiteout(Inode& i) {
  ErrnoOr<struct stat> st = i.Stat();
  return st.ok() && S_ISCHR(st->st_mode) && st->st_rdev == 0;
}

bool IsOpaque(Inode& dir) {
  for (const char* name : {kOpaqueXattr, kUserOpaqueXattr}) {
    ErrnoOr<std::string> v = dir.GetXattr(name);
    if (v.ok() && *v == "y") return true;
  }
  return false;
}

void SetOpaque(Inode& dir) {
  if (dir.SetXattr(kOpaqueXattr, "y", 0).ok()) {
    ErrnoOr<std::string> v = dir.GetXattr(kOpaqueXattr);
    if (v.ok() && *v == "y") return;
  }
  (void)dir.SetXattr(kUserOpaqueXattr, "y", 0);
}

bool IsOverlayXattr(const std::string& name) {
  return name.rfind("trusted.overlay.", 0) == 0 ||
         name.rfind("user.overlay.", 0) == 0;
}

class OverlayInode : public Inode {
 public:
  OverlayInode(std::shared_ptr<Overlay> ov,
               std::shared_ptr<OverlayInode> parent, std::string name,
               std::shared_ptr<Inode> upper, std::shared_ptr<Inode> lower)
      : ov_(std::move(ov)),
        parent_(std::move(parent)),
        name_(std::move(name)),
        upper_(std::move(upper)),
        lower_(std::move(lower)) {}

  ErrnoOr<struct stat> Stat() override {
    absl::MutexLock l(&ov_->mu);
    return StatLocked();
  }

  std::optional<struct timespec> BirthTime() override {
    absl::MutexLock l(&ov_->mu);
    return lower_ ? lower_->BirthTime() : upper_->BirthTime();
  }

  ErrnoOr<void> SetAttr(const SetAttrRequest& req) override {
    absl::MutexLock l(&ov_->mu);
    SENTRY_RETURN_IF_ERRNO(CopyUpLocked());
    return upper_->SetAttr(req);
  }

  ErrnoOr<struct statfs> StatFs() override {
    absl::MutexLock l(&ov_->mu);
    return Top().StatFs();
  }

  ErrnoOr<std::shared_ptr<FileDescription>> Open(int flags) override {
    std::shared_ptr<Inode> target;
    {
      absl::MutexLock l(&ov_->mu);
      bool write = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
      if (write && !S_ISDIR(TypeLocked())) {
        SENTRY_RETURN_IF_ERRNO(CopyUpLocked());
      }
      target = upper_ ? upper_ : lower_;
    }
    SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<FileDescription> f,
                            target->Open(flags));
    // The description answers stat, locks and getdents as the overlay
    // object, whichever layer holds the data.
    f->set_inode(shared_from_this());
    return f;
  }

  ErrnoOr<size_t> ReadData(std::span<uint8_t> dst, uint64_t off) override {
    std::shared_ptr<Inode> top;
    {
      absl::MutexLock l(&ov_->mu);
      top = upper_ ? upper_ : lower_;
    }
    return top->ReadData(dst, off);
  }
  ErrnoOr<size_t> WriteData(std::span<const uint8_t> src,
                            uint64_t off) override {
    absl::MutexLock l(&ov_->mu);
    SENTRY_RETURN_IF_ERRNO(CopyUpLocked());
    return upper_->WriteData(src, off);
  }

  // --- directories -------------------------------------------------------

  ErrnoOr<std::shared_ptr<Inode>> Lookup(const std::string& name) override {
    absl::MutexLock l(&ov_->mu);
    SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<OverlayInode> child,
                            ChildLocked(name));
    return std::shared_ptr<Inode>(child);
  }

  ErrnoOr<std::vector<DirEntry>> ReadDir() override {
    absl::MutexLock l(&ov_->mu);
    return ReadDirLocked();
  }

  ErrnoOr<std::shared_ptr<Inode>> Mknod(const std::string& name,
                                        const NewNode& n) override {
    return Create(name, [&](Inode& up) { return up.Mknod(name, n); });
  }
  ErrnoOr<std::shared_ptr<Inode>> Mkdir(const std::string& name,
                                        const NewNode& n) override {
    return Create(name, [&](Inode& up) { return up.Mkdir(name, n); });
  }
  ErrnoOr<std::shared_ptr<Inode>> Symlink(const std::string& name,
                                          const std::string& target,
                                          const NewNode& n) override {
    return Create(name, [&](Inode& up) { return up.Symlink(name, target, n); });
  }

  ErrnoOr<void> Link(const std::string& name,
                     const std::shared_ptr<Inode>& target) override {
    auto t = std::dynamic_pointer_cast<OverlayInode>(target);
    if (!t || t->ov_ != ov_) return Errno(EXDEV);
    absl::MutexLock l(&ov_->mu);
    if (ChildLocked(name).ok()) return Errno(EEXIST);
    SENTRY_RETURN_IF_ERRNO(t->CopyUpLocked());
    SENTRY_RETURN_IF_ERRNO(CopyUpLocked());
    SENTRY_RETURN_IF_ERRNO(RemoveWhiteoutLocked(name));
    SENTRY_RETURN_IF_ERRNO(upper_->Link(name, t->upper_));
    children_.erase(name);
    return {};
  }

  ErrnoOr<void> Unlink(const std::string& name) override {
    absl::MutexLock l(&ov_->mu);
    SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<OverlayInode> child,
                            ChildLocked(name));
    if (S_ISDIR(child->TypeLocked())) return Errno(EISDIR);
    return RemoveLocked(name, *child, false);
  }

  ErrnoOr<void> Rmdir(const std::string& name) override {
    absl::MutexLock l(&ov_->mu);
    SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<OverlayInode> child,
                            ChildLocked(name));
    if (!S_ISDIR(child->TypeLocked())) return Errno(ENOTDIR);
    SENTRY_ASSIGN_OR_RETURN(std::vector<DirEntry> entries,
                            child->ReadDirLocked());
    if (!entries.empty()) return Errno(ENOTEMPTY);
    return RemoveLocked(name, *child, true);
  }

  ErrnoOr<void> Rename(const std::string& old_name, Inode& new_dir_inode,
                       const std::string& new_name, unsigned flags) override {
    auto* new_dir = dynamic_cast<OverlayInode*>(&new_dir_inode);
    if (new_dir == nullptr || new_dir->ov_ != ov_) return Errno(EXDEV);
    absl::MutexLock l(&ov_->mu);
    SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<OverlayInode> src,
                            ChildLocked(old_name));
    bool src_dir = S_ISDIR(src->TypeLocked());
    // A directory with lower contents cannot move without redirects.
    if (src_dir && src->lower_) return Errno(EXDEV);
    ErrnoOr<std::shared_ptr<OverlayInode>> dst = new_dir->ChildLocked(new_name);
    if (flags & RENAME_EXCHANGE) {
      if (!dst.ok()) return dst.error();
      if (src->lower_ || (*dst)->lower_) return Errno(EXDEV);
    }
    if (dst.ok() && (flags & RENAME_NOREPLACE)) return Errno(EEXIST);
    bool dst_lower = dst.ok() && (*dst)->lower_ != nullptr;
    if (dst.ok() && S_ISDIR((*dst)->TypeLocked()) &&
        !(flags & RENAME_EXCHANGE)) {
      SENTRY_ASSIGN_OR_RETURN(std::vector<DirEntry> entries,
                              (*dst)->ReadDirLocked());
      if (!entries.empty()) return Errno(ENOTEMPTY);
      if ((*dst)->upper_)
        SENTRY_RETURN_IF_ERRNO((*dst)->ClearWhiteoutsLocked());
    }
    SENTRY_RETURN_IF_ERRNO(src->CopyUpLocked());
    SENTRY_RETURN_IF_ERRNO(CopyUpLocked());
    SENTRY_RETURN_IF_ERRNO(new_dir->CopyUpLocked());
    if (dst.ok() && !(flags & RENAME_EXCHANGE) && !(*dst)->upper_) {
      // Only below: nothing to replace in the upper layer.
    }
    SENTRY_RETURN_IF_ERRNO(new_dir->RemoveWhiteoutLocked(new_name));
    if (dst.ok() && (*dst)->upper_ == nullptr) {
      // The target exists only below: the moved object covers it.
    }
    SENTRY_RETURN_IF_ERRNO(upper_->Rename(old_name, *new_dir->upper_, new_name,
                                          flags & ~RENAME_NOREPLACE));
    bool src_lower = src->lower_ != nullptr;
    if (src_lower) {
      // The old name still exists below: hide it.
      SENTRY_RETURN_IF_ERRNO(MakeWhiteoutLocked(old_name));
    }
    if (src_dir && dst_lower) {
      SetOpaque(*src->upper_);
    }
    // Keep the overlay's own identity of the moved objects in step.
    std::shared_ptr<OverlayInode> replaced = dst.ok() ? *dst : nullptr;
    children_.erase(old_name);
    new_dir->children_.erase(new_name);
    src->parent_ =
        std::static_pointer_cast<OverlayInode>(new_dir->shared_from_this());
    src->name_ = new_name;
    src->lower_ = nullptr;  // the lower object stayed at the old name
    new_dir->children_[new_name] = src;
    if (replaced && (flags & RENAME_EXCHANGE)) {
      replaced->parent_ =
          std::static_pointer_cast<OverlayInode>(shared_from_this());
      replaced->name_ = old_name;
      children_[old_name] = replaced;
    }
    return {};
  }

  // --- symlinks and xattrs ----------------------------------------------

  ErrnoOr<std::string> ReadLink() override {
    std::shared_ptr<Inode> top;
    {
      absl::MutexLock l(&ov_->mu);
      top = upper_ ? upper_ : lower_;
    }
    return top->ReadLink();
  }

  ErrnoOr<std::string> GetXattr(const std::string& name) override {
    if (IsOverlayXattr(name)) return Errno(ENODATA);
    absl::MutexLock l(&ov_->mu);
    return Top().GetXattr(name);
  }
  ErrnoOr<void> SetXattr(const std::string& name, const std::string& value,
                         int flags) override {
    if (IsOverlayXattr(name)) return Errno(EPERM);
    absl::MutexLock l(&ov_->mu);
    SENTRY_RETURN_IF_ERRNO(CopyUpLocked());
    return upper_->SetXattr(name, value, flags);
  }
  ErrnoOr<std::vector<std::string>> ListXattr() override {
    absl::MutexLock l(&ov_->mu);
    SENTRY_ASSIGN_OR_RETURN(std::vector<std::string> names, Top().ListXattr());
    std::erase_if(names, IsOverlayXattr);
    return names;
  }
  ErrnoOr<void> RemoveXattr(const std::string& name) override {
    if (IsOverlayXattr(name)) return Errno(EPERM);
    absl::MutexLock l(&ov_->mu);
    SENTRY_RETURN_IF_ERRNO(CopyUpLocked());
    return upper_->RemoveXattr(name);
  }

 private:
  Inode& Top() ABSL_EXCLUSIVE_LOCKS_REQUIRED(ov_->mu) {
    return upper_ ? *upper_ : *lower_;
  }
  mode_t TypeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(ov_->mu) {
    return Top().Type();
  }

  ErrnoOr<struct stat> StatLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(ov_->mu) {
    // As Linux's overlayfs without xino: an object that exists below keeps
    // the lower device and inode numbers (stable across copy-up, so tools
    // comparing st_dev/st_ino are not confused), upper-only files show the
    // upper file system's, and upper-only directories the overlay's.
    SENTRY_ASSIGN_OR_RETURN(struct stat st, Top().Stat());
    if (!lower_ && S_ISDIR(st.st_mode) && ov_->dir_dev != 0) {
      // As Linux's overlayfs, every directory is on the overlay's device:
      // find -xdev, du -x and df treat a new directory as part of /.
      st.st_dev = ov_->dir_dev;
      st.st_ino |= kUpperDirInoBit;
    }
    if (lower_) {
      if (upper_) {
        if (auto low = lower_->Stat(); low.ok()) {
          st.st_dev = low->st_dev;
          st.st_ino = low->st_ino;
          if (S_ISDIR(st.st_mode)) {
            // A merged directory looks like the lower one in size and link
            // count (the upper copy is an empty tmpfs directory); mode,
            // owner and times are the upper's, which copy-up set from it.
            st.st_nlink = low->st_nlink;
            st.st_size = low->st_size;
            st.st_blocks = low->st_blocks;
            st.st_blksize = low->st_blksize;
          }
        }
      }
    }
    return st;
  }

  // The child `name`: the overlay's own object for it, created on first
  // lookup so copy-up and rename are seen by everyone holding it.
  ErrnoOr<std::shared_ptr<OverlayInode>> ChildLocked(const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(ov_->mu) {
    if (auto it = children_.find(name); it != children_.end()) {
      if (auto child = it->second.lock()) return child;
      children_.erase(it);
    }
    std::shared_ptr<Inode> up, low;
    bool opaque = false;
    if (upper_) {
      ErrnoOr<std::shared_ptr<Inode>> r = upper_->Lookup(name);
      if (r.ok()) {
        if (IsWhiteout(**r)) return Errno(ENOENT);
        up = *r;
      } else if (r.error() != Errno(ENOENT)) {
        return r.error();
      }
      opaque = IsOpaque(*upper_);
    }
    if (lower_ && !opaque && (!up || (S_ISDIR(up->Type()) && !IsOpaque(*up)))) {
      ErrnoOr<std::shared_ptr<Inode>> r = lower_->Lookup(name);
      if (r.ok()) {
        if (!up || S_ISDIR((*r)->Type())) low = *r;
      } else if (r.error() != Errno(ENOENT) && r.error() != Errno(ENOTDIR)) {
        return r.error();
      }
    }
    if (!up && !low) return Errno(ENOENT);
    auto child = std::make_shared<OverlayInode>(
        ov_, std::static_pointer_cast<OverlayInode>(shared_from_this()), name,
        std::move(up), std::move(low));
    children_[name] = child;
    return child;
  }

  ErrnoOr<std::vector<DirEntry>> ReadDirLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(ov_->mu) {
    if (!S_ISDIR(TypeLocked())) return Errno(ENOTDIR);
    // Upper entries first, then lower ones in the lower layer's own order
    // (as overlayfs lists a merged directory), so an untouched directory
    // lists exactly as on the host.
    std::vector<DirEntry> lower_entries;
    std::map<std::string, uint64_t> lower_ino;
    bool opaque = upper_ && IsOpaque(*upper_);
    if (lower_ && !opaque) {
      SENTRY_ASSIGN_OR_RETURN(lower_entries, lower_->ReadDir());
      for (const auto& e : lower_entries) lower_ino[e.name] = e.ino;
    }
    std::vector<DirEntry> out;
    std::set<std::string> hidden;
    if (upper_) {
      SENTRY_ASSIGN_OR_RETURN(std::vector<DirEntry> up, upper_->ReadDir());
      for (auto& e : up) {
        if (e.type == DT_CHR) {
          ErrnoOr<std::shared_ptr<Inode>> i = upper_->Lookup(e.name);
          if (i.ok() && IsWhiteout(**i)) {
            hidden.insert(e.name);
            continue;
          }
        }
        auto low = lower_ino.find(e.name);
        if (low != lower_ino.end()) {
          e.ino = low->second;
        } else if (e.type == DT_DIR && ov_->dir_dev != 0) {
          e.ino |= kUpperDirInoBit;  // as StatLocked reports it
        }
        hidden.insert(e.name);
        out.push_back(std::move(e));
      }
    }
    for (auto& e : lower_entries) {
      if (!hidden.count(e.name)) out.push_back(std::move(e));
    }
    return out;
  }

  // Gives this object an upper copy (and its parents first).
  ErrnoOr<void> CopyUpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(ov_->mu) {
    if (upper_) return {};
    if (!parent_) return Errno(EROFS);
    SENTRY_RETURN_IF_ERRNO(parent_->CopyUpLocked());
    SENTRY_ASSIGN_OR_RETURN(struct stat st, lower_->Stat());
    NewNode n{st.st_mode, st.st_uid, st.st_gid, st.st_rdev};
    Inode& pu = *parent_->upper_;
    std::shared_ptr<Inode> up;
    switch (st.st_mode & S_IFMT) {
      case S_IFDIR: {
        SENTRY_ASSIGN_OR_RETURN(up, pu.Mkdir(name_, n));
        break;
      }
      case S_IFLNK: {
        SENTRY_ASSIGN_OR_RETURN(std::string target, lower_->ReadLink());
        SENTRY_ASSIGN_OR_RETURN(up, pu.Symlink(name_, target, n));
        break;
      }
      case S_IFREG: {
        SENTRY_ASSIGN_OR_RETURN(up, pu.Mknod(name_, n));
        std::vector<uint8_t> buf(
            std::min<uint64_t>(kCopyChunk, static_cast<uint64_t>(st.st_size)));
        for (uint64_t off = 0; off < static_cast<uint64_t>(st.st_size);) {
          ErrnoOr<size_t> got = lower_->ReadData(buf, off);
          ErrnoOr<size_t> put = got.ok() && *got > 0
                                    ? up->WriteData({buf.data(), *got}, off)
                                    : ErrnoOr<size_t>(size_t{0});
          if (!got.ok() || !put.ok() || *got == 0 || *put != *got) {
            (void)pu.Unlink(name_);  // no half-copied file stays behind
            if (!got.ok()) return got.error();
            if (!put.ok()) return put.error();
            return Errno(EIO);
          }
          off += *got;
        }
        break;
      }
      default: {
        SENTRY_ASSIGN_OR_RETURN(up, pu.Mknod(name_, n));
        break;
      }
    }
    SetAttrRequest attrs;
    attrs.mode = st.st_mode & 07777;
    attrs.uid = st.st_uid;
    attrs.gid = st.st_gid;
    if (!S_ISLNK(st.st_mode)) {
      attrs.atime = st.st_atim;
      attrs.mtime = st.st_mtim;
    }
    (void)up->SetAttr(attrs);
    upper_ = std::move(up);
    return {};
  }

  // Creates `name` in the upper layer with `make`, over a whiteout if one
  // is there (a new directory then hides the lower one: opaque).
  template <typename Make>
  ErrnoOr<std::shared_ptr<Inode>> Create(const std::string& name, Make make) {
    absl::MutexLock l(&ov_->mu);
    if (ChildLocked(name).ok()) return Errno(EEXIST);
    SENTRY_RETURN_IF_ERRNO(CopyUpLocked());
    SENTRY_ASSIGN_OR_RETURN(bool had_whiteout, TakeWhiteoutLocked(name));
    SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<Inode> up, make(*upper_));
    if (had_whiteout && S_ISDIR(up->Type())) {
      SetOpaque(*up);
    }
    auto child = std::make_shared<OverlayInode>(
        ov_, std::static_pointer_cast<OverlayInode>(shared_from_this()), name,
        std::move(up), nullptr);
    children_[name] = child;
    return std::shared_ptr<Inode>(child);
  }

  // Removes a whiteout at `name` in the upper layer; says if there was one.
  ErrnoOr<bool> TakeWhiteoutLocked(const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(ov_->mu) {
    ErrnoOr<std::shared_ptr<Inode>> r = upper_->Lookup(name);
    if (!r.ok() || !IsWhiteout(**r)) return false;
    SENTRY_RETURN_IF_ERRNO(upper_->Unlink(name));
    return true;
  }
  ErrnoOr<void> RemoveWhiteoutLocked(const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(ov_->mu) {
    SENTRY_RETURN_IF_ERRNO(TakeWhiteoutLocked(name));
    return {};
  }

  ErrnoOr<void> MakeWhiteoutLocked(const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(ov_->mu) {
    SENTRY_RETURN_IF_ERRNO(upper_->Mknod(name, NewNode{S_IFCHR, 0, 0, 0}));
    return {};
  }

  // Empties an upper directory of whiteouts before it is removed.
  ErrnoOr<void> ClearWhiteoutsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(ov_->mu) {
    SENTRY_ASSIGN_OR_RETURN(std::vector<DirEntry> entries, upper_->ReadDir());
    for (const DirEntry& e : entries) {
      SENTRY_RETURN_IF_ERRNO(upper_->Unlink(e.name));
    }
    return {};
  }

  // unlink/rmdir of `child` (named `name` here).
  ErrnoOr<void> RemoveLocked(const std::string& name, OverlayInode& child,
                             bool dir) ABSL_EXCLUSIVE_LOCKS_REQUIRED(ov_->mu) {
    SENTRY_RETURN_IF_ERRNO(CopyUpLocked());
    if (child.upper_) {
      if (dir) {
        SENTRY_RETURN_IF_ERRNO(child.ClearWhiteoutsLocked());
        SENTRY_RETURN_IF_ERRNO(upper_->Rmdir(name));
      } else {
        SENTRY_RETURN_IF_ERRNO(upper_->Unlink(name));
      }
    }
    if (child.lower_) SENTRY_RETURN_IF_ERRNO(MakeWhiteoutLocked(name));
    children_.erase(name);
    return {};
  }

  const std::shared_ptr<Overlay> ov_;
  std::shared_ptr<OverlayInode> parent_ ABSL_GUARDED_BY(ov_->mu);
  std::string name_ ABSL_GUARDED_BY(ov_->mu);
  std::shared_ptr<Inode> upper_ ABSL_GUARDED_BY(ov_->mu);
  std::shared_ptr<Inode> lower_ ABSL_GUARDED_BY(ov_->mu);
  std::map<std::string, std::weak_ptr<OverlayInode>> children_
      ABSL_GUARDED_BY(ov_->mu);
};

}  // namespace

std::shared_ptr<Inode> MakeOverlayRoot(std::shared_ptr<Inode> lower,
                                       std::shared_ptr<Inode> upper) {
  auto overlay = std::make_shared<Overlay>();
  if (lower) {
    if (ErrnoOr<struct stat> st = lower->Stat(); st.ok()) {
      overlay->dir_dev = st->st_dev;
    }
  }
  return std::make_shared<OverlayInode>(std::move(overlay), nullptr, "",
                                        std::move(upper), std::move(lower));
}

}  // namespace sentry::fs
