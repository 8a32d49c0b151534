// Credentials: set/get of real, effective, saved and filesystem IDs and
// supplementary groups, capget/capset; and prctl, sysinfo, getrusage.
//
// How we differ from Linux: capabilities follow the effective UID (root
// has all, others none; the file system ones follow the filesystem UID,
// see Task::resolver); capset accepts only what that already implies.
#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "absl/time/time.h"
#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

constexpr uint32_t kKeep = static_cast<uint32_t>(-1);
constexpr int kNgroupsMax = 65536;

bool Privileged(Task& t) { return t.creds().euid == 0; }

// setresuid's rule for unprivileged callers: each new ID must be one of the
// current real, effective or saved IDs.
template <typename Id>
bool Allowed(Id v, Id r, Id e, Id s) {
  return v == static_cast<Id>(kKeep) || v == r || v == e || v == s;
}

}  // namespace

ErrnoOr<void> Setresuid(Task& t, uint32_t r, uint32_t e, uint32_t s) {
  kernel::Credentials& c = t.creds();
  if (!Privileged(t) && !(Allowed<uid_t>(r, c.ruid, c.euid, c.suid) &&
                          Allowed<uid_t>(e, c.ruid, c.euid, c.suid) &&
                          Allowed<uid_t>(s, c.ruid, c.euid, c.suid))) {
    return Errno(EPERM);
  }
  if (r != kKeep) c.ruid = r;
  if (e != kKeep) c.euid = e;
  if (s != kKeep) c.suid = s;
  c.fsuid = c.euid;
  return {};
}

ErrnoOr<void> Setresgid(Task& t, uint32_t r, uint32_t e, uint32_t s) {
  kernel::Credentials& c = t.creds();
  if (!Privileged(t) && !(Allowed<gid_t>(r, c.rgid, c.egid, c.sgid) &&
                          Allowed<gid_t>(e, c.rgid, c.egid, c.sgid) &&
                          Allowed<gid_t>(s, c.rgid, c.egid, c.sgid))) {
    return Errno(EPERM);
  }
  if (r != kKeep) c.rgid = r;
  if (e != kKeep) c.egid = e;
  if (s != kKeep) c.sgid = s;
  c.fsgid = c.egid;
  return {};
}

ErrnoOr<void> Setuid(Task& t, uint32_t uid) {
  if (uid == kKeep) return Errno(EINVAL);
  kernel::Credentials& c = t.creds();
  if (Privileged(t)) {
    c.ruid = c.euid = c.suid = c.fsuid = uid;
    return {};
  }
  if (uid != c.ruid && uid != c.suid) return Errno(EPERM);
  c.euid = c.fsuid = uid;
  return {};
}

ErrnoOr<void> Setgid(Task& t, uint32_t gid) {
  if (gid == kKeep) return Errno(EINVAL);
  kernel::Credentials& c = t.creds();
  if (Privileged(t)) {
    c.rgid = c.egid = c.sgid = c.fsgid = gid;
    return {};
  }
  if (gid != c.rgid && gid != c.sgid) return Errno(EPERM);
  c.egid = c.fsgid = gid;
  return {};
}

ErrnoOr<void> Setreuid(Task& t, uint32_t r, uint32_t e) {
  kernel::Credentials& c = t.creds();
  uid_t old_r = c.ruid;
  if (!Privileged(t)) {
    if (r != kKeep && r != c.ruid && r != c.euid) return Errno(EPERM);
    if (e != kKeep && e != c.ruid && e != c.euid && e != c.suid) {
      return Errno(EPERM);
    }
  }
  if (r != kKeep) c.ruid = r;
  if (e != kKeep) c.euid = e;
  // The saved ID follows the effective one when the real ID is set or the
  // effective one changes to something other than the old real ID.
  if (r != kKeep || (e != kKeep && e != old_r)) c.suid = c.euid;
  c.fsuid = c.euid;
  return {};
}

ErrnoOr<void> Setregid(Task& t, uint32_t r, uint32_t e) {
  kernel::Credentials& c = t.creds();
  gid_t old_r = c.rgid;
  if (!Privileged(t)) {
    if (r != kKeep && r != c.rgid && r != c.egid) return Errno(EPERM);
    if (e != kKeep && e != c.rgid && e != c.egid && e != c.sgid) {
      return Errno(EPERM);
    }
  }
  if (r != kKeep) c.rgid = r;
  if (e != kKeep) c.egid = e;
  if (r != kKeep || (e != kKeep && e != old_r)) c.sgid = c.egid;
  c.fsgid = c.egid;
  return {};
}

