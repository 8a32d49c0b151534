// System and resource-usage information, from the man pages of sysinfo(2),
// getrusage(2), times(2) and uname(2): that the numbers agree with each
// other, with /proc and with work the test itself does.
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

int64_t NowNs(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// Burns CPU in this thread for `ms` of its own CPU time.
void SpinCpuMs(int ms) {
  int64_t end = NowNs(CLOCK_THREAD_CPUTIME_ID) + ms * 1000000LL;
  volatile uint64_t sink = 0;
  while (NowNs(CLOCK_THREAD_CPUTIME_ID) < end) {
    for (int i = 0; i < 10000; i++) sink = sink + i;
  }
}

int64_t CpuUs(const struct rusage& ru) {
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL +
         ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

// Forks a child that burns `ms` of CPU time and exits 0; returns its pid.
pid_t ForkSpinner(int ms) {
  pid_t pid = fork();
  if (pid == 0) {
    SpinCpuMs(ms);
    _exit(0);
  }
  return pid;
}

// The number in "Key:   123 kB" from /proc/meminfo, or -1.
long MeminfoKb(const std::string& key) {
  std::string meminfo = ReadProcFile("/proc/meminfo");
  size_t pos = meminfo.find(key + ":");
  if (pos == std::string::npos) return -1;
  return strtol(meminfo.c_str() + pos + key.size() + 1, nullptr, 10);
}

TEST(SysinfoTest, UptimeMatchesTheBoottimeClock) {
  struct sysinfo si;
  ASSERT_THAT(sysinfo(&si), SyscallSucceeds());
  int64_t boot_s = NowNs(CLOCK_BOOTTIME) / 1000000000LL;
  EXPECT_LE(std::abs(si.uptime - boot_s), 1) << si.uptime << " vs " << boot_s;
}

TEST(SysinfoTest, MemoryFieldsAreConsistent) {
  struct sysinfo si;
  ASSERT_THAT(sysinfo(&si), SyscallSucceeds());
  EXPECT_GE(si.mem_unit, 1u);
  EXPECT_LE(si.freeram, si.totalram);
  EXPECT_LE(si.bufferram, si.totalram);
  EXPECT_LE(si.sharedram, si.totalram);
  EXPECT_LE(si.freeswap, si.totalswap);
  EXPECT_LE(si.freehigh, si.totalhigh);
}

// sysinfo and /proc/meminfo describe the same memory.
TEST(SysinfoTest, TotalramMatchesProcMeminfo) {
  struct sysinfo si;
  ASSERT_THAT(sysinfo(&si), SyscallSucceeds());
  long mem_total_kb = MeminfoKb("MemTotal");
  ASSERT_GT(mem_total_kb, 0);
  uint64_t total_kb = static_cast<uint64_t>(si.totalram) * si.mem_unit / 1024;
  EXPECT_EQ(total_kb, static_cast<uint64_t>(mem_total_kb));
}

// procs counts threads (tasks), so it is at least the number this process
// has.
TEST(SysinfoTest, ProcsCountsAtLeastOurThreads) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; i++) {
    threads.emplace_back([&] {
      while (!stop.load()) usleep(1000);
    });
  }
  struct sysinfo si;
  int rc = sysinfo(&si);
  stop = true;
  for (auto& t : threads) t.join();
  ASSERT_THAT(rc, SyscallSucceeds());
  EXPECT_GE(si.procs, 4);
}

TEST(SysinfoTest, BadPointerFailsEfault) {
  EXPECT_THAT(syscall(SYS_sysinfo, reinterpret_cast<void*>(8)),
              SyscallFailsWithErrno(EFAULT));
}

TEST(RusageTest, SelfCountsCpuTime) {
  struct rusage before, after;
  ASSERT_THAT(getrusage(RUSAGE_SELF, &before), SyscallSucceeds());
  SpinCpuMs(100);
  ASSERT_THAT(getrusage(RUSAGE_SELF, &after), SyscallSucceeds());
  EXPECT_GE(CpuUs(after) - CpuUs(before), 50000);
  // Spinning in user space is user time.
  EXPECT_GT(after.ru_utime.tv_sec * 1000000LL + after.ru_utime.tv_usec,
            before.ru_utime.tv_sec * 1000000LL + before.ru_utime.tv_usec);
}

