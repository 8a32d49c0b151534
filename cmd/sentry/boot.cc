// `sentry boot` (internal): the sandbox process. It hosts the Sentry for one
// program: creates the MemoryFile and platform, loads the program, gives it
// the caller's stdio, runs it, and exits with its status.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <span>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmd/sentry/commands.h"
#include "cmd/sentry/mounts.h"
#include "platform/platforms.h"
#include "sentry/base/log.h"
#include "sentry/fs/mounts.h"
#include "sentry/fs/procfs.h"
#include "sentry/kernel/exec.h"
#include "sentry/kernel/fork.h"
#include "sentry/kernel/host_file.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/vfs.h"
#include "syscalls/handlers.h"
#include "syscalls/table.h"

extern char** environ;

namespace sentry::cmd {
namespace {

std::string DescribeDeath(const std::string& program,
                          const kernel::ExitStatus& st) {
  const char* abbrev = sigabbrev_np(st.signal);
  std::string line = absl::StrFormat(
      "%s: killed by SIG%s (%s)", program, abbrev ? abbrev : "?",
      sigdescr_np(st.signal) ? sigdescr_np(st.signal) : "unknown signal");
  if (st.fault_info.si_signo != 0) {
    line += absl::StrFormat(" at address %p, pc %#x", st.fault_info.si_addr,
                            st.fault_pc);
  }
  return line;
}

}  // namespace

int BootCommand(const std::vector<std::string>& args) {
  SandboxFlags flags;
  int first = ParseSandboxFlags(args, flags);
  if (first < 0) return 2;
  // -- PATH ARGV0 [ARGS...]
  if (args.size() < static_cast<size_t>(first) + 2) {
    PrintError("boot: expected PATH ARGV0 [ARGS...]");
    return 2;
  }
  const std::string& path = args[first];
  std::vector<std::string> guest_argv(args.begin() + first + 1, args.end());

  if (!flags.debug_log.empty()) {
    if (absl::Status s = OpenDebugLog(flags.debug_log); !s.ok()) {
      PrintError(std::string(s.message()));
      return kExitInternalError;
    }
  }
  // EPIPE on a host stdio pipe is the guest's SIGPIPE, not the Sentry's.
  signal(SIGPIPE, SIG_IGN);
  // Forwarded signals are received by one thread, below; no other thread
  // may take them.
  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (int sig : kForwardedSignals) sigaddset(&forwarded, sig);
  pthread_sigmask(SIG_BLOCK, &forwarded, nullptr);

  absl::StatusOr<std::unique_ptr<mm::MemoryFile>> memory =
      mm::MemoryFile::Create();
  if (!memory.ok()) {
    PrintError(absl::StrCat("cannot create sandbox memory: ",
                            memory.status().message()));
    return kExitInternalError;
  }
  absl::StatusOr<std::unique_ptr<platform::Platform>> platform =
      platform::CreatePlatform(flags.platform, (*memory)->fd());
  if (!platform.ok()) {
    PrintError(std::string(platform.status().message()));
    return kExitInternalError;
  }
  kernel::KernelOptions options;
  options.strace = flags.strace;
  char hostname[256] = {};
  if (gethostname(hostname, sizeof(hostname) - 1) == 0) {
    options.hostname = hostname;
  }
  kernel::Kernel kernel(options, std::move(*memory), std::move(*platform),
                        &syscalls::Dispatch);
  if (flags.vdso) {
    absl::StatusOr<std::unique_ptr<kernel::Vdso>> vdso =
        kernel::Vdso::Create(kernel.memory());
    if (!vdso.ok()) {
      PrintError(std::string(vdso.status().message()));
      return kExitInternalError;
    }
    kernel.set_vdso(std::move(*vdso));
  }

  absl::StatusOr<std::unique_ptr<platform::AddressSpace>> as =
      kernel.platform().NewAddressSpace();
  if (!as.ok()) {
    PrintError(absl::StrCat("cannot start the platform (", flags.platform,
                            "): ", as.status().message()));
    return kExitInternalError;
  }
  auto mm = std::make_unique<mm::MemoryManager>(
      kernel.memory(), **as, kernel.platform().MinUserAddress(),
      kernel.platform().MaxUserAddress());

  if (absl::Status st = BuildMountNamespace(kernel, flags); !st.ok()) {
    PrintError(std::string(st.message()));
    return kExitInternalError;
  }
  if (absl::Status st = fs::MountSpecialFilesystems(kernel); !st.ok()) {
    PrintError(std::string(st.message()));
    return kExitInternalError;
  }
  // mount(2) of "proc" inside the sandbox makes another procfs.
  syscalls::ProcMountFactory() =
      [](kernel::Task& t) -> std::shared_ptr<vfs::Mount> {
    absl::StatusOr<std::shared_ptr<vfs::Mount>> m = fs::MakeProcfs(t.kernel());
    return m.ok() ? *m : nullptr;
  };

  kernel::Task task(kernel,
                    std::shared_ptr<platform::AddressSpace>(std::move(*as)),
                    std::shared_ptr<mm::MemoryManager>(std::move(mm)));
  task.creds() = {.ruid = getuid(),
                  .euid = geteuid(),
                  .suid = geteuid(),
                  .fsuid = geteuid(),
                  .rgid = getgid(),
                  .egid = getegid(),
                  .sgid = getegid(),
                  .fsgid = getegid(),
                  .groups = {}};
  task.fs().root = kernel.mounts()->root();
  task.fs().cwd = task.fs().root;
  // The caller's working directory, if the guest can see it.
  if (ErrnoOr<vfs::Path> cwd =
          vfs::Lookup(task.resolver(), task.fs().root, flags.cwd, vfs::kFollow);
      cwd.ok() && S_ISDIR(cwd->inode().Type())) {
    task.fs().cwd = *cwd;
  }
  for (int fd = 0; fd < 3; ++fd) {
    if (fcntl(fd, F_GETFD) < 0) continue;  // not open: not the guest's either
    absl::StatusOr<std::shared_ptr<kernel::HostFile>> file =
        kernel::HostFile::Import(fd);
    if (!file.ok()) {
      PrintError(std::string(file.status().message()));
      return kExitInternalError;
    }
    (void)task.fds().InstallAt(fd, std::move(*file), /*cloexec=*/false,
                               RLIM_INFINITY);
  }

  std::vector<std::string> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.emplace_back(*e);
  std::variant<kernel::ExecResult, kernel::ExecFailure> loaded =
      kernel::LoadExecutable(task, path, guest_argv, envp);
  if (auto* f = std::get_if<kernel::ExecFailure>(&loaded)) {
    PrintError(f->message);
    return f->errno_value == ENOENT || f->errno_value == ENOTDIR
               ? kExitNotFound
               : kExitCannotExecute;
  }
  kernel::ExecResult& exec = std::get<kernel::ExecResult>(loaded);
  task.regs().rip = exec.program.entry;
  task.regs().rsp = exec.program.stack_pointer;
  for (const auto& [type, value] : exec.program.auxv) {
    task.saved_auxv().push_back(type);
    task.saved_auxv().push_back(value);
  }
  task.executable() = exec.executable;
  task.set_comm(path.substr(path.rfind('/') + 1));

  std::thread([&task, forwarded] {
    for (;;) {
      int sig = sigwaitinfo(&forwarded, nullptr);
      if (sig > 0) task.QueueSignal(sig);
    }
  }).detach();

  SENTRY_LOG(kInfo, "starting %s: entry %#x sp %#x", path, exec.program.entry,
             exec.program.stack_pointer);
  kernel.processes().AddInit(&task);
  std::optional<kernel::ExitStatus> init_status =
      kernel::FinishThread(task, task.Run());
  // If a thread of init exec'd, it is init now and reports the end.
  kernel::ExitStatus status =
      init_status ? *init_status : task.group().WaitReportedExit();
  // PID 1 is gone: so is every other process in the sandbox (as when a
  // PID namespace's init dies). Their threads are waited for so nothing
  // runs while the kernel is torn down.
  kernel.processes().Exited(1, kernel::ChildStatus{}, true);
  kernel.processes().ForEachLive(
      [](kernel::Task& t) { t.QueueSignal(SIGKILL); });
  if (!kernel.WaitForChildThreads(absl::Seconds(10))) {
    SENTRY_LOG(kError, "processes still running 10 s after init exited");
    PrintError("processes did not die after the program exited");
    _exit(status.signal != 0 ? 128 + status.signal : status.code);
  }
  if (status.signal != 0) {
    SENTRY_LOG(kInfo, "guest killed by signal %d", status.signal);
    if (kernel::DefaultActionOf(status.signal) ==
        kernel::DefaultAction::kCore) {
      PrintError(DescribeDeath(guest_argv[0], status));
    }
    return 128 + status.signal;
  }
  SENTRY_LOG(kInfo, "guest exited with %d", status.code);
  return status.code;
}

}  // namespace sentry::cmd
