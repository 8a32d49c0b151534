// File attributes and data size: chmod, fchmod(at), chown, fchown(at),
// lchown, utimensat, utimes, utime, futimesat, truncate, ftruncate,
// fallocate, fadvise64, readahead, fsync, fdatasync, sync, syncfs, and the
// xattr family.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <utime.h>

#include "sentry/vfs/fsnotify.h"
#include "syscalls/file_util.h"
#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

// The path an FD names, for fchmod & co. (pipes and other anonymous files
// have none here).
ErrnoOr<vfs::Path> FdPath(Task& t, Fd fd) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  // O_PATH descriptors name a file but may not change it.
  if (!file->path().dentry || (file->flags() & O_PATH)) return Errno(EBADF);
  return file->path();
}

}  // namespace

ErrnoOr<void> Fchmodat(Task& t, Fd dirfd, CString path, uint32_t mode) {
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p, LookupAt(t, dirfd, name, true, false));
  return vfs::Chmod(t.resolver(), p, mode);
}

ErrnoOr<void> Chmod(Task& t, CString path, uint32_t mode) {
  return Fchmodat(t, Fd{AT_FDCWD}, path, mode);
}

ErrnoOr<void> Fchmod(Task& t, Fd fd, uint32_t mode) {
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p, FdPath(t, fd));
  return vfs::Chmod(t.resolver(), p, mode);
}

ErrnoOr<void> Fchownat(Task& t, Fd dirfd, CString path, uint32_t uid,
                       uint32_t gid, int flags) {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  SENTRY_ASSIGN_OR_RETURN(
      vfs::Path p, LookupAt(t, dirfd, name, !(flags & AT_SYMLINK_NOFOLLOW),
                            flags & AT_EMPTY_PATH));
  return vfs::Chown(t.resolver(), p, uid, gid);
}

ErrnoOr<void> Chown(Task& t, CString path, uint32_t uid, uint32_t gid) {
  return Fchownat(t, Fd{AT_FDCWD}, path, uid, gid, 0);
}

ErrnoOr<void> Lchown(Task& t, CString path, uint32_t uid, uint32_t gid) {
  return Fchownat(t, Fd{AT_FDCWD}, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

ErrnoOr<void> Fchown(Task& t, Fd fd, uint32_t uid, uint32_t gid) {
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p, FdPath(t, fd));
  return vfs::Chown(t.resolver(), p, uid, gid);
}

ErrnoOr<void> Utimensat(Task& t, Fd dirfd, CString path, UserAddr times,
                        int flags) {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Errno(EINVAL);
  struct timespec ts[2];
  struct timespec* tsp = nullptr;
  if (!times.null()) {
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(times.value, ts, sizeof(ts)));
    for (const auto& x : ts) {
      if (x.tv_nsec != UTIME_NOW && x.tv_nsec != UTIME_OMIT &&
          (x.tv_nsec < 0 || x.tv_nsec >= 1000000000)) {
        return Errno(EINVAL);
      }
    }
    tsp = ts;
  }
  vfs::Path p;
  if (path.null()) {
    // utimensat(fd, NULL, ...) is futimens: the FD itself.
    SENTRY_ASSIGN_OR_RETURN(p, FdPath(t, dirfd));
  } else {
    SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
    SENTRY_ASSIGN_OR_RETURN(
        p, LookupAt(t, dirfd, name, !(flags & AT_SYMLINK_NOFOLLOW),
                    flags & AT_EMPTY_PATH));
  }
  return vfs::Utimes(t.resolver(), p, tsp);
}

namespace {
ErrnoOr<void> UtimesFromTimeval(Task& t, Fd dirfd, CString path,
                                UserAddr times) {
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p, LookupAt(t, dirfd, name, true, false));
  if (times.null()) return vfs::Utimes(t.resolver(), p, nullptr);
  struct timeval tv[2];
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(times.value, tv, sizeof(tv)));
  struct timespec ts[2];
  for (int i = 0; i < 2; ++i) {
    if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000) return Errno(EINVAL);
    ts[i] = {tv[i].tv_sec, tv[i].tv_usec * 1000};
  }
  return vfs::Utimes(t.resolver(), p, ts);
}
}  // namespace

