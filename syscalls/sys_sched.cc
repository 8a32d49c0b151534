// Scheduling as the guest sees it: sched_getaffinity/setaffinity, getcpu,
// sched_getscheduler/getparam/get_priority_max/min, getpriority and
// setpriority, times.
//
// How we differ from Linux: the host schedules the stub processes. Only
// the affinity mask reaches it (the guest's threads run on the CPUs they
// chose); policies, priorities and nice values are recorded and reported
// without changing how guest code is scheduled.
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

// CAP_SYS_NICE, which follows the effective UID in the Sentry.
bool Privileged(Task& t) { return t.creds().euid == 0; }

// May `caller` change `target`'s scheduling? Its own threads, or those its
// effective UID owns (Linux's check_same_owner and set_one_prio).
bool SameOwner(Task& caller, Task& target) {
  if (Privileged(caller)) return true;
  uid_t e = caller.creds().euid;
  return e == target.creds().euid || e == target.creds().ruid;
}

// May `target`'s nice value go down to `nice`? With CAP_SYS_NICE, or if
// its RLIMIT_NICE allows it: the limit is 20 - the lowest nice value
// (setrlimit(2)).
bool MayNice(Task& caller, Task& target, int nice) {
  if (Privileged(caller)) return true;
  rlim_t lim = target.rlimits()[RLIMIT_NICE].rlim_cur;
  return lim == RLIM_INFINITY || static_cast<rlim_t>(20 - nice) <= lim;
}

// Linux's nr_cpu_ids: one more than the highest CPU number there may be,
// which sizes the masks the affinity calls take and give.
int CpuIds(Task& t) {
  long n = sysconf(_SC_NPROCESSORS_CONF);
  int ids = n > 0 ? static_cast<int>(std::min<long>(n, CPU_SETSIZE)) : 1;
  for (int cpu = CPU_SETSIZE - 1; cpu >= ids; --cpu) {
    if (CPU_ISSET(cpu, &t.kernel().host_cpus())) return cpu + 1;
  }
  return ids;
}

}  // namespace

// Runs `fn` on the task `tid` names (0: the caller): the affinity calls
// take a thread ID.
template <typename Fn>
ErrnoOr<void> WithThread(Task& t, int tid, Fn&& fn) {
  if (tid < 0) return Errno(EINVAL);
  if (tid == 0 || tid == t.tid()) {
    fn(t);
    return {};
  }
  return t.kernel().WithTask(tid, [&](Task& o) -> ErrnoOr<void> {
    fn(o);
    return {};
  });
}

// The masks are the CPUs the Sentry itself may use (its affinity at boot)
// and, within those, what the guest chose; a chosen mask is applied to the
// host (see Task::set_affinity).
ErrnoOr<uint64_t> SchedGetaffinity(Task& t, int pid, uint32_t size,
                                   UserAddr mask) {
  // The kernel's cpumask is a whole number of longs.
  const int ids = CpuIds(t);
  size_t bytes = ((static_cast<size_t>(ids) + 63) / 64) * 8;
  if (size < bytes || size % sizeof(uint64_t) != 0) return Errno(EINVAL);
  std::vector<uint8_t> out(bytes, 0);
  Task::CpuMask recorded{};
  SENTRY_RETURN_IF_ERRNO(
      WithThread(t, pid, [&](Task& o) { recorded = o.affinity(); }));
  const cpu_set_t& host = t.kernel().host_cpus();
  for (int cpu = 0; cpu < ids; ++cpu) {
    if ((recorded[cpu / 64] & (uint64_t{1} << (cpu % 64))) &&
        CPU_ISSET(cpu, &host)) {
      out[cpu / 8] |= 1 << (cpu % 8);
    }
  }
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(mask.value, out.data(), bytes));
  return static_cast<uint64_t>(bytes);
}

