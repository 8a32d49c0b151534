#include "sentry/kernel/process_table.h"

#include <errno.h>
#include <signal.h>

#include <climits>
#include <vector>

#include "sentry/kernel/task.h"

namespace sentry::kernel {
namespace {

// How deep the calling thread is in a table's locked callbacks, and what
// they deferred until the lock is released.
thread_local int callback_depth = 0;
thread_local std::vector<std::function<void()>>* deferred = nullptr;

}  // namespace

ProcessTable::CallbackLock::CallbackLock(ProcessTable* table) : table_(table) {
  table_->mu_.Lock();
  ++callback_depth;
}

ProcessTable::CallbackLock::~CallbackLock() {
  --callback_depth;
  table_->mu_.Unlock();
  if (callback_depth == 0 && deferred != nullptr) {
    std::vector<std::function<void()>> run = std::move(*deferred);
    delete deferred;
    deferred = nullptr;
    for (auto& fn : run) fn();
  }
}

void ProcessTable::RunUnlocked(std::function<void()> fn) {
  if (callback_depth == 0) {
    fn();
    return;
  }
  if (deferred == nullptr) deferred = new std::vector<std::function<void()>>;
  deferred->push_back(std::move(fn));
}

void ProcessTable::AddInit(Task* task) {
  absl::MutexLock l(&mu_);
  Process& p = procs_[1];
  p.parent = 0;
  p.pgid = 1;
  p.sid = 1;
  p.task = task;
}

ErrnoOr<int> ProcessTable::NextIdLocked(int uid, uint64_t nproc_limit) {
  // Threads count like processes, as Linux counts tasks: each is a host
  // thread in the Sentry and a stub thread.
  int live = static_cast<int>(threads_.size()), of_uid = 0;
  for (const auto& [pid, p] : procs_) {
    if (p.zombie) continue;
    ++live;
    if (p.uid == uid) ++of_uid;
  }
  for (const auto& [tid, thread_uid] : threads_) of_uid += thread_uid == uid;
  if (live >= kMaxProcesses) return Errno(EAGAIN);
  // RLIMIT_NPROC binds everyone but root, as on Linux.
  if (uid != 0 && static_cast<uint64_t>(of_uid) >= nproc_limit) {
    return Errno(EAGAIN);
  }
  int pid = next_pid_;
  while (procs_.count(pid) || threads_.count(pid)) {
    pid = pid == INT_MAX / 2 ? 2 : pid + 1;
  }
  next_pid_ = pid + 1;
  return pid;
}

ErrnoOr<int> ProcessTable::AllocateThread(int uid, uint64_t nproc_limit) {
  absl::MutexLock l(&mu_);
  SENTRY_ASSIGN_OR_RETURN(int tid, NextIdLocked(uid, nproc_limit));
  threads_[tid] = uid;
  return tid;
}

void ProcessTable::FreeThread(int tid) {
  absl::MutexLock l(&mu_);
  threads_.erase(tid);
}

ErrnoOr<int> ProcessTable::Allocate(int parent, int uid, uint64_t nproc_limit,
                                    bool clone_child) {
  absl::MutexLock l(&mu_);
  SENTRY_ASSIGN_OR_RETURN(int pid, NextIdLocked(uid, nproc_limit));
  auto it = procs_.find(parent);
  Process& p = procs_[pid];
  p.parent = parent;
  p.uid = uid;
  p.clone_child = clone_child;
  if (it != procs_.end()) {
    p.pgid = it->second.pgid;
    p.sid = it->second.sid;
  }
  return pid;
}

void ProcessTable::Attach(int pid, Task* task) {
  absl::MutexLock l(&mu_);
  auto it = procs_.find(pid);
  if (it != procs_.end()) it->second.task = task;
}

int ProcessTable::Exited(int pid, const ChildStatus& status, bool autoreap,
                         const std::function<void(Task&)>& signal_parent) {
  int parent = 0;
  {
    CallbackLock l(this);
    auto it = procs_.find(pid);
    if (it == procs_.end()) return 0;
    parent = it->second.parent;
    it->second.task = nullptr;
    // Orphans go to the nearest subreaper or to init, which reaps them;
    // those that asked for a signal when their parent died get it.
    int reaper = NewReaperLocked(pid);
    for (auto& [cpid, c] : procs_) {
      if (c.parent != pid) continue;
      c.parent = reaper;
      // Linux's reparent_leader resets an orphan's exit signal to SIGCHLD,
      // so the reaper's plain wait finds it. How we differ: the table
      // forgets it is a clone child, but the orphan still sends its own
      // exit signal.
      c.clone_child = false;
      if (c.pdeath_signal != 0 && c.task != nullptr) {
        siginfo_t info{};
        info.si_signo = c.pdeath_signal;
        info.si_code = SI_USER;
        info.si_pid = pid;
        c.task->QueueSignal(c.pdeath_signal, &info);
      }
    }
    if (autoreap || parent == 0) {
      procs_.erase(it);
    } else {
      it->second.zombie = status;
    }
    // The zombie and the parent's SIGCHLD appear together (Linux's
    // exit_notify, under tasklist_lock): a parent that sees the signal
    // finds the zombie, and one woken from wait has the signal pending.
    if (signal_parent) {
      auto p = procs_.find(parent);
      if (p != procs_.end() && p->second.task != nullptr) {
        signal_parent(*p->second.task);
      }
    }
  }
  exits_.Notify(~0u);
  return parent;
}

void ProcessTable::ReportStop(int pid, int sig,
                              const std::function<void(Task&)>& signal_parent) {
  {
    CallbackLock l(this);
    auto it = procs_.find(pid);
    if (it == procs_.end() || it->second.zombie) return;
    it->second.stop_report = sig;
    it->second.continue_report = false;
    auto p = procs_.find(it->second.parent);
    if (p != procs_.end() && p->second.task != nullptr) {
      signal_parent(*p->second.task);
    }
  }
  exits_.Notify(~0u);
}

void ProcessTable::ReportContinue(
    int pid, const std::function<void(Task&)>& signal_parent) {
  {
    CallbackLock l(this);
    auto it = procs_.find(pid);
    if (it == procs_.end() || it->second.zombie) return;
    it->second.stop_report = 0;
    it->second.continue_report = true;
    auto p = procs_.find(it->second.parent);
    if (p != procs_.end() && p->second.task != nullptr) {
      signal_parent(*p->second.task);
    }
  }
  exits_.Notify(~0u);
}

bool ProcessTable::Matches(const Process& p, int parent, int sel,
                           int caller_pgid) const {
  if (p.parent != parent) return false;
  if (sel == -1) return true;
  if (sel == 0) return p.pgid == caller_pgid;
  if (sel < -1) return p.pgid == -sel;
  return false;  // sel > 0 is matched by PID
}

ErrnoOr<std::optional<ChildStatus>> ProcessTable::TryWait(int parent, int sel,
                                                          bool peek,
                                                          int which) {
  absl::MutexLock l(&mu_);
  int caller_pgid = procs_.count(parent) ? procs_[parent].pgid : 0;
  bool any = false;
  for (auto it = procs_.begin(); it != procs_.end(); ++it) {
    bool match = sel > 0 ? (it->first == sel && it->second.parent == parent)
                         : Matches(it->second, parent, sel, caller_pgid);
    if (!match) continue;
    if (!(which & kWaitAll) &&
        it->second.clone_child != static_cast<bool>(which & kWaitClone)) {
      continue;  // not counted either: ECHILD if no other child matches
    }
    any = true;
    Process& p = it->second;
    ChildStatus st;
    st.pid = it->first;
    st.uid = p.uid;
    if (p.zombie) {
      if (!(which & kWaitExited)) continue;
      st = *p.zombie;  // with the real UID it had at its exit
      st.pid = it->first;
      if (!peek) procs_.erase(it);
      return std::optional<ChildStatus>(st);
    }
    if (p.stop_report != 0 && (which & kWaitStopped)) {
      st.kind = ChildStatus::Kind::kStopped;
      st.signal = p.stop_report;
      if (!peek) p.stop_report = 0;
      return std::optional<ChildStatus>(st);
    }
    if (p.continue_report && (which & kWaitContinued)) {
      st.kind = ChildStatus::Kind::kContinued;
      st.signal = SIGCONT;
      if (!peek) p.continue_report = false;
      return std::optional<ChildStatus>(st);
    }
  }
  if (!any) return Errno(ECHILD);
  return std::optional<ChildStatus>();
}

int ProcessTable::NewReaperLocked(int pid) const {
  auto self = procs_.find(pid);
  int at = self == procs_.end() ? 0 : self->second.parent;
  for (int hops = 0; at > 1 && hops < kMaxProcesses; ++hops) {
    auto it = procs_.find(at);
    if (it == procs_.end()) break;
    if (it->second.subreaper && !it->second.zombie &&
        it->second.task != nullptr) {
      return at;
    }
    at = it->second.parent;
  }
  return 1;
}

void ProcessTable::SetSubreaper(int pid, bool on) {
  absl::MutexLock l(&mu_);
  if (auto it = procs_.find(pid); it != procs_.end()) {
    it->second.subreaper = on;
  }
}

void ProcessTable::SetPdeathSignal(int pid, int sig) {
  absl::MutexLock l(&mu_);
  if (auto it = procs_.find(pid); it != procs_.end()) {
    it->second.pdeath_signal = sig;
  }
}

int ProcessTable::Parent(int pid) {
  absl::MutexLock l(&mu_);
  auto it = procs_.find(pid);
  return it == procs_.end() ? 0 : it->second.parent;
}

int ProcessTable::Group(int pid) {
  absl::MutexLock l(&mu_);
  auto it = procs_.find(pid);
  return it == procs_.end() ? 0 : it->second.pgid;
}

int ProcessTable::Session(int pid) {
  absl::MutexLock l(&mu_);
  auto it = procs_.find(pid);
  return it == procs_.end() ? 0 : it->second.sid;
}

ErrnoOr<void> ProcessTable::SetGroup(int caller, int pid, int pgid) {
  absl::MutexLock l(&mu_);
  if (pid == 0) pid = caller;
  if (pgid == 0) pgid = pid;
  if (pgid < 0) return Errno(EINVAL);
  auto it = procs_.find(pid);
  if (it == procs_.end() || it->second.zombie) return Errno(ESRCH);
  if (pid != caller && it->second.parent != caller) return Errno(ESRCH);
  auto me = procs_.find(caller);
  if (it->second.sid != me->second.sid) return Errno(EPERM);
  if (it->second.sid == pid) return Errno(EPERM);  // a session leader
  if (pgid != pid) {
    bool exists = false;
    for (const auto& [p, proc] : procs_) {
      if (proc.pgid == pgid && proc.sid == it->second.sid) exists = true;
    }
    if (!exists) return Errno(EPERM);
  }
  it->second.pgid = pgid;
  return {};
}

ErrnoOr<int> ProcessTable::NewSession(int pid) {
  absl::MutexLock l(&mu_);
  for (const auto& [p, proc] : procs_) {
    if (proc.pgid == pid && !proc.zombie) return Errno(EPERM);
  }
  Process& me = procs_[pid];
  me.sid = me.pgid = pid;
  return pid;
}

int ProcessTable::ForEachTarget(
    int caller, int sel, const std::function<void(const KillTarget&)>& fn) {
  CallbackLock l(this);
  int caller_pgid = procs_.count(caller) ? procs_[caller].pgid : 0;
  int caller_sid = procs_.count(caller) ? procs_[caller].sid : 0;
  int n = 0;
  for (const auto& [pid, p] : procs_) {
    if (p.task == nullptr && !p.zombie) continue;  // not attached yet
    bool match = sel > 0     ? pid == sel
                 : sel == 0  ? p.pgid == caller_pgid
                 : sel == -1 ? (pid != 1 && pid != caller)
                             : p.pgid == -sel;
    if (!match) continue;
    KillTarget target{.task = p.task, .same_session = p.sid == caller_sid};
    if (p.zombie) {
      target.ruid = p.zombie->uid;
      target.suid = p.zombie->suid;
    }
    fn(target);
    ++n;
  }
  return n;
}

void ProcessTable::ForEachLive(const std::function<void(Task&)>& fn) {
  CallbackLock l(this);
  for (const auto& [pid, p] : procs_) {
    if (p.task != nullptr) fn(*p.task);
  }
}

int ProcessTable::LiveCount() {
  absl::MutexLock l(&mu_);
  int n = 0;
  for (const auto& [pid, p] : procs_) n += p.task != nullptr;
  return n;
}

}  // namespace sentry::kernel
