// Scheduling as the guest sees it: sched_getaffinity/setaffinity, getcpu,
// sched_getscheduler/getparam/get_priority_max/min, getpriority and
// setpriority, times.
//
// How we differ from Linux: the host schedules the stub processes. Only
// the affinity mask reaches it (the guest's threads run on the CPUs they
// chose); policies, priorities and nice values are recorded and reported
// without changing how guest code is scheduled.
#include <errno.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <unistd.h>

#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

// Checks that `pid` (0: the caller) names a live process.
ErrnoOr<void> CheckTarget(Task& t, int pid) {
  if (pid < 0) return Errno(EINVAL);
  if (pid == 0 || pid == t.pid()) return {};
  if (!t.kernel().processes().WithLive(pid, [](Task&) {})) return Errno(ESRCH);
  return {};
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
  if (!cpu.null())
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(cpu.value, &c, sizeof(c)));
  if (!node.null()) {
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(node.value, &n, sizeof(n)));
  }
  return {};
}

ErrnoOr<uint64_t> SchedGetscheduler(Task& t, int pid) {
  SENTRY_RETURN_IF_ERRNO(CheckTarget(t, pid));
  return uint64_t{SCHED_OTHER};
}

ErrnoOr<void> SchedGetparam(Task& t, int pid, UserAddr param) {
  if (param.null()) return Errno(EINVAL);
  SENTRY_RETURN_IF_ERRNO(CheckTarget(t, pid));
  struct sched_param p {};
  return t.mm().CopyOut(param.value, &p, sizeof(p));
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
    // Lowering the nice value (raising priority) needs CAP_SYS_NICE.
    if (nice < target.nice() && t.creds().euid != 0) return Errno(EACCES);
    target.nice() = nice;
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