ErrnoOr<void> SchedSetaffinity(Task& t, int pid, uint32_t size, UserAddr mask) {
  std::vector<uint8_t> in(std::min<uint32_t>(size, CPU_SETSIZE / 8), 0);
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(mask.value, in.data(), in.size()));
  // Only the CPUs the Sentry may use count; none of them: EINVAL.
  Task::CpuMask usable{};
  bool any = false;
  const cpu_set_t& host = t.kernel().host_cpus();
  for (int cpu = 0; cpu / 8 < static_cast<int>(in.size()); ++cpu) {
    if ((in[cpu / 8] & (1 << (cpu % 8))) && CPU_ISSET(cpu, &host)) {
      usable[cpu / 64] |= uint64_t{1} << (cpu % 64);
      any = true;
    }
  }
  if (!any) return Errno(EINVAL);
  return WithThread(t, pid, [&](Task& o) { o.set_affinity(usable); });
}

// The CPU and NUMA node the calling host thread (the Sentry's for this
// task, which runs on the task's affinity mask) is on now, as the vDSO's
// getcpu reads them for the guest's code. The third argument (a cache) has
// been unused since Linux 2.6.24.
ErrnoOr<void> Getcpu(Task& t, UserAddr cpu, UserAddr node, UserAddr) {
  unsigned c = 0, n = 0;
  if (syscall(SYS_getcpu, &c, &n, nullptr) != 0) c = n = 0;
  // The mask is emulated (host threads are not pinned): a CPU outside it
  // is reported as the mask's first.
  Task::CpuMask mask = t.affinity();
  auto allowed = [&](unsigned i) {
    return i < 64 * mask.size() && ((mask[i / 64] >> (i % 64)) & 1);
  };
  if (!allowed(c)) {
    for (unsigned i = 0; i < 64 * mask.size(); ++i) {
      if (allowed(i)) {
        c = i;
        break;
      }
    }
  }
  if (!cpu.null())
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(cpu.value, &c, sizeof(c)));
  if (!node.null()) {
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(node.value, &n, sizeof(n)));
  }
  return {};
}

ErrnoOr<uint64_t> SchedGetPriorityMax(Task&, int policy) {
  switch (policy) {
    case SCHED_FIFO:
    case SCHED_RR:
      return uint64_t{99};
    case SCHED_OTHER:
    case SCHED_BATCH:
    case SCHED_IDLE:
      return uint64_t{0};
    default:
      return Errno(EINVAL);
  }
}

ErrnoOr<uint64_t> SchedGetPriorityMin(Task&, int policy) {
  switch (policy) {
    case SCHED_FIFO:
    case SCHED_RR:
      return uint64_t{1};
    case SCHED_OTHER:
    case SCHED_BATCH:
    case SCHED_IDLE:
      return uint64_t{0};
    default:
      return Errno(EINVAL);
  }
}

// --- scheduling policies ----------------------------------------------------
//
// Policies, real-time priorities and the SCHED_RESET_ON_FORK flag are kept
// per thread with Linux's checks (sched(7)), so programs that pick a
// policy see it back and get the errors they expect; the host goes on
// scheduling the stubs as it likes. SCHED_DEADLINE is refused: without
// privilege EPERM, as on Linux, and with it EBUSY (admission control turns
// every deadline task away). Utilization clamps behave as on a kernel
// built without them (EOPNOTSUPP).

