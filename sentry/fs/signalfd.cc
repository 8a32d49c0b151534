#include "sentry/fs/signalfd.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <cstring>

#include "sentry/fs/anon_inode.h"
#include "sentry/kernel/task.h"

namespace sentry::fs {
namespace {
constexpr uint64_t kUnreadable =
    (uint64_t{1} << (SIGKILL - 1)) | (uint64_t{1} << (SIGSTOP - 1));

// The record signalfd(2) describes for a dequeued signal. Which siginfo
// fields mean something depends on who sent it (the union in siginfo_t):
// a positive si_code below SI_KERNEL is the kernel's reason for a
// specific signal (a fault, a child's change, I/O readiness, seccomp);
// the others come from kill-like calls (SI_USER, SI_TKILL, SI_KERNEL),
// sigqueue-like ones that carry a value (other negative codes), or POSIX
// timers (SI_TIMER).
struct signalfd_siginfo ToSignalfdInfo(int sig, const siginfo_t& si) {
  struct signalfd_siginfo out {};
  out.ssi_signo = static_cast<uint32_t>(sig);
  out.ssi_errno = si.si_errno;
  out.ssi_code = si.si_code;
  auto sender = [&] {
    out.ssi_pid = static_cast<uint32_t>(si.si_pid);
    out.ssi_uid = si.si_uid;
  };
  auto value = [&] {
    out.ssi_int = si.si_value.sival_int;
    out.ssi_ptr = reinterpret_cast<uint64_t>(si.si_value.sival_ptr);
  };
  const int code = si.si_code;
  if (code > SI_USER && code < SI_KERNEL) {
    switch (sig) {
      case SIGILL:
      case SIGFPE:
      case SIGSEGV:
      case SIGBUS:
      case SIGTRAP:
        out.ssi_addr = reinterpret_cast<uint64_t>(si.si_addr);
        if (sig == SIGBUS && (code == BUS_MCEERR_AR || code == BUS_MCEERR_AO)) {
          out.ssi_addr_lsb = static_cast<uint16_t>(si.si_addr_lsb);
        }
        break;
      case SIGCHLD:
        sender();
        out.ssi_status = si.si_status;
        out.ssi_utime = static_cast<uint64_t>(si.si_utime);
        out.ssi_stime = static_cast<uint64_t>(si.si_stime);
        break;
      case SIGSYS:
        out.ssi_call_addr = reinterpret_cast<uint64_t>(si.si_call_addr);
        out.ssi_syscall = si.si_syscall;
        out.ssi_arch = si.si_arch;
        break;
      default:  // SIGPOLL's codes, for any signal F_SETSIG chose
        if (code <= POLL_HUP) {
          out.ssi_band = static_cast<uint32_t>(si.si_band);
          out.ssi_fd = si.si_fd;
        } else {
          sender();
        }
        break;
    }
  } else if (code == SI_TIMER) {
    out.ssi_tid = static_cast<uint32_t>(si.si_timerid);
    out.ssi_overrun = static_cast<uint32_t>(si.si_overrun);
    value();
  } else if (code == SI_SIGIO) {
    out.ssi_band = static_cast<uint32_t>(si.si_band);
    out.ssi_fd = si.si_fd;
  } else {
    sender();
    if (code < 0) value();  // 0 unless sigqueue-like calls gave one
  }
  return out;
}

}  // namespace

SignalFd::SignalFd(kernel::Task& task, uint64_t mask, int flags)
    : vfs::FileDescription(O_RDWR | ((flags & SFD_NONBLOCK) ? O_NONBLOCK : 0)),
      group_(task.shared_group()),
      mask_(mask & ~kUnreadable) {
  set_inode(AnonInodeOf("[signalfd]"));
  group_->signal_queue().Add(&forwarder_, ~0u);
}

SignalFd::~SignalFd() { group_->signal_queue().Remove(&forwarder_); }

void SignalFd::set_mask(uint64_t mask) {
  absl::MutexLock l(&mu_);
  mask_ = mask & ~kUnreadable;
}

uint64_t SignalFd::mask() const {
  absl::MutexLock l(&mu_);
  return mask_;
}

ErrnoOr<size_t> SignalFd::Read(kernel::Task& t, std::span<uint8_t> dst) {
  constexpr size_t kRecord = sizeof(struct signalfd_siginfo);
  if (dst.size() < kRecord) return Errno(EINVAL);
  size_t done = 0;
  for (;;) {
    while (done + kRecord <= dst.size()) {
      siginfo_t si{};
      int sig = t.TakePendingSignal(mask(), &si);
      if (sig == 0) break;
      struct signalfd_siginfo info = ToSignalfdInfo(sig, si);
      std::memcpy(dst.data() + done, &info, kRecord);
      done += kRecord;
    }
    if (done > 0) return done;
    if (nonblocking()) return Errno(EAGAIN);
    // The reader's own process's queue: the file may have come from
    // another process (fork), whose signals are not the reader's.
    SENTRY_RETURN_IF_ERRNO(t.Wait(&t.signal_queue(), POLLIN, [&] {
      return (t.pending_signals() & mask()) != 0;
    }));
  }
}

uint32_t SignalFd::Readiness(uint32_t mask) {
  // Linux looks at the pending set of whoever polls.
  kernel::Task* t = kernel::CurrentTask();
  uint64_t pending = t != nullptr ? t->pending_signals() : group_->pending();
  return (pending & this->mask()) ? (mask & (POLLIN | POLLRDNORM)) : 0;
}

}  // namespace sentry::fs
