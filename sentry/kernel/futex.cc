#include "sentry/kernel/futex.h"

#include "sentry/kernel/task.h"

namespace sentry::kernel {
namespace {

// The `space` of keys on MemoryFile offsets.
constexpr char kSharedMemory = 0;

}  // namespace

FutexTable::Key FutexTable::KeyOf(const mm::MemoryManager& mm, uint64_t addr,
                                  bool is_private) {
  if (!is_private) {
    if (std::optional<uint64_t> offset = mm.SharedOffset(addr)) {
      return Key{&kSharedMemory, *offset};
    }
  }
  return Key{&mm, addr};
}

ErrnoOr<void> FutexTable::Wait(Task& t, Key key, uint64_t addr,
                               uint32_t expected, uint32_t bitset,
                               std::optional<absl::Time> deadline) {
  Waiter w{&t, bitset};
  {
    absl::MutexLock l(&mu_);
    uint32_t value;
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(addr, &value, sizeof(value)));
    if (value != expected) return Errno(EAGAIN);
    queues_[key].push_back(&w);
  }
  ErrnoOr<void> r = t.Wait(
      nullptr, 0,
      [&] {
        absl::MutexLock l(&mu_);
        return w.woken;
      },
      deadline);
  absl::MutexLock l(&mu_);
  if (w.woken) return {};  // a wake-up that raced with a signal wins
  // Requeue may have moved us: find our entry wherever it is.
  for (auto it = queues_.begin(); it != queues_.end(); ++it) {
    it->second.remove(&w);
    if (it->second.empty()) {
      queues_.erase(it);
      break;
    }
  }
  return r.ok() ? ErrnoOr<void>() : r.error();
}

int FutexTable::WakeLocked(Key key, int n, uint32_t bitset) {
  auto it = queues_.find(key);
  if (it == queues_.end()) return 0;
  int woken = 0;
  for (auto w = it->second.begin(); w != it->second.end() && woken < n;) {
    if (!((*w)->bitset & bitset)) {
      ++w;
      continue;
    }
    (*w)->woken = true;
    (*w)->task->Wake(~0u);
    w = it->second.erase(w);
    ++woken;
  }
  if (it->second.empty()) queues_.erase(it);
  return woken;
}

int FutexTable::Wake(Key key, int n, uint32_t bitset) {
  absl::MutexLock l(&mu_);
  return WakeLocked(key, n, bitset);
}

ErrnoOr<int> FutexTable::Requeue(Key from, Key to, int n, int requeue,
                                 const std::function<ErrnoOr<bool>()>& check) {
  absl::MutexLock l(&mu_);
  if (check) {
    SENTRY_ASSIGN_OR_RETURN(bool same, check());
    if (!same) return Errno(EAGAIN);
  }
  int done = WakeLocked(from, n, ~0u);
  auto it = queues_.find(from);
  if (it == queues_.end()) return done;
  int moved = 0;
  auto& src = it->second;
  while (!src.empty() && moved < requeue) {
    queues_[to].push_back(src.front());
    src.pop_front();
    ++moved;
  }
  if (src.empty()) queues_.erase(from);
  return done + moved;
}

}  // namespace sentry::kernel