namespace {

// The kernel's struct sched_attr, SCHED_ATTR_SIZE_VER1.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};
static_assert(sizeof(SchedAttr) == 56);
constexpr uint32_t kSchedAttrSizeVer0 = 48;
constexpr uint32_t kSchedAttrSizeVer1 = 56;
constexpr uint32_t kMaxAttrSize = 4096;  // a page, as Linux bounds it

// SCHED_RR's time slice: Linux's default sched_rr_timeslice_ms.
constexpr absl::Duration kRrTimeslice = absl::Milliseconds(100);

bool RealtimePolicy(int policy) {
  return policy == SCHED_FIFO || policy == SCHED_RR;
}
bool FairPolicy(int policy) {
  return policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE;
}

// What a set call asks for.
struct SchedChange {
  int policy = -1;  // -1: keep the current one (sched_setparam)
  uint32_t priority = 0;
  std::optional<int> nice;  // sched_setattr, for the normal policies
  bool reset_on_fork = false;
  uint64_t runtime = 0, deadline = 0, period = 0;  // SCHED_DEADLINE
};

// Linux's rules for SCHED_DEADLINE's parameters (sched(7)): runtime <=
// deadline <= period (a period of 0 means the deadline), runtime at least
// 1024 ns, and neither beyond 2^63.
bool ValidDeadline(const SchedChange& c) {
  constexpr uint64_t kLimit = uint64_t{1} << 63;
  uint64_t period = c.period != 0 ? c.period : c.deadline;
  return c.deadline != 0 && c.runtime >= 1024 && c.runtime <= c.deadline &&
         c.deadline <= period && c.deadline < kLimit && period < kLimit;
}

// Linux's __sched_setscheduler: the checks in its order, then the change.
ErrnoOr<void> ChangeSched(Task& caller, Task& target, SchedChange c) {
  kernel::SchedParams cur = target.sched();
  if (c.policy < 0) {
    c.policy = cur.policy;
    c.reset_on_fork = cur.reset_on_fork;
  } else if (!FairPolicy(c.policy) && !RealtimePolicy(c.policy) &&
             c.policy != SCHED_DEADLINE) {
    return Errno(EINVAL);
  }
  if (c.priority > 99) return Errno(EINVAL);
  if ((c.policy == SCHED_DEADLINE && !ValidDeadline(c)) ||
      RealtimePolicy(c.policy) != (c.priority != 0)) {
    return Errno(EINVAL);
  }
  if (!Privileged(caller)) {
    if (FairPolicy(c.policy) && c.nice && *c.nice < cur.nice &&
        !MayNice(caller, target, *c.nice)) {
      return Errno(EPERM);
    }
    if (RealtimePolicy(c.policy)) {
      rlim_t rtprio = target.rlimits()[RLIMIT_RTPRIO].rlim_cur;
      if (c.policy != cur.policy && rtprio == 0) return Errno(EPERM);
      if (c.priority > static_cast<uint32_t>(cur.priority) &&
          c.priority > rtprio) {
        return Errno(EPERM);
      }
    }
    if (c.policy == SCHED_DEADLINE) return Errno(EPERM);
    // SCHED_IDLE counts as the lowest priority: leaving it is like
    // lowering the nice value.
    if (cur.policy == SCHED_IDLE && c.policy != SCHED_IDLE &&
        !MayNice(caller, target, cur.nice)) {
      return Errno(EPERM);
    }
    if (!SameOwner(caller, target)) return Errno(EPERM);
    if (cur.reset_on_fork && !c.reset_on_fork) return Errno(EPERM);
  }
  if (c.policy == SCHED_DEADLINE) return Errno(EBUSY);
  cur.policy = c.policy;
  cur.priority = RealtimePolicy(c.policy) ? static_cast<int>(c.priority) : 0;
  if (FairPolicy(c.policy) && c.nice) cur.nice = *c.nice;
  cur.reset_on_fork = c.reset_on_fork;
  target.set_sched(cur);
  return {};
}

// Runs `fn` on the thread `tid` names (0: the caller) while the task
// registry keeps it; EINVAL for a negative TID, ESRCH if there is none.
template <typename Fn>
auto OnThread(Task& t, int tid, Fn&& fn) -> decltype(fn(t)) {
  if (tid < 0) return Errno(EINVAL);
  if (tid == 0 || tid == t.tid()) return fn(t);
  return t.kernel().WithTask(tid, fn);
}

// sched_setscheduler and sched_setparam.
ErrnoOr<void> SetScheduler(Task& t, int pid, int policy, UserAddr param) {
  if (param.null() || pid < 0) return Errno(EINVAL);
  struct sched_param p;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(param.value, &p, sizeof(p)));
  SchedChange c;
  c.policy = policy < 0 ? -1 : policy & ~SCHED_RESET_ON_FORK;
  c.reset_on_fork = policy >= 0 && (policy & SCHED_RESET_ON_FORK);
  c.priority = static_cast<uint32_t>(p.sched_priority);
  return OnThread(
      t, pid, [&](Task& o) -> ErrnoOr<void> { return ChangeSched(t, o, c); });
}

}  // namespace

ErrnoOr<void> SchedSetscheduler(Task& t, int pid, int policy, UserAddr param) {
  if (policy < 0) return Errno(EINVAL);
  return SetScheduler(t, pid, policy, param);
}

