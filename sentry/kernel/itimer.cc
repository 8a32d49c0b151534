#include "sentry/kernel/itimer.h"

#include <signal.h>

#include <vector>

#include "sentry/kernel/process_table.h"
#include "sentry/kernel/task.h"

namespace sentry::kernel {

RealTimers::~RealTimers() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
    ++changes_;
  }
  if (thread_.joinable()) thread_.join();
}

RealTimers::Setting RealTimers::Set(int pid, Setting next) {
  absl::MutexLock l(&mu_);
  Setting old{absl::ZeroDuration(), absl::ZeroDuration()};
  absl::Time now = absl::Now();
  if (auto it = timers_.find(pid); it != timers_.end()) {
    old = {std::max(it->second.deadline - now, absl::Microseconds(1)),
           it->second.interval};
    timers_.erase(it);
  }
  if (next.value > absl::ZeroDuration()) {
    timers_[pid] = Timer{now + next.value, next.interval};
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  }
  ++changes_;
  return old;
}

RealTimers::Setting RealTimers::Get(int pid) {
  absl::MutexLock l(&mu_);
  auto it = timers_.find(pid);
  if (it == timers_.end()) return {absl::ZeroDuration(), absl::ZeroDuration()};
  return {std::max(it->second.deadline - absl::Now(), absl::Microseconds(1)),
          it->second.interval};
}

void RealTimers::Loop() {
  absl::MutexLock l(&mu_);
  while (!stop_) {
    absl::Time next = absl::InfiniteFuture();
    for (const auto& [pid, t] : timers_) next = std::min(next, t.deadline);
    uint64_t seen = changes_;
    auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return changes_ != seen;
    };
    mu_.AwaitWithDeadline(absl::Condition(&changed), next);
    if (stop_) break;
    absl::Time now = absl::Now();
    std::vector<int> due;
    for (auto it = timers_.begin(); it != timers_.end();) {
      if (it->second.deadline > now) {
        ++it;
        continue;
      }
      due.push_back(it->first);
      if (it->second.interval > absl::ZeroDuration()) {
        it->second.deadline = now + it->second.interval;
        ++it;
      } else {
        it = timers_.erase(it);
      }
    }
    if (due.empty()) continue;
    mu_.Unlock();
    for (int pid : due) {
      processes_.WithLive(pid, [](Task& t) {
        siginfo_t info{};
        info.si_signo = SIGALRM;
        info.si_code = SI_TIMER;
        t.QueueSignal(SIGALRM, &info);
      });
    }
    mu_.Lock();
  }
}

}  // namespace sentry::kernel
