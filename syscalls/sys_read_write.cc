// read, write, readv, writev, pread64, pwrite64, preadv, pwritev, preadv2,
// pwritev2, lseek, close.
#include <errno.h>
#include <sys/inotify.h>
#include <sys/uio.h>

#include <vector>

#include "sentry/vfs/fsnotify.h"
#include "sentry/vfs/lock.h"
#include "syscalls/file_util.h"
#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

constexpr int kIovMax = 1024;
// preadv2/pwritev2 flags we accept (RWF_HIPRI, RWF_DSYNC, RWF_SYNC,
// RWF_NOWAIT, RWF_APPEND): they change performance or durability, which
// the Sentry's files do not distinguish.
constexpr int kRwfSupported = 0x1f;

ErrnoOr<std::vector<struct iovec>> CopyInIovecs(Task& t, UserAddr iov,
                                                int iovcnt) {
  if (iovcnt < 0 || iovcnt > kIovMax) return Errno(EINVAL);
  std::vector<struct iovec> vecs(static_cast<size_t>(iovcnt));
  SENTRY_RETURN_IF_ERRNO(
      t.mm().CopyIn(iov.value, vecs.data(), vecs.size() * sizeof(iovec)));
  // Linux rejects lengths whose sum overflows ssize_t, and clamps the rest.
  uint64_t total = 0;
  for (struct iovec& v : vecs) {
    if (static_cast<int64_t>(v.iov_len) < 0) return Errno(EINVAL);
    uint64_t room = kMaxRwCount - total;
    if (v.iov_len > room) v.iov_len = room;
    total += v.iov_len;
  }
  return vecs;
}

// Streams (pipes, sockets, devices) take a vectored transfer as one call,
// as Linux's iov_iter does: a readv must not block for its second iovec
// once the first got data, a writev of at most PIPE_BUF bytes to a pipe
// is atomic, and a datagram is one message. Transfers move through the
// Sentry in pieces of at most this size.
constexpr uint64_t kStreamPiece = 4 << 20;

ErrnoOr<uint64_t> VectoredStream(Task& t, vfs::FileDescription& file,
                                 const std::vector<struct iovec>& vecs,
                                 bool write) {
  uint64_t total = 0;
  for (const struct iovec& v : vecs) total += v.iov_len;
  if (!write) {
    // Check the buffers first, so that a bad one loses no data.
    for (const struct iovec& v : vecs) {
      uint64_t base = reinterpret_cast<uint64_t>(v.iov_base);
      if (v.iov_len > 0 && t.mm().WritableLength(base, v.iov_len) < v.iov_len)
        return Errno(EFAULT);
    }
    std::vector<uint8_t> buf(std::min(total, kStreamPiece));
    SENTRY_ASSIGN_OR_RETURN(size_t n, file.Read(t, buf));
    SENTRY_RETURN_IF_ERRNO(
        ScatterIovecs(t, vecs, std::span<const uint8_t>(buf.data(), n)));
    if (n > 0) vfs::NotifyPath(file.path(), IN_ACCESS);
    return static_cast<uint64_t>(n);
  }
  uint64_t done = 0;
  std::vector<uint8_t> buf;
  while (done < total) {
    buf.resize(std::min(total - done, kStreamPiece));
    if (!GatherIovecs(t, vecs, done, buf).ok())
      return done > 0 ? ErrnoOr<uint64_t>(done) : Errno(EFAULT);
    ErrnoOr<size_t> n = file.Write(t, buf);
    if (!n.ok()) return done > 0 ? ErrnoOr<uint64_t>(done) : n.error();
    done += *n;
    if (*n < buf.size()) break;
  }
  if (done > 0) vfs::NotifyPath(file.path(), IN_MODIFY);
  return done;
}

// Seekable files: one call per iovec, stopping at the first short
// transfer. `offset`, if set, advances with each piece (preadv).
ErrnoOr<uint64_t> Vectored(Task& t, Fd fd, UserAddr iov, int iovcnt,
                           std::optional<uint64_t> offset, bool write) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  if (write ? !file->writable() : !file->readable()) return Errno(EBADF);
  SENTRY_ASSIGN_OR_RETURN(std::vector<struct iovec> vecs,
                          CopyInIovecs(t, iov, iovcnt));
  if (!offset && !file->seekable()) {
    return VectoredStream(t, *file, vecs, write);
  }
  uint64_t done = 0;
  for (const struct iovec& v : vecs) {
    if (v.iov_len == 0) continue;
    std::optional<uint64_t> at;
    if (offset) at = *offset + done;
    uint64_t addr = reinterpret_cast<uint64_t>(v.iov_base);
    ErrnoOr<uint64_t> n = write ? WriteFromGuest(t, *file, addr, v.iov_len, at)
                                : ReadToGuest(t, *file, addr, v.iov_len, at);
    if (!n.ok()) return done > 0 ? ErrnoOr<uint64_t>(done) : n.error();
    done += *n;
    if (*n < v.iov_len) break;  // short transfer ends the call
  }
  return done;
}

ErrnoOr<uint64_t> CheckOffset(int64_t offset) {
  if (offset < 0) return Errno(EINVAL);
  return static_cast<uint64_t>(offset);
}

}  // namespace

