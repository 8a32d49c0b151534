// clock_gettime, clock_getres, gettimeofday, time.
//
// The Sentry reads the host's clocks: time inside the sandbox is the host's
// time. CPU-time clocks report the stub's CPU time, which is where guest
// code runs.
#include <errno.h>
#include <sys/time.h>
#include <time.h>

#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

// A CPU-time clock: CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, or
// one made by clock_getcpuclockid/pthread_getcpuclockid (the kernel's
// MAKE_PROCESS_CPUCLOCK/MAKE_THREAD_CPUCLOCK: ~id << 3, bit 2 for a
// thread, low bits PROF/VIRT/SCHED). PROF and SCHED count user and system
// time, VIRT user time only. EINVAL for anything else or a gone target.
ErrnoOr<uint64_t> CpuClockNs(Task& t, int clock) {
  bool thread;
  int id = 0, kind = 2;
  if (clock == CLOCK_PROCESS_CPUTIME_ID) {
    thread = false;
  } else if (clock == CLOCK_THREAD_CPUTIME_ID) {
    thread = true;
  } else if (clock < 0 && (clock & 7) != 7) {  // 7: CLOCKFD, dynamic clocks
    thread = clock & 4;
    kind = clock & 3;
    id = ~(clock >> 3);
    if (kind == 3) return Errno(EINVAL);
  } else {
    return Errno(EINVAL);
  }
  auto pick = [kind](const kernel::CpuTimes& c) {
    return kind == 1 ? c.user_ns : c.total();
  };
  if (id == 0 || (thread ? id == t.tid() : id == t.pid())) {
    return pick(thread ? t.ThreadCpuTimes() : t.group().ProcessCpuTimes());
  }
  // Another thread must be of the same process; another process's clock
  // may be read by anyone (clock_getcpuclockid(3)).
  ErrnoOr<uint64_t> ns =
      t.kernel().WithTask(id, [&](Task& o) -> ErrnoOr<uint64_t> {
        if (thread) {
          if (o.pid() != t.pid()) return Errno(EINVAL);
          return pick(o.ThreadCpuTimes());
        }
        if (!o.is_leader()) return Errno(EINVAL);
        return pick(o.group().ProcessCpuTimes());
      });
  // A clock whose task is gone is no clock at all: EINVAL, not ESRCH.
  if (!ns.ok() && ns.error() == Errno(ESRCH)) return Errno(EINVAL);
  return ns;
}

ErrnoOr<struct timespec> Now(Task& t, int clock) {
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
    case CLOCK_REALTIME_ALARM:
    case CLOCK_BOOTTIME_ALARM:
    case CLOCK_TAI: {
      struct timespec ts;
      if (clock_gettime(clock, &ts) != 0) return Errno(EINVAL);
      return ts;
    }
    default:
      break;
  }
  SENTRY_ASSIGN_OR_RETURN(uint64_t ns, CpuClockNs(t, clock));
  return timespec{static_cast<time_t>(ns / 1000000000),
                  static_cast<long>(ns % 1000000000)};
}

}  // namespace

ErrnoOr<void> ClockGettime(Task& t, int clock, UserAddr tp) {
  SENTRY_ASSIGN_OR_RETURN(struct timespec ts, Now(t, clock));
  return t.mm().CopyOut(tp.value, &ts, sizeof(ts));
}

ErrnoOr<void> ClockGetres(Task& t, int clock, UserAddr res) {
  SENTRY_RETURN_IF_ERRNO(Now(t, clock));
  struct timespec ts = {0, 1};
  if (clock == CLOCK_REALTIME_COARSE || clock == CLOCK_MONOTONIC_COARSE) {
    clock_getres(clock, &ts);
  }
  if (res.null()) return {};
  return t.mm().CopyOut(res.value, &ts, sizeof(ts));
}

ErrnoOr<void> Gettimeofday(Task& t, UserAddr tv, UserAddr tz) {
  if (!tv.null()) {
    SENTRY_ASSIGN_OR_RETURN(struct timespec ts, Now(t, CLOCK_REALTIME));
    struct timeval out = {ts.tv_sec, ts.tv_nsec / 1000};
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(tv.value, &out, sizeof(out)));
  }
  if (!tz.null()) {
    // The sandbox's kernel time zone is UTC (tz_minuteswest 0, tz_dsttime 0).
    struct timezone zone = {0, 0};
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(tz.value, &zone, sizeof(zone)));
  }
  return {};
}