ErrnoOr<void> Utimes(Task& t, CString path, UserAddr times) {
  return UtimesFromTimeval(t, Fd{AT_FDCWD}, path, times);
}

ErrnoOr<void> Futimesat(Task& t, Fd dirfd, CString path, UserAddr times) {
  return UtimesFromTimeval(t, dirfd, path, times);
}

ErrnoOr<void> Utime(Task& t, CString path, UserAddr times) {
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p,
                          LookupAt(t, Fd{AT_FDCWD}, name, true, false));
  if (times.null()) return vfs::Utimes(t.resolver(), p, nullptr);
  struct utimbuf ub;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(times.value, &ub, sizeof(ub)));
  struct timespec ts[2] = {{ub.actime, 0}, {ub.modtime, 0}};
  return vfs::Utimes(t.resolver(), p, ts);
}

ErrnoOr<void> Truncate(Task& t, CString path, int64_t length) {
  if (length < 0) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p,
                          LookupAt(t, Fd{AT_FDCWD}, name, true, false));
  const uint64_t limit = FileSizeLimit(t);
  ErrnoOr<void> r =
      vfs::Truncate(t.resolver(), p, static_cast<uint64_t>(length), limit);
  // EFBIG for a length within the limit is the file system's maximum
  // size, which raises no signal.
  if (!r.ok() && r.error() == Errno(EFBIG) &&
      static_cast<uint64_t>(length) > limit) {
    return FileTooBig(t);
  }
  return r;
}

ErrnoOr<void> Ftruncate(Task& t, Fd fd, int64_t length) {
  if (length < 0) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  // An O_PATH descriptor is no open file for ftruncate (Linux's fdget
  // skips them): EBADF, not the EINVAL of a read-only one.
  if (file->flags() & O_PATH) return Errno(EBADF);
  if (!file->writable()) return Errno(EINVAL);
  if (vfs::Inode* i = file->inode()) {
    SENTRY_ASSIGN_OR_RETURN(struct stat st, i->Stat());
    if (!S_ISREG(st.st_mode)) return Errno(EINVAL);
    if (static_cast<uint64_t>(length) > static_cast<uint64_t>(st.st_size) &&
        static_cast<uint64_t>(length) > FileSizeLimit(t)) {
      return FileTooBig(t);
    }
  }
  SENTRY_RETURN_IF_ERRNO(file->Truncate(static_cast<uint64_t>(length)));
  vfs::NotifyPath(file->path(), IN_MODIFY);
  return {};
}

ErrnoOr<void> Fallocate(Task& t, Fd fd, int mode, int64_t offset, int64_t len) {
  if (offset < 0 || len <= 0) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  if (!file->writable()) return Errno(EBADF);
  vfs::Inode* i = file->inode();
  if (i == nullptr) return Errno(ESPIPE);
  mode_t type = i->Type();
  if (S_ISDIR(type)) return Errno(EISDIR);
  if (S_ISFIFO(type)) return Errno(ESPIPE);
  if (!S_ISREG(type)) return Errno(ENODEV);
  SENTRY_RETURN_IF_ERRNO(file->Allocate(mode, static_cast<uint64_t>(offset),
                                        static_cast<uint64_t>(len)));
  vfs::NotifyPath(file->path(), IN_MODIFY);
  return {};
}

