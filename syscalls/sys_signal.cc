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
    // POSIX: setting a pending signal's action to SIG_IGN, or to SIG_DFL
    // when its default is to ignore it, discards it (blocked or not) from
    // the process's and every thread's pending sets. SIGCONT's default
    // (continue) is not "ignore": a pending SIGCONT stays.
    bool ignored =
        next.handler == reinterpret_cast<uint64_t>(SIG_IGN) ||
        (next.handler == reinterpret_cast<uint64_t>(SIG_DFL) &&
         kernel::DefaultActionOf(sig) == kernel::DefaultAction::kIgnore);
    if (ignored) t.group().DiscardPending(kernel::SigBit(sig));
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

// How we differ from Linux: the first process of a PID namespace ignores
// signals with default disposition from inside the namespace
// (SIGNAL_UNKILLABLE), including its own, so abort() in a container's init
// does not end it. `sentry run` promises native behaviour, so PID 1's own
// signals act as for any process; only other processes' default-action
// signals to PID 1 are dropped, as Linux does.
namespace {

// What kill(2) (SI_USER) or tkill/tgkill (SI_TKILL) from `sender` tells the
// receiver: the sender's PID and real UID.
siginfo_t SenderInfo(Task& sender, int sig, bool thread) {
  siginfo_t info{};
  info.si_signo = sig;
  info.si_code = thread ? SI_TKILL : SI_USER;
  info.si_pid = sender.pid();
  info.si_uid = sender.creds().ruid;
  return info;
}

// kill(getpid(), sig) (process-directed) or tkill(gettid(), sig) (this
// thread).
ErrnoOr<void> SignalSelf(Task& t, int sig, bool thread) {
  if (sig < 0 || sig > kernel::kMaxSignal) return Errno(EINVAL);
  if (sig != 0) {
    siginfo_t info = SenderInfo(t, sig, thread);
    if (thread) {
      t.QueueThreadSignal(sig, &info);
    } else {
      t.QueueSignal(sig, &info);
    }
  }
  return {};
}

}  // namespace

namespace {

// May `sender` signal a process with real UID `ruid` and saved UID
// `suid`? Root may signal anyone; others need their real or effective UID
// to match the target's real or saved UID (kill(2)).
bool MaySignalUids(Task& sender, uid_t ruid, uid_t suid) {
  const kernel::Credentials& s = sender.creds();
  return s.euid == 0 || s.ruid == ruid || s.ruid == suid || s.euid == ruid ||
         s.euid == suid;
}

bool MaySignal(Task& sender, Task& target) {
  return MaySignalUids(sender, target.creds().ruid, target.creds().suid);
}

// Queues `sig` on `target`'s process as kill(2) would, or on the thread
// alone for tkill/tgkill. Init (PID 1) only gets signals from other
// processes that it handles: default actions would bring the sandbox down
// (pid_namespaces(7)). A signal init blocks stays pending, as on Linux
// (it may read it with sigwait or a signalfd, or install a handler);
// delivery drops it if it still has its default action then.
void Deliver(Task& sender, Task& target, int sig, bool thread = false) {
  if (sig == 0) return;
  if (target.pid() == 1 && sender.pid() != 1 &&
      !(target.signal_mask() & kernel::SigBit(sig)) &&
      target.sigactions()[sig].handler == reinterpret_cast<uint64_t>(SIG_DFL)) {
    return;
  }
  siginfo_t info = SenderInfo(sender, sig, thread);
  if (thread) {
    target.QueueThreadSignal(sig, &info);
  } else {
    target.QueueSignal(sig, &info);
  }
}

}  // namespace

ErrnoOr<void> Kill(Task& t, int pid, int sig) {
  if (sig < 0 || sig > kernel::kMaxSignal) return Errno(EINVAL);
  if (pid == INT32_MIN) return Errno(ESRCH);
  if (pid == t.pid()) return SignalSelf(t, sig, /*thread=*/false);
  int allowed = 0;
  using KillTarget = kernel::ProcessTable::KillTarget;
  int found = t.kernel().processes().ForEachTarget(
      t.pid(), pid, [&](const KillTarget& target) {
        if (target.task != nullptr && target.task->pid() == t.pid()) {
          if (sig != 0) {
            siginfo_t info = SenderInfo(t, sig, /*thread=*/false);
            t.QueueSignal(sig, &info);
          }
          ++allowed;
          return;
        }
        // kill(2): SIGCONT needs only the same session.
        bool may = target.task != nullptr
                       ? MaySignal(t, *target.task)
                       : MaySignalUids(t, target.ruid, target.suid);
        if (!may && !(sig == SIGCONT && target.same_session)) return;
        ++allowed;
        // A zombie takes the signal and drops it.
        if (target.task != nullptr) Deliver(t, *target.task, sig);
      });
  if (found == 0) return Errno(ESRCH);
  if (allowed == 0) return Errno(EPERM);
  return {};
}

