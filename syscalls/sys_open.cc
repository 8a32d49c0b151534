// open, openat, openat2, creat, dup, dup2, dup3, fcntl, close_range.
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/openat2.h>

#include "syscalls/file_util.h"
#include "syscalls/handlers.h"
#include "syscalls/lock_util.h"

namespace sentry::syscalls {
namespace {

// Flags open(2) knows; others are ignored by open and rejected by openat2.
constexpr int kValidOpenFlags =
    O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK |
    O_DSYNC | O_ASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW |
    O_NOATIME | O_CLOEXEC | O_SYNC | O_PATH | O_TMPFILE;
// With O_PATH only these flags mean anything.
constexpr int kPathFlags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

uint64_t NofileLimit(Task& t) { return t.rlimits()[RLIMIT_NOFILE].rlim_cur; }

ErrnoOr<uint64_t> DoOpen(Task& t, Fd dirfd, const std::string& path, int flags,
                         mode_t mode, uint64_t resolve) {
  if (flags & O_PATH) flags &= kPathFlags;
  SENTRY_ASSIGN_OR_RETURN(vfs::Path start, StartFor(t, dirfd, path));
  vfs::Resolver r = t.resolver();
  SENTRY_ASSIGN_OR_RETURN(
      FilePtr file,
      vfs::Open(r, start, path, flags, mode & ~t.fs().umask & 07777, resolve));
  SENTRY_ASSIGN_OR_RETURN(
      int fd,
      t.fds().Install(std::move(file), flags & O_CLOEXEC, 0, NofileLimit(t)));
  return static_cast<uint64_t>(fd);
}

}  // namespace

ErrnoOr<uint64_t> Open(Task& t, CString path, int flags, uint32_t mode) {
  return Openat(t, Fd{AT_FDCWD}, path, flags, mode);
}

ErrnoOr<uint64_t> Creat(Task& t, CString path, uint32_t mode) {
  return Openat(t, Fd{AT_FDCWD}, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

ErrnoOr<uint64_t> Openat(Task& t, Fd dirfd, CString path, int flags,
                         uint32_t mode) {
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  return DoOpen(t, dirfd, name, flags & kValidOpenFlags, mode, 0);
}

ErrnoOr<uint64_t> Openat2(Task& t, Fd dirfd, CString path, UserAddr how,
                          uint64_t size) {
  struct open_how h {};
  if (size < sizeof(h)) return Errno(EINVAL);
  if (size > 4096) return Errno(E2BIG);
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(how.value, &h, sizeof(h)));
  // A larger struct from a newer libc must be zero beyond what we know.
  for (uint64_t off = sizeof(h); off < size; ++off) {
    uint8_t b;
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(how.value + off, &b, 1));
    if (b != 0) return Errno(E2BIG);
  }
  if (h.flags & ~static_cast<uint64_t>(kValidOpenFlags)) return Errno(EINVAL);
  if (h.resolve & ~uint64_t{0x3f}) return Errno(EINVAL);
  if (h.mode & ~uint64_t{07777}) return Errno(EINVAL);
  bool creating = (h.flags & O_CREAT) || (h.flags & O_TMPFILE) == O_TMPFILE;
  if (!creating && h.mode != 0) return Errno(EINVAL);
  if ((h.resolve & RESOLVE_BENEATH) && (h.resolve & RESOLVE_IN_ROOT)) {
    return Errno(EINVAL);
  }
  // RESOLVE_CACHED asks to fail rather than block; every lookup may block
  // on the Gofer, so it always fails as Linux does when it would block.
  if (h.resolve & RESOLVE_CACHED) return Errno(EAGAIN);
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  return DoOpen(t, dirfd, name, static_cast<int>(h.flags),
                static_cast<mode_t>(h.mode), h.resolve);
}

ErrnoOr<uint64_t> Dup(Task& t, Fd fd) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  SENTRY_ASSIGN_OR_RETURN(int nfd,
                          t.fds().Install(file, false, 0, NofileLimit(t)));
  return static_cast<uint64_t>(nfd);
}

ErrnoOr<uint64_t> Dup3(Task& t, Fd oldfd, Fd newfd, int flags) {
  if (flags & ~O_CLOEXEC) return Errno(EINVAL);
  if (oldfd.value == newfd.value) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, oldfd));
  SENTRY_RETURN_IF_ERRNO(
      t.fds().InstallAt(newfd.value, file, flags & O_CLOEXEC, NofileLimit(t)));
  return static_cast<uint64_t>(newfd.value);
}

ErrnoOr<uint64_t> Dup2(Task& t, Fd oldfd, Fd newfd) {
  if (oldfd.value == newfd.value) {
    SENTRY_RETURN_IF_ERRNO(GetFile(t, oldfd));
    return static_cast<uint64_t>(newfd.value);
  }
  return Dup3(t, oldfd, newfd, 0);
}

ErrnoOr<uint64_t> Fcntl(Task& t, Fd fd, int cmd, uint64_t arg) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      int min_fd = static_cast<int>(arg);
      if (min_fd < 0) return Errno(EINVAL);
      if (static_cast<uint64_t>(min_fd) >= NofileLimit(t)) {
        return Errno(EINVAL);
      }
      SENTRY_ASSIGN_OR_RETURN(
          int nfd, t.fds().Install(file, cmd == F_DUPFD_CLOEXEC, min_fd,
                                   NofileLimit(t)));
      return static_cast<uint64_t>(nfd);
    }
    case F_GETFD: {
      SENTRY_ASSIGN_OR_RETURN(bool cloexec, t.fds().GetCloexec(fd.value));
      return uint64_t{cloexec ? 1u : 0u};
    }
    case F_SETFD:
      SENTRY_RETURN_IF_ERRNO(t.fds().SetCloexec(fd.value, arg & FD_CLOEXEC));
      return uint64_t{0};
    case F_GETFL:
      return static_cast<uint64_t>(file->flags());
    case F_SETFL:
      if (file->flags() & O_PATH) return Errno(EBADF);
      SENTRY_RETURN_IF_ERRNO(file->SetStatusFlags(static_cast<int>(arg)));
      return uint64_t{0};
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      return FcntlLock(t, file, cmd, arg);
    case F_GETOWN:
    case F_SETOWN:
    case F_GETSIG:
    case F_SETSIG:
      // SIGIO delivery is not implemented; the owner is recorded as none.
      return uint64_t{0};
    default:
      // F_GETPIPE_SZ, F_SETPIPE_SZ, F_ADD_SEALS, F_GET_SEALS: the file's.
      return file->Fcntl(t, cmd, arg);
  }
}

ErrnoOr<void> CloseRange(Task& t, uint32_t first, uint32_t last,
                         uint32_t flags) {
  if (flags & ~(CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE)) {
    return Errno(EINVAL);
  }
  if (first > last) return Errno(EINVAL);
  t.fds().CloseRange(first, last, flags & CLOSE_RANGE_CLOEXEC);
  return {};
}

}  // namespace sentry::syscalls
