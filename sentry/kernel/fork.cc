#include "sentry/kernel/fork.h"

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>

#include <optional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "sentry/base/log.h"
#include "sentry/vfs/lock.h"

namespace sentry::kernel {
namespace {

// CLONE_* flags that change nothing here: namespaces beyond the sandbox's
// own are not emulated, and the rest are bookkeeping we do not need.
constexpr uint64_t kIgnoredFlags = CLONE_PTRACE | CLONE_UNTRACED | CLONE_IO |
                                   CLONE_SYSVSEM | CLONE_FS | CLONE_SIGHAND |
                                   CLONE_DETACHED;

// How the child's start went, for the parent, which returns from fork only
// once the child exists (so it can be signalled and waited for at once).
struct ChildStart {
  absl::Notification done;
  bool ok = false;
};

// The child's whole life on its own host thread.
void RunChild(Kernel& kernel, int pid, InheritedState state,
              mm::ForkedMemory memory, CloneRequest req,
              std::shared_ptr<VforkState> vfork,
              std::shared_ptr<ChildStart> start) {
  platform::Platform& platform = kernel.platform();
  auto fail = [&](const std::string& why) {
    SENTRY_LOG(kError, "fork of %d failed in the child: %s", pid, why);
    start->ok = false;
    start->done.Notify();
    kernel.ChildThreadDone();
  };
  absl::StatusOr<std::unique_ptr<platform::AddressSpace>> as =
      platform.NewAddressSpace();
  if (!as.ok()) return fail(std::string(as.status().message()));
  ErrnoOr<std::unique_ptr<mm::MemoryManager>> mm = mm::MemoryManager::FromFork(
      kernel.memory(), **as, platform.MinUserAddress(),
      platform.MaxUserAddress(), std::move(memory));
  if (!mm.ok()) return fail("mapping the child's memory");
  auto task = std::make_unique<Task>(
      kernel, std::shared_ptr<platform::AddressSpace>(std::move(*as)),
      std::shared_ptr<mm::MemoryManager>(std::move(*mm)));
  task->set_pid(pid);
  task->AdoptState(std::move(state));
  task->set_exit_signal(req.exit_signal);
  if (vfork) task->set_vfork(vfork);
  if (req.flags & CLONE_CHILD_SETTID) {
    (void)task->mm().CopyOut(req.child_tid, &pid, sizeof(pid));
  }
  if (req.flags & CLONE_CHILD_CLEARTID) task->clear_child_tid() = req.child_tid;
  kernel.processes().Attach(pid, task.get());
  start->ok = true;
  start->done.Notify();
  start.reset();
  std::optional<ExitStatus> status = FinishThread(*task, task->Run());
  // (No status: a thread that exec'd took the process over.)
  if (status) ReportExit(*task, *status);
  task.reset();  // kills the stub
  kernel.ChildThreadDone();
}

// A thread's whole life on its own host thread.
void RunThread(Task* raw, uint64_t token) {
  std::unique_ptr<Task> task(raw);
  Kernel& kernel = task->kernel();
  if (absl::Status s = task->address_space().AdoptThread(token); !s.ok()) {
    SENTRY_LOG(kError, "thread %d could not start: %s", task->tid(),
               s.ToString());
    task->ExitThread(0);
  }
  // A thread that exec'd from a non-main thread ends as the process's
  // main thread, and reports the process's end.
  if (std::optional<ExitStatus> status = FinishThread(*task, task->Run())) {
    if (task->pid() == 1) {
      task->group().SetReportedExit(*status);  // boot reports init's end
    } else {
      ReportExit(*task, *status);
    }
  }
  task.reset();
  kernel.ChildThreadDone();
}

// Linux's exit_robust_list: each futex on the thread's robust list that
// it still owns gets FUTEX_OWNER_DIED and one waiter woken. The list is
// guest memory: a bad pointer or a loop ends the walk (bounded like
// ROBUST_LIST_LIMIT).
void ReleaseRobustFutexes(Task& t) {
  uint64_t head = t.robust_list();
  if (head == 0) return;
  struct RobustListHead {
    uint64_t next;
    int64_t futex_offset;
    uint64_t pending;
  } h;
  if (!t.mm().CopyIn(head, &h, sizeof(h)).ok()) return;
  constexpr int kLimit = 2048;
  constexpr uint32_t kTidMask = 0x3fffffff;
  constexpr uint32_t kOwnerDied = 0x40000000;
  constexpr uint32_t kWaiters = 0x80000000;
  auto release = [&](uint64_t entry) {
    uint64_t addr = entry + static_cast<uint64_t>(h.futex_offset);
    uint32_t word;
    if (!t.mm().CopyIn(addr, &word, sizeof(word)).ok()) return;
    if ((word & kTidMask) != static_cast<uint32_t>(t.tid())) return;
    uint32_t next = (word & kWaiters) | kOwnerDied;
    if (!t.mm().CopyOut(addr, &next, sizeof(next)).ok()) return;
    if (word & kWaiters) {
      t.kernel().futexes().Wake(FutexTable::KeyOf(t.mm(), addr, false), 1, ~0u);
    }
  };
  uint64_t entry = h.next & ~uint64_t{1};
  for (int i = 0; i < kLimit && entry != head && entry != 0; ++i) {
    uint64_t next;
    if (!t.mm().CopyIn(entry, &next, sizeof(next)).ok()) break;
    if (entry != (h.pending & ~uint64_t{1})) release(entry);
    entry = next & ~uint64_t{1};
  }
  if (h.pending != 0) release(h.pending & ~uint64_t{1});
}

}  // namespace

std::optional<ExitStatus> FinishThread(Task& t, const ExitStatus& status) {
  Kernel& kernel = t.kernel();
  if (t.is_leader()) {
    if (Task* successor = t.group().HandOverLeadership(&t)) {
      // A non-main thread exec'd: it is the process now (its PID, its
      // place in the process table); this task leaves with the old image,
      // which its host thread tears down.
      kernel.processes().Attach(successor->pid(), successor);
      successor->set_exit_signal(t.exit_signal());
      t.group().AddExitedCpu(t.ThreadCpuTimes());
      kernel.processes().FreeThread(t.tid());
      t.group().Remove(&t);
      t.group().FinishHandOver();
      return std::nullopt;
    }
  }
  if (!t.is_leader()) t.group().AddExitedCpu(t.ThreadCpuTimes());
  ReleaseRobustFutexes(t);
  // CLONE_CHILD_CLEARTID: zero the TID word and wake a futex waiter on it
  // (pthread_join). Not when the whole process dies: nobody is left to
  // wake, and the memory may be shared with a vfork parent.
  if (uint64_t addr = t.clear_child_tid(); addr != 0) {
    int zero = 0;
    if (t.mm().CopyOut(addr, &zero, sizeof(zero)).ok()) {
      kernel.futexes().Wake(FutexTable::KeyOf(t.mm(), addr, false), 1, ~0u);
    }
  }
  if (!t.is_leader()) {
    // The task leaves its group when it is destroyed, after dropping its
    // hold on the address space.
    t.address_space().ReleaseThread();
    kernel.UnregisterTask(&t);
    kernel.processes().FreeThread(t.tid());
    return std::nullopt;
  }
  // The leader's host thread traces the stub's main thread, which must
  // outlive the others: wait for them, then report the process.
  t.group().WaitUntilAlone(&t);
  t.group().Remove(&t);
  // The main thread's time joins the others' (for the process's total,
  // which its reaper accounts).
  t.group().AddExitedCpu(t.ThreadCpuTimes());
  if (std::optional<ExitStatus> group = t.group().exit_status()) return *group;
  return status;
}

void ReportExit(Task& t, const ExitStatus& status) {
  Kernel& kernel = t.kernel();
  t.ReleaseVforkParent();
  // A dying process drops its fcntl record locks (OFD and flock locks go
  // with their open file descriptions).
  for (const auto& [fd, file] : t.fds().All()) {
    if (vfs::Inode* inode = file->inode()) {
      vfs::ReleaseLocksOf(*inode, t.lock_owner());
    }
  }
  ChildStatus st;
  st.code = status.code;
  st.signal = status.signal;
  st.core = status.core;
  st.uid = static_cast<int>(t.creds().ruid);
  st.suid = static_cast<int>(t.creds().suid);
  const int parent_pid = t.ppid();
  // A parent that ignores SIGCHLD (or set SA_NOCLDWAIT) leaves no zombies.
  bool autoreap = false;
  kernel.processes().WithLive(parent_pid, [&](Task& p) {
    const KernelSigaction& act = p.sigactions()[SIGCHLD];
    autoreap = act.handler == reinterpret_cast<uint64_t>(SIG_IGN) ||
               (act.flags & SA_NOCLDWAIT);
  });
  kernel.real_timers().DeleteAll(t.pid());
  const int sig = t.exit_signal();
  siginfo_t info{};
  info.si_signo = sig;
  info.si_code =
      st.signal != 0 ? (st.core ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
  info.si_pid = t.pid();
  info.si_uid = t.creds().ruid;
  info.si_status = st.signal != 0 ? st.signal : st.code;
  // Everything the process used, and what its waited-for descendants did.
  CpuTimes own = t.group().ProcessCpuTimes();
  CpuTimes children = t.group().ChildrenCpuTimes();
  st.user_ns = own.user_ns + children.user_ns;
  st.sys_ns = own.sys_ns + children.sys_ns;
  // SIGCHLD's si_utime and si_stime are the child's own, in clock ticks.
  constexpr uint64_t kNsPerTick = 1000000000 / 100;  // USER_HZ
  info.si_utime = static_cast<clock_t>(own.user_ns / kNsPerTick);
  info.si_stime = static_cast<clock_t>(own.sys_ns / kNsPerTick);
  // Gone from /proc before the parent can reap it (Linux removes a task
  // from /proc as it is released).
  kernel.UnregisterTask(&t);
  kernel.processes().Exited(t.pid(), st, autoreap, [&](Task& parent) {
    if (sig != 0) parent.QueueSignal(sig, &info);
  });
}

ErrnoOr<int> CloneThread(Task& parent, const CloneRequest& req) {
  uint64_t flags = req.flags;
  // clone(2): a thread shares the dispositions, which need shared memory.
  if (!(flags & CLONE_SIGHAND) || !(flags & CLONE_VM)) return Errno(EINVAL);
  if (flags & (CLONE_VFORK | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
               CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)) {
    return Errno(EINVAL);
  }
  Kernel& kernel = parent.kernel();
  if (parent.group().exiting()) return Errno(EAGAIN);
  SENTRY_ASSIGN_OR_RETURN(int tid,
                          kernel.processes().AllocateThread(
                              static_cast<int>(parent.creds().ruid),
                              parent.rlimits()[RLIMIT_NPROC].rlim_cur));
  absl::StatusOr<uint64_t> token = parent.address_space().SpawnThread();
  if (!token.ok()) {
    SENTRY_LOG(kError, "no stub thread for a new thread: %s",
               token.status().ToString());
    kernel.processes().FreeThread(tid);
    return Errno(EAGAIN);
  }
  InheritedState state = parent.StateForFork(/*share_files=*/true);
  if (!(flags & CLONE_FILES)) state.fds = parent.fds().Clone();
  state.regs.rax = 0;
  if (req.stack != 0) state.regs.rsp = req.stack;
  if (flags & CLONE_SETTLS) state.regs.fs_base = req.tls;
  auto task =
      std::make_unique<Task>(kernel, parent.shared_address_space(),
                             parent.shared_mm(), parent.shared_group(), tid);
  task->AdoptState(std::move(state), /*thread=*/true);
  if (flags & CLONE_FS) {
    parent.PublishFs();
    task->ShareFs(parent.shared_fs());
  }
  task->set_exit_signal(0);
  if (flags & CLONE_PARENT_SETTID) {
    (void)parent.mm().CopyOut(req.parent_tid, &tid, sizeof(tid));
  }
  if (flags & CLONE_CHILD_SETTID) {
    (void)task->mm().CopyOut(req.child_tid, &tid, sizeof(tid));
  }
  if (flags & CLONE_CHILD_CLEARTID) task->clear_child_tid() = req.child_tid;
  kernel.ChildThreadStarted();
  std::thread(RunThread, task.release(), *token).detach();
  return tid;
}

ErrnoOr<int> CloneProcess(Task& parent, const CloneRequest& req) {
  uint64_t flags = req.flags & ~kIgnoredFlags;
  if (req.flags & CLONE_THREAD) return CloneThread(parent, req);
  // CLONE_SIGHAND without CLONE_VM is invalid; with it (and no
  // CLONE_THREAD) the dispositions are copied, not shared: a gap.
  if ((req.flags & CLONE_SIGHAND) && !(req.flags & CLONE_VM)) {
    return Errno(EINVAL);
  }
  if (flags & (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
               CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)) {
    return Errno(EINVAL);
  }
  Kernel& kernel = parent.kernel();
  SENTRY_ASSIGN_OR_RETURN(
      int pid, kernel.processes().Allocate(
                   parent.pid(), static_cast<int>(parent.creds().ruid),
                   parent.rlimits()[RLIMIT_NPROC].rlim_cur,
                   /*clone_child=*/req.exit_signal != SIGCHLD));
  ErrnoOr<mm::ForkedMemory> memory = parent.mm().CopyForFork();
  if (!memory.ok()) {
    kernel.processes().Exited(pid, ChildStatus{}, true);
    return Errno(ENOMEM);
  }
  InheritedState state = parent.StateForFork(flags & CLONE_FILES);
  state.regs.rax = 0;  // the child's return value
  // A child sharing the memory but running alongside its parent (no
  // CLONE_VFORK) must not use the parent's alternate signal stack.
  if ((flags & (CLONE_VM | CLONE_VFORK)) == CLONE_VM) {
    state.altstack = stack_t{nullptr, SS_DISABLE, 0};
  }
  if (req.stack != 0) state.regs.rsp = req.stack;
  if (flags & CLONE_SETTLS) state.regs.fs_base = req.tls;
  if (flags & CLONE_PARENT_SETTID) {
    (void)parent.mm().CopyOut(req.parent_tid, &pid, sizeof(pid));
  }
  std::shared_ptr<VforkState> vfork;
  if (flags & CLONE_VFORK) vfork = std::make_shared<VforkState>();
  auto start = std::make_shared<ChildStart>();
  kernel.ChildThreadStarted();
  std::thread(RunChild, std::ref(kernel), pid, std::move(state),
              std::move(*memory), req, vfork, start)
      .detach();
  start->done.WaitForNotification();
  if (!start->ok) {
    // No stub could be started for it (the host is out of processes or
    // memory): fork fails as Linux's does when it cannot allocate.
    kernel.processes().Exited(pid, ChildStatus{}, /*autoreap=*/true);
    return Errno(EAGAIN);
  }
  if (vfork) {
    // The parent sleeps until the child execs or exits (or the parent is
    // killed); other signals are delivered while it waits.
    (void)parent.Wait(&vfork->queue, ~0u, [&] { return vfork->done.load(); });
  }
  return pid;
}

}  // namespace sentry::kernel
