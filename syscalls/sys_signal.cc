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

namespace {

// May `sender` signal `target`? Root may signal anyone; others need their
// real or effective UID to match the target's real or saved UID (kill(2)).
bool MaySignal(Task& sender, Task& target) {
  const kernel::Credentials& s = sender.creds();
  const kernel::Credentials& d = target.creds();
  return s.euid == 0 || s.ruid == d.ruid || s.ruid == d.suid ||
         s.euid == d.ruid || s.euid == d.suid;
}

// Queues `sig` on `target` as kill(2) would. Init (PID 1) only gets
// signals from other processes that it handles: default actions would
// bring the sandbox down (pid_namespaces(7)).
void Deliver(Task& sender, Task& target, int sig) {
  if (sig == 0) return;
  if (target.pid() == 1 && sender.pid() != 1 &&
      target.sigactions()[sig].handler == reinterpret_cast<uint64_t>(SIG_DFL)) {
    return;
  }
  target.QueueSignal(sig);
}

}  // namespace

ErrnoOr<void> Kill(Task& t, int pid, int sig) {
  if (sig < 0 || sig > kernel::kMaxSignal) return Errno(EINVAL);
  if (pid == INT32_MIN) return Errno(ESRCH);
  if (pid == t.pid()) return SignalSelf(t, sig);
  int allowed = 0;
  int found =
      t.kernel().processes().ForEachTarget(t.pid(), pid, [&](Task& target) {
        if (&target == &t) {
          if (sig != 0) t.QueueSignal(sig);
          ++allowed;
        } else if (MaySignal(t, target)) {
          Deliver(t, target, sig);
          ++allowed;
        }
      });
  if (found == 0) return Errno(ESRCH);
  if (allowed == 0) return Errno(EPERM);
  return {};
}

ErrnoOr<void> Tkill(Task& t, int tid, int sig) {
  if (tid <= 0) return Errno(EINVAL);
  if (sig < 0 || sig > kernel::kMaxSignal) return Errno(EINVAL);
  if (tid == t.tid()) return SignalSelf(t, sig);
  // One thread per process: a TID is a PID.
  bool permitted = true;
  bool found = t.kernel().processes().WithLive(tid, [&](Task& target) {
    if (!MaySignal(t, target)) {
      permitted = false;
      return;
    }
    Deliver(t, target, sig);
  });
  if (!found) return Errno(ESRCH);
  if (!permitted) return Errno(EPERM);
  return {};
}

ErrnoOr<void> Tgkill(Task& t, int tgid, int tid, int sig) {
  if (tgid <= 0 || tid <= 0) return Errno(EINVAL);
  if (tgid != tid) {
    if (sig < 0 || sig > kernel::kMaxSignal) return Errno(EINVAL);
    return Errno(ESRCH);
  }
  return Tkill(t, tid, sig);
}

}  // namespace sentry::syscalls
