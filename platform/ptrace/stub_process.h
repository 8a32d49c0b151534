// StubProcess: one traced stub process and the Sentry's handle on it.
#ifndef PLATFORM_PTRACE_STUB_PROCESS_H_
#define PLATFORM_PTRACE_STUB_PROCESS_H_

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "platform/platform.h"

namespace sentry::platform {

// Fixed layout of every stub process (see stub.S and BUILD.bazel).
inline constexpr uint64_t kStubBase = 0x7ff000000000;
// The stub's text, where `stub_syscall` lies at a fixed offset.
inline constexpr uint64_t kStubSize = 0x1000;
// Highest address a process can map on x86-64 with 4-level paging.
inline constexpr uint64_t kTaskSize = 0x7ffffffff000;
// The FD number of the MemoryFile inside every stub.
inline constexpr int kStubMemoryFd = 3;

class StubProcess {
 public:
  // Starts a stub traced by the calling host thread, with the MemoryFile at
  // kStubMemoryFd, its own seccomp filter installed and nothing mapped but
  // its own text.
  static absl::StatusOr<std::unique_ptr<StubProcess>> Start(int memory_fd);
  ~StubProcess();  // Kills and reaps the stub.

  StubProcess(const StubProcess&) = delete;
  StubProcess& operator=(const StubProcess&) = delete;

  pid_t pid() const { return pid_; }
  const Registers& initial_registers() const { return initial_regs_; }

  // Runs syscall `nr` with `args` in stub thread `tid` (the main thread if
  // 0) and returns its raw result (a negative errno on failure). The thread
  // must be stopped and traced by the caller. Clobbers the thread's
  // registers: callers restore the guest's on the next run.
  absl::StatusOr<int64_t> InjectSyscall(int64_t nr,
                                        std::array<uint64_t, 6> args,
                                        pid_t tid = 0);

  // Makes a new stub thread by injecting clone(2) into `tid` (stopped,
  // traced by the caller). The new thread is not traced: it waits in
  // pause(2) for SeizeThread from the host thread that will trace it.
  absl::StatusOr<pid_t> CloneThread(pid_t tid);
  // Attaches the calling host thread to stub thread `tid` as its tracer and
  // stops it.
  absl::Status SeizeThread(pid_t tid);
  // Ends stub thread `tid` (stopped, traced by the caller) and reaps it.
  absl::Status ExitThread(pid_t tid);

  // Waits for the next stop of stub thread `tid` (the main thread if 0).
  // Returns the wait status. A thread that exited or was killed is
  // reported as an error.
  absl::StatusOr<int> WaitStop(pid_t tid = 0);

 private:
  StubProcess(pid_t pid) : pid_(pid) {}
  absl::Status InstallSeccompFilter();
  absl::Status UnmapEverythingButStub();
  // Runs syscall `nr` in stopped thread `tid` from stub offset `entry`
  // until the int3 that ends at `trap_end`.
  absl::StatusOr<int64_t> InjectAt(pid_t tid, uint64_t entry, uint64_t trap_end,
                                   int64_t nr, std::array<uint64_t, 6> args);

  pid_t pid_;
  bool exited_ = false;
  Registers initial_regs_{};
};

// The stub's filter as BPF, built with libseccomp (exposed for tests).
absl::StatusOr<std::vector<uint8_t>> BuildStubSeccompFilter();

}  // namespace sentry::platform

#endif  // PLATFORM_PTRACE_STUB_PROCESS_H_
