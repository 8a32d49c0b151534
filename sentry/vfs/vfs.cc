#include "sentry/vfs/vfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <deque>

#include "sentry/vfs/fsnotify.h"

namespace sentry::vfs {
namespace {

// A file opened with O_PATH: it names an object but allows no I/O.
class OPathFile : public FileDescription {
 public:
  OPathFile() : FileDescription(O_PATH) {}
  ErrnoOr<size_t> Read(kernel::Task&, std::span<uint8_t>) override {
    return Errno(EBADF);
  }
  ErrnoOr<size_t> Write(kernel::Task&, std::span<const uint8_t>) override {
    return Errno(EBADF);
  }
  ErrnoOr<uint64_t> Seek(int64_t, int) override { return Errno(EBADF); }
  ErrnoOr<uint64_t> Ioctl(kernel::Task&, uint32_t, uint64_t) override {
    return Errno(EBADF);
  }
};

void SplitInto(std::string_view path, std::deque<std::string>& out) {
  std::deque<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view c = path.substr(i, j - i);
    if (!c.empty() && c != ".") parts.emplace_back(c);
    i = j + 1;
  }
  out.insert(out.begin(), parts.begin(), parts.end());
}

bool EndsWithSlash(std::string_view path) {
  return !path.empty() && path.back() == '/';
}

// Steps down into whatever is mounted on `p`.
ErrnoOr<Path> CrossMounts(const Resolver& r, Path p, uint64_t resolve) {
  while (std::shared_ptr<Mount> m = r.ns->MountedOn(p)) {
    if (resolve & kResolveNoXdev) return Errno(EXDEV);
    p = Path{m, m->root()};
  }
  return p;
}

// Shared core of Lookup and LookupParent: walks the components in `parts`
// from `cur`; with `stop_before_last`, leaves the last one unresolved in
// `parts`.
struct Walker {
  const Resolver& r;
  Path boundary;  // root for ".." (the chroot, or the start for BENEATH)
  uint64_t resolve;
  int symlinks = 0;

  ErrnoOr<void> Step(Path& cur, const std::string& name, bool last, bool follow,
                     std::deque<std::string>& rest) {
    if (name == "..") {
      if (cur == boundary) {
        if (resolve & kResolveBeneath) return Errno(EXDEV);
        return {};
      }
      if ((resolve & kResolveNoXdev) && cur.dentry == cur.mount->root()) {
        return Errno(EXDEV);
      }
      cur = ParentOf(cur, boundary);
      return {};
    }
    SENTRY_ASSIGN_OR_RETURN(struct stat dir, cur.inode().Stat());
    if (!S_ISDIR(dir.st_mode)) return Errno(ENOTDIR);
    if (name == ".") return {};  // from a symlink to "dir/"
    SENTRY_RETURN_IF_ERRNO(CheckPermission(r.creds, dir, kMayExec));
    if (name.size() > NAME_MAX) return Errno(ENAMETOOLONG);
    SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<Dentry> child,
                            cur.dentry->Child(name));
    SENTRY_ASSIGN_OR_RETURN(Path next,
                            CrossMounts(r, Path{cur.mount, child}, resolve));
    if ((!last || follow) && S_ISLNK(next.inode().Type())) {
      if (resolve & kResolveNoSymlinks) return Errno(ELOOP);
      if (++symlinks > kMaxSymlinkFollows) return Errno(ELOOP);
      if (std::optional<ErrnoOr<Path>> magic = next.inode().MagicLinkTarget()) {
        if (resolve &
            (kResolveNoMagiclinks | kResolveBeneath | kResolveInRoot)) {
          return Errno(ELOOP);
        }
        if (!magic->ok()) return magic->error();
        cur = **magic;
        return {};
      }
      SENTRY_ASSIGN_OR_RETURN(std::string target, next.inode().ReadLink());
      if (target.empty()) return Errno(ENOENT);
      if (target[0] == '/') {
        if (resolve & kResolveBeneath) return Errno(EXDEV);
        cur = boundary;
      }
      // A symlink to "dir/" must name a directory, like a trailing slash.
      if (last && EndsWithSlash(target)) rest.push_front(".");
      SplitInto(target, rest);
      return {};
    }
    cur = std::move(next);
    return {};
  }
};

