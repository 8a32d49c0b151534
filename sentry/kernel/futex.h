// Futexes: the kernel half of userspace locks. Waiters queue on a key (the
// address space and the address; shared futexes in memory shared between
// processes key on the backing MemoryFile offset) and sleep in Task::Wait,
// so a futex wait is interruptible like any other.
//
// Lock order: FutexTable::mu_ before MemoryManager::mu_ (the value check
// reads guest memory with the table locked, which is what makes
// check-then-sleep atomic against wakers).
#ifndef SENTRY_KERNEL_FUTEX_H_
#define SENTRY_KERNEL_FUTEX_H_

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sentry/base/errno_or.h"
#include "sentry/mm/memory_manager.h"

namespace sentry::kernel {

class Task;

class FutexTable {
 public:
  struct Key {
    const void* space;  // the MemoryManager
    uint64_t addr;
    auto operator<=>(const Key&) const = default;
  };
  // The key of the futex at `addr` in `mm`: private futexes, and shared
  // ones in private memory, key on the address space; shared futexes in
  // shared memory key on the page behind them, which every process that
  // maps it agrees on.
  static Key KeyOf(const mm::MemoryManager& mm, uint64_t addr, bool is_private);

  // FUTEX_WAIT(_BITSET): sleeps on `key` if *addr (the guest address the
  // key was made from) == expected until woken with a matching bit, the
  // deadline (ETIMEDOUT) or a signal (EINTR); EAGAIN if the value differs.
  ErrnoOr<void> Wait(Task& t, Key key, uint64_t addr, uint32_t expected,
                     uint32_t bitset, std::optional<absl::Time> deadline)
      ABSL_LOCKS_EXCLUDED(mu_);
  // FUTEX_WAKE(_BITSET): wakes up to `n` waiters; returns how many.
  int Wake(Key key, int n, uint32_t bitset) ABSL_LOCKS_EXCLUDED(mu_);
  // FUTEX_(CMP_)REQUEUE: wakes `n`, moves up to `requeue` to `to`. With
  // `expected`, EAGAIN unless *key == expected (checked by the caller
  // through `check`).
  ErrnoOr<int> Requeue(Key from, Key to, int n, int requeue,
                       const std::function<ErrnoOr<bool>()>& check)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Runs `op` (which may read and write guest memory) with the table
  // locked, for FUTEX_WAKE_OP.
  template <typename Fn>
  auto Locked(Fn&& op) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    return op();
  }
  int WakeLocked(Key key, int n, uint32_t bitset)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

 private:
  struct Waiter {
    Task* task;
    uint32_t bitset;
    bool woken = false;
  };
  absl::Mutex mu_;
  std::map<Key, std::list<Waiter*>> queues_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sentry::kernel

#endif  // SENTRY_KERNEL_FUTEX_H_
