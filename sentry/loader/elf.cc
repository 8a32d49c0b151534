#include "sentry/loader/elf.h"

#include <elf.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sentry::loader {
namespace {

constexpr uint64_t kPageSize = 4096;
// Linux refuses program header tables larger than this (elf_read_phdrs).
constexpr uint64_t kMaxPhdrTableSize = 65536;
// Anything at or above this cannot be a user address on x86-64.
constexpr uint64_t kUserLimit = 1ULL << 47;

absl::Status NotExecutable(absl::string_view why) {
  return absl::InvalidArgumentError(why);
}

const char* MachineName(uint16_t machine) {
  switch (machine) {
    case EM_386:
      return "i386";
    case EM_ARM:
      return "arm";
    case EM_AARCH64:
      return "aarch64";
    case EM_RISCV:
      return "riscv";
    case EM_PPC64:
      return "ppc64";
    case EM_S390:
      return "s390";
    case EM_MIPS:
      return "mips";
    default:
      return nullptr;
  }
}

int ProtFromFlags(uint32_t flags) {
  int prot = 0;
  if (flags & PF_R) prot |= PROT_READ;
  if (flags & PF_W) prot |= PROT_WRITE;
  if (flags & PF_X) prot |= PROT_EXEC;
  return prot;
}

}  // namespace

uint64_t ElfInfo::min_vaddr() const {
  uint64_t lo = ~0ULL;
  for (const ElfSegment& s : loads) lo = std::min(lo, s.vaddr);
  return lo;
}

uint64_t ElfInfo::max_vaddr() const {
  uint64_t hi = 0;
  for (const ElfSegment& s : loads) hi = std::max(hi, s.vaddr + s.memsz);
  return hi;
}

absl::StatusOr<ElfInfo> ParseElf(std::span<const uint8_t> file) {
  if (file.size() < SELFMAG || memcmp(file.data(), ELFMAG, SELFMAG) != 0) {
    return NotExecutable("not an ELF executable (exec format error)");
  }
  if (file.size() < sizeof(Elf64_Ehdr)) {
    return NotExecutable("truncated ELF file (incomplete ELF header)");
  }
  Elf64_Ehdr eh;
  memcpy(&eh, file.data(), sizeof(eh));
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) {
    return absl::FailedPreconditionError(
        "32-bit ELF executables are not supported (only x86-64)");
  }
  if (eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    return NotExecutable("big-endian ELF file (not x86-64)");
  }
  if (eh.e_machine != EM_X86_64) {
    const char* name = MachineName(eh.e_machine);
    return absl::FailedPreconditionError(
        absl::StrCat("ELF executable for another architecture (",
                     name ? name : absl::StrCat("e_machine ", eh.e_machine),
                     "); only x86-64 is supported"));
  }
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
    return NotExecutable(eh.e_type == ET_REL    ? "ELF relocatable object, not "
                                                  "an executable"
                         : eh.e_type == ET_CORE ? "ELF core dump, not an "
                                                  "executable"
                                                : "ELF file of unknown type");
  }
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) {
    return NotExecutable("malformed ELF file (bad program header size)");
  }
  uint64_t table_size = uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr);
  if (eh.e_phnum == 0 || table_size > kMaxPhdrTableSize) {
    return NotExecutable("malformed ELF file (bad program header count)");
  }
  if (eh.e_phoff > file.size() || table_size > file.size() - eh.e_phoff) {
    return NotExecutable(
        "truncated or corrupt ELF file (program headers beyond end of file)");
  }

  ElfInfo info;
  info.position_independent = eh.e_type == ET_DYN;
  info.entry = eh.e_entry;
  info.phoff = eh.e_phoff;
  info.phnum = eh.e_phnum;
  std::optional<uint64_t> pt_phdr;
  for (uint16_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    memcpy(&ph, file.data() + eh.e_phoff + i * sizeof(Elf64_Phdr), sizeof(ph));
    switch (ph.p_type) {
      case PT_LOAD: {
        if (ph.p_memsz == 0) break;  // Linux skips empty segments too.
        if (ph.p_filesz > ph.p_memsz) {
          return NotExecutable(
              "corrupt ELF file (segment file size > memory "
              "size)");
        }
        if (ph.p_offset > file.size() ||
            ph.p_filesz > file.size() - ph.p_offset) {
          return NotExecutable(
              "truncated ELF file (segment extends past end of file)");
        }
        if (ph.p_vaddr >= kUserLimit || ph.p_memsz > kUserLimit - ph.p_vaddr) {
          return NotExecutable(
              "corrupt ELF file (segment outside the user "
              "address space)");
        }
        if (ph.p_vaddr % kPageSize != ph.p_offset % kPageSize) {
          return NotExecutable(
              "corrupt ELF file (segment offset and address misaligned)");
        }
        info.loads.push_back(ElfSegment{.vaddr = ph.p_vaddr,
                                        .memsz = ph.p_memsz,
                                        .offset = ph.p_offset,
                                        .filesz = ph.p_filesz,
                                        .prot = ProtFromFlags(ph.p_flags)});
        break;
      }
      case PT_INTERP: {
        if (info.interpreter) {
          return NotExecutable("corrupt ELF file (two PT_INTERP headers)");
        }
        if (ph.p_filesz < 2 || ph.p_filesz > 4096 ||
            ph.p_offset > file.size() ||
            ph.p_filesz > file.size() - ph.p_offset ||
            file[ph.p_offset + ph.p_filesz - 1] != '\0') {
          return NotExecutable("corrupt ELF file (bad interpreter path)");
        }
        info.interpreter.emplace(
            reinterpret_cast<const char*>(file.data() + ph.p_offset));
        break;
      }
      case PT_GNU_STACK:
        info.executable_stack = (ph.p_flags & PF_X) != 0;
        break;
      case PT_PHDR:
        pt_phdr = ph.p_vaddr;
        break;
      default:
        break;
    }
  }
  if (info.loads.empty()) {
    return NotExecutable("ELF file has no loadable segments");
  }
  // Segments must not overlap in pages out of order: Linux maps them in
  // header order and requires ascending addresses for ET_DYN sizing.
  for (size_t i = 1; i < info.loads.size(); ++i) {
    if (info.loads[i].vaddr < info.loads[i - 1].vaddr) {
      return NotExecutable("corrupt ELF file (segments out of order)");
    }
  }
  if (pt_phdr) {
    info.phdr_vaddr = pt_phdr;
  } else {
    for (const ElfSegment& s : info.loads) {
      if (eh.e_phoff >= s.offset &&
          eh.e_phoff + table_size <= s.offset + s.filesz) {
        info.phdr_vaddr = s.vaddr + (eh.e_phoff - s.offset);
        break;
      }
    }
  }
  return info;
}

}  // namespace sentry::loader
