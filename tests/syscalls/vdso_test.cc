// The vDSO (vdso(7)): where it is, what it exports, and that its clocks
// agree with the syscalls, never go back and advance with real time.
#include <elf.h>
#include <sched.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

int64_t Ns(const struct timespec& t) {
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

TEST(VdsoTest, AuxvPointsAtAnElfImage) {
  auto* ehdr = reinterpret_cast<const Elf64_Ehdr*>(getauxval(AT_SYSINFO_EHDR));
  ASSERT_NE(ehdr, nullptr);
  EXPECT_EQ(memcmp(ehdr->e_ident, ELFMAG, SELFMAG), 0);
  EXPECT_EQ(ehdr->e_type, ET_DYN);
  EXPECT_EQ(ehdr->e_machine, EM_X86_64);
}

TEST(VdsoTest, ExportsTheClockFunctions) {
  auto* ehdr = reinterpret_cast<const Elf64_Ehdr*>(getauxval(AT_SYSINFO_EHDR));
  ASSERT_NE(ehdr, nullptr);
  const auto* base = reinterpret_cast<const uint8_t*>(ehdr);
  const auto* phdr = reinterpret_cast<const Elf64_Phdr*>(base + ehdr->e_phoff);
  const Elf64_Dyn* dyn = nullptr;
  uint64_t load = 0;
  for (int i = 0; i < ehdr->e_phnum; ++i) {
    if (phdr[i].p_type == PT_DYNAMIC) {
      dyn = reinterpret_cast<const Elf64_Dyn*>(base + phdr[i].p_offset);
    }
    if (phdr[i].p_type == PT_LOAD && phdr[i].p_offset == 0) {
      load = phdr[i].p_vaddr;
    }
  }
  ASSERT_NE(dyn, nullptr);
  const Elf64_Sym* symtab = nullptr;
  const char* strtab = nullptr;
  const uint32_t* hash = nullptr;
  for (; dyn->d_tag != DT_NULL; ++dyn) {
    const auto* p = base + (dyn->d_un.d_ptr - load);
    if (dyn->d_tag == DT_SYMTAB) symtab = reinterpret_cast<const Elf64_Sym*>(p);
    if (dyn->d_tag == DT_STRTAB) strtab = reinterpret_cast<const char*>(p);
    if (dyn->d_tag == DT_HASH) hash = reinterpret_cast<const uint32_t*>(p);
  }
  ASSERT_NE(symtab, nullptr);
  ASSERT_NE(strtab, nullptr);
  ASSERT_NE(hash, nullptr) << "no DT_HASH (musl and Go look for it)";
  std::string names;
  for (uint32_t i = 0; i < hash[1]; ++i) {
    names += std::string(strtab + symtab[i].st_name) + " ";
  }
  for (const char* want :
       {"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time",
        "__vdso_getcpu", "__vdso_clock_getres"}) {
    EXPECT_NE(names.find(std::string(want) + " "), std::string::npos)
        << want << " not in: " << names;
  }
}

TEST(VdsoTest, MapsShowsVdsoAndVvar) {
  std::string maps = ReadProcFile("/proc/self/maps");
  EXPECT_NE(maps.find("[vdso]"), std::string::npos) << maps;
  EXPECT_NE(maps.find("[vvar]"), std::string::npos) << maps;
}

TEST(VdsoTest, MonotonicNeverGoesBack) {
  struct timespec prev, now;
  ASSERT_EQ(clock_gettime(CLOCK_MONOTONIC, &prev), 0);
  int back = 0;
  for (int i = 0; i < 2000000; ++i) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (Ns(now) < Ns(prev)) ++back;
    prev = now;
  }
  EXPECT_EQ(back, 0);
}

