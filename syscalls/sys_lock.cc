// flock, and fcntl's F_GETLK/F_SETLK/F_SETLKW and OFD variants.
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>

#include "sentry/vfs/lock.h"
#include "syscalls/handlers.h"
#include "syscalls/lock_util.h"

namespace sentry::syscalls {
namespace {

// struct flock as the x86-64 kernel lays it out.
struct KernelFlock {
  int16_t type;
  int16_t whence;
  int64_t start;
  int64_t len;
  int32_t pid;
  int32_t pad;
};
static_assert(sizeof(KernelFlock) == 32);

ErrnoOr<vfs::LockRequest> ToRequest(Task& t, vfs::FileDescription& f,
                                    const KernelFlock& fl) {
  vfs::LockRequest r;
  if (fl.type != F_RDLCK && fl.type != F_WRLCK && fl.type != F_UNLCK) {
    return Errno(EINVAL);
  }
  r.type = fl.type;
  int64_t base;
  switch (fl.whence) {
    case SEEK_SET:
      base = 0;
      break;
    case SEEK_CUR:
      base = static_cast<int64_t>(f.offset());
      break;
    case SEEK_END: {
      SENTRY_ASSIGN_OR_RETURN(struct stat st, f.Stat());
      base = st.st_size;
      break;
    }
    default:
      return Errno(EINVAL);
  }
  int64_t start;
  if (__builtin_add_overflow(base, fl.start, &start)) return Errno(EOVERFLOW);
  if (fl.len > 0) {
    int64_t end;
    if (__builtin_add_overflow(start, fl.len - 1, &end)) {
      return Errno(EOVERFLOW);
    }
    r.start = static_cast<uint64_t>(start);
    r.end = static_cast<uint64_t>(end);
  } else if (fl.len < 0) {
    // A negative length covers [start+len, start-1].
    if (start + fl.len < 0) return Errno(EINVAL);
    r.start = static_cast<uint64_t>(start + fl.len);
    r.end = static_cast<uint64_t>(start - 1);
  } else {
    r.start = static_cast<uint64_t>(start);
    r.end = UINT64_MAX;  // to EOF, however far it grows
  }
  if (start < 0) return Errno(EINVAL);
  (void)t;
  return r;
}

}  // namespace

ErrnoOr<uint64_t> FcntlLock(Task& t, const FilePtr& file, int cmd,
                            uint64_t arg) {
  vfs::Inode* inode = file->inode();
  if (inode == nullptr || (file->flags() & O_PATH)) return Errno(EBADF);
  KernelFlock fl;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(arg, &fl, sizeof(fl)));
  SENTRY_ASSIGN_OR_RETURN(vfs::LockRequest req, ToRequest(t, *file, fl));
  bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
  if (ofd) {
    if (fl.pid != 0) return Errno(EINVAL);
    req.owner = file.get();
    req.pid = -1;
  } else {
    req.owner = t.lock_owner();
    req.pid = t.pid();
  }
  if (cmd == F_GETLK || cmd == F_OFD_GETLK) {
    if (req.type == F_UNLCK) return Errno(EINVAL);
    vfs::LockRequest found = vfs::TestLock(*inode, req);
    fl.type = found.type;
    if (found.type != F_UNLCK) {
      fl.whence = SEEK_SET;
      fl.start = static_cast<int64_t>(found.start);
      fl.len = found.end == UINT64_MAX
                   ? 0
                   : static_cast<int64_t>(found.end - found.start + 1);
      fl.pid = found.pid;
    }
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(arg, &fl, sizeof(fl)));
    return uint64_t{0};
  }
  if (req.type == F_RDLCK && !file->readable()) return Errno(EBADF);
  if (req.type == F_WRLCK && !file->writable()) return Errno(EBADF);
  ErrnoOr<void> r = vfs::TryLock(*inode, req);
  if (r.ok()) return uint64_t{0};
  if (cmd != F_SETLKW && cmd != F_OFD_SETLKW) return r.error();
  ErrnoOr<void> waited = t.Wait(&vfs::LockQueue(*inode), ~0u,
                                [&] { return vfs::TryLock(*inode, req).ok(); });
  if (!waited.ok()) return Errno(EINTR);
  return uint64_t{0};
}

ErrnoOr<void> Flock(Task& t, Fd fd, int operation) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  vfs::Inode* inode = file->inode();
  if (inode == nullptr || (file->flags() & O_PATH)) return Errno(EBADF);
  vfs::LockRequest req;
  req.kind = vfs::LockKind::kFlock;
  req.owner = file.get();
  switch (operation & ~LOCK_NB) {
    case LOCK_SH:
      req.type = F_RDLCK;
      break;
    case LOCK_EX:
      req.type = F_WRLCK;
      break;
    case LOCK_UN:
      req.type = F_UNLCK;
      break;
    default:
      return Errno(EINVAL);
  }
  ErrnoOr<void> r = vfs::TryLock(*inode, req);
  if (r.ok()) return {};
  if (operation & LOCK_NB) return Errno(EWOULDBLOCK);
  ErrnoOr<void> waited = t.Wait(&vfs::LockQueue(*inode), ~0u,
                                [&] { return vfs::TryLock(*inode, req).ok(); });
  if (!waited.ok()) return Errno(EINTR);
  return {};
}

}  // namespace sentry::syscalls
