// Task: one guest thread. ThreadGroup: what the threads of one process
// share (its PID, signal dispositions, process-directed signals, the group
// exit); the address space, memory manager and FD table are shared through
// reference-counted pointers.
//
// A task runs on a host thread of its own (bound to its own context in the
// address space, because ptrace requests must come from the tracer) in an
// explicit loop: switch to guest code, handle the event, deliver pending
// signals, repeat. Other threads touch a task only through QueueSignal,
// QueueThreadSignal and Interrupt.
//
// A group leader's host thread outlives the other threads of its group: it
// waits for them before the process is reported dead, so the leader's Task
// (which the process table points at) stays valid as long as the process.
//
// Lock order: ProcessTable::mu_ / Kernel::tasks_mu_ → ThreadGroup::mu_ →
// PendingSignals::mu_ (a leaf). Pending-signal sets and masks are atomic.
#ifndef SENTRY_KERNEL_TASK_H_
#define SENTRY_KERNEL_TASK_H_

#include <sched.h>
#include <signal.h>
#include <sys/resource.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "sentry/base/errno_or.h"
#include "sentry/base/unique_fd.h"
#include "sentry/kernel/kernel.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/fd_table.h"
#include "sentry/vfs/vfs.h"
#include "sentry/vfs/wait_queue.h"

namespace sentry::kernel {

inline constexpr int kMaxSignal = 64;
// The kernel's first real-time signal (glibc's SIGRTMIN is 34 at run time:
// it keeps two for itself).
inline constexpr int kSigRtMin = 32;
// A signal's bit in a kernel sigset.
inline constexpr uint64_t SigBit(int sig) { return 1ULL << (sig - 1); }
// Signals that can be neither caught, blocked nor ignored.
inline constexpr uint64_t kUnblockableSignals =
    SigBit(SIGKILL) | SigBit(SIGSTOP);

// sigaltstack's SS_AUTODISARM (linux/signal.h): the alternate stack is
// cleared while a handler runs on it and restored by sigreturn.
inline constexpr int kSsAutodisarm = 1 << 31;

// The kernel's struct sigaction for rt_sigaction (not glibc's).
struct KernelSigaction {
  uint64_t handler = 0;  // SIG_DFL (0), SIG_IGN (1) or an address
  uint64_t flags = 0;
  uint64_t restorer = 0;
  uint64_t mask = 0;
};

// Capabilities 0-40 (CAP_CHOWN to CAP_CHECKPOINT_RESTORE).
inline constexpr uint64_t kFullCapSet = (uint64_t{1} << 41) - 1;

// credentials(7). The filesystem IDs (what file permission checks and
// new files' owners use) follow the effective IDs: every set*uid/set*gid
// call resets them, and setfsuid/setfsgid move them apart.
struct Credentials {
  uid_t ruid = 0, euid = 0, suid = 0, fsuid = 0;
  gid_t rgid = 0, egid = 0, sgid = 0, fsgid = 0;
  std::vector<gid_t> groups;
  // PR_SET_KEEPCAPS (Linux's SECURE_KEEP_CAPS): kept by fork, cleared by
  // execve.
  bool keepcaps = false;
  // The capability bounding set (PR_CAPBSET_READ/DROP): every capability
  // up to CAP_LAST_CAP (40) at first; a drop is kept by fork and execve.
  uint64_t cap_bset = kFullCapSet;
};

// The process's view of the file system (Linux's fs_struct).
struct FsContext {
  vfs::Path root;
  vfs::Path cwd;
  mode_t umask = 022;
};

// CLONE_FS: tasks sharing one FsContext. Each task works on its own copy
// (read on its own thread without locks); a change is published here and
// the others pick it up at their next syscall.
struct SharedFs {
  absl::Mutex mu;
  FsContext value ABSL_GUARDED_BY(mu);
  std::atomic<uint64_t> version{0};
};

// How the guest ended, as wait(2) would describe it.
struct ExitStatus {
  int code = 0;            // exit code, if signal == 0
  int signal = 0;          // terminating signal, or 0
  bool core = false;       // the signal's default action dumps core
  siginfo_t fault_info{};  // for synchronous faults: si_addr and friends
  uint64_t fault_pc = 0;
};

// sched_setscheduler(2)/sched_setattr(2)'s state of a thread. The host
// schedules the stubs: these are kept for the guest to read back.
struct SchedParams {
  int policy = SCHED_OTHER;
  int priority = 0;  // 1-99 for SCHED_FIFO and SCHED_RR, else 0
  int nice = 0;      // -20-19, for the other policies
  bool reset_on_fork = false;
};

// What a child inherits at fork, captured on the parent's thread (the
// child's thread starts later and must not read the running parent).
struct InheritedState {
  platform::Registers regs{};
  std::shared_ptr<vfs::FdTable> fds;
  FsContext fs;
  std::array<KernelSigaction, kMaxSignal + 1> sigactions{};
  uint64_t signal_mask = 0;
  Credentials creds;
  std::array<struct rlimit, RLIM_NLIMITS> rlimits{};
  vfs::Path executable;
  std::vector<std::string> argv, envp;
  std::array<uint64_t, 16> affinity{};
  std::string comm;
  SchedParams sched;
  // sigaltstack(2): a fork child inherits it; clone with CLONE_VM but not
  // CLONE_VFORK (a thread, or a process on the same memory) starts
  // without one, as on Linux.
  stack_t altstack{nullptr, SS_DISABLE, 0};
  bool no_new_privs = false;
  uint64_t timer_slack_ns = 0;
  bool thp_disabled = false;
  std::vector<uint64_t> auxv;
};

class Task;

// CPU time, split as getrusage(2) does: guest code is user time; the
// Sentry's work on the task's behalf (its host thread) is system time.
struct CpuTimes {
  uint64_t user_ns = 0;
  uint64_t sys_ns = 0;
  uint64_t total() const { return user_ns + sys_ns; }
};

// Pending signals of a thread or a process, as signal(7) describes them:
// a standard signal is pending at most once (a second one is dropped and
// the first's siginfo kept); real-time signals (32 and up) queue, each
// instance with its own siginfo, delivered in order.
class PendingSignals {
 public:
  // A bound on the real-time signals queued, whatever RLIMIT_SIGPENDING
  // says (the Sentry's memory).
  static constexpr size_t kMaxQueued = 7500;
  // Queues `sig`. A real-time signal beyond `limit` (the receiver's
  // RLIMIT_SIGPENDING) queued ones is refused (false: sigqueue's EAGAIN),
  // except one from kill(2) (SI_USER), which still becomes pending with
  // an empty siginfo if it is not already, as on Linux.
  // How we differ from Linux: the count is of this queue (the process's,
  // or one thread's), not of every signal queued for the receiver's user.
  bool Add(int sig, const siginfo_t& info, uint64_t limit)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Removes one instance of `sig`; nullopt if none is pending.
  std::optional<siginfo_t> Take(int sig) ABSL_LOCKS_EXCLUDED(mu_);
  // Drops every pending instance of the signals in `mask` (SIGCONT
  // discards pending stop signals, and the reverse).
  void Discard(uint64_t mask) ABSL_LOCKS_EXCLUDED(mu_);
  // Bit sig-1 for each pending signal.
  uint64_t set() const { return bits_.load(); }

