#include "sentry/kernel/task.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "sentry/base/log.h"

namespace sentry::kernel {
namespace {

constexpr uint64_t Bit(int sig) { return SigBit(sig); }
// Signals that can be neither caught, blocked nor ignored.
constexpr uint64_t kUnblockable = kUnblockableSignals;

thread_local Task* current_task = nullptr;

// Sets CurrentTask() for the duration of Task::Run.
class CurrentTaskScope {
 public:
  explicit CurrentTaskScope(Task* t) : saved_(current_task) {
    current_task = t;
  }
  ~CurrentTaskScope() { current_task = saved_; }

 private:
  Task* saved_;
};

}  // namespace

Task* CurrentTask() { return current_task; }

void Kernel::RegisterTask(Task* t) {
  absl::MutexLock l(&tasks_mu_);
  tasks_.push_back(t);
}

void Kernel::UnregisterTask(Task* t) {
  absl::MutexLock l(&tasks_mu_);
  tasks_.erase(std::remove(tasks_.begin(), tasks_.end(), t), tasks_.end());
}

std::vector<int> Kernel::Tasks() const {
  absl::MutexLock l(&tasks_mu_);
  std::vector<int> tids;
  for (Task* t : tasks_) {
    if (t->is_leader()) tids.push_back(t->tid());
  }
  std::sort(tids.begin(), tids.end());
  tids.erase(std::unique(tids.begin(), tids.end()), tids.end());
  return tids;
}

Task* Kernel::FindTaskLocked(int tid) const {
  for (Task* t : tasks_) {
    if (t->tid() == tid) return t;
  }
  return nullptr;
}

DefaultAction DefaultActionOf(int sig) {
  switch (sig) {
    case SIGQUIT:
    case SIGILL:
    case SIGTRAP:
    case SIGABRT:
    case SIGBUS:
    case SIGFPE:
    case SIGSEGV:
    case SIGXCPU:
    case SIGXFSZ:
    case SIGSYS:
      return DefaultAction::kCore;
    case SIGCHLD:
    case SIGURG:
    case SIGWINCH:
      return DefaultAction::kIgnore;
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
      return DefaultAction::kStop;
    case SIGCONT:
      return DefaultAction::kContinue;
    default:
      return DefaultAction::kTerminate;
  }
}

Task::Task(Kernel& kernel, std::shared_ptr<platform::AddressSpace> as,
           std::shared_ptr<mm::MemoryManager> mm,
           std::shared_ptr<ThreadGroup> group, int tid)
    : kernel_(kernel),
      group_(group ? std::move(group) : std::make_shared<ThreadGroup>(1)),
      tid_(tid != 0 ? tid : group_->pid()),
      as_(std::move(as)),
      mm_(std::move(mm)),
      context_(kernel.platform().NewContext()),
      interrupt_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  regs_ = kernel.platform().InitialRegisters();
  for (int r = 0; r < RLIM_NLIMITS; ++r) {
    getrlimit(static_cast<__rlimit_resource>(r), &rlimits_[r]);
  }
  for (auto& word : affinity_) word.store(~uint64_t{0});
  kernel_.RegisterTask(this);
  group_->Add(this);
}

Task::~Task() {
  kernel_.UnregisterTask(this);
  // The memory manager's mappings live in the address space: drop it first
  // (they outlive this task if other threads share them).
  mm_.reset();
  as_.reset();
  // Last: a leader waiting for its threads to leave (exit, execve) may
  // then tear the address space down.
  group_->Remove(this);
}

void Task::set_signal_mask(uint64_t mask) {
  signal_mask_ = mask & ~kUnblockable;
  // A signal that was pending while blocked went unannounced (no thread
  // was kicked for it): if this unblocks it, the next wait must see it at
  // once (sigsuspend after sigprocmask(SIG_BLOCK), as shells wait).
  if (Deliverable() != 0) Wake(0);
}

void Task::ExitGroup(int code) {
  group_->Exit(ExitStatus{.code = code & 0xff});
}

void Task::ExitThread(int code) {
  if (!exit_status_) exit_status_ = ExitStatus{.code = code & 0xff};
}

void Task::KillThread() {
  killed_.store(true);
  Interrupt();
}

