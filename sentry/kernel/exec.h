// Loading a program image for a task through the VFS: the part of execve(2)
// that finds the file (PATH lookup is the caller's), checks it may be
// executed, follows "#!" interpreter lines, and loads the ELF and its
// dynamic linker into the task's (empty) address space.
#ifndef SENTRY_KERNEL_EXEC_H_
#define SENTRY_KERNEL_EXEC_H_

#include <string>
#include <vector>

#include "sentry/kernel/task.h"
#include "sentry/loader/loader.h"

namespace sentry::kernel {

struct ExecFailure {
  int errno_value;      // what execve would return
  std::string message;  // one line for a person
};

struct ExecResult {
  loader::LoadedProgram program;
  vfs::Path executable;  // the file finally loaded (for /proc/self/exe)
};

// Loads `path` (resolved from the task's cwd) with `argv` and `envp`.
// Scripts run their interpreter, up to 4 levels deep (ELOOP beyond), with
// argv as Linux builds it: interpreter, optional argument, script path,
// argv[1...].
std::variant<ExecResult, ExecFailure> LoadExecutable(
    Task& task, const std::string& path, std::vector<std::string> argv,
    const std::vector<std::string>& envp);

}  // namespace sentry::kernel

#endif  // SENTRY_KERNEL_EXEC_H_
