#include "platform/ptrace/stub_process.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sentry/base/unique_fd.h"

// The stub executable, linked at kStubBase (generated from stub.S).
extern "C" const unsigned char kSentryStubElf[];
extern "C" const unsigned long kSentryStubElfSize;

namespace sentry::platform {
namespace {

// Offset of `stub_syscall` from the stub's entry point: two 5-byte movs and
// one 2-byte syscall (see stub.S). Start() checks the bytes found there.
constexpr uint64_t kStubSyscallOffset = 12;
// `stub_clone`, after stub_syscall's syscall, int3 and 2-byte jmp; the
// caller's int3 follows its syscall, test and jz.
constexpr uint64_t kStubCloneOffset = 17;
constexpr uint64_t kStubCloneTrapOffset = kStubCloneOffset + 8;
// What a stub thread's clone(2) shares: everything a thread does.
constexpr uint64_t kStubThreadCloneFlags = CLONE_VM | CLONE_FS | CLONE_FILES |
                                           CLONE_SIGHAND | CLONE_THREAD |
                                           CLONE_SYSVSEM;

absl::Status ErrnoStatus(int err, absl::string_view what) {
  return absl::ErrnoToStatus(err, what);
}

// A sealed memfd holding the stub executable, created once per process.
absl::StatusOr<int> StubExecutableFd() {
  static int fd = -1;
  static int error = 0;
  static std::once_flag once;
  std::call_once(once, [] {
    UniqueFd memfd(
        memfd_create("sentry-stub", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!memfd) {
      error = errno;
      return;
    }
    const unsigned char* p = kSentryStubElf;
    size_t left = kSentryStubElfSize;
    while (left > 0) {
      ssize_t n = write(memfd.get(), p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error = n < 0 ? errno : EIO;
        return;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    if (fcntl(memfd.get(), F_ADD_SEALS,
              F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
      error = errno;
      return;
    }
    fd = memfd.release();
  });
  if (fd < 0) return ErrnoStatus(error, "creating the stub executable");
  return fd;
}

// Runs in the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void ExecStubChild(pid_t parent, int memory_fd, int exec_fd) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(126);
  // Its own process group: terminal signals go to the Sentry, which decides
  // what the guest sees.
  setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // FD layout of a stub: nothing but the MemoryFile at kStubMemoryFd.
  int high_exec = fcntl(exec_fd, F_DUPFD_CLOEXEC, 64);
  if (high_exec < 0) _exit(126);
  if (memory_fd == kStubMemoryFd) {
    if (fcntl(kStubMemoryFd, F_SETFD, 0) < 0) _exit(126);
  } else if (dup2(memory_fd, kStubMemoryFd) < 0) {
    _exit(126);
  }
  for (int fd = 0; fd < 3; ++fd) close(fd);
  if (syscall(SYS_close_range, kStubMemoryFd + 1, ~0U, CLOSE_RANGE_CLOEXEC) !=
      0) {
    _exit(126);
  }
  if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) _exit(126);
  char name[] = "sentry-stub";
  char* argv[] = {name, nullptr};
  char* envp[] = {nullptr};
  syscall(SYS_execveat, high_exec, "", argv, envp, AT_EMPTY_PATH);
  _exit(127);
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status))
    return absl::StrCat("exited with ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status));
  }
  if (WIFSTOPPED(status)) return absl::StrCat("stopped by ", WSTOPSIG(status));
  return absl::StrCat("status ", status);
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> BuildStubSeccompFilter() {
  // What a stub may do once guest code can run in it: shape its address
  // space with MemoryFile mappings, nothing else. Guest syscalls never reach
  // this filter (PTRACE_SYSEMU stops them first); it limits what a stub can
  // do if it is ever made to run a syscall the Sentry did not inject.
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (ctx == nullptr) return absl::InternalError("seccomp_init failed");
  struct Releaser {
    scmp_filter_ctx ctx;
    ~Releaser() { seccomp_release(ctx); }
  } releaser{ctx};
  int rc = seccomp_rule_add(
      ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 2,
      SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_TYPE | MAP_FIXED, MAP_SHARED | MAP_FIXED),
      SCMP_A4(SCMP_CMP_EQ, kStubMemoryFd));
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(munmap), 0);
  if (rc == 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 0);
  // Stub threads for guest threads: made by stub_clone, parked in pause,
  // ended with exit.
  if (rc == 0) {
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                          SCMP_A0(SCMP_CMP_EQ, kStubThreadCloneFlags));
  }
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(pause), 0);
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit), 0);
  if (rc != 0) return ErrnoStatus(-rc, "seccomp_rule_add for the stub");

  UniqueFd out(memfd_create("sentry-stub-bpf", MFD_CLOEXEC));
  if (!out) return ErrnoStatus(errno, "memfd_create");
  rc = seccomp_export_bpf(ctx, out.get());
  if (rc != 0) return ErrnoStatus(-rc, "seccomp_export_bpf");
  off_t size = lseek(out.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0) {
    return absl::InternalError("seccomp_export_bpf wrote a malformed program");
  }
  std::vector<uint8_t> bpf(static_cast<size_t>(size));
  if (pread(out.get(), bpf.data(), bpf.size(), 0) != size) {
    return ErrnoStatus(errno, "reading exported BPF");
  }
  return bpf;
}