TEST(VdsoTest, AgreesWithTheSyscall) {
  // A syscall's reading must lie between two vDSO readings around it.
  for (int i = 0; i < 20; ++i) {
    struct timespec before, raw, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    ASSERT_EQ(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &raw), 0);
    clock_gettime(CLOCK_MONOTONIC, &after);
    // 20 µs of slack for the re-anchoring of the parameters.
    EXPECT_LE(Ns(before), Ns(raw) + 20000);
    EXPECT_LE(Ns(raw), Ns(after) + 20000);
    usleep(10000);
  }
}

TEST(VdsoTest, RealtimeClocksAgree) {
  struct timespec ts;
  ASSERT_EQ(clock_gettime(CLOCK_REALTIME, &ts), 0);
  struct timeval tv;
  ASSERT_EQ(gettimeofday(&tv, nullptr), 0);
  time_t t = time(nullptr);
  struct timespec raw;
  ASSERT_EQ(syscall(SYS_clock_gettime, CLOCK_REALTIME, &raw), 0);
  int64_t tv_ns = static_cast<int64_t>(tv.tv_sec) * 1000000000 +
                  static_cast<int64_t>(tv.tv_usec) * 1000;
  EXPECT_LE(Ns(ts), tv_ns + 1000);
  EXPECT_LE(tv_ns, Ns(raw) + 1000);
  EXPECT_LE(Ns(raw) - Ns(ts), 50 * 1000000) << "more than 50 ms apart";
  EXPECT_GE(t, ts.tv_sec);
  EXPECT_LE(t, raw.tv_sec);
}

TEST(VdsoTest, AdvancesWithSleep) {
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  struct timespec nap = {0, 50 * 1000000};
  ASSERT_EQ(nanosleep(&nap, nullptr), 0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  EXPECT_GE(Ns(b) - Ns(a), 50 * 1000000);
  EXPECT_LT(Ns(b) - Ns(a), 2000 * 1000000LL);
}

TEST(VdsoTest, BoottimeIsAtLeastMonotonic) {
  struct timespec mono, boot;
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_BOOTTIME, &boot);
  EXPECT_GE(Ns(boot), Ns(mono));
}

TEST(VdsoTest, GetcpuIsAnOnlineCpu) {
  unsigned cpu = ~0u, node = ~0u;
  ASSERT_EQ(getcpu(&cpu, &node), 0);
  EXPECT_LT(cpu, static_cast<unsigned>(sysconf(_SC_NPROCESSORS_CONF)));
  EXPECT_LT(node, 1024u);
  int via_libc = sched_getcpu();
  EXPECT_GE(via_libc, 0);
}

TEST(VdsoTest, ClockGetresMatchesTheSyscall) {
  for (clockid_t c : {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME}) {
    struct timespec lib, raw;
    ASSERT_EQ(clock_getres(c, &lib), 0);
    ASSERT_EQ(syscall(SYS_clock_getres, c, &raw), 0);
    EXPECT_EQ(lib.tv_sec, raw.tv_sec) << c;
    EXPECT_EQ(lib.tv_nsec, raw.tv_nsec) << c;
  }
}

TEST(VdsoTest, WorksInForkedChild) {
  struct timespec parent;
  clock_gettime(CLOCK_MONOTONIC, &parent);
  EXPECT_THAT(ForkAndWait([&] {
                struct timespec child;
                CHILD_EXPECT(clock_gettime(CLOCK_MONOTONIC, &child) == 0);
                CHILD_EXPECT(Ns(child) >= Ns(parent));
                CHILD_EXPECT(getauxval(AT_SYSINFO_EHDR) != 0);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(VdsoTest, VdsoPagesCannotBeWrittenThrough) {
  // Writing to the image faults (its pages are read+execute).
  auto* ehdr = reinterpret_cast<volatile uint8_t*>(getauxval(AT_SYSINFO_EHDR));
  ASSERT_NE(ehdr, nullptr);
  EXPECT_THAT(ForkAndWait([&] {
                ehdr[0] = 0;
                return 0;
              }),
              KilledBySignal(SIGSEGV));
}

}  // namespace
}  // namespace sentry::testing
