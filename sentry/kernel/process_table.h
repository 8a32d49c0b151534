// ProcessTable: the sandbox's PID namespace as wait(2) and kill(2) see it:
// who is whose parent, process groups and sessions, and the exit status of
// each process until its parent reaps it (a zombie).
//
// A process's entry points at its leader task (whose host thread outlives
// the process's other threads); other threads only hold a TID here.
//
// Lock order: ProcessTable::mu_ before Kernel::tasks_mu_ is never needed;
// it is taken alone, and Task methods called under it (QueueSignal) take
// no table lock.
#ifndef SENTRY_KERNEL_PROCESS_TABLE_H_
#define SENTRY_KERNEL_PROCESS_TABLE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/base/errno_or.h"
#include "sentry/vfs/wait_queue.h"

namespace sentry::kernel {

class Task;
struct ExitStatus;

// What wait4/waitid report about a reaped or waitable child.
struct ChildStatus {
  enum class Kind { kExited, kStopped, kContinued };
  Kind kind = Kind::kExited;
  int pid = 0;
  int uid = 0;
  int suid = 0;    // for kill's permission check on a zombie
  int code = 0;    // exit code, if signal == 0
  int signal = 0;  // terminating (or, for kStopped, stopping) signal
  bool core = false;
  // For kExited: the CPU time of the process and of the descendants it
  // reaped, which its reaper adds to its own children's times.
  uint64_t user_ns = 0;
  uint64_t sys_ns = 0;
  // wait4's status word.
  int WaitStatus() const {
    if (kind == Kind::kStopped) return (signal << 8) | 0x7f;
    if (kind == Kind::kContinued) return 0xffff;
    return signal != 0 ? (signal | (core ? 0x80 : 0)) : ((code & 0xff) << 8);
  }
};

// What wait4/waitid wait for (WEXITED, WSTOPPED/WUNTRACED, WCONTINUED).
inline constexpr int kWaitExited = 1;
inline constexpr int kWaitStopped = 2;
inline constexpr int kWaitContinued = 4;
// __WCLONE: wait only for "clone" children (those whose exit signal is not
// SIGCHLD); __WALL: for every child. Without either, only for the others.
inline constexpr int kWaitClone = 8;
inline constexpr int kWaitAll = 16;

class ProcessTable {
 public:
  // Caps the number of processes so a fork bomb cannot exhaust the host
  // (each process is a stub process and a host thread in the Sentry).
  static constexpr int kMaxProcesses = 2048;

  // The first process (PID 1, parent 0, its own group and session).
  void AddInit(Task* task) ABSL_LOCKS_EXCLUDED(mu_);
  // A new PID for a child of `parent` (same group and session), counted
  // against `uid`'s `nproc_limit` (RLIMIT_NPROC; EAGAIN beyond it).
  // `clone_child`: its exit signal is not SIGCHLD (see kWaitClone).
  ErrnoOr<int> Allocate(int parent, int uid, uint64_t nproc_limit,
                        bool clone_child = false) ABSL_LOCKS_EXCLUDED(mu_);
  // A TID for a new thread (not a process: it has no entry of its own),
  // counted like a process against the caps; freed by FreeThread.
  ErrnoOr<int> AllocateThread(int uid, uint64_t nproc_limit)
      ABSL_LOCKS_EXCLUDED(mu_);
  void FreeThread(int tid) ABSL_LOCKS_EXCLUDED(mu_);
  // The child's task is running (or gone: null).
  void Attach(int pid, Task* task) ABSL_LOCKS_EXCLUDED(mu_);
  // `pid` exited: it becomes a zombie for its parent (or is reaped at once
  // if `autoreap`: the parent ignores SIGCHLD), its children go to init.
  // Returns the parent's PID, to which SIGCHLD is due.
  // `signal_parent`, if set, runs on the live parent with the table
  // locked, after the zombie is recorded and before waiters wake.
  int Exited(int pid, const ChildStatus& status, bool autoreap,
             const std::function<void(Task&)>& signal_parent = nullptr)
      ABSL_LOCKS_EXCLUDED(mu_);

  // wait4/waitid's selector: > 0 one PID, -1 any child, 0 the caller's
  // group, < -1 group -sel. Returns the first exited child (reaping it
  // unless `peek`), nullopt if children exist but none has exited, ECHILD
  // if none matches.
  // `which` (kWait* bits) says which changes count: exits, stops,
  // continues. A stop or continue is reported once.
  ErrnoOr<std::optional<ChildStatus>> TryWait(int parent, int sel, bool peek,
                                              int which = kWaitExited)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Job control: process `pid` stopped (with `sig`) or continued. The
  // change becomes waitable and `signal_parent` runs on the live parent
  // with the table locked (SIGCHLD, CLD_STOPPED/CLD_CONTINUED).
  void ReportStop(int pid, int sig,
                  const std::function<void(Task&)>& signal_parent)
      ABSL_LOCKS_EXCLUDED(mu_);
  void ReportContinue(int pid, const std::function<void(Task&)>& signal_parent)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Notified whenever a process exits.
  vfs::WaitQueue& exits() { return exits_; }

