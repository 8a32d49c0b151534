// inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch.
#include <errno.h>
#include <fcntl.h>
#include <sys/inotify.h>

#include "sentry/fs/inotify.h"
#include "syscalls/file_util.h"
#include "syscalls/handlers.h"

namespace sentry::syscalls {

ErrnoOr<uint64_t> InotifyInit1(Task& t, int flags) {
  if (flags & ~(IN_CLOEXEC | IN_NONBLOCK)) return Errno(EINVAL);
  auto file = std::make_shared<fs::InotifyFile>(flags);
  SENTRY_ASSIGN_OR_RETURN(
      int fd, t.fds().Install(std::move(file), flags & IN_CLOEXEC, 0,
                              t.rlimits()[RLIMIT_NOFILE].rlim_cur));
  return static_cast<uint64_t>(fd);
}

ErrnoOr<uint64_t> InotifyInit(Task& t) { return InotifyInit1(t, 0); }

ErrnoOr<uint64_t> InotifyAddWatch(Task& t, Fd fd, CString path, uint32_t mask) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  auto* in = dynamic_cast<fs::InotifyFile*>(file.get());
  if (in == nullptr) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  SENTRY_ASSIGN_OR_RETURN(
      vfs::Path p,
      LookupAt(t, Fd{AT_FDCWD}, name, !(mask & IN_DONT_FOLLOW), false));
  // Watching needs read permission on the object.
  SENTRY_ASSIGN_OR_RETURN(struct stat st, p.inode().Stat());
  SENTRY_RETURN_IF_ERRNO(
      vfs::CheckPermission(t.resolver().creds, st, vfs::kMayRead));
  SENTRY_ASSIGN_OR_RETURN(int wd, in->AddWatch(p.dentry->inode(), mask));
  return static_cast<uint64_t>(wd);
}

ErrnoOr<void> InotifyRmWatch(Task& t, Fd fd, int wd) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  auto* in = dynamic_cast<fs::InotifyFile*>(file.get());
  if (in == nullptr) return Errno(EINVAL);
  return in->RemoveWatch(wd);
}

}  // namespace sentry::syscalls
