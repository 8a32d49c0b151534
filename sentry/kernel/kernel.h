// Kernel: sandbox-wide state, shared by every task: the platform, the
// MemoryFile, options, and the per-syscall unimplemented log.
#ifndef SENTRY_KERNEL_KERNEL_H_
#define SENTRY_KERNEL_KERNEL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "platform/platform.h"
#include "sentry/kernel/futex.h"
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
        dispatcher_(dispatcher) {}

  const KernelOptions& options() const { return options_; }
  mm::MemoryFile& memory() { return *memory_; }
  platform::Platform& platform() { return *platform_; }
  SyscallDispatcher dispatcher() const { return dispatcher_; }

  // The sandbox's mount namespace (one until unshare/CLONE_NEWNS exist).
  vfs::MountNamespace* mounts() { return mounts_.get(); }
  void set_mounts(std::unique_ptr<vfs::MountNamespace> ns) {
    mounts_ = std::move(ns);
  }

  FutexTable& futexes() { return futexes_; }

  // Monotonic time at which the kernel was created (for sysinfo, uptime).
  uint64_t boot_time_ns() const { return boot_time_ns_; }

 private:
  KernelOptions options_;
  std::unique_ptr<mm::MemoryFile> memory_;
  std::unique_ptr<platform::Platform> platform_;
  SyscallDispatcher dispatcher_;
  std::unique_ptr<vfs::MountNamespace> mounts_;
  FutexTable futexes_;
  uint64_t boot_time_ns_ = 0;
};

}  // namespace sentry::kernel

#endif  // SENTRY_KERNEL_KERNEL_H_
