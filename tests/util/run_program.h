// RunProgram: run a program in a child process with its stdin fed from a
// string and its stdout/stderr captured, under a timeout. Used by the
// integration tests to run guests natively and under `sentry run`.
#ifndef SENTRY_TESTS_UTIL_RUN_PROGRAM_H_
#define SENTRY_TESTS_UTIL_RUN_PROGRAM_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace sentry::testing {

struct RunResult {
  // Everything the child (and anything that inherited its stdout/stderr)
  // wrote before the pipes closed. Not named stdout/stderr: those are macros.
  std::string stdout_data;
  std::string stderr_data;
  // Raw status from waitpid(); meaningless if exec_errno != 0.
  int wait_status = 0;
  // The timeout expired: the child's process group was SIGKILLed.
  bool timed_out = false;
  // execve() itself failed in the child with this errno (the child then
  // exited 127 without running anything); 0 when exec succeeded.
  int exec_errno = 0;
  // The child exited, but something still held its stdout or stderr open
  // a few seconds later (e.g. a leaked grandchild); output may be partial.
  bool stdio_left_open = false;
  // From fork to the end of waiting.
  absl::Duration elapsed;

  bool exited() const;
  int exit_code() const;  // -1 unless exited()
  bool signaled() const;
  int term_signal() const;  // 0 unless signaled()
  // "exited 0", "killed by signal 11 (SIGSEGV)", "timed out", ...
  std::string DescribeStatus() const;
  // DescribeStatus plus the captured output, for test failure messages.
  std::string Describe() const;
};

struct RunOptions {
  absl::Duration timeout = absl::Seconds(30);
  std::string stdin_data;
  // When non-empty, `signal_to_send` is sent to the child (its pid only,
  // not its process group) once its stdout contains this text.
  std::string signal_when_stdout_contains;
  int signal_to_send = 0;
};

// Runs argv[0] (a path; PATH is not searched) with arguments argv, the
// caller's environment, stdin a pipe carrying `stdin_data` (then EOF), and
// stdout/stderr pipes. The child runs in a new process group with all
// signal dispositions reset to default and an empty signal mask. If it has
// not exited after `timeout`, its process group is killed with SIGKILL and
// the result has timed_out set. Once the child has exited and its output
// is drained, anything left in its process group is killed too.
RunResult RunProgram(const std::vector<std::string>& argv,
                     absl::Duration timeout,
                     const std::string& stdin_data = "");
RunResult RunProgram(const std::vector<std::string>& argv,
                     const RunOptions& options);

// "SIGSEGV" for 11 etc.; "signal N" for numbers without a name.
std::string SignalName(int signo);

}  // namespace sentry::testing

#endif  // SENTRY_TESTS_UTIL_RUN_PROGRAM_H_