ErrnoOr<Path> Start(const Resolver& r, const Path& start, std::string_view path,
                    uint64_t resolve, Path& boundary) {
  boundary = (resolve & (kResolveBeneath | kResolveInRoot)) ? start : r.root;
  if (!path.empty() && path[0] == '/') {
    if (resolve & kResolveBeneath) return Errno(EXDEV);
    return boundary;
  }
  return start;
}

}  // namespace

Path ParentOf(const Path& p, const Path& root) {
  Path cur = p;
  if (cur == root) return cur;
  while (cur.dentry == cur.mount->root()) {
    Path up = cur.mount->mountpoint();
    if (up.mount == nullptr) return cur;  // the namespace's root
    cur = up;
    if (cur == root) return cur;
  }
  std::shared_ptr<Dentry> parent = cur.dentry->parent();
  if (!parent) return cur;
  return Path{cur.mount, parent};
}

bool ReadOnly(const Path& p) { return p.mount->flags().read_only; }

ErrnoOr<Path> Lookup(const Resolver& r, const Path& start,
                     std::string_view path, int flags, uint64_t resolve) {
  if (path.empty()) {
    if (!(flags & kEmptyPath)) return Errno(ENOENT);
    return start;
  }
  if (path.size() >= PATH_MAX) return Errno(ENAMETOOLONG);
  Path boundary;
  SENTRY_ASSIGN_OR_RETURN(Path cur, Start(r, start, path, resolve, boundary));
  Walker w{r, boundary, resolve};
  std::deque<std::string> parts;
  SplitInto(path, parts);
  bool must_be_dir = (flags & kDirectory) || EndsWithSlash(path);
  bool follow = (flags & kFollow) || EndsWithSlash(path);
  while (!parts.empty()) {
    std::string name = std::move(parts.front());
    parts.pop_front();
    SENTRY_RETURN_IF_ERRNO(w.Step(cur, name, parts.empty(), follow, parts));
  }
  if (must_be_dir && !S_ISDIR(cur.inode().Type())) return Errno(ENOTDIR);
  return cur;
}

ErrnoOr<ParentAndName> LookupParent(const Resolver& r, const Path& start,
                                    std::string_view path, uint64_t resolve) {
  if (path.empty()) return Errno(ENOENT);
  if (path.size() >= PATH_MAX) return Errno(ENAMETOOLONG);
  Path boundary;
  SENTRY_ASSIGN_OR_RETURN(Path cur, Start(r, start, path, resolve, boundary));
  Walker w{r, boundary, resolve};
  std::deque<std::string> parts;
  SplitInto(path, parts);
  // SplitInto drops "." components, but a final "." is the name asked
  // about (rmdir("d/.") is EINVAL, not rmdir("d")).
  std::string_view trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.remove_suffix(1);
  std::string_view last = trimmed.substr(trimmed.rfind('/') + 1);
  if (last == "." && !parts.empty()) parts.push_back(".");
  ParentAndName out;
  out.trailing_slash = EndsWithSlash(path);
  if (parts.empty()) {  // "/" or "." or "./"
    out.dir = cur;
    out.name = path[0] == '/' ? "" : ".";
    return out;
  }
  while (parts.size() > 1) {
    std::string name = std::move(parts.front());
    parts.pop_front();
    SENTRY_RETURN_IF_ERRNO(w.Step(cur, name, false, true, parts));
  }
  SENTRY_ASSIGN_OR_RETURN(struct stat dir, cur.inode().Stat());
  if (!S_ISDIR(dir.st_mode)) return Errno(ENOTDIR);
  out.dir = cur;
  out.name = std::move(parts.front());
  if (out.name.size() > NAME_MAX) return Errno(ENAMETOOLONG);
  return out;
}

