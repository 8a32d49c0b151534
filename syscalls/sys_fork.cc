// fork, vfork, clone, clone3, execve, execveat, wait4, waitid, and process
// groups and sessions (setpgid, getpgid, getpgrp, setsid, getsid).
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <variant>

#include "absl/time/time.h"
#include "sentry/base/log.h"
#include "sentry/kernel/exec.h"
#include "sentry/kernel/fork.h"
#include "syscalls/file_util.h"
#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

// Linux's limits on execve's arguments: MAX_ARG_STRLEN per string, and a
// quarter of the stack limit in total (checked by the loader).
constexpr size_t kMaxArgStrlen = 32 * 4096;
constexpr size_t kMaxArgs = 0x7fffffff / sizeof(uint64_t);

ErrnoOr<std::vector<std::string>> CopyInStrings(Task& t, UserAddr array) {
  std::vector<std::string> out;
  if (array.null()) return out;
  size_t total = 0;
  for (size_t i = 0;; ++i) {
    if (i >= kMaxArgs) return Errno(E2BIG);
    uint64_t ptr;
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(array.value + i * 8, &ptr, 8));
    if (ptr == 0) break;
    ErrnoOr<std::string> s = t.mm().CopyInString(ptr, kMaxArgStrlen - 1);
    if (!s.ok()) {
      return s.error() == Errno(ENAMETOOLONG) ? Errno(E2BIG) : s.error();
    }
    total += s->size() + 1;
    if (total > (2u << 20) * 16) return Errno(E2BIG);
    out.push_back(std::move(*s));
  }
  return out;
}

ErrnoOr<uint64_t> DoClone(Task& t, const kernel::CloneRequest& req) {
  SENTRY_ASSIGN_OR_RETURN(int pid, kernel::CloneProcess(t, req));
  return static_cast<uint64_t>(pid);
}

}  // namespace

ErrnoOr<uint64_t> Fork(Task& t) { return DoClone(t, {}); }

ErrnoOr<uint64_t> Vfork(Task& t) {
  kernel::CloneRequest req;
  req.flags = CLONE_VM | CLONE_VFORK;
  return DoClone(t, req);
}

ErrnoOr<uint64_t> Clone(Task& t, uint64_t flags, UserAddr stack,
                        UserAddr parent_tid, UserAddr child_tid, uint64_t tls) {
  kernel::CloneRequest req;
  req.flags = flags & ~uint64_t{CSIGNAL};
  req.exit_signal = static_cast<int>(flags & CSIGNAL);
  req.stack = stack.value;
  req.parent_tid = parent_tid.value;
  req.child_tid = child_tid.value;
  req.tls = tls;
  if (req.exit_signal > kernel::kMaxSignal) return Errno(EINVAL);
  return DoClone(t, req);
}

ErrnoOr<uint64_t> Clone3(Task& t, UserAddr uargs, uint64_t size) {
  struct clone_args args {};
  if (size < CLONE_ARGS_SIZE_VER0) return Errno(EINVAL);
  if (size > 4096) return Errno(E2BIG);
  SENTRY_RETURN_IF_ERRNO(
      t.mm().CopyIn(uargs.value, &args, std::min<size_t>(size, sizeof(args))));
  if (args.set_tid_size != 0 || args.cgroup != 0) return Errno(EINVAL);
  kernel::CloneRequest req;
  req.flags = args.flags;
  req.exit_signal = static_cast<int>(args.exit_signal);
  if (req.exit_signal > kernel::kMaxSignal) return Errno(EINVAL);
  req.stack = args.stack != 0 ? args.stack + args.stack_size : 0;
  req.parent_tid = args.parent_tid;
  req.child_tid = args.child_tid;
  req.tls = args.tls;
  return DoClone(t, req);
}

