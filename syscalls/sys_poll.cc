// poll, ppoll, select, pselect6, epoll_create, epoll_create1, epoll_ctl,
// epoll_wait, epoll_pwait, epoll_pwait2.
//
// Readiness comes from FileDescription::Readiness. To block, the task
// registers on the wait queue of every file involved and sleeps in
// Task::Wait (interruptible, with the call's deadline). Host FDs (the
// caller's stdio) have no queue: with exactly one among the files, Task::Wait
// also waits for it on the host; with several, the wait is cut into 10 ms
// slices and the files are re-polled (with a zero timeout) after each, so a
// host FD becomes visible at most 10 ms late. Time-driven files (timerfd)
// shorten the wait to their next expiry.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include <algorithm>
#include <functional>
#include <set>
#include <vector>

#include "sentry/fs/anon_inode.h"
#include "sentry/fs/epoll.h"
#include "syscalls/file_util.h"
#include "syscalls/handlers.h"
#include "syscalls/install_util.h"

namespace sentry::syscalls {
namespace {

constexpr absl::Duration kHostSlice = absl::Milliseconds(10);

// What a wait watches, beyond its ready() predicate.
struct WaitSet {
  std::set<vfs::WaitQueue*> queues;
  std::vector<std::pair<int, short>> host;
  // Re-evaluated before each sleep: the earliest time-driven change.
  std::function<std::optional<absl::Time>()> next_timed;
};

void AddFile(WaitSet& ws, vfs::FileDescription& f, short events) {
  if (vfs::WaitQueue* q = f.wait_queue()) ws.queues.insert(q);
  if (f.host_fd() >= 0) ws.host.emplace_back(f.host_fd(), events);
}

std::optional<absl::Time> Earlier(std::optional<absl::Time> a,
                                  std::optional<absl::Time> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// Blocks until ready() or the deadline (ETIMEDOUT), or a signal. A
// signal never restarts these calls after a handler, SA_RESTART or not
// (signal(7)): they return -ERESTARTNOHAND, which restarts only when no
// handler ran (a stop and continue).
ErrnoOr<void> WaitOn(Task& t, const WaitSet& ws,
                     std::optional<absl::Time> deadline,
                     const std::function<bool()>& ready) {
  std::vector<std::unique_ptr<vfs::WaitRegistration>> regs;
  for (vfs::WaitQueue* q : ws.queues) {
    regs.push_back(std::make_unique<vfs::WaitRegistration>(*q, &t, ~0u));
  }
  for (;;) {
    std::optional<absl::Time> until = deadline;
    if (ws.next_timed) until = Earlier(until, ws.next_timed());
    int host_fd = -1;
    short host_events = 0;
    if (ws.host.size() == 1) {
      host_fd = ws.host[0].first;
      host_events = ws.host[0].second;
    } else if (ws.host.size() > 1) {
      until = Earlier(until, absl::Now() + kHostSlice);
    }
    ErrnoOr<void> r = t.Wait(nullptr, 0, ready, until, host_fd, host_events);
    if (!r.ok() && r.error() == Errno(kErestartSys)) {
      return Errno(kErestartNoHand);
    }
    if (r.ok() || r.error() != Errno(ETIMEDOUT)) return r;
    if (deadline && absl::Now() >= *deadline) return r;
  }
}

std::optional<absl::Time> DeadlineFromMs(int timeout_ms) {
  if (timeout_ms < 0) return std::nullopt;
  return absl::Now() + absl::Milliseconds(timeout_ms);
}

ErrnoOr<std::optional<absl::Time>> DeadlineFromTimespec(Task& t, UserAddr ts) {
  if (ts.null()) return std::optional<absl::Time>();
  struct timespec v;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(ts.value, &v, sizeof(v)));
  if (v.tv_sec < 0 || v.tv_nsec < 0 || v.tv_nsec >= 1000000000) {
    return Errno(EINVAL);
  }
  return std::optional<absl::Time>(absl::Now() + absl::DurationFromTimespec(v));
}

// Writes the time left back, as Linux does for select, pselect6 and ppoll;
// a failure to write is ignored, as Linux ignores it.
void WriteRemaining(Task& t, UserAddr ts, std::optional<absl::Time> deadline,
                    bool timeval) {
  if (ts.null() || !deadline) return;
  absl::Duration left = std::max(*deadline - absl::Now(), absl::ZeroDuration());
  if (timeval) {
    struct timeval tv = absl::ToTimeval(left);
    (void)t.mm().CopyOut(ts.value, &tv, sizeof(tv));
  } else {
    struct timespec tsv = absl::ToTimespec(left);
    (void)t.mm().CopyOut(ts.value, &tsv, sizeof(tsv));
  }
}

// Swaps in a temporary signal mask for the length of a wait (ppoll,
// pselect6, epoll_pwait). As in Linux (restore_saved_sigmask_unless), a
// wait a signal interrupted keeps the temporary mask until that signal is
// delivered: its handler runs under it and the frame restores the old
// one. Otherwise a signal the temporary mask lets through would be
// blocked again before delivery, and the restarted wait would spin (GNU
// make's jobserver loop does exactly this with SIGCHLD).
class ScopedSigmask {
 public:
  ScopedSigmask(Task& t) : t_(t) {}
  ~ScopedSigmask() {
    if (!saved_) return;
    if (interrupted_) {
      t_.set_saved_mask(*saved_);
    } else {
      t_.set_signal_mask(*saved_);
    }
  }
  ErrnoOr<void> Set(UserAddr mask, uint64_t size) {
    if (mask.null()) return {};
    if (size != sizeof(uint64_t)) return Errno(EINVAL);
    uint64_t m;
    SENTRY_RETURN_IF_ERRNO(t_.mm().CopyIn(mask.value, &m, sizeof(m)));
    saved_ = t_.signal_mask();
    t_.set_signal_mask(m);
    return {};
  }
  // Passes the wait's result through, noting whether a signal ended it.
  ErrnoOr<uint64_t> Finish(ErrnoOr<uint64_t> r) {
    if (!r.ok()) {
      int e = r.error().value();
      interrupted_ = e == EINTR || (e >= kErestartSys && e <= kErestartNoHand);
    }
    return r;
  }

