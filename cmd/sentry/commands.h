// The `sentry` command line: one function per subcommand, each taking the
// arguments after the subcommand's name and returning the exit code.
#ifndef CMD_SENTRY_COMMANDS_H_
#define CMD_SENTRY_COMMANDS_H_

#include <signal.h>

#include <string>
#include <vector>

namespace sentry::cmd {

// Exit codes for failures of the Sentry itself, chosen as a shell's: the
// guest's own codes pass through unchanged.
inline constexpr int kExitInternalError = 125;
inline constexpr int kExitCannotExecute = 126;
inline constexpr int kExitNotFound = 127;

// Signals that `sentry run` passes to the sandbox and the sandbox passes
// to the guest.
inline constexpr int kForwardedSignals[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
                                            SIGUSR1, SIGUSR2, SIGWINCH};

// Flags shared by `run` and the internal `boot`.
struct SandboxFlags {
  std::string platform = "ptrace";
  // Map the Sentry's vDSO into guests (--vdso=off makes every time call
  // trap, for debugging and for measuring what the vDSO saves).
  bool vdso = true;
  bool strace = false;
  std::string debug_log;
  // Where the root's changes go: "memory" (an overlay upper layer in
  // sandbox memory, gone at exit), "dir:PATH" (an upper layer in a host
  // directory, kept), or "none" (the root is read-only).
  std::string overlay = "memory";
  // --volume HOST:GUEST[:ro], bind mounts of host directories.
  std::vector<std::string> volumes;

  // Internal flags from `run` to `boot`: the Gofer connections and the
  // guest's working directory.
  int root_fd = -1;
  int upper_fd = -1;
  std::vector<std::string> mount_fds;  // GUEST:FD:ro|rw
  std::string cwd = "/";
};

// One parsed --volume.
struct Volume {
  std::string host;
  std::string guest;
  bool read_only = false;
};
// Parses HOST:GUEST[:ro|rw]; false after printing one line if malformed.
bool ParseVolume(const std::string& spec, Volume& out);

int RunCommand(const std::vector<std::string>& args);
int BootCommand(const std::vector<std::string>& args);
int SyscallsCommand(const std::vector<std::string>& args);
int GoferCommand(const std::vector<std::string>& args);

// Parses the leading --flags of `args` into `flags`, stopping at the first
// non-flag or after "--". Returns the index of the first remaining argument,
// or -1 after printing one line about a bad flag.
int ParseSandboxFlags(const std::vector<std::string>& args,
                      SandboxFlags& flags);

// Prints "sentry: <message>" on stderr.
void PrintError(const std::string& message);

}  // namespace sentry::cmd

#endif  // CMD_SENTRY_COMMANDS_H_
