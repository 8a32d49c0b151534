#include "platform/ptrace/ptrace_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "platform/ptrace/stub_process.h"
#include "sentry/base/unique_fd.h"

namespace sentry::platform {
namespace {

// The host signal that kicks a running stub back to the Sentry. SIGCHLD's
// default action is to ignore it, so a kick that arrives after the Sentry is
// gone does nothing.
constexpr int kInterruptSignal = SIGCHLD;
// elf.h's NT_X86_XSTATE: the regset of the XSAVE area.
constexpr long kNtX86Xstate = 0x202;

absl::Status FromRawResult(int64_t rc, const char* what) {
  if (rc < 0 && rc > -4096) {
    return absl::ErrnoToStatus(static_cast<int>(-rc), what);
  }
  return absl::OkStatus();
}

pid_t HostTid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// Lock order: PtraceAddressSpace::mu_ is a leaf (held only to look up or
// change which stub thread a host thread traces).
class PtraceAddressSpace final : public AddressSpace {
 public:
  explicit PtraceAddressSpace(std::unique_ptr<StubProcess> stub)
      : stub_(std::move(stub)), creator_(HostTid()) {
    threads_[creator_] = stub_->pid();
  }

  absl::Status MapFile(uint64_t addr, uint64_t length, uint64_t offset,
                       int prot) override {
    absl::StatusOr<pid_t> tid = StubTid();
    if (!tid.ok()) return tid.status();
    absl::StatusOr<int64_t> rc =
        stub_->InjectSyscall(SYS_mmap,
                             {addr, length, static_cast<uint64_t>(prot),
                              MAP_SHARED | MAP_FIXED, kStubMemoryFd, offset},
                             *tid);
    if (!rc.ok()) return rc.status();
    if (absl::Status s = FromRawResult(*rc, "mmap in the stub"); !s.ok()) {
      return s;
    }
    if (static_cast<uint64_t>(*rc) != addr) {
      return absl::InternalError("stub mmap landed at the wrong address");
    }
    return absl::OkStatus();
  }

  absl::Status Protect(uint64_t addr, uint64_t length, int prot) override {
    absl::StatusOr<pid_t> tid = StubTid();
    if (!tid.ok()) return tid.status();
    absl::StatusOr<int64_t> rc = stub_->InjectSyscall(
        SYS_mprotect, {addr, length, static_cast<uint64_t>(prot)}, *tid);
    if (!rc.ok()) return rc.status();
    return FromRawResult(*rc, "mprotect in the stub");
  }

  absl::Status Unmap(uint64_t addr, uint64_t length) override {
    absl::StatusOr<pid_t> tid = StubTid();
    if (!tid.ok()) return tid.status();
    absl::StatusOr<int64_t> rc =
        stub_->InjectSyscall(SYS_munmap, {addr, length}, *tid);
    if (!rc.ok()) return rc.status();
    return FromRawResult(*rc, "munmap in the stub");
  }

  absl::StatusOr<uint64_t> SpawnThread() override {
    absl::StatusOr<pid_t> tid = StubTid();
    if (!tid.ok()) return tid.status();
    absl::StatusOr<pid_t> child = stub_->CloneThread(*tid);
    if (!child.ok()) return child.status();
    return static_cast<uint64_t>(*child);
  }

  absl::Status AdoptThread(uint64_t token) override {
    pid_t tid = static_cast<pid_t>(token);
    if (absl::Status s = stub_->SeizeThread(tid); !s.ok()) return s;
    absl::MutexLock l(&mu_);
    threads_[HostTid()] = tid;
    return absl::OkStatus();
  }

  void ReleaseThread() override {
    pid_t host = HostTid();
    pid_t tid;
    {
      absl::MutexLock l(&mu_);
      auto it = threads_.find(host);
      if (it == threads_.end() || host == creator_) return;
      tid = it->second;
      threads_.erase(it);
    }
    // If this fails the stub is dying anyway; PTRACE_O_EXITKILL ends it
    // when this host thread exits.
    (void)stub_->ExitThread(tid);
  }

  StubProcess& stub() { return *stub_; }

