// The one x86-64 syscall table (rows in linux64.inc): dispatch, --strace,
// the unimplemented-syscall log, `sentry syscalls` and
// docs/compatibility.md all read it.
#ifndef SYSCALLS_TABLE_H_
#define SYSCALLS_TABLE_H_

#include <cstdint>
#include <span>
#include <string>

#include "sentry/kernel/task.h"
#include "syscalls/args.h"

namespace sentry::syscalls {

enum class Support { kFull, kPartial, kNone };

// Returns the raw result: a value, or -errno.
using Handler = int64_t (*)(kernel::Task&, const SyscallArgs&);
// Formats the arguments for --strace.
using ArgFormatter = std::string (*)(kernel::Task&, const SyscallArgs&);

struct SyscallInfo {
  int nr;
  const char* name;
  int nargs;
  Support support;
  Handler handler;      // null when unsupported
  ArgFormatter format;  // null when unsupported
  const char* note;
};

// Every row, in number order.
std::span<const SyscallInfo> AllSyscalls();
// The row for `nr`, or null for a number Linux does not define.
const SyscallInfo* LookupSyscall(uint64_t nr);

const char* SupportName(Support s);

// Handles the syscall in `task`'s registers: runs the handler (or returns
// ENOSYS and logs the first use of an unimplemented syscall), writes the
// result to rax, and prints the --strace line.
void Dispatch(kernel::Task& task);

}  // namespace sentry::syscalls

#endif  // SYSCALLS_TABLE_H_
