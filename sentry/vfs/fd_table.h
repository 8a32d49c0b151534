// FdTable: a process's file descriptor numbers (Linux's files_struct):
// lowest-free allocation bounded by RLIMIT_NOFILE, close-on-exec flags,
// dup2/dup3 replacement, close_range.
//
// Files are released outside the table's lock: closing the last reference
// can call into a file system (a Gofer round trip, a pipe wake-up).
//
// Lock order: FdTable::mu_ is a leaf.
#ifndef SENTRY_VFS_FD_TABLE_H_
#define SENTRY_VFS_FD_TABLE_H_

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/base/errno_or.h"
#include "sentry/vfs/file_description.h"

namespace sentry::vfs {

class FdTable {
 public:
  using FilePtr = std::shared_ptr<FileDescription>;

  // The file at `fd`, held for the caller (EBADF if none).
  ErrnoOr<FilePtr> Get(int fd) const ABSL_LOCKS_EXCLUDED(mu_);
  // Installs `file` at the lowest free number >= `min_fd`; EMFILE if that
  // would be >= `limit` (RLIMIT_NOFILE), EINVAL if min_fd >= limit.
  ErrnoOr<int> Install(FilePtr file, bool cloexec, int min_fd, uint64_t limit)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Installs `file` at exactly `fd` (dup2/dup3), replacing what was there;
  // EBADF if fd >= limit.
  ErrnoOr<void> InstallAt(int fd, FilePtr file, bool cloexec, uint64_t limit)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Removes `fd` (close).
  ErrnoOr<void> Remove(int fd) ABSL_LOCKS_EXCLUDED(mu_);
  ErrnoOr<bool> GetCloexec(int fd) const ABSL_LOCKS_EXCLUDED(mu_);
  ErrnoOr<void> SetCloexec(int fd, bool cloexec) ABSL_LOCKS_EXCLUDED(mu_);
  // close_range(2): closes (or with `cloexec_only` marks) [first, last].
  void CloseRange(unsigned first, unsigned last, bool cloexec_only)
      ABSL_LOCKS_EXCLUDED(mu_);
  // execve: closes every close-on-exec FD.
  void CloseOnExec() ABSL_LOCKS_EXCLUDED(mu_);
  // Every FD with its file, in order (for /proc/[pid]/fd).
  std::vector<std::pair<int, FilePtr>> All() const ABSL_LOCKS_EXCLUDED(mu_);
  // A copy for fork without CLONE_FILES.
  std::shared_ptr<FdTable> Clone() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    FilePtr file;
    bool cloexec = false;
  };
  mutable absl::Mutex mu_;
  std::map<int, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sentry::vfs

#endif  // SENTRY_VFS_FD_TABLE_H_