ErrnoOr<void> Getresuid(Task& t, UserAddr r, UserAddr e, UserAddr s) {
  const kernel::Credentials& c = t.creds();
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(r.value, &c.ruid, sizeof(uid_t)));
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(e.value, &c.euid, sizeof(uid_t)));
  return t.mm().CopyOut(s.value, &c.suid, sizeof(uid_t));
}

ErrnoOr<void> Getresgid(Task& t, UserAddr r, UserAddr e, UserAddr s) {
  const kernel::Credentials& c = t.creds();
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(r.value, &c.rgid, sizeof(gid_t)));
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(e.value, &c.egid, sizeof(gid_t)));
  return t.mm().CopyOut(s.value, &c.sgid, sizeof(gid_t));
}

// setfsuid(2)/setfsgid(2): always return the previous filesystem ID. The
// new one takes effect if it is the real, effective, saved or current
// filesystem ID, or the caller may set any (CAP_SETUID/CAP_SETGID); an
// ID of -1 is never valid, which makes the call a query.
ErrnoOr<uint64_t> Setfsuid(Task& t, uint32_t uid) {
  kernel::Credentials& c = t.creds();
  const uid_t old = c.fsuid;
  if (uid != kKeep && (Privileged(t) || uid == c.ruid || uid == c.euid ||
                       uid == c.suid || uid == c.fsuid)) {
    c.fsuid = uid;
  }
  return uint64_t{old};
}

ErrnoOr<uint64_t> Setfsgid(Task& t, uint32_t gid) {
  kernel::Credentials& c = t.creds();
  const gid_t old = c.fsgid;
  if (gid != kKeep && (Privileged(t) || gid == c.rgid || gid == c.egid ||
                       gid == c.sgid || gid == c.fsgid)) {
    c.fsgid = gid;
  }
  return uint64_t{old};
}

ErrnoOr<uint64_t> Getgroups(Task& t, int size, UserAddr list) {
  const std::vector<gid_t>& g = t.creds().groups;
  if (size < 0) return Errno(EINVAL);
  if (size == 0) return static_cast<uint64_t>(g.size());
  if (static_cast<size_t>(size) < g.size()) return Errno(EINVAL);
  SENTRY_RETURN_IF_ERRNO(
      t.mm().CopyOut(list.value, g.data(), g.size() * sizeof(gid_t)));
  return static_cast<uint64_t>(g.size());
}

ErrnoOr<void> Setgroups(Task& t, int size, UserAddr list) {
  if (size < 0 || size > kNgroupsMax) return Errno(EINVAL);
  if (!Privileged(t)) return Errno(EPERM);
  std::vector<gid_t> g(static_cast<size_t>(size));
  SENTRY_RETURN_IF_ERRNO(
      t.mm().CopyIn(list.value, g.data(), g.size() * sizeof(gid_t)));
  t.creds().groups = std::move(g);
  return {};
}

ErrnoOr<void> Capget(Task& t, UserAddr header, UserAddr data) {
  struct __user_cap_header_struct h;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(header.value, &h, sizeof(h)));
  if (h.version != _LINUX_CAPABILITY_VERSION_3 &&
      h.version != _LINUX_CAPABILITY_VERSION_2 &&
      h.version != _LINUX_CAPABILITY_VERSION_1) {
    h.version = _LINUX_CAPABILITY_VERSION_3;
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(header.value, &h, sizeof(h)));
    return data.null() ? ErrnoOr<void>() : Errno(EINVAL);
  }
  if (data.null()) return {};
  uint32_t all = Privileged(t) ? 0xffffffffu : 0;
  struct __user_cap_data_struct d[2] = {{all, all, 0},
                                        {all & 0x1ff, all & 0x1ff, 0}};
  size_t n = h.version == _LINUX_CAPABILITY_VERSION_1 ? 1 : 2;
  return t.mm().CopyOut(data.value, d, n * sizeof(d[0]));
}