namespace {

// May the caller create or remove entries in `dir`?
ErrnoOr<void> CheckDirWritable(const Resolver& r, const Path& dir) {
  SENTRY_ASSIGN_OR_RETURN(struct stat st, dir.inode().Stat());
  if (!S_ISDIR(st.st_mode)) return Errno(ENOTDIR);
  SENTRY_RETURN_IF_ERRNO(CheckPermission(r.creds, st, kMayWrite | kMayExec));
  if (ReadOnly(dir)) return Errno(EROFS);
  return {};
}

// The sticky bit: in a +t directory only the file's owner, the directory's
// owner or CAP_FOWNER may remove or rename a file.
ErrnoOr<void> CheckSticky(const Resolver& r, const struct stat& dir,
                          const struct stat& victim) {
  if (!(dir.st_mode & S_ISVTX)) return {};
  if (r.creds.uid == victim.st_uid || r.creds.uid == dir.st_uid ||
      r.creds.HasCap(CAP_FOWNER)) {
    return {};
  }
  return Errno(EPERM);
}

// Owner and mode of a new node in `dir` (set-group-ID directories pass
// their group on, and to subdirectories their S_ISGID bit).
NewNode NewNodeIn(const Resolver& r, const struct stat& dir, mode_t mode) {
  NewNode n{mode, r.creds.uid, r.creds.gid, 0};
  if (dir.st_mode & S_ISGID) {
    n.gid = dir.st_gid;
    if (S_ISDIR(mode)) n.mode |= S_ISGID;
  }
  return n;
}

// Checks a final component that must name something to create.
ErrnoOr<void> CheckNewName(const ParentAndName& pn) {
  if (pn.name.empty() || pn.name == "." || pn.name == "..") {
    return Errno(EEXIST);
  }
  return {};
}

}  // namespace

ErrnoOr<std::shared_ptr<FileDescription>> OpenPath(const Resolver& r,
                                                   const Path& p, int flags) {
  if (flags & O_PATH) {
    auto f = std::make_shared<OPathFile>();
    f->set_path(p);
    return std::shared_ptr<FileDescription>(f);
  }
  SENTRY_ASSIGN_OR_RETURN(struct stat st, p.inode().Stat());
  if (S_ISLNK(st.st_mode)) return Errno(ELOOP);
  int acc = flags & O_ACCMODE;
  if (acc == O_ACCMODE) return Errno(EINVAL);
  bool wants_write = acc != O_RDONLY || (flags & O_TRUNC);
  if (S_ISDIR(st.st_mode) && (acc != O_RDONLY || (flags & O_CREAT))) {
    return Errno(EISDIR);
  }
  if ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode)) return Errno(ENOTDIR);
  int may = 0;
  if (acc != O_WRONLY) may |= kMayRead;
  if (wants_write) may |= kMayWrite;
  SENTRY_RETURN_IF_ERRNO(CheckPermission(r.creds, st, may));
  if (wants_write && ReadOnly(p) &&
      (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))) {
    return Errno(EROFS);
  }
  if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && p.mount->flags().nodev) {
    return Errno(EACCES);
  }
  if ((flags & O_TRUNC) && S_ISREG(st.st_mode) && st.st_size != 0) {
    SetAttrRequest req;
    req.size = 0;
    SENTRY_RETURN_IF_ERRNO(p.inode().SetAttr(req));
  }
  SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<FileDescription> f,
                          p.inode().Open(flags));
  f->set_path(p);
  NotifyPath(p, IN_OPEN);
  return f;
}