  int Parent(int pid) ABSL_LOCKS_EXCLUDED(mu_);
  // prctl(PR_SET_CHILD_SUBREAPER): orphaned descendants of `pid` are
  // reparented to it instead of init.
  void SetSubreaper(int pid, bool on) ABSL_LOCKS_EXCLUDED(mu_);
  // prctl(PR_SET_PDEATHSIG): `sig` is sent to `pid` when its parent dies.
  // How we differ from Linux: the parent is the parent process, not the
  // thread that forked (Linux signals when that thread exits).
  void SetPdeathSignal(int pid, int sig) ABSL_LOCKS_EXCLUDED(mu_);
  int Group(int pid) ABSL_LOCKS_EXCLUDED(mu_);
  int Session(int pid) ABSL_LOCKS_EXCLUDED(mu_);
  // setpgid(2): EPERM/ESRCH/EACCES as Linux.
  ErrnoOr<void> SetGroup(int caller, int pid, int pgid)
      ABSL_LOCKS_EXCLUDED(mu_);
  // setsid(2): EPERM if the caller leads a group.
  ErrnoOr<int> NewSession(int pid) ABSL_LOCKS_EXCLUDED(mu_);

  // Calls `fn` (with the table locked, so the task stays alive; `fn` must
  // not block or call back into the table) on each target of kill(2): one
  // PID, the caller's group (0), group -sel, or everyone but init and the
  // caller (-1). Zombies are targets too (with a null task): on Linux a
  // process can be signalled, to no effect, until it is reaped. Returns
  // how many there were.
  struct KillTarget {
    Task* task = nullptr;  // null for a zombie
    int ruid = 0;          // a zombie's real and saved UIDs at its exit
    int suid = 0;
    bool same_session = false;  // as the caller's (SIGCONT's permission)
  };
  int ForEachTarget(int caller, int sel,
                    const std::function<void(const KillTarget&)>& fn)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Every live task (for killing the sandbox when init exits).
  void ForEachLive(const std::function<void(Task&)>& fn)
      ABSL_LOCKS_EXCLUDED(mu_);
  int LiveCount() ABSL_LOCKS_EXCLUDED(mu_);

  // Runs `fn` now, or, if the calling thread is inside one of this table's
  // locked callbacks (kill's ForEachTarget...), as soon as the table's lock
  // is released: for work that takes the lock itself (reporting that a
  // process was continued by the signal being sent).
  void RunUnlocked(std::function<void()> fn);

  // Runs `fn` on the live task `pid` with the table locked.
  template <typename Fn>
  bool WithLive(int pid, Fn&& fn) ABSL_LOCKS_EXCLUDED(mu_) {
    CallbackLock l(this);
    auto it = procs_.find(pid);
    if (it == procs_.end() || it->second.task == nullptr) return false;
    fn(*it->second.task);
    return true;
  }

 private:
  // Locks the table for callbacks into tasks, and runs what they deferred
  // with RunUnlocked once it is released.
  class ABSL_SCOPED_LOCKABLE CallbackLock {
   public:
    explicit CallbackLock(ProcessTable* table)
        ABSL_EXCLUSIVE_LOCK_FUNCTION(table->mu_);
    ~CallbackLock() ABSL_UNLOCK_FUNCTION();

   private:
    ProcessTable* table_;
  };
  struct Process {
    int parent = 0;
    int pgid = 0;
    int sid = 0;
    int uid = 0;
    Task* task = nullptr;  // null before Attach and after exit
    std::optional<ChildStatus> zombie;
    int stop_report = 0;  // a stop not yet reported to wait: its signal
    bool continue_report = false;
    bool subreaper = false;
    bool clone_child = false;  // exit signal other than SIGCHLD
    int pdeath_signal = 0;
  };
  bool Matches(const Process& p, int parent, int sel, int caller_pgid) const;
  // Who adopts the orphans of dying process `pid`: the nearest living
  // ancestor that is a subreaper, else init.
  int NewReaperLocked(int pid) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ErrnoOr<int> NextIdLocked(int uid, uint64_t nproc_limit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<int, Process> procs_ ABSL_GUARDED_BY(mu_);
  std::map<int, int> threads_ ABSL_GUARDED_BY(mu_);  // TID → real UID
  int next_pid_ ABSL_GUARDED_BY(mu_) = 2;
  vfs::WaitQueue exits_;
};

}  // namespace sentry::kernel

#endif  // SENTRY_KERNEL_PROCESS_TABLE_H_
