// ITIMER_REAL for every process (setitimer(2), alarm(2)): one host thread
// keeps the deadlines and queues SIGALRM on the process when one passes,
// whatever the process is doing (running guest code or blocked).
//
// Lock order: RealTimers::mu_ before ProcessTable::mu_ is never held: the
// signal is queued after the lock is released.
#ifndef SENTRY_KERNEL_ITIMER_H_
#define SENTRY_KERNEL_ITIMER_H_

#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace sentry::kernel {

class ProcessTable;

class RealTimers {
 public:
  explicit RealTimers(ProcessTable& processes) : processes_(processes) {}
  ~RealTimers();

  struct Setting {
    absl::Duration value;     // time left; zero: disarmed
    absl::Duration interval;  // reload value; zero: one shot
  };
  // Arms (value > 0) or disarms process `pid`'s timer; returns the old
  // setting.
  Setting Set(int pid, Setting next) ABSL_LOCKS_EXCLUDED(mu_);
  Setting Get(int pid) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Timer {
    absl::Time deadline;
    absl::Duration interval;
  };
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);

  ProcessTable& processes_;
  absl::Mutex mu_;
  std::map<int, Timer> timers_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t changes_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;  // started with the first armed timer
};

}  // namespace sentry::kernel

#endif  // SENTRY_KERNEL_ITIMER_H_
