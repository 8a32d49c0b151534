#include "sentry/mm/memory_manager.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "sentry/base/log.h"

namespace sentry::mm {
namespace {

constexpr uint64_t k2G = 1ULL << 31;
// Linux's TASK_SIZE for x86-64 with 4-level page tables.
constexpr uint64_t kTaskSize = 0x7ffffffff000;

// A host failure to change the stub's mappings leaves the guest's view
// inconsistent with the Sentry's; the guest sees ENOMEM, as for any failed
// mapping, and the failure is logged.
Errno HostFailure(const absl::Status& status) {
  SENTRY_LOG(kError, "address space update failed: %s", status.ToString());
  return Errno(ENOMEM);
}

}  // namespace

ForkedMemory::ForkedMemory(ForkedMemory&& o) noexcept
    : memory_(o.memory_),
      vmas(std::move(o.vmas)),
      mmap_top(o.mmap_top),
      brk_start(o.brk_start),
      brk(o.brk),
      adopted(o.adopted) {
  o.adopted = true;
}

ForkedMemory::~ForkedMemory() {
  if (adopted) return;
  for (const Vma& v : vmas) {
    if (!v.kernel_owned && !v.shared_backing) {
      memory_->Free(v.offset, v.length());
    }
  }
}

ErrnoOr<ForkedMemory> MemoryManager::CopyForFork() const {
  absl::ReaderMutexLock lock(&mu_);
  ForkedMemory out(memory_);
  out.mmap_top = mmap_top_;
  out.brk_start = brk_start_;
  out.brk = brk_;
  for (Vma v : vmas_.All()) {
    if (v.kernel_owned || v.shared_backing) {  // the same pages, shared
      out.vmas.push_back(std::move(v));
      continue;
    }
    SENTRY_ASSIGN_OR_RETURN(uint64_t offset, memory_.Allocate(v.length()));
    // Copy only what was ever written: the MemoryFile is sparse, and
    // SEEK_DATA/SEEK_HOLE find its populated parts.
    const off_t end = static_cast<off_t>(v.offset + v.length());
    off_t pos = static_cast<off_t>(v.offset);
    while (pos < end) {
      off_t data = lseek(memory_.fd(), pos, SEEK_DATA);
      if (data < 0 || data >= end) break;
      off_t hole = lseek(memory_.fd(), data, SEEK_HOLE);
      if (hole < 0 || hole > end) hole = end;
      std::memcpy(memory_.Access(offset + (data - v.offset)),
                  memory_.Access(static_cast<uint64_t>(data)),
                  static_cast<size_t>(hole - data));
      pos = hole;
    }
    v.offset = offset;
    out.vmas.push_back(std::move(v));
  }
  return out;
}

ErrnoOr<std::unique_ptr<MemoryManager>> MemoryManager::FromFork(
    MemoryFile& memory, platform::AddressSpace& as, uint64_t min_addr,
    uint64_t max_addr, ForkedMemory forked) {
  auto mm = std::make_unique<MemoryManager>(memory, as, min_addr, max_addr);
  absl::MutexLock lock(&mm->mu_);
  mm->mmap_top_ = forked.mmap_top;
  mm->brk_start_ = forked.brk_start;
  mm->brk_ = forked.brk;
  // From here the areas belong to `mm`, whose destructor frees them.
  forked.adopted = true;
  for (Vma& v : forked.vmas) mm->vmas_.Insert(v);
  for (const Vma& v : forked.vmas) {
    if (absl::Status s = as.MapFile(v.start, v.length(), v.offset, v.prot);
        !s.ok()) {
      return HostFailure(s);
    }
  }
  return mm;
}

MemoryManager::MemoryManager(MemoryFile& memory, platform::AddressSpace& as,
                             uint64_t min_addr, uint64_t max_addr)
    : memory_(memory),
      as_(as),
      min_addr_(min_addr),
      max_addr_(max_addr),
      mmap_top_(max_addr) {}

MemoryManager::~MemoryManager() {
  absl::MutexLock lock(&mu_);
  for (const Vma& vma : vmas_.All()) Release(vma);
}

void MemoryManager::Release(const Vma& vma) {
  // Shared backings free themselves with their last reference.
  if (!vma.kernel_owned && !vma.shared_backing) {
    memory_.Free(vma.offset, vma.length());
  }
}

std::optional<uint64_t> MemoryManager::SharedOffset(uint64_t addr) const {
  absl::ReaderMutexLock lock(&mu_);
  const Vma* v = vmas_.Find(addr);
  if (v == nullptr || !(v->shared_backing || v->kernel_owned)) {
    return std::nullopt;
  }
  return v->offset + (addr - v->start);
}

ErrnoOr<uint64_t> MemoryManager::MapKernelPages(
    std::span<const KernelPages> pieces) {
  absl::MutexLock lock(&mu_);
  uint64_t total = 0;
  for (const KernelPages& p : pieces) total += p.length;
  std::optional<uint64_t> addr =
      vmas_.FindGapTopDown(total, min_addr_, mmap_top_);
  if (!addr) return Errno(ENOMEM);
  uint64_t at = *addr;
  for (const KernelPages& p : pieces) {
    if (absl::Status s = as_.MapFile(at, p.length, p.offset, p.prot); !s.ok()) {
      return HostFailure(s);
    }
    Vma vma;
    vma.start = at;
    vma.end = at + p.length;
    vma.prot = p.prot;
    vma.shared = true;
    vma.offset = p.offset;
    vma.name = p.name;
    vma.kernel_owned = true;
    vmas_.Insert(std::move(vma));
    at += p.length;
  }
  return *addr;
}

void MemoryManager::set_mmap_top(uint64_t top) {
  absl::MutexLock lock(&mu_);
  mmap_top_ = top;
}

void MemoryManager::set_brk_start(uint64_t start) {
  absl::MutexLock lock(&mu_);
  brk_start_ = brk_ = start;
}

ErrnoOr<uint64_t> MemoryManager::Map(const MmapRequest& req) {
  absl::MutexLock lock(&mu_);
  return MapLocked(req);
}

bool MemoryManager::ExceedsLimitLocked(uint64_t addr, uint64_t length,
                                       uint64_t limit) const {
  if (limit == kNoLimit) return false;  // no walk over the areas
  uint64_t total = 0, replaced = 0;
  for (const Vma& v : vmas_.All()) total += v.length();
  vmas_.ForEach(addr, addr + length, [&](const Vma& v) {
    replaced += std::min(v.end, addr + length) - std::max(v.start, addr);
  });
  return total - replaced + length > limit;
}

ErrnoOr<uint64_t> MemoryManager::MapLocked(const MmapRequest& req) {
  if (req.length == 0) return Errno(EINVAL);
  uint64_t length = PageUp(req.length);
  if (length < req.length || length > max_addr_) return Errno(ENOMEM);

  uint64_t addr;
  if (req.fixed || req.noreplace) {
    addr = req.addr;
    if (addr % kPageSize != 0) return Errno(EINVAL);
    if (addr < min_addr_) return Errno(EPERM);
    if (addr > max_addr_ - length) return Errno(ENOMEM);
    if (req.noreplace && !vmas_.IsFree(addr, addr + length)) {
      return Errno(EEXIST);
    }
  } else {
    uint64_t hint = PageDown(req.addr);
    if (hint >= min_addr_ && hint <= max_addr_ - length &&
        vmas_.IsFree(hint, hint + length)) {
      addr = hint;
    } else {
      uint64_t lo = req.below_2g ? std::max(min_addr_, k2G / 2) : min_addr_;
      uint64_t hi = req.below_2g ? k2G : mmap_top_;
      std::optional<uint64_t> gap = vmas_.FindGapTopDown(length, lo, hi);
      // Below mmap_top is full: anything free in the whole range will do.
      if (!gap && !req.below_2g) {
        gap = vmas_.FindGapTopDown(length, min_addr_, max_addr_);
      }
      if (!gap) return Errno(ENOMEM);
      addr = *gap;
    }
  }
  if (vmas_.CountAfterSplit(addr, addr + length) + 1 > VmaSet::kMaxCount) {
    return Errno(ENOMEM);
  }
  if (ExceedsLimitLocked(addr, length, req.as_limit)) return Errno(ENOMEM);

  const bool own_pages = !req.backing_offset.has_value();
  uint64_t offset;
  if (own_pages) {
    SENTRY_ASSIGN_OR_RETURN(offset, memory_.Allocate(length));
  } else {
    offset = *req.backing_offset;
  }
  // MAP_FIXED replaces what was there; the new stub mapping below replaces
  // the old one atomically, so only the bookkeeping is dropped first.
  for (const Vma& old : vmas_.Remove(addr, addr + length)) Release(old);
  if (absl::Status s = as_.MapFile(addr, length, offset, req.prot); !s.ok()) {
    if (own_pages) memory_.Free(offset, length);
    return HostFailure(s);
  }
  Vma vma;
  vma.start = addr;
  vma.end = addr + length;
  vma.prot = req.prot;
  vma.shared = req.shared;
  vma.offset = offset;
  vma.name = req.name;
  vma.grows_down = req.grows_down;
  vma.file_backed = req.file_backed;
  vma.file_offset = req.file_offset;
  vma.file_dev = req.file_dev;
  vma.file_ino = req.file_ino;
  vma.may_write = req.may_write;
  if (!own_pages) {
    vma.shared = true;
    vma.shared_backing = req.backing_owner;
  } else if (req.shared) {
    // The stored pointer must be non-null: areas test the backing for
    // truth. The deleter returns the pages.
    MemoryFile* memory = &memory_;
    vma.shared_backing = std::shared_ptr<void>(
        static_cast<void*>(memory),
        [memory, offset, length](void*) { memory->Free(offset, length); });
  }
  vmas_.Insert(std::move(vma));
  return addr;
}

bool MemoryManager::GrowDown(uint64_t addr, uint64_t limit) {
  // Linux's stack_guard_gap: 256 pages kept free below a growing area.
  constexpr uint64_t kGuardGap = 256 * kPageSize;
  absl::MutexLock lock(&mu_);
  uint64_t page = PageDown(addr);
  if (page < min_addr_ || vmas_.Find(addr) != nullptr) return false;
  // The area right above the fault.
  const Vma* above = nullptr;
  vmas_.ForEach(page, max_addr_, [&](const Vma& v) {
    if (above == nullptr) above = &v;
  });
  if (above == nullptr || !above->grows_down) return false;
  // The whole grown region (contiguous growsdown areas) stays in `limit`.
  uint64_t top = above->end;
  for (const Vma* v = vmas_.Find(top); v != nullptr && v->grows_down;
       v = vmas_.Find(top)) {
    top = v->end;
  }
  if (top - page > limit) return false;
  uint64_t floor = page > min_addr_ + kGuardGap ? page - kGuardGap : min_addr_;
  if (!vmas_.IsFree(floor, above->start)) return false;
  MmapRequest req;
  req.addr = page;
  req.length = above->start - page;
  req.prot = above->prot;
  req.fixed = true;
  req.grows_down = true;
  req.name = above->name;
  return MapLocked(req).ok();
}

ErrnoOr<void> MemoryManager::Unmap(uint64_t addr, uint64_t length) {
  absl::MutexLock lock(&mu_);
  return UnmapLocked(addr, length);
}

ErrnoOr<void> MemoryManager::UnmapLocked(uint64_t addr, uint64_t length) {
  // Linux: EINVAL for ranges beyond TASK_SIZE; our own ceiling is lower, and
  // nothing is ever mapped between it and TASK_SIZE.
  if (addr % kPageSize != 0 || length == 0 || length > kTaskSize ||
      addr > kTaskSize - length) {
    return Errno(EINVAL);
  }
  uint64_t end = std::min(PageUp(addr + length), max_addr_);
  if (addr >= end) return {};
  if (vmas_.IsFree(addr, end)) return {};
  if (vmas_.CountAfterSplit(addr, end) > VmaSet::kMaxCount) {
    return Errno(ENOMEM);
  }
  if (absl::Status s = as_.Unmap(addr, end - addr); !s.ok()) {
    return HostFailure(s);
  }
  for (const Vma& old : vmas_.Remove(addr, end)) Release(old);
  return {};
}

ErrnoOr<uint64_t> MemoryManager::Remap(uint64_t old_addr, uint64_t old_size,
                                       uint64_t new_size, int flags,
                                       uint64_t new_addr, uint64_t as_limit) {
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)) return Errno(EINVAL);
  if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)) {
    return Errno(EINVAL);
  }
  if (old_addr % kPageSize != 0) return Errno(EINVAL);
  old_size = PageUp(old_size);
  new_size = PageUp(new_size);
  if (new_size == 0 || old_size == 0) return Errno(EINVAL);
  absl::MutexLock lock(&mu_);
  const Vma* vma = vmas_.Find(old_addr);
  if (vma == nullptr || old_addr + old_size > vma->end) return Errno(EFAULT);
  MmapRequest req;
  req.prot = vma->prot;
  req.shared = vma->shared;
  req.name = vma->name;
  // Growing may not take the address space beyond RLIMIT_AS (a move frees
  // the old range, but only after the new one is mapped: count it so).
  if (new_size > old_size &&
      ExceedsLimitLocked(0, new_size - old_size, as_limit)) {
    return Errno(ENOMEM);
  }
  auto move_to = [&](MmapRequest target) -> ErrnoOr<uint64_t> {
    // Copy out first: mapping the target may replace (MAP_FIXED) part of
    // the source.
    size_t keep = std::min(old_size, new_size);
    std::vector<uint8_t> data(keep);
    Walk(old_addr, keep, Access::kAny, [&](uint8_t* p, size_t done, size_t n) {
      std::memcpy(data.data() + done, p, n);
    });
    SENTRY_ASSIGN_OR_RETURN(uint64_t at, MapLocked(target));
    Walk(at, keep, Access::kAny, [&](uint8_t* p, size_t done, size_t n) {
      std::memcpy(p, data.data() + done, n);
    });
    // The target never overlaps the source (checked for MREMAP_FIXED; a
    // non-fixed mapping only takes free space).
    SENTRY_RETURN_IF_ERRNO(UnmapLocked(old_addr, old_size));
    return at;
  };
  if (flags & MREMAP_FIXED) {
    if (new_addr % kPageSize != 0) return Errno(EINVAL);
    if (new_addr < old_addr + old_size && old_addr < new_addr + new_size) {
      return Errno(EINVAL);  // overlapping ranges
    }
    req.addr = new_addr;
    req.length = new_size;
    req.fixed = true;
    return move_to(req);
  }
  if (new_size <= old_size) {
    if (new_size < old_size) {
      SENTRY_RETURN_IF_ERRNO(
          UnmapLocked(old_addr + new_size, old_size - new_size));
    }
    return old_addr;
  }
  uint64_t tail = old_addr + old_size;
  if (tail + (new_size - old_size) <= max_addr_ &&
      vmas_.IsFree(tail, tail + (new_size - old_size))) {
    req.addr = tail;
    req.length = new_size - old_size;
    req.fixed = true;
    SENTRY_RETURN_IF_ERRNO(MapLocked(req));
    return old_addr;
  }
  if (!(flags & MREMAP_MAYMOVE)) return Errno(ENOMEM);
  req.length = new_size;
  return move_to(req);
}

