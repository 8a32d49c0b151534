// rt_sigaction, rt_sigprocmask, kill, tkill, tgkill.
#include <errno.h>
#include <signal.h>

#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

constexpr uint64_t kSigsetSize = 8;

}  // namespace

ErrnoOr<void> RtSigaction(Task& t, int sig, UserAddr act, UserAddr oldact,
                          uint64_t sigsetsize) {
  if (sigsetsize != kSigsetSize) return Errno(EINVAL);
  if (sig < 1 || sig > kernel::kMaxSignal) return Errno(EINVAL);
  if (!act.null() && (sig == SIGKILL || sig == SIGSTOP)) return Errno(EINVAL);
  kernel::KernelSigaction next;
  if (!act.null()) {
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(act.value, &next, sizeof(next)));
  }
  kernel::KernelSigaction& slot = t.sigactions()[sig];
  if (!oldact.null()) {
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(oldact.value, &slot, sizeof(slot)));
  }
  if (!act.null()) {
    next.mask &= ~((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)));
    slot = next;
  }
  return {};
}

ErrnoOr<void> RtSigprocmask(Task& t, int how, UserAddr set, UserAddr oldset,
                            uint64_t sigsetsize) {
  if (sigsetsize != kSigsetSize) return Errno(EINVAL);
  uint64_t old = t.signal_mask();
  if (!set.null()) {
    uint64_t mask;
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(set.value, &mask, sizeof(mask)));
    switch (how) {
      case SIG_BLOCK:
        mask = old | mask;
        break;
      case SIG_UNBLOCK:
        mask = old & ~mask;
        break;
      case SIG_SETMASK:
        break;
      default:
        return Errno(EINVAL);
    }
    if (!oldset.null()) {
      SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(oldset.value, &old, sizeof(old)));
    }
    t.set_signal_mask(mask);
    return {};
  }
  if (!oldset.null()) {
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(oldset.value, &old, sizeof(old)));
  }
  return {};
}

// The sandbox holds one process (PID 1, process group 1, one thread) until
// fork and threads land, so every target is either the caller or nobody.
//
// How we differ from Linux: the first process of a PID namespace ignores
// signals with default disposition that come from inside the namespace
// (SIGNAL_UNKILLABLE), so abort() in a container's init does not end it.
// `sentry run` promises native behaviour, so PID 1 here is an ordinary
// process: abort() kills it with SIGABRT, as it would outside a container.
namespace {

ErrnoOr<void> SignalSelf(Task& t, int sig) {
  if (sig < 0 || sig > kernel::kMaxSignal) return Errno(EINVAL);
  if (sig != 0) t.QueueSignal(sig);
  return {};
}

}  // namespace

ErrnoOr<void> Kill(Task& t, int pid, int sig) {
  if (sig < 0 || sig > kernel::kMaxSignal) return Errno(EINVAL);
  // pid -1: every process but init and the caller, which is init: nobody.
  if (pid == -1) return Errno(ESRCH);
  // pid 0 and -pgid name the caller's process group, which is {PID 1}.
  if (pid == t.pid() || pid == 0 || pid == -t.pid()) return SignalSelf(t, sig);
  return Errno(ESRCH);
}

ErrnoOr<void> Tkill(Task& t, int tid, int sig) {
  if (tid <= 0) return Errno(EINVAL);
  if (tid != t.tid()) {
    if (sig < 0 || sig > kernel::kMaxSignal) return Errno(EINVAL);
    return Errno(ESRCH);
  }
  return SignalSelf(t, sig);
}

ErrnoOr<void> Tgkill(Task& t, int tgid, int tid, int sig) {
  if (tgid <= 0 || tid <= 0) return Errno(EINVAL);
  if (tgid != t.pid()) {
    if (sig < 0 || sig > kernel::kMaxSignal) return Errno(EINVAL);
    return Errno(ESRCH);
  }
  return Tkill(t, tid, sig);
}

}  // namespace sentry::syscalls
