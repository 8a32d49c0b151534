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
      int sig = t.TakePendingSignal(mask());
      if (sig == 0) break;
      struct signalfd_siginfo info {};
      info.ssi_signo = static_cast<uint32_t>(sig);
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
