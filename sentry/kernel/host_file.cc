#include "sentry/kernel/host_file.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "sentry/kernel/task.h"

namespace sentry::kernel {
namespace {

// Bytes moved per host read/write call: bounds the Sentry's buffer.
constexpr uint64_t kChunk = 1 << 20;

// The kernel's struct termios (asm/termbits.h), not glibc's larger one.
constexpr size_t kKernelTermiosSize = 36;

}  // namespace

absl::StatusOr<std::unique_ptr<HostFile>> HostFile::Import(int host_fd) {
  int fd = fcntl(host_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "importing a host FD");
  return std::unique_ptr<HostFile>(new HostFile(UniqueFd(fd)));
}

ErrnoOr<uint64_t> HostFile::Read(Task& task, uint64_t addr, uint64_t count) {
  if (count == 0) return uint64_t{0};
  // Check the destination before taking data from the host, so a bad
  // buffer loses nothing: read only as much as fits in writable memory.
  std::vector<uint8_t> buf(std::min(count, kChunk));
  size_t writable = task.mm().CopyOutPartial(addr, buf.data(), buf.size());
  if (writable == 0) return Errno(EFAULT);
  SENTRY_RETURN_IF_ERRNO(task.WaitHostFd(fd_.get(), POLLIN));
  ssize_t n = ::read(fd_.get(), buf.data(), writable);
  if (n < 0) return Errno(errno);
  if (!task.mm().CopyOut(addr, buf.data(), static_cast<size_t>(n)).ok()) {
    return Errno(EFAULT);  // unmapped by another thread meanwhile
  }
  return static_cast<uint64_t>(n);
}

ErrnoOr<uint64_t> HostFile::Write(Task& task, uint64_t addr, uint64_t count) {
  uint64_t done = 0;
  std::vector<uint8_t> buf;
  while (done < count) {
    buf.resize(std::min(count - done, kChunk));
    size_t readable =
        task.mm().CopyInPartial(addr + done, buf.data(), buf.size());
    if (readable == 0) {
      if (done > 0) return done;
      return Errno(EFAULT);
    }
    size_t off = 0;
    while (off < readable) {
      ErrnoOr<void> ready = task.WaitHostFd(fd_.get(), POLLOUT);
      if (!ready.ok())
        return done + off > 0 ? ErrnoOr<uint64_t>(done + off) : ready.error();
      ssize_t n = ::write(fd_.get(), buf.data() + off, readable - off);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        int err = errno;
        if (done + off > 0) return done + off;
        if (err == EPIPE) task.QueueSignal(SIGPIPE);
        return Errno(err);
      }
      off += static_cast<size_t>(n);
    }
    done += readable;
    if (readable < buf.size()) break;  // the rest of the buffer is bad
  }
  return done;
}

ErrnoOr<struct stat> HostFile::Stat() {
  struct stat st;
  if (fstat(fd_.get(), &st) != 0) return Errno(errno);
  return st;
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
    default:
      return Errno(ENOTTY);
  }
}

}  // namespace sentry::kernel