ErrnoOr<uint64_t> Read(Task& t, Fd fd, UserAddr buf, uint64_t count) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  return ReadToGuest(t, *file, buf.value, count, std::nullopt);
}

ErrnoOr<uint64_t> Write(Task& t, Fd fd, InBuf buf, uint64_t count) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  return WriteFromGuest(t, *file, buf.value, count, std::nullopt);
}

ErrnoOr<uint64_t> Pread64(Task& t, Fd fd, UserAddr buf, uint64_t count,
                          int64_t offset) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  SENTRY_ASSIGN_OR_RETURN(uint64_t off, CheckOffset(offset));
  if (!file->readable()) return Errno(EBADF);
  if (!file->seekable()) {
    return S_ISDIR(file->inode() ? file->inode()->Type() : 0) ? Errno(EISDIR)
                                                              : Errno(ESPIPE);
  }
  return ReadToGuest(t, *file, buf.value, count, off);
}

ErrnoOr<uint64_t> Pwrite64(Task& t, Fd fd, InBuf buf, uint64_t count,
                           int64_t offset) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  SENTRY_ASSIGN_OR_RETURN(uint64_t off, CheckOffset(offset));
  if (!file->writable()) return Errno(EBADF);
  if (!file->seekable()) return Errno(ESPIPE);
  // On Linux, pwrite on an O_APPEND file appends whatever the offset says
  // (pwrite(2), BUGS); we do the same.
  if (file->flags() & O_APPEND) {
    SENTRY_ASSIGN_OR_RETURN(struct stat st, file->Stat());
    off = static_cast<uint64_t>(st.st_size);
  }
  return WriteFromGuest(t, *file, buf.value, count, off);
}

ErrnoOr<uint64_t> Readv(Task& t, Fd fd, UserAddr iov, int iovcnt) {
  return Vectored(t, fd, iov, iovcnt, std::nullopt, false);
}

ErrnoOr<uint64_t> Writev(Task& t, Fd fd, UserAddr iov, int iovcnt) {
  return Vectored(t, fd, iov, iovcnt, std::nullopt, true);
}

ErrnoOr<uint64_t> Preadv(Task& t, Fd fd, UserAddr iov, int iovcnt,
                         int64_t offset) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  SENTRY_ASSIGN_OR_RETURN(uint64_t off, CheckOffset(offset));
  if (!file->seekable()) return Errno(ESPIPE);
  return Vectored(t, fd, iov, iovcnt, off, false);
}

ErrnoOr<uint64_t> Pwritev(Task& t, Fd fd, UserAddr iov, int iovcnt,
                          int64_t offset) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  SENTRY_ASSIGN_OR_RETURN(uint64_t off, CheckOffset(offset));
  if (!file->seekable()) return Errno(ESPIPE);
  if (file->flags() & O_APPEND) {
    SENTRY_ASSIGN_OR_RETURN(struct stat st, file->Stat());
    off = static_cast<uint64_t>(st.st_size);
  }
  return Vectored(t, fd, iov, iovcnt, off, true);
}

// preadv2/pwritev2: offset -1 means the file offset, as readv/writev.
ErrnoOr<uint64_t> Preadv2(Task& t, Fd fd, UserAddr iov, int iovcnt,
                          int64_t offset, uint64_t /*pos_h*/, int flags) {
  if (flags & ~kRwfSupported) return Errno(EOPNOTSUPP);
  if (offset == -1) return Readv(t, fd, iov, iovcnt);
  return Preadv(t, fd, iov, iovcnt, offset);
}

ErrnoOr<uint64_t> Pwritev2(Task& t, Fd fd, UserAddr iov, int iovcnt,
                           int64_t offset, uint64_t /*pos_h*/, int flags) {
  if (flags & ~kRwfSupported) return Errno(EOPNOTSUPP);
  if (offset == -1) {
    if (flags & RWF_APPEND) {
      SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
      if (file->seekable()) SENTRY_RETURN_IF_ERRNO(file->Seek(0, SEEK_END));
    }
    return Writev(t, fd, iov, iovcnt);
  }
  if (flags & RWF_APPEND) {
    // RWF_APPEND: append, as O_APPEND would, ignoring the offset.
    SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
    if (!file->seekable()) return Errno(ESPIPE);
    SENTRY_ASSIGN_OR_RETURN(struct stat st, file->Stat());
    return Vectored(t, fd, iov, iovcnt, static_cast<uint64_t>(st.st_size),
                    true);
  }
  return Pwritev(t, fd, iov, iovcnt, offset);
}

ErrnoOr<uint64_t> Lseek(Task& t, Fd fd, int64_t offset, int whence) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  return file->Seek(offset, whence);
}

ErrnoOr<void> Close(Task& t, Fd fd) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  SENTRY_RETURN_IF_ERRNO(t.fds().Remove(fd.value));
  // Closing any FD of a file drops the process's record locks on it.
  if (vfs::Inode* inode = file->inode()) {
    vfs::ReleaseLocksOf(*inode, t.lock_owner());
  }
  return {};
}

}  // namespace sentry::syscalls