ErrnoOr<std::shared_ptr<FileDescription>> Open(const Resolver& r,
                                               const Path& start,
                                               std::string_view path, int flags,
                                               mode_t mode, uint64_t resolve) {
  if ((flags & O_TMPFILE) == O_TMPFILE) return Errno(EOPNOTSUPP);
  int lookup = (flags & O_NOFOLLOW) ? 0 : kFollow;
  if (flags & O_DIRECTORY) lookup |= kDirectory;
  if (!(flags & O_CREAT)) {
    SENTRY_ASSIGN_OR_RETURN(Path p, Lookup(r, start, path, lookup, resolve));
    if ((flags & O_NOFOLLOW) && !(flags & O_PATH) &&
        S_ISLNK(p.inode().Type())) {
      return Errno(ELOOP);
    }
    return OpenPath(r, p, flags);
  }
  // O_CREAT: resolve the parent, then the last component by hand so a
  // dangling symlink creates its target (unless O_EXCL or O_NOFOLLOW).
  SENTRY_ASSIGN_OR_RETURN(ParentAndName pn,
                          LookupParent(r, start, path, resolve));
  for (int follows = 0;; ++follows) {
    if (pn.trailing_slash || pn.name.empty() || pn.name == "." ||
        pn.name == "..") {
      return Errno(EISDIR);
    }
    if (pn.name.size() > NAME_MAX) return Errno(ENAMETOOLONG);
    SENTRY_ASSIGN_OR_RETURN(struct stat dir, pn.dir.inode().Stat());
    SENTRY_RETURN_IF_ERRNO(CheckPermission(r.creds, dir, kMayExec));
    ErrnoOr<std::shared_ptr<Dentry>> child = pn.dir.dentry->Child(pn.name);
    if (child.ok()) {
      if (flags & O_EXCL) return Errno(EEXIST);
      SENTRY_ASSIGN_OR_RETURN(
          Path p, CrossMounts(r, Path{pn.dir.mount, *child}, resolve));
      if (S_ISLNK(p.inode().Type())) {
        if (flags & O_NOFOLLOW) return Errno(ELOOP);
        if (resolve & kResolveNoSymlinks) return Errno(ELOOP);
        if (follows >= kMaxSymlinkFollows) return Errno(ELOOP);
        if (p.inode().MagicLinkTarget()) {
          SENTRY_ASSIGN_OR_RETURN(Path target,
                                  Lookup(r, pn.dir, pn.name, kFollow, resolve));
          return OpenPath(r, target, flags);
        }
        SENTRY_ASSIGN_OR_RETURN(std::string target, p.inode().ReadLink());
        if (target.empty()) return Errno(ENOENT);
        SENTRY_ASSIGN_OR_RETURN(pn, LookupParent(r, pn.dir, target, resolve));
        continue;
      }
      return OpenPath(r, p, flags);
    }
    if (child.error() != Errno(ENOENT)) return child.error();
    SENTRY_RETURN_IF_ERRNO(CheckDirWritable(r, pn.dir));
    SENTRY_ASSIGN_OR_RETURN(
        std::shared_ptr<Inode> inode,
        pn.dir.inode().Mknod(pn.name,
                             NewNodeIn(r, dir, S_IFREG | (mode & 07777))));
    std::shared_ptr<Dentry> d = pn.dir.dentry->AddChild(pn.name, inode);
    Path p{pn.dir.mount, d};
    NotifyChild(pn.dir.inode(), IN_CREATE, pn.name);
    // A new file is opened with the requested access even if its mode
    // would not allow it (open("f", O_CREAT|O_WRONLY, 0444) works).
    SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<FileDescription> f,
                            inode->Open(flags));
    f->set_path(p);
    NotifyPath(p, IN_OPEN);
    return f;
  }
}

ErrnoOr<void> Mknod(const Resolver& r, const Path& start, std::string_view path,
                    mode_t mode, dev_t dev) {
  SENTRY_ASSIGN_OR_RETURN(ParentAndName pn, LookupParent(r, start, path));
  SENTRY_RETURN_IF_ERRNO(CheckNewName(pn));
  if (pn.dir.dentry->Child(pn.name).ok()) return Errno(EEXIST);
  if (pn.trailing_slash) return Errno(ENOENT);
  SENTRY_RETURN_IF_ERRNO(CheckDirWritable(r, pn.dir));
  SENTRY_ASSIGN_OR_RETURN(struct stat dir, pn.dir.inode().Stat());
  NewNode n = NewNodeIn(r, dir, mode);
  n.rdev = dev;
  SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode,
                          pn.dir.inode().Mknod(pn.name, n));
  pn.dir.dentry->AddChild(pn.name, std::move(inode));
  NotifyChild(pn.dir.inode(), IN_CREATE, pn.name);
  return {};
}

