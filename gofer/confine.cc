#include "gofer/confine.h"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sentry/base/log.h"

namespace sentry::gofer {
namespace {

absl::Status SeccompError(int rc, const char* what) {
  return absl::ErrnoToStatus(-rc, absl::StrCat("seccomp: ", what));
}

// Closes every FD not in `keep`.
absl::Status CloseAllBut(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned lo = 0;
  for (int fd : keep) {
    if (fd < 0) continue;
    if (static_cast<unsigned>(fd) > lo &&
        close_range(lo, static_cast<unsigned>(fd) - 1, 0) != 0) {
      return absl::ErrnoToStatus(errno, "close_range");
    }
    lo = static_cast<unsigned>(fd) + 1;
  }
  if (close_range(lo, ~0U, 0) != 0) {
    return absl::ErrnoToStatus(errno, "close_range");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status InstallSeccompFilter(int socket_fd) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (ctx == nullptr) return absl::InternalError("seccomp_init failed");
  struct Releaser {
    scmp_filter_ctx ctx;
    ~Releaser() { seccomp_release(ctx); }
  } releaser{ctx};

  // Allowed whatever their arguments. Grouped by who needs them.
  static constexpr int kAllowed[] = {
      // server.cc: the file operations, all relative to FDs it holds.
      SCMP_SYS(openat),
      SCMP_SYS(close),
      SCMP_SYS(fstat),
      SCMP_SYS(newfstatat),
      SCMP_SYS(statx),
      SCMP_SYS(getdents64),
      SCMP_SYS(lseek),
      SCMP_SYS(readlinkat),
      SCMP_SYS(mkdirat),
      SCMP_SYS(unlinkat),
      SCMP_SYS(renameat2),
      // glibc's renameat2() calls renameat when the flags are 0.
      SCMP_SYS(renameat),
      SCMP_SYS(linkat),
      SCMP_SYS(symlinkat),
      // Overlay upper directories on the host: xattrs for opaque
      // directories (whiteouts are mknodat, allowed below for 0:0 only).
      SCMP_SYS(fgetxattr),
      SCMP_SYS(fsetxattr),
      SCMP_SYS(flistxattr),
      SCMP_SYS(fremovexattr),
      SCMP_SYS(fchmod),
      SCMP_SYS(fchmodat),
      SCMP_SYS(fchown),
      SCMP_SYS(fchownat),
      SCMP_SYS(ftruncate),
      SCMP_SYS(utimensat),
      SCMP_SYS(fstatfs),
      // wire.cc: telling an empty datagram from the peer's close.
      SCMP_SYS(poll),
      SCMP_SYS(ppoll),
      // log.cc: log lines (write), their time stamp and ids.
      SCMP_SYS(read),
      SCMP_SYS(write),
      SCMP_SYS(clock_gettime),
      SCMP_SYS(gettimeofday),
      SCMP_SYS(getpid),
      SCMP_SYS(gettid),
      // malloc and the C++ runtime.
      SCMP_SYS(brk),
      SCMP_SYS(munmap),
      SCMP_SYS(mremap),
      SCMP_SYS(madvise),
      SCMP_SYS(futex),
      SCMP_SYS(getrandom),
      SCMP_SYS(sched_yield),
      // Signals: returning from handlers, and abort() (raise SIGABRT at
      // ourselves, resetting its disposition first).
      SCMP_SYS(rt_sigreturn),
      SCMP_SYS(rt_sigprocmask),
      SCMP_SYS(rt_sigaction),
      SCMP_SYS(restart_syscall),
      // The sanitizers' error reports (sigaltstack for their SEGV handler,
      // getrlimit for stack bounds); harmless without them.
      SCMP_SYS(sigaltstack),
      SCMP_SYS(getrlimit),
      SCMP_SYS(exit),
      SCMP_SYS(exit_group),
  };
  for (int nr : kAllowed) {
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    if (rc != 0) return SeccompError(rc, "seccomp_rule_add");
  }
#ifdef __SANITIZE_ADDRESS__
  // Sanitizer builds only: the runtime probes whether memory is readable by
  // writing it into a pipe (sanitizer_common's IsAccessibleMemoryRange).
  static constexpr int kSanitizerAllowed[] = {SCMP_SYS(pipe2)};
  for (int nr : kSanitizerAllowed) {
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    if (rc != 0) return SeccompError(rc, "seccomp_rule_add");
  }
#endif

  struct Rule {
    int nr;
    scmp_arg_cmp cmp;
  };
  const pid_t self = getpid();
  const Rule kConditional[] = {
      // The protocol socket only: no talking to anything else it holds.
      {SCMP_SYS(sendmsg),
       SCMP_A0(SCMP_CMP_EQ, static_cast<uint64_t>(socket_fd))},
      {SCMP_SYS(recvmsg),
       SCMP_A0(SCMP_CMP_EQ, static_cast<uint64_t>(socket_fd))},
      // Memory for malloc, never executable: no code arrives after start.
      {SCMP_SYS(mmap), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)},
      {SCMP_SYS(mprotect), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)},
      // Signals to ourselves only (abort()).
      {SCMP_SYS(kill), SCMP_A0(SCMP_CMP_EQ, static_cast<uint64_t>(self))},
      {SCMP_SYS(tgkill), SCMP_A0(SCMP_CMP_EQ, static_cast<uint64_t>(self))},
      // Reading limits, never setting them.
      {SCMP_SYS(prlimit64), SCMP_A2(SCMP_CMP_EQ, 0)},
  };
  for (const Rule& r : kConditional) {
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r.nr, 1, r.cmp);
    if (rc != 0) return SeccompError(rc, "seccomp_rule_add");
  }
  // mknodat only for whiteouts: a character device numbered 0:0.
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mknodat), 2,
                            SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR),
                            SCMP_A3(SCMP_CMP_EQ, 0));
  if (rc != 0) return SeccompError(rc, "seccomp_rule_add");
  rc = seccomp_load(ctx);
  if (rc != 0) return SeccompError(rc, "seccomp_load");
  return absl::OkStatus();
}

