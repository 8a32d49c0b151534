// MemoryFile: every byte of guest memory lives in one host memfd that the
// Sentry maps once into its own address space (so copying to and from the
// guest is a bounds-checked memcpy, not a syscall) and that platforms map,
// piece by piece, into stub processes.
//
// The file is sparse: offsets are handed out by a first-fit allocator and
// host pages are only committed when touched; Free() punches them out.
#ifndef SENTRY_MM_MEMORY_FILE_H_
#define SENTRY_MM_MEMORY_FILE_H_

#include <cstdint>
#include <map>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "sentry/base/errno_or.h"
#include "sentry/base/unique_fd.h"

namespace sentry::mm {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t PageDown(uint64_t x) { return x & ~(kPageSize - 1); }
inline constexpr uint64_t PageUp(uint64_t x) {
  return (x + kPageSize - 1) & ~(kPageSize - 1);
}

class MemoryFile {
 public:
  // `size` bounds all guest memory of the sandbox (address space reserved in
  // the Sentry, not memory committed).
  static absl::StatusOr<std::unique_ptr<MemoryFile>> Create(
      uint64_t size = kDefaultSize);
  ~MemoryFile();

  static constexpr uint64_t kDefaultSize = 1ULL << 40;

  int fd() const { return fd_.get(); }
  uint64_t size() const { return size_; }

  // Reserves `length` (page-aligned) bytes of zeroed file space. ENOMEM when
  // the file is exhausted.
  ErrnoOr<uint64_t> Allocate(uint64_t length) ABSL_LOCKS_EXCLUDED(mu_);
  // Returns [offset, offset+length) to the allocator and its pages to the
  // host. Any page-aligned sub-range of an allocation may be freed.
  void Free(uint64_t offset, uint64_t length) ABSL_LOCKS_EXCLUDED(mu_);
  // Zeroes a page-aligned range (and returns its memory to the host)
  // without freeing it.
  void Zero(uint64_t offset, uint64_t length);
  // Bytes currently allocated (for /proc/meminfo): an upper bound on what
  // the sandbox uses, since allocated pages are only backed once touched.
  uint64_t AllocatedBytes() const ABSL_LOCKS_EXCLUDED(mu_);

  // The Sentry's own view of file offset `offset`.
  uint8_t* Access(uint64_t offset) const { return base_ + offset; }

 private:
  MemoryFile(UniqueFd fd, uint8_t* base, uint64_t size);

  UniqueFd fd_;
  uint8_t* const base_;
  const uint64_t size_;
  mutable absl::Mutex mu_;
  // Free extents: offset → length, never adjacent (merged on Free).
  std::map<uint64_t, uint64_t> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sentry::mm

#endif  // SENTRY_MM_MEMORY_FILE_H_
