// MemoryManager: one guest address space as the Sentry sees it. It owns the
// VMAs, keeps the platform's AddressSpace in step with them, and is the only
// way the Sentry reads or writes guest memory.
//
// Every mapping is backed by MemoryFile pages and installed in the stub
// eagerly, as a MAP_SHARED mapping with the guest's protection; the host
// kernel then enforces protection for guest code, and CopyIn/CopyOut check
// the same protection for the Sentry's accesses (EFAULT, as Linux's
// copy_from_user/copy_to_user do).
//
// How this differs from Linux: MAP_SHARED and MAP_PRIVATE anonymous memory
// behave alike until processes can fork (copy-on-write comes with fork);
// there is no stack auto-growth yet (the initial stack is mapped at its full
// RLIMIT_STACK size).
//
// Lock order: MemoryManager::mu_ before MemoryFile::mu_.
#ifndef SENTRY_MM_MEMORY_MANAGER_H_
#define SENTRY_MM_MEMORY_MANAGER_H_

#include <sys/mman.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "platform/platform.h"
#include "sentry/base/errno_or.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/vma_set.h"

namespace sentry::mm {

// An rlimit that is not set (RLIM_INFINITY).
inline constexpr uint64_t kNoLimit = ~uint64_t{0};

struct MmapRequest {
  uint64_t addr = 0;    // hint, or the exact address with `fixed`
  uint64_t length = 0;  // bytes; rounded up to pages
  int prot = 0;
  bool shared = false;
  bool fixed = false;       // MAP_FIXED: replace what is there
  bool noreplace = false;   // MAP_FIXED_NOREPLACE: EEXIST if occupied
  bool below_2g = false;    // MAP_32BIT
  bool grows_down = false;  // MAP_GROWSDOWN
  std::string name;
  // Map these existing pages (a shared file's) instead of new ones; the
  // owner keeps them allocated while any area maps them.
  std::optional<uint64_t> backing_offset;
  std::shared_ptr<void> backing_owner;
  // For a file mapping: what /proc/[pid]/maps shows, and whether a
  // shared mapping may be made writable.
  bool file_backed = false;
  uint64_t file_offset = 0;
  uint64_t file_dev = 0;
  uint64_t file_ino = 0;
  bool may_write = true;
  // RLIMIT_AS: ENOMEM if the address space would grow beyond this many
  // bytes (what MAP_FIXED replaces does not count twice).
  uint64_t as_limit = kNoLimit;
};

// A range of kernel-owned MemoryFile pages to map (MapKernelPages).
struct KernelPages {
  uint64_t offset = 0;  // page aligned
  uint64_t length = 0;  // page aligned
  int prot = PROT_READ;
  std::string name;
};

// A copy of an address space's memory made by fork, waiting to be mapped
// into the child's address space (which only the child's host thread can
// do). Frees its MemoryFile ranges unless adopted.
class ForkedMemory {
 public:
  ForkedMemory(MemoryFile& memory) : memory_(&memory) {}
  ForkedMemory(ForkedMemory&& o) noexcept;
  ForkedMemory& operator=(ForkedMemory&&) = delete;
  ~ForkedMemory();

 private:
  friend class MemoryManager;
  MemoryFile* memory_;
  std::vector<Vma> vmas;
  uint64_t mmap_top = 0, brk_start = 0, brk = 0;
  bool adopted = false;
};

class MemoryManager {
 public:
  // `mmap_top`: anonymous mappings without a usable hint are placed top-down
  // below it.
  MemoryManager(MemoryFile& memory, platform::AddressSpace& as,
                uint64_t min_addr, uint64_t max_addr);
  ~MemoryManager();

  MemoryManager(const MemoryManager&) = delete;
  MemoryManager& operator=(const MemoryManager&) = delete;

  void set_mmap_top(uint64_t top) ABSL_LOCKS_EXCLUDED(mu_);
  // Sets the start (and current end) of the heap; called by the loader.
  void set_brk_start(uint64_t start) ABSL_LOCKS_EXCLUDED(mu_);

  // mmap(2) for anonymous memory; returns the address.
  ErrnoOr<uint64_t> Map(const MmapRequest& req) ABSL_LOCKS_EXCLUDED(mu_);
  // Maps `pieces` of kernel-owned MemoryFile pages (the vDSO's [vvar] and
  // [vdso]) next to each other below the mmap base; returns the address of
  // the first. See Vma::kernel_owned.
  ErrnoOr<uint64_t> MapKernelPages(std::span<const KernelPages> pieces)
      ABSL_LOCKS_EXCLUDED(mu_);
  // A fault at `addr` just below a MAP_GROWSDOWN area extends the area
  // down to addr's page (Linux's expand_stack), if the growth keeps a
  // guard gap above whatever lies below and the area within `limit` bytes
  // (RLIMIT_STACK). True if it grew: the faulting access can be retried.
  bool GrowDown(uint64_t addr, uint64_t limit) ABSL_LOCKS_EXCLUDED(mu_);
  // munmap(2); addr page-aligned, length non-zero.
  ErrnoOr<void> Unmap(uint64_t addr, uint64_t length) ABSL_LOCKS_EXCLUDED(mu_);
  // mremap(2) (MREMAP_MAYMOVE, MREMAP_FIXED). Growing in place maps fresh
  // pages after the area; moving copies the contents to a new area.
  // `as_limit`: RLIMIT_AS, as for Map.
  ErrnoOr<uint64_t> Remap(uint64_t old_addr, uint64_t old_size,
                          uint64_t new_size, int flags, uint64_t new_addr,
                          uint64_t as_limit = kNoLimit)
      ABSL_LOCKS_EXCLUDED(mu_);
  // mprotect(2); ENOMEM if part of the range is unmapped.
  ErrnoOr<void> Protect(uint64_t addr, uint64_t length, int prot)
      ABSL_LOCKS_EXCLUDED(mu_);
  // brk(2): returns the new break, or the old one if the request fails,
  // also when the address space would exceed `as_limit` (RLIMIT_AS) or
  // the heap `data_limit` bytes (RLIMIT_DATA). How we differ from Linux:
  // RLIMIT_DATA counts the heap only, not the program's data segment.
  uint64_t Brk(uint64_t addr, uint64_t as_limit = kNoLimit,
               uint64_t data_limit = kNoLimit) ABSL_LOCKS_EXCLUDED(mu_);