 private:
  Task& t_;
  std::optional<uint64_t> saved_;
  bool interrupted_ = false;
};

// The earliest time-driven change among `files` (timerfds, and timerfds
// inside epoll files), or null if none can change with time.
std::function<std::optional<absl::Time>()> TimedOf(
    const std::vector<FilePtr>& files) {
  std::vector<FilePtr> timed;
  for (const FilePtr& f : files) {
    if (dynamic_cast<fs::TimedReadiness*>(f.get()) ||
        dynamic_cast<fs::EpollFile*>(f.get())) {
      timed.push_back(f);
    }
  }
  if (timed.empty()) return nullptr;
  return [timed]() {
    std::optional<absl::Time> next;
    for (const FilePtr& f : timed) {
      if (auto* tr = dynamic_cast<fs::TimedReadiness*>(f.get())) {
        next = Earlier(next, tr->NextReadinessChange());
      } else if (auto* ep = dynamic_cast<fs::EpollFile*>(f.get())) {
        next = Earlier(next, ep->NextTimedChange());
      }
    }
    return next;
  };
}

ErrnoOr<uint64_t> DoPoll(Task& t, UserAddr fds, uint64_t nfds,
                         std::optional<absl::Time> deadline) {
  if (nfds > t.rlimits()[RLIMIT_NOFILE].rlim_cur) return Errno(EINVAL);
  std::vector<struct pollfd> pfds(nfds);
  SENTRY_RETURN_IF_ERRNO(
      t.mm().CopyIn(fds.value, pfds.data(), nfds * sizeof(struct pollfd)));
  std::vector<FilePtr> files(nfds);
  WaitSet ws;
  for (size_t i = 0; i < nfds; ++i) {
    if (pfds[i].fd < 0) continue;
    if (ErrnoOr<FilePtr> f = t.fds().Get(pfds[i].fd); f.ok()) {
      files[i] = *f;
      AddFile(ws, **f, pfds[i].events);
    }
  }
  ws.next_timed = TimedOf(files);
  auto scan = [&]() {
    int count = 0;
    for (size_t i = 0; i < nfds; ++i) {
      pfds[i].revents = 0;
      if (pfds[i].fd < 0) continue;
      if (!files[i]) {
        pfds[i].revents = POLLNVAL;
      } else {
        uint32_t want =
            static_cast<uint16_t>(pfds[i].events) | POLLHUP | POLLERR;
        pfds[i].revents = static_cast<short>(files[i]->Readiness(want) & want);
      }
      count += pfds[i].revents != 0;
    }
    return count;
  };
  int count = scan();
  if (count == 0 && !(deadline && *deadline <= absl::Now())) {
    ErrnoOr<void> w = WaitOn(t, ws, deadline, [&] { return scan() > 0; });
    if (!w.ok() && w.error() != Errno(ETIMEDOUT)) return w.error();
    count = w.ok() ? scan() : 0;
    if (!w.ok()) {
      for (auto& p : pfds) p.revents = 0;
    }
  }
  for (size_t i = 0; i < nfds; ++i) {
    // Only revents is written, as Linux does.
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(fds.value +
                                              i * sizeof(struct pollfd) +
                                              offsetof(struct pollfd, revents),
                                          &pfds[i].revents, sizeof(short)));
  }
  return static_cast<uint64_t>(count);
}

// Linux's POLLIN_SET, POLLOUT_SET and POLLEX_SET.
constexpr uint32_t kInSet =
    POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
constexpr uint32_t kOutSet = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
constexpr uint32_t kExSet = POLLPRI;

ErrnoOr<uint64_t> DoSelect(Task& t, int nfds, UserAddr readfds,
                           UserAddr writefds, UserAddr exceptfds,
                           std::optional<absl::Time> deadline) {
  if (nfds < 0) return Errno(EINVAL);
  // Linux ignores bits past its FD table's size (64, doubled as the table
  // grows) rather than failing with EBADF; mimic that size.
  int table = 64;
  for (const auto& [fd, file] : t.fds().All()) {
    while (fd >= table) table *= 2;
  }
  nfds = std::min(nfds, table);
  const size_t words = (static_cast<size_t>(nfds) + 63) / 64;
  std::vector<uint64_t> in[3];
  UserAddr addrs[3] = {readfds, writefds, exceptfds};
  for (int s = 0; s < 3; ++s) {
    in[s].assign(words, 0);
    if (!addrs[s].null() && words > 0) {
      SENTRY_RETURN_IF_ERRNO(
          t.mm().CopyIn(addrs[s].value, in[s].data(), words * 8));
    }
  }
  struct Entry {
    int fd;
    FilePtr file;
    bool sets[3];
  };
  std::vector<Entry> entries;
  std::vector<FilePtr> files;
  WaitSet ws;
  for (int fd = 0; fd < nfds; ++fd) {
    Entry e{fd, nullptr, {}};
    bool any = false;
    for (int s = 0; s < 3; ++s) {
      e.sets[s] = (in[s][fd / 64] >> (fd % 64)) & 1;
      any |= e.sets[s];
    }
    if (!any) continue;
    SENTRY_ASSIGN_OR_RETURN(e.file, t.fds().Get(fd));
    AddFile(ws, *e.file,
            static_cast<short>((e.sets[0] ? POLLIN : 0) |
                               (e.sets[1] ? POLLOUT : 0) |
                               (e.sets[2] ? POLLPRI : 0)));
    files.push_back(e.file);
    entries.push_back(std::move(e));
  }
  ws.next_timed = TimedOf(files);
  std::vector<uint64_t> out[3];
  auto scan = [&]() {
    int count = 0;
    for (int s = 0; s < 3; ++s) out[s].assign(words, 0);
    for (const Entry& e : entries) {
      uint32_t r = e.file->Readiness(kInSet | kOutSet | kExSet);
      const uint32_t sets[3] = {kInSet, kOutSet, kExSet};
      for (int s = 0; s < 3; ++s) {
        if (e.sets[s] && (r & sets[s])) {
          out[s][e.fd / 64] |= uint64_t{1} << (e.fd % 64);
          ++count;
        }
      }
    }
    return count;
  };
  int count = scan();
  if (count == 0 && !(deadline && *deadline <= absl::Now())) {
    ErrnoOr<void> w = WaitOn(t, ws, deadline, [&] { return scan() > 0; });
    if (!w.ok() && w.error() != Errno(ETIMEDOUT)) return w.error();
    if (!w.ok()) {
      count = 0;
      for (int s = 0; s < 3; ++s) out[s].assign(words, 0);
    } else {
      count = scan();
    }
  }
  for (int s = 0; s < 3; ++s) {
    if (!addrs[s].null() && words > 0) {
      SENTRY_RETURN_IF_ERRNO(
          t.mm().CopyOut(addrs[s].value, out[s].data(), words * 8));
    }
  }
  return static_cast<uint64_t>(count);
}

ErrnoOr<fs::EpollFile*> GetEpoll(Task& t, Fd epfd, FilePtr& holder) {
  SENTRY_ASSIGN_OR_RETURN(holder, GetFile(t, epfd));
  auto* ep = dynamic_cast<fs::EpollFile*>(holder.get());
  if (ep == nullptr) return Errno(EINVAL);
  return ep;
}

ErrnoOr<uint64_t> DoEpollWait(Task& t, Fd epfd, UserAddr events, int maxevents,
                              std::optional<absl::Time> deadline) {
  if (maxevents <= 0 ||
      static_cast<uint64_t>(maxevents) > INT32_MAX / sizeof(epoll_event)) {
    return Errno(EINVAL);
  }
  FilePtr holder;
  SENTRY_ASSIGN_OR_RETURN(fs::EpollFile * ep, GetEpoll(t, epfd, holder));
  size_t bytes = static_cast<size_t>(maxevents) * sizeof(struct epoll_event);
  if (t.mm().WritableLength(events.value, bytes) < bytes) return Errno(EFAULT);
  std::vector<struct epoll_event> got = ep->Collect(maxevents);
  while (got.empty() && !(deadline && *deadline <= absl::Now())) {
    WaitSet ws;
    ws.queues.insert(ep->wait_queue());
    ws.host = ep->HostInterests();
    ws.next_timed = [ep] { return ep->NextTimedChange(); };
    ErrnoOr<void> w =
        WaitOn(t, ws, deadline, [ep] { return ep->Readiness(POLLIN) != 0; });
    // epoll_wait is never restarted: even a stop and continue is EINTR.
    if (!w.ok() && w.error() == Errno(kErestartNoHand)) return Errno(EINTR);
    if (!w.ok() && w.error() != Errno(ETIMEDOUT)) return w.error();
    got = ep->Collect(maxevents);
    if (!w.ok()) break;
  }
  if (!got.empty()) {
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(
        events.value, got.data(), got.size() * sizeof(struct epoll_event)));
  }
  return static_cast<uint64_t>(got.size());
}

}  // namespace