ErrnoOr<void> Mkdir(const Resolver& r, const Path& start, std::string_view path,
                    mode_t mode) {
  SENTRY_ASSIGN_OR_RETURN(ParentAndName pn, LookupParent(r, start, path));
  SENTRY_RETURN_IF_ERRNO(CheckNewName(pn));
  if (pn.dir.dentry->Child(pn.name).ok()) return Errno(EEXIST);
  SENTRY_RETURN_IF_ERRNO(CheckDirWritable(r, pn.dir));
  SENTRY_ASSIGN_OR_RETURN(struct stat dir, pn.dir.inode().Stat());
  SENTRY_ASSIGN_OR_RETURN(
      std::shared_ptr<Inode> inode,
      pn.dir.inode().Mkdir(pn.name,
                           NewNodeIn(r, dir, S_IFDIR | (mode & 07777))));
  pn.dir.dentry->AddChild(pn.name, std::move(inode));
  NotifyChild(pn.dir.inode(), IN_CREATE | IN_ISDIR, pn.name);
  return {};
}

ErrnoOr<void> Symlink(const Resolver& r, const std::string& target,
                      const Path& start, std::string_view path) {
  if (target.empty()) return Errno(ENOENT);
  SENTRY_ASSIGN_OR_RETURN(ParentAndName pn, LookupParent(r, start, path));
  SENTRY_RETURN_IF_ERRNO(CheckNewName(pn));
  if (pn.dir.dentry->Child(pn.name).ok()) return Errno(EEXIST);
  if (pn.trailing_slash) return Errno(ENOENT);
  SENTRY_RETURN_IF_ERRNO(CheckDirWritable(r, pn.dir));
  SENTRY_ASSIGN_OR_RETURN(struct stat dir, pn.dir.inode().Stat());
  SENTRY_ASSIGN_OR_RETURN(
      std::shared_ptr<Inode> inode,
      pn.dir.inode().Symlink(pn.name, target,
                             NewNodeIn(r, dir, S_IFLNK | 0777)));
  pn.dir.dentry->AddChild(pn.name, std::move(inode));
  NotifyChild(pn.dir.inode(), IN_CREATE, pn.name);
  return {};
}

ErrnoOr<void> Link(const Resolver& r, const Path& old_start,
                   std::string_view old_path, const Path& new_start,
                   std::string_view new_path, int lookup_flags) {
  SENTRY_ASSIGN_OR_RETURN(Path old_p,
                          Lookup(r, old_start, old_path, lookup_flags));
  SENTRY_ASSIGN_OR_RETURN(ParentAndName pn,
                          LookupParent(r, new_start, new_path));
  SENTRY_RETURN_IF_ERRNO(CheckNewName(pn));
  if (old_p.mount != pn.dir.mount) return Errno(EXDEV);
  SENTRY_ASSIGN_OR_RETURN(struct stat st, old_p.inode().Stat());
  if (S_ISDIR(st.st_mode)) return Errno(EPERM);
  if (pn.dir.dentry->Child(pn.name).ok()) return Errno(EEXIST);
  if (pn.trailing_slash) return Errno(ENOENT);
  SENTRY_RETURN_IF_ERRNO(CheckDirWritable(r, pn.dir));
  SENTRY_RETURN_IF_ERRNO(pn.dir.inode().Link(pn.name, old_p.dentry->inode()));
  pn.dir.dentry->AddChild(pn.name, old_p.dentry->inode());
  NotifyInode(old_p.inode(), IN_ATTRIB);  // its link count
  NotifyChild(pn.dir.inode(), IN_CREATE, pn.name);
  return {};
}