absl::StatusOr<std::unique_ptr<StubProcess>> StubProcess::Start(int memory_fd) {
  absl::StatusOr<int> exec_fd = StubExecutableFd();
  if (!exec_fd.ok()) return exec_fd.status();
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus(errno, "fork of the stub");
  if (pid == 0) ExecStubChild(parent, memory_fd, *exec_fd);

  std::unique_ptr<StubProcess> stub(new StubProcess(pid));
  // The exec stops a PTRACE_TRACEME child with SIGTRAP.
  absl::StatusOr<int> status = stub->WaitStop();
  if (!status.ok()) return status.status();
  if (!WIFSTOPPED(*status) || WSTOPSIG(*status) != SIGTRAP) {
    return absl::InternalError(absl::StrCat("stub did not stop at exec: ",
                                            DescribeWaitStatus(*status)));
  }
  if (ptrace(PTRACE_SETOPTIONS, pid, nullptr,
             PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD) != 0) {
    return ErrnoStatus(errno, "PTRACE_SETOPTIONS on the stub");
  }
  Registers regs;
  if (ptrace(PTRACE_GETREGS, pid, nullptr, &regs) != 0) {
    return ErrnoStatus(errno, "PTRACE_GETREGS on the stub");
  }
  if (regs.rip < kStubBase ||
      regs.rip + kStubSyscallOffset + 3 > kStubBase + kStubSize) {
    return absl::InternalError(
        absl::StrFormat("stub entry %#x is outside its range", regs.rip));
  }
  errno = 0;
  long word =
      ptrace(PTRACE_PEEKTEXT, pid,
             reinterpret_cast<void*>(regs.rip + kStubSyscallOffset), nullptr);
  // syscall (0f 05) followed by int3 (cc).
  if (errno != 0 || (word & 0xffffff) != 0xcc050f) {
    return absl::InternalError("stub code is not what stub.S says");
  }
  errno = 0;
  word = ptrace(PTRACE_PEEKTEXT, pid,
                reinterpret_cast<void*>(regs.rip + kStubCloneOffset), nullptr);
  // syscall; test %rax,%rax; jz +1; int3.
  if (errno != 0 || static_cast<uint64_t>(word) != 0xcc0174c08548050fULL) {
    return absl::InternalError("stub_clone is not what stub.S says");
  }
  stub->initial_regs_ = regs;
  if (absl::Status s = stub->InstallSeccompFilter(); !s.ok()) return s;
  if (absl::Status s = stub->UnmapEverythingButStub(); !s.ok()) return s;
  return stub;
}

StubProcess::~StubProcess() {
  if (exited_) return;
  kill(pid_, SIGKILL);
  int status;
  while (waitpid(pid_, &status, __WALL) < 0 && errno == EINTR) {
  }
}

