// FileDescription: an open file description (Linux's struct file): the
// object an FD refers to, shared by dup'd FDs and across fork, holding the
// offset and the status flags.
//
// I/O takes Sentry-side buffers; the syscall layer moves bytes between them
// and guest memory (after checking the guest range, so a bad pointer loses
// no data). Blocking implementations wait through the Task, which keeps
// every wait interruptible by signals.
//
// Lock order: FileDescription::offset_mu_ before any lock of the file
// system it calls into.
#ifndef SENTRY_VFS_FILE_DESCRIPTION_H_
#define SENTRY_VFS_FILE_DESCRIPTION_H_

#include <fcntl.h>
#include <poll.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/base/errno_or.h"
#include "sentry/vfs/dentry.h"
#include "sentry/vfs/inode.h"
#include "sentry/vfs/wait_queue.h"

namespace sentry::kernel {
class Task;
}

namespace sentry::vfs {

// Pages of a file that a MAP_SHARED mapping can map directly: the
// MemoryFile offset of the mapped file offset, and a reference that keeps
// the pages allocated while mapped.
struct SharedFilePages {
  uint64_t memory_offset = 0;
  std::shared_ptr<void> owner;
};

class FileDescription : public std::enable_shared_from_this<FileDescription> {
 public:
  // `flags`: open(2)'s flags; the access mode and status flags are kept.
  explicit FileDescription(int flags);
  virtual ~FileDescription();

  FileDescription(const FileDescription&) = delete;
  FileDescription& operator=(const FileDescription&) = delete;

  // Access mode plus status flags (F_GETFL).
  int flags() const ABSL_LOCKS_EXCLUDED(flags_mu_);
  // F_SETFL: only O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME change.
  virtual ErrnoOr<void> SetStatusFlags(int flags)
      ABSL_LOCKS_EXCLUDED(flags_mu_);
  bool readable() const;
  bool writable() const;
  bool nonblocking() const { return flags() & O_NONBLOCK; }

  // Where the file was opened: for /proc/self/fd, fchdir, *at(fd, ...).
  // Anonymous files (pipes, eventfds) have a Path on an internal mount.
  const Path& path() const { return path_; }
  void set_path(Path p) { path_ = std::move(p); }
  // The inode: the path's, or one set for anonymous files.
  Inode* inode() const;
  void set_inode(std::shared_ptr<Inode> inode) { inode_ = std::move(inode); }

  // read(2)/write(2) at and advancing the file offset (or streaming).
  virtual ErrnoOr<size_t> Read(kernel::Task& t, std::span<uint8_t> dst);
  virtual ErrnoOr<size_t> Write(kernel::Task& t, std::span<const uint8_t> src);
  // pread64/pwrite64: ESPIPE unless the file is seekable.
  virtual ErrnoOr<size_t> PRead(kernel::Task& t, std::span<uint8_t> dst,
                                uint64_t offset);
  virtual ErrnoOr<size_t> PWrite(kernel::Task& t, std::span<const uint8_t> src,
                                 uint64_t offset);
  // lseek(2). The default suits regular files and directories.
  virtual ErrnoOr<uint64_t> Seek(int64_t offset, int whence);
  virtual bool seekable() const { return false; }

  virtual ErrnoOr<struct stat> Stat();
  virtual ErrnoOr<uint64_t> Ioctl(kernel::Task& t, uint32_t request,
                                  uint64_t arg);
  // fcntl commands that belong to the file type (F_GETPIPE_SZ,
  // F_SETPIPE_SZ, F_ADD_SEALS, F_GET_SEALS); EINVAL elsewhere.
  virtual ErrnoOr<uint64_t> Fcntl(kernel::Task&, int cmd, uint64_t) {
    // Pipe commands on a non-pipe are EBADF, seals on a file that cannot
    // have them EINVAL.
    return Errno(cmd == F_GETPIPE_SZ || cmd == F_SETPIPE_SZ ? EBADF : EINVAL);
  }
  // May the file be mapped with `prot` (MAP_SHARED if `shared`)? memfd
  // seals say no to shared writable mappings.
  virtual ErrnoOr<void> CheckMmap(int /*prot*/, bool /*shared*/) { return {}; }
  // For MAP_SHARED: the file's own pages for [offset, offset + length)
  // (both page aligned), if the file keeps its data in MemoryFile pages
  // and can lay them out contiguously; otherwise the mapping is a copy.
  virtual std::optional<SharedFilePages> MapSharedPages(uint64_t /*offset*/,
                                                        uint64_t /*length*/) {
    return std::nullopt;
  }
  virtual ErrnoOr<void> Truncate(uint64_t) { return Errno(EINVAL); }
  virtual ErrnoOr<void> Allocate(int /*mode*/, uint64_t, uint64_t) {
    return Errno(EOPNOTSUPP);
  }
  // fsync(2): regular files and directories sync (nothing to do for
  // sandbox memory); pipes, sockets and devices are EINVAL, as on Linux.
  virtual ErrnoOr<void> Sync();

  // The directory listing for getdents64, "." and ".." first; entries are
  // addressed by index, which is what the file offset counts.
  virtual ErrnoOr<std::vector<DirEntry>> ReadDir();
  // getdents64(2): fills `buf` with linux_dirent64 records from the file
  // offset on. EINVAL if not even one record fits.
  ErrnoOr<size_t> Getdents64(std::span<uint8_t> buf)
      ABSL_LOCKS_EXCLUDED(offset_mu_);

  // poll: the subset of `mask` (POLL*) that is ready now, and the queue
  // notified when that may change (null: readiness never changes).
  virtual uint32_t Readiness(uint32_t mask) {
    return mask & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
  }
  virtual WaitQueue* wait_queue() { return nullptr; }

  // A host FD that holds the data, if any (Gofer-donated files, stdio).
  virtual int host_fd() const { return -1; }

  // The file offset; callers of Read/Write hold it through the methods.
  uint64_t offset() const ABSL_LOCKS_EXCLUDED(offset_mu_);
  void set_offset(uint64_t o) ABSL_LOCKS_EXCLUDED(offset_mu_);

 protected:
  absl::Mutex offset_mu_;
  uint64_t offset_ ABSL_GUARDED_BY(offset_mu_) = 0;

 private:
  mutable absl::Mutex flags_mu_;
  int flags_ ABSL_GUARDED_BY(flags_mu_);
  Path path_;
  std::shared_ptr<Inode> inode_;
  // Snapshot of the directory for getdents, taken at offset 0.
  std::vector<DirEntry> dir_snapshot_ ABSL_GUARDED_BY(offset_mu_);
};

}  // namespace sentry::vfs

#endif  // SENTRY_VFS_FILE_DESCRIPTION_H_
