// Pipes and FIFOs (Linux's fs/pipe.c), implemented in the Sentry: the data
// sits in a Sentry-side ring buffer, readers and writers block through
// Task::Wait, and nothing reaches the host.
//
// Semantics follow pipe(7): 64 KiB default capacity (F_SETPIPE_SZ changes
// it, rounded up to a power-of-two number of pages, up to
// /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE); writes of at most
// PIPE_BUF bytes are atomic; EOF when no writer is left; EPIPE and SIGPIPE
// when no reader is left; EAGAIN instead of blocking for O_NONBLOCK.
//
// How this differs from Linux: the buffer is counted in bytes, not in
// page-sized slots, so a pipe full of 1-byte writes holds as many bytes as
// one full of page-sized writes (Linux merges small writes too, so this
// only shows with O_DIRECT "packet mode", which we accept but do not
// honour: reads are never split at write boundaries). The buffer lives in
// the Sentry's heap rather than in MemoryFile pages.
//
// Each open end owns its WaitQueue (the pipe notifies every end's queue),
// so a queue never outlives its FileDescription; epoll relies on that.
//
// Lock order: Pipe::mu_ before WaitQueue::mu_ (notifications are sent with
// mu_ held, and waiters never take mu_ from Wake()).
#ifndef SENTRY_FS_PIPE_H_
#define SENTRY_FS_PIPE_H_

#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/base/errno_or.h"
#include "sentry/fs/anon_inode.h"
#include "sentry/vfs/file_description.h"
#include "sentry/vfs/wait_queue.h"

namespace sentry::fs {

inline constexpr size_t kPipeBuf = 4096;  // PIPE_BUF
inline constexpr size_t kDefaultPipeCapacity = 65536;
// /proc/sys/fs/pipe-max-size.
inline constexpr size_t kPipeMaxSize = 1048576;

class PipeFile;

class Pipe : public std::enable_shared_from_this<Pipe> {
 public:
  // `inode`: the pipefs inode for anonymous pipes; null for FIFOs, whose
  // ends take their inode from the path they were opened through.
  explicit Pipe(std::shared_ptr<AnonInode> inode);

  // pipe2(2): a read end and a write end. `flags`: O_NONBLOCK, O_DIRECT.
  static std::pair<std::shared_ptr<PipeFile>, std::shared_ptr<PipeFile>> Create(
      uid_t uid, gid_t gid, int flags);

  // Opens another end of this pipe with open(2)'s access mode, without
  // FIFO blocking (/proc/self/fd/N re-opens, O_RDWR FIFO opens).
  std::shared_ptr<PipeFile> OpenEnd(int flags);

  // open(2) of a FIFO: O_RDONLY waits for a writer and O_WRONLY for a
  // reader unless O_NONBLOCK (then O_WRONLY without readers is ENXIO).
  // Waits through the calling task (kernel::CurrentTask()); with no task
  // (unit tests) it does not wait.
  ErrnoOr<std::shared_ptr<vfs::FileDescription>> OpenFifo(int flags);

  const std::shared_ptr<AnonInode>& inode() const { return inode_; }

  // Bytes in the buffer and the capacity.
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t capacity() const ABSL_LOCKS_EXCLUDED(mu_);
  // F_SETPIPE_SZ: returns the new (rounded) capacity; EBUSY if the data
  // would not fit, EPERM above kPipeMaxSize without `privileged`.
  ErrnoOr<size_t> SetCapacity(uint64_t size, bool privileged)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Reads what is there (up to dst.size()), blocking while the pipe is
  // empty and has writers. `queue`: the calling end's queue.
  ErrnoOr<size_t> Read(kernel::Task& t, vfs::WaitQueue* queue,
                       std::span<uint8_t> dst, bool nonblock)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Copies up to dst.size() bytes from offset `skip` without consuming
  // (tee, splice to a file). Same blocking rules as Read.
  ErrnoOr<size_t> Peek(kernel::Task& t, vfs::WaitQueue* queue,
                       std::span<uint8_t> dst, size_t skip, bool nonblock)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Drops the first `n` bytes after a Peek.
  void Consume(size_t n) ABSL_LOCKS_EXCLUDED(mu_);
  // Writes all of `src` (or what fits, for O_NONBLOCK), with PIPE_BUF
  // atomicity; EPIPE and SIGPIPE to `t` without readers.
  ErrnoOr<size_t> Write(kernel::Task& t, vfs::WaitQueue* queue,
                        std::span<const uint8_t> src, bool nonblock)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Blocks until at least one byte of room (splice into a pipe); returns
  // the free space. EPIPE (with SIGPIPE) without readers.
  ErrnoOr<size_t> WaitWritable(kernel::Task& t, vfs::WaitQueue* queue,
                               bool nonblock) ABSL_LOCKS_EXCLUDED(mu_);

