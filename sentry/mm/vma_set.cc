#include "sentry/mm/vma_set.h"

#include <cassert>

namespace sentry::mm {

const Vma* VmaSet::Find(uint64_t addr) const {
  auto it = vmas_.upper_bound(addr);
  if (it == vmas_.begin()) return nullptr;
  --it;
  return addr < it->second.end ? &it->second : nullptr;
}

bool VmaSet::IsFree(uint64_t start, uint64_t end) const {
  auto it = vmas_.lower_bound(start);
  if (it != vmas_.end() && it->first < end) return false;
  if (it != vmas_.begin() && std::prev(it)->second.end > start) return false;
  return true;
}

bool VmaSet::IsFullyMapped(uint64_t start, uint64_t end) const {
  uint64_t at = start;
  while (at < end) {
    const Vma* vma = Find(at);
    if (vma == nullptr) return false;
    at = vma->end;
  }
  return true;
}

void VmaSet::Insert(Vma vma) {
  assert(vma.start < vma.end && IsFree(vma.start, vma.end));
  vmas_.emplace(vma.start, std::move(vma));
}

void VmaSet::SplitAt(uint64_t addr) {
  auto it = vmas_.upper_bound(addr);
  if (it == vmas_.begin()) return;
  --it;
  Vma& vma = it->second;
  if (addr <= vma.start || addr >= vma.end) return;
  Vma upper = vma;
  upper.start = addr;
  upper.offset = vma.offset + (addr - vma.start);
  if (upper.file_backed) upper.file_offset += addr - vma.start;
  vma.end = addr;
  vmas_.emplace(addr, std::move(upper));
}

std::vector<Vma> VmaSet::Remove(uint64_t start, uint64_t end) {
  SplitAt(start);
  SplitAt(end);
  std::vector<Vma> removed;
  auto it = vmas_.lower_bound(start);
  while (it != vmas_.end() && it->first < end) {
    removed.push_back(std::move(it->second));
    it = vmas_.erase(it);
  }
  return removed;
}

void VmaSet::Protect(uint64_t start, uint64_t end, int prot) {
  SplitAt(start);
  SplitAt(end);
  for (auto it = vmas_.lower_bound(start); it != vmas_.end() && it->first < end;
       ++it) {
    it->second.prot = prot;
  }
}

std::optional<uint64_t> VmaSet::FindGapTopDown(uint64_t length, uint64_t lo,
                                               uint64_t hi) const {
  if (length == 0 || hi < lo || hi - lo < length) return std::nullopt;
  // Walk down from the highest area that starts below `hi`; `ceiling` is
  // the top of the gap being considered.
  uint64_t ceiling = hi;
  auto it = vmas_.lower_bound(hi);
  while (it != vmas_.begin()) {
    --it;
    const Vma& vma = it->second;
    if (vma.end <= lo) break;
    if (vma.end < ceiling && ceiling - vma.end >= length) {
      return ceiling - length;
    }
    if (vma.start < ceiling) ceiling = vma.start;
    if (ceiling <= lo || ceiling - lo < length) return std::nullopt;
  }
  if (ceiling - lo >= length) return ceiling - length;
  return std::nullopt;
}

size_t VmaSet::CountAfterSplit(uint64_t start, uint64_t end) const {
  size_t count = vmas_.size();
  for (uint64_t addr : {start, end}) {
    const Vma* vma = Find(addr);
    if (vma != nullptr && vma->start != addr) ++count;
  }
  return count;
}

std::vector<Vma> VmaSet::All() const {
  std::vector<Vma> out;
  out.reserve(vmas_.size());
  for (const auto& [start, vma] : vmas_) out.push_back(vma);
  return out;
}

void VmaSet::ForEach(uint64_t start, uint64_t end,
                     const std::function<void(const Vma&)>& fn) const {
  auto it = vmas_.upper_bound(start);
  if (it != vmas_.begin() && std::prev(it)->second.end > start) --it;
  for (; it != vmas_.end() && it->first < end; ++it) fn(it->second);
}

}  // namespace sentry::mm