ExitStatus Task::exit_status() const {
  if (group_->exiting()) {
    if (std::optional<ExitStatus> s = group_->exit_status()) return *s;
  }
  if (killed_.load() && !exit_status_) return ExitStatus{.signal = SIGKILL};
  return exit_status_.value_or(ExitStatus{});
}

void Task::Kill(int sig, const siginfo_t* fault) {
  ExitStatus status;
  status.signal = sig;
  // How we differ from Linux: no core file is ever written. The status
  // says "core dumped" when Linux would have tried (RLIMIT_CORE > 0), so
  // shells print what they print natively.
  status.core = DefaultActionOf(sig) == DefaultAction::kCore &&
                rlimits_[RLIMIT_CORE].rlim_cur > 0;
  if (fault != nullptr) {
    status.fault_info = *fault;
    status.fault_pc = regs_.rip;
  }
  group_->Exit(status);
}

namespace {

siginfo_t InfoOrKernel(int sig, const siginfo_t* info) {
  if (info != nullptr) return *info;
  siginfo_t out{};
  out.si_signo = sig;
  out.si_code = SI_KERNEL;
  return out;
}

}  // namespace

bool PendingSignals::Add(int sig, const siginfo_t& info, uint64_t limit) {
  absl::MutexLock l(&mu_);
  std::deque<siginfo_t>& q = queued_[sig];
  siginfo_t si = info;
  if (sig < kSigRtMin) {
    if (!q.empty()) return true;  // already pending: this one merges
  } else {
    if (realtime_count_ >= std::min<uint64_t>(limit, kMaxQueued)) {
      if (info.si_code != SI_USER) return false;
      // kill(2) loses the siginfo, not the signal: it is pending once more
      // at most (so the queue stays bounded), with only its number and
      // SI_USER, as Linux's collect_signal reports a signal it could not
      // queue.
      if (!q.empty()) return true;
      si = siginfo_t{};
      si.si_signo = sig;
      si.si_code = SI_USER;
    }
    ++realtime_count_;
  }
  q.push_back(si);
  bits_.fetch_or(Bit(sig));
  return true;
}

std::optional<siginfo_t> PendingSignals::Take(int sig) {
  if (!(bits_.load() & Bit(sig))) return std::nullopt;
  absl::MutexLock l(&mu_);
  std::deque<siginfo_t>& q = queued_[sig];
  if (q.empty()) return std::nullopt;
  siginfo_t info = q.front();
  q.pop_front();
  if (sig >= kSigRtMin) --realtime_count_;
  if (q.empty()) bits_.fetch_and(~Bit(sig));
  if (info.si_signo == 0) info.si_signo = sig;
  return info;
}

void PendingSignals::Discard(uint64_t mask) {
  if (!(bits_.load() & mask)) return;
  absl::MutexLock l(&mu_);
  for (int sig = 1; sig <= kMaxSignal; ++sig) {
    if (!(mask & Bit(sig)) || queued_[sig].empty()) continue;
    if (sig >= kSigRtMin) realtime_count_ -= queued_[sig].size();
    queued_[sig].clear();
    bits_.fetch_and(~Bit(sig));
  }
}

namespace {

constexpr uint64_t kStopSignals =
    Bit(SIGSTOP) | Bit(SIGTSTP) | Bit(SIGTTIN) | Bit(SIGTTOU);

// The parent's SIGCHLD for a stop or continue (CLD_STOPPED/CLD_CONTINUED),
// unless it asked not to hear of them (SA_NOCLDSTOP).
std::function<void(Task&)> NotifyParent(int pid, uid_t uid, int code,
                                        int status) {
  return [=](Task& parent) {
    const KernelSigaction& act = parent.sigactions()[SIGCHLD];
    if (act.flags & SA_NOCLDSTOP) return;
    siginfo_t info{};
    info.si_signo = SIGCHLD;
    info.si_code = code;
    info.si_pid = pid;
    info.si_uid = uid;
    info.si_status = status;
    parent.QueueSignal(SIGCHLD, &info);
  };
}

}  // namespace

