// Loads a static ELF executable (ET_EXEC or static-PIE ET_DYN) into a fresh
// MemoryManager and builds the initial stack the x86-64 SysV ABI promises
// _start: argc, argv, envp, auxv, with the strings, AT_RANDOM bytes and
// platform string above them.
//
// Dynamic executables (PT_INTERP) need the interpreter to be read through
// the VFS, which this loader does not have yet: they are refused with a
// clear message.
#ifndef SENTRY_LOADER_LOADER_H_
#define SENTRY_LOADER_LOADER_H_

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sentry/loader/elf.h"
#include "sentry/mm/memory_manager.h"

namespace sentry::loader {

struct ExecArgs {
  std::vector<std::string> argv;
  std::vector<std::string> envp;
  std::string execfn;  // AT_EXECFN: the path as given
  uid_t uid = 0, euid = 0;
  gid_t gid = 0, egid = 0;
  uint64_t stack_size = 8 << 20;  // RLIMIT_STACK's soft value
};

struct LoadedProgram {
  uint64_t entry = 0;          // initial rip
  uint64_t stack_pointer = 0;  // initial rsp
  uint64_t load_bias = 0;
  uint64_t brk_start = 0;
  std::vector<std::pair<uint64_t, uint64_t>> auxv;
};

// Loads `file` into `mm` (which must be empty). Errors: InvalidArgument or
// FailedPrecondition for a file that cannot be run (see ParseElf),
// ResourceExhausted for E2BIG/ENOMEM.
absl::StatusOr<LoadedProgram> LoadProgram(mm::MemoryManager& mm,
                                          std::span<const uint8_t> file,
                                          const ExecArgs& args);

}  // namespace sentry::loader

#endif  // SENTRY_LOADER_LOADER_H_
