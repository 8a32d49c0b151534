#include "sentry/fs/epoll.h"

#include <poll.h>

#include <algorithm>

#include "sentry/fs/anon_inode.h"

namespace sentry::fs {
namespace {

// Linux's EP_MAX_NESTS.
constexpr int kMaxNests = 4;
// Events epoll_ctl accepts (the rest are EINVAL with EPOLLEXCLUSIVE only).
constexpr uint32_t kAlways = EPOLLERR | EPOLLHUP;
constexpr uint32_t kControlBits =
    EPOLLET | EPOLLONESHOT | EPOLLWAKEUP | EPOLLEXCLUSIVE;

bool Pollable(vfs::FileDescription& f) {
  return f.wait_queue() != nullptr || f.host_fd() >= 0;
}

}  // namespace

EpollFile::EpollFile() : vfs::FileDescription(O_RDONLY) {
  set_inode(AnonInodeOf("[eventpoll]"));
}

EpollFile::~EpollFile() {
  absl::MutexLock l(&mu_);
  for (auto& in : interests_) Unregister(*in);
}

void EpollFile::Interest::Wake(uint32_t ev) {
  if (!(ev & (events.load() | kAlways))) return;
  triggered = true;
  owner->queue_.Notify(POLLIN);
}

void EpollFile::Unregister(Interest& in) {
  // A file that is gone took its queue with it (see the header).
  if (in.queue == nullptr) return;
  if (std::shared_ptr<vfs::FileDescription> f = in.file.lock()) {
    in.queue->Remove(&in);
  }
  in.queue = nullptr;
}

bool EpollFile::Reaches(EpollFile* target, int depth) {
  if (this == target) return true;
  if (depth <= 0) return true;  // too deep counts as a loop (ELOOP)
  std::vector<std::shared_ptr<vfs::FileDescription>> inner;
  {
    absl::MutexLock l(&mu_);
    for (auto& in : interests_) {
      auto f = in->file.lock();
      if (f && dynamic_cast<EpollFile*>(f.get())) inner.push_back(f);
    }
  }
  for (auto& f : inner) {
    if (static_cast<EpollFile*>(f.get())->Reaches(target, depth - 1)) {
      return true;
    }
  }
  return false;
}

ErrnoOr<void> EpollFile::Ctl(int op, int fd,
                             std::shared_ptr<vfs::FileDescription> file,
                             const struct epoll_event& ev) {
  if (file.get() == this) return Errno(EINVAL);
  if (!Pollable(*file)) return Errno(EPERM);
  const uint32_t events = ev.events;
  if (events & EPOLLEXCLUSIVE) {
    // Linux: only with ADD, and not with EPOLLONESHOT or on an epoll file.
    if (op == EPOLL_CTL_MOD) return Errno(EINVAL);
    if (op == EPOLL_CTL_ADD &&
        ((events & EPOLLONESHOT) || dynamic_cast<EpollFile*>(file.get()))) {
      return Errno(EINVAL);
    }
  }
  if (op == EPOLL_CTL_ADD) {
    if (auto* inner = dynamic_cast<EpollFile*>(file.get())) {
      if (inner->Reaches(this, kMaxNests)) return Errno(ELOOP);
    }
  }
  absl::MutexLock l(&mu_);
  auto it = std::find_if(interests_.begin(), interests_.end(), [&](auto& in) {
    return in->fd == fd && in->key == file.get();
  });
  switch (op) {
    case EPOLL_CTL_ADD: {
      if (it != interests_.end()) return Errno(EEXIST);
      auto in = std::make_unique<Interest>();
      in->owner = this;
      in->fd = fd;
      in->key = file.get();
      in->file = file;
      in->events = events;
      in->data = ev.data.u64;
      // Linux queues a file that is ready at insertion: EPOLLET reports it.
      in->triggered = true;
      if (vfs::WaitQueue* q = file->wait_queue()) {
        in->queue = q;
        q->Add(in.get(), ~0u);
      }
      interests_.push_back(std::move(in));
      break;
    }
    case EPOLL_CTL_MOD: {
      if (it == interests_.end()) return Errno(ENOENT);
      if ((*it)->events.load() & EPOLLEXCLUSIVE) return Errno(EINVAL);
      (*it)->events = events;
      (*it)->data = ev.data.u64;
      (*it)->disabled = false;
      (*it)->triggered = true;
      (*it)->last_host_bits = 0;
      break;
    }
    case EPOLL_CTL_DEL: {
      if (it == interests_.end()) return Errno(ENOENT);
      Unregister(**it);
      interests_.erase(it);
      break;
    }
    default:
      return Errno(EINVAL);
  }
  // A blocked epoll_wait re-scans (the new interest may be ready).
  queue_.Notify(POLLIN);
  return {};
}

uint32_t EpollFile::Poll(Interest& in, vfs::FileDescription& f) {
  uint32_t want = (in.events.load() & ~kControlBits) | kAlways;
  return f.Readiness(want) & want;
}

std::vector<struct epoll_event> EpollFile::Collect(size_t max) {
  std::vector<struct epoll_event> out;
  std::vector<std::shared_ptr<vfs::FileDescription>> keep;  // released unlocked
  absl::MutexLock l(&mu_);
  for (auto it = interests_.begin();
       it != interests_.end() && out.size() < max;) {
    Interest& in = **it;
    std::shared_ptr<vfs::FileDescription> f = in.file.lock();
    if (!f) {  // closed: drop the interest, as Linux's eventpoll_release
      it = interests_.erase(it);
      continue;
    }
    keep.push_back(f);
    ++it;
    if (in.disabled) continue;
    const uint32_t events = in.events.load();
    uint32_t bits;
    if (!(events & EPOLLET)) {
      bits = Poll(in, *f);
    } else if (in.queue == nullptr) {
      // Host FD: report changes of its readiness (see the header).
      uint32_t now = Poll(in, *f);
      bits = now & ~in.last_host_bits;
      in.last_host_bits = now;
    } else {
      bits = in.triggered.exchange(false) ? Poll(in, *f) : 0;
    }
    if (bits == 0) continue;
    struct epoll_event ev;
    ev.events = bits;
    ev.data.u64 = in.data;
    out.push_back(ev);
    if (events & EPOLLONESHOT) in.disabled = true;
  }
  return out;
}

std::vector<std::pair<int, short>> EpollFile::HostInterests() {
  std::vector<std::pair<int, short>> out;
  absl::MutexLock l(&mu_);
  for (auto& in : interests_) {
    if (in->disabled || in->queue != nullptr) continue;
    if (auto f = in->file.lock(); f && f->host_fd() >= 0) {
      out.emplace_back(f->host_fd(),
                       static_cast<short>(in->events.load() & ~kControlBits));
    }
  }
  return out;
}

std::optional<absl::Time> EpollFile::NextTimedChange() {
  std::optional<absl::Time> next;
  absl::MutexLock l(&mu_);
  for (auto& in : interests_) {
    auto f = in->file.lock();
    auto* timed = dynamic_cast<TimedReadiness*>(f.get());
    if (timed == nullptr || in->disabled) continue;
    if (auto t = timed->NextReadinessChange(); t && (!next || *t < *next)) {
      next = t;
    }
  }
  return next;
}

uint32_t EpollFile::Readiness(uint32_t mask) {
  std::vector<std::shared_ptr<vfs::FileDescription>> keep;
  absl::MutexLock l(&mu_);
  for (auto& in : interests_) {
    auto f = in->file.lock();
    if (!f || in->disabled) continue;
    keep.push_back(f);
    const uint32_t events = in->events.load();
    if ((events & EPOLLET) && in->queue != nullptr && !in->triggered.load()) {
      continue;
    }
    if (Poll(*in, *f) != 0) return mask & (POLLIN | POLLRDNORM);
  }
  return 0;
}

}  // namespace sentry::fs