// Linux's prepare_signal: generating SIGCONT resumes a stopped process and
// discards pending stop signals; generating a stop signal discards a
// pending SIGCONT. Both happen when the signal is sent, not delivered.
void Task::SignalGenerated(int sig) {
  if (sig == SIGCONT) {
    group_->DiscardPending(kStopSignals);
    if (group_->Continue()) {
      // The sender may be inside the process table's lock (kill): the
      // report (which takes it) runs once that is released.
      ProcessTable& table = kernel_.processes();
      const int pid = this->pid();
      const uid_t uid = creds_.ruid;
      table.RunUnlocked([&table, pid, uid] {
        table.ReportContinue(pid,
                             NotifyParent(pid, uid, CLD_CONTINUED, SIGCONT));
      });
    }
  } else if (kStopSignals & Bit(sig)) {
    group_->DiscardPending(Bit(SIGCONT));
  }
}

void Task::StopGroup(int sig) {
  if (group_->Stop()) {
    kernel_.processes().ReportStop(
        pid(), sig, NotifyParent(pid(), creds_.ruid, CLD_STOPPED, sig));
  }
}

void Task::ParkWhileStopped() {
  while (group_->stopped() && !exiting()) {
    struct pollfd p = {interrupt_fd_.get(), POLLIN, 0};
    if (poll(&p, 1, -1) > 0) {
      uint64_t count;
      (void)!read(interrupt_fd_.get(), &count, sizeof(count));
    }
  }
}

bool Task::QueueSignal(int sig, const siginfo_t* info) {
  if (sig < 1 || sig > kMaxSignal) return true;
  SignalGenerated(sig);
  // The receiver's limit, read on the sender's thread: only this process
  // sets its limits, and a racing setrlimit gives the old or new value.
  return group_->QueueSignal(sig, info, rlimits_[RLIMIT_SIGPENDING].rlim_cur);
}

void Task::NotifySignalWaiters() { group_->signal_queue().Notify(POLLIN); }

bool Task::QueueThreadSignal(int sig, const siginfo_t* info) {
  if (sig < 1 || sig > kMaxSignal) return true;
  if (sig == SIGKILL) {
    Kill(SIGKILL);
    return true;
  }
  SignalGenerated(sig);
  if (!pending_.Add(sig, InfoOrKernel(sig, info),
                    rlimits_[RLIMIT_SIGPENDING].rlim_cur)) {
    return false;
  }
  NotifySignalWaiters();
  Interrupt();
  return true;
}

int Task::TakePendingSignal(uint64_t mask, siginfo_t* info) {
  for (;;) {
    uint64_t take = pending_signals() & mask;
    if (take == 0) return 0;
    int sig = __builtin_ctzll(take) + 1;
    if (std::optional<siginfo_t> i = TakeSignal(sig)) {
      if (info != nullptr) *info = *i;
      return sig;
    }
  }
}

std::optional<siginfo_t> Task::TakeSignal(int sig) {
  if (std::optional<siginfo_t> info = pending_.Take(sig)) return info;
  return group_->Take(sig);
}

uint64_t Task::Deliverable() const {
  return pending_signals() & ~(signal_mask_.load() & ~kUnblockable);
}

void Task::Interrupt() {
  uint64_t one = 1;
  (void)!write(interrupt_fd_.get(), &one, sizeof(one));
  context_->Interrupt();
}

void Task::PublishFs() {
  absl::MutexLock l(&shared_fs_->mu);
  shared_fs_->value = fs_;
  fs_version_ = shared_fs_->version.fetch_add(1) + 1;
}

void Task::SyncFs() {
  if (shared_fs_->version.load(std::memory_order_acquire) == fs_version_) {
    return;
  }
  absl::MutexLock l(&shared_fs_->mu);
  fs_ = shared_fs_->value;
  fs_version_ = shared_fs_->version.load();
}

void Task::ShareFs(std::shared_ptr<SharedFs> fs) {
  if (fs == nullptr) {
    shared_fs_ = std::make_shared<SharedFs>();
    PublishFs();
    return;
  }
  shared_fs_ = std::move(fs);
  fs_version_ = ~uint64_t{0};  // take the shared value at once
  SyncFs();
}

CpuTimes Task::ThreadCpuTimes() const {
  CpuTimes out;
  absl::StatusOr<uint64_t> user = context_->CpuTimeNs();
  if (user.ok()) out.user_ns = *user;
  if (host_cpu_clock_set_.load()) {
    struct timespec ts;
    if (clock_gettime(host_cpu_clock_.load(), &ts) == 0) {
      out.sys_ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000 +
                   static_cast<uint64_t>(ts.tv_nsec);
    }
  }
  return out;
}