ErrnoOr<void> Unshare(Task& t, uint64_t flags) {
  constexpr uint64_t kNamespaces = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                                   CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |
                                   CLONE_NEWCGROUP | CLONE_NEWTIME;
  constexpr uint64_t kKnown = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM |
                              CLONE_FS | CLONE_FILES | CLONE_SYSVSEM |
                              kNamespaces;
  if (flags & ~kKnown) return Errno(EINVAL);
  // Sharing memory, handlers or the thread group can be given up only by
  // a process that has nothing to share them with.
  if ((flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)) &&
      t.group().Count() > 1) {
    return Errno(EINVAL);
  }
  // How we differ from Linux: the sandbox is one set of namespaces; new
  // ones are not emulated.
  if (flags & kNamespaces) return Errno(EINVAL);
  if (flags & CLONE_FILES) t.set_fds(t.fds().Clone());
  if (flags & CLONE_FS) t.ShareFs(nullptr);
  return {};
}

ErrnoOr<uint64_t> Execveat(Task& t, Fd dirfd, CString path, UserAddr argv,
                           UserAddr envp, int flags) {
  if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, path));
  SENTRY_ASSIGN_OR_RETURN(std::vector<std::string> args,
                          CopyInStrings(t, argv));
  SENTRY_ASSIGN_OR_RETURN(std::vector<std::string> env, CopyInStrings(t, envp));
  // The file to run, as a path the loader resolves from the cwd.
  std::string target = name;
  if (name.empty() ||
      (!name.empty() && name[0] != '/' && dirfd.value != AT_FDCWD)) {
    SENTRY_ASSIGN_OR_RETURN(vfs::Path start, StartFor(t, dirfd, name));
    SENTRY_ASSIGN_OR_RETURN(
        vfs::Path p,
        vfs::Lookup(t.resolver(), start, name,
                    ((flags & AT_SYMLINK_NOFOLLOW) ? 0 : vfs::kFollow) |
                        ((flags & AT_EMPTY_PATH) ? vfs::kEmptyPath : 0)));
    if (S_ISLNK(p.inode().Type())) return Errno(ELOOP);
    target = vfs::PathName(p, t.fs().root);
  }
  kernel::Kernel& k = t.kernel();
  absl::StatusOr<std::unique_ptr<platform::AddressSpace>> as =
      k.platform().NewAddressSpace();
  if (!as.ok()) return Errno(ENOMEM);
  std::shared_ptr<platform::AddressSpace> new_as(std::move(*as));
  auto mm = std::make_shared<mm::MemoryManager>(k.memory(), *new_as,
                                                k.platform().MinUserAddress(),
                                                k.platform().MaxUserAddress());
  auto old = t.SwapMemory(std::move(new_as), std::move(mm));
  std::variant<kernel::ExecResult, kernel::ExecFailure> loaded =
      kernel::LoadExecutable(t, target, std::move(args), env);
  if (auto* f = std::get_if<kernel::ExecFailure>(&loaded)) {
    // The old image is intact: the caller sees the error.
    t.SwapMemory(std::move(old.first), std::move(old.second));
    return Errno(f->errno_value);
  }
  kernel::ExecResult& r = std::get<kernel::ExecResult>(loaded);
  // Past the point of no return. De-thread: the other threads end (in the
  // old image, which they release), then the old image goes, and its stub
  // with it. A non-main thread first gives up its own stub thread in the
  // old image: the main thread's host thread, which traces the old stub's
  // main thread, tears the old image down when it hands the process over.
  if (!t.is_leader()) {
    old.first->ReleaseThread();
    old.second.reset();
    old.first.reset();
  }
  if (t.group().Count() > 1 && !t.group().KillOthers(&t)) {
    return Errno(EINTR);  // the process is exiting anyway
  }
  old.second.reset();
  old.first.reset();
  t.fds().CloseOnExec();
  // POSIX timers do not survive execve; ITIMER_REAL does.
  k.real_timers().DeletePosixTimers(t.pid());
  // Handled signals revert to their default; ignored ones stay ignored.
  for (auto& act : t.sigactions()) {
    if (act.handler != reinterpret_cast<uint64_t>(SIG_IGN)) {
      act = kernel::KernelSigaction{};
    } else {
      act.flags = 0;
      act.mask = 0;
      act.restorer = 0;
    }
  }
  t.executable() = r.executable;
  // Linux names the process after the file name execve was given (the
  // script's for #!, "exe" for /proc/self/exe), not the file it found.
  t.set_comm(name.empty() ? std::to_string(dirfd.value)
                          : name.substr(name.rfind('/') + 1));
  t.regs() = k.platform().InitialRegisters();
  t.regs().rip = r.program.entry;
  t.regs().rsp = r.program.stack_pointer;
  t.clear_child_tid() = 0;
  t.robust_list() = 0;
  // The old image's alternate signal stack is gone with it.
  t.altstack() = stack_t{nullptr, SS_DISABLE, 0};
  t.creds().keepcaps = false;
  t.saved_auxv().clear();
  for (const auto& [type, value] : r.program.auxv) {
    t.saved_auxv().push_back(type);
    t.saved_auxv().push_back(value);
  }
  t.ReleaseVforkParent();
  return uint64_t{0};
}