namespace {

// tkill/tgkill: `tgid` 0 means any process.
ErrnoOr<void> SignalThread(Task& t, int tgid, int tid, int sig) {
  if (sig < 0 || sig > kernel::kMaxSignal) return Errno(EINVAL);
  if (tid == t.tid() && (tgid == 0 || tgid == t.pid())) {
    return SignalSelf(t, sig, /*thread=*/true);
  }
  return t.kernel().WithTask(tid, [&](Task& target) -> ErrnoOr<void> {
    if (tgid != 0 && target.pid() != tgid) return Errno(ESRCH);
    if (target.exiting()) return Errno(ESRCH);
    if (!MaySignal(t, target)) return Errno(EPERM);
    Deliver(t, target, sig, /*thread=*/true);
    return {};
  });
}

}  // namespace

ErrnoOr<void> Tkill(Task& t, int tid, int sig) {
  if (tid <= 0) return Errno(EINVAL);
  return SignalThread(t, 0, tid, sig);
}

ErrnoOr<void> Tgkill(Task& t, int tgid, int tid, int sig) {
  if (tgid <= 0 || tid <= 0) return Errno(EINVAL);
  return SignalThread(t, tgid, tid, sig);
}

namespace {

// rt_sigqueueinfo(2): the caller's siginfo, except that only the kernel
// may claim SI_USER or a kernel code (si_code >= 0), and si_signo is sig.
ErrnoOr<siginfo_t> QueuedInfo(Task& t, int pid, int sig, UserAddr uinfo) {
  if (sig < 0 || sig > kernel::kMaxSignal) return Errno(EINVAL);
  siginfo_t info;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(uinfo.value, &info, sizeof(info)));
  if ((info.si_code >= 0 || info.si_code == SI_TKILL) && pid != t.pid()) {
    return Errno(EPERM);
  }
  info.si_signo = sig;
  return info;
}

}  // namespace

ErrnoOr<void> RtSigqueueinfo(Task& t, int pid, int sig, UserAddr uinfo) {
  SENTRY_ASSIGN_OR_RETURN(siginfo_t info, QueuedInfo(t, pid, sig, uinfo));
  if (pid <= 0) return Errno(pid == 0 ? ESRCH : EINVAL);
  bool found = false, permitted = false, queued = true;
  t.kernel().processes().WithLive(pid, [&](Task& target) {
    found = true;
    if (target.pid() != t.pid() && !MaySignal(t, target)) return;
    permitted = true;
    if (sig != 0) queued = target.QueueSignal(sig, &info);
  });
  if (!found) return Errno(ESRCH);
  if (!permitted) return Errno(EPERM);
  if (!queued) return Errno(EAGAIN);
  return {};
}

ErrnoOr<void> RtTgsigqueueinfo(Task& t, int tgid, int tid, int sig,
                               UserAddr uinfo) {
  if (tgid <= 0 || tid <= 0) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(siginfo_t info, QueuedInfo(t, tgid, sig, uinfo));
  return t.kernel().WithTask(tid, [&](Task& target) -> ErrnoOr<void> {
    if (target.pid() != tgid || target.exiting()) return Errno(ESRCH);
    if (target.pid() != t.pid() && !MaySignal(t, target)) return Errno(EPERM);
    if (sig != 0 && !target.QueueThreadSignal(sig, &info)) {
      return Errno(EAGAIN);
    }
    return {};
  });
}

ErrnoOr<uint64_t> RtSigreturn(Task& t) { return t.SignalReturn(); }

ErrnoOr<uint64_t> RestartSyscall(Task& t) { return t.RunRestart(); }