CpuTimes ThreadGroup::ProcessCpuTimes() {
  CpuTimes out{exited_user_ns_.load(), exited_sys_ns_.load()};
  ForEach([&](Task& t) {
    CpuTimes c = t.ThreadCpuTimes();
    out.user_ns += c.user_ns;
    out.sys_ns += c.sys_ns;
  });
  return out;
}

ExitStatus Task::Run() {
  CurrentTaskScope scope(this);
  clockid_t clock;
  if (pthread_getcpuclockid(pthread_self(), &clock) == 0) {
    host_cpu_clock_.store(clock);
    host_cpu_clock_set_.store(true);
  }
  SyscallDispatcher dispatch = kernel_.dispatcher();
  while (!exiting()) {
    if (group_->stopped()) {
      ParkWhileStopped();
      continue;
    }
    absl::StatusOr<platform::SwitchResult> event =
        context_->Switch(*as_, regs_);
    if (!event.ok()) {
      // The stub died under us (killed from outside, OOM): the guest is
      // gone as if by SIGKILL.
      SENTRY_LOG(kError, "guest lost: %s", event.status().ToString());
      Kill(SIGKILL);
      break;
    }
    in_syscall_ = false;
    switch (event->event) {
      case platform::SwitchEvent::kSyscall:
        in_syscall_ = true;
        SyncFs();
        dispatch(*this);
        break;
      case platform::SwitchEvent::kFault:
        HandleFault(event->info);
        break;
      case platform::SwitchEvent::kInterrupted:
        break;
    }
    DeliverPendingSignals();
  }
  return exit_status();
}

int Task::ppid() const {
  int pid = group_->pid();
  return pid == 1 ? 0 : kernel_.processes().Parent(pid);
}

InheritedState Task::StateForFork(bool share_files) const {
  InheritedState s;
  s.regs = regs_;
  s.fds = share_files ? fds_ : fds_->Clone();
  s.fs = fs_;
  s.sigactions = group_->sigactions();
  s.signal_mask = signal_mask_.load();
  s.creds = creds_;
  s.rlimits = rlimits_;
  s.executable = executable_;
  s.argv = argv_;
  s.envp = envp_;
  s.affinity = affinity();
  s.comm = comm();
  s.sched = sched();
  s.altstack = altstack_;
  s.no_new_privs = no_new_privs_;
  s.timer_slack_ns = timer_slack_ns_;
  s.thp_disabled = group_->thp_disabled();
  s.auxv = saved_auxv_;
  if (s.sched.reset_on_fork) {
    // SCHED_RESET_ON_FORK (sched(7)): the child starts with a normal
    // policy, a nice value of at least 0, and without the flag.
    if (s.sched.policy == SCHED_FIFO || s.sched.policy == SCHED_RR) {
      s.sched.policy = SCHED_OTHER;
      s.sched.priority = 0;
    }
    s.sched.nice = std::max(s.sched.nice, 0);
    s.sched.reset_on_fork = false;
  }
  return s;
}

void Task::AdoptState(InheritedState s, bool thread) {
  regs_ = s.regs;
  fds_ = std::move(s.fds);
  fs_ = std::move(s.fs);
  if (!thread) group_->sigactions() = s.sigactions;
  signal_mask_ = s.signal_mask;
  creds_ = std::move(s.creds);
  rlimits_ = s.rlimits;
  executable_ = std::move(s.executable);
  argv_ = std::move(s.argv);
  envp_ = std::move(s.envp);
  set_affinity(s.affinity);
  set_comm(s.comm);
  set_sched(s.sched);
  if (!thread) altstack_ = s.altstack;
  no_new_privs_ = s.no_new_privs;
  timer_slack_ns_ = default_timer_slack_ns_ = s.timer_slack_ns;
  if (!thread) group_->set_thp_disabled(s.thp_disabled);
  saved_auxv_ = std::move(s.auxv);
}

std::pair<std::shared_ptr<platform::AddressSpace>,
          std::shared_ptr<mm::MemoryManager>>
Task::SwapMemory(std::shared_ptr<platform::AddressSpace> as,
                 std::shared_ptr<mm::MemoryManager> mm) {
  std::swap(as_, as);
  std::swap(mm_, mm);
  return {std::move(as), std::move(mm)};
}

void Task::ReleaseVforkParent() {
  if (!vfork_) return;
  vfork_->done.store(true);
  vfork_->queue.Notify(~0u);
  vfork_.reset();
}