 private:
  mutable absl::Mutex mu_;
  std::array<std::deque<siginfo_t>, kMaxSignal + 1> queued_
      ABSL_GUARDED_BY(mu_);
  size_t realtime_count_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> bits_{0};
};

// The threads of one process (Linux's signal_struct and sighand_struct).
class ThreadGroup {
 public:
  explicit ThreadGroup(int pid) : pid_(pid) {}

  int pid() const { return pid_.load(); }
  void set_pid(int pid) { pid_.store(pid); }

  // Dispositions, shared by every thread (CLONE_SIGHAND). Written only by
  // rt_sigaction and delivery (SA_RESETHAND); a reader racing a writer sees
  // the old or the new handler, as on Linux.
  std::array<KernelSigaction, kMaxSignal + 1>& sigactions() {
    return sigactions_;
  }

  void Add(Task* t) ABSL_LOCKS_EXCLUDED(mu_);
  // Removes `t`; returns how many threads are left.
  int Remove(Task* t) ABSL_LOCKS_EXCLUDED(mu_);
  int Count() const ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<int> Tids() const ABSL_LOCKS_EXCLUDED(mu_);
  // Blocks the host thread (not interruptible: the wait ends when the
  // other threads end) until no thread but `t` is left.
  void WaitUntilAlone(const Task* t) ABSL_LOCKS_EXCLUDED(mu_);
  // Calls `fn` on each thread with the group locked; `fn` must not block
  // or call back into the group.
  void ForEach(const std::function<void(Task&)>& fn) ABSL_LOCKS_EXCLUDED(mu_);

