#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "cmd/sentry/commands.h"

namespace sentry::cmd {

void PrintError(const std::string& message) {
  std::string line = "sentry: " + message + "\n";
  (void)!write(STDERR_FILENO, line.data(), line.size());
}

int ParseSandboxFlags(const std::vector<std::string>& args,
                      SandboxFlags& flags) {
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") return static_cast<int>(i + 1);
    if (!absl::StartsWith(a, "-")) break;
    if (absl::StartsWith(a, "--platform=")) {
      flags.platform = a.substr(strlen("--platform="));
    } else if (a == "--vdso=on" || a == "--vdso=off") {
      flags.vdso = a == "--vdso=on";
    } else if (a == "--strace") {
      flags.strace = true;
    } else if (absl::StartsWith(a, "--debug-log=")) {
      flags.debug_log = a.substr(strlen("--debug-log="));
      if (flags.debug_log.empty()) {
        PrintError("--debug-log needs a file name");
        return -1;
      }
    } else if (absl::StartsWith(a, "--overlay=")) {
      flags.overlay = a.substr(strlen("--overlay="));
      if (flags.overlay != "memory" && flags.overlay != "none" &&
          !(absl::StartsWith(flags.overlay, "dir:") &&
            flags.overlay.size() > 4)) {
        PrintError("--overlay must be memory, none or dir:PATH");
        return -1;
      }
    } else if (a == "--volume" || a == "-v") {
      if (i + 1 >= args.size()) {
        PrintError(a + " needs HOST:GUEST[:ro]");
        return -1;
      }
      flags.volumes.push_back(args[++i]);
    } else if (absl::StartsWith(a, "--volume=")) {
      flags.volumes.push_back(a.substr(strlen("--volume=")));
    } else if (absl::StartsWith(a, "--root-fd=")) {
      flags.root_fd = std::atoi(a.c_str() + strlen("--root-fd="));
    } else if (absl::StartsWith(a, "--upper-fd=")) {
      flags.upper_fd = std::atoi(a.c_str() + strlen("--upper-fd="));
    } else if (absl::StartsWith(a, "--mount-fd=")) {
      flags.mount_fds.push_back(a.substr(strlen("--mount-fd=")));
    } else if (absl::StartsWith(a, "--cwd=")) {
      flags.cwd = a.substr(strlen("--cwd="));
    } else {
      PrintError("unknown flag " + a + " (try 'sentry help')");
      return -1;
    }
  }
  return static_cast<int>(i);
}

bool ParseVolume(const std::string& spec, Volume& out) {
  std::vector<std::string> parts = absl::StrSplit(spec, ':');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() ||
      parts[1].empty() || parts[1][0] != '/') {
    PrintError("--volume \"" + spec +
               "\": expected HOST:GUEST[:ro] with an absolute GUEST path");
    return false;
  }
  out.host = parts[0];
  out.guest = parts[1];
  if (parts.size() == 3) {
    if (parts[2] != "ro" && parts[2] != "rw") {
      PrintError("--volume \"" + spec + "\": the mode must be ro or rw");
      return false;
    }
    out.read_only = parts[2] == "ro";
  }
  return true;
}

}  // namespace sentry::cmd