ErrnoOr<uint64_t> Execve(Task& t, CString path, UserAddr argv, UserAddr envp) {
  return Execveat(t, Fd{AT_FDCWD}, path, argv, envp, 0);
}

namespace {

// wait4/waitid's common core: the first matching child that exited,
// stopped or continued (as `which` asks). Reaping a child adds its CPU
// time (and its own reaped descendants') to the caller's children's.
ErrnoOr<std::optional<kernel::ChildStatus>> WaitChild(Task& t, int sel,
                                                      bool nohang, bool peek,
                                                      int which) {
  kernel::ProcessTable& table = t.kernel().processes();
  std::optional<kernel::ChildStatus> found;
  for (;;) {
    SENTRY_ASSIGN_OR_RETURN(found, table.TryWait(t.pid(), sel, peek, which));
    if (found && !peek && found->kind == kernel::ChildStatus::Kind::kExited) {
      t.group().AddChildrenCpu({found->user_ns, found->sys_ns});
    }
    if (found || nohang) return found;
    ErrnoOr<void> waited = t.Wait(&table.exits(), ~0u, [&] {
      ErrnoOr<std::optional<kernel::ChildStatus>> r =
          table.TryWait(t.pid(), sel, /*peek=*/true, which);
      return !r.ok() || r->has_value();
    });
    // -ERESTARTSYS: an SA_RESTART handler restarts the wait (wait(2)).
    if (!waited.ok()) return waited.error();
  }
}

// __WALL and __WCLONE as TryWait's kWait* bits (__WALL wins).
int CloneSelection(int options) {
  if (options & __WALL) return kernel::kWaitAll;
  return (options & __WCLONE) ? kernel::kWaitClone : 0;
}

// wait4/waitid's rusage: an exited child's CPU time with its reaped
// descendants' (Linux's RUSAGE_BOTH); other fields are not kept.
ErrnoOr<void> CopyOutChildUsage(Task& t, UserAddr rusage,
                                const kernel::ChildStatus& child) {
  if (rusage.null()) return {};
  struct rusage ru {};
  if (child.kind == kernel::ChildStatus::Kind::kExited) {
    ru.ru_utime = absl::ToTimeval(absl::Nanoseconds(child.user_ns));
    ru.ru_stime = absl::ToTimeval(absl::Nanoseconds(child.sys_ns));
  }
  return t.mm().CopyOut(rusage.value, &ru, sizeof(ru));
}

}  // namespace