  // exit_group(2) or a fatal signal: every thread ends; the first status
  // recorded is the process's.
  void Exit(const ExitStatus& status) ABSL_LOCKS_EXCLUDED(mu_);
  bool exiting() const { return exiting_.load(); }
  std::optional<ExitStatus> exit_status() const ABSL_LOCKS_EXCLUDED(mu_);

  // Job control: a stop signal's default action stops every thread (they
  // park before running guest code again) until SIGCONT. Each returns true
  // if the state changed (the parent is then told).
  bool Stop() ABSL_LOCKS_EXCLUDED(mu_);
  bool Continue() ABSL_LOCKS_EXCLUDED(mu_);
  bool stopped() const { return stopped_.load(); }
  // PR_SET_THP_DISABLE. Linux keeps it in the mm (so a CLONE_VM process
  // shares it too); here the threads of the process share it. Kept by
  // fork and execve.
  bool thp_disabled() const { return thp_disabled_.load(); }
  void set_thp_disabled(bool v) { thp_disabled_.store(v); }
  // Discards the group's and every thread's pending signals in `mask`.
  void DiscardPending(uint64_t mask) ABSL_LOCKS_EXCLUDED(mu_);

  // Process-directed signals (kill(2)): pending for the group; one thread
  // that does not block the signal is woken to take it. False if a
  // real-time signal's queue is full.
  // `limit`: see PendingSignals::Add.
  bool QueueSignal(int sig, const siginfo_t* info, uint64_t limit)
      ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t pending() const { return pending_.set(); }
  // Notified with POLLIN whenever a signal becomes pending for the process
  // or any of its threads (Linux's sighand->signalfd_wqh): signalfd
  // readers and sigtimedwait wait here and re-check their own set.
  vfs::WaitQueue& signal_queue() { return signal_queue_; }
  // Removes `sig` if pending and returns its siginfo.
  std::optional<siginfo_t> Take(int sig) ABSL_LOCKS_EXCLUDED(mu_);
  // CPU time of threads that have exited (added as each one ends).
  void AddExitedCpu(const CpuTimes& t) {
    exited_user_ns_.fetch_add(t.user_ns);
    exited_sys_ns_.fetch_add(t.sys_ns);
  }
  // The process's CPU time: every live thread's and the exited ones'.
  CpuTimes ProcessCpuTimes() ABSL_LOCKS_EXCLUDED(mu_);
  // The CPU time of the children this process waited for, and of the
  // descendants they waited for (RUSAGE_CHILDREN, times' tms_cutime and
  // tms_cstime): wait adds each reaped child's.
  void AddChildrenCpu(const CpuTimes& t) {
    children_user_ns_.fetch_add(t.user_ns);
    children_sys_ns_.fetch_add(t.sys_ns);
  }
  CpuTimes ChildrenCpuTimes() const {
    return {children_user_ns_.load(), children_sys_ns_.load()};
  }
  // execve's de-thread: ends every thread but `keep` and waits until they
  // are gone. False if the group started exiting meanwhile. If `keep` is
  // not the main thread, the main thread hands its identity (the PID and
  // the process's place in the process table) over to `keep` before it
  // goes, as Linux's de_thread does.
  bool KillOthers(Task* keep) ABSL_LOCKS_EXCLUDED(mu_);
  // The main thread's side of that hand-over, at its exit: if a non-main
  // thread is exec'ing, waits until only the two are left, gives it the
  // PID (and this task the other's TID) and returns the new main thread;
  // null if no exec is under way (or the group is exiting anyway).
  Task* HandOverLeadership(Task* leader) ABSL_LOCKS_EXCLUDED(mu_);
  // For init only, whose end `sentry boot` reports: the status of the
  // process once its last main thread is done, if that was not the one
  // boot ran (a non-main thread exec'd).
  void SetReportedExit(const ExitStatus& s) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    reported_exit_ = s;
  }
  ExitStatus WaitReportedExit() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    auto set = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return reported_exit_.has_value();
    };
    mu_.Await(absl::Condition(&set));
    return *reported_exit_;
  }
  // Ends the hand-over (after the process table points at the successor):
  // the successor's execve goes on.
  void FinishHandOver() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  std::atomic<int> pid_;
  std::array<KernelSigaction, kMaxSignal + 1> sigactions_{};
  mutable absl::Mutex mu_;
  std::vector<Task*> threads_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> exiting_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> thp_disabled_{false};
  std::optional<ExitStatus> exit_status_ ABSL_GUARDED_BY(mu_);
  PendingSignals pending_;
  vfs::WaitQueue signal_queue_;
  Task* exec_successor_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::optional<ExitStatus> reported_exit_ ABSL_GUARDED_BY(mu_);
  bool handed_over_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> exited_user_ns_{0};
  std::atomic<uint64_t> exited_sys_ns_{0};
  std::atomic<uint64_t> children_user_ns_{0};
  std::atomic<uint64_t> children_sys_ns_{0};
};

