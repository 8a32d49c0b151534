// pipe, pipe2.
#include <errno.h>
#include <fcntl.h>

#include "sentry/fs/pipe.h"
#include "syscalls/file_util.h"
#include "syscalls/handlers.h"
#include "syscalls/install_util.h"

namespace sentry::syscalls {

ErrnoOr<void> Pipe(Task& t, UserAddr fds) { return Pipe2(t, fds, 0); }

ErrnoOr<void> Pipe2(Task& t, UserAddr fds, int flags) {
  // O_NOTIFICATION_PIPE (O_EXCL) needs watch queues, which we lack, as a
  // kernel without CONFIG_WATCH_QUEUE does.
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT)) return Errno(EINVAL);
  auto [r, w] = fs::Pipe::Create(t.creds().fsuid, t.creds().fsgid, flags);
  return InstallPair(t, fds, std::move(r), std::move(w), flags & O_CLOEXEC);
}

}  // namespace sentry::syscalls