vfs::Resolver Task::resolver() {
  vfs::Resolver r;
  r.ns = kernel_.mounts();
  r.root = fs_.root;
  r.creds.uid = creds_.fsuid;
  r.creds.gid = creds_.fsgid;
  r.creds.groups = creds_.groups;
  // Capabilities follow the effective UID until capset exists, except the
  // file system ones, which follow the filesystem UID (capabilities(7)):
  // gone while it is not 0, back (from the permitted set, which a 0 real
  // or saved UID keeps) when it is.
  constexpr uint64_t kFsCaps =
      (uint64_t{1} << CAP_CHOWN) | (uint64_t{1} << CAP_DAC_OVERRIDE) |
      (uint64_t{1} << CAP_DAC_READ_SEARCH) | (uint64_t{1} << CAP_FOWNER) |
      (uint64_t{1} << CAP_FSETID) | (uint64_t{1} << CAP_LINUX_IMMUTABLE) |
      (uint64_t{1} << CAP_MAC_OVERRIDE) | (uint64_t{1} << CAP_MKNOD);
  uint64_t caps = creds_.euid == 0 ? ~uint64_t{0} : 0;
  if (creds_.fsuid != 0) {
    caps &= ~kFsCaps;
  } else if (creds_.ruid == 0 || creds_.suid == 0) {
    caps |= kFsCaps;
  }
  r.creds.caps = caps;
  return r;
}

ErrnoOr<vfs::Path> Task::DirPath(int dirfd, bool must_be_dir) {
  if (dirfd == AT_FDCWD) return fs_.cwd;
  SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<vfs::FileDescription> f,
                          fds_->Get(dirfd));
  const vfs::Path& p = f->path();
  if (!p.dentry) return Errno(must_be_dir ? ENOTDIR : EBADF);
  if (must_be_dir && !S_ISDIR(p.inode().Type())) return Errno(ENOTDIR);
  return p;
}

std::span<uint8_t> Task::Scratch(size_t size) {
  if (scratch_.size() < size) scratch_.resize(size);
  return std::span<uint8_t>(scratch_.data(), size);
}

void Task::Wake(uint32_t) {
  uint64_t one = 1;
  (void)!write(interrupt_fd_.get(), &one, sizeof(one));
}

ErrnoOr<void> Task::Wait(vfs::WaitQueue* queue, uint32_t events,
                         const std::function<bool()>& ready,
                         std::optional<absl::Time> deadline, int host_fd,
                         short host_events) {
  std::optional<vfs::WaitRegistration> reg;
  if (queue != nullptr) reg.emplace(*queue, this, events);
  for (;;) {
    if (exiting()) return Errno(EINTR);
    if (ready()) return {};
    int timeout_ms = -1;
    if (deadline) {
      absl::Duration left = *deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return Errno(ETIMEDOUT);
      timeout_ms = static_cast<int>(std::min<int64_t>(
          absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))),
          1 << 30));
    }
    struct pollfd fds[2] = {{interrupt_fd_.get(), POLLIN, 0},
                            {host_fd, host_events, 0}};
    int n = poll(fds, host_fd >= 0 ? 2 : 1, timeout_ms);
    if (n < 0 && errno != EINTR) return Errno(errno);
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      (void)!read(interrupt_fd_.get(), &count, sizeof(count));
      if (InterruptedBySignal()) {
        return Errno(exiting() ? EINTR : kErestartSys);
      }
    }
  }
}

ErrnoOr<void> Task::WaitHostFd(int host_fd, short events) {
  for (;;) {
    if (exiting()) return Errno(EINTR);
    struct pollfd fds[2] = {{host_fd, events, 0},
                            {interrupt_fd_.get(), POLLIN, 0}};
    int n = poll(fds, 2, -1);
    if (n < 0 && errno != EINTR) return Errno(errno);
    if (fds[1].revents & POLLIN) {
      uint64_t count;
      (void)!read(interrupt_fd_.get(), &count, sizeof(count));
      if (InterruptedBySignal()) {
        return Errno(exiting() ? EINTR : kErestartSys);
      }
      continue;
    }
    // Ready, or an error/hangup the following read or write will report.
    if (n > 0 && fds[0].revents != 0) return {};
  }
}

}  // namespace sentry::kernel
