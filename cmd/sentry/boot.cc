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
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmd/sentry/commands.h"
#include "platform/platforms.h"
#include "sentry/base/log.h"
#include "sentry/fs/mounts.h"
#include "sentry/fs/tmpfs.h"
#include "sentry/kernel/host_file.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/memory_manager.h"
#include "syscalls/table.h"

extern char** environ;

namespace sentry::cmd {
namespace {

// The program file, mapped read-only for the loader.
class ProgramImage {
 public:
  ~ProgramImage() {
    if (data_ != nullptr) munmap(data_, size_);
  }
  // Returns an exit code and prints one line on failure, 0 on success.
  int Open(const std::string& path) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      int err = errno;
      PrintError(absl::StrCat(path, ": ", strerror(err)));
      return err == ENOENT || err == ENOTDIR ? kExitNotFound
                                             : kExitCannotExecute;
    }
    struct stat st;
    if (fstat(fd.get(), &st) != 0) {
      PrintError(absl::StrCat(path, ": ", strerror(errno)));
      return kExitCannotExecute;
    }
    if (S_ISDIR(st.st_mode)) {
      PrintError(path + ": is a directory");
      return kExitCannotExecute;
    }
    if (!S_ISREG(st.st_mode)) {
      PrintError(path + ": not a regular file");
      return kExitCannotExecute;
    }
    if (access(path.c_str(), X_OK) != 0) {
      PrintError(path + ": permission denied (not executable)");
      return kExitCannotExecute;
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      void* p = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
      if (p == MAP_FAILED) {
        PrintError(absl::StrCat(path, ": ", strerror(errno)));
        return kExitCannotExecute;
      }
      data_ = static_cast<uint8_t*>(p);
    }
    return 0;
  }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

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

  ProgramImage image;
  if (int rc = image.Open(path); rc != 0) return rc;

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

  loader::ExecArgs exec;
  exec.argv = guest_argv;
  for (char** e = environ; *e != nullptr; ++e) exec.envp.emplace_back(*e);
  exec.execfn = path;
  exec.uid = getuid();
  exec.euid = geteuid();
  exec.gid = getgid();
  exec.egid = getegid();
  struct rlimit stack;
  if (getrlimit(RLIMIT_STACK, &stack) == 0 && stack.rlim_cur != RLIM_INFINITY) {
    exec.stack_size = stack.rlim_cur;
  }
  absl::StatusOr<loader::LoadedProgram> loaded =
      loader::LoadProgram(*mm, image.bytes(), exec);
  if (!loaded.ok()) {
    PrintError(absl::StrCat(path, ": ", loaded.status().message()));
    return absl::IsInternal(loaded.status()) ? kExitInternalError
                                             : kExitCannotExecute;
  }

  // The root file system: an empty tmpfs until the Gofer-backed overlay
  // is wired in.
  std::shared_ptr<fs::Tmpfs> rootfs =
      fs::Tmpfs::Create(kernel.memory(), fs::TmpfsOptions{});
  auto root_mount = std::make_shared<vfs::Mount>(
      "tmpfs", "none", std::make_shared<vfs::Dentry>(rootfs->MakeRoot()),
      vfs::MountFlags{});
  kernel.set_mounts(std::make_unique<vfs::MountNamespace>(root_mount));
  if (absl::Status s = fs::MountSpecialFilesystems(kernel); !s.ok()) {
    PrintError(std::string(s.message()));
    return kExitInternalError;
  }

  kernel::Task task(kernel, std::move(*as), std::move(mm));
  task.fs().root = kernel.mounts()->root();
  task.fs().cwd = task.fs().root;
  // For /proc/self/{cmdline,environ,comm}.
  task.argv() = exec.argv;
  task.envp() = exec.envp;
  task.regs().rip = loaded->entry;
  task.regs().rsp = loaded->stack_pointer;
  task.creds() = {.ruid = exec.uid,
                  .euid = exec.euid,
                  .suid = exec.euid,
                  .rgid = exec.gid,
                  .egid = exec.egid,
                  .sgid = exec.egid,
                  .groups = {}};
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

  std::thread([&task, forwarded] {
    for (;;) {
      int sig = sigwaitinfo(&forwarded, nullptr);
      if (sig > 0) task.QueueSignal(sig);
    }
  }).detach();

  SENTRY_LOG(kInfo, "starting %s: entry %#x sp %#x", path, loaded->entry,
             loaded->stack_pointer);
  kernel::ExitStatus status = task.Run();
  if (status.signal != 0) {
    SENTRY_LOG(kInfo, "guest killed by signal %d", status.signal);
    if (status.core) PrintError(DescribeDeath(guest_argv[0], status));
    return 128 + status.signal;
  }
  SENTRY_LOG(kInfo, "guest exited with %d", status.code);
  return status.code;
}

}  // namespace sentry::cmd
