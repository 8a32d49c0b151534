// ParseElf on synthetic files: each malformed header is refused with a
// message, and valid ones are described correctly.
#include "sentry/loader/elf.h"

#include <elf.h>
#include <sys/mman.h>

#include <cstring>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sentry::loader {
namespace {

using ::testing::HasSubstr;

// A minimal valid static x86-64 executable image: header, two program
// headers (PT_LOAD text at 0x400000 covering the headers, PT_GNU_STACK).
class ElfBuilder {
 public:
  ElfBuilder() {
    memcpy(eh_.e_ident, ELFMAG, SELFMAG);
    eh_.e_ident[EI_CLASS] = ELFCLASS64;
    eh_.e_ident[EI_DATA] = ELFDATA2LSB;
    eh_.e_ident[EI_VERSION] = EV_CURRENT;
    eh_.e_type = ET_EXEC;
    eh_.e_machine = EM_X86_64;
    eh_.e_version = EV_CURRENT;
    eh_.e_entry = 0x401000;
    eh_.e_phoff = sizeof(Elf64_Ehdr);
    eh_.e_ehsize = sizeof(Elf64_Ehdr);
    eh_.e_phentsize = sizeof(Elf64_Phdr);
    Elf64_Phdr text{};
    text.p_type = PT_LOAD;
    text.p_flags = PF_R | PF_X;
    text.p_offset = 0;
    text.p_vaddr = 0x400000;
    text.p_filesz = 0x2000;
    text.p_memsz = 0x2000;
    phdrs_.push_back(text);
    Elf64_Phdr stack{};
    stack.p_type = PT_GNU_STACK;
    stack.p_flags = PF_R | PF_W;
    phdrs_.push_back(stack);
    size_ = 0x2000;
  }
  Elf64_Ehdr& header() { return eh_; }
  std::vector<Elf64_Phdr>& phdrs() { return phdrs_; }
  void set_size(size_t size) { size_ = size; }
  std::vector<uint8_t> Build() {
    eh_.e_phnum = static_cast<uint16_t>(phdrs_.size());
    std::vector<uint8_t> out(size_);
    memcpy(out.data(), &eh_, std::min(sizeof(eh_), out.size()));
    size_t ph_bytes = phdrs_.size() * sizeof(Elf64_Phdr);
    if (eh_.e_phoff <= out.size() && ph_bytes <= out.size() - eh_.e_phoff) {
      memcpy(out.data() + eh_.e_phoff, phdrs_.data(), ph_bytes);
    }
    for (auto& [off, bytes] : extra_) {
      memcpy(out.data() + off, bytes.data(), bytes.size());
    }
    return out;
  }
  void Put(size_t offset, std::string bytes) {
    extra_.emplace_back(offset, bytes);
  }

