// `sentry run`: starts a sandbox process (`sentry boot`) for one program,
// forwards signals to it and exits with the program's status.
//
// The CLI itself never runs guest code or touches the program: it resolves
// PROGRAM on PATH as a shell would and hands the rest to the sandbox
// process, the same split the OCI commands (create/start) will use.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cmd/sentry/commands.h"

namespace sentry::cmd {
namespace {

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         access(path.c_str(), X_OK) == 0;
}

// execvp's search: a name with a slash is used as is.
std::string ResolveProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = getenv("PATH");
  for (absl::string_view dir :
       absl::StrSplit(path ? path : "/usr/local/bin:/usr/bin:/bin", ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", name);
    if (IsExecutableFile(candidate)) return candidate;
  }
  return "";
}

// Starts a Gofer serving `root`; returns the Sentry's end of its socket, or
// -1 after printing why.
int StartGofer(const std::string& root, bool read_only) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    PrintError(absl::StrCat("cannot start the file server: ", strerror(errno)));
    return -1;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    PrintError(absl::StrCat("cannot start the file server: ", strerror(errno)));
    close(sv[0]);
    close(sv[1]);
    return -1;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(kExitInternalError);
    // Out of the terminal's process group: ^C is for the guest.
    setpgid(0, 0);
    int fd = dup(sv[1]);  // without FD_CLOEXEC
    std::string fd_flag = absl::StrCat("--fd=", fd);
    std::string root_flag = "--root=" + root;
    const char* argv[] = {"sentry",
                          "gofer",
                          fd_flag.c_str(),
                          root_flag.c_str(),
                          read_only ? "--ro" : nullptr,
                          nullptr};
    execv("/proc/self/exe", const_cast<char**>(argv));
    _exit(kExitInternalError);
  }
  close(sv[1]);
  return sv[0];
}

std::string HostCwd() {
  char buf[PATH_MAX];
  if (getcwd(buf, sizeof(buf)) == nullptr) return "/";
  return buf;
}

}  // namespace

int RunCommand(const std::vector<std::string>& args) {
  SandboxFlags flags;
  int first = ParseSandboxFlags(args, flags);
  if (first < 0) return 2;
  if (static_cast<size_t>(first) >= args.size()) {
    PrintError(
        "run: missing PROGRAM (usage: sentry run [flags] PROGRAM "
        "[ARGS...])");
    return 2;
  }
  if (flags.platform != "ptrace") {
    PrintError("unknown platform \"" + flags.platform +
               "\" (available: ptrace)");
    return 2;
  }
  const std::string& program = args[first];
  std::string path = ResolveProgram(program);
  if (path.empty()) {
    PrintError(program + ": command not found");
    return kExitNotFound;
  }

  // One Gofer per served tree: the root (read-only: the overlay keeps the
  // changes), the overlay's upper directory if on the host, each volume.
  std::vector<Volume> volumes;
  for (const std::string& spec : flags.volumes) {
    Volume v;
    if (!ParseVolume(spec, v)) return 2;
    struct stat st;
    if (stat(v.host.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      PrintError("--volume " + spec + ": " + v.host +
                 " is not a directory on the host");
      return 2;
    }
    volumes.push_back(v);
  }
  std::string upper_dir;
  if (absl::StartsWith(flags.overlay, "dir:")) {
    upper_dir = flags.overlay.substr(4);
    struct stat st;
    if (stat(upper_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      PrintError("--overlay=" + flags.overlay + ": " + upper_dir +
                 " is not a directory on the host");
      return 2;
    }
  }
  std::vector<int> gofer_fds;
  int root_fd = StartGofer("/", /*read_only=*/true);
  if (root_fd < 0) return kExitInternalError;
  gofer_fds.push_back(root_fd);
  std::vector<std::string> boot = {"sentry",
                                   "boot",
                                   "--platform=" + flags.platform,
                                   "--overlay=" + flags.overlay,
                                   flags.vdso ? "--vdso=on" : "--vdso=off",
                                   absl::StrCat("--root-fd=", root_fd),
                                   "--cwd=" + HostCwd()};
  if (!upper_dir.empty()) {
    int fd = StartGofer(upper_dir, /*read_only=*/false);
    if (fd < 0) return kExitInternalError;
    gofer_fds.push_back(fd);
    boot.push_back(absl::StrCat("--upper-fd=", fd));
  }
  for (const Volume& v : volumes) {
    int fd = StartGofer(v.host, v.read_only);
    if (fd < 0) return kExitInternalError;
    gofer_fds.push_back(fd);
    boot.push_back(absl::StrCat("--mount-fd=", v.guest, ":", fd, ":",
                                v.read_only ? "ro" : "rw"));
  }
  if (flags.strace) boot.push_back("--strace");
  if (!flags.debug_log.empty())
    boot.push_back("--debug-log=" + flags.debug_log);
  boot.push_back("--");
  boot.push_back(path);
  boot.insert(boot.end(), args.begin() + first, args.end());
  std::vector<char*> boot_argv;
  for (std::string& s : boot) boot_argv.push_back(s.data());
  boot_argv.push_back(nullptr);

  // Forwarded signals and SIGCHLD are taken synchronously below.
  sigset_t waited, old_mask;
  sigemptyset(&waited);
  for (int sig : kForwardedSignals) sigaddset(&waited, sig);
  sigaddset(&waited, SIGCHLD);
  sigprocmask(SIG_BLOCK, &waited, &old_mask);

  pid_t parent = getpid();
  pid_t sandbox = fork();
  if (sandbox < 0) {
    PrintError(absl::StrCat("cannot start the sandbox: ", strerror(errno)));
    return kExitInternalError;
  }
  if (sandbox == 0) {
    // The sandbox dies with its CLI, so `kill -9` of `sentry run` leaves
    // nothing behind.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(kExitInternalError);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    for (int fd : gofer_fds) fcntl(fd, F_SETFD, 0);  // inherited by boot
    execv("/proc/self/exe", boot_argv.data());
    _exit(kExitInternalError);
  }

  for (int fd : gofer_fds) close(fd);  // the Sentry holds them now
  int status = 0;
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&waited, &info);
    if (sig < 0) continue;
    if (sig == SIGCHLD) {
      if (waitpid(sandbox, &status, WNOHANG) == sandbox) break;
      continue;
    }
    // A signal from the terminal went to the whole foreground process
    // group, the sandbox included: only signals sent to us alone are
    // passed on.
    if (info.si_code == SI_KERNEL) continue;
    kill(sandbox, sig);
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  int sig = WTERMSIG(status);
  PrintError(absl::StrCat("the sandbox process was killed by signal ", sig,
                          " (", strsignal(sig), ")"));
  return 128 + sig;
}

}  // namespace sentry::cmd
