// Loads real static executables into a real stub's address space and checks
// the layout and the initial stack the ABI promises.
#include "sentry/loader/loader.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>

#include "gtest/gtest.h"
#include "platform/ptrace/ptrace_platform.h"

namespace sentry::loader {
namespace {

std::vector<uint8_t> ReadRunfile(const std::string& name) {
  std::string path = std::string(getenv("TEST_SRCDIR")) + "/" +
                     getenv("TEST_WORKSPACE") + "/sentry/loader/" + name;
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mf = mm::MemoryFile::Create(1ULL << 32);
    ASSERT_TRUE(mf.ok());
    memory_ = std::move(*mf);
    auto platform = platform::CreatePtracePlatform(memory_->fd());
    ASSERT_TRUE(platform.ok());
    platform_ = std::move(*platform);
    auto as = platform_->NewAddressSpace();
    ASSERT_TRUE(as.ok()) << as.status();
    as_ = std::move(*as);
    mm_ = std::make_unique<mm::MemoryManager>(*memory_, *as_,
                                              platform_->MinUserAddress(),
                                              platform_->MaxUserAddress());
  }

  uint64_t ReadWord(uint64_t addr) {
    uint64_t v = 0;
    EXPECT_TRUE(mm_->CopyIn(addr, &v, 8).ok()) << std::hex << addr;
    return v;
  }

  std::unique_ptr<mm::MemoryFile> memory_;
  std::unique_ptr<platform::Platform> platform_;
  std::unique_ptr<platform::AddressSpace> as_;
  std::unique_ptr<mm::MemoryManager> mm_;
};

TEST_F(LoaderTest, InitialStackFollowsTheAbi) {
  std::vector<uint8_t> file = ReadRunfile("static_hello");
  ASSERT_GT(file.size(), 1000u);
  ExecArgs args;
  args.argv = {"prog", "one", ""};
  args.envp = {"A=1", "B=two"};
  args.execfn = "/path/prog";
  args.uid = 1000;
  args.gid = 1001;
  absl::StatusOr<LoadedProgram> p = LoadProgram(*mm_, file, args);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->stack_pointer % 16, 0u);
  EXPECT_EQ(p->load_bias, 0u);

  uint64_t sp = p->stack_pointer;
  EXPECT_EQ(ReadWord(sp), 3u);  // argc
  EXPECT_EQ(*mm_->CopyInString(ReadWord(sp + 8), 100), "prog");
  EXPECT_EQ(*mm_->CopyInString(ReadWord(sp + 16), 100), "one");
  EXPECT_EQ(*mm_->CopyInString(ReadWord(sp + 24), 100), "");
  EXPECT_EQ(ReadWord(sp + 32), 0u);
  EXPECT_EQ(*mm_->CopyInString(ReadWord(sp + 40), 100), "A=1");
  EXPECT_EQ(*mm_->CopyInString(ReadWord(sp + 48), 100), "B=two");
  EXPECT_EQ(ReadWord(sp + 56), 0u);
  std::map<uint64_t, uint64_t> auxv;
  for (uint64_t at = sp + 64;; at += 16) {
    uint64_t key = ReadWord(at);
    if (key == AT_NULL) break;
    auxv[key] = ReadWord(at + 8);
  }
  EXPECT_EQ(auxv[AT_PAGESZ], 4096u);
  EXPECT_EQ(auxv[AT_ENTRY], p->entry);
  EXPECT_EQ(auxv[AT_UID], 1000u);
  EXPECT_EQ(auxv[AT_GID], 1001u);
  EXPECT_EQ(auxv[AT_PHENT], sizeof(Elf64_Phdr));
  EXPECT_EQ(*mm_->CopyInString(auxv[AT_EXECFN], 100), "/path/prog");
  EXPECT_EQ(*mm_->CopyInString(auxv[AT_PLATFORM], 100), "x86_64");
  uint8_t random[16];
  EXPECT_TRUE(mm_->CopyIn(auxv[AT_RANDOM], random, 16).ok());
  // AT_PHDR points at the program headers in memory.
  Elf64_Ehdr eh;
  memcpy(&eh, file.data(), sizeof(eh));
  EXPECT_EQ(auxv[AT_PHNUM], eh.e_phnum);
  Elf64_Phdr first;
  ASSERT_TRUE(mm_->CopyIn(auxv[AT_PHDR], &first, sizeof(first)).ok());
  EXPECT_EQ(0, memcmp(&first, file.data() + eh.e_phoff, sizeof(first)));
  // The entry point is mapped executable with the file's bytes.
  uint64_t entry_word = ReadWord(p->entry);
  EXPECT_NE(entry_word, 0u);
}

TEST_F(LoaderTest, StaticPieIsRelocatedAndBrkFollowsTheImage) {
  std::vector<uint8_t> file = ReadRunfile("static_pie_hello");
  ExecArgs args;
  args.argv = {"pie"};
  args.execfn = "pie";
  absl::StatusOr<LoadedProgram> p = LoadProgram(*mm_, file, args);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_GE(p->load_bias, 0x555555554000u);
  EXPECT_GT(p->entry, p->load_bias);
  EXPECT_GT(p->brk_start, p->entry);
  EXPECT_EQ(mm_->Brk(0), p->brk_start);
  // The heap grows right away.
  EXPECT_EQ(mm_->Brk(p->brk_start + 4096), p->brk_start + 4096);
}

TEST_F(LoaderTest, ArgumentListTooLong) {
  std::vector<uint8_t> file = ReadRunfile("static_hello");
  ExecArgs args;
  args.argv = {"prog", std::string(3 << 20, 'x')};
  args.execfn = "prog";
  absl::StatusOr<LoadedProgram> p = LoadProgram(*mm_, file, args);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "argument list too long");
}

TEST_F(LoaderTest, DynamicExecutablesAreRefusedClearly) {
  std::ifstream in("/bin/true", std::ios::binary);
  std::vector<uint8_t> file(std::istreambuf_iterator<char>(in), {});
  ExecArgs args;
  args.argv = {"true"};
  absl::StatusOr<LoadedProgram> p = LoadProgram(*mm_, file, args);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("dynamically linked"),
            absl::string_view::npos);
}

}  // namespace
}  // namespace sentry::loader