namespace {

// After an unlink: the file lost a link, and maybe its last one.
void NotifyGone(Inode& victim) {
  ErrnoOr<struct stat> st = victim.Stat();
  NotifyInode(victim, st.ok() && st->st_nlink > 0 ? IN_ATTRIB : IN_DELETE_SELF);
}

// Shared checks for unlink/rmdir: the victim exists, is no mount point, and
// the caller may remove it.
ErrnoOr<Path> RemovableChild(const Resolver& r, const ParentAndName& pn) {
  SENTRY_RETURN_IF_ERRNO(CheckDirWritable(r, pn.dir));
  SENTRY_ASSIGN_OR_RETURN(struct stat dir, pn.dir.inode().Stat());
  SENTRY_RETURN_IF_ERRNO(CheckPermission(r.creds, dir, kMayExec));
  SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<Dentry> child,
                          pn.dir.dentry->Child(pn.name));
  Path p{pn.dir.mount, child};
  if (r.ns->MountedOn(p)) return Errno(EBUSY);
  SENTRY_ASSIGN_OR_RETURN(struct stat st, child->inode()->Stat());
  SENTRY_RETURN_IF_ERRNO(CheckSticky(r, dir, st));
  return p;
}

}  // namespace

ErrnoOr<void> Unlink(const Resolver& r, const Path& start,
                     std::string_view path) {
  SENTRY_ASSIGN_OR_RETURN(ParentAndName pn, LookupParent(r, start, path));
  if (pn.name.empty() || pn.name == "." || pn.name == "..") {
    return Errno(EISDIR);
  }
  SENTRY_ASSIGN_OR_RETURN(Path victim, RemovableChild(r, pn));
  mode_t type = victim.inode().Type();
  if (S_ISDIR(type)) return Errno(EISDIR);
  if (pn.trailing_slash) return Errno(ENOTDIR);
  SENTRY_RETURN_IF_ERRNO(pn.dir.inode().Unlink(pn.name));
  pn.dir.dentry->RemoveChild(pn.name);
  NotifyGone(victim.inode());
  NotifyChild(pn.dir.inode(), IN_DELETE, pn.name);
  return {};
}

ErrnoOr<void> Rmdir(const Resolver& r, const Path& start,
                    std::string_view path) {
  SENTRY_ASSIGN_OR_RETURN(ParentAndName pn, LookupParent(r, start, path));
  if (pn.name == ".") return Errno(EINVAL);
  if (pn.name == "..") return Errno(ENOTEMPTY);
  if (pn.name.empty()) return Errno(EBUSY);
  SENTRY_ASSIGN_OR_RETURN(Path victim, RemovableChild(r, pn));
  if (!S_ISDIR(victim.inode().Type())) return Errno(ENOTDIR);
  if (victim == r.root) return Errno(EBUSY);
  SENTRY_RETURN_IF_ERRNO(pn.dir.inode().Rmdir(pn.name));
  pn.dir.dentry->RemoveChild(pn.name);
  NotifyInode(victim.inode(), IN_DELETE_SELF);
  NotifyChild(pn.dir.inode(), IN_DELETE | IN_ISDIR, pn.name);
  return {};
}