ErrnoOr<void> Sigaltstack(Task& t, UserAddr ss, UserAddr old_ss) {
  stack_t& cur = t.altstack();
  // As Linux's on_sig_stack: with SS_AUTODISARM nobody counts as on the
  // stack (it is disarmed while a handler runs there).
  bool on = !(cur.ss_flags & (SS_DISABLE | kernel::kSsAutodisarm)) &&
            t.regs().rsp > reinterpret_cast<uint64_t>(cur.ss_sp) &&
            t.regs().rsp <= reinterpret_cast<uint64_t>(cur.ss_sp) + cur.ss_size;
  if (!old_ss.null()) {
    stack_t out = cur;
    if (on) out.ss_flags = SS_ONSTACK;
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(old_ss.value, &out, sizeof(out)));
  }
  if (ss.null()) return {};
  stack_t next;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(ss.value, &next, sizeof(next)));
  if (on) return Errno(EPERM);
  int mode = next.ss_flags & ~kernel::kSsAutodisarm;
  if (mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK) {
    return Errno(EINVAL);
  }
  if (mode == SS_DISABLE) {
    cur = stack_t{nullptr, SS_DISABLE, 0};
    return {};
  }
  constexpr size_t kMinSigstksz = 2048;  // the kernel's MINSIGSTKSZ
  if (next.ss_size < kMinSigstksz) return Errno(ENOMEM);
  cur =
      stack_t{next.ss_sp, next.ss_flags & kernel::kSsAutodisarm, next.ss_size};
  return {};
}

namespace {

// Sleeps until a signal must be handled (the caller's syscall then ends
// with -ERESTARTNOHAND: EINTR after the handler, as sigsuspend and pause
// do).
ErrnoOr<void> SuspendUntilSignal(Task& t) {
  ErrnoOr<void> r = t.Wait(nullptr, 0, [] { return false; });
  if (!r.ok() && r.error() == Errno(kErestartSys)) {
    return Errno(kErestartNoHand);
  }
  return r.ok() ? ErrnoOr<void>(Errno(kErestartNoHand)) : r.error();
}

}  // namespace

ErrnoOr<void> RtSigsuspend(Task& t, UserAddr mask, uint64_t sigsetsize) {
  if (sigsetsize != kSigsetSize) return Errno(EINVAL);
  uint64_t m;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(mask.value, &m, sizeof(m)));
  t.set_saved_mask(t.signal_mask());
  t.set_signal_mask(m);
  return SuspendUntilSignal(t);
}

ErrnoOr<void> Pause(Task& t) { return SuspendUntilSignal(t); }

ErrnoOr<void> RtSigpending(Task& t, UserAddr set, uint64_t sigsetsize) {
  if (sigsetsize > kSigsetSize) return Errno(EINVAL);
  uint64_t pending = t.pending_signals() & t.signal_mask();
  return t.mm().CopyOut(set.value, &pending, sigsetsize);
}

ErrnoOr<uint64_t> RtSigtimedwait(Task& t, UserAddr set, UserAddr info,
                                 UserAddr timeout, uint64_t sigsetsize) {
  if (sigsetsize != kSigsetSize) return Errno(EINVAL);
  uint64_t wanted;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(set.value, &wanted, sizeof(wanted)));
  wanted &= ~kernel::kUnblockableSignals;
  std::optional<absl::Time> deadline;
  if (!timeout.null()) {
    struct timespec ts;
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(timeout.value, &ts, sizeof(ts)));
    if (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000 || ts.tv_sec < 0) {
      return Errno(EINVAL);
    }
    deadline = absl::Now() + absl::DurationFromTimespec(ts);
  }
  siginfo_t si{};
  int sig = t.TakePendingSignal(wanted, &si);
  if (sig == 0) {
    ErrnoOr<void> r = t.Wait(
        &t.signal_queue(), ~0u,
        [&] {
          sig = t.TakePendingSignal(wanted, &si);
          return sig != 0;
        },
        deadline);
    if (!r.ok()) {
      if (r.error() == Errno(ETIMEDOUT)) return Errno(EAGAIN);
      return Errno(EINTR);
    }
  }
  if (!info.null()) {
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(info.value, &si, sizeof(si)));
  }
  return static_cast<uint64_t>(sig);
}

}  // namespace sentry::syscalls