ErrnoOr<void> MemoryManager::Protect(uint64_t addr, uint64_t length, int prot) {
  if (addr % kPageSize != 0) return Errno(EINVAL);
  uint64_t end = PageUp(addr + length);
  if (end < addr) return Errno(ENOMEM);
  if (length == 0) return {};
  absl::MutexLock lock(&mu_);
  if (!vmas_.IsFullyMapped(addr, end)) return Errno(ENOMEM);
  if (vmas_.CountAfterSplit(addr, end) > VmaSet::kMaxCount) {
    return Errno(ENOMEM);
  }
  if (prot & PROT_WRITE) {
    // How we differ from Linux: the vDSO's pages are shared by every
    // process, so they cannot be made writable (Linux would copy them).
    // A shared mapping of a file not opened for writing stays read-only
    // (Linux's VM_MAYWRITE).
    bool refused = false;
    vmas_.ForEach(addr, end, [&](const Vma& v) {
      refused |= v.kernel_owned || (v.shared && !v.may_write);
    });
    if (refused) return Errno(EACCES);
  }
  if (absl::Status s = as_.Protect(addr, end - addr, prot); !s.ok()) {
    return HostFailure(s);
  }
  vmas_.Protect(addr, end, prot);
  return {};
}

uint64_t MemoryManager::Brk(uint64_t addr, uint64_t as_limit,
                            uint64_t data_limit) {
  absl::MutexLock lock(&mu_);
  if (addr < brk_start_) return brk_;
  uint64_t old_top = PageUp(brk_);
  uint64_t new_top = PageUp(addr);
  if (new_top < addr || new_top > max_addr_) return brk_;
  if (data_limit != kNoLimit && addr - brk_start_ > data_limit) return brk_;
  if (new_top > old_top) {
    // The heap may not grow over another mapping (Linux checks the same).
    if (!vmas_.IsFree(old_top, new_top)) return brk_;
    if (ExceedsLimitLocked(old_top, new_top - old_top, as_limit)) return brk_;
    MmapRequest req;
    req.addr = old_top;
    req.length = new_top - old_top;
    req.prot = PROT_READ | PROT_WRITE;
    req.fixed = true;
    req.name = "[heap]";
    if (!MapLocked(req).ok()) return brk_;
  } else if (new_top < old_top) {
    if (!UnmapLocked(new_top, old_top - new_top).ok()) return brk_;
  }
  brk_ = addr;
  return brk_;
}