ErrnoOr<void> Capset(Task& t, UserAddr header, UserAddr data) {
  struct __user_cap_header_struct h;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(header.value, &h, sizeof(h)));
  if (h.pid != 0 && h.pid != t.pid()) return Errno(EPERM);
  struct __user_cap_data_struct d[2];
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(data.value, d, sizeof(d)));
  // Only dropping to what the effective UID already implies is accepted.
  if (!Privileged(t) && (d[0].effective | d[0].permitted | d[1].effective |
                         d[1].permitted) != 0) {
    return Errno(EPERM);
  }
  return {};
}

namespace {

// Linux 6.4's PR_GET_AUXV.
constexpr int kPrGetAuxv = 0x41555856;

// PR_GET_AUXV: copies as much of the saved vector as `len` allows and
// returns its whole size. How we differ from Linux: its size is that of
// the vector the program got, up to AT_NULL, where Linux returns the size
// of its fixed array (zero-padded past AT_NULL).
ErrnoOr<uint64_t> GetAuxv(Task& t, uint64_t addr, uint64_t len) {
  const std::vector<uint64_t>& auxv = t.saved_auxv();
  uint64_t size = auxv.size() * sizeof(uint64_t);
  uint64_t n = std::min(size, len);
  if (n != 0) SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(addr, auxv.data(), n));
  return size;
}

}  // namespace

ErrnoOr<uint64_t> Prctl(Task& t, int option, uint64_t a2, uint64_t a3,
                        uint64_t a4, uint64_t a5) {
  switch (option) {
    case PR_SET_NAME: {
      char name[16] = {};
      size_t got = t.mm().CopyInPartial(a2, name, sizeof(name) - 1);
      if (got == 0) return Errno(EFAULT);
      t.set_comm(std::string(name, strnlen(name, sizeof(name) - 1)));
      return uint64_t{0};
    }
    case PR_GET_NAME: {
      char name[16] = {};
      std::string comm = t.comm();
      std::memcpy(name, comm.data(), std::min<size_t>(comm.size(), 15));
      SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(a2, name, sizeof(name)));
      return uint64_t{0};
    }
    case PR_SET_PDEATHSIG:
      if (a2 > static_cast<uint64_t>(kernel::kMaxSignal)) return Errno(EINVAL);
      t.pdeath_signal() = static_cast<int>(a2);
      t.kernel().processes().SetPdeathSignal(t.pid(), static_cast<int>(a2));
      return uint64_t{0};
    case PR_GET_PDEATHSIG: {
      int sig = t.pdeath_signal();
      SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(a2, &sig, sizeof(sig)));
      return uint64_t{0};
    }
    // The unused arguments must be 0, so they can be given a meaning later.
    case PR_SET_NO_NEW_PRIVS:
      if (a2 != 1 || a3 != 0 || a4 != 0 || a5 != 0) return Errno(EINVAL);
      t.no_new_privs() = true;
      return uint64_t{0};
    case PR_GET_NO_NEW_PRIVS:
      if (a2 != 0 || a3 != 0 || a4 != 0 || a5 != 0) return Errno(EINVAL);
      return uint64_t{t.no_new_privs() ? 1u : 0u};
    case PR_SET_DUMPABLE:
      if (a2 > 1) return Errno(EINVAL);
      t.dumpable() = static_cast<int>(a2);
      return uint64_t{0};
    case PR_GET_DUMPABLE:
      return static_cast<uint64_t>(t.dumpable());
    case PR_SET_CHILD_SUBREAPER:
      t.child_subreaper() = a2 != 0;
      t.kernel().processes().SetSubreaper(t.pid(), a2 != 0);
      return uint64_t{0};
    case PR_GET_CHILD_SUBREAPER: {
      int v = t.child_subreaper() ? 1 : 0;
      SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(a2, &v, sizeof(v)));
      return uint64_t{0};
    }
    case PR_GET_SECCOMP:
      return uint64_t{0};
    case PR_CAPBSET_READ:
      if (a2 > CAP_LAST_CAP) return Errno(EINVAL);
      return uint64_t{(t.creds().cap_bset >> a2) & 1};
    case PR_CAPBSET_DROP:
      // Needs CAP_SETPCAP, which only root has here (capabilities follow
      // the effective UID).
      if (a2 > CAP_LAST_CAP) return Errno(EINVAL);
      if (t.creds().euid != 0) return Errno(EPERM);
      t.creds().cap_bset &= ~(uint64_t{1} << a2);
      return uint64_t{0};
    case PR_SET_KEEPCAPS:
      if (a2 > 1) return Errno(EINVAL);
      t.creds().keepcaps = a2 == 1;
      return uint64_t{0};
    case PR_GET_KEEPCAPS:
      return uint64_t{t.creds().keepcaps ? 1u : 0u};
    case PR_GET_TID_ADDRESS:
      // set_tid_address's (or CLONE_CHILD_CLEARTID's) pointer.
      SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(a2, &t.clear_child_tid(),
                                            sizeof(t.clear_child_tid())));
      return uint64_t{0};
    case PR_SET_TIMERSLACK:
      t.timer_slack_ns() = a2 == 0 ? t.default_timer_slack_ns() : a2;
      return uint64_t{0};
    case PR_GET_TIMERSLACK:
      return t.timer_slack_ns();
    case PR_SET_THP_DISABLE:
      if (a3 != 0 || a4 != 0 || a5 != 0) return Errno(EINVAL);
      t.group().set_thp_disabled(a2 != 0);
      return uint64_t{0};
    case PR_GET_THP_DISABLE:
      if (a2 != 0 || a3 != 0 || a4 != 0 || a5 != 0) return Errno(EINVAL);
      return uint64_t{t.group().thp_disabled() ? 1u : 0u};
    case kPrGetAuxv:
      if (a4 != 0 || a5 != 0) return Errno(EINVAL);
      return GetAuxv(t, a2, a3);
    default:
      return Errno(EINVAL);
  }
}

