// `sentry gofer --fd=N --root=PATH [--ro]`: the internal subcommand that
// `run` starts once per served tree (the root, each volume). It confines
// itself to PATH and serves it on socket FD N until the Sentry hangs up.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "cmd/sentry/commands.h"
#include "gofer/gofer_main.h"

namespace sentry::cmd {

int GoferCommand(const std::vector<std::string>& args) {
  int fd = -1;
  std::string root;
  bool read_only = false;
  for (const std::string& a : args) {
    if (absl::StartsWith(a, "--fd=")) {
      fd = std::atoi(a.c_str() + strlen("--fd="));
    } else if (absl::StartsWith(a, "--root=")) {
      root = a.substr(strlen("--root="));
    } else if (a == "--ro") {
      read_only = true;
    } else {
      PrintError("gofer: unknown argument " + a);
      return 2;
    }
  }
  if (fd < 0 || root.empty()) {
    PrintError("gofer: usage: sentry gofer --fd=N --root=PATH [--ro]");
    return 2;
  }
  // Signals meant for the guest (a terminal's ^C reaches the whole process
  // group) must not take the file server down; it ends when the Sentry
  // closes the connection.
  for (int sig : kForwardedSignals) signal(sig, SIG_IGN);
  // _exit: the seccomp filter forbids what exit handlers might do.
  _exit(gofer::GoferMain(fd, root, read_only));
}

}  // namespace sentry::cmd