template <typename Fn>
size_t MemoryManager::Walk(uint64_t addr, size_t length, Access access,
                           Fn&& fn) const {
  size_t done = 0;
  while (done < length) {
    uint64_t at = addr + done;
    if (at < addr) break;  // wrapped around
    const Vma* vma = vmas_.Find(at);
    if (vma == nullptr) break;
    if (access == Access::kRead && !(vma->prot & PROT_READ)) break;
    if (access == Access::kWrite && !(vma->prot & PROT_WRITE)) break;
    size_t chunk = std::min<uint64_t>(length - done, vma->end - at);
    fn(memory_.Access(vma->offset + (at - vma->start)), done, chunk);
    done += chunk;
  }
  return done;
}

size_t MemoryManager::CopyInPartial(uint64_t addr, void* dst,
                                    size_t length) const {
  absl::ReaderMutexLock lock(&mu_);
  auto* out = static_cast<uint8_t*>(dst);
  return Walk(
      addr, length, Access::kRead,
      [out](uint8_t* p, size_t done, size_t n) { memcpy(out + done, p, n); });
}

size_t MemoryManager::CopyOutPartial(uint64_t addr, const void* src,
                                     size_t length) const {
  absl::ReaderMutexLock lock(&mu_);
  const auto* in = static_cast<const uint8_t*>(src);
  return Walk(
      addr, length, Access::kWrite,
      [in](uint8_t* p, size_t done, size_t n) { memcpy(p, in + done, n); });
}

