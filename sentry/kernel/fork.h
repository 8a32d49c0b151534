// fork, vfork and process-creating clone: the child gets a copy of the
// parent's memory (made on the parent's thread, so it is a snapshot of the
// moment of the call) and runs on a host thread of its own, which creates
// the child's stub process (ptrace requests must come from the thread that
// traces it).
#ifndef SENTRY_KERNEL_FORK_H_
#define SENTRY_KERNEL_FORK_H_

#include <cstdint>

#include "sentry/base/errno_or.h"
#include "sentry/kernel/task.h"

namespace sentry::kernel {

struct CloneRequest {
  uint64_t flags = 0;  // CLONE_*
  int exit_signal = SIGCHLD;
  uint64_t stack = 0;       // new stack pointer, or 0
  uint64_t parent_tid = 0;  // CLONE_PARENT_SETTID
  uint64_t child_tid = 0;   // CLONE_CHILD_SETTID / CLONE_CHILD_CLEARTID
  uint64_t tls = 0;         // CLONE_SETTLS
};

// Creates a child process, or with CLONE_THREAD a thread of the caller's;
// returns its PID or TID. CLONE_VM without CLONE_THREAD (vfork,
// posix_spawn) gets a copy of the memory like fork, and with CLONE_VFORK
// the caller sleeps until the child execs or exits.
ErrnoOr<int> CloneProcess(Task& parent, const CloneRequest& req);

// After Run returned `status` on a task's own host thread: the thread's
// exit (robust futexes, CLONE_CHILD_CLEARTID, leaving its group). A group
// leader then waits for the other threads and gets the process's exit
// status; any other thread gets nullopt and its context is released.
std::optional<ExitStatus> FinishThread(Task& t, const ExitStatus& status);

// After FinishThread for a process's leader (a forked child, or init):
// records the exit for wait(2), reparents children, signals the parent.
void ReportExit(Task& t, const ExitStatus& status);

}  // namespace sentry::kernel

#endif  // SENTRY_KERNEL_FORK_H_
