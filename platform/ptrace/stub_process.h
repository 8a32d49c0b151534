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

  // Runs syscall `nr` with `args` in the stub and returns its raw result
  // (a negative errno on failure). The stub must be stopped. Clobbers the
  // stub's registers: callers restore the guest's on the next run.
  absl::StatusOr<int64_t> InjectSyscall(int64_t nr,
                                        std::array<uint64_t, 6> args);

  // Waits for the next stop of the stub. Returns the wait status. A stub
  // that exited or was killed is reported as an error.
  absl::StatusOr<int> WaitStop();

 private:
  StubProcess(pid_t pid) : pid_(pid) {}
  absl::Status InstallSeccompFilter();
  absl::Status UnmapEverythingButStub();

  pid_t pid_;
  bool exited_ = false;
  Registers initial_regs_{};
};

// The stub's filter as BPF, built with libseccomp (exposed for tests).
absl::StatusOr<std::vector<uint8_t>> BuildStubSeccompFilter();

}  // namespace sentry::platform

#endif  // PLATFORM_PTRACE_STUB_PROCESS_H_
