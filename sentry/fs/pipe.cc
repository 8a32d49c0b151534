#include "sentry/fs/pipe.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cstring>

#include "sentry/kernel/task.h"
#include "sentry/vfs/special.h"

namespace sentry::fs {
namespace {

constexpr uint32_t kReadEvents = POLLIN | POLLRDNORM;
constexpr uint32_t kWriteEvents = POLLOUT | POLLWRNORM;

bool IsReader(int flags) {
  int acc = flags & O_ACCMODE;
  return acc == O_RDONLY || acc == O_RDWR;
}
bool IsWriter(int flags) {
  int acc = flags & O_ACCMODE;
  return acc == O_WRONLY || acc == O_RDWR;
}

}  // namespace

Pipe::Pipe(std::shared_ptr<AnonInode> inode) : inode_(std::move(inode)) {}

std::pair<std::shared_ptr<PipeFile>, std::shared_ptr<PipeFile>> Pipe::Create(
    uid_t uid, gid_t gid, int flags) {
  auto pipe = std::make_shared<Pipe>(NewPipeInode(uid, gid));
  int status = flags & (O_NONBLOCK | O_DIRECT);
  return {pipe->OpenEnd(O_RDONLY | status), pipe->OpenEnd(O_WRONLY | status)};
}

std::shared_ptr<PipeFile> Pipe::OpenEnd(int flags) {
  return std::make_shared<PipeFile>(shared_from_this(), flags);
}

ErrnoOr<std::shared_ptr<vfs::FileDescription>> Pipe::OpenFifo(int flags) {
  kernel::Task* t = kernel::CurrentTask();
  bool nonblock = flags & O_NONBLOCK;
  switch (flags & O_ACCMODE) {
    case O_RDONLY: {
      uint64_t before = writers_opened();
      auto end = OpenEnd(flags);
      if (nonblock || t == nullptr)
        return std::shared_ptr<vfs::FileDescription>(end);
      // Wait for a writer to arrive (or to be there already).
      SENTRY_RETURN_IF_ERRNO(WaitFor(*t, end->queue(), POLLIN | POLLHUP, [&] {
        return writers_ > 0 || writers_opened_ != before;
      }));
      return std::shared_ptr<vfs::FileDescription>(end);
    }
    case O_WRONLY: {
      uint64_t before;
      {
        absl::MutexLock l(&mu_);
        if (readers_ == 0 && nonblock) return Errno(ENXIO);
        before = readers_opened_;
      }
      auto end = OpenEnd(flags);
      if (nonblock || t == nullptr)
        return std::shared_ptr<vfs::FileDescription>(end);
      SENTRY_RETURN_IF_ERRNO(WaitFor(*t, end->queue(), POLLOUT | POLLERR, [&] {
        return readers_ > 0 || readers_opened_ != before;
      }));
      return std::shared_ptr<vfs::FileDescription>(end);
    }
    case O_RDWR:
      // Linux never blocks an O_RDWR open: the opener is its own peer.
      return std::shared_ptr<vfs::FileDescription>(OpenEnd(flags));
    default:
      return Errno(EINVAL);
  }
}

template <typename Pred>
ErrnoOr<void> Pipe::WaitFor(kernel::Task& t, vfs::WaitQueue* queue,
                            uint32_t events, Pred ready) {
  return t.Wait(queue, events, [&]() {
    absl::MutexLock l(&mu_);
    return ready();
  });
}

size_t Pipe::size() const {
  absl::MutexLock l(&mu_);
  return size_;
}

size_t Pipe::capacity() const {
  absl::MutexLock l(&mu_);
  return capacity_;
}

int Pipe::readers() const {
  absl::MutexLock l(&mu_);
  return readers_;
}

uint64_t Pipe::writers_opened() const {
  absl::MutexLock l(&mu_);
  return writers_opened_;
}

ErrnoOr<size_t> Pipe::SetCapacity(uint64_t size, bool privileged) {
  // Linux's round_pipe_size: at least a page, a power of two of pages.
  if (size > (uint64_t{1} << 31)) return Errno(EINVAL);
  if (size > kPipeMaxSize && !privileged) return Errno(EPERM);
  uint64_t rounded = kPipeBuf;
  while (rounded < size) rounded <<= 1;
  absl::MutexLock l(&mu_);
  if (rounded < size_) return Errno(EBUSY);
  if (rounded != capacity_) {
    std::vector<uint8_t> data(std::max<size_t>(size_, 1));
    CopyOutLocked(std::span<uint8_t>(data.data(), size_), 0);
    ring_.assign(rounded, 0);
    std::memcpy(ring_.data(), data.data(), size_);
    head_ = 0;
    capacity_ = rounded;
    NotifyLocked(kWriteEvents);
  }
  return static_cast<size_t>(rounded);
}

void Pipe::AddEnd(PipeFile* end, bool reader, bool writer) {
  absl::MutexLock l(&mu_);
  if (ring_.empty()) ring_.resize(capacity_);
  ends_.insert(end);
  if (reader) {
    ++readers_;
    ++readers_opened_;
  }
  if (writer) {
    ++writers_;
    ++writers_opened_;
  }
  // Wakes FIFO opens waiting for a peer.
  NotifyLocked(kReadEvents | kWriteEvents | POLLHUP | POLLERR);
}

void Pipe::RemoveEnd(PipeFile* end, bool reader, bool writer) {
  absl::MutexLock l(&mu_);
  ends_.erase(end);
  if (reader) --readers_;
  if (writer) --writers_;
  // Readers see EOF/POLLHUP, writers EPIPE/POLLERR.
  NotifyLocked(kReadEvents | kWriteEvents | POLLHUP | POLLERR);
}

void Pipe::NotifyLocked(uint32_t events) {
  for (PipeFile* end : ends_) end->queue()->Notify(events);
}

size_t Pipe::CopyOutLocked(std::span<uint8_t> dst, size_t skip) const {
  if (skip >= size_) return 0;
  size_t n = std::min(dst.size(), size_ - skip);
  size_t start = (head_ + skip) % capacity_;
  size_t first = std::min(n, capacity_ - start);
  std::memcpy(dst.data(), ring_.data() + start, first);
  std::memcpy(dst.data() + first, ring_.data(), n - first);
  return n;
}

void Pipe::ConsumeLocked(size_t n) {
  n = std::min(n, size_);
  head_ = (head_ + n) % capacity_;
  size_ -= n;
  if (size_ == 0) head_ = 0;
  if (n > 0) NotifyLocked(kWriteEvents);
}

void Pipe::Consume(size_t n) {
  absl::MutexLock l(&mu_);
  ConsumeLocked(n);
}

ErrnoOr<size_t> Pipe::Peek(kernel::Task& t, vfs::WaitQueue* queue,
                           std::span<uint8_t> dst, size_t skip, bool nonblock) {
  if (dst.empty()) return size_t{0};
  for (;;) {
    {
      absl::MutexLock l(&mu_);
      if (size_ > skip) return CopyOutLocked(dst, skip);
      if (writers_ == 0) return size_t{0};
      if (nonblock) return Errno(EAGAIN);
    }
    SENTRY_RETURN_IF_ERRNO(WaitFor(t, queue, kReadEvents | POLLHUP, [&] {
      return size_ > skip || writers_ == 0;
    }));
  }
}

ErrnoOr<size_t> Pipe::Read(kernel::Task& t, vfs::WaitQueue* queue,
                           std::span<uint8_t> dst, bool nonblock) {
  if (dst.empty()) return size_t{0};
  for (;;) {
    {
      absl::MutexLock l(&mu_);
      if (size_ > 0) {
        size_t n = CopyOutLocked(dst, 0);
        ConsumeLocked(n);
        return n;
      }
      if (writers_ == 0) return size_t{0};
      if (nonblock) return Errno(EAGAIN);
    }
    SENTRY_RETURN_IF_ERRNO(WaitFor(t, queue, kReadEvents | POLLHUP,
                                   [&] { return size_ > 0 || writers_ == 0; }));
  }
}

ErrnoOr<size_t> Pipe::Write(kernel::Task& t, vfs::WaitQueue* queue,
                            std::span<const uint8_t> src, bool nonblock) {
  if (src.empty()) return size_t{0};
  const bool atomic = src.size() <= kPipeBuf;
  size_t done = 0;
  for (;;) {
    bool broken = false;
    {
      absl::MutexLock l(&mu_);
      size_t room = capacity_ - size_;
      size_t left = src.size() - done;
      if (readers_ == 0) {
        broken = true;  // SIGPIPE is queued below, outside mu_
      } else if (atomic ? room >= left : room > 0) {
        size_t n = std::min(room, left);
        size_t tail = (head_ + size_) % capacity_;
        size_t first = std::min(n, capacity_ - tail);
        std::memcpy(ring_.data() + tail, src.data() + done, first);
        std::memcpy(ring_.data(), src.data() + done + first, n - first);
        size_ += n;
        done += n;
        NotifyLocked(kReadEvents);
        if (done == src.size()) return done;
        continue;
      } else if (nonblock) {
        return done > 0 ? ErrnoOr<size_t>(done) : Errno(EAGAIN);
      }
    }
    if (broken) {
      // Linux sends SIGPIPE even after a partial write. Queued without
      // mu_, since it notifies the task's signal queue.
      t.QueueThreadSignal(SIGPIPE);
      return done > 0 ? ErrnoOr<size_t>(done) : Errno(EPIPE);
    }
    ErrnoOr<void> w = WaitFor(t, queue, kWriteEvents | POLLERR, [&] {
      size_t room = capacity_ - size_;
      return readers_ == 0 || (atomic ? room >= src.size() - done : room > 0);
    });
    if (!w.ok()) return done > 0 ? ErrnoOr<size_t>(done) : w.error();
  }
}

ErrnoOr<size_t> Pipe::WaitWritable(kernel::Task& t, vfs::WaitQueue* queue,
                                   bool nonblock) {
  for (;;) {
    {
      absl::MutexLock l(&mu_);
      if (readers_ > 0) {
        if (size_ < capacity_) return capacity_ - size_;
        if (nonblock) return Errno(EAGAIN);
      }
    }
    if (readers() == 0) {
      t.QueueThreadSignal(SIGPIPE);
      return Errno(EPIPE);
    }
    SENTRY_RETURN_IF_ERRNO(WaitFor(t, queue, kWriteEvents | POLLERR, [&] {
      return readers_ == 0 || size_ < capacity_;
    }));
  }
}

uint32_t Pipe::Readiness(bool reader, bool writer, uint64_t seen_writers,
                         uint32_t mask) const {
  absl::MutexLock l(&mu_);
  uint32_t r = 0;
  if (reader) {
    if (size_ > 0) r |= kReadEvents;
    if (writers_ == 0 && writers_opened_ != seen_writers) r |= POLLHUP;
  }
  if (writer) {
    // Linux reports POLLOUT when a page-sized slot is free.
    if (capacity_ - size_ >= kPipeBuf) r |= kWriteEvents;
    if (readers_ == 0) r |= POLLERR;
  }
  return r & (mask | POLLHUP | POLLERR);
}

PipeFile::PipeFile(std::shared_ptr<Pipe> pipe, int flags)
    : vfs::FileDescription(flags),
      pipe_(std::move(pipe)),
      reader_(IsReader(flags)),
      writer_(IsWriter(flags)) {
  if (pipe_->inode()) set_inode(pipe_->inode());
  // POLLHUP needs a writer opened after this end (Linux's f_version =
  // w_counter at open): pipe2's read end is made before its write end, and
  // a FIFO reader opened alone sees no hang-up until a writer came and
  // went.
  seen_writers_ = pipe_->writers_opened();
  pipe_->AddEnd(this, reader_, writer_);
}

PipeFile::~PipeFile() { pipe_->RemoveEnd(this, reader_, writer_); }

ErrnoOr<size_t> PipeFile::Read(kernel::Task& t, std::span<uint8_t> dst) {
  if (!reader_) return Errno(EBADF);
  return pipe_->Read(t, &queue_, dst, nonblocking());
}

ErrnoOr<size_t> PipeFile::Write(kernel::Task& t, std::span<const uint8_t> src) {
  if (!writer_) return Errno(EBADF);
  return pipe_->Write(t, &queue_, src, nonblocking());
}

ErrnoOr<uint64_t> PipeFile::Ioctl(kernel::Task& t, uint32_t request,
                                  uint64_t arg) {
  if (request != FIONREAD) return Errno(ENOTTY);
  int n = static_cast<int>(pipe_->size());
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(arg, &n, sizeof(n)));
  return uint64_t{0};
}

