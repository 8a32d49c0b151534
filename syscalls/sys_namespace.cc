// Calls that change the directory tree or the process's place in it:
// mkdir(at), mknod(at), rmdir, unlink(at), link(at), symlink(at),
// rename(at)(2), chdir, fchdir, getcwd, chroot, umask.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "syscalls/file_util.h"
#include "syscalls/handlers.h"

namespace sentry::syscalls {

ErrnoOr<void> Mkdirat(Task& t, Fd dirfd, CString path, uint32_t mode) {
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path start, StartFor(t, dirfd, name));
  return vfs::Mkdir(t.resolver(), start, name, mode & ~t.fs().umask & 07777);
}

ErrnoOr<void> Mkdir(Task& t, CString path, uint32_t mode) {
  return Mkdirat(t, Fd{AT_FDCWD}, path, mode);
}

ErrnoOr<void> Mknodat(Task& t, Fd dirfd, CString path, uint32_t mode,
                      uint32_t dev) {
  mode_t type = mode & S_IFMT;
  if (type == 0) type = S_IFREG;
  switch (type) {
    case S_IFREG:
    case S_IFIFO:
    case S_IFSOCK:
      break;
    case S_IFCHR:
    case S_IFBLK:
      // Device nodes need CAP_MKNOD, which the sandbox's root has.
      if (t.creds().euid != 0) return Errno(EPERM);
      break;
    case S_IFDIR:
      return Errno(EPERM);
    default:
      return Errno(EINVAL);
  }
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path start, StartFor(t, dirfd, name));
  return vfs::Mknod(t.resolver(), start, name,
                    type | (mode & ~t.fs().umask & 07777), dev);
}

ErrnoOr<void> Mknod(Task& t, CString path, uint32_t mode, uint32_t dev) {
  return Mknodat(t, Fd{AT_FDCWD}, path, mode, dev);
}

ErrnoOr<void> Rmdir(Task& t, CString path) {
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path start, StartFor(t, Fd{AT_FDCWD}, name));
  return vfs::Rmdir(t.resolver(), start, name);
}

ErrnoOr<void> Unlinkat(Task& t, Fd dirfd, CString path, int flags) {
  if (flags & ~AT_REMOVEDIR) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path start, StartFor(t, dirfd, name));
  if (flags & AT_REMOVEDIR) return vfs::Rmdir(t.resolver(), start, name);
  return vfs::Unlink(t.resolver(), start, name);
}

ErrnoOr<void> Unlink(Task& t, CString path) {
  return Unlinkat(t, Fd{AT_FDCWD}, path, 0);
}

ErrnoOr<void> Linkat(Task& t, Fd olddirfd, CString oldpath, Fd newdirfd,
                     CString newpath, int flags) {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(std::string old_name, CopyInPath(t, oldpath));
  SENTRY_ASSIGN_OR_RETURN(std::string new_name, CopyInPath(t, newpath));
  if (old_name.empty() && (flags & AT_EMPTY_PATH) && t.creds().euid != 0) {
    return Errno(ENOENT);  // needs CAP_DAC_READ_SEARCH
  }
  SENTRY_ASSIGN_OR_RETURN(vfs::Path old_start, StartFor(t, olddirfd, old_name));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path new_start, StartFor(t, newdirfd, new_name));
  int lookup = ((flags & AT_SYMLINK_FOLLOW) ? vfs::kFollow : 0) |
               ((flags & AT_EMPTY_PATH) ? vfs::kEmptyPath : 0);
  return vfs::Link(t.resolver(), old_start, old_name, new_start, new_name,
                   lookup);
}

ErrnoOr<void> Link(Task& t, CString oldpath, CString newpath) {
  return Linkat(t, Fd{AT_FDCWD}, oldpath, Fd{AT_FDCWD}, newpath, 0);
}