// How we differ from Linux: the sandbox never sets the host's clock and
// keeps no clock of its own, so setting CLOCK_REALTIME fails EPERM for
// everyone, root included, as if no task held CAP_SYS_TIME. The checks
// before that are Linux's: only CLOCK_REALTIME (and, always EPERM, the
// CPU-time clocks) can be set; the others are EINVAL.
ErrnoOr<void> ClockSettime(Task& t, int clock, UserAddr tp) {
  if (clock != CLOCK_REALTIME) {
    SENTRY_RETURN_IF_ERRNO(Now(t, clock));  // EINVAL for no such clock
    if (clock >= 0) return Errno(EINVAL);   // a clock that cannot be set
  }
  struct timespec ts;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(tp.value, &ts, sizeof(ts)));
  if (clock == CLOCK_REALTIME &&
      (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)) {
    return Errno(EINVAL);
  }
  return Errno(EPERM);
}

// As clock_settime: the arguments are checked, then EPERM.
ErrnoOr<void> Settimeofday(Task& t, UserAddr tv, UserAddr tz) {
  if (!tv.null()) {
    struct timeval v;
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(tv.value, &v, sizeof(v)));
    if (v.tv_sec < 0 || v.tv_usec < 0 || v.tv_usec >= 1000000) {
      return Errno(EINVAL);
    }
  }
  if (!tz.null()) {
    struct timezone zone;
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(tz.value, &zone, sizeof(zone)));
    // settimeofday(2): minutes west of Greenwich, within 15 hours.
    if (zone.tz_minuteswest < -15 * 60 || zone.tz_minuteswest > 15 * 60) {
      return Errno(EINVAL);
    }
  }
  return Errno(EPERM);
}

ErrnoOr<uint64_t> Time(Task& t, UserAddr tloc) {
  SENTRY_ASSIGN_OR_RETURN(struct timespec ts, Now(t, CLOCK_REALTIME));
  int64_t secs = ts.tv_sec;
  if (!tloc.null()) {
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(tloc.value, &secs, sizeof(secs)));
  }
  return static_cast<uint64_t>(secs);
}

}  // namespace sentry::syscalls

namespace sentry::syscalls {
namespace {

// Sleeps until `deadline`. Interrupted by a signal, a relative sleep
// writes what was left to `rem` and ends with -ERESTART_RESTARTBLOCK: if
// no handler runs (the signal was ignored, or stopped the process until
// SIGCONT) restart_syscall sleeps on to the same deadline, unseen; after a
// handler it fails EINTR, SA_RESTART or not (signal(7)). An absolute sleep
// ends with -ERESTARTNOHAND: it restarts with its own arguments.
ErrnoOr<void> SleepUntil(Task& t, absl::Time deadline, bool relative,
                         UserAddr rem) {
  ErrnoOr<void> r = t.Wait(
      nullptr, 0, [] { return false; }, deadline);
  if (r.ok() || r.error() == Errno(ETIMEDOUT)) return {};
  if (r.error() != Errno(kErestartSys)) return r.error();  // exiting
  if (!relative) return Errno(kErestartNoHand);
  if (!rem.null()) {
    absl::Duration still =
        std::max(deadline - absl::Now(), absl::ZeroDuration());
    struct timespec ts = absl::ToTimespec(still);
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(rem.value, &ts, sizeof(ts)));
  }
  t.set_restart([deadline, rem](Task& t) -> ErrnoOr<uint64_t> {
    SENTRY_RETURN_IF_ERRNO(SleepUntil(t, deadline, /*relative=*/true, rem));
    return uint64_t{0};
  });
  return Errno(kErestartRestartBlock);
}

ErrnoOr<struct timespec> ValidTimespec(Task& t, UserAddr addr) {
  struct timespec ts;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(addr.value, &ts, sizeof(ts)));
  if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) {
    return Errno(EINVAL);
  }
  return ts;
}

}  // namespace

