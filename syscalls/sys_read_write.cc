// read, write, readv, writev, close.
#include <errno.h>
#include <sys/uio.h>

#include <vector>

#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

// Linux's MAX_RW_COUNT: one call moves at most INT_MAX rounded down to a
// page.
constexpr uint64_t kMaxRwCount = 0x7ffff000;
constexpr int kIovMax = 1024;

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

template <typename Op>
ErrnoOr<uint64_t> Vectored(Task& t, Fd fd, UserAddr iov, int iovcnt, Op op) {
  SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<kernel::File> file,
                          t.fds().Get(fd.value));
  SENTRY_ASSIGN_OR_RETURN(std::vector<struct iovec> vecs,
                          CopyInIovecs(t, iov, iovcnt));
  uint64_t done = 0;
  for (const struct iovec& v : vecs) {
    if (v.iov_len == 0) continue;
    ErrnoOr<uint64_t> n =
        op(*file, reinterpret_cast<uint64_t>(v.iov_base), v.iov_len);
    if (!n.ok()) return done > 0 ? ErrnoOr<uint64_t>(done) : n.error();
    done += *n;
    if (*n < v.iov_len) break;  // short transfer ends the call
  }
  return done;
}

}  // namespace

ErrnoOr<uint64_t> Read(Task& t, Fd fd, UserAddr buf, uint64_t count) {
  SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<kernel::File> file,
                          t.fds().Get(fd.value));
  if (static_cast<int64_t>(count) < 0) return Errno(EINVAL);
  return file->Read(t, buf.value, std::min(count, kMaxRwCount));
}

ErrnoOr<uint64_t> Write(Task& t, Fd fd, InBuf buf, uint64_t count) {
  SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<kernel::File> file,
                          t.fds().Get(fd.value));
  if (static_cast<int64_t>(count) < 0) return Errno(EINVAL);
  if (count == 0) return uint64_t{0};
  return file->Write(t, buf.value, std::min(count, kMaxRwCount));
}

ErrnoOr<uint64_t> Readv(Task& t, Fd fd, UserAddr iov, int iovcnt) {
  return Vectored(t, fd, iov, iovcnt,
                  [&t](kernel::File& f, uint64_t addr, uint64_t len) {
                    return f.Read(t, addr, len);
                  });
}

ErrnoOr<uint64_t> Writev(Task& t, Fd fd, UserAddr iov, int iovcnt) {
  return Vectored(t, fd, iov, iovcnt,
                  [&t](kernel::File& f, uint64_t addr, uint64_t len) {
                    return f.Write(t, addr, len);
                  });
}

ErrnoOr<void> Close(Task& t, Fd fd) { return t.fds().Remove(fd.value); }

}  // namespace sentry::syscalls