  // The stub thread the calling host thread traces.
  absl::StatusOr<pid_t> StubTid() const {
    pid_t host = HostTid();
    absl::MutexLock l(&mu_);
    auto it = threads_.find(host);
    if (it == threads_.end()) {
      return absl::UnimplementedError(
          "address space used from a host thread that does not trace it");
    }
    return it->second;
  }

 private:
  std::unique_ptr<StubProcess> stub_;
  const pid_t creator_;
  mutable absl::Mutex mu_;
  // Host thread → the stub thread it traces.
  absl::flat_hash_map<pid_t, pid_t> threads_ ABSL_GUARDED_BY(mu_);
};

class PtraceContext final : public Context {
 public:
  absl::StatusOr<SwitchResult> Switch(AddressSpace& as,
                                      Registers& regs) override {
    auto& pas = static_cast<PtraceAddressSpace&>(as);
    absl::StatusOr<pid_t> stub_tid = pas.StubTid();
    if (!stub_tid.ok()) return stub_tid.status();
    StubProcess& stub = pas.stub();
    const pid_t pid = *stub_tid;  // ptrace requests name the thread
    stub_pid_.store(stub.pid(), std::memory_order_relaxed);
    stub_tid_.store(pid, std::memory_order_relaxed);
    if (interrupted_.exchange(false)) {
      return SwitchResult{.event = SwitchEvent::kInterrupted};
    }
    // orig_rax = -1 keeps the host kernel's syscall-restart logic away from
    // registers the Sentry has already finished with.
    regs.orig_rax = ~0ULL;
    if (ptrace(PTRACE_SETREGS, pid, nullptr, &regs) != 0) {
      return absl::ErrnoToStatus(errno, "PTRACE_SETREGS");
    }
    for (;;) {
      if (ptrace(PTRACE_SYSEMU, pid, nullptr, nullptr) != 0) {
        return absl::ErrnoToStatus(errno, "PTRACE_SYSEMU");
      }
      absl::StatusOr<int> status = stub.WaitStop(pid);
      if (!status.ok()) return status.status();
      int sig = WSTOPSIG(*status);
      // PTRACE_EVENT stops (a seized thread's interrupt) carry no event
      // for the guest.
      if ((*status >> 16) != 0) continue;
      SwitchResult result{.event = SwitchEvent::kSyscall};
      if (sig == (SIGTRAP | 0x80)) {
        // Syscall-enter stop.
      } else if (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
                 sig == SIGFPE || sig == SIGTRAP) {
        if (ptrace(PTRACE_GETSIGINFO, pid, nullptr, &result.info) != 0) {
          return absl::ErrnoToStatus(errno, "PTRACE_GETSIGINFO");
        }
        // Only faults the host kernel raised are the guest's; the same
        // signal sent by some host process is dropped.
        if (result.info.si_code <= 0) continue;
        result.event = SwitchEvent::kFault;
      } else if (interrupted_.exchange(false)) {
        result.event = SwitchEvent::kInterrupted;
      } else {
        // A stale kick or a signal from outside the sandbox: suppressed.
        continue;
      }
      if (ptrace(PTRACE_GETREGS, pid, nullptr, &regs) != 0) {
        return absl::ErrnoToStatus(errno, "PTRACE_GETREGS");
      }
      return result;
    }
  }

  void Interrupt() override {
    interrupted_.store(true);
    pid_t pid = stub_pid_.load(std::memory_order_relaxed);
    pid_t tid = stub_tid_.load(std::memory_order_relaxed);
    if (pid > 0 && tid > 0) syscall(SYS_tgkill, pid, tid, kInterruptSignal);
  }

  absl::Status GetFpState(uint8_t* fxsave) override {
    pid_t pid = stub_tid_.load(std::memory_order_relaxed);
    struct user_fpregs_struct fp;
    if (pid <= 0 || ptrace(PTRACE_GETFPREGS, pid, nullptr, &fp) != 0) {
      return absl::ErrnoToStatus(errno, "PTRACE_GETFPREGS");
    }
    static_assert(sizeof(fp) == kFpStateSize);
    std::memcpy(fxsave, &fp, sizeof(fp));
    return absl::OkStatus();
  }

