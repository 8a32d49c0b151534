#include "sentry/kernel/itimer.h"

#include <errno.h>
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

RealTimers::Setting RealTimers::SettingOf(const Timer& t,
                                          absl::Time now) const {
  if (!t.armed) return {absl::ZeroDuration(), t.interval};
  // An armed timer never reads as zero: that would mean disarmed.
  return {std::max(t.deadline - now, absl::Nanoseconds(1)), t.interval};
}

void RealTimers::Arm(Timer& t, Setting next) {
  t.interval = next.interval;
  t.armed = next.value > absl::ZeroDuration();
  if (t.armed) {
    t.deadline = absl::Now() + next.value;
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  }
  ++changes_;
}

RealTimers::Setting RealTimers::Set(int pid, Setting next) {
  absl::MutexLock l(&mu_);
  Timer& t = timers_[{pid, kItimerReal}];
  Setting old = SettingOf(t, absl::Now());
  if (!t.armed) old.interval = absl::ZeroDuration();
  Arm(t, next);
  if (!t.armed) timers_.erase({pid, kItimerReal});
  return old;
}

RealTimers::Setting RealTimers::Get(int pid) {
  absl::MutexLock l(&mu_);
  auto it = timers_.find({pid, kItimerReal});
  if (it == timers_.end()) return {absl::ZeroDuration(), absl::ZeroDuration()};
  return SettingOf(it->second, absl::Now());
}

ErrnoOr<int> RealTimers::Create(int pid, const Notify& notify) {
  absl::MutexLock l(&mu_);
  // The lowest free ID, as Linux hands them out in a fresh process (the
  // process's IDs are in order in the map).
  int id = 0, count = 0;
  for (auto it = timers_.lower_bound({pid, 0});
       it != timers_.end() && it->first.first == pid; ++it, ++count) {
    if (it->first.second == id) ++id;
  }
  if (count >= kMaxPosixTimers) return Errno(EAGAIN);
  Timer& t = timers_[{pid, id}];
  t.notify = notify;
  if (notify.value_is_id) t.notify.value.sival_int = id;
  return id;
}

ErrnoOr<RealTimers::Setting> RealTimers::SetTimer(int pid, int id,
                                                  Setting next) {
  absl::MutexLock l(&mu_);
  auto it = timers_.find({pid, id});
  if (id < 0 || it == timers_.end()) return Errno(EINVAL);
  Setting old = SettingOf(it->second, absl::Now());
  it->second.overrun = 0;
  Arm(it->second, next);
  return old;
}

ErrnoOr<RealTimers::Setting> RealTimers::GetTimer(int pid, int id) {
  absl::MutexLock l(&mu_);
  auto it = timers_.find({pid, id});
  if (id < 0 || it == timers_.end()) return Errno(EINVAL);
  return SettingOf(it->second, absl::Now());
}

ErrnoOr<clockid_t> RealTimers::ClockOf(int pid, int id) {
  absl::MutexLock l(&mu_);
  auto it = timers_.find({pid, id});
  if (id < 0 || it == timers_.end()) return Errno(EINVAL);
  return it->second.notify.clock;
}

ErrnoOr<int> RealTimers::Overrun(int pid, int id) {
  absl::MutexLock l(&mu_);
  auto it = timers_.find({pid, id});
  if (id < 0 || it == timers_.end()) return Errno(EINVAL);
  return it->second.overrun;
}

ErrnoOr<void> RealTimers::Delete(int pid, int id) {
  absl::MutexLock l(&mu_);
  if (id < 0 || timers_.erase({pid, id}) == 0) return Errno(EINVAL);
  ++changes_;
  return {};
}

void RealTimers::DeletePosixTimers(int pid) {
  absl::MutexLock l(&mu_);
  timers_.erase(timers_.lower_bound({pid, 0}),
                timers_.lower_bound({pid + 1, kItimerReal}));
  ++changes_;
}

void RealTimers::DeleteAll(int pid) {
  absl::MutexLock l(&mu_);
  timers_.erase(timers_.lower_bound({pid, kItimerReal}),
                timers_.lower_bound({pid + 1, kItimerReal}));
  ++changes_;
}

void RealTimers::Loop() {
  struct Due {
    int pid;
    int id;
    Notify notify;
    int overrun;
  };
  absl::MutexLock l(&mu_);
  while (!stop_) {
    absl::Time next = absl::InfiniteFuture();
    for (const auto& [key, t] : timers_) {
      if (t.armed) next = std::min(next, t.deadline);
    }
    uint64_t seen = changes_;
    auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return changes_ != seen;
    };
    mu_.AwaitWithDeadline(absl::Condition(&changed), next);
    if (stop_) break;
    absl::Time now = absl::Now();
    std::vector<Due> due;
    for (auto& [key, t] : timers_) {
      if (!t.armed || t.deadline > now) continue;
      int overrun = 0;
      if (t.interval > absl::ZeroDuration()) {
        // Intervals that passed before this delivery are overruns.
        absl::Duration rest;
        int64_t missed =
            absl::IDivDuration(now - t.deadline, t.interval, &rest);
        overrun = static_cast<int>(std::min<int64_t>(missed, INT32_MAX));
        t.deadline += t.interval * (missed + 1);
      } else {
        t.armed = false;
      }
      t.overrun = overrun;
      due.push_back({key.first, key.second, t.notify, overrun});
    }
    // A disarmed ITIMER_REAL has nothing left to keep.
    for (auto it = timers_.begin(); it != timers_.end();) {
      if (it->first.second == kItimerReal && !it->second.armed) {
        it = timers_.erase(it);
      } else {
        ++it;
      }
    }
    if (due.empty()) continue;
    mu_.Unlock();
    for (const Due& d : due) {
      if (d.notify.signo == 0) continue;  // SIGEV_NONE
      siginfo_t info{};
      info.si_signo = d.notify.signo;
      if (d.id == kItimerReal) {
        info.si_code = SI_KERNEL;
      } else {
        info.si_code = SI_TIMER;
        info.si_timerid = d.id;
        info.si_overrun = d.overrun;
        info.si_value = d.notify.value;
      }
      processes_.WithLive(d.pid, [&](Task& leader) {
        if (d.notify.tid == 0) {
          leader.QueueSignal(d.notify.signo, &info);
          return;
        }
        leader.group().ForEach([&](Task& t) {
          if (t.tid() == d.notify.tid) {
            t.QueueThreadSignal(d.notify.signo, &info);
          }
        });
      });
    }
    mu_.Lock();
  }
}

}  // namespace sentry::kernel