// Shared by a vfork parent and its child.
struct VforkState {
  std::atomic<bool> done{false};
  vfs::WaitQueue queue;
};

class Task : public vfs::Waiter {
 public:
  // A task in `group`, or, if null, the first task of a new process (PID 1
  // until set_pid).
  Task(Kernel& kernel, std::shared_ptr<platform::AddressSpace> as,
       std::shared_ptr<mm::MemoryManager> mm,
       std::shared_ptr<ThreadGroup> group = nullptr, int tid = 0);
  ~Task();

  Kernel& kernel() { return kernel_; }
  mm::MemoryManager& mm() { return *mm_; }
  vfs::FdTable& fds() { return *fds_; }
  FsContext& fs() { return fs_; }
  // After changing fs() (chdir, chroot, umask, pivot_root): makes the
  // change visible to the tasks sharing it (CLONE_FS).
  void PublishFs();
  // Takes the latest shared FsContext if another task changed it.
  void SyncFs();
  const std::shared_ptr<SharedFs>& shared_fs() { return shared_fs_; }
  // Shares `fs` from now on (clone with CLONE_FS), or, if null, stops
  // sharing (unshare(CLONE_FS)).
  void ShareFs(std::shared_ptr<SharedFs> fs);
  // sched_setaffinity's mask, bit per CPU (1024 CPUs, all set at first).
  // Thread safe: another thread of the sandbox may set it. It is emulated:
  // the host threads are not moved (no host work for the guest beyond the
  // design's), so only the getcpu syscall honours it.
  using CpuMask = std::array<uint64_t, 16>;
  CpuMask affinity() const {
    CpuMask m;
    for (size_t i = 0; i < m.size(); ++i) m[i] = affinity_[i].load();
    return m;
  }
  void set_affinity(const CpuMask& m) {
    for (size_t i = 0; i < m.size(); ++i) affinity_[i].store(m[i]);
  }
  // Who asks, and where paths start, for VFS calls made for this task.
  vfs::Resolver resolver();
  // The path a dirfd argument names (AT_FDCWD: the cwd); EBADF/ENOTDIR.
  ErrnoOr<vfs::Path> DirPath(int dirfd, bool must_be_dir = true);
  // The executable's path (/proc/self/exe), set by execve.
  vfs::Path& executable() { return executable_; }
  // A Sentry-side buffer of at least `size` bytes for copying between
  // files and guest memory; reused across syscalls.
  std::span<uint8_t> Scratch(size_t size);
  // Who owns this task's fcntl record locks: its process.
  const void* lock_owner() const { return group_.get(); }
  std::vector<std::string>& argv() { return argv_; }
  // The command name (Linux's comm: at most 15 bytes): set by execve from
  // the file name it was given, by PR_SET_NAME and by writes to
  // /proc/[tid]/comm (from any thread of the process). Thread safe.
  std::string comm() const ABSL_LOCKS_EXCLUDED(comm_mu_) {
    absl::MutexLock l(&comm_mu_);
    return comm_;
  }
  void set_comm(std::string_view name) ABSL_LOCKS_EXCLUDED(comm_mu_) {
    absl::MutexLock l(&comm_mu_);
    comm_ = std::string(name.substr(0, 15));
  }
  // prctl state kept for PR_GET_* (and, for the subreaper, wait).
  int& pdeath_signal() { return pdeath_signal_; }
  bool& no_new_privs() { return no_new_privs_; }
  int& dumpable() { return dumpable_; }
  // PR_SET_TIMERSLACK's value and what 0 restores: the slack the parent
  // had at fork (Linux's default_timer_slack_ns). Nothing sleeps by it:
  // the host's timers decide.
  static constexpr uint64_t kDefaultTimerSlackNs = 50000;
  uint64_t& timer_slack_ns() { return timer_slack_ns_; }
  uint64_t default_timer_slack_ns() const { return default_timer_slack_ns_; }
  // The auxiliary vector execve gave the program, (type, value) pairs
  // ending with AT_NULL (PR_GET_AUXV; Linux's mm->saved_auxv).
  std::vector<uint64_t>& saved_auxv() { return saved_auxv_; }
  bool& child_subreaper() { return child_subreaper_; }
  // Scheduling policy, real-time priority and nice value (getpriority,
  // sched_getattr...). Thread safe: another task may set them by TID.
  SchedParams sched() const ABSL_LOCKS_EXCLUDED(sched_mu_) {
    absl::MutexLock l(&sched_mu_);
    return sched_;
  }
  void set_sched(const SchedParams& p) ABSL_LOCKS_EXCLUDED(sched_mu_) {
    absl::MutexLock l(&sched_mu_);
    sched_ = p;
  }
  int nice() const { return sched().nice; }
  std::vector<std::string>& envp() { return envp_; }
  platform::Registers& regs() { return regs_; }
  platform::Context& context() { return *context_; }
  platform::AddressSpace& address_space() { return *as_; }
  const std::shared_ptr<platform::AddressSpace>& shared_address_space() {
    return as_;
  }
  const std::shared_ptr<mm::MemoryManager>& shared_mm() { return mm_; }
  ThreadGroup& group() { return *group_; }
  const std::shared_ptr<ThreadGroup>& shared_group() { return group_; }

