// fstat, newfstatat.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "syscalls/handlers.h"

namespace sentry::syscalls {

// glibc's struct stat on x86-64 is the kernel's struct stat: copied as is.
ErrnoOr<void> Fstat(Task& t, Fd fd, UserAddr statbuf) {
  SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<kernel::File> file,
                          t.fds().Get(fd.value));
  SENTRY_ASSIGN_OR_RETURN(struct stat st, file->Stat());
  return t.mm().CopyOut(statbuf.value, &st, sizeof(st));
}

ErrnoOr<void> Newfstatat(Task& t, Fd dirfd, CString path, UserAddr statbuf,
                         int flags) {
  if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT)) {
    return Errno(EINVAL);
  }
  SENTRY_ASSIGN_OR_RETURN(std::string name,
                          t.mm().CopyInString(path.value, PATH_MAX - 1));
  if (name.empty()) {
    if (!(flags & AT_EMPTY_PATH)) return Errno(ENOENT);
    return Fstat(t, dirfd, statbuf);
  }
  // No filesystem is mounted in the sandbox until the VFS lands: every
  // path names nothing.
  return Errno(ENOENT);
}

}  // namespace sentry::syscalls