size_t MemoryManager::WritableLength(uint64_t addr, size_t length) const {
  absl::ReaderMutexLock lock(&mu_);
  return Walk(addr, length, Access::kWrite, [](uint8_t*, size_t, size_t) {});
}

bool MemoryManager::AnySharedIn(uint64_t addr, uint64_t length) const {
  absl::ReaderMutexLock lock(&mu_);
  bool any = false;
  vmas_.ForEach(addr, addr + length, [&](const Vma& v) { any |= v.shared; });
  return any;
}

bool MemoryManager::AllSharedIn(uint64_t addr, uint64_t length) const {
  absl::ReaderMutexLock lock(&mu_);
  bool all = true;
  vmas_.ForEach(addr, addr + length,
                [&](const Vma& v) { all &= v.shared && !v.kernel_owned; });
  return all;
}

bool MemoryManager::GrowsDown(uint64_t addr) const {
  absl::ReaderMutexLock lock(&mu_);
  const Vma* v = vmas_.Find(addr);
  return v != nullptr && v->grows_down;
}

ErrnoOr<void> MemoryManager::ZeroRange(uint64_t addr, uint64_t length,
                                       bool shared_too) {
  absl::ReaderMutexLock lock(&mu_);
  if (length == 0) return {};
  if (!vmas_.IsFullyMapped(addr, addr + length)) return Errno(ENOMEM);
  vmas_.ForEach(addr, addr + length, [&](const Vma& v) {
    // Shared memory keeps its contents unless asked (Linux's DONTNEED
    // drops only the page-table entries, and the pages come back from the
    // shared object; REMOVE frees them); the vDSO's are read-only.
    if (v.kernel_owned || (v.shared_backing && !shared_too)) return;
    uint64_t lo = std::max(addr, v.start), hi = std::min(addr + length, v.end);
    // Punching keeps the file's size and frees the pages: they read as 0.
    (void)fallocate(memory_.fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    static_cast<off_t>(v.offset + (lo - v.start)),
                    static_cast<off_t>(hi - lo));
  });
  return {};
}

