// VmaSet: the Sentry's list of a guest's virtual memory areas, the
// equivalent of Linux's vm_area_struct tree. Pure bookkeeping: it neither
// touches the MemoryFile nor the platform, so it is tested on its own.
#ifndef SENTRY_MM_VMA_SET_H_
#define SENTRY_MM_VMA_SET_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sentry::mm {

struct Vma {
  uint64_t start = 0;
  uint64_t end = 0;  // exclusive
  int prot = 0;      // PROT_READ | PROT_WRITE | PROT_EXEC
  bool shared = false;
  // MemoryFile offset backing `start`; the area is backed contiguously.
  uint64_t offset = 0;
  std::string name;  // "[heap]", "[stack]", "[vdso]"... or empty
  // Backed by pages the kernel owns (the vDSO and its parameters): never
  // freed with the area, shared rather than copied by fork, never writable.
  bool kernel_owned = false;
  // MAP_GROWSDOWN: a fault just below the area extends it (GrowDown).
  bool grows_down = false;
  // For MAP_SHARED anonymous memory: owns the backing pages, which fork
  // shares with the child; they are freed when the last area (in any
  // process, split pieces included) referring to them goes.
  std::shared_ptr<void> shared_backing;
  // A file mapping: the file's offset at `start`, its device and inode
  // (for /proc/[pid]/maps), and whether the file was opened for writing
  // (a shared mapping of a read-only file may never become writable).
  bool file_backed = false;
  uint64_t file_offset = 0;
  uint64_t file_dev = 0;
  uint64_t file_ino = 0;
  bool may_write = true;

  uint64_t length() const { return end - start; }
};

class VmaSet {
 public:
  // Linux's default vm.max_map_count: mmap fails with ENOMEM beyond it.
  static constexpr size_t kMaxCount = 65530;

  // The area containing `addr`, if any.
  const Vma* Find(uint64_t addr) const;
  // True if no area intersects [start, end).
  bool IsFree(uint64_t start, uint64_t end) const;
  // True if areas cover [start, end) with no hole.
  bool IsFullyMapped(uint64_t start, uint64_t end) const;

  // Adds `vma`, which must not intersect an existing area.
  void Insert(Vma vma);
  // Removes [start, end), splitting areas at the boundaries, and returns the
  // removed pieces (with their offsets adjusted).
  std::vector<Vma> Remove(uint64_t start, uint64_t end);
  // Sets the protection of [start, end) (which must be fully mapped),
  // splitting areas at the boundaries.
  void Protect(uint64_t start, uint64_t end, int prot);

  // Highest page-aligned address `a` in [lo, hi) with [a, a+length) free and
  // a+length <= hi, or nullopt.
  std::optional<uint64_t> FindGapTopDown(uint64_t length, uint64_t lo,
                                         uint64_t hi) const;

  // How many areas would exist after splitting at `start` and `end`.
  size_t CountAfterSplit(uint64_t start, uint64_t end) const;

  size_t size() const { return vmas_.size(); }
  std::vector<Vma> All() const;
  // Calls fn for each area intersecting [start, end), in address order.
  void ForEach(uint64_t start, uint64_t end,
               const std::function<void(const Vma&)>& fn) const;

 private:
  // Splits the area containing `addr` (if addr is strictly inside it).
  void SplitAt(uint64_t addr);

  std::map<uint64_t, Vma> vmas_;  // keyed by start
};

}  // namespace sentry::mm

#endif  // SENTRY_MM_VMA_SET_H_