ErrnoOr<uint64_t> Poll(Task& t, UserAddr fds, uint64_t nfds, int timeout) {
  return DoPoll(t, fds, nfds, DeadlineFromMs(timeout));
}

ErrnoOr<uint64_t> Ppoll(Task& t, UserAddr fds, uint64_t nfds, UserAddr tsp,
                        UserAddr sigmask, uint64_t sigsetsize) {
  SENTRY_ASSIGN_OR_RETURN(std::optional<absl::Time> deadline,
                          DeadlineFromTimespec(t, tsp));
  ScopedSigmask mask(t);
  SENTRY_RETURN_IF_ERRNO(mask.Set(sigmask, sigsetsize));
  ErrnoOr<uint64_t> r = mask.Finish(DoPoll(t, fds, nfds, deadline));
  WriteRemaining(t, tsp, deadline, /*timeval=*/false);
  return r;
}

ErrnoOr<uint64_t> Select(Task& t, int nfds, UserAddr readfds, UserAddr writefds,
                         UserAddr exceptfds, UserAddr timeout) {
  std::optional<absl::Time> deadline;
  if (!timeout.null()) {
    struct timeval tv;
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(timeout.value, &tv, sizeof(tv)));
    if (tv.tv_sec < 0 || tv.tv_usec < 0) return Errno(EINVAL);
    // Linux normalises tv_usec >= 1e6 rather than failing.
    deadline =
        absl::Now() + absl::Seconds(tv.tv_sec) + absl::Microseconds(tv.tv_usec);
  }
  ErrnoOr<uint64_t> r =
      DoSelect(t, nfds, readfds, writefds, exceptfds, deadline);
  WriteRemaining(t, timeout, deadline, /*timeval=*/true);
  return r;
}