// Advice about future access is only a hint, and the Sentry keeps no page
// cache whose readahead or eviction it could steer: after Linux's argument
// checks both calls do nothing.
ErrnoOr<void> Fadvise64(Task& t, Fd fd, int64_t offset, int64_t len,
                        int advice) {
  (void)offset;  // any offset is accepted, as on Linux
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  if (file->flags() & O_PATH) return Errno(EBADF);
  vfs::Inode* i = file->inode();
  if (i != nullptr && S_ISFIFO(i->Type())) return Errno(ESPIPE);
  if (len < 0) return Errno(EINVAL);
  switch (advice) {
    case POSIX_FADV_NORMAL:
    case POSIX_FADV_RANDOM:
    case POSIX_FADV_SEQUENTIAL:
    case POSIX_FADV_WILLNEED:
    case POSIX_FADV_DONTNEED:
    case POSIX_FADV_NOREUSE:
      return {};
    default:
      return Errno(EINVAL);
  }
}

ErrnoOr<void> Readahead(Task& t, Fd fd, int64_t offset, uint64_t count) {
  (void)offset;
  (void)count;
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  if ((file->flags() & O_PATH) || !file->readable()) return Errno(EBADF);
  vfs::Inode* i = file->inode();
  if (i == nullptr || !S_ISREG(i->Type())) return Errno(EINVAL);
  return {};
}

ErrnoOr<void> Fsync(Task& t, Fd fd) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  return file->Sync();
}

ErrnoOr<void> Fdatasync(Task& t, Fd fd) { return Fsync(t, fd); }

// Sandbox memory needs no syncing; host-backed files are synced by the
// host's own writeback (the Gofer's FDs are ordinary host files).
ErrnoOr<void> Sync(Task&) { return {}; }

ErrnoOr<void> Syncfs(Task& t, Fd fd) {
  SENTRY_RETURN_IF_ERRNO(GetFile(t, fd));
  return {};
}

// --- extended attributes ----------------------------------------------------

namespace {

constexpr size_t kXattrNameMax = 255;
constexpr size_t kXattrSizeMax = 65536;

ErrnoOr<std::string> XattrName(Task& t, CString name) {
  ErrnoOr<std::string> n = t.mm().CopyInString(name.value, kXattrNameMax);
  if (!n.ok()) {
    return n.error() == Errno(ENAMETOOLONG) ? Errno(ERANGE) : n.error();
  }
  if (n->empty()) return Errno(ERANGE);
  return n;
}

// Where an xattr call applies: a path (following symlinks or not) or an FD.
ErrnoOr<vfs::Path> XattrTarget(Task& t, CString path, bool follow) {
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  return LookupAt(t, Fd{AT_FDCWD}, name, follow, false);
}

ErrnoOr<uint64_t> GetX(Task& t, const vfs::Path& p, CString name,
                       UserAddr value, uint64_t size) {
  SENTRY_ASSIGN_OR_RETURN(std::string n, XattrName(t, name));
  SENTRY_ASSIGN_OR_RETURN(struct stat st, p.inode().Stat());
  SENTRY_RETURN_IF_ERRNO(
      vfs::CheckPermission(t.resolver().creds, st, vfs::kMayRead));
  SENTRY_ASSIGN_OR_RETURN(std::string v, p.inode().GetXattr(n));
  if (size == 0) return static_cast<uint64_t>(v.size());
  if (v.size() > size) return Errno(ERANGE);
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(value.value, v.data(), v.size()));
  return static_cast<uint64_t>(v.size());
}

ErrnoOr<void> SetX(Task& t, const vfs::Path& p, CString name, UserAddr value,
                   uint64_t size, int flags) {
  if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(std::string n, XattrName(t, name));
  if (size > kXattrSizeMax) return Errno(E2BIG);
  std::string v(size, '\0');
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(value.value, v.data(), size));
  SENTRY_ASSIGN_OR_RETURN(struct stat st, p.inode().Stat());
  if (n.rfind("user.", 0) == 0 && !S_ISREG(st.st_mode) &&
      !S_ISDIR(st.st_mode)) {
    return Errno(EPERM);
  }
  SENTRY_RETURN_IF_ERRNO(
      vfs::CheckPermission(t.resolver().creds, st, vfs::kMayWrite));
  if (vfs::ReadOnly(p)) return Errno(EROFS);
  SENTRY_RETURN_IF_ERRNO(p.inode().SetXattr(n, v, flags));
  vfs::NotifyPath(p, IN_ATTRIB);
  return {};
}

