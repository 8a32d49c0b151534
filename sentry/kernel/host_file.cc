#include "sentry/kernel/host_file.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include "sentry/kernel/task.h"

namespace sentry::kernel {
namespace {

// The kernel's struct termios (asm/termbits.h), not glibc's larger one.
constexpr size_t kKernelTermiosSize = 36;

}  // namespace

absl::StatusOr<std::shared_ptr<HostFile>> HostFile::Import(int host_fd) {
  int fd = fcntl(host_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "importing a host FD");
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) flags = O_RDWR;
  // The guest's O_NONBLOCK is emulated with poll; the host FD's own mode
  // is left as the caller set it (it is shared with the caller).
  return std::shared_ptr<HostFile>(
      new HostFile(UniqueFd(fd), flags & ~O_NONBLOCK));
}

ErrnoOr<size_t> HostFile::Read(Task& task, std::span<uint8_t> dst) {
  if (dst.empty()) return size_t{0};
  for (;;) {
    if (nonblocking()) {
      struct pollfd p = {fd_.get(), POLLIN, 0};
      if (poll(&p, 1, 0) == 0) return Errno(EAGAIN);
    } else {
      // As for writes: only a read that must block can be interrupted.
      struct pollfd p = {fd_.get(), POLLIN, 0};
      if (poll(&p, 1, 0) == 0) {
        SENTRY_RETURN_IF_ERRNO(task.WaitHostFd(fd_.get(), POLLIN));
      }
    }
    ssize_t n = ::read(fd_.get(), dst.data(), dst.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR && errno != EAGAIN) return Errno(errno);
  }
}

ErrnoOr<size_t> HostFile::Write(Task& task, std::span<const uint8_t> src) {
  size_t off = 0;
  while (off < src.size()) {
    if (nonblocking()) {
      struct pollfd p = {fd_.get(), POLLOUT, 0};
      if (poll(&p, 1, 0) == 0) {
        if (off > 0) return off;
        return Errno(EAGAIN);
      }
    } else {
      // Wait only if the file cannot take data now: a write that need not
      // block is never interrupted by a signal (regular files and ttys
      // with room), as on Linux.
      struct pollfd p = {fd_.get(), POLLOUT, 0};
      if (poll(&p, 1, 0) == 0) {
        ErrnoOr<void> ready = task.WaitHostFd(fd_.get(), POLLOUT);
        if (!ready.ok()) {
          return off > 0 ? ErrnoOr<size_t>(off) : ready.error();
        }
      }
    }
    ssize_t n = ::write(fd_.get(), src.data() + off, src.size() - off);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      int err = errno;
      if (off > 0) return off;
      if (err == EPIPE) task.QueueThreadSignal(SIGPIPE);
      return Errno(err);
    }
    off += static_cast<size_t>(n);
  }
  return off;
}

ErrnoOr<uint64_t> HostFile::Seek(int64_t offset, int whence) {
  off_t r = lseek(fd_.get(), offset, whence);
  if (r < 0) return Errno(errno);
  return static_cast<uint64_t>(r);
}

ErrnoOr<struct stat> HostFile::Stat() {
  struct stat st;
  if (fstat(fd_.get(), &st) != 0) return Errno(errno);
  return st;
}

uint32_t HostFile::Readiness(uint32_t mask) {
  struct pollfd p = {fd_.get(), static_cast<short>(mask), 0};
  if (poll(&p, 1, 0) <= 0) return 0;
  return static_cast<uint32_t>(p.revents);
}

ErrnoOr<uint64_t> HostFile::Ioctl(Task& task, uint32_t request, uint64_t arg) {
  switch (request) {
    case TCGETS: {
      uint8_t termios[64];
      if (ioctl(fd_.get(), TCGETS, termios) != 0) return Errno(errno);
      SENTRY_RETURN_IF_ERRNO(
          task.mm().CopyOut(arg, termios, kKernelTermiosSize));
      return uint64_t{0};
    }
    case TIOCGWINSZ: {
      struct winsize ws;
      if (ioctl(fd_.get(), TIOCGWINSZ, &ws) != 0) return Errno(errno);
      SENTRY_RETURN_IF_ERRNO(task.mm().CopyOut(arg, &ws, sizeof(ws)));
      return uint64_t{0};
    }
    case TIOCGPGRP: {
      // The guest's session is the sandbox: report its init's group.
      int pgrp = task.pid();
      SENTRY_RETURN_IF_ERRNO(task.mm().CopyOut(arg, &pgrp, sizeof(pgrp)));
      return uint64_t{0};
    }
    case FIONREAD: {
      int n = 0;
      if (ioctl(fd_.get(), FIONREAD, &n) != 0) return Errno(errno);
      SENTRY_RETURN_IF_ERRNO(task.mm().CopyOut(arg, &n, sizeof(n)));
      return uint64_t{0};
    }
    default:
      return Errno(ENOTTY);
  }
}

}  // namespace sentry::kernel