ErrnoOr<uint64_t> Pselect6(Task& t, int nfds, UserAddr readfds,
                           UserAddr writefds, UserAddr exceptfds,
                           UserAddr timeout, UserAddr sig) {
  SENTRY_ASSIGN_OR_RETURN(std::optional<absl::Time> deadline,
                          DeadlineFromTimespec(t, timeout));
  ScopedSigmask mask(t);
  if (!sig.null()) {
    // The 6th argument points at {const sigset_t* ss; size_t ss_len}.
    uint64_t pair[2];
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(sig.value, pair, sizeof(pair)));
    SENTRY_RETURN_IF_ERRNO(mask.Set(UserAddr{pair[0]}, pair[1]));
  }
  ErrnoOr<uint64_t> r =
      mask.Finish(DoSelect(t, nfds, readfds, writefds, exceptfds, deadline));
  WriteRemaining(t, timeout, deadline, /*timeval=*/false);
  return r;
}

ErrnoOr<uint64_t> EpollCreate(Task& t, int size) {
  if (size <= 0) return Errno(EINVAL);
  return EpollCreate1(t, 0);
}

ErrnoOr<uint64_t> EpollCreate1(Task& t, int flags) {
  if (flags & ~EPOLL_CLOEXEC) return Errno(EINVAL);
  return InstallFile(t, std::make_shared<fs::EpollFile>(),
                     flags & EPOLL_CLOEXEC);
}

