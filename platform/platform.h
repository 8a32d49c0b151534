// The platform interface: how the Sentry runs guest code and shapes the
// address space it runs in. Guest code never runs in the Sentry's own
// process; a platform puts it in a stub process and returns control to the
// Sentry at every syscall, fault or interrupt.
//
//   Platform ──NewAddressSpace()──► AddressSpace (one per guest mm: a stub)
//       └─────NewContext()────────► Context      (one per guest thread)
//
//   for (;;) {
//     auto event = ctx->Switch(*as, regs);   // runs guest code
//     if (event->kind == SwitchEvent::kSyscall) regs.rax = Dispatch(regs);
//   }
//
// Everything the guest can address is a MAP_SHARED mapping of the Sentry's
// MemoryFile installed by AddressSpace::MapFile. Private and copy-on-write
// semantics are the Sentry's job (sentry/mm), never the platform's.
//
// Threading: an AddressSpace may be used only from host threads bound to it
// (its creator, and those that AdoptThread), and a Context only from the
// host thread that runs it, except Context::Interrupt, which any thread may
// call. (ptrace requests must come from the tracing thread.)
#ifndef PLATFORM_PLATFORM_H_
#define PLATFORM_PLATFORM_H_

#include <sched.h>
#include <signal.h>
#include <sys/user.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sentry::platform {

// The guest's general-purpose registers, fs_base and gs_base included, in
// the kernel's user_regs_struct layout. FPU/SSE state stays in the stub
// thread until signal frames need it.
using Registers = struct user_regs_struct;

enum class SwitchEvent {
  // The guest executed a syscall instruction. Registers hold its number in
  // orig_rax and arguments in rdi, rsi, rdx, r10, r8, r9; rip points after
  // the instruction.
  kSyscall,
  // The guest took a synchronous fault (SIGSEGV, SIGBUS, SIGILL, SIGFPE,
  // SIGTRAP). `info` holds the kernel's siginfo (si_addr for memory faults).
  kFault,
  // Interrupt() was called, or a spurious stop happened. Check for work and
  // switch again.
  kInterrupted,
};

struct SwitchResult {
  SwitchEvent event;
  siginfo_t info{};  // valid for kFault
};

// A guest address space: the stub process's memory map.
class AddressSpace {
 public:
  virtual ~AddressSpace() = default;

  // Maps [offset, offset+length) of the MemoryFile at `addr` with `prot`,
  // replacing whatever was there. addr, length and offset are page aligned.
  virtual absl::Status MapFile(uint64_t addr, uint64_t length, uint64_t offset,
                               int prot) = 0;
  // Changes the protection of [addr, addr+length), which must be mapped.
  virtual absl::Status Protect(uint64_t addr, uint64_t length, int prot) = 0;
  // Removes any mappings in [addr, addr+length).
  virtual absl::Status Unmap(uint64_t addr, uint64_t length) = 0;

  // Guest threads. Each runs on a host thread of its own, bound to one
  // execution context of the address space (a stub thread on ptrace); the
  // host thread that created the address space is bound to the first.
  // Mapping calls above act on the whole address space from any bound host
  // thread.
  //
  // On a bound host thread: makes an idle context for a new guest thread
  // and returns a token for AdoptThread.
  virtual absl::StatusOr<uint64_t> SpawnThread() = 0;
  // On the new guest thread's host thread: binds it to the context
  // `token` names.
  virtual absl::Status AdoptThread(uint64_t token) = 0;
  // On a bound host thread other than the creator: ends its context (its
  // guest thread exited). The address space goes on for the others.
  virtual void ReleaseThread() = 0;
};

// One guest thread's execution context.
class Context {
 public:
  virtual ~Context() = default;

  // Runs guest code in `as` with `regs` until the next event; on return
  // `regs` holds the guest's registers at that event. A non-OK status is a
  // host failure (the stub died, ptrace failed): the guest cannot continue.
  virtual absl::StatusOr<SwitchResult> Switch(AddressSpace& as,
                                              Registers& regs) = 0;

  // Makes a running or future Switch return kInterrupted soon. Thread safe
  // and async-signal safe.
  virtual void Interrupt() = 0;

  // Host CPU time consumed by this guest thread, for CPU-time clocks.
  virtual absl::StatusOr<uint64_t> CpuTimeNs() = 0;

  // The guest thread's x87/SSE state in FXSAVE format (512 bytes), read
  // and written while it is stopped (between Switch calls), for signal
  // frames.
  static constexpr size_t kFpStateSize = 512;
  virtual absl::Status GetFpState(uint8_t* fxsave) = 0;
  virtual absl::Status SetFpState(const uint8_t* fxsave) = 0;

  // The whole extended state (x87, SSE, AVX and whatever else XCR0
  // enables) in the standard XSAVE format that Linux's signal frames carry:
  // FXSAVE's 512 bytes, the 64-byte XSAVE header, then the components.
  // Unimplemented (or a host without XSAVE): callers fall back to FXSAVE.
  virtual absl::StatusOr<std::vector<uint8_t>> GetXState() = 0;
  // Loads such a buffer; the host kernel validates it (EINVAL for a
  // corrupt header).
  virtual absl::Status SetXState(const std::vector<uint8_t>& xstate) = 0;
};

class Platform {
 public:
  virtual ~Platform() = default;

  // Creates an empty address space: nothing guest-visible is mapped.
  virtual absl::StatusOr<std::unique_ptr<AddressSpace>> NewAddressSpace() = 0;
  virtual std::unique_ptr<Context> NewContext() = 0;

  // Guest mappings must lie in [MinUserAddress, MaxUserAddress).
  virtual uint64_t MinUserAddress() const = 0;
  virtual uint64_t MaxUserAddress() const = 0;

  // Registers for a fresh guest thread (segment selectors, eflags) with all
  // general-purpose registers zero; the loader sets rip and rsp.
  virtual Registers InitialRegisters() const = 0;
};

}  // namespace sentry::platform

#endif  // PLATFORM_PLATFORM_H_