ErrnoOr<void> ClockNanosleep(Task& t, int clock, int flags, UserAddr request,
                             UserAddr remain) {
  // Clocks Linux can read but not sleep on.
  if (clock == CLOCK_MONOTONIC_RAW || clock == CLOCK_REALTIME_COARSE ||
      clock == CLOCK_MONOTONIC_COARSE) {
    return Errno(EOPNOTSUPP);
  }
  if (flags & ~TIMER_ABSTIME) return Errno(EINVAL);
  if (clock == CLOCK_THREAD_CPUTIME_ID) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(struct timespec req, ValidTimespec(t, request));
  SENTRY_ASSIGN_OR_RETURN(struct timespec now, Now(t, clock));
  // The sleep's end on the Sentry's clock: an absolute time follows the
  // guest's clock as it reads now.
  absl::Duration left = absl::DurationFromTimespec(req);
  if (flags & TIMER_ABSTIME) left -= absl::DurationFromTimespec(now);
  return SleepUntil(t, absl::Now() + left, !(flags & TIMER_ABSTIME), remain);
}

ErrnoOr<void> Nanosleep(Task& t, UserAddr request, UserAddr remain) {
  return ClockNanosleep(t, CLOCK_MONOTONIC, 0, request, remain);
}

}  // namespace sentry::syscalls

namespace sentry::syscalls {
namespace {

ErrnoOr<kernel::RealTimers::Setting> FromItimerval(Task& t, UserAddr addr) {
  struct itimerval v;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(addr.value, &v, sizeof(v)));
  for (const struct timeval* tv : {&v.it_value, &v.it_interval}) {
    if (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000) {
      return Errno(EINVAL);
    }
  }
  return kernel::RealTimers::Setting{absl::DurationFromTimeval(v.it_value),
                                     absl::DurationFromTimeval(v.it_interval)};
}

ErrnoOr<void> ToItimerval(Task& t, UserAddr addr,
                          const kernel::RealTimers::Setting& s) {
  if (addr.null()) return {};
  struct itimerval v {
    absl::ToTimeval(s.interval), absl::ToTimeval(s.value)
  };
  return t.mm().CopyOut(addr.value, &v, sizeof(v));
}

}  // namespace

// Only ITIMER_REAL: the virtual and profiling timers count CPU time the
// Sentry does not sample yet, so they are refused rather than never fire.
ErrnoOr<void> Setitimer(Task& t, int which, UserAddr value, UserAddr old) {
  if (which != ITIMER_REAL) return Errno(EINVAL);
  kernel::RealTimers::Setting next{absl::ZeroDuration(), absl::ZeroDuration()};
  if (!value.null()) {
    SENTRY_ASSIGN_OR_RETURN(next, FromItimerval(t, value));
  }
  kernel::RealTimers::Setting prev =
      t.kernel().real_timers().Set(t.pid(), next);
  return ToItimerval(t, old, prev);
}

ErrnoOr<void> Getitimer(Task& t, int which, UserAddr value) {
  if (which != ITIMER_REAL) return Errno(EINVAL);
  return ToItimerval(t, value, t.kernel().real_timers().Get(t.pid()));
}

ErrnoOr<uint64_t> Alarm(Task& t, uint32_t seconds) {
  kernel::RealTimers::Setting prev = t.kernel().real_timers().Set(
      t.pid(), {absl::Seconds(seconds), absl::ZeroDuration()});
  // Whole seconds left, rounded to nearest, and at least 1 if any time was
  // left (alarm(2) must not report a pending alarm as none).
  if (prev.value <= absl::ZeroDuration()) return uint64_t{0};
  int64_t left = absl::ToInt64Seconds(prev.value + absl::Milliseconds(500));
  return static_cast<uint64_t>(std::max<int64_t>(left, 1));
}

// POSIX timers (timer_create(2) and friends), on the wall clocks; see
// sentry/kernel/itimer.h.
namespace {

// The clocks a timer may count: the wall clocks. CPU-time clocks are
// refused (a gap: the Sentry does not sample CPU time to fire on it).
bool IsTimerClock(clockid_t clock) {
  return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC ||
         clock == CLOCK_BOOTTIME || clock == CLOCK_REALTIME_ALARM ||
         clock == CLOCK_BOOTTIME_ALARM || clock == CLOCK_TAI;
}

// The kernel's struct sigevent (64 bytes; the thread ID is the first int
// of the union).
struct KernelSigevent {
  sigval_t value;
  int32_t signo;
  int32_t notify;
  int32_t tid;
  int32_t pad[11];
};
static_assert(sizeof(KernelSigevent) == 64);

constexpr int kSigevSignal = 0;
constexpr int kSigevNone = 1;
constexpr int kSigevThread = 2;
constexpr int kSigevThreadId = 4;

ErrnoOr<struct itimerspec> CopyInItimerspec(Task& t, UserAddr addr) {
  struct itimerspec v;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(addr.value, &v, sizeof(v)));
  for (const struct timespec* ts : {&v.it_value, &v.it_interval}) {
    if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000) {
      return Errno(EINVAL);
    }
  }
  return v;
}