ErrnoOr<void> EpollCtl(Task& t, Fd epfd, int op, Fd fd, UserAddr event) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr ep_file, GetFile(t, epfd));
  SENTRY_ASSIGN_OR_RETURN(FilePtr target, GetFile(t, fd));
  auto* ep = dynamic_cast<fs::EpollFile*>(ep_file.get());
  if (ep == nullptr) return Errno(EINVAL);
  struct epoll_event ev {};
  if (op != EPOLL_CTL_DEL) {
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(event.value, &ev, sizeof(ev)));
  }
  return ep->Ctl(op, fd.value, std::move(target), ev);
}

ErrnoOr<uint64_t> EpollWait(Task& t, Fd epfd, UserAddr events, int maxevents,
                            int timeout) {
  return DoEpollWait(t, epfd, events, maxevents, DeadlineFromMs(timeout));
}

ErrnoOr<uint64_t> EpollPwait(Task& t, Fd epfd, UserAddr events, int maxevents,
                             int timeout, UserAddr sigmask,
                             uint64_t sigsetsize) {
  ScopedSigmask mask(t);
  SENTRY_RETURN_IF_ERRNO(mask.Set(sigmask, sigsetsize));
  return mask.Finish(
      DoEpollWait(t, epfd, events, maxevents, DeadlineFromMs(timeout)));
}

ErrnoOr<uint64_t> EpollPwait2(Task& t, Fd epfd, UserAddr events, int maxevents,
                              UserAddr timeout, UserAddr sigmask,
                              uint64_t sigsetsize) {
  SENTRY_ASSIGN_OR_RETURN(std::optional<absl::Time> deadline,
                          DeadlineFromTimespec(t, timeout));
  ScopedSigmask mask(t);
  SENTRY_RETURN_IF_ERRNO(mask.Set(sigmask, sigsetsize));
  return mask.Finish(DoEpollWait(t, epfd, events, maxevents, deadline));
}

}  // namespace sentry::syscalls
