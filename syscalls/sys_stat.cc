// stat, lstat, fstat, newfstatat, statx, statfs, fstatfs, readlink,
// readlinkat, access, faccessat, faccessat2, getdents64.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "syscalls/file_util.h"
#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

// glibc's struct stat on x86-64 is the kernel's struct stat: copied as is.
ErrnoOr<void> CopyOutStat(Task& t, UserAddr buf, const struct stat& st) {
  return t.mm().CopyOut(buf.value, &st, sizeof(st));
}

ErrnoOr<void> StatPath(Task& t, Fd dirfd, CString path, UserAddr buf,
                       bool follow, bool empty_path) {
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  if (name.empty() && empty_path && dirfd.value != AT_FDCWD) {
    return Fstat(t, dirfd, buf);  // also stats pipes and other anon files
  }
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p,
                          LookupAt(t, dirfd, name, follow, empty_path));
  SENTRY_ASSIGN_OR_RETURN(struct stat st, p.inode().Stat());
  return CopyOutStat(t, buf, st);
}

}  // namespace

ErrnoOr<void> Stat(Task& t, CString path, UserAddr statbuf) {
  return StatPath(t, Fd{AT_FDCWD}, path, statbuf, true, false);
}

ErrnoOr<void> Lstat(Task& t, CString path, UserAddr statbuf) {
  return StatPath(t, Fd{AT_FDCWD}, path, statbuf, false, false);
}

ErrnoOr<void> Fstat(Task& t, Fd fd, UserAddr statbuf) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  SENTRY_ASSIGN_OR_RETURN(struct stat st, file->Stat());
  return CopyOutStat(t, statbuf, st);
}

ErrnoOr<void> Newfstatat(Task& t, Fd dirfd, CString path, UserAddr statbuf,
                         int flags) {
  if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT)) {
    return Errno(EINVAL);
  }
  return StatPath(t, dirfd, path, statbuf, !(flags & AT_SYMLINK_NOFOLLOW),
                  flags & AT_EMPTY_PATH);
}

ErrnoOr<void> Statx(Task& t, Fd dirfd, CString path, int flags, uint32_t mask,
                    UserAddr buf) {
  if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT |
                AT_STATX_SYNC_TYPE)) {
    return Errno(EINVAL);
  }
  if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE) return Errno(EINVAL);
  if (mask & STATX__RESERVED) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  struct stat st;
  uint64_t mnt_id = 0;
  std::optional<struct timespec> btime;
  if (name.empty() && (flags & AT_EMPTY_PATH) && dirfd.value != AT_FDCWD) {
    SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, dirfd));
    SENTRY_ASSIGN_OR_RETURN(st, file->Stat());
    if (file->path().mount) mnt_id = file->path().mount->id();
    if (vfs::Inode* i = file->inode()) btime = i->BirthTime();
  } else {
    SENTRY_ASSIGN_OR_RETURN(
        vfs::Path p, LookupAt(t, dirfd, name, !(flags & AT_SYMLINK_NOFOLLOW),
                              flags & AT_EMPTY_PATH));
    SENTRY_ASSIGN_OR_RETURN(st, p.inode().Stat());
    mnt_id = p.mount->id();
    btime = p.inode().BirthTime();
  }
  struct statx sx {};
  // Every basic field is always known; the birth time where the file
  // system keeps one.
  sx.stx_mask = STATX_BASIC_STATS | STATX_MNT_ID;
  if (btime) {
    sx.stx_mask |= STATX_BTIME;
    sx.stx_btime.tv_sec = btime->tv_sec;
    sx.stx_btime.tv_nsec = static_cast<uint32_t>(btime->tv_nsec);
  }
  sx.stx_blksize = static_cast<uint32_t>(st.st_blksize);
  sx.stx_nlink = static_cast<uint32_t>(st.st_nlink);
  sx.stx_uid = st.st_uid;
  sx.stx_gid = st.st_gid;
  sx.stx_mode = static_cast<uint16_t>(st.st_mode);
  sx.stx_ino = st.st_ino;
  sx.stx_size = static_cast<uint64_t>(st.st_size);
  sx.stx_blocks = static_cast<uint64_t>(st.st_blocks);
  auto ts = [](const struct timespec& t) {
    struct statx_timestamp x {};
    x.tv_sec = t.tv_sec;
    x.tv_nsec = static_cast<uint32_t>(t.tv_nsec);
    return x;
  };
  sx.stx_atime = ts(st.st_atim);
  sx.stx_ctime = ts(st.st_ctim);
  sx.stx_mtime = ts(st.st_mtim);
  sx.stx_rdev_major = major(st.st_rdev);
  sx.stx_rdev_minor = minor(st.st_rdev);
  sx.stx_dev_major = major(st.st_dev);
  sx.stx_dev_minor = minor(st.st_dev);
  sx.stx_mnt_id = mnt_id;
  return t.mm().CopyOut(buf.value, &sx, sizeof(sx));
}