absl::StatusOr<int> StubProcess::WaitStop(pid_t tid) {
  if (tid == 0) tid = pid_;
  int status;
  for (;;) {
    pid_t r = waitpid(tid, &status, __WALL);
    if (r == tid) break;
    if (r < 0 && errno == EINTR) continue;
    if (tid == pid_) exited_ = true;
    return ErrnoStatus(errno, "waitpid on the stub");
  }
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    if (tid == pid_) exited_ = true;
    return absl::UnavailableError(
        absl::StrCat("the stub process ", DescribeWaitStatus(status)));
  }
  return status;
}

absl::StatusOr<int64_t> StubProcess::InjectSyscall(int64_t nr,
                                                   std::array<uint64_t, 6> args,
                                                   pid_t tid) {
  return InjectAt(tid == 0 ? pid_ : tid, kStubSyscallOffset,
                  kStubSyscallOffset + 3, nr, args);
}

absl::StatusOr<pid_t> StubProcess::CloneThread(pid_t tid) {
  absl::StatusOr<int64_t> rc =
      InjectAt(tid, kStubCloneOffset, kStubCloneTrapOffset, SYS_clone,
               {kStubThreadCloneFlags, 0, 0, 0, 0, 0});
  if (!rc.ok()) return rc.status();
  if (*rc <= 0) {
    return ErrnoStatus(static_cast<int>(-*rc), "clone of a stub thread");
  }
  return static_cast<pid_t>(*rc);
}

absl::Status StubProcess::SeizeThread(pid_t tid) {
  if (ptrace(PTRACE_SEIZE, tid, nullptr,
             PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD) != 0) {
    return ErrnoStatus(errno, "PTRACE_SEIZE of a stub thread");
  }
  if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
    return ErrnoStatus(errno, "PTRACE_INTERRUPT of a stub thread");
  }
  for (;;) {
    absl::StatusOr<int> status = WaitStop(tid);
    if (!status.ok()) return status.status();
    if ((*status >> 16) == PTRACE_EVENT_STOP) return absl::OkStatus();
    // A signal (an early interrupt kick) reached the thread first: drop it
    // and wait for the stop.
    if (ptrace(PTRACE_CONT, tid, nullptr, nullptr) != 0) {
      return ErrnoStatus(errno, "PTRACE_CONT of a stub thread");
    }
  }
}

absl::Status StubProcess::ExitThread(pid_t tid) {
  Registers regs = initial_regs_;
  regs.rip = initial_regs_.rip + kStubSyscallOffset;
  regs.rax = SYS_exit;
  regs.orig_rax = ~0ULL;
  regs.rdi = 0;
  if (ptrace(PTRACE_SETREGS, tid, nullptr, &regs) != 0 ||
      ptrace(PTRACE_CONT, tid, nullptr, nullptr) != 0) {
    return ErrnoStatus(errno, "ending a stub thread");
  }
  for (;;) {
    int status;
    pid_t r = waitpid(tid, &status, __WALL);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ErrnoStatus(errno, "waitpid on a stub thread");
    if (WIFEXITED(status) || WIFSIGNALED(status)) return absl::OkStatus();
    // A stop on the way out (a kick): let it go on.
    if (ptrace(PTRACE_CONT, tid, nullptr, nullptr) != 0) {
      return ErrnoStatus(errno, "PTRACE_CONT of an exiting stub thread");
    }
  }
}

