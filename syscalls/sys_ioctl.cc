// ioctl: the generic requests every file answers (FIONBIO, FIOASYNC,
// FIOCLEX, FIONCLEX), then the file's own.
#include <fcntl.h>
#include <sys/ioctl.h>

#include "syscalls/file_util.h"
#include "syscalls/handlers.h"

namespace sentry::syscalls {

ErrnoOr<uint64_t> Ioctl(Task& t, Fd fd, uint32_t request, UserAddr arg) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  if (file->flags() & O_PATH) return Errno(EBADF);
  switch (request) {
    case FIOCLEX:
    case FIONCLEX:
      SENTRY_RETURN_IF_ERRNO(t.fds().SetCloexec(fd.value, request == FIOCLEX));
      return uint64_t{0};
    case FIONBIO:
    case FIOASYNC: {
      int on;
      SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(arg.value, &on, sizeof(on)));
      int bit = request == FIONBIO ? O_NONBLOCK : O_ASYNC;
      int flags = file->flags();
      SENTRY_RETURN_IF_ERRNO(
          file->SetStatusFlags(on ? (flags | bit) : (flags & ~bit)));
      return uint64_t{0};
    }
    case FIONREAD: {
      // Regular files: bytes between the offset and EOF, as Linux does.
      vfs::Inode* inode = file->inode();
      if (inode != nullptr && S_ISREG(inode->Type()) && file->seekable()) {
        SENTRY_ASSIGN_OR_RETURN(struct stat st, file->Stat());
        int64_t left = st.st_size - static_cast<int64_t>(file->offset());
        int n =
            left > 0 ? static_cast<int>(std::min<int64_t>(left, INT32_MAX)) : 0;
        SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(arg.value, &n, sizeof(n)));
        return uint64_t{0};
      }
      return file->Ioctl(t, request, arg.value);
    }
    default:
      return file->Ioctl(t, request, arg.value);
  }
}

}  // namespace sentry::syscalls