ErrnoOr<void> SchedSetparam(Task& t, int pid, UserAddr param) {
  return SetScheduler(t, pid, -1, param);
}

ErrnoOr<uint64_t> SchedGetscheduler(Task& t, int pid) {
  return OnThread(t, pid, [](Task& o) -> ErrnoOr<uint64_t> {
    kernel::SchedParams p = o.sched();
    return static_cast<uint64_t>(p.policy |
                                 (p.reset_on_fork ? SCHED_RESET_ON_FORK : 0));
  });
}

ErrnoOr<void> SchedGetparam(Task& t, int pid, UserAddr param) {
  if (param.null() || pid < 0) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(uint64_t prio,
                          OnThread(t, pid, [](Task& o) -> ErrnoOr<uint64_t> {
                            return static_cast<uint64_t>(o.sched().priority);
                          }));
  struct sched_param p {};
  p.sched_priority = static_cast<int>(prio);
  return t.mm().CopyOut(param.value, &p, sizeof(p));
}

// SCHED_RR's slice; 0 for the others (FIFO has none, and the normal
// policies' slices depend on the host's load).
ErrnoOr<void> SchedRrGetInterval(Task& t, int pid, UserAddr interval) {
  SENTRY_ASSIGN_OR_RETURN(uint64_t policy,
                          OnThread(t, pid, [](Task& o) -> ErrnoOr<uint64_t> {
                            return static_cast<uint64_t>(o.sched().policy);
                          }));
  struct timespec ts = absl::ToTimespec(
      policy == SCHED_RR ? kRrTimeslice : absl::ZeroDuration());
  return t.mm().CopyOut(interval.value, &ts, sizeof(ts));
}

ErrnoOr<void> SchedGetattr(Task& t, int pid, UserAddr attr, uint32_t size,
                           uint32_t flags) {
  if (attr.null() || pid < 0 || size > kMaxAttrSize ||
      size < kSchedAttrSizeVer0 || flags != 0) {
    return Errno(EINVAL);
  }
  SchedAttr out{};
  SENTRY_RETURN_IF_ERRNO(OnThread(t, pid, [&](Task& o) -> ErrnoOr<void> {
    kernel::SchedParams p = o.sched();
    out.sched_policy = static_cast<uint32_t>(p.policy);
    out.sched_flags = p.reset_on_fork ? SCHED_FLAG_RESET_ON_FORK : 0;
    if (RealtimePolicy(p.policy)) {
      out.sched_priority = static_cast<uint32_t>(p.priority);
    } else {
      out.sched_nice = p.nice;
    }
    return {};
  }));
  // As much of the structure as both sides know, saying how much.
  out.size = std::min(size, kSchedAttrSizeVer1);
  return t.mm().CopyOut(attr.value, &out, out.size);
}

ErrnoOr<void> SchedSetattr(Task& t, int pid, UserAddr attr, uint32_t flags) {
  if (attr.null() || pid < 0 || flags != 0) return Errno(EINVAL);
  uint32_t size;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(attr.value, &size, sizeof(size)));
  if (size == 0) size = kSchedAttrSizeVer0;
  // A size we cannot take, or a larger structure whose extra fields are
  // not all zero: E2BIG, telling the caller the size we know.
  auto too_big = [&]() -> ErrnoOr<void> {
    (void)t.mm().CopyOut(attr.value, &kSchedAttrSizeVer1, sizeof(uint32_t));
    return Errno(E2BIG);
  };
  if (size < kSchedAttrSizeVer0 || size > kMaxAttrSize) return too_big();
  SchedAttr in{};
  SENTRY_RETURN_IF_ERRNO(
      t.mm().CopyIn(attr.value, &in, std::min(size, kSchedAttrSizeVer1)));
  if (size > kSchedAttrSizeVer1) {
    std::vector<uint8_t> rest(size - kSchedAttrSizeVer1);
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(attr.value + kSchedAttrSizeVer1,
                                         rest.data(), rest.size()));
    for (uint8_t b : rest) {
      if (b != 0) return too_big();
    }
  }
  if ((in.sched_flags & SCHED_FLAG_UTIL_CLAMP) && size < kSchedAttrSizeVer1) {
    return Errno(EINVAL);
  }
  if (static_cast<int32_t>(in.sched_policy) < 0) return Errno(EINVAL);
  SchedChange c;
  c.policy = (in.sched_flags & SCHED_FLAG_KEEP_POLICY)
                 ? -1
                 : static_cast<int>(in.sched_policy);
  c.priority = in.sched_priority;
  c.nice = std::clamp(in.sched_nice, -20, 19);
  c.reset_on_fork = in.sched_flags & SCHED_FLAG_RESET_ON_FORK;
  c.runtime = in.sched_runtime;
  c.deadline = in.sched_deadline;
  c.period = in.sched_period;
  return OnThread(t, pid, [&](Task& o) -> ErrnoOr<void> {
    if (in.sched_flags & SCHED_FLAG_KEEP_PARAMS) {
      kernel::SchedParams cur = o.sched();
      c.priority = static_cast<uint32_t>(cur.priority);
      c.nice = cur.nice;
    }
    if (in.sched_flags & ~static_cast<uint64_t>(SCHED_FLAG_ALL)) {
      return Errno(EINVAL);
    }
    if (in.sched_flags & SCHED_FLAG_UTIL_CLAMP) {
      return Errno(EOPNOTSUPP);
    }
    return ChangeSched(t, o, c);
  });
}

