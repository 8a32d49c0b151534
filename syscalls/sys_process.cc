// exit, exit_group, IDs, set_tid_address, set_robust_list, arch_prctl,
// sched_yield.
#include <asm/prctl.h>
#include <errno.h>
#include <sched.h>

#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

// sizeof(struct robust_list_head) on x86-64.
constexpr uint64_t kRobustListHeadSize = 24;
// Canonical user addresses end here.
constexpr uint64_t kUserLimit = 1ULL << 47;

}  // namespace

ErrnoOr<uint64_t> Exit(Task& t, int status) {
  // This thread only; the process ends with its last thread.
  t.ExitThread(status);
  return uint64_t{0};
}

ErrnoOr<uint64_t> ExitGroup(Task& t, int status) {
  t.ExitGroup(status);
  return uint64_t{0};
}

ErrnoOr<uint64_t> Getpid(Task& t) { return static_cast<uint64_t>(t.pid()); }
ErrnoOr<uint64_t> Gettid(Task& t) { return static_cast<uint64_t>(t.tid()); }
ErrnoOr<uint64_t> Getppid(Task& t) { return static_cast<uint64_t>(t.ppid()); }
ErrnoOr<uint64_t> Getuid(Task& t) { return uint64_t{t.creds().ruid}; }
ErrnoOr<uint64_t> Geteuid(Task& t) { return uint64_t{t.creds().euid}; }
ErrnoOr<uint64_t> Getgid(Task& t) { return uint64_t{t.creds().rgid}; }
ErrnoOr<uint64_t> Getegid(Task& t) { return uint64_t{t.creds().egid}; }

ErrnoOr<uint64_t> SetTidAddress(Task& t, UserAddr tidptr) {
  t.clear_child_tid() = tidptr.value;
  return static_cast<uint64_t>(t.tid());
}

ErrnoOr<void> SetRobustList(Task& t, UserAddr head, uint64_t length) {
  if (length != kRobustListHeadSize) return Errno(EINVAL);
  t.robust_list() = head.value;
  return {};
}

ErrnoOr<uint64_t> ArchPrctl(Task& t, int code, UserAddr user_addr) {
  const uint64_t addr = user_addr.value;
  platform::Registers& r = t.regs();
  switch (code) {
    case ARCH_SET_FS:
      if (addr >= kUserLimit) return Errno(EPERM);
      r.fs_base = addr;
      return uint64_t{0};
    case ARCH_SET_GS:
      if (addr >= kUserLimit) return Errno(EPERM);
      r.gs_base = addr;
      return uint64_t{0};
    case ARCH_GET_FS:
      SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(addr, &r.fs_base, 8));
      return uint64_t{0};
    case ARCH_GET_GS:
      SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(addr, &r.gs_base, 8));
      return uint64_t{0};
    default:
      return Errno(EINVAL);
  }
}

ErrnoOr<void> SchedYield(Task&) {
  sched_yield();
  return {};
}

}  // namespace sentry::syscalls
