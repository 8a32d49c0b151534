#include "sentry/kernel/fork.h"

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>

#include <thread>

#include "sentry/base/log.h"
#include "sentry/vfs/lock.h"

namespace sentry::kernel {
namespace {

// CLONE_* flags that change nothing here: namespaces beyond the sandbox's
// own are not emulated, and the rest are bookkeeping we do not need.
constexpr uint64_t kIgnoredFlags = CLONE_PTRACE | CLONE_UNTRACED | CLONE_IO |
                                   CLONE_SYSVSEM | CLONE_FS | CLONE_SIGHAND |
                                   CLONE_DETACHED;

// The child's whole life on its own host thread.
void RunChild(Kernel& kernel, int pid, InheritedState state,
              mm::ForkedMemory memory, CloneRequest req,
              std::shared_ptr<VforkState> vfork) {
  platform::Platform& platform = kernel.platform();
  auto fail = [&](const std::string& why) {
    SENTRY_LOG(kError, "fork of %d failed in the child: %s", pid, why);
    ChildStatus st;
    st.signal = SIGKILL;
    int parent = kernel.processes().Exited(pid, st, false);
    kernel.processes().WithLive(parent,
                                [](Task& p) { p.QueueSignal(SIGCHLD); });
    if (vfork) {
      vfork->done.store(true);
      vfork->queue.Notify(~0u);
    }
    kernel.ChildThreadDone();
  };
  absl::StatusOr<std::unique_ptr<platform::AddressSpace>> as =
      platform.NewAddressSpace();
  if (!as.ok()) return fail(std::string(as.status().message()));
  ErrnoOr<std::unique_ptr<mm::MemoryManager>> mm = mm::MemoryManager::FromFork(
      kernel.memory(), **as, platform.MinUserAddress(),
      platform.MaxUserAddress(), std::move(memory));
  if (!mm.ok()) return fail("mapping the child's memory");
  auto task = std::make_unique<Task>(kernel, std::move(*as), std::move(*mm));
  task->set_pid(pid);
  task->AdoptState(std::move(state));
  task->set_exit_signal(req.exit_signal);
  if (vfork) task->set_vfork(vfork);
  if (req.flags & CLONE_CHILD_SETTID) {
    (void)task->mm().CopyOut(req.child_tid, &pid, sizeof(pid));
  }
  if (req.flags & CLONE_CHILD_CLEARTID) task->clear_child_tid() = req.child_tid;
  kernel.processes().Attach(pid, task.get());
  ExitStatus status = task->Run();
  ReportExit(*task, status);
  task.reset();  // kills the stub
  kernel.ChildThreadDone();
}

}  // namespace

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
  // CLONE_CHILD_CLEARTID: zero the TID word and wake a futex waiter on it.
  if (uint64_t addr = t.clear_child_tid(); addr != 0) {
    int zero = 0;
    if (t.mm().CopyOut(addr, &zero, sizeof(zero)).ok()) {
      kernel.futexes().Wake({&t.mm(), addr}, 1, ~0u);
    }
  }
  ChildStatus st;
  st.code = status.code;
  st.signal = status.signal;
  st.core = status.core;
  int parent_pid = t.ppid();
  // A parent that ignores SIGCHLD (or set SA_NOCLDWAIT) leaves no zombies.
  bool autoreap = false;
  kernel.processes().WithLive(parent_pid, [&](Task& p) {
    const KernelSigaction& act = p.sigactions()[SIGCHLD];
    autoreap = act.handler == reinterpret_cast<uint64_t>(SIG_IGN) ||
               (act.flags & SA_NOCLDWAIT);
  });
  kernel.real_timers().Set(t.pid(),
                           {absl::ZeroDuration(), absl::ZeroDuration()});
  int parent = kernel.processes().Exited(t.pid(), st, autoreap);
  if (parent != 0 && t.exit_signal() != 0) {
    int sig = t.exit_signal();
    kernel.processes().WithLive(parent, [sig](Task& p) { p.QueueSignal(sig); });
  }
}

ErrnoOr<int> CloneProcess(Task& parent, const CloneRequest& req) {
  uint64_t flags = req.flags & ~kIgnoredFlags;
  if (flags & CLONE_THREAD) return Errno(EINVAL);  // threads: not yet
  if (flags & (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
               CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)) {
    return Errno(EINVAL);
  }
  Kernel& kernel = parent.kernel();
  SENTRY_ASSIGN_OR_RETURN(
      int pid, kernel.processes().Allocate(
                   parent.pid(), static_cast<int>(parent.creds().ruid),
                   parent.rlimits()[RLIMIT_NPROC].rlim_cur));
  ErrnoOr<mm::ForkedMemory> memory = parent.mm().CopyForFork();
  if (!memory.ok()) {
    kernel.processes().Exited(pid, ChildStatus{}, true);
    return Errno(ENOMEM);
  }
  InheritedState state = parent.StateForFork(flags & CLONE_FILES);
  state.regs.rax = 0;  // the child's return value
  if (req.stack != 0) state.regs.rsp = req.stack;
  if (flags & CLONE_SETTLS) state.regs.fs_base = req.tls;
  if (flags & CLONE_PARENT_SETTID) {
    (void)parent.mm().CopyOut(req.parent_tid, &pid, sizeof(pid));
  }
  std::shared_ptr<VforkState> vfork;
  if (flags & CLONE_VFORK) vfork = std::make_shared<VforkState>();
  kernel.ChildThreadStarted();
  std::thread(RunChild, std::ref(kernel), pid, std::move(state),
              std::move(*memory), req, vfork)
      .detach();
  if (vfork) {
    // The parent sleeps until the child execs or exits (or the parent is
    // killed); other signals are delivered while it waits.
    (void)parent.Wait(&vfork->queue, ~0u, [&] { return vfork->done.load(); });
  }
  return pid;
}

}  // namespace sentry::kernel