 private:
  Elf64_Ehdr eh_{};
  std::vector<Elf64_Phdr> phdrs_;
  size_t size_;
  std::vector<std::pair<size_t, std::string>> extra_;
};

std::string ErrorOf(const std::vector<uint8_t>& file) {
  absl::StatusOr<ElfInfo> r = ParseElf(file);
  return r.ok() ? "OK" : std::string(r.status().message());
}

TEST(ElfTest, ValidStaticExecutable) {
  ElfBuilder b;
  auto file = b.Build();
  absl::StatusOr<ElfInfo> info = ParseElf(file);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_FALSE(info->position_independent);
  EXPECT_EQ(info->entry, 0x401000u);
  ASSERT_EQ(info->loads.size(), 1u);
  EXPECT_EQ(info->loads[0].prot, PROT_READ | PROT_EXEC);
  EXPECT_EQ(info->phdr_vaddr, 0x400000u + sizeof(Elf64_Ehdr));
  EXPECT_FALSE(info->executable_stack);
  EXPECT_FALSE(info->interpreter);
  EXPECT_EQ(info->min_vaddr(), 0x400000u);
  EXPECT_EQ(info->max_vaddr(), 0x402000u);
}

TEST(ElfTest, NotElf) {
  std::vector<uint8_t> text = {'#', '!', '/', 'b', 'i', 'n', '/', 's', 'h'};
  EXPECT_THAT(ErrorOf(text), HasSubstr("not an ELF"));
  EXPECT_THAT(ErrorOf({}), HasSubstr("not an ELF"));
  EXPECT_THAT(ErrorOf({0x7f, 'E', 'L'}), HasSubstr("not an ELF"));
}

TEST(ElfTest, TruncatedHeader) {
  ElfBuilder b;
  auto file = b.Build();
  file.resize(20);
  EXPECT_THAT(ErrorOf(file), HasSubstr("truncated"));
}

TEST(ElfTest, OtherArchitectureAndClass) {
  ElfBuilder b;
  b.header().e_machine = EM_AARCH64;
  EXPECT_THAT(ErrorOf(b.Build()), HasSubstr("aarch64"));
  ElfBuilder c;
  c.header().e_ident[EI_CLASS] = ELFCLASS32;
  EXPECT_THAT(ErrorOf(c.Build()), HasSubstr("32-bit"));
  ElfBuilder d;
  d.header().e_ident[EI_DATA] = ELFDATA2MSB;
  EXPECT_THAT(ErrorOf(d.Build()), HasSubstr("big-endian"));
}

TEST(ElfTest, NotAnExecutableType) {
  ElfBuilder b;
  b.header().e_type = ET_REL;
  EXPECT_THAT(ErrorOf(b.Build()), HasSubstr("relocatable"));
  b.header().e_type = ET_CORE;
  EXPECT_THAT(ErrorOf(b.Build()), HasSubstr("core"));
}

TEST(ElfTest, ProgramHeadersOutOfBounds) {
  ElfBuilder b;
  b.header().e_phoff = 0x1ff0;
  EXPECT_THAT(ErrorOf(b.Build()), HasSubstr("beyond end of file"));
  ElfBuilder c;
  c.header().e_phoff = ~0ULL - 8;  // would overflow phoff + size
  EXPECT_THAT(ErrorOf(c.Build()), HasSubstr("beyond end of file"));
  ElfBuilder d;
  d.phdrs().clear();
  EXPECT_THAT(ErrorOf(d.Build()), HasSubstr("program header count"));
  ElfBuilder e;
  e.header().e_phentsize = 32;
  EXPECT_THAT(ErrorOf(e.Build()), HasSubstr("program header size"));
}

TEST(ElfTest, BadSegments) {
  ElfBuilder past_eof;
  past_eof.phdrs()[0].p_filesz = 0x3000;
  past_eof.phdrs()[0].p_memsz = 0x3000;
  EXPECT_THAT(ErrorOf(past_eof.Build()), HasSubstr("past end of file"));

  ElfBuilder overflow;
  overflow.phdrs()[0].p_offset = ~0ULL - 0x10;
  EXPECT_THAT(ErrorOf(overflow.Build()), HasSubstr("past end of file"));

  ElfBuilder filesz;
  filesz.phdrs()[0].p_memsz = 0x1000;
  EXPECT_THAT(ErrorOf(filesz.Build()), HasSubstr("file size > memory size"));

  ElfBuilder misaligned;
  misaligned.phdrs()[0].p_vaddr = 0x400010;
  EXPECT_THAT(ErrorOf(misaligned.Build()), HasSubstr("misaligned"));

  ElfBuilder kernel_addr;
  kernel_addr.phdrs()[0].p_vaddr = 0xffff800000000000;
  EXPECT_THAT(ErrorOf(kernel_addr.Build()), HasSubstr("address space"));

  ElfBuilder none;
  none.phdrs()[0].p_type = PT_NOTE;
  EXPECT_THAT(ErrorOf(none.Build()), HasSubstr("no loadable segments"));
}

TEST(ElfTest, Interpreter) {
  ElfBuilder b;
  Elf64_Phdr interp{};
  interp.p_type = PT_INTERP;
  interp.p_offset = 0x200;
  interp.p_filesz = 28;
  b.phdrs().push_back(interp);
  b.Put(0x200, std::string("/lib64/ld-linux-x86-64.so.2\0", 28));
  absl::StatusOr<ElfInfo> info = ParseElf(b.Build());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->interpreter, "/lib64/ld-linux-x86-64.so.2");

  // Not NUL-terminated.
  ElfBuilder c;
  c.phdrs().push_back(interp);
  c.Put(0x200, std::string(28, 'a'));
  EXPECT_THAT(ErrorOf(c.Build()), HasSubstr("interpreter"));
}

TEST(ElfTest, ExecutableStackAndPie) {
  ElfBuilder b;
  b.phdrs()[1].p_flags = PF_R | PF_W | PF_X;
  b.header().e_type = ET_DYN;
  absl::StatusOr<ElfInfo> info = ParseElf(b.Build());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->executable_stack);
  EXPECT_TRUE(info->position_independent);
}

TEST(ElfTest, EveryTruncationIsRefusedWithoutCrashing) {
  ElfBuilder b;
  auto file = b.Build();
  for (size_t n = 0; n < 512; ++n) {
    std::vector<uint8_t> cut(file.begin(), file.begin() + n);
    EXPECT_FALSE(ParseElf(cut).ok()) << n;
  }
}

}  // namespace
}  // namespace sentry::loader
