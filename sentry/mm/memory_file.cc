#include "sentry/mm/memory_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "sentry/base/log.h"

namespace sentry::mm {

absl::StatusOr<std::unique_ptr<MemoryFile>> MemoryFile::Create(uint64_t size) {
  UniqueFd fd(memfd_create("sentry-memory", MFD_CLOEXEC));
  if (!fd) return absl::ErrnoToStatus(errno, "memfd_create");
  if (ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
    return absl::ErrnoToStatus(errno, "sizing the MemoryFile");
  }
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_NORESERVE, fd.get(), 0);
  if (base == MAP_FAILED) {
    return absl::ErrnoToStatus(errno, "mapping the MemoryFile");
  }
  return std::unique_ptr<MemoryFile>(
      new MemoryFile(std::move(fd), static_cast<uint8_t*>(base), size));
}

MemoryFile::MemoryFile(UniqueFd fd, uint8_t* base, uint64_t size)
    : fd_(std::move(fd)), base_(base), size_(size) {
  free_[0] = size;
}

MemoryFile::~MemoryFile() { munmap(base_, size_); }

ErrnoOr<uint64_t> MemoryFile::Allocate(uint64_t length) {
  if (length == 0 || length % kPageSize != 0) return Errno(EINVAL);
  absl::MutexLock lock(&mu_);
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < length) continue;
    uint64_t offset = it->first;
    uint64_t rest = it->second - length;
    free_.erase(it);
    if (rest > 0) free_[offset + length] = rest;
    return offset;
  }
  return Errno(ENOMEM);
}

uint64_t MemoryFile::AllocatedBytes() const {
  absl::MutexLock l(&mu_);
  uint64_t free = 0;
  for (const auto& [off, len] : free_) free += len;
  return size_ - free;
}

void MemoryFile::Zero(uint64_t offset, uint64_t length) {
  if (length == 0) return;
  // Punching gives the pages back to the host; they read as zeros.
  if (fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                static_cast<off_t>(offset), static_cast<off_t>(length)) != 0) {
    // Without punching, the pages must be zeroed by hand.
    SENTRY_LOG(kWarning, "fallocate(PUNCH_HOLE) failed: %s; zeroing",
               strerror(errno));
    memset(base_ + offset, 0, length);
  }
}

void MemoryFile::Free(uint64_t offset, uint64_t length) {
  if (length == 0) return;
  // A freed range reads as zeros when it is handed out again.
  Zero(offset, length);
  absl::MutexLock lock(&mu_);
  auto next = free_.lower_bound(offset);
  if (next != free_.end() && offset + length == next->first) {
    length += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == offset) {
      prev->second += length;
      return;
    }
  }
  free_[offset] = length;
}

}  // namespace sentry::mm
