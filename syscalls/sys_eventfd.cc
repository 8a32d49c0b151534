// eventfd, eventfd2, timerfd_create, timerfd_settime, timerfd_gettime,
// signalfd, signalfd4, memfd_create: files the Sentry implements itself
// (sentry/fs/{eventfd,timerfd,signalfd,memfd}.h).
#include <errno.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "sentry/fs/eventfd.h"
#include "sentry/fs/memfd.h"
#include "sentry/fs/signalfd.h"
#include "sentry/fs/timerfd.h"
#include "syscalls/file_util.h"
#include "syscalls/handlers.h"
#include "syscalls/install_util.h"

namespace sentry::syscalls {
namespace {

constexpr int64_t kNsPerSec = 1000000000;

ErrnoOr<fs::TimerFd*> GetTimerFd(Task& t, Fd fd, FilePtr& holder) {
  SENTRY_ASSIGN_OR_RETURN(holder, GetFile(t, fd));
  auto* timer = dynamic_cast<fs::TimerFd*>(holder.get());
  if (timer == nullptr) return Errno(EINVAL);
  return timer;
}

bool ValidTimespec(const struct timespec& ts) {
  return ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < kNsPerSec;
}

}  // namespace

ErrnoOr<uint64_t> Eventfd(Task& t, uint32_t initval) {
  return Eventfd2(t, initval, 0);
}

ErrnoOr<uint64_t> Eventfd2(Task& t, uint32_t initval, int flags) {
  if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)) {
    return Errno(EINVAL);
  }
  return InstallFile(t, std::make_shared<fs::EventFd>(initval, flags),
                     flags & EFD_CLOEXEC);
}

ErrnoOr<uint64_t> TimerfdCreate(Task& t, int clockid, int flags) {
  if (flags & ~(TFD_CLOEXEC | TFD_NONBLOCK)) return Errno(EINVAL);
  switch (clockid) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_BOOTTIME:
      break;
    case CLOCK_REALTIME_ALARM:
    case CLOCK_BOOTTIME_ALARM:
      // Linux's answer without CAP_WAKE_ALARM; the Sentry never has it.
      return Errno(EPERM);
    default:
      return Errno(EINVAL);
  }
  return InstallFile(t, std::make_shared<fs::TimerFd>(clockid, flags),
                     flags & TFD_CLOEXEC);
}

ErrnoOr<void> TimerfdSettime(Task& t, Fd fd, int flags, UserAddr new_value,
                             UserAddr old_value) {
  if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) {
    return Errno(EINVAL);
  }
  FilePtr holder;
  SENTRY_ASSIGN_OR_RETURN(fs::TimerFd * timer, GetTimerFd(t, fd, holder));
  struct itimerspec value;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(new_value.value, &value, sizeof(value)));
  if (!ValidTimespec(value.it_value) || !ValidTimespec(value.it_interval)) {
    return Errno(EINVAL);
  }
  SENTRY_ASSIGN_OR_RETURN(struct itimerspec old, timer->Set(flags, value));
  if (!old_value.null()) {
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(old_value.value, &old, sizeof(old)));
  }
  return {};
}

ErrnoOr<void> TimerfdGettime(Task& t, Fd fd, UserAddr curr_value) {
  FilePtr holder;
  SENTRY_ASSIGN_OR_RETURN(fs::TimerFd * timer, GetTimerFd(t, fd, holder));
  struct itimerspec cur = timer->Get();
  return t.mm().CopyOut(curr_value.value, &cur, sizeof(cur));
}

ErrnoOr<uint64_t> Signalfd(Task& t, Fd fd, UserAddr mask, uint64_t sizemask) {
  return Signalfd4(t, fd, mask, sizemask, 0);
}

ErrnoOr<uint64_t> Signalfd4(Task& t, Fd fd, UserAddr mask, uint64_t sizemask,
                            int flags) {
  if (sizemask != sizeof(uint64_t)) return Errno(EINVAL);
  if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK)) return Errno(EINVAL);
  uint64_t set;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(mask.value, &set, sizeof(set)));
  if (fd.value == -1) {
    return InstallFile(t, std::make_shared<fs::SignalFd>(t, set, flags),
                       flags & SFD_CLOEXEC);
  }
  SENTRY_ASSIGN_OR_RETURN(FilePtr file, GetFile(t, fd));
  auto* sfd = dynamic_cast<fs::SignalFd*>(file.get());
  if (sfd == nullptr) return Errno(EINVAL);
  sfd->set_mask(set);
  return static_cast<uint64_t>(fd.value);
}

ErrnoOr<uint64_t> MemfdCreate(Task& t, CString name, uint32_t flags) {
  // Names longer than 249 bytes are EINVAL, as Linux.
  ErrnoOr<std::string> s = t.mm().CopyInString(name.value, 249);
  if (!s.ok())
    return s.error() == Errno(ENAMETOOLONG) ? Errno(EINVAL) : s.error();
  SENTRY_ASSIGN_OR_RETURN(FilePtr file,
                          fs::CreateMemfd(t.kernel().memory(), *s, flags,
                                          t.creds().fsuid, t.creds().fsgid));
  return InstallFile(t, std::move(file), flags & MFD_CLOEXEC);
}

}  // namespace sentry::syscalls