  // Copies between the Sentry and the guest. The whole range must be mapped
  // with PROT_READ (in) or PROT_WRITE (out), else EFAULT and, for the
  // Partial variants, the number of bytes copied before the first bad page.
  ErrnoOr<void> CopyIn(uint64_t addr, void* dst, size_t length) const
      ABSL_LOCKS_EXCLUDED(mu_);
  ErrnoOr<void> CopyOut(uint64_t addr, const void* src, size_t length) const
      ABSL_LOCKS_EXCLUDED(mu_);
  size_t CopyInPartial(uint64_t addr, void* dst, size_t length) const
      ABSL_LOCKS_EXCLUDED(mu_);
  size_t CopyOutPartial(uint64_t addr, const void* src, size_t length) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // How many bytes from `addr` on the guest could write: lets read(2)
  // bound a transfer before taking data from a source that cannot give it
  // back (a pipe, a socket), without touching the guest's buffer.
  size_t WritableLength(uint64_t addr, size_t length) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Reads a NUL-terminated string of at most `max_length` bytes (without the
  // NUL): EFAULT on a bad page, ENAMETOOLONG if no NUL is found in time.
  ErrnoOr<std::string> CopyInString(uint64_t addr, size_t max_length) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Writes regardless of protection (the loader filling read-only text).
  ErrnoOr<void> Poke(uint64_t addr, const void* src, size_t length)
      ABSL_LOCKS_EXCLUDED(mu_);

  std::vector<Vma> Areas() const ABSL_LOCKS_EXCLUDED(mu_);
  // True if areas cover [addr, addr + PageUp(length)) with no hole
  // (msync, mincore: ENOMEM otherwise).
  bool IsMapped(uint64_t addr, uint64_t length) const ABSL_LOCKS_EXCLUDED(mu_);
  // The MemoryFile offset behind `addr` if it lies in memory shared between
  // processes (MAP_SHARED anonymous, the vDSO): shared futexes key on it.
  std::optional<uint64_t> SharedOffset(uint64_t addr) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // madvise(MADV_DONTNEED): the range's pages read as zero again (their
  // MemoryFile pages are released). ENOMEM if part is unmapped.
  ErrnoOr<void> ZeroRange(uint64_t addr, uint64_t length,
                          bool shared_too = false) ABSL_LOCKS_EXCLUDED(mu_);
  // Whether any / every area in the range is shared (MAP_SHARED or a
  // shared file mapping), and whether the area at `addr` is MAP_GROWSDOWN.
  bool AnySharedIn(uint64_t addr, uint64_t length) const
      ABSL_LOCKS_EXCLUDED(mu_);
  bool AllSharedIn(uint64_t addr, uint64_t length) const
      ABSL_LOCKS_EXCLUDED(mu_);
  bool GrowsDown(uint64_t addr) const ABSL_LOCKS_EXCLUDED(mu_);

  // fork(2): copies every private area's memory into fresh MemoryFile
  // ranges (only the populated parts: holes stay holes); shared areas keep
  // their pages. How this differs from Linux: the copy is eager, not
  // copy-on-write.
  ErrnoOr<ForkedMemory> CopyForFork() const ABSL_LOCKS_EXCLUDED(mu_);
  // The child's half: a MemoryManager over `as` with the copied areas
  // mapped in. Must run on the thread that drives `as`.
  static ErrnoOr<std::unique_ptr<MemoryManager>> FromFork(
      MemoryFile& memory, platform::AddressSpace& as, uint64_t min_addr,
      uint64_t max_addr, ForkedMemory forked);
  uint64_t min_addr() const { return min_addr_; }
  uint64_t max_addr() const { return max_addr_; }

 private:
  enum class Access { kRead, kWrite, kAny };
  // Walks [addr, addr+length) in per-area chunks; stops at the first
  // unmapped or unpermitted byte. Returns the bytes visited.
  template <typename Fn>
  size_t Walk(uint64_t addr, size_t length, Access access, Fn&& fn) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  ErrnoOr<void> UnmapLocked(uint64_t addr, uint64_t length)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Frees an area's pages unless the kernel owns them.
  void Release(const Vma& vma) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Would mapping `length` bytes at `addr` (replacing what is there) take
  // the address space beyond `limit` bytes?
  bool ExceedsLimitLocked(uint64_t addr, uint64_t length, uint64_t limit) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ErrnoOr<uint64_t> MapLocked(const MmapRequest& req)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  MemoryFile& memory_;
  platform::AddressSpace& as_;
  const uint64_t min_addr_;
  const uint64_t max_addr_;

  mutable absl::Mutex mu_;
  VmaSet vmas_ ABSL_GUARDED_BY(mu_);
  uint64_t mmap_top_ ABSL_GUARDED_BY(mu_);
  uint64_t brk_start_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t brk_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sentry::mm

#endif  // SENTRY_MM_MEMORY_MANAGER_H_
