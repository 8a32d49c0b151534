// ThreadGroup: membership, group exit, and process-directed signals.
#include <poll.h>

#include <algorithm>

#include "sentry/kernel/task.h"

namespace sentry::kernel {

void ThreadGroup::Add(Task* t) {
  absl::MutexLock l(&mu_);
  threads_.push_back(t);
}

int ThreadGroup::Remove(Task* t) {
  absl::MutexLock l(&mu_);
  threads_.erase(std::remove(threads_.begin(), threads_.end(), t),
                 threads_.end());
  return static_cast<int>(threads_.size());
}

int ThreadGroup::Count() const {
  absl::MutexLock l(&mu_);
  return static_cast<int>(threads_.size());
}

std::vector<int> ThreadGroup::Tids() const {
  absl::MutexLock l(&mu_);
  std::vector<int> tids;
  for (const Task* t : threads_) tids.push_back(t->tid());
  std::sort(tids.begin(), tids.end());
  return tids;
}

void ThreadGroup::WaitUntilAlone(const Task* t) {
  absl::MutexLock l(&mu_);
  auto alone = [this, t]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return threads_.empty() || (threads_.size() == 1 && threads_[0] == t);
  };
  mu_.Await(absl::Condition(&alone));
}

void ThreadGroup::ForEach(const std::function<void(Task&)>& fn) {
  absl::MutexLock l(&mu_);
  for (Task* t : threads_) fn(*t);
}

void ThreadGroup::Exit(const ExitStatus& status) {
  absl::MutexLock l(&mu_);
  if (!exit_status_) exit_status_ = status;
  exiting_.store(true);
  for (Task* t : threads_) t->Interrupt();
}

std::optional<ExitStatus> ThreadGroup::exit_status() const {
  absl::MutexLock l(&mu_);
  return exit_status_;
}

bool ThreadGroup::QueueSignal(int sig, const siginfo_t* info, uint64_t limit) {
  if (sig == SIGKILL) {
    // SIGKILL needs no thread to take it: the whole group dies now.
    Exit(ExitStatus{.signal = SIGKILL});
    return true;
  }
  absl::MutexLock l(&mu_);
  siginfo_t si{};
  if (info != nullptr) {
    si = *info;
  } else {
    si.si_signo = sig;
    si.si_code = SI_KERNEL;
  }
  if (!pending_.Add(sig, si, limit)) return false;
  // Linux's complete_signal: the main thread if it can take the signal,
  // else the first thread that does not block it. If every thread blocks
  // it, it waits in the group's set until one unblocks it (or sigwaits).
  Task* target = nullptr;
  for (Task* t : threads_) {
    if (t->exiting() || (t->signal_mask() & SigBit(sig))) continue;
    if (target == nullptr || t->is_leader()) target = t;
    if (t->is_leader()) break;
  }
  signal_queue_.Notify(POLLIN);
  if (target != nullptr) target->Interrupt();
  return true;
}

std::optional<siginfo_t> ThreadGroup::Take(int sig) {
  return pending_.Take(sig);
}

bool ThreadGroup::Stop() {
  absl::MutexLock l(&mu_);
  if (exiting() || stopped_.load()) return false;
  stopped_.store(true);
  for (Task* t : threads_) t->Interrupt();
  return true;
}

bool ThreadGroup::Continue() {
  absl::MutexLock l(&mu_);
  if (!stopped_.load()) return false;
  stopped_.store(false);
  for (Task* t : threads_) t->Interrupt();
  return true;
}

void ThreadGroup::DiscardPending(uint64_t mask) {
  absl::MutexLock l(&mu_);
  pending_.Discard(mask);
  for (Task* t : threads_) t->DiscardPending(mask);
}

bool ThreadGroup::KillOthers(Task* keep) {
  bool successor = !keep->is_leader();
  {
    absl::MutexLock l(&mu_);
    if (successor) {
      if (exec_successor_ != nullptr) return false;  // another exec won
      exec_successor_ = keep;
      handed_over_ = false;
    }
    for (Task* t : threads_) {
      if (t != keep) t->KillThread();
    }
  }
  if (successor) {
    absl::MutexLock l(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return handed_over_ || exiting();
    };
    mu_.Await(absl::Condition(&done));
    exec_successor_ = nullptr;
    if (!handed_over_) return false;
  }
  WaitUntilAlone(keep);
  return !exiting();
}

Task* ThreadGroup::HandOverLeadership(Task* leader) {
  Task* successor;
  {
    absl::MutexLock l(&mu_);
    if (exec_successor_ == nullptr || exiting()) return nullptr;
    successor = exec_successor_;
    // Everyone else leaves first (they run in the old image this task's
    // host thread must tear down).
    auto two_left = [this, leader, successor]()
                        ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                          for (Task* t : threads_) {
                            if (t != leader && t != successor) return false;
                          }
                          return true;
                        };
    mu_.Await(absl::Condition(&two_left));
    if (exiting()) return nullptr;
    int old_tid = successor->tid();
    successor->set_tid(leader->tid());
    leader->set_tid(old_tid);
  }
  return successor;
}

void ThreadGroup::FinishHandOver() {
  absl::MutexLock l(&mu_);
  handed_over_ = true;
}

}  // namespace sentry::kernel