  // poll bits for an end that reads and/or writes; `seen_writers` is the
  // writer count at the end's open (POLLHUP needs a writer to have come
  // and gone, as Linux's f_version check).
  uint32_t Readiness(bool reader, bool writer, uint64_t seen_writers,
                     uint32_t mask) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class PipeFile;
  void AddEnd(PipeFile* end, bool reader, bool writer) ABSL_LOCKS_EXCLUDED(mu_);
  void RemoveEnd(PipeFile* end, bool reader, bool writer)
      ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t writers_opened() const ABSL_LOCKS_EXCLUDED(mu_);
  int readers() const ABSL_LOCKS_EXCLUDED(mu_);
  void NotifyLocked(uint32_t events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  size_t CopyOutLocked(std::span<uint8_t> dst, size_t skip) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ConsumeLocked(size_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits (outside mu_) until `ready` holds.
  template <typename Pred>
  ErrnoOr<void> WaitFor(kernel::Task& t, vfs::WaitQueue* queue, uint32_t events,
                        Pred ready) ABSL_LOCKS_EXCLUDED(mu_);

  const std::shared_ptr<AnonInode> inode_;
  mutable absl::Mutex mu_;
  std::vector<uint8_t> ring_ ABSL_GUARDED_BY(mu_);
  size_t head_ ABSL_GUARDED_BY(mu_) = 0;
  size_t size_ ABSL_GUARDED_BY(mu_) = 0;
  size_t capacity_ ABSL_GUARDED_BY(mu_) = kDefaultPipeCapacity;
  int readers_ ABSL_GUARDED_BY(mu_) = 0;
  int writers_ ABSL_GUARDED_BY(mu_) = 0;
  // Ends ever opened for reading/writing (Linux's r_counter/w_counter):
  // FIFO opens wait for these to move.
  uint64_t readers_opened_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t writers_opened_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<PipeFile*> ends_ ABSL_GUARDED_BY(mu_);
};

// One open end of a pipe or FIFO.
class PipeFile final : public vfs::FileDescription {
 public:
  PipeFile(std::shared_ptr<Pipe> pipe, int flags);
  ~PipeFile() override;

  Pipe& pipe() { return *pipe_; }
  vfs::WaitQueue* queue() { return &queue_; }

  ErrnoOr<size_t> Read(kernel::Task& t, std::span<uint8_t> dst) override;
  ErrnoOr<size_t> Write(kernel::Task& t, std::span<const uint8_t> src) override;
  ErrnoOr<uint64_t> Ioctl(kernel::Task& t, uint32_t request,
                          uint64_t arg) override;
  ErrnoOr<uint64_t> Fcntl(kernel::Task& t, int cmd, uint64_t arg) override;
  uint32_t Readiness(uint32_t mask) override;
  vfs::WaitQueue* wait_queue() override { return &queue_; }

 private:
  const std::shared_ptr<Pipe> pipe_;
  const bool reader_, writer_;
  uint64_t seen_writers_ = 0;
  vfs::WaitQueue queue_;
};

// Makes FIFOs on every file system open as pipes (vfs::RegisterFifoOpener).
// Idempotent.
void RegisterFifos();

}  // namespace sentry::fs

#endif  // SENTRY_FS_PIPE_H_