ErrnoOr<void> Sysinfo(Task& t, UserAddr info) {
  struct sysinfo si {};
  // Uptime is CLOCK_BOOTTIME, which the sandbox reads from the host as it
  // reads the other clocks (so it is the host's uptime, not the
  // sandbox's), in seconds rounded up as Linux rounds.
  struct timespec boot;
  clock_gettime(CLOCK_BOOTTIME, &boot);
  si.uptime = static_cast<long>(boot.tv_sec + (boot.tv_nsec != 0 ? 1 : 0));
  // Memory as the sandbox sees it: the host's RAM bounds it, and what the
  // sandbox has allocated is what is used.
  long pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGESIZE);
  si.totalram = static_cast<unsigned long>(pages) * page;
  uint64_t used = t.kernel().memory().AllocatedBytes();
  si.freeram = si.totalram > used ? si.totalram - used : 0;
  // Linux counts threads here, not processes.
  si.procs =
      static_cast<unsigned short>(std::min(t.kernel().TaskCount(), 0xffff));
  si.mem_unit = 1;
  return t.mm().CopyOut(info.value, &si, sizeof(si));
}

ErrnoOr<void> Getrusage(Task& t, int who, UserAddr usage) {
  if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD) {
    return Errno(EINVAL);
  }
  struct rusage ru {};
  if (who == RUSAGE_CHILDREN) {
    // The children and further descendants that were waited for.
    kernel::CpuTimes c = t.group().ChildrenCpuTimes();
    ru.ru_utime = absl::ToTimeval(absl::Nanoseconds(c.user_ns));
    ru.ru_stime = absl::ToTimeval(absl::Nanoseconds(c.sys_ns));
  } else {
    // Every mapped page counts as resident (as /proc's VmRSS says).
    uint64_t mapped = 0;
    for (const mm::Vma& v : t.mm().Areas()) mapped += v.length();
    ru.ru_maxrss = static_cast<long>(mapped / 1024);
    // Guest code is user time; the Sentry's work for it, system time.
    kernel::CpuTimes c =
        who == RUSAGE_THREAD ? t.ThreadCpuTimes() : t.group().ProcessCpuTimes();
    ru.ru_utime.tv_sec = static_cast<time_t>(c.user_ns / 1000000000);
    ru.ru_utime.tv_usec =
        static_cast<suseconds_t>(c.user_ns % 1000000000 / 1000);
    ru.ru_stime.tv_sec = static_cast<time_t>(c.sys_ns / 1000000000);
    ru.ru_stime.tv_usec =
        static_cast<suseconds_t>(c.sys_ns % 1000000000 / 1000);
  }
  return t.mm().CopyOut(usage.value, &ru, sizeof(ru));
}

}  // namespace sentry::syscalls