  // Thread and process IDs inside the sandbox's PID namespace: the first
  // task is PID 1, whose parent is outside the namespace (0).
  int tid() const { return tid_.load(); }
  // execve's hand-over from the old main thread (ThreadGroup).
  void set_tid(int tid) { tid_.store(tid); }
  int pid() const { return group_->pid(); }
  int ppid() const;
  bool is_leader() const { return tid_.load() == group_->pid(); }
  // A new process's first task: its TID is the PID.
  void set_pid(int pid) {
    tid_ = pid;
    group_->set_pid(pid);
  }

  Credentials& creds() { return creds_; }
  std::array<struct rlimit, RLIM_NLIMITS>& rlimits() { return rlimits_; }
  std::array<KernelSigaction, kMaxSignal + 1>& sigactions() {
    return group_->sigactions();
  }
  uint64_t signal_mask() const { return signal_mask_.load(); }
  void set_signal_mask(uint64_t mask);
  uint64_t& clear_child_tid() { return clear_child_tid_; }
  uint64_t& robust_list() { return robust_list_; }

  // Runs the guest until it exits or is killed.
  ExitStatus Run();
  // This thread's CPU time so far (thread safe while the task lives).
  CpuTimes ThreadCpuTimes() const;

  // fork: the parent's side (`share_files`: CLONE_FILES).
  InheritedState StateForFork(bool share_files) const;
  // fork: the child's side, before Run (`thread`: a new thread of the same
  // process, which shares the dispositions instead of copying them).
  void AdoptState(InheritedState state, bool thread = false);
  // execve: installs a fresh address space and memory manager and returns
  // the old ones (kept until the new image is loaded, for failure).
  std::pair<std::shared_ptr<platform::AddressSpace>,
            std::shared_ptr<mm::MemoryManager>>
  SwapMemory(std::shared_ptr<platform::AddressSpace> as,
             std::shared_ptr<mm::MemoryManager> mm);
  void set_fds(std::shared_ptr<vfs::FdTable> fds) { fds_ = std::move(fds); }

  // vfork: the parent sleeps until this child execs or exits.
  void set_vfork(std::shared_ptr<VforkState> v) { vfork_ = std::move(v); }
  void ReleaseVforkParent();
  // The signal the parent gets when this process exits (SIGCHLD usually).
  int exit_signal() const { return exit_signal_; }
  void set_exit_signal(int sig) { exit_signal_ = sig; }

  // Ends the thread group with exit code `code` (exit_group(2)).
  void ExitGroup(int code);
  // Ends this thread only (exit(2)); the process goes on if other threads
  // remain.
  void ExitThread(int code);
  // The thread is ending: it exited, was killed alone (execve's
  // de-thread), or its group is exiting.
  bool exiting() const {
    return exit_status_.has_value() || killed_.load() || group_->exiting();
  }
  // Ends this thread from another thread (execve's de-thread); thread safe.
  void KillThread();
  // How the thread ended (after Run): its own exit, or the group's.
  ExitStatus exit_status() const;

