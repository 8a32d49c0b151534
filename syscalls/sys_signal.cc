// rt_sigaction, rt_sigprocmask.
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

}  // namespace sentry::syscalls