ErrnoOr<uint64_t> ListX(Task& t, const vfs::Path& p, UserAddr list,
                        uint64_t size) {
  SENTRY_ASSIGN_OR_RETURN(std::vector<std::string> names,
                          p.inode().ListXattr());
  std::string out;
  for (const std::string& n : names) {
    out += n;
    out.push_back('\0');
  }
  if (size == 0) return static_cast<uint64_t>(out.size());
  if (out.size() > size) return Errno(ERANGE);
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(list.value, out.data(), out.size()));
  return static_cast<uint64_t>(out.size());
}

ErrnoOr<void> RemoveX(Task& t, const vfs::Path& p, CString name) {
  SENTRY_ASSIGN_OR_RETURN(std::string n, XattrName(t, name));
  SENTRY_ASSIGN_OR_RETURN(struct stat st, p.inode().Stat());
  SENTRY_RETURN_IF_ERRNO(
      vfs::CheckPermission(t.resolver().creds, st, vfs::kMayWrite));
  if (vfs::ReadOnly(p)) return Errno(EROFS);
  SENTRY_RETURN_IF_ERRNO(p.inode().RemoveXattr(n));
  vfs::NotifyPath(p, IN_ATTRIB);
  return {};
}

}  // namespace

ErrnoOr<uint64_t> Getxattr(Task& t, CString path, CString name, UserAddr value,
                           uint64_t size) {
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p, XattrTarget(t, path, true));
  return GetX(t, p, name, value, size);
}
ErrnoOr<uint64_t> Lgetxattr(Task& t, CString path, CString name, UserAddr value,
                            uint64_t size) {
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p, XattrTarget(t, path, false));
  return GetX(t, p, name, value, size);
}
ErrnoOr<uint64_t> Fgetxattr(Task& t, Fd fd, CString name, UserAddr value,
                            uint64_t size) {
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p, FdPath(t, fd));
  return GetX(t, p, name, value, size);
}
ErrnoOr<void> Setxattr(Task& t, CString path, CString name, UserAddr value,
                       uint64_t size, int flags) {
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p, XattrTarget(t, path, true));
  return SetX(t, p, name, value, size, flags);
}
ErrnoOr<void> Lsetxattr(Task& t, CString path, CString name, UserAddr value,
                        uint64_t size, int flags) {
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p, XattrTarget(t, path, false));
  return SetX(t, p, name, value, size, flags);
}
ErrnoOr<void> Fsetxattr(Task& t, Fd fd, CString name, UserAddr value,
                        uint64_t size, int flags) {
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p, FdPath(t, fd));
  return SetX(t, p, name, value, size, flags);
}
ErrnoOr<uint64_t> Listxattr(Task& t, CString path, UserAddr list,
                            uint64_t size) {
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p, XattrTarget(t, path, true));
  return ListX(t, p, list, size);
}
ErrnoOr<uint64_t> Llistxattr(Task& t, CString path, UserAddr list,
                             uint64_t size) {
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p, XattrTarget(t, path, false));
  return ListX(t, p, list, size);
}
ErrnoOr<uint64_t> Flistxattr(Task& t, Fd fd, UserAddr list, uint64_t size) {
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p, FdPath(t, fd));
  return ListX(t, p, list, size);
}
ErrnoOr<void> Removexattr(Task& t, CString path, CString name) {
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p, XattrTarget(t, path, true));
  return RemoveX(t, p, name);
}
ErrnoOr<void> Lremovexattr(Task& t, CString path, CString name) {
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p, XattrTarget(t, path, false));
  return RemoveX(t, p, name);
}
ErrnoOr<void> Fremovexattr(Task& t, Fd fd, CString name) {
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p, FdPath(t, fd));
  return RemoveX(t, p, name);
}

}  // namespace sentry::syscalls