ErrnoOr<void> MemoryManager::CopyIn(uint64_t addr, void* dst,
                                    size_t length) const {
  if (CopyInPartial(addr, dst, length) != length) return Errno(EFAULT);
  return {};
}

ErrnoOr<void> MemoryManager::CopyOut(uint64_t addr, const void* src,
                                     size_t length) const {
  if (CopyOutPartial(addr, src, length) != length) return Errno(EFAULT);
  return {};
}

ErrnoOr<void> MemoryManager::Poke(uint64_t addr, const void* src,
                                  size_t length) {
  absl::ReaderMutexLock lock(&mu_);
  const auto* in = static_cast<const uint8_t*>(src);
  size_t done =
      Walk(addr, length, Access::kAny,
           [in](uint8_t* p, size_t off, size_t n) { memcpy(p, in + off, n); });
  if (done != length) return Errno(EFAULT);
  return {};
}

ErrnoOr<std::string> MemoryManager::CopyInString(uint64_t addr,
                                                 size_t max_length) const {
  absl::ReaderMutexLock lock(&mu_);
  std::string out;
  bool found_nul = false;
  // Page by page, so a string ending just before an unmapped page is fine.
  uint64_t at = addr;
  while (!found_nul && out.size() <= max_length) {
    size_t in_page = kPageSize - (at % kPageSize);
    size_t want = std::min<size_t>(in_page, max_length + 1 - out.size());
    size_t got =
        Walk(at, want, Access::kRead, [&](uint8_t* p, size_t, size_t n) {
          if (found_nul) return;
          const void* nul = memchr(p, 0, n);
          size_t take = nul ? static_cast<const uint8_t*>(nul) - p : n;
          out.append(reinterpret_cast<const char*>(p), take);
          if (nul) found_nul = true;
        });
    if (found_nul) break;
    if (got != want) return Errno(EFAULT);
    at += want;
  }
  if (!found_nul || out.size() > max_length) return Errno(ENAMETOOLONG);
  return out;
}

bool MemoryManager::IsMapped(uint64_t addr, uint64_t length) const {
  uint64_t end = addr + PageUp(length);
  if (end < addr) return false;
  absl::ReaderMutexLock lock(&mu_);
  return vmas_.IsFullyMapped(addr, end);
}

std::vector<Vma> MemoryManager::Areas() const {
  absl::ReaderMutexLock lock(&mu_);
  return vmas_.All();
}

}  // namespace sentry::mm
