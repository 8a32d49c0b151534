#include "sentry/kernel/fd_table.h"

#include <errno.h>

namespace sentry::kernel {

ErrnoOr<std::shared_ptr<File>> FdTable::Get(int fd) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = entries_.find(fd);
  if (it == entries_.end()) return Errno(EBADF);
  return it->second.file;
}

void FdTable::Set(int fd, std::shared_ptr<File> file, bool cloexec) {
  absl::MutexLock lock(&mu_);
  entries_[fd] = Entry{std::move(file), cloexec};
}

ErrnoOr<void> FdTable::Remove(int fd) {
  std::shared_ptr<File> dropped;  // released after the lock
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(fd);
  if (it == entries_.end()) return Errno(EBADF);
  dropped = std::move(it->second.file);
  entries_.erase(it);
  return {};
}

}  // namespace sentry::kernel
