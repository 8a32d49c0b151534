// Loads a static ELF executable (ET_EXEC or static-PIE ET_DYN) into a fresh
// MemoryManager and builds the initial stack the x86-64 SysV ABI promises
// _start: argc, argv, envp, auxv, with the strings, AT_RANDOM bytes and
// platform string above them.
//
// Dynamic executables (PT_INTERP) get their interpreter (ld.so) loaded
// too, at a random address below the mmap base, and start there, as Linux
// does; the interpreter's bytes come through ExecArgs::read_interpreter.
#ifndef SENTRY_LOADER_LOADER_H_
#define SENTRY_LOADER_LOADER_H_

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
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
  // The executable's path for /proc/self/maps.
  std::string path;
  // The vDSO to map ([vvar] then [vdso], whose start is AT_SYSINFO_EHDR);
  // empty: none.
  std::vector<mm::KernelPages> vdso;
  // Reads the ELF interpreter (PT_INTERP) named by a dynamic executable,
  // through the sandbox's VFS. Unset: dynamic executables are refused.
  std::function<absl::StatusOr<std::vector<uint8_t>>(const std::string&)>
      read_interpreter;
};

struct LoadedProgram {
  uint64_t entry = 0;          // initial rip
  uint64_t stack_pointer = 0;  // initial rsp
  uint64_t load_bias = 0;
  uint64_t brk_start = 0;
  uint64_t interpreter_base = 0;  // AT_BASE, 0 for static executables
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