  // Makes `sig` pending for the task's process and kicks a thread that
  // can take it (thread safe). `info`, if given, is what the handler's
  // siginfo says (si_code, si_pid...).
  // False if a real-time signal's queue is full (sigqueue: EAGAIN).
  bool QueueSignal(int sig, const siginfo_t* info = nullptr);
  // The same for this thread only (tgkill, faults, SIGPIPE).
  bool QueueThreadSignal(int sig, const siginfo_t* info = nullptr);

  // rt_sigreturn: restores the context saved in the signal frame at the
  // stack pointer; returns the restored rax. A bad frame kills with
  // SIGSEGV, as on Linux.
  ErrnoOr<uint64_t> SignalReturn();
  // sigaltstack(2)'s state; ss_flags is SS_DISABLE or 0, plus
  // kSsAutodisarm.
  stack_t& altstack() { return altstack_; }
  // What restart_syscall(2) resumes (Linux's restart_block): a syscall
  // that returns -ERESTART_RESTARTBLOCK saves here how to go on (nanosleep:
  // sleep on to the original deadline). If no handler runs, the guest is
  // sent back into restart_syscall; if one does, the syscall fails EINTR.
  using RestartFn = std::function<ErrnoOr<uint64_t>(Task&)>;
  void set_restart(RestartFn fn) { restart_ = std::move(fn); }
  // restart_syscall: runs and drops what was saved; EINTR if nothing was.
  ErrnoOr<uint64_t> RunRestart() {
    RestartFn fn = std::move(restart_);
    restart_ = nullptr;
    if (!fn) return Errno(EINTR);
    return fn(*this);
  }
  // rt_sigsuspend/pause: the mask to restore once a handler has run.
  void set_saved_mask(uint64_t mask) { saved_mask_ = mask; }
  // The signals pending for this thread or its process, bit sig-1 per
  // signal (thread safe).
  uint64_t pending_signals() const {
    return pending_.set() | group_->pending();
  }
  // Pokes signalfd and sigtimedwait waiters: a signal became pending.
  void NotifySignalWaiters();
  // Removes and returns the lowest pending signal in `mask` (bit sig-1), or
  // 0 if none is pending (signalfd's read), with its siginfo if `info`.
  // Thread-directed signals go first. Thread safe.
  int TakePendingSignal(uint64_t mask, siginfo_t* info = nullptr);
  // The process's signal wait queue (ThreadGroup::signal_queue).
  vfs::WaitQueue& signal_queue() { return group_->signal_queue(); }
  // Interrupts a running or blocked task so it looks at pending work.
  void Interrupt();
  // Drops this thread's pending signals in `mask` (thread safe).
  void DiscardPending(uint64_t mask) { pending_.Discard(mask); }

  // Waits until `host_fd` is ready for `events` (POLLIN/POLLOUT). Returns
  // EINTR if the task was killed meanwhile; other signals are handled (and,
  // with no guest handlers yet, the wait resumes as with SA_RESTART).
  ErrnoOr<void> WaitHostFd(int host_fd, short events);

  // Blocks until `ready()` holds, re-checking it whenever `queue` is
  // notified with one of `events` (or `host_fd` polls ready for
  // `host_events`). Returns ETIMEDOUT at `deadline`, and EINTR when a signal
  // must interrupt the wait (the task is exiting, or — once guest handlers
  // exist — a handler must run).
  ErrnoOr<void> Wait(vfs::WaitQueue* queue, uint32_t events,
                     const std::function<bool()>& ready,
                     std::optional<absl::Time> deadline = std::nullopt,
                     int host_fd = -1, short host_events = 0);

  // vfs::Waiter: a queue this task waits on was notified.
  void Wake(uint32_t events) override;

