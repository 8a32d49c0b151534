// Parsing and validating an x86-64 ELF executable. Untrusted input: every
// offset and size is checked against the file before use, and each failure
// says in one phrase what is wrong with the file.
#ifndef SENTRY_LOADER_ELF_H_
#define SENTRY_LOADER_ELF_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sentry::loader {

struct ElfSegment {
  uint64_t vaddr = 0;
  uint64_t memsz = 0;
  uint64_t offset = 0;
  uint64_t filesz = 0;
  int prot = 0;  // PROT_* from p_flags
};

struct ElfInfo {
  bool position_independent = false;  // ET_DYN
  uint64_t entry = 0;
  uint64_t phoff = 0;
  uint16_t phnum = 0;
  // Where the program headers are in memory (before the load bias), if any
  // loaded segment contains them; AT_PHDR.
  std::optional<uint64_t> phdr_vaddr;
  std::vector<ElfSegment> loads;
  std::optional<std::string> interpreter;  // PT_INTERP
  bool executable_stack = false;           // PT_GNU_STACK with PF_X

  // Lowest and highest (exclusive) virtual address of the loaded segments.
  uint64_t min_vaddr() const;
  uint64_t max_vaddr() const;
};

// Parses `file`. Failures are InvalidArgument (exec format error) or
// FailedPrecondition (a valid ELF we cannot run), with a message fit for a
// user ("ELF for another architecture (aarch64)").
absl::StatusOr<ElfInfo> ParseElf(std::span<const uint8_t> file);

}  // namespace sentry::loader

#endif  // SENTRY_LOADER_ELF_H_