ErrnoOr<void> Symlinkat(Task& t, CString target, Fd newdirfd,
                        CString linkpath) {
  SENTRY_ASSIGN_OR_RETURN(std::string to, CopyInPath(t, target));
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, linkpath));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path start, StartFor(t, newdirfd, name));
  return vfs::Symlink(t.resolver(), to, start, name);
}

ErrnoOr<void> Symlink(Task& t, CString target, CString linkpath) {
  return Symlinkat(t, target, Fd{AT_FDCWD}, linkpath);
}

ErrnoOr<void> Renameat2(Task& t, Fd olddirfd, CString oldpath, Fd newdirfd,
                        CString newpath, uint32_t flags) {
  SENTRY_ASSIGN_OR_RETURN(std::string old_name, CopyInPath(t, oldpath));
  SENTRY_ASSIGN_OR_RETURN(std::string new_name, CopyInPath(t, newpath));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path old_start, StartFor(t, olddirfd, old_name));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path new_start, StartFor(t, newdirfd, new_name));
  return vfs::Rename(t.resolver(), old_start, old_name, new_start, new_name,
                     flags);
}

ErrnoOr<void> Renameat(Task& t, Fd olddirfd, CString oldpath, Fd newdirfd,
                       CString newpath) {
  return Renameat2(t, olddirfd, oldpath, newdirfd, newpath, 0);
}

ErrnoOr<void> Rename(Task& t, CString oldpath, CString newpath) {
  return Renameat2(t, Fd{AT_FDCWD}, oldpath, Fd{AT_FDCWD}, newpath, 0);
}

namespace {
ErrnoOr<void> ChangeDir(Task& t, const vfs::Path& p) {
  SENTRY_ASSIGN_OR_RETURN(struct stat st, p.inode().Stat());
  if (!S_ISDIR(st.st_mode)) return Errno(ENOTDIR);
  SENTRY_RETURN_IF_ERRNO(
      vfs::CheckPermission(t.resolver().creds, st, vfs::kMayExec));
  t.fs().cwd = p;
  t.PublishFs();
  return {};
}
}  // namespace

ErrnoOr<void> Chdir(Task& t, CString path) {
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p,
                          LookupAt(t, Fd{AT_FDCWD}, name, true, false));
  return ChangeDir(t, p);
}

ErrnoOr<void> Fchdir(Task& t, Fd fd) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  if (!file->path().dentry) return Errno(ENOTDIR);
  return ChangeDir(t, file->path());
}

ErrnoOr<uint64_t> Getcwd(Task& t, UserAddr buf, uint64_t size) {
  const vfs::Path& cwd = t.fs().cwd;
  std::string path = vfs::PathName(cwd, t.fs().root);
  // A cwd that was removed, or that lies outside the root, has no path
  // from the root: Linux says "(unreachable)" and getcwd fails with ENOENT.
  if (cwd.dentry->deleted()) return Errno(ENOENT);
  if (path.size() + 1 > size) return Errno(ERANGE);
  SENTRY_RETURN_IF_ERRNO(
      t.mm().CopyOut(buf.value, path.c_str(), path.size() + 1));
  return static_cast<uint64_t>(path.size() + 1);
}

ErrnoOr<void> Chroot(Task& t, CString path) {
  if (t.creds().euid != 0) return Errno(EPERM);  // CAP_SYS_CHROOT
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path p,
                          LookupAt(t, Fd{AT_FDCWD}, name, true, false));
  SENTRY_ASSIGN_OR_RETURN(struct stat st, p.inode().Stat());
  if (!S_ISDIR(st.st_mode)) return Errno(ENOTDIR);
  SENTRY_RETURN_IF_ERRNO(
      vfs::CheckPermission(t.resolver().creds, st, vfs::kMayExec));
  t.fs().root = p;
  t.PublishFs();
  return {};
}

ErrnoOr<uint64_t> Umask(Task& t, uint32_t mask) {
  mode_t old = t.fs().umask;
  t.fs().umask = mask & 0777;
  t.PublishFs();
  return uint64_t{old};
}

}  // namespace sentry::syscalls
