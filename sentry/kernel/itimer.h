// Timers that fire on wall-clock time, for every process: ITIMER_REAL
// (setitimer(2), alarm(2)) and POSIX timers (timer_create(2)). One host
// thread keeps the deadlines and queues each expiry's signal on the
// process (or the thread SIGEV_THREAD_ID names) when it passes, whatever
// the process is doing (running guest code or blocked).
//
// How we differ from Linux: an absolute CLOCK_REALTIME expiry is turned
// into a duration when it is set, so a later jump of the host's clock does
// not move it; timers on CPU-time clocks are not offered (EINVAL at
// creation); the overrun count is the number of intervals that passed
// before the Sentry delivered the expiry.
//
// Lock order: RealTimers::mu_ is never held while signalling: the signals
// are queued after it is released (then ProcessTable::mu_, ThreadGroup::mu_).
#ifndef SENTRY_KERNEL_ITIMER_H_
#define SENTRY_KERNEL_ITIMER_H_

#include <signal.h>
#include <time.h>

#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sentry/base/errno_or.h"

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
  // Arms (value > 0) or disarms process `pid`'s ITIMER_REAL; returns the
  // old setting.
  Setting Set(int pid, Setting next) ABSL_LOCKS_EXCLUDED(mu_);
  Setting Get(int pid) ABSL_LOCKS_EXCLUDED(mu_);

  // What a POSIX timer does when it expires (its struct sigevent).
  struct Notify {
    clockid_t clock = CLOCK_MONOTONIC;
    int signo = SIGALRM;  // 0: nothing (SIGEV_NONE)
    int tid = 0;          // 0: the process; else this thread (SIGEV_THREAD_ID)
    sigval_t value{};     // si_value
    bool value_is_id = false;  // no sigevent given: si_value is the ID
  };
  // timer_create: a new disarmed timer of process `pid`; returns its ID.
  // EAGAIN past kMaxPosixTimers.
  static constexpr int kMaxPosixTimers = 4096;
  ErrnoOr<int> Create(int pid, const Notify& notify) ABSL_LOCKS_EXCLUDED(mu_);
  // timer_settime/gettime/getoverrun/delete; EINVAL for an unknown ID.
  ErrnoOr<Setting> SetTimer(int pid, int id, Setting next)
      ABSL_LOCKS_EXCLUDED(mu_);
  ErrnoOr<Setting> GetTimer(int pid, int id) ABSL_LOCKS_EXCLUDED(mu_);
  ErrnoOr<clockid_t> ClockOf(int pid, int id) ABSL_LOCKS_EXCLUDED(mu_);
  ErrnoOr<int> Overrun(int pid, int id) ABSL_LOCKS_EXCLUDED(mu_);
  ErrnoOr<void> Delete(int pid, int id) ABSL_LOCKS_EXCLUDED(mu_);
  // execve deletes the POSIX timers (ITIMER_REAL survives); exit deletes
  // everything.
  void DeletePosixTimers(int pid) ABSL_LOCKS_EXCLUDED(mu_);
  void DeleteAll(int pid) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // ITIMER_REAL's ID: POSIX timer IDs are 0 and up.
  static constexpr int kItimerReal = -1;
  struct Timer {
    bool armed = false;
    absl::Time deadline;
    absl::Duration interval;
    Notify notify;
    int overrun = 0;  // of the last delivered expiry
  };
  using Key = std::pair<int, int>;  // pid, timer ID
  Setting SettingOf(const Timer& t, absl::Time now) const;
  void Arm(Timer& t, Setting next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);

  ProcessTable& processes_;
  absl::Mutex mu_;
  std::map<Key, Timer> timers_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t changes_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;  // started with the first armed timer
};

}  // namespace sentry::kernel

#endif  // SENTRY_KERNEL_ITIMER_H_
