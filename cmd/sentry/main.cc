// sentry: run Linux programs in a user-space kernel sandbox.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cmd/sentry/commands.h"

namespace {

constexpr char kUsage[] =
    "usage: sentry <command> [flags] [args]\n"
    "\n"
    "commands:\n"
    "  run [--platform=ptrace] [--strace] [--debug-log=FILE] [--vdso=off]\n"
    "      [--overlay=memory|dir:PATH|none] [--volume HOST:GUEST[:ro]]...\n"
    "      PROGRAM [ARGS...]\n"
    "      run PROGRAM in a new sandbox; exits with its status. The host's /\n"
    "      is the guest's root, read-only; writes go to an overlay in memory\n"
    "      (default), or in host directory PATH, and vanish at exit unless\n"
    "      kept there\n"
    "  syscalls [--format=text|markdown]\n"
    "      list every x86-64 syscall and how well the Sentry supports it\n"
    "  help\n"
    "      print this message\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fputs(kUsage, stderr);
    return 2;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "run") return sentry::cmd::RunCommand(args);
  if (command == "boot") return sentry::cmd::BootCommand(args);
  if (command == "syscalls") return sentry::cmd::SyscallsCommand(args);
  if (command == "gofer") return sentry::cmd::GoferCommand(args);
  if (command == "help" || command == "--help" || command == "-h") {
    fputs(kUsage, stdout);
    return 0;
  }
  sentry::cmd::PrintError("unknown command \"" + command +
                          "\" (try 'sentry help')");
  return 2;
}
