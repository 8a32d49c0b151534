#include <unistd.h>

#include <cstring>
#include <string>

#include "absl/strings/match.h"
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
    } else if (a == "--strace") {
      flags.strace = true;
    } else if (absl::StartsWith(a, "--debug-log=")) {
      flags.debug_log = a.substr(strlen("--debug-log="));
      if (flags.debug_log.empty()) {
        PrintError("--debug-log needs a file name");
        return -1;
      }
    } else {
      PrintError("unknown flag " + a + " (try 'sentry help')");
      return -1;
    }
  }
  return static_cast<int>(i);
}

}  // namespace sentry::cmd