absl::StatusOr<int64_t> StubProcess::InjectAt(pid_t tid, uint64_t entry,
                                              uint64_t trap_end, int64_t nr,
                                              std::array<uint64_t, 6> args) {
  Registers regs = initial_regs_;
  regs.rip = initial_regs_.rip + entry;
  regs.rax = static_cast<uint64_t>(nr);
  regs.orig_rax = ~0ULL;
  regs.rdi = args[0];
  regs.rsi = args[1];
  regs.rdx = args[2];
  regs.r10 = args[3];
  regs.r8 = args[4];
  regs.r9 = args[5];
  if (ptrace(PTRACE_SETREGS, tid, nullptr, &regs) != 0) {
    return ErrnoStatus(errno, "PTRACE_SETREGS for an injected syscall");
  }
  if (ptrace(PTRACE_CONT, tid, nullptr, nullptr) != 0) {
    return ErrnoStatus(errno, "PTRACE_CONT for an injected syscall");
  }
  for (;;) {
    absl::StatusOr<int> status = WaitStop(tid);
    if (!status.ok()) return status.status();
    // The int3 after the syscall instruction.
    if (WIFSTOPPED(*status) && WSTOPSIG(*status) == SIGTRAP &&
        (*status >> 16) == 0) {
      break;
    }
    // Anything else (an interrupt kick, a signal from outside) is dropped:
    // the stub resumes its syscall.
    if (ptrace(PTRACE_CONT, tid, nullptr, nullptr) != 0) {
      return ErrnoStatus(errno, "PTRACE_CONT after a stray stop");
    }
  }
  if (ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) {
    return ErrnoStatus(errno, "PTRACE_GETREGS after an injected syscall");
  }
  if (regs.rip != initial_regs_.rip + trap_end) {
    return absl::InternalError("injected syscall stopped at the wrong place");
  }
  return static_cast<int64_t>(regs.rax);
}

absl::Status StubProcess::InstallSeccompFilter() {
  absl::StatusOr<std::vector<uint8_t>> bpf = BuildStubSeccompFilter();
  if (!bpf.ok()) return bpf.status();
  // Write the program and its sock_fprog header just below the stub's
  // initial stack pointer; the stack is unmapped right after.
  struct sock_fprog prog;
  prog.len = static_cast<unsigned short>(bpf->size() / sizeof(sock_filter));
  uint64_t filter_addr = (initial_regs_.rsp - 4096 - bpf->size()) & ~15ULL;
  uint64_t prog_addr = filter_addr - 64;
  prog.filter = reinterpret_cast<sock_filter*>(filter_addr);
  struct iovec local[2] = {{&prog, sizeof(prog)}, {bpf->data(), bpf->size()}};
  struct iovec remote[2] = {
      {reinterpret_cast<void*>(prog_addr), sizeof(prog)},
      {reinterpret_cast<void*>(filter_addr), bpf->size()}};
  ssize_t want = static_cast<ssize_t>(sizeof(prog) + bpf->size());
  if (process_vm_writev(pid_, local, 2, remote, 2, 0) != want) {
    return ErrnoStatus(errno, "writing the stub's seccomp filter");
  }
  absl::StatusOr<int64_t> rc =
      InjectSyscall(SYS_prctl, {PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0});
  if (!rc.ok()) return rc.status();
  if (*rc != 0) return ErrnoStatus(static_cast<int>(-*rc), "stub no_new_privs");
  rc = InjectSyscall(SYS_seccomp,
                     {SECCOMP_SET_MODE_FILTER, 0, prog_addr, 0, 0, 0});
  if (!rc.ok()) return rc.status();
  if (*rc != 0) {
    return ErrnoStatus(static_cast<int>(-*rc), "installing the stub's filter");
  }
  return absl::OkStatus();
}

absl::Status StubProcess::UnmapEverythingButStub() {
  // The exec left a stack, vDSO and vvar above the stub; the guest gets
  // none of them.
  const uint64_t ranges[2][2] = {
      {0, kStubBase},
      {kStubBase + kStubSize, kTaskSize - (kStubBase + kStubSize)}};
  for (const auto& r : ranges) {
    absl::StatusOr<int64_t> rc = InjectSyscall(SYS_munmap, {r[0], r[1]});
    if (!rc.ok()) return rc.status();
    if (*rc != 0) {
      return ErrnoStatus(static_cast<int>(-*rc), "unmapping the stub's extras");
    }
  }
  return absl::OkStatus();
}

}  // namespace sentry::platform
