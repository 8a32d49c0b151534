// `sentry run`: starts a sandbox process (`sentry boot`) for one program,
// forwards signals to it and exits with the program's status.
//
// The CLI itself never runs guest code or touches the program: it resolves
// PROGRAM on PATH as a shell would and hands the rest to the sandbox
// process, the same split the OCI commands (create/start) will use.
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

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

  std::vector<std::string> boot = {"sentry", "boot",
                                   "--platform=" + flags.platform};
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
    execv("/proc/self/exe", boot_argv.data());
    _exit(kExitInternalError);
  }

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