// getpriority returns 20 - nice, so the result is never negative.
ErrnoOr<uint64_t> Getpriority(Task& t, int which, int who) {
  if (which != PRIO_PROCESS && which != PRIO_PGRP && which != PRIO_USER) {
    return Errno(EINVAL);
  }
  if (which != PRIO_PROCESS || (who != 0 && who != t.pid())) {
    int nice = 0;
    bool found = which == PRIO_PROCESS
                     ? t.kernel().processes().WithLive(
                           who, [&](Task& o) { nice = o.nice(); })
                     : true;  // groups and users: the caller's view
    if (!found) return Errno(ESRCH);
    if (which != PRIO_PROCESS) nice = t.nice();
    return static_cast<uint64_t>(20 - nice);
  }
  return static_cast<uint64_t>(20 - t.nice());
}

ErrnoOr<void> Setpriority(Task& t, int which, int who, int prio) {
  if (which != PRIO_PROCESS && which != PRIO_PGRP && which != PRIO_USER) {
    return Errno(EINVAL);
  }
  int nice = std::clamp(prio, -20, 19);
  auto apply = [&](Task& target) -> ErrnoOr<void> {
    if (!SameOwner(t, target)) return Errno(EPERM);
    // Lowering the nice value (raising priority) needs CAP_SYS_NICE or
    // room under RLIMIT_NICE.
    kernel::SchedParams p = target.sched();
    if (nice < p.nice && !MayNice(t, target, nice)) return Errno(EACCES);
    p.nice = nice;
    target.set_sched(p);
    return {};
  };
  if (which == PRIO_PROCESS && who != 0 && who != t.pid()) {
    ErrnoOr<void> r;
    if (!t.kernel().processes().WithLive(who, [&](Task& o) { r = apply(o); })) {
      return Errno(ESRCH);
    }
    return r;
  }
  return apply(t);
}

ErrnoOr<uint64_t> Times(Task& t, UserAddr buf) {
  long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0) hz = 100;
  if (!buf.null()) {
    struct tms out {};
    kernel::CpuTimes c = t.group().ProcessCpuTimes();
    out.tms_utime = static_cast<clock_t>(c.user_ns / (1000000000 / hz));
    out.tms_stime = static_cast<clock_t>(c.sys_ns / (1000000000 / hz));
    kernel::CpuTimes children = t.group().ChildrenCpuTimes();
    out.tms_cutime = static_cast<clock_t>(children.user_ns / (1000000000 / hz));
    out.tms_cstime = static_cast<clock_t>(children.sys_ns / (1000000000 / hz));
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(buf.value, &out, sizeof(out)));
  }
  // Clock ticks since an arbitrary point: the sandbox's start.
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t ns = static_cast<uint64_t>(now.tv_sec) * 1000000000 +
                static_cast<uint64_t>(now.tv_nsec) - t.kernel().boot_time_ns();
  return ns / (1000000000 / static_cast<uint64_t>(hz));
}

}  // namespace sentry::syscalls
