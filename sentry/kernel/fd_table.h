// FdTable: the guest's file descriptor numbers. Lowest-free allocation and
// close-on-exec flags as in Linux; dup and fcntl arrive with the VFS.
//
// Lock order: FdTable::mu_ is a leaf.
#ifndef SENTRY_KERNEL_FD_TABLE_H_
#define SENTRY_KERNEL_FD_TABLE_H_

#include <map>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/base/errno_or.h"
#include "sentry/kernel/file.h"

namespace sentry::kernel {

class FdTable {
 public:
  // The file at `fd`, held for the caller (EBADF if none).
  ErrnoOr<std::shared_ptr<File>> Get(int fd) const ABSL_LOCKS_EXCLUDED(mu_);
  // Installs `file` at exactly `fd`, replacing what was there.
  void Set(int fd, std::shared_ptr<File> file, bool cloexec)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Removes `fd`; the file closes when its last holder lets go.
  ErrnoOr<void> Remove(int fd) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    std::shared_ptr<File> file;
    bool cloexec = false;
  };
  mutable absl::Mutex mu_;
  std::map<int, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sentry::kernel

#endif  // SENTRY_KERNEL_FD_TABLE_H_