  absl::Status SetFpState(const uint8_t* fxsave) override {
    pid_t pid = stub_tid_.load(std::memory_order_relaxed);
    struct user_fpregs_struct fp;
    std::memcpy(&fp, fxsave, sizeof(fp));
    // MXCSR bits the CPU does not support would make the host refuse.
    fp.mxcsr &= 0xffff;
    if (pid <= 0 || ptrace(PTRACE_SETFPREGS, pid, nullptr, &fp) != 0) {
      return absl::ErrnoToStatus(errno, "PTRACE_SETFPREGS");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<uint8_t>> GetXState() override {
    pid_t tid = stub_tid_.load(std::memory_order_relaxed);
    // The kernel trims the buffer to its XSAVE size (a few KiB; AMX's
    // tiles make it 11 KiB).
    std::vector<uint8_t> buf(16384);
    struct iovec iov = {buf.data(), buf.size()};
    if (tid <= 0 || ptrace(PTRACE_GETREGSET, tid,
                           reinterpret_cast<void*>(kNtX86Xstate), &iov) != 0) {
      return absl::ErrnoToStatus(errno, "PTRACE_GETREGSET NT_X86_XSTATE");
    }
    buf.resize(iov.iov_len);
    return buf;
  }

  absl::Status SetXState(const std::vector<uint8_t>& xstate) override {
    pid_t tid = stub_tid_.load(std::memory_order_relaxed);
    std::vector<uint8_t> buf = xstate;
    struct iovec iov = {buf.data(), buf.size()};
    if (tid <= 0 || ptrace(PTRACE_SETREGSET, tid,
                           reinterpret_cast<void*>(kNtX86Xstate), &iov) != 0) {
      return absl::ErrnoToStatus(errno, "PTRACE_SETREGSET NT_X86_XSTATE");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> CpuTimeNs() override {
    pid_t tid = stub_tid_.load(std::memory_order_relaxed);
    if (tid <= 0) return 0;
    // The stub thread runs exactly this guest thread. Its thread CPU clock
    // is not readable from another process (Linux's lookup_task), so read
    // the scheduler's nanosecond count from /proc/<tid>/schedstat.
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/schedstat", tid);
    UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return absl::ErrnoToStatus(errno, "open schedstat");
    char buf[128];
    ssize_t n = read(fd.get(), buf, sizeof(buf) - 1);
    if (n <= 0) return absl::ErrnoToStatus(errno, "read schedstat");
    buf[n] = 0;
    return strtoull(buf, nullptr, 10);
  }

 private:
  std::atomic<bool> interrupted_{false};
  std::atomic<pid_t> stub_pid_{0};
  std::atomic<pid_t> stub_tid_{0};
};

class PtracePlatform final : public Platform {
 public:
  explicit PtracePlatform(UniqueFd memory_fd)
      : memory_fd_(std::move(memory_fd)) {}

  absl::StatusOr<std::unique_ptr<AddressSpace>> NewAddressSpace() override {
    absl::StatusOr<std::unique_ptr<StubProcess>> stub =
        StubProcess::Start(memory_fd_.get());
    if (!stub.ok()) return stub.status();
    return std::make_unique<PtraceAddressSpace>(std::move(*stub));
  }

  std::unique_ptr<Context> NewContext() override {
    return std::make_unique<PtraceContext>();
  }

  // mmap_min_addr's usual value; the stub's text marks the top.
  uint64_t MinUserAddress() const override { return 0x10000; }
  uint64_t MaxUserAddress() const override { return kStubBase; }

  Registers InitialRegisters() const override {
    // What Linux's start_thread() sets: user code and data selectors and
    // interrupts enabled.
    Registers regs{};
    regs.cs = 0x33;
    regs.ss = 0x2b;
    regs.eflags = 0x202;
    return regs;
  }

 private:
  UniqueFd memory_fd_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Platform>> CreatePtracePlatform(int memory_fd) {
  int fd = fcntl(memory_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "dup of the MemoryFile");
  return std::make_unique<PtracePlatform>(UniqueFd(fd));
}

}  // namespace sentry::platform
