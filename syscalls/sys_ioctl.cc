// ioctl.
#include "syscalls/handlers.h"

namespace sentry::syscalls {

ErrnoOr<uint64_t> Ioctl(Task& t, Fd fd, uint32_t request, UserAddr arg) {
  SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<kernel::File> file,
                          t.fds().Get(fd.value));
  return file->Ioctl(t, request, arg.value);
}

}  // namespace sentry::syscalls
