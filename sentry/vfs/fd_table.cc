#include "sentry/vfs/fd_table.h"

#include <climits>

namespace sentry::vfs {

ErrnoOr<FdTable::FilePtr> FdTable::Get(int fd) const {
  absl::MutexLock l(&mu_);
  auto it = entries_.find(fd);
  if (it == entries_.end()) return Errno(EBADF);
  return it->second.file;
}

ErrnoOr<int> FdTable::Install(FilePtr file, bool cloexec, int min_fd,
                              uint64_t limit) {
  if (min_fd < 0 || static_cast<uint64_t>(min_fd) >= limit) {
    return Errno(min_fd < 0 ? EINVAL : EMFILE);
  }
  absl::MutexLock l(&mu_);
  int fd = min_fd;
  for (auto it = entries_.lower_bound(min_fd);
       it != entries_.end() && it->first == fd; ++it) {
    ++fd;
  }
  if (static_cast<uint64_t>(fd) >= limit || fd == INT_MAX) {
    return Errno(EMFILE);
  }
  entries_[fd] = Entry{std::move(file), cloexec};
  return fd;
}

ErrnoOr<void> FdTable::InstallAt(int fd, FilePtr file, bool cloexec,
                                 uint64_t limit) {
  if (fd < 0 || static_cast<uint64_t>(fd) >= limit) return Errno(EBADF);
  FilePtr old;
  {
    absl::MutexLock l(&mu_);
    Entry& e = entries_[fd];
    old = std::move(e.file);
    e = Entry{std::move(file), cloexec};
  }
  return {};  // `old` is released here, outside the lock
}

ErrnoOr<void> FdTable::Remove(int fd) {
  FilePtr old;
  {
    absl::MutexLock l(&mu_);
    auto it = entries_.find(fd);
    if (it == entries_.end()) return Errno(EBADF);
    old = std::move(it->second.file);
    entries_.erase(it);
  }
  return {};
}

ErrnoOr<bool> FdTable::GetCloexec(int fd) const {
  absl::MutexLock l(&mu_);
  auto it = entries_.find(fd);
  if (it == entries_.end()) return Errno(EBADF);
  return it->second.cloexec;
}

ErrnoOr<void> FdTable::SetCloexec(int fd, bool cloexec) {
  absl::MutexLock l(&mu_);
  auto it = entries_.find(fd);
  if (it == entries_.end()) return Errno(EBADF);
  it->second.cloexec = cloexec;
  return {};
}

void FdTable::CloseRange(unsigned first, unsigned last, bool cloexec_only) {
  std::vector<FilePtr> closed;
  {
    absl::MutexLock l(&mu_);
    int lo = first > INT_MAX ? INT_MAX : static_cast<int>(first);
    for (auto it = entries_.lower_bound(lo); it != entries_.end();) {
      if (static_cast<unsigned>(it->first) > last) break;
      if (cloexec_only) {
        it->second.cloexec = true;
        ++it;
      } else {
        closed.push_back(std::move(it->second.file));
        it = entries_.erase(it);
      }
    }
  }
}

void FdTable::CloseOnExec() {
  std::vector<FilePtr> closed;  // released after the lock
  absl::MutexLock l(&mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.cloexec) {
      closed.push_back(std::move(it->second.file));
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<std::pair<int, FdTable::FilePtr>> FdTable::All() const {
  absl::MutexLock l(&mu_);
  std::vector<std::pair<int, FilePtr>> out;
  for (const auto& [fd, e] : entries_) out.emplace_back(fd, e.file);
  return out;
}

std::shared_ptr<FdTable> FdTable::Clone() const {
  auto copy = std::make_shared<FdTable>();
  absl::MutexLock l(&mu_);
  absl::MutexLock l2(&copy->mu_);
  copy->entries_ = entries_;
  return copy;
}

}  // namespace sentry::vfs