// RUSAGE_THREAD counts only the calling thread; RUSAGE_SELF all of them.
TEST(RusageTest, ThreadExcludesOtherThreads) {
  struct rusage self_before, thread_before;
  ASSERT_THAT(getrusage(RUSAGE_SELF, &self_before), SyscallSucceeds());
  ASSERT_THAT(getrusage(RUSAGE_THREAD, &thread_before), SyscallSucceeds());
  std::thread worker([] { SpinCpuMs(100); });
  worker.join();
  struct rusage self_after, thread_after;
  ASSERT_THAT(getrusage(RUSAGE_SELF, &self_after), SyscallSucceeds());
  ASSERT_THAT(getrusage(RUSAGE_THREAD, &thread_after), SyscallSucceeds());
  EXPECT_GE(CpuUs(self_after) - CpuUs(self_before), 50000);
  EXPECT_LT(CpuUs(thread_after) - CpuUs(thread_before), 50000);
  EXPECT_LE(CpuUs(thread_after), CpuUs(self_after));
}

// RUSAGE_CHILDREN counts children only once they have been waited for.
TEST(RusageTest, ChildrenCountOnceWaitedForFork) {
  EXPECT_THAT(ForkAndWait([]() -> int {
                struct rusage ru;
                CHILD_EXPECT(getrusage(RUSAGE_CHILDREN, &ru) == 0);
                CHILD_EXPECT(CpuUs(ru) == 0);
                pid_t pid = ForkSpinner(100);
                CHILD_EXPECT(pid > 0);
                // Exited but not yet reaped: not counted.
                siginfo_t info;
                CHILD_EXPECT(waitid(P_PID, pid, &info, WEXITED | WNOWAIT) == 0);
                CHILD_EXPECT(getrusage(RUSAGE_CHILDREN, &ru) == 0);
                CHILD_EXPECT(CpuUs(ru) == 0);
                int status;
                CHILD_EXPECT(waitpid(pid, &status, 0) == pid);
                CHILD_EXPECT(getrusage(RUSAGE_CHILDREN, &ru) == 0);
                CHILD_EXPECT(CpuUs(ru) >= 50000);
                return 0;
              }),
              ExitedWithCode(0));
}