namespace {

// statfs(2)'s f_flags bit saying the other bits are valid (Linux's
// ST_VALID, which glibc does not name); Linux always sets it.
constexpr unsigned long kStValid = 0x0020;

// What Linux's vfs_statfs adds to a file system's answer for every file
// system: f_frsize defaults to f_bsize, and f_flags says ST_VALID and the
// flags of the mount the file was reached through.
ErrnoOr<void> CopyOutStatfs(Task& t, UserAddr buf, struct statfs s,
                            const vfs::Mount* mount) {
  if (s.f_frsize == 0) s.f_frsize = s.f_bsize;
  s.f_flags |= kStValid;
  if (mount != nullptr) {
    const vfs::MountFlags& f = mount->flags();
    if (f.read_only) s.f_flags |= ST_RDONLY;
    if (f.nosuid) s.f_flags |= ST_NOSUID;
    if (f.nodev) s.f_flags |= ST_NODEV;
    if (f.noexec) s.f_flags |= ST_NOEXEC;
  }
  return t.mm().CopyOut(buf.value, &s, sizeof(s));
}

}  // namespace

ErrnoOr<void> Statfs(Task& t, CString path, UserAddr buf) {
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p,
                          LookupAt(t, Fd{AT_FDCWD}, name, true, false));
  SENTRY_ASSIGN_OR_RETURN(struct statfs s, p.inode().StatFs());
  return CopyOutStatfs(t, buf, s, p.mount.get());
}

ErrnoOr<void> Fstatfs(Task& t, Fd fd, UserAddr buf) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  vfs::Inode* inode = file->inode();
  if (inode == nullptr) return Errno(ENOSYS);
  SENTRY_ASSIGN_OR_RETURN(struct statfs s, inode->StatFs());
  return CopyOutStatfs(t, buf, s, file->path().mount.get());
}

ErrnoOr<uint64_t> Readlinkat(Task& t, Fd dirfd, CString path, UserAddr buf,
                             int bufsiz) {
  if (bufsiz <= 0) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path start, StartFor(t, dirfd, name));
  SENTRY_ASSIGN_OR_RETURN(std::string target,
                          vfs::ReadLink(t.resolver(), start, name));
  // No NUL, silently truncated, as readlink(2) says.
  size_t n = std::min(target.size(), static_cast<size_t>(bufsiz));
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(buf.value, target.data(), n));
  return static_cast<uint64_t>(n);
}

ErrnoOr<uint64_t> Readlink(Task& t, CString path, UserAddr buf, int bufsiz) {
  return Readlinkat(t, Fd{AT_FDCWD}, path, buf, bufsiz);
}

ErrnoOr<void> Faccessat2(Task& t, Fd dirfd, CString path, int mode, int flags) {
  if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) {
    return Errno(EINVAL);
  }
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  SENTRY_ASSIGN_OR_RETURN(
      vfs::Path p, LookupAt(t, dirfd, name, !(flags & AT_SYMLINK_NOFOLLOW),
                            flags & AT_EMPTY_PATH));
  vfs::Resolver r = t.resolver();
  if (!(flags & AT_EACCESS)) {
    // access(2) checks with the real IDs, and root's capabilities only if
    // the real UID is root.
    r.creds.uid = t.creds().ruid;
    r.creds.gid = t.creds().rgid;
    r.creds.caps = t.creds().ruid == 0 ? ~uint64_t{0} : 0;
  }
  return vfs::Access(r, p, mode);
}

ErrnoOr<void> Faccessat(Task& t, Fd dirfd, CString path, int mode) {
  return Faccessat2(t, dirfd, path, mode, 0);
}

ErrnoOr<void> Access(Task& t, CString path, int mode) {
  return Faccessat2(t, Fd{AT_FDCWD}, path, mode, 0);
}

ErrnoOr<uint64_t> Getdents64(Task& t, Fd fd, UserAddr dirp, uint32_t count) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  if (file->flags() & O_PATH) return Errno(EBADF);
  vfs::Inode* inode = file->inode();
  if (inode == nullptr || !S_ISDIR(inode->Type())) return Errno(ENOTDIR);
  size_t writable = t.mm().WritableLength(dirp.value, count);
  if (writable == 0) return Errno(EFAULT);
  std::span<uint8_t> buf = t.Scratch(writable);
  SENTRY_ASSIGN_OR_RETURN(size_t n, file->Getdents64(buf));
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(dirp.value, buf.data(), n));
  return static_cast<uint64_t>(n);
}

}  // namespace sentry::syscalls