ErrnoOr<uint64_t> Wait4(Task& t, int pid, UserAddr status, int options,
                        UserAddr rusage) {
  if (options &
      ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE)) {
    return Errno(EINVAL);
  }
  int which = kernel::kWaitExited;
  if (options & WUNTRACED) which |= kernel::kWaitStopped;
  if (options & WCONTINUED) which |= kernel::kWaitContinued;
  which |= CloneSelection(options);
  SENTRY_ASSIGN_OR_RETURN(std::optional<kernel::ChildStatus> child,
                          WaitChild(t, pid, options & WNOHANG, false, which));
  if (!child) return uint64_t{0};
  if (!status.null()) {
    int word = child->WaitStatus();
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(status.value, &word, sizeof(word)));
  }
  SENTRY_RETURN_IF_ERRNO(CopyOutChildUsage(t, rusage, *child));
  return static_cast<uint64_t>(child->pid);
}

ErrnoOr<void> Waitid(Task& t, int idtype, int id, UserAddr infop, int options,
                     UserAddr rusage) {
  if (options & ~(WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT |
                  __WNOTHREAD | __WALL | __WCLONE)) {
    return Errno(EINVAL);
  }
  if (!(options & (WEXITED | WSTOPPED | WCONTINUED))) return Errno(EINVAL);
  int sel;
  switch (idtype) {
    case P_ALL:
      sel = -1;
      break;
    case P_PID:
      if (id <= 0) return Errno(EINVAL);
      sel = id;
      break;
    case P_PGID:
      sel = id == 0 ? 0 : -id;
      break;
    default:
      return Errno(EINVAL);
  }
  int which = 0;
  if (options & WEXITED) which |= kernel::kWaitExited;
  if (options & WSTOPPED) which |= kernel::kWaitStopped;
  if (options & WCONTINUED) which |= kernel::kWaitContinued;
  which |= CloneSelection(options);
  SENTRY_ASSIGN_OR_RETURN(
      std::optional<kernel::ChildStatus> child,
      WaitChild(t, sel, options & WNOHANG, options & WNOWAIT, which));
  siginfo_t info{};
  if (child) {
    info.si_signo = SIGCHLD;
    info.si_pid = child->pid;
    info.si_uid = static_cast<uid_t>(child->uid);
    if (child->kind == kernel::ChildStatus::Kind::kStopped) {
      info.si_code = CLD_STOPPED;
      info.si_status = child->signal;
    } else if (child->kind == kernel::ChildStatus::Kind::kContinued) {
      info.si_code = CLD_CONTINUED;
      info.si_status = SIGCONT;
    } else if (child->signal != 0) {
      info.si_code = child->core ? CLD_DUMPED : CLD_KILLED;
      info.si_status = child->signal;
    } else {
      info.si_code = CLD_EXITED;
      info.si_status = child->code;
    }
  }
  if (!infop.null()) {
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(infop.value, &info, sizeof(info)));
  }
  if (!child) {
    if (rusage.null()) return {};
    struct rusage ru {};
    return t.mm().CopyOut(rusage.value, &ru, sizeof(ru));
  }
  return CopyOutChildUsage(t, rusage, *child);
}

ErrnoOr<void> Setpgid(Task& t, int pid, int pgid) {
  return t.kernel().processes().SetGroup(t.pid(), pid, pgid);
}

ErrnoOr<uint64_t> Getpgid(Task& t, int pid) {
  int target = pid == 0 ? t.pid() : pid;
  int pgid = t.kernel().processes().Group(target);
  if (pgid == 0) return Errno(ESRCH);
  return static_cast<uint64_t>(pgid);
}

ErrnoOr<uint64_t> Getpgrp(Task& t) { return Getpgid(t, 0); }

ErrnoOr<uint64_t> Setsid(Task& t) {
  SENTRY_ASSIGN_OR_RETURN(int sid, t.kernel().processes().NewSession(t.pid()));
  return static_cast<uint64_t>(sid);
}

ErrnoOr<uint64_t> Getsid(Task& t, int pid) {
  int target = pid == 0 ? t.pid() : pid;
  int sid = t.kernel().processes().Session(target);
  if (sid == 0) return Errno(ESRCH);
  return static_cast<uint64_t>(sid);
}

}  // namespace sentry::syscalls