ErrnoOr<void> Rename(const Resolver& r, const Path& old_start,
                     std::string_view old_path, const Path& new_start,
                     std::string_view new_path, unsigned flags) {
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) {
    return Errno(EINVAL);
  }
  if ((flags & RENAME_EXCHANGE) && (flags & RENAME_NOREPLACE)) {
    return Errno(EINVAL);
  }
  if (flags & RENAME_WHITEOUT) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(ParentAndName from,
                          LookupParent(r, old_start, old_path));
  SENTRY_ASSIGN_OR_RETURN(ParentAndName to,
                          LookupParent(r, new_start, new_path));
  auto bad = [](const std::string& n) {
    return n.empty() || n == "." || n == "..";
  };
  if (bad(from.name) || bad(to.name)) {
    return Errno(from.name.empty() || to.name.empty() ? EBUSY : EINVAL);
  }
  if (from.dir.mount != to.dir.mount) return Errno(EXDEV);
  SENTRY_ASSIGN_OR_RETURN(Path src, RemovableChild(r, from));
  mode_t src_type = src.inode().Type();
  if ((from.trailing_slash || to.trailing_slash) && !S_ISDIR(src_type)) {
    return Errno(ENOTDIR);
  }
  SENTRY_RETURN_IF_ERRNO(CheckDirWritable(r, to.dir));
  ErrnoOr<std::shared_ptr<Dentry>> dst = to.dir.dentry->Child(to.name);
  if (!dst.ok() && dst.error() != Errno(ENOENT)) return dst.error();
  if (dst.ok()) {
    // Two names of the same file: rename does nothing (rename(2)). File
    // systems may hand out several Inode objects for one file, so compare
    // what stat says.
    SENTRY_ASSIGN_OR_RETURN(struct stat a, src.inode().Stat());
    SENTRY_ASSIGN_OR_RETURN(struct stat b, (*dst)->inode()->Stat());
    if (a.st_dev == b.st_dev && a.st_ino == b.st_ino) return {};
    if (flags & RENAME_NOREPLACE) return Errno(EEXIST);
    Path dst_path{to.dir.mount, *dst};
    if (r.ns->MountedOn(dst_path)) return Errno(EBUSY);
    SENTRY_ASSIGN_OR_RETURN(struct stat to_dir, to.dir.inode().Stat());
    SENTRY_ASSIGN_OR_RETURN(struct stat dst_st, (*dst)->inode()->Stat());
    SENTRY_RETURN_IF_ERRNO(CheckSticky(r, to_dir, dst_st));
    if (!(flags & RENAME_EXCHANGE)) {
      if (S_ISDIR(src_type) && !S_ISDIR(dst_st.st_mode)) return Errno(ENOTDIR);
      if (!S_ISDIR(src_type) && S_ISDIR(dst_st.st_mode)) return Errno(EISDIR);
    }
    if ((flags & RENAME_EXCHANGE) && S_ISDIR(dst_st.st_mode) &&
        from.dir.dentry->IsDescendantOf((*dst).get())) {
      return Errno(EINVAL);
    }
  } else if (flags & RENAME_EXCHANGE) {
    return Errno(ENOENT);
  }
  // A directory may not move below itself.
  if (S_ISDIR(src_type) && to.dir.dentry->IsDescendantOf(src.dentry.get())) {
    return Errno(EINVAL);
  }
  SENTRY_RETURN_IF_ERRNO(
      from.dir.inode().Rename(from.name, to.dir.inode(), to.name, flags));
  Dentry::MoveChild(*from.dir.dentry, from.name, *to.dir.dentry, to.name,
                    flags & RENAME_EXCHANGE);
  uint32_t cookie = NewMoveCookie();
  uint32_t isdir = S_ISDIR(src_type) ? IN_ISDIR : 0;
  NotifyChild(from.dir.inode(), IN_MOVED_FROM | isdir, from.name, cookie);
  NotifyChild(to.dir.inode(), IN_MOVED_TO | isdir, to.name, cookie);
  NotifyInode(src.inode(), IN_MOVE_SELF);
  return {};
}

ErrnoOr<std::string> ReadLink(const Resolver& r, const Path& start,
                              std::string_view path) {
  SENTRY_ASSIGN_OR_RETURN(Path p, Lookup(r, start, path, kEmptyPath));
  if (!S_ISLNK(p.inode().Type())) return Errno(EINVAL);
  return p.inode().ReadLink();
}

ErrnoOr<void> Chmod(const Resolver& r, const Path& p, mode_t mode) {
  SENTRY_ASSIGN_OR_RETURN(struct stat st, p.inode().Stat());
  if (!IsOwnerOrCapable(r.creds, st)) return Errno(EPERM);
  if (ReadOnly(p)) return Errno(EROFS);
  mode &= 07777;
  // Only members of the file's group (or CAP_FSETID) keep S_ISGID.
  if (!S_ISDIR(st.st_mode) && !r.creds.InGroup(st.st_gid) &&
      !r.creds.HasCap(CAP_FSETID)) {
    mode &= ~S_ISGID;
  }
  SetAttrRequest req;
  req.mode = mode;
  SENTRY_RETURN_IF_ERRNO(p.inode().SetAttr(req));
  NotifyPath(p, IN_ATTRIB);
  return {};
}