absl::StatusOr<Confined> Confine(int socket_fd, const std::string& root_path) {
  Confined out;
  // Before chroot: /proc is not inside the tree. Open reads through it name
  // inodes by FD number, so it works from anywhere.
  out.proc_self_fd.reset(
      open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!out.proc_self_fd) {
    return absl::ErrnoToStatus(errno, "open /proc/self/fd");
  }
  out.root.reset(open(root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!out.root) {
    return absl::ErrnoToStatus(errno, absl::StrCat("open ", root_path));
  }
  // A stray printf must never land in a host file that reused FD 0 or 1.
  {
    UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
    for (int fd : {STDIN_FILENO, STDOUT_FILENO}) {
      if (null && fd != socket_fd && fd != DebugLogFd()) dup2(null.get(), fd);
    }
  }
  if (fchdir(out.root.get()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("chdir ", root_path));
  }
  if (chroot(".") == 0) {
    if (chdir("/") != 0) return absl::ErrnoToStatus(errno, "chdir /");
  } else if (errno == EPERM) {
    SENTRY_LOG(kWarning,
               "gofer: no chroot into %s (EPERM); relying on the walk checks",
               root_path);
  } else {
    return absl::ErrnoToStatus(errno, absl::StrCat("chroot ", root_path));
  }
  struct rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return absl::ErrnoToStatus(errno, "PR_SET_NO_NEW_PRIVS");
  }
  absl::Status s =
      CloseAllBut({STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, socket_fd,
                   out.root.get(), out.proc_self_fd.get(), DebugLogFd()});
  if (!s.ok()) return s;
  s = InstallSeccompFilter(socket_fd);
  if (!s.ok()) return s;
  return out;
}

}  // namespace sentry::gofer