 private:
  void HandleFault(const siginfo_t& info);
  // Delivers unblocked pending signals: default actions, or a signal frame
  // for a guest handler; after a syscall, applies restart semantics to
  // -ERESTART* results. May end the task.
  void DeliverPendingSignals();
  // In a blocking wait: applies what needs no frame (ignored signals,
  // default terminations) and says whether the wait must end because a
  // handler is due or the task is exiting.
  bool InterruptedBySignal();
  // Init (PID 1) is not ended or stopped by the default action of a signal
  // another process sent: Deliver in sys_signal.cc drops it unless init
  // blocks it, and this drops one still pending with its default action
  // once unblocked (Linux's SIGNAL_UNKILLABLE; see the note there on why
  // init's own signals still act).
  bool InitSpares(const siginfo_t& info) const;
  // The first deliverable signal with a guest handler, or 0.
  int NextHandledSignal() const;
  // Pushes a signal frame for `sig` and points the registers at its
  // handler; false (and SIGSEGV) if the stack cannot take it.
  bool SetupFrame(int sig, const KernelSigaction& act, const siginfo_t& info);
  // Ends the process with `sig` (with the fault's siginfo, for a
  // synchronous fault's report).
  void Kill(int sig, const siginfo_t* fault = nullptr);
  // What sending `sig` does at once (SIGCONT resumes; see task.cc).
  void SignalGenerated(int sig);
  // A stop signal's default action: stops the process and tells the
  // parent.
  void StopGroup(int sig);
  // Parks the thread while its process is stopped (SIGKILL still ends it).
  void ParkWhileStopped();
  // Removes `sig` from this thread's pending set, else the process's, and
  // returns its siginfo; nullopt if it was not pending.
  std::optional<siginfo_t> TakeSignal(int sig);
  // Unblocked pending signals (thread-directed or the process's).
  uint64_t Deliverable() const;

  Kernel& kernel_;
  std::shared_ptr<ThreadGroup> group_;
  std::atomic<int> tid_{1};
  std::shared_ptr<platform::AddressSpace> as_;
  std::shared_ptr<mm::MemoryManager> mm_;
  std::unique_ptr<platform::Context> context_;
  std::shared_ptr<vfs::FdTable> fds_ = std::make_shared<vfs::FdTable>();
  FsContext fs_;
  std::shared_ptr<SharedFs> shared_fs_ = std::make_shared<SharedFs>();
  uint64_t fs_version_ = 0;
  std::array<std::atomic<uint64_t>, 16> affinity_;  // set in the constructor
  vfs::Path executable_;
  std::vector<uint8_t> scratch_;
  std::vector<std::string> argv_, envp_;
  platform::Registers regs_{};
  // The CPU clock of the host thread running the task (set by Run).
  std::atomic<clockid_t> host_cpu_clock_{0};
  std::atomic<bool> host_cpu_clock_set_{false};
  UniqueFd interrupt_fd_;  // eventfd, readable when Interrupt() was called

  Credentials creds_;
  std::array<struct rlimit, RLIM_NLIMITS> rlimits_{};
  // Read by other threads choosing who takes a process-directed signal.
  std::atomic<uint64_t> signal_mask_{0};
  PendingSignals pending_;
  uint64_t clear_child_tid_ = 0;
  uint64_t robust_list_ = 0;
  std::optional<ExitStatus> exit_status_;
  std::atomic<bool> killed_{false};
  bool in_syscall_ = false;  // the last event was a syscall (for restarts)
  stack_t altstack_{nullptr, SS_DISABLE, 0};
  std::optional<uint64_t> saved_mask_;
  RestartFn restart_;
  mutable absl::Mutex comm_mu_;
  std::string comm_ ABSL_GUARDED_BY(comm_mu_);
  int pdeath_signal_ = 0;
  bool no_new_privs_ = false;
  int dumpable_ = 1;
  uint64_t timer_slack_ns_ = kDefaultTimerSlackNs;
  uint64_t default_timer_slack_ns_ = kDefaultTimerSlackNs;
  std::vector<uint64_t> saved_auxv_;
  bool child_subreaper_ = false;
  mutable absl::Mutex sched_mu_;
  SchedParams sched_ ABSL_GUARDED_BY(sched_mu_);
  int exit_signal_ = SIGCHLD;
  std::shared_ptr<VforkState> vfork_;
};

// The task the calling host thread runs (each task has its own host thread,
// set by Task::Run), or null on threads that run no task (the signal
// forwarder, unit tests).
Task* CurrentTask();

// Linux's default action for `sig`.
enum class DefaultAction { kTerminate, kCore, kIgnore, kStop, kContinue };
DefaultAction DefaultActionOf(int sig);

}  // namespace sentry::kernel

#endif  // SENTRY_KERNEL_TASK_H_