ErrnoOr<void> Chown(const Resolver& r, const Path& p, uid_t uid, gid_t gid) {
  SENTRY_ASSIGN_OR_RETURN(struct stat st, p.inode().Stat());
  bool change_uid = uid != static_cast<uid_t>(-1) && uid != st.st_uid;
  if (!r.creds.HasCap(CAP_CHOWN)) {
    if (change_uid) return Errno(EPERM);
    if (gid != static_cast<gid_t>(-1) &&
        (r.creds.uid != st.st_uid || !r.creds.InGroup(gid))) {
      return Errno(EPERM);
    }
  }
  if (ReadOnly(p)) return Errno(EROFS);
  SetAttrRequest req;
  if (uid != static_cast<uid_t>(-1)) req.uid = uid;
  if (gid != static_cast<gid_t>(-1)) req.gid = gid;
  // Any chown of a non-directory, even to the same owner and even by root,
  // clears set-user-ID and (if group-executable) set-group-ID (chown(2)).
  if (!S_ISDIR(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)) &&
      (req.uid || req.gid)) {
    mode_t m = st.st_mode & 07777 & ~S_ISUID;
    if (st.st_mode & S_IXGRP) m &= ~S_ISGID;
    req.mode = m;
  }
  SENTRY_RETURN_IF_ERRNO(p.inode().SetAttr(req));
  NotifyPath(p, IN_ATTRIB);
  return {};
}

ErrnoOr<void> Utimes(const Resolver& r, const Path& p,
                     const struct timespec* times) {
  SENTRY_ASSIGN_OR_RETURN(struct stat st, p.inode().Stat());
  struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  if (times == nullptr) times = now;
  bool both_now =
      times[0].tv_nsec == UTIME_NOW && times[1].tv_nsec == UTIME_NOW;
  if (times[0].tv_nsec == UTIME_OMIT && times[1].tv_nsec == UTIME_OMIT) {
    return {};
  }
  if (both_now) {
    // Setting to "now" needs ownership or write permission.
    if (!IsOwnerOrCapable(r.creds, st) &&
        !CheckPermission(r.creds, st, kMayWrite).ok()) {
      return Errno(EACCES);
    }
  } else if (!IsOwnerOrCapable(r.creds, st)) {
    return Errno(EPERM);
  }
  if (ReadOnly(p)) return Errno(EROFS);
  SetAttrRequest req;
  if (times[0].tv_nsec != UTIME_OMIT) req.atime = times[0];
  if (times[1].tv_nsec != UTIME_OMIT) req.mtime = times[1];
  SENTRY_RETURN_IF_ERRNO(p.inode().SetAttr(req));
  NotifyPath(p, IN_ATTRIB);
  return {};
}

ErrnoOr<void> Truncate(const Resolver& r, const Path& p, uint64_t length,
                       uint64_t size_limit) {
  SENTRY_ASSIGN_OR_RETURN(struct stat st, p.inode().Stat());
  if (S_ISDIR(st.st_mode)) return Errno(EISDIR);
  if (!S_ISREG(st.st_mode)) return Errno(EINVAL);
  SENTRY_RETURN_IF_ERRNO(CheckPermission(r.creds, st, kMayWrite));
  if (ReadOnly(p)) return Errno(EROFS);
  if (length > static_cast<uint64_t>(st.st_size) && length > size_limit) {
    return Errno(EFBIG);
  }
  SetAttrRequest req;
  req.size = length;
  SENTRY_RETURN_IF_ERRNO(p.inode().SetAttr(req));
  NotifyPath(p, IN_MODIFY);
  return {};
}

ErrnoOr<void> Access(const Resolver& r, const Path& p, int mode) {
  if (mode & ~(R_OK | W_OK | X_OK)) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(struct stat st, p.inode().Stat());
  if (mode == F_OK) return {};
  int may = 0;
  if (mode & R_OK) may |= kMayRead;
  if (mode & W_OK) may |= kMayWrite;
  if (mode & X_OK) may |= kMayExec;
  SENTRY_RETURN_IF_ERRNO(CheckPermission(r.creds, st, may));
  if ((mode & W_OK) && ReadOnly(p) &&
      (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))) {
    return Errno(EROFS);
  }
  return {};
}

}  // namespace sentry::vfs
