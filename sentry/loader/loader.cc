#include "sentry/loader/loader.h"

#include <elf.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sentry::loader {
namespace {

using mm::kPageSize;
using mm::PageDown;
using mm::PageUp;

// Linux's ELF_ET_DYN_BASE for x86-64: 2/3 of TASK_SIZE.
constexpr uint64_t kEtDynBase = 0x555555554000;
// Address randomisation ranges, as bits of page-granular entropy. Smaller
// than Linux's (28 bits for mmap) but keep layouts unpredictable.
constexpr uint64_t kStackRandomPages = 1 << 16;  // 256 MiB
constexpr uint64_t kMmapRandomPages = 1 << 18;   // 1 GiB
constexpr uint64_t kBiasRandomPages = 1 << 16;   // 256 MiB
constexpr uint64_t kBrkRandomPages = 1 << 13;    // 32 MiB, as Linux
// Gap between the stack's lowest address and the mmap area (Linux's
// minimum mmap gap).
constexpr uint64_t kMmapGap = 128ULL << 20;

uint64_t RandomPages(uint64_t range) {
  uint64_t r = 0;
  if (getrandom(&r, sizeof(r), 0) != sizeof(r)) r = 0;
  return (r % range) * kPageSize;
}

absl::Status NoMemory(absl::string_view what) {
  return absl::ResourceExhaustedError(
      absl::StrCat("out of memory while loading (", what, ")"));
}

absl::Status LoadSegments(mm::MemoryManager& mm, const ElfInfo& elf,
                          std::span<const uint8_t> file, uint64_t bias,
                          const std::string& name) {
  uint64_t mapped_end = 0;
  for (const ElfSegment& seg : elf.loads) {
    uint64_t start = PageDown(bias + seg.vaddr);
    uint64_t end = PageUp(bias + seg.vaddr + seg.memsz);
    // A segment may share its first page with the previous one; that page
    // is already mapped and keeps the earlier segment's protection.
    start = std::max(start, mapped_end);
    if (start < end) {
      mm::MmapRequest req;
      req.addr = start;
      req.length = end - start;
      req.prot = seg.prot;
      req.fixed = true;
      req.name = name;
      if (!mm.Map(req).ok()) return NoMemory("mapping a segment");
      mapped_end = end;
    }
    // The file bytes from the segment's page-aligned offset, as mmap of the
    // file would show them; the rest (bss) stays zero.
    uint64_t file_start = PageDown(seg.offset);
    uint64_t mem_start = PageDown(bias + seg.vaddr);
    uint64_t length = seg.offset + seg.filesz - file_start;
    if (length > 0 &&
        !mm.Poke(mem_start, file.data() + file_start, length).ok()) {
      return absl::InternalError("writing segment contents");
    }
  }
  return absl::OkStatus();
}

// Builds the initial stack below `top`; returns the stack pointer.
absl::StatusOr<uint64_t> BuildStack(
    mm::MemoryManager& mm, uint64_t top, uint64_t bottom, const ExecArgs& args,
    std::vector<std::pair<uint64_t, uint64_t>>& auxv) {
  uint64_t sp = top;
  // Linux's ARG_MAX rule: strings may use a quarter of the stack.
  uint64_t strings_size = args.execfn.size() + 1;
  for (const auto& s : args.argv) strings_size += s.size() + 1;
  for (const auto& s : args.envp) strings_size += s.size() + 1;
  if (strings_size > args.stack_size / 4) {
    return absl::ResourceExhaustedError("argument list too long");
  }

  auto push_bytes = [&](const void* data,
                        size_t n) -> absl::StatusOr<uint64_t> {
    sp -= n;
    if (sp < bottom || !mm.Poke(sp, data, n).ok()) {
      return absl::ResourceExhaustedError("initial stack overflow");
    }
    return sp;
  };
  auto push_string = [&](const std::string& s) {
    return push_bytes(s.c_str(), s.size() + 1);
  };

  sp -= sizeof(uint64_t);  // Linux leaves a NULL word at the very top.
  absl::StatusOr<uint64_t> execfn = push_string(args.execfn);
  if (!execfn.ok()) return execfn.status();
  std::vector<uint64_t> env_ptrs, arg_ptrs;
  for (auto it = args.envp.rbegin(); it != args.envp.rend(); ++it) {
    absl::StatusOr<uint64_t> p = push_string(*it);
    if (!p.ok()) return p.status();
    env_ptrs.insert(env_ptrs.begin(), *p);
  }
  for (auto it = args.argv.rbegin(); it != args.argv.rend(); ++it) {
    absl::StatusOr<uint64_t> p = push_string(*it);
    if (!p.ok()) return p.status();
    arg_ptrs.insert(arg_ptrs.begin(), *p);
  }
  absl::StatusOr<uint64_t> platform = push_string("x86_64");
  if (!platform.ok()) return platform.status();
  uint8_t random[16];
  if (getrandom(random, sizeof(random), 0) != sizeof(random)) {
    return absl::InternalError("getrandom for AT_RANDOM failed");
  }
  sp &= ~15ULL;
  absl::StatusOr<uint64_t> random_addr = push_bytes(random, sizeof(random));
  if (!random_addr.ok()) return random_addr.status();

  auxv.emplace_back(AT_RANDOM, *random_addr);
  auxv.emplace_back(AT_EXECFN, *execfn);
  auxv.emplace_back(AT_PLATFORM, *platform);
  auxv.emplace_back(AT_NULL, 0);

  // argc, argv[], NULL, envp[], NULL, auxv pairs; rsp 16-byte aligned.
  std::vector<uint64_t> words;
  words.push_back(args.argv.size());
  words.insert(words.end(), arg_ptrs.begin(), arg_ptrs.end());
  words.push_back(0);
  words.insert(words.end(), env_ptrs.begin(), env_ptrs.end());
  words.push_back(0);
  for (const auto& [key, value] : auxv) {
    words.push_back(key);
    words.push_back(value);
  }
  sp = (sp - words.size() * sizeof(uint64_t)) & ~15ULL;
  if (sp < bottom ||
      !mm.Poke(sp, words.data(), words.size() * sizeof(uint64_t)).ok()) {
    return absl::ResourceExhaustedError("initial stack overflow");
  }
  return sp;
}

// Loads the interpreter `path` (which must be a static-PIE-like ET_DYN
// without an interpreter of its own) at a free, random address; returns
// its base and sets `entry` to its entry point.
absl::StatusOr<uint64_t> LoadInterpreter(mm::MemoryManager& mm,
                                         const std::string& path,
                                         const ExecArgs& args,
                                         uint64_t& entry) {
  absl::StatusOr<std::vector<uint8_t>> bytes = args.read_interpreter(path);
  if (!bytes.ok()) {
    return absl::Status(
        bytes.status().code(),
        absl::StrCat("interpreter ", path, ": ", bytes.status().message()));
  }
  absl::StatusOr<ElfInfo> interp = ParseElf(*bytes);
  if (!interp.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("interpreter ", path, ": ", interp.status().message()));
  }
  if (interp->interpreter || !interp->position_independent) {
    return absl::InvalidArgumentError(
        absl::StrCat("interpreter ", path,
                     " is not a position-independent "
                     "static object"));
  }
  uint64_t span = PageUp(interp->max_vaddr()) - PageDown(interp->min_vaddr());
  // Reserve the whole span, so segments keep their relative layout and the
  // holes between them stay inaccessible.
  mm::MmapRequest reserve;
  reserve.length = span;
  reserve.prot = PROT_NONE;
  ErrnoOr<uint64_t> at = mm.Map(reserve);
  if (!at.ok()) return NoMemory("the interpreter");
  uint64_t bias = *at - PageDown(interp->min_vaddr());
  if (absl::Status s = LoadSegments(mm, *interp, *bytes, bias, path); !s.ok()) {
    return s;
  }
  entry = bias + interp->entry;
  return bias;
}

}  // namespace

