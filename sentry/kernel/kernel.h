// Kernel: sandbox-wide state, shared by every task: the platform, the
// MemoryFile, options, and the per-syscall unimplemented log.
//
// Lock order: Kernel::tasks_mu_ before any lock a ForEachTask/WithTask
// callback takes (FdTable, MemoryManager, mount namespace).
#ifndef SENTRY_KERNEL_KERNEL_H_
#define SENTRY_KERNEL_KERNEL_H_

#include <sched.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "sentry/base/errno_or.h"
#include "sentry/kernel/futex.h"
#include "sentry/kernel/itimer.h"
#include "sentry/kernel/process_table.h"
#include "sentry/kernel/vdso.h"
#include "sentry/mm/memory_file.h"
#include "sentry/vfs/dentry.h"

namespace sentry::kernel {

class Task;

struct KernelOptions {
  bool strace = false;
  // uname(2)'s nodename inside the sandbox.
  std::string hostname = "sentry";
};

// Handles the syscall in the task's registers; set by the syscall table
// (kept out of the kernel library to keep dependencies one-way).
using SyscallDispatcher = void (*)(Task& task);

class Kernel {
 public:
  Kernel(KernelOptions options, std::unique_ptr<mm::MemoryFile> memory,
         std::unique_ptr<platform::Platform> platform,
         SyscallDispatcher dispatcher)
      : options_(std::move(options)),
        memory_(std::move(memory)),
        platform_(std::move(platform)),
        dispatcher_(dispatcher) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    boot_time_ns_ = static_cast<uint64_t>(ts.tv_sec) * 1000000000 +
                    static_cast<uint64_t>(ts.tv_nsec);
    CPU_ZERO(&host_cpus_);
    if (sched_getaffinity(0, sizeof(host_cpus_), &host_cpus_) != 0) {
      CPU_SET(0, &host_cpus_);
    }
  }

  const KernelOptions& options() const { return options_; }
  mm::MemoryFile& memory() { return *memory_; }
  platform::Platform& platform() { return *platform_; }
  SyscallDispatcher dispatcher() const { return dispatcher_; }

  // The sandbox's mount namespace (one until unshare/CLONE_NEWNS exist).
  vfs::MountNamespace* mounts() { return mounts_.get(); }
  void set_mounts(std::unique_ptr<vfs::MountNamespace> ns) {
    mounts_ = std::move(ns);
  }

  // The vDSO mapped into every process (null: none, e.g. in unit tests).
  Vdso* vdso() { return vdso_.get(); }
  void set_vdso(std::unique_ptr<Vdso> vdso) { vdso_ = std::move(vdso); }

  FutexTable& futexes() { return futexes_; }
  ProcessTable& processes() { return processes_; }
  RealTimers& real_timers() { return real_timers_; }

  // Host threads running forked tasks: counted so the sandbox can wait for
  // them all before tearing the kernel down.
  void ChildThreadStarted() ABSL_LOCKS_EXCLUDED(threads_mu_) {
    absl::MutexLock l(&threads_mu_);
    ++child_threads_;
  }
  void ChildThreadDone() ABSL_LOCKS_EXCLUDED(threads_mu_) {
    absl::MutexLock l(&threads_mu_);
    --child_threads_;
  }
  // True if every child thread finished within `timeout`.
  bool WaitForChildThreads(absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(threads_mu_) {
    absl::MutexLock l(&threads_mu_);
    auto none = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(threads_mu_) {
      return child_threads_ == 0;
    };
    return threads_mu_.AwaitWithTimeout(absl::Condition(&none), timeout);
  }

  // The sandbox's UTS names (uname's nodename and domainname), which
  // sethostname/setdomainname change for every process in the sandbox.
  std::string hostname() const ABSL_LOCKS_EXCLUDED(uts_mu_) {
    absl::MutexLock l(&uts_mu_);
    return hostname_.value_or(options_.hostname);
  }
  std::string domainname() const ABSL_LOCKS_EXCLUDED(uts_mu_) {
    absl::MutexLock l(&uts_mu_);
    return domainname_;
  }
  void set_hostname(std::string name) ABSL_LOCKS_EXCLUDED(uts_mu_) {
    absl::MutexLock l(&uts_mu_);
    hostname_ = std::move(name);
  }
  void set_domainname(std::string name) ABSL_LOCKS_EXCLUDED(uts_mu_) {
    absl::MutexLock l(&uts_mu_);
    domainname_ = std::move(name);
  }

  // The host CPUs the Sentry may use (its affinity when the kernel was
  // made): the guest's affinity masks are subsets of it.
  const cpu_set_t& host_cpus() const { return host_cpus_; }

  // Monotonic time at which the kernel was created (times(2) counts from
  // it).
  uint64_t boot_time_ns() const { return boot_time_ns_; }

  // The task registry (for /proc and, later, kill/wait): every live Task
  // registers itself at construction and leaves at destruction.
  void RegisterTask(Task* t) ABSL_LOCKS_EXCLUDED(tasks_mu_);
  void UnregisterTask(Task* t) ABSL_LOCKS_EXCLUDED(tasks_mu_);
  // The TIDs of the live tasks, ascending (a snapshot: a task may be gone
  // by the time the caller looks it up).
  std::vector<int> Tasks() const ABSL_LOCKS_EXCLUDED(tasks_mu_);
  // How many tasks (threads) are alive: sysinfo's procs.
  int TaskCount() const ABSL_LOCKS_EXCLUDED(tasks_mu_) {
    absl::MutexLock l(&tasks_mu_);
    return static_cast<int>(tasks_.size());
  }
  // Runs `fn` on the task with thread ID `tid` while the registry lock
  // keeps it from going away; ESRCH if there is none. `fn` must not block
  // and must not call back into the registry.
  template <typename Fn>
  auto WithTask(int tid, Fn&& fn) ABSL_LOCKS_EXCLUDED(tasks_mu_)
      -> decltype(fn(std::declval<Task&>())) {
    absl::MutexLock l(&tasks_mu_);
    Task* t = FindTaskLocked(tid);
    if (t == nullptr) return Errno(ESRCH);
    return fn(*t);
  }

 private:
  Task* FindTaskLocked(int tid) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(tasks_mu_);

  KernelOptions options_;
  std::unique_ptr<mm::MemoryFile> memory_;
  // After memory_: its pages go back before the MemoryFile does.
  std::unique_ptr<Vdso> vdso_;
  std::unique_ptr<platform::Platform> platform_;
  SyscallDispatcher dispatcher_;
  std::unique_ptr<vfs::MountNamespace> mounts_;
  FutexTable futexes_;
  ProcessTable processes_;
  // After processes_: its thread signals processes and stops first.
  RealTimers real_timers_{processes_};
  absl::Mutex threads_mu_;
  int child_threads_ ABSL_GUARDED_BY(threads_mu_) = 0;
  uint64_t boot_time_ns_ = 0;
  cpu_set_t host_cpus_;
  mutable absl::Mutex uts_mu_;
  std::optional<std::string> hostname_ ABSL_GUARDED_BY(uts_mu_);
  std::string domainname_ ABSL_GUARDED_BY(uts_mu_) = "(none)";
  mutable absl::Mutex tasks_mu_;
  std::vector<Task*> tasks_ ABSL_GUARDED_BY(tasks_mu_);
};

}  // namespace sentry::kernel

#endif  // SENTRY_KERNEL_KERNEL_H_