// "... all descendants of the calling process that have terminated and
// been waited for": a grandchild reaped by the child counts too.
TEST(RusageTest, ChildrenIncludeWaitedForGrandchildrenFork) {
  EXPECT_THAT(ForkAndWait([]() -> int {
                pid_t child = fork();
                if (child == 0) {
                  pid_t grandchild = ForkSpinner(100);
                  int status;
                  _exit(waitpid(grandchild, &status, 0) == grandchild ? 0 : 1);
                }
                CHILD_EXPECT(child > 0);
                int status;
                CHILD_EXPECT(waitpid(child, &status, 0) == child);
                CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                struct rusage ru;
                CHILD_EXPECT(getrusage(RUSAGE_CHILDREN, &ru) == 0);
                CHILD_EXPECT(CpuUs(ru) >= 50000);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(RusageTest, MaxrssGrowsWhenMemoryIsTouchedFork) {
  EXPECT_THAT(
      ForkAndWait([]() -> int {
        struct rusage before;
        CHILD_EXPECT(getrusage(RUSAGE_SELF, &before) == 0);
        constexpr size_t kLen = 64 << 20;
        char* p = static_cast<char*>(mmap(nullptr, kLen, PROT_READ | PROT_WRITE,
                                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        CHILD_EXPECT(p != MAP_FAILED);
        memset(p, 1, kLen);
        struct rusage after;
        CHILD_EXPECT(getrusage(RUSAGE_SELF, &after) == 0);
        // ru_maxrss is in kilobytes.
        CHILD_EXPECT(after.ru_maxrss >= before.ru_maxrss + 32 * 1024);
        return 0;
      }),
      ExitedWithCode(0));
}

// Touching fresh anonymous pages takes minor page faults.
TEST(RusageTest, TouchingNewPagesCountsMinorFaults) {
  constexpr size_t kPages = 1024;
  long page = sysconf(_SC_PAGESIZE);
  char* p =
      static_cast<char*>(mmap(nullptr, kPages * page, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(p, MAP_FAILED);
  struct rusage before, after;
  ASSERT_THAT(getrusage(RUSAGE_SELF, &before), SyscallSucceeds());
  for (size_t i = 0; i < kPages; i++) p[i * page] = 1;
  ASSERT_THAT(getrusage(RUSAGE_SELF, &after), SyscallSucceeds());
  munmap(p, kPages * page);
  // Huge pages or fault-around may merge some faults: ask for a few.
  EXPECT_GE(after.ru_minflt - before.ru_minflt, 1);
}

// Giving up the CPU to sleep is a voluntary context switch.
TEST(RusageTest, SleepingCountsVoluntaryContextSwitches) {
  struct rusage before, after;
  ASSERT_THAT(getrusage(RUSAGE_THREAD, &before), SyscallSucceeds());
  for (int i = 0; i < 10; i++) usleep(1000);
  ASSERT_THAT(getrusage(RUSAGE_THREAD, &after), SyscallSucceeds());
  EXPECT_GE(after.ru_nvcsw - before.ru_nvcsw, 5);
}

TEST(RusageTest, BadPointerFailsEfault) {
  EXPECT_THAT(syscall(SYS_getrusage, RUSAGE_SELF, reinterpret_cast<void*>(8)),
              SyscallFailsWithErrno(EFAULT));
}

TEST(TimesSyscallTest, ElapsedTicksFollowWallTime) {
  long hz = sysconf(_SC_CLK_TCK);
  ASSERT_GT(hz, 0);
  // Linux allows a NULL buffer.
  long t1 = syscall(SYS_times, nullptr);
  usleep(200 * 1000);
  long t2 = syscall(SYS_times, nullptr);
  long ticks = t2 - t1;
  EXPECT_GE(ticks, hz / 5 - 1);
  EXPECT_LE(ticks, hz * 2);
}

TEST(TimesSyscallTest, UserTimeCountsWork) {
  long hz = sysconf(_SC_CLK_TCK);
  struct tms before, after;
  ASSERT_NE(times(&before), static_cast<clock_t>(-1));
  SpinCpuMs(200);
  ASSERT_NE(times(&after), static_cast<clock_t>(-1));
  // 200ms of CPU is hz/5 ticks; allow rounding and accounting slack.
  EXPECT_GE((after.tms_utime + after.tms_stime) -
                (before.tms_utime + before.tms_stime),
            hz / 10);
}

TEST(TimesSyscallTest, ChildTimesCountWaitedForChildrenFork) {
  long hz = sysconf(_SC_CLK_TCK);
  EXPECT_THAT(ForkAndWait([hz]() -> int {
                struct tms t;
                CHILD_EXPECT(times(&t) != static_cast<clock_t>(-1));
                CHILD_EXPECT(t.tms_cutime == 0 && t.tms_cstime == 0);
                pid_t pid = ForkSpinner(200);
                int status;
                CHILD_EXPECT(waitpid(pid, &status, 0) == pid);
                CHILD_EXPECT(times(&t) != static_cast<clock_t>(-1));
                CHILD_EXPECT(t.tms_cutime + t.tms_cstime >= hz / 10);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(UnameTest, FieldsDescribeThisSystem) {
  struct utsname u;
  ASSERT_THAT(uname(&u), SyscallSucceeds());
  EXPECT_STREQ(u.sysname, "Linux");
  EXPECT_STREQ(u.machine, "x86_64");
  char host[HOST_NAME_MAX + 1] = {};
  ASSERT_THAT(gethostname(host, sizeof(host)), SyscallSucceeds());
  EXPECT_STREQ(u.nodename, host);
  // The release starts with a version number ("6.1.0-...").
  EXPECT_TRUE(u.release[0] >= '1' && u.release[0] <= '9') << u.release;
  EXPECT_NE(std::string(u.version), "");
}

}  // namespace
}  // namespace sentry::testing
