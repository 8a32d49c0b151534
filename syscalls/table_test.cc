#include "syscalls/table.h"

#include <sys/syscall.h>

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace sentry::syscalls {
namespace {

TEST(SyscallTableTest, RowsAreUniqueOrderedAndComplete) {
  std::set<std::string> names;
  int last = -1;
  for (const SyscallInfo& info : AllSyscalls()) {
    EXPECT_GT(info.nr, last) << info.name;
    last = info.nr;
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_GE(info.nargs, 0);
    EXPECT_LE(info.nargs, 6);
    EXPECT_EQ(LookupSyscall(info.nr), &info);
    if (info.support == Support::kNone) {
      EXPECT_EQ(info.handler, nullptr) << info.name;
    } else {
      EXPECT_NE(info.handler, nullptr) << info.name;
      EXPECT_NE(info.format, nullptr) << info.name;
    }
    if (info.support == Support::kPartial) {
      EXPECT_STRNE(info.note, "") << info.name << ": partial needs a note";
    }
  }
  EXPECT_GE(AllSyscalls().size(), 360u);
}

TEST(SyscallTableTest, NumbersMatchTheHostAbi) {
  EXPECT_STREQ(LookupSyscall(SYS_read)->name, "read");
  EXPECT_STREQ(LookupSyscall(SYS_getpid)->name, "getpid");
  EXPECT_STREQ(LookupSyscall(SYS_exit_group)->name, "exit_group");
  EXPECT_STREQ(LookupSyscall(SYS_rt_sigaction)->name, "rt_sigaction");
  EXPECT_EQ(LookupSyscall(SYS_mmap)->nargs, 6);
  EXPECT_EQ(LookupSyscall(SYS_clone)->nargs, 5);
  EXPECT_EQ(LookupSyscall(400), nullptr);  // a gap in the numbering
  EXPECT_EQ(LookupSyscall(100000), nullptr);
}

TEST(SyscallTableTest, FoundationSyscallsAreImplemented) {
  for (int nr : {SYS_read,          SYS_write,           SYS_writev,
                 SYS_exit,          SYS_exit_group,      SYS_getpid,
                 SYS_gettid,        SYS_getppid,         SYS_uname,
                 SYS_arch_prctl,    SYS_set_tid_address, SYS_set_robust_list,
                 SYS_rt_sigaction,  SYS_rt_sigprocmask,  SYS_brk,
                 SYS_mmap,          SYS_munmap,          SYS_mprotect,
                 SYS_clock_gettime, SYS_getrandom,       SYS_prlimit64,
                 SYS_ioctl}) {
    ASSERT_NE(LookupSyscall(nr), nullptr) << nr;
    EXPECT_NE(LookupSyscall(nr)->handler, nullptr) << LookupSyscall(nr)->name;
  }
}

}  // namespace
}  // namespace sentry::syscalls