absl::StatusOr<LoadedProgram> LoadProgram(mm::MemoryManager& mm,
                                          std::span<const uint8_t> file,
                                          const ExecArgs& args) {
  absl::StatusOr<ElfInfo> elf = ParseElf(file);
  if (!elf.ok()) return elf.status();
  if (elf->interpreter && !args.read_interpreter) {
    return absl::FailedPreconditionError(absl::StrCat(
        "dynamically linked executable (interpreter ", *elf->interpreter,
        ") and no file system to load it from"));
  }

  LoadedProgram out;
  const uint64_t max_addr = mm.max_addr();
  // The stack sits at the top, randomly lowered; mmap space starts below it.
  uint64_t stack_size =
      std::clamp<uint64_t>(PageUp(args.stack_size), 128 << 10, 1ULL << 30);
  uint64_t stack_top = max_addr - RandomPages(kStackRandomPages);
  uint64_t stack_bottom = stack_top - stack_size;
  mm.set_mmap_top(stack_bottom - kMmapGap - RandomPages(kMmapRandomPages));

  if (elf->position_independent) {
    uint64_t span = PageUp(elf->max_vaddr()) - PageDown(elf->min_vaddr());
    out.load_bias =
        kEtDynBase + RandomPages(kBiasRandomPages) - PageDown(elf->min_vaddr());
    if (span > stack_bottom - kEtDynBase) {
      return absl::ResourceExhaustedError("executable too large");
    }
  }
  if (out.load_bias + PageDown(elf->min_vaddr()) < mm.min_addr() ||
      out.load_bias + elf->max_vaddr() > stack_bottom) {
    return absl::FailedPreconditionError(
        "executable's segments lie outside the sandbox's address range");
  }
  if (absl::Status s = LoadSegments(mm, *elf, file, out.load_bias, args.path);
      !s.ok()) {
    return s;
  }

  mm::MmapRequest stack;
  stack.addr = stack_bottom;
  stack.length = stack_size;
  stack.prot = PROT_READ | PROT_WRITE | (elf->executable_stack ? PROT_EXEC : 0);
  stack.fixed = true;
  stack.name = "[stack]";
  if (!mm.Map(stack).ok()) return NoMemory("the stack");

  out.brk_start =
      PageUp(out.load_bias + elf->max_vaddr()) + RandomPages(kBrkRandomPages);
  mm.set_brk_start(out.brk_start);

  out.entry = out.load_bias + elf->entry;
  uint64_t program_entry = out.entry;
  if (elf->interpreter) {
    absl::StatusOr<uint64_t> base =
        LoadInterpreter(mm, *elf->interpreter, args, out.entry);
    if (!base.ok()) return base.status();
    out.interpreter_base = *base;
  }
  uint64_t phdr = elf->phdr_vaddr ? out.load_bias + *elf->phdr_vaddr : 0;
  out.auxv.clear();
  if (args.vdso.size() >= 2) {
    ErrnoOr<uint64_t> at = mm.MapKernelPages(args.vdso);
    if (!at.ok()) return NoMemory("the vDSO");
    out.auxv.emplace_back(AT_SYSINFO_EHDR, *at + args.vdso[0].length);
  }
  out.auxv.insert(out.auxv.end(),
                  {
                      {AT_HWCAP, getauxval(AT_HWCAP)},
                      {AT_PAGESZ, kPageSize},
                      {AT_CLKTCK, 100},
                      {AT_PHDR, phdr},
                      {AT_PHENT, sizeof(Elf64_Phdr)},
                      {AT_PHNUM, elf->phnum},
                      {AT_BASE, out.interpreter_base},
                      {AT_FLAGS, 0},
                      {AT_ENTRY, program_entry},
                      {AT_UID, args.uid},
                      {AT_EUID, args.euid},
                      {AT_GID, args.gid},
                      {AT_EGID, args.egid},
                      {AT_SECURE, 0},
                      {AT_HWCAP2, getauxval(AT_HWCAP2)},
                      {AT_MINSIGSTKSZ, getauxval(AT_MINSIGSTKSZ)},
                  });
  absl::StatusOr<uint64_t> sp =
      BuildStack(mm, stack_top, stack_bottom, args, out.auxv);
  if (!sp.ok()) return sp.status();
  out.stack_pointer = *sp;
  return out;
}

}  // namespace sentry::loader