ErrnoOr<uint64_t> PipeFile::Fcntl(kernel::Task& t, int cmd, uint64_t arg) {
  switch (cmd) {
    case F_GETPIPE_SZ:
      return static_cast<uint64_t>(pipe_->capacity());
    case F_SETPIPE_SZ: {
      // Linux takes the argument as an unsigned int.
      bool privileged = t.creds().euid == 0;  // CAP_SYS_RESOURCE
      SENTRY_ASSIGN_OR_RETURN(
          size_t n, pipe_->SetCapacity(static_cast<uint32_t>(arg), privileged));
      return static_cast<uint64_t>(n);
    }
    default:
      return Errno(EINVAL);
  }
}

uint32_t PipeFile::Readiness(uint32_t mask) {
  return pipe_->Readiness(reader_, writer_, seen_writers_, mask);
}

void RegisterFifos() {
  vfs::RegisterFifoOpener(
      [](std::shared_ptr<void>& state,
         int flags) -> ErrnoOr<std::shared_ptr<vfs::FileDescription>> {
        // The inode's slot is not locked by its file system: serialise
        // the first open here.
        static absl::Mutex mu(absl::kConstInit);
        std::shared_ptr<Pipe> pipe;
        {
          absl::MutexLock l(&mu);
          if (!state) state = std::make_shared<Pipe>(nullptr);
          pipe = std::static_pointer_cast<Pipe>(state);
        }
        return pipe->OpenFifo(flags);
      });
}

}  // namespace sentry::fs
