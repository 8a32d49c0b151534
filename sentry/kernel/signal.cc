// Signal delivery for Task: default actions, signal frames for guest
// handlers, rt_sigreturn, and syscall restart semantics (Linux's
// arch/x86/kernel/signal.c and kernel/signal.c).
//
// The frame is Linux's x86-64 rt_sigframe: the return address (the
// handler's sa_restorer), a ucontext whose uc_mcontext is the kernel's
// struct sigcontext, the siginfo, and the FPU state in FXSAVE format
// (64-byte aligned, below the frame).
#include <signal.h>

#include <cstring>
#include <vector>

#include "sentry/base/log.h"
#include "sentry/kernel/task.h"

namespace sentry::kernel {
namespace {

// struct sigcontext (x86-64, kernel layout).
struct KernelSigcontext {
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
  uint16_t cs, gs, fs, ss;
  uint64_t err, trapno, oldmask, cr2;
  uint64_t fpstate;
  uint64_t reserved[8];
};
static_assert(sizeof(KernelSigcontext) == 256);

struct KernelStack {
  uint64_t ss_sp;
  int32_t ss_flags;
  int32_t pad;
  uint64_t ss_size;
};

struct KernelUcontext {
  uint64_t uc_flags;
  uint64_t uc_link;
  KernelStack uc_stack;
  KernelSigcontext uc_mcontext;
  uint64_t uc_sigmask;
};
static_assert(sizeof(KernelUcontext) == 304);

struct RtSigframe {
  uint64_t pretcode;
  KernelUcontext uc;
  siginfo_t info;
};
static_assert(sizeof(RtSigframe) == 440);

constexpr uint64_t kRedZone = 128;
constexpr uint64_t kRestartSyscallNr = 219;  // restart_syscall(2)
constexpr uint64_t kUcSigcontextSs = 0x2;
constexpr uint64_t kUcStrictRestoreSs = 0x4;
// EFLAGS bits a signal handler may change (Linux's FIX_EFLAGS).
constexpr uint64_t kFixEflags = 0x40dd5 | (1 << 18) | (1 << 16);  // +AC, RF
constexpr uint64_t kEflagsDf = 1 << 10;
constexpr uint64_t kEflagsTf = 1 << 8;
constexpr uint64_t kSaRestorer = 0x04000000;

// Linux's extended-state signal frame (arch/x86/include/uapi/asm/
// sigcontext.h): software-reserved bytes at the end of FXSAVE's area say
// an XSAVE area follows, and a second magic word ends it.
constexpr uint64_t kUcFpXstate = 0x1;
constexpr uint32_t kFpXstateMagic1 = 0x46505853;
constexpr uint32_t kFpXstateMagic2 = 0x46505845;
constexpr size_t kSwReservedOffset = 464;
// FXSAVE's area plus the XSAVE header, and a bound on what we accept.
constexpr size_t kXsaveMinSize = 512 + 64;
constexpr size_t kXsaveMaxSize = 16384;
struct FpxSwBytes {
  uint32_t magic1;
  uint32_t extended_size;
  uint64_t xfeatures;
  uint32_t xstate_size;
  uint32_t padding[7];
};
static_assert(sizeof(FpxSwBytes) == 48);

// The features the host enabled for user state (XCR0).
uint64_t Xcr0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

// Linux's on_sig_stack: never with SS_AUTODISARM, whose stack is disarmed
// while in use (a new signal starts at its top again).
bool OnAltStack(const stack_t& ss, uint64_t sp) {
  uint64_t base = reinterpret_cast<uint64_t>(ss.ss_sp);
  return !(ss.ss_flags & (SS_DISABLE | kSsAutodisarm)) && sp > base &&
         sp <= base + ss.ss_size;
}

}  // namespace

bool Task::InitSpares(const siginfo_t& info) const {
  // Only the kill-like codes name a sender in si_pid (a timer's si_timerid
  // shares its place).
  bool from_user = info.si_code == SI_USER || info.si_code == SI_TKILL ||
                   info.si_code == SI_QUEUE;
  return pid() == 1 && from_user && info.si_pid != 1;
}

int Task::NextHandledSignal() const {
  uint64_t deliverable = Deliverable();
  while (deliverable != 0) {
    int sig = __builtin_ctzll(deliverable) + 1;
    deliverable &= ~SigBit(sig);
    uint64_t h = group_->sigactions()[sig].handler;
    if (sig != SIGKILL && h != reinterpret_cast<uint64_t>(SIG_DFL) &&
        h != reinterpret_cast<uint64_t>(SIG_IGN)) {
      return sig;
    }
  }
  return 0;
}

bool Task::InterruptedBySignal() {
  if (exiting()) return true;
  // Signals needing no frame are dealt with here, in the wait: ignored
  // ones vanish, fatal defaults end the process.
  uint64_t deliverable = Deliverable();
  while (deliverable != 0) {
    int sig = __builtin_ctzll(deliverable) + 1;
    deliverable &= ~SigBit(sig);
    uint64_t h = group_->sigactions()[sig].handler;
    bool ignore = h == reinterpret_cast<uint64_t>(SIG_IGN);
    bool fatal = sig == SIGKILL;
    bool stop = false;
    if (sig != SIGKILL && h == reinterpret_cast<uint64_t>(SIG_DFL)) {
      DefaultAction a = DefaultActionOf(sig);
      fatal = a == DefaultAction::kTerminate || a == DefaultAction::kCore;
      stop = a == DefaultAction::kStop;
      ignore = !fatal && !stop;  // ignore, continue
    }
    if (!ignore && !fatal && !stop) return true;  // a handler must run
    std::optional<siginfo_t> info = TakeSignal(sig);
    if (!info) continue;  // another thread took it
    if (sig != SIGKILL && InitSpares(*info)) continue;
    if (fatal) {
      Kill(sig);
      return true;
    }
    if (stop) {
      // The wait ends (and its syscall restarts once the process is
      // continued); the run loop parks the thread.
      StopGroup(sig);
      return true;
    }
  }
  return false;
}

void Task::DeliverPendingSignals() {
  // A syscall interrupted for a signal (-ERESTART*): restart it, or turn it
  // into EINTR, depending on what will be delivered.
  if (in_syscall_) {
    in_syscall_ = false;
    int64_t rv = static_cast<int64_t>(regs_.rax);
    if (rv <= -kErestartSys && rv >= -kErestartRestartBlock) {
      int handled = NextHandledSignal();
      bool restart;
      if (handled == 0) {
        restart = true;
      } else if (rv == -kErestartNoIntr) {
        restart = true;
      } else if (rv == -kErestartSys) {
        restart = group_->sigactions()[handled].flags & SA_RESTART;
      } else {
        restart = false;
      }
      if (restart) {
        // Back onto the `syscall` instruction: the same syscall, or, for
        // a restart block, restart_syscall(2) to carry on from where it was.
        regs_.rax =
            rv == -kErestartRestartBlock ? kRestartSyscallNr : regs_.orig_rax;
        regs_.rip -= 2;
      } else {
        regs_.rax = static_cast<uint64_t>(-EINTR);
        restart_ = nullptr;
      }
      if (handled == 0 && saved_mask_) {
        // sigsuspend restarting: its temporary mask ends now.
        signal_mask_ = *saved_mask_;
        saved_mask_.reset();
      }
    }
  }
  uint64_t deliverable = Deliverable();
  while (deliverable != 0 && !exiting()) {
    int sig = __builtin_ctzll(deliverable) + 1;
    deliverable &= ~SigBit(sig);
    std::optional<siginfo_t> info = TakeSignal(sig);
    if (!info) continue;  // another thread of the process took it
    KernelSigaction act = group_->sigactions()[sig];
    if (sig == SIGKILL) {
      Kill(sig);
    } else if (act.handler == reinterpret_cast<uint64_t>(SIG_IGN)) {
      continue;
    } else if (act.handler == reinterpret_cast<uint64_t>(SIG_DFL)) {
      if (InitSpares(*info)) continue;
      switch (DefaultActionOf(sig)) {
        case DefaultAction::kIgnore:
        case DefaultAction::kContinue:
          break;
        case DefaultAction::kStop:
          // The run loop parks the thread; signals still pending are
          // delivered once the process is continued.
          StopGroup(sig);
          return;
        case DefaultAction::kTerminate:
        case DefaultAction::kCore:
          Kill(sig);
          break;
      }
    } else {
      if (!SetupFrame(sig, act, *info)) return;
      // The handler runs with its mask; further pending signals nest
      // their frames on top, as Linux does.
      deliverable = Deliverable();
    }
  }
  // A temporary mask (ppoll, pselect6, sigsuspend) that no frame took
  // ends with the syscall (Linux's restore_saved_sigmask at exit).
  if (saved_mask_) {
    signal_mask_ = *saved_mask_;
    saved_mask_.reset();
  }
}

bool Task::SetupFrame(int sig, const KernelSigaction& act,
                      const siginfo_t& info) {
  auto segv = [this] {
    SENTRY_LOG(kInfo, "cannot push a signal frame: killing with SIGSEGV");
    Kill(SIGSEGV);
    return false;
  };
  if (!(act.flags & kSaRestorer)) return segv();  // x86-64 requires it
  uint64_t sp = regs_.rsp - kRedZone;
  bool on_alt = OnAltStack(altstack_, regs_.rsp);
  if ((act.flags & SA_ONSTACK) && !(altstack_.ss_flags & SS_DISABLE) &&
      !on_alt) {
    sp = reinterpret_cast<uint64_t>(altstack_.ss_sp) + altstack_.ss_size;
  }
  // The FPU state goes below the frame, 64-byte aligned: the whole XSAVE
  // area (AVX and beyond) with Linux's software-reserved bytes and the
  // trailing magic, or, if the platform cannot give it, FXSAVE's 512 bytes.
  std::vector<uint8_t> fp;
  bool xstate = false;
  if (absl::StatusOr<std::vector<uint8_t>> xs = context_->GetXState();
      xs.ok() && xs->size() >= kXsaveMinSize && xs->size() <= kXsaveMaxSize) {
    fp = std::move(*xs);
    const uint32_t size = static_cast<uint32_t>(fp.size());
    FpxSwBytes sw{};
    sw.magic1 = kFpXstateMagic1;
    sw.extended_size = size + sizeof(kFpXstateMagic2);
    sw.xfeatures = Xcr0();
    sw.xstate_size = size;
    std::memcpy(fp.data() + kSwReservedOffset, &sw, sizeof(sw));
    fp.resize(size + sizeof(kFpXstateMagic2));
    std::memcpy(fp.data() + size, &kFpXstateMagic2, sizeof(kFpXstateMagic2));
    xstate = true;
  } else {
    fp.resize(platform::Context::kFpStateSize);
    if (!context_->GetFpState(fp.data()).ok()) return segv();
  }
  sp = (sp - fp.size()) & ~uint64_t{63};
  uint64_t fp_addr = sp;
  sp = ((sp - sizeof(RtSigframe)) & ~uint64_t{15}) - 8;

  RtSigframe f{};
  f.pretcode = act.restorer;
  f.uc.uc_flags = kUcSigcontextSs | kUcStrictRestoreSs;
  if (xstate) f.uc.uc_flags |= kUcFpXstate;
  f.uc.uc_stack.ss_sp = reinterpret_cast<uint64_t>(altstack_.ss_sp);
  f.uc.uc_stack.ss_flags = (altstack_.ss_flags & SS_DISABLE)
                               ? SS_DISABLE
                               : (on_alt ? SS_ONSTACK : 0);
  f.uc.uc_stack.ss_flags |= altstack_.ss_flags & kSsAutodisarm;
  f.uc.uc_stack.ss_size = altstack_.ss_size;
  KernelSigcontext& c = f.uc.uc_mcontext;
  c.r8 = regs_.r8;
  c.r9 = regs_.r9;
  c.r10 = regs_.r10;
  c.r11 = regs_.r11;
  c.r12 = regs_.r12;
  c.r13 = regs_.r13;
  c.r14 = regs_.r14;
  c.r15 = regs_.r15;
  c.rdi = regs_.rdi;
  c.rsi = regs_.rsi;
  c.rbp = regs_.rbp;
  c.rbx = regs_.rbx;
  c.rdx = regs_.rdx;
  c.rax = regs_.rax;
  c.rcx = regs_.rcx;
  c.rsp = regs_.rsp;
  c.rip = regs_.rip;
  c.eflags = regs_.eflags;
  c.cs = static_cast<uint16_t>(regs_.cs);
  c.ss = static_cast<uint16_t>(regs_.ss);
  c.trapno = info.si_signo == SIGSEGV || info.si_signo == SIGBUS ? 14 : 0;
  c.cr2 = (sig == SIGSEGV || sig == SIGBUS)
              ? reinterpret_cast<uint64_t>(info.si_addr)
              : 0;
  c.oldmask = signal_mask_.load();
  c.fpstate = fp_addr;
  // sigsuspend's caller gets its own mask back when the handler returns.
  f.uc.uc_sigmask = saved_mask_ ? *saved_mask_ : signal_mask_.load();
  saved_mask_.reset();
  f.info = info;
  f.info.si_signo = sig;
  if (!mm_->CopyOut(fp_addr, fp.data(), fp.size()).ok() ||
      !mm_->CopyOut(sp, &f, sizeof(f)).ok()) {
    return segv();
  }
  regs_.rip = act.handler;
  regs_.rsp = sp;
  regs_.rdi = static_cast<uint64_t>(sig);
  regs_.rsi = sp + offsetof(RtSigframe, info);
  regs_.rdx = sp + offsetof(RtSigframe, uc);
  regs_.rax = 0;
  regs_.eflags &= ~(kEflagsDf | kEflagsTf);
  uint64_t mask = signal_mask_.load() | act.mask;
  if (!(act.flags & SA_NODEFER)) mask |= SigBit(sig);
  set_signal_mask(mask);
  if (act.flags & SA_RESETHAND) group_->sigactions()[sig] = KernelSigaction{};
  // SS_AUTODISARM: the handler may switch stacks (swapcontext) without the
  // old one in its way; sigreturn brings it back from uc_stack.
  if (altstack_.ss_flags & kSsAutodisarm) {
    altstack_ = stack_t{nullptr, SS_DISABLE, 0};
  }
  return true;
}

ErrnoOr<uint64_t> Task::SignalReturn() {
  // The handler's `ret` popped pretcode: the ucontext is at rsp.
  uint64_t frame = regs_.rsp - 8;
  RtSigframe f;
  if (!mm_->CopyIn(frame, &f, sizeof(f)).ok()) {
    Kill(SIGSEGV);
    return Errno(EFAULT);
  }
  const KernelSigcontext& c = f.uc.uc_mcontext;
  regs_.r8 = c.r8;
  regs_.r9 = c.r9;
  regs_.r10 = c.r10;
  regs_.r11 = c.r11;
  regs_.r12 = c.r12;
  regs_.r13 = c.r13;
  regs_.r14 = c.r14;
  regs_.r15 = c.r15;
  regs_.rdi = c.rdi;
  regs_.rsi = c.rsi;
  regs_.rbp = c.rbp;
  regs_.rbx = c.rbx;
  regs_.rdx = c.rdx;
  regs_.rax = c.rax;
  regs_.rcx = c.rcx;
  regs_.rsp = c.rsp;
  regs_.rip = c.rip;
  regs_.eflags = (regs_.eflags & ~kFixEflags) | (c.eflags & kFixEflags);
  regs_.orig_rax = ~0ULL;  // no syscall restart from here
  if (c.fpstate != 0) {
    uint8_t fx[platform::Context::kFpStateSize];
    if (!mm_->CopyIn(c.fpstate, fx, sizeof(fx)).ok()) {
      Kill(SIGSEGV);
      return Errno(EFAULT);
    }
    // A frame with the XSAVE magic (ours, or one the guest built the same
    // way) restores the whole state; anything else restores FXSAVE's part,
    // as Linux's check_xstate_in_sigframe decides.
    FpxSwBytes sw;
    std::memcpy(&sw, fx + kSwReservedOffset, sizeof(sw));
    bool restored = false;
    if (sw.magic1 == kFpXstateMagic1 && sw.xstate_size >= kXsaveMinSize &&
        sw.xstate_size <= kXsaveMaxSize &&
        sw.extended_size == sw.xstate_size + sizeof(kFpXstateMagic2)) {
      std::vector<uint8_t> xs(sw.xstate_size + sizeof(kFpXstateMagic2));
      uint32_t magic2 = 0;
      if (mm_->CopyIn(c.fpstate, xs.data(), xs.size()).ok()) {
        std::memcpy(&magic2, xs.data() + sw.xstate_size, sizeof(magic2));
      }
      if (magic2 == kFpXstateMagic2) {
        xs.resize(sw.xstate_size);
        if (!context_->SetXState(xs).ok()) {
          Kill(SIGSEGV);
          return Errno(EFAULT);
        }
        restored = true;
      }
    }
    if (!restored && !context_->SetFpState(fx).ok()) {
      Kill(SIGSEGV);
      return Errno(EFAULT);
    }
  }
  set_signal_mask(f.uc.uc_sigmask);
  // The frame's uc_stack restores sigaltstack's settings, as Linux does.
  if (!OnAltStack(altstack_, regs_.rsp)) {
    altstack_.ss_sp = reinterpret_cast<void*>(f.uc.uc_stack.ss_sp);
    altstack_.ss_size = f.uc.uc_stack.ss_size;
    altstack_.ss_flags = f.uc.uc_stack.ss_flags & (SS_DISABLE | kSsAutodisarm);
  }
  in_syscall_ = false;  // rax is the interrupted context's, not a result
  restart_ = nullptr;   // a restart block does not survive a handler
  return regs_.rax;
}

void Task::HandleFault(const siginfo_t& info) {
  // A fault just below a MAP_GROWSDOWN area grows it; the access is then
  // retried (the registers still point at it).
  if (info.si_signo == SIGSEGV && info.si_code == SEGV_MAPERR &&
      mm_->GrowDown(reinterpret_cast<uint64_t>(info.si_addr),
                    rlimits_[RLIMIT_STACK].rlim_cur)) {
    return;
  }
  // Linux's force_sig_fault: a synchronous fault that is blocked or
  // ignored cannot be delivered and ends the process; a handler runs.
  int sig = info.si_signo;
  KernelSigaction act = group_->sigactions()[sig];
  bool blocked = signal_mask_.load() & SigBit(sig);
  bool handled = act.handler != reinterpret_cast<uint64_t>(SIG_DFL) &&
                 act.handler != reinterpret_cast<uint64_t>(SIG_IGN);
  if (handled && !blocked) {
    SetupFrame(sig, act, info);
    return;
  }
  SENTRY_LOG(kInfo, "guest fault: signal %d code %d addr %p pc %#llx",
             info.si_signo, info.si_code, info.si_addr, regs_.rip);
  Kill(sig, &info);
}

}  // namespace sentry::kernel