ErrnoOr<void> CopyOutSetting(Task& t, UserAddr addr,
                             const kernel::RealTimers::Setting& s) {
  if (addr.null()) return {};
  struct itimerspec v {
    absl::ToTimespec(s.interval), absl::ToTimespec(s.value)
  };
  return t.mm().CopyOut(addr.value, &v, sizeof(v));
}

}  // namespace

ErrnoOr<void> TimerCreate(Task& t, int clock, UserAddr sevp, UserAddr timerid) {
  if (!IsTimerClock(clock)) return Errno(EINVAL);
  kernel::RealTimers::Notify notify;
  notify.clock = clock;
  notify.value_is_id = sevp.null();
  if (!sevp.null()) {
    KernelSigevent ev;
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(sevp.value, &ev, sizeof(ev)));
    switch (ev.notify) {
      case kSigevNone:
        notify.signo = 0;
        break;
      case kSigevSignal | kSigevThreadId: {
        // The thread must be one of the caller's process (Linux's
        // good_sigevent).
        ErrnoOr<int> pid = t.kernel().WithTask(
            ev.tid, [](Task& o) -> ErrnoOr<int> { return o.pid(); });
        if (!pid.ok() || *pid != t.pid()) return Errno(EINVAL);
        notify.tid = ev.tid;
        [[fallthrough]];
      }
      case kSigevSignal:
      case kSigevThread:
        if (ev.signo <= 0 || ev.signo > kernel::kMaxSignal) {
          return Errno(EINVAL);
        }
        notify.signo = ev.signo;
        notify.value = ev.value;
        break;
      default:
        return Errno(EINVAL);
    }
  }
  SENTRY_ASSIGN_OR_RETURN(int id,
                          t.kernel().real_timers().Create(t.pid(), notify));
  if (!t.mm().CopyOut(timerid.value, &id, sizeof(id)).ok()) {
    (void)t.kernel().real_timers().Delete(t.pid(), id);
    return Errno(EFAULT);
  }
  return {};
}

ErrnoOr<void> TimerSettime(Task& t, int id, int flags, UserAddr new_value,
                           UserAddr old_value) {
  // Flags other than TIMER_ABSTIME are ignored, as Linux does.
  SENTRY_ASSIGN_OR_RETURN(struct itimerspec v, CopyInItimerspec(t, new_value));
  SENTRY_ASSIGN_OR_RETURN(clockid_t clock,
                          t.kernel().real_timers().ClockOf(t.pid(), id));
  absl::Duration value = absl::DurationFromTimespec(v.it_value);
  if ((flags & TIMER_ABSTIME) && value > absl::ZeroDuration()) {
    // An absolute time on the timer's clock becomes the time left now (a
    // time already past fires at once).
    struct timespec now;
    clock_gettime(clock == CLOCK_REALTIME_ALARM   ? CLOCK_REALTIME
                  : clock == CLOCK_BOOTTIME_ALARM ? CLOCK_BOOTTIME
                                                  : clock,
                  &now);
    value =
        std::max(value - absl::DurationFromTimespec(now), absl::Nanoseconds(1));
  }
  SENTRY_ASSIGN_OR_RETURN(
      kernel::RealTimers::Setting old,
      t.kernel().real_timers().SetTimer(
          t.pid(), id, {value, absl::DurationFromTimespec(v.it_interval)}));
  return CopyOutSetting(t, old_value, old);
}

ErrnoOr<void> TimerGettime(Task& t, int id, UserAddr cur) {
  SENTRY_ASSIGN_OR_RETURN(kernel::RealTimers::Setting s,
                          t.kernel().real_timers().GetTimer(t.pid(), id));
  if (cur.null()) return Errno(EFAULT);
  return CopyOutSetting(t, cur, s);
}

ErrnoOr<uint64_t> TimerGetoverrun(Task& t, int id) {
  SENTRY_ASSIGN_OR_RETURN(int n, t.kernel().real_timers().Overrun(t.pid(), id));
  return static_cast<uint64_t>(n);
}

ErrnoOr<void> TimerDelete(Task& t, int id) {
  return t.kernel().real_timers().Delete(t.pid(), id);
}

}  // namespace sentry::syscalls
