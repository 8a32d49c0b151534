// Scheduling interfaces, from the man pages of sched_setaffinity(2),
// getcpu(2), sched_setscheduler(2), sched_get_priority_max(2),
// sched_rr_get_interval(2), sched_setattr(2), getpriority(2) and nice(2).
// Anything that changes this process's scheduling happens in a forked
// child.
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

#define SKIP_UNLESS_ROOT()                          \
  do {                                              \
    std::string why_not = WhyNobodyIsUnavailable(); \
    if (!why_not.empty()) GTEST_SKIP() << why_not;  \
  } while (0)

// The CPUs this process may run on.
std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int i = 0; i < CPU_SETSIZE; i++) {
    if (CPU_ISSET(i, &set)) cpus.push_back(i);
  }
  return cpus;
}

// The CPU this thread runs on, or -1: glibc's sched_getcpu, which asks the
// vDSO (GetcpuTest covers the syscall).
int CurrentCpu() { return sched_getcpu(); }

// The kernel's struct sched_attr (SCHED_ATTR_SIZE_VER0, 48 bytes).
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

TEST(SchedAffinityTest, EmptyMaskFailsEinval) {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_THAT(sched_setaffinity(0, sizeof(set), &set),
              SyscallFailsWithErrno(EINVAL));
}

// A mask naming only CPUs that do not exist has no usable CPU in it.
TEST(SchedAffinityTest, OnlyNonexistentCpusFailsEinval) {
  constexpr int kCpus = 8192;
  cpu_set_t* set = CPU_ALLOC(kCpus);
  size_t size = CPU_ALLOC_SIZE(kCpus);
  CPU_ZERO_S(size, set);
  CPU_SET_S(kCpus - 1, size, set);
  EXPECT_THAT(sched_setaffinity(0, size, set), SyscallFailsWithErrno(EINVAL));
  CPU_FREE(set);
}

TEST(SchedAffinityTest, GetaffinityArgumentChecks) {
  cpu_set_t set;
  EXPECT_THAT(sched_getaffinity(999999, sizeof(set), &set),
              SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(syscall(SYS_sched_getaffinity, 0, sizeof(set),
                      reinterpret_cast<void*>(8)),
              SyscallFailsWithErrno(EFAULT));
  // The size must be a multiple of sizeof(long).
  EXPECT_THAT(syscall(SYS_sched_getaffinity, 0, sizeof(set) - 1, &set),
              SyscallFailsWithErrno(EINVAL));
}

// A thread pinned to one CPU runs only there.
TEST(SchedAffinityTest, PinnedProcessRunsOnThatCpuFork) {
  std::vector<int> cpus = AllowedCpus();
  ASSERT_FALSE(cpus.empty());
  EXPECT_THAT(ForkAndWait([&]() -> int {
                for (int cpu : cpus) {
                  cpu_set_t set;
                  CPU_ZERO(&set);
                  CPU_SET(cpu, &set);
                  CHILD_EXPECT(sched_setaffinity(0, sizeof(set), &set) == 0);
                  for (int i = 0; i < 5; i++) {
                    CHILD_EXPECT(CurrentCpu() == cpu);
                    sched_yield();
                  }
                  cpu_set_t got;
                  CHILD_EXPECT(sched_getaffinity(0, sizeof(got), &got) == 0);
                  CHILD_EXPECT(CPU_COUNT(&got) == 1 && CPU_ISSET(cpu, &got));
                }
                return 0;
              }),
              ExitedWithCode(0));
}

// A mask shorter than the kernel's is extended with zeros.
TEST(SchedAffinityTest, ShortMaskIsZeroExtendedFork) {
  std::vector<int> cpus = AllowedCpus();
  ASSERT_FALSE(cpus.empty());
  if (cpus[0] >= 64) GTEST_SKIP() << "first allowed CPU is above 63";
  int first = cpus[0];
  EXPECT_THAT(ForkAndWait([first]() -> int {
                unsigned long word = 1UL << first;
                CHILD_EXPECT(syscall(SYS_sched_setaffinity, 0, sizeof(word),
                                     &word) == 0);
                cpu_set_t got;
                CHILD_EXPECT(sched_getaffinity(0, sizeof(got), &got) == 0);
                CHILD_EXPECT(CPU_COUNT(&got) == 1 && CPU_ISSET(first, &got));
                return 0;
              }),
              ExitedWithCode(0));
}

// A child inherits its parent's mask, and another process's mask can be
// read by pid.
TEST(SchedAffinityTest, InheritedByForkChildAndReadableByPidFork) {
  std::vector<int> cpus = AllowedCpus();
  ASSERT_FALSE(cpus.empty());
  int last = cpus.back();
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    close(p[0]);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(last, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) _exit(1);
    pid_t grandchild = fork();
    if (grandchild == 0) {
      cpu_set_t got;
      if (sched_getaffinity(0, sizeof(got), &got) != 0) _exit(1);
      _exit(CPU_COUNT(&got) == 1 && CPU_ISSET(last, &got) ? 0 : 2);
    }
    int status;
    if (waitpid(grandchild, &status, 0) != grandchild) _exit(3);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) _exit(4);
    (void)!write(p[1], "x", 1);
    pause();
    _exit(0);
  }
  close(p[1]);
  char c;
  EXPECT_THAT(read(p[0], &c, 1), SyscallSucceedsWithValue(1));
  close(p[0]);
  cpu_set_t got;
  EXPECT_THAT(sched_getaffinity(pid, sizeof(got), &got), SyscallSucceeds());
  EXPECT_EQ(CPU_COUNT(&got), 1);
  EXPECT_TRUE(CPU_ISSET(last, &got));
  kill(pid, SIGKILL);
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_THAT(status, KilledBySignal(SIGKILL));
}

TEST(GetcpuTest, ReportsAnAllowedCpuAndAcceptsNullArguments) {
  unsigned cpu = ~0u, node = ~0u;
  ASSERT_THAT(syscall(SYS_getcpu, &cpu, &node, nullptr), SyscallSucceeds());
  EXPECT_LT(cpu, static_cast<unsigned>(CPU_SETSIZE));
  EXPECT_NE(node, ~0u);
  EXPECT_THAT(syscall(SYS_getcpu, nullptr, nullptr, nullptr),
              SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_getcpu, reinterpret_cast<void*>(8), nullptr, nullptr),
              SyscallFailsWithErrno(EFAULT));
}

TEST(SchedPolicyTest, PriorityRangesPerPolicy) {
  for (int policy : {SCHED_OTHER, SCHED_BATCH, SCHED_IDLE}) {
    EXPECT_THAT(sched_get_priority_min(policy), SyscallSucceedsWithValue(0));
    EXPECT_THAT(sched_get_priority_max(policy), SyscallSucceedsWithValue(0));
  }
  for (int policy : {SCHED_FIFO, SCHED_RR}) {
    EXPECT_THAT(sched_get_priority_min(policy), SyscallSucceedsWithValue(1));
    EXPECT_THAT(sched_get_priority_max(policy), SyscallSucceedsWithValue(99));
  }
  EXPECT_THAT(sched_get_priority_min(-1), SyscallFailsWithErrno(EINVAL));
}

TEST(SchedPolicyTest, InvalidSetschedulerArgumentsFailEinval) {
  struct sched_param p = {.sched_priority = 1};
  // SCHED_OTHER takes priority 0 only.
  EXPECT_THAT(sched_setscheduler(0, SCHED_OTHER, &p),
              SyscallFailsWithErrno(EINVAL));
  p.sched_priority = 0;
  EXPECT_THAT(sched_setscheduler(0, 12345, &p), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sched_setscheduler(-1, SCHED_OTHER, &p),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, nullptr),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_getparam, 0, nullptr),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sched_setscheduler(999999, SCHED_OTHER, &p),
              SyscallFailsWithErrno(ESRCH));
}

// The non-real-time policies need no privilege and are read back.
TEST(SchedPolicyTest, BatchAndIdleCanBeSetFork) {
  EXPECT_THAT(ForkAndWait([]() -> int {
                struct sched_param p = {.sched_priority = 0};
                CHILD_EXPECT(sched_setscheduler(0, SCHED_BATCH, &p) == 0);
                CHILD_EXPECT(sched_getscheduler(0) == SCHED_BATCH);
                CHILD_EXPECT(sched_setscheduler(0, SCHED_IDLE, &p) == 0);
                CHILD_EXPECT(sched_getscheduler(0) == SCHED_IDLE);
                CHILD_EXPECT(sched_setscheduler(0, SCHED_OTHER, &p) == 0);
                CHILD_EXPECT(sched_getscheduler(0) == SCHED_OTHER);
                // sched_setparam keeps the policy.
                CHILD_EXPECT(sched_setparam(0, &p) == 0);
                CHILD_EXPECT(sched_getscheduler(0) == SCHED_OTHER);
                return 0;
              }),
              ExitedWithCode(0));
}

// Real-time policies need CAP_SYS_NICE or an RLIMIT_RTPRIO allowance.
TEST(SchedPolicyTest, UnprivilegedRealtimeFailsEpermFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAsNobodyAndWait([]() -> int {
                struct rlimit zero = {0, 0};
                CHILD_EXPECT(setrlimit(RLIMIT_RTPRIO, &zero) == 0);
                struct sched_param p = {.sched_priority = 1};
                CHILD_EXPECT(sched_setscheduler(0, SCHED_FIFO, &p) == -1);
                CHILD_EXPECT(errno == EPERM);
                CHILD_EXPECT(sched_setscheduler(0, SCHED_RR, &p) == -1);
                CHILD_EXPECT(errno == EPERM);
                CHILD_EXPECT(sched_getscheduler(0) == SCHED_OTHER);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(SchedPolicyTest, RrGetInterval) {
  struct timespec ts = {-1, -1};
  ASSERT_THAT(sched_rr_get_interval(0, &ts), SyscallSucceeds());
  EXPECT_GE(ts.tv_sec, 0);
  EXPECT_GE(ts.tv_nsec, 0);
  EXPECT_LT(ts.tv_nsec, 1000000000);
  EXPECT_THAT(sched_rr_get_interval(999999, &ts), SyscallFailsWithErrno(ESRCH));
}

TEST(SchedPolicyTest, GetattrReportsPolicyAndNice) {
  SchedAttr attr = {};
  ASSERT_THAT(syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0),
              SyscallSucceeds());
  EXPECT_EQ(attr.size, sizeof(attr));
  EXPECT_EQ(attr.sched_policy, static_cast<uint32_t>(SCHED_OTHER));
  errno = 0;
  int nice_value = getpriority(PRIO_PROCESS, 0);
  ASSERT_EQ(errno, 0);
  EXPECT_EQ(attr.sched_nice, nice_value);
  // Smaller than the first published version of the structure.
  EXPECT_THAT(syscall(SYS_sched_getattr, 0, &attr, 8, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 1),
              SyscallFailsWithErrno(EINVAL));
}

TEST(NiceTest, NiceAddsAndReturnsTheNewValueFork) {
  EXPECT_THAT(ForkAndWait([]() -> int {
                errno = 0;
                int before = getpriority(PRIO_PROCESS, 0);
                CHILD_EXPECT(errno == 0);
                if (before > 15) return 0;  // no room to test
                errno = 0;
                CHILD_EXPECT(nice(3) == before + 3);
                CHILD_EXPECT(errno == 0);
                CHILD_EXPECT(getpriority(PRIO_PROCESS, 0) == before + 3);
                return 0;
              }),
              ExitedWithCode(0));
}

// Values beyond the range are clamped to 19 (or -20), not refused.
TEST(NiceTest, OutOfRangeValuesAreClampedFork) {
  EXPECT_THAT(ForkAndWait([]() -> int {
                CHILD_EXPECT(setpriority(PRIO_PROCESS, 0, 100) == 0);
                CHILD_EXPECT(getpriority(PRIO_PROCESS, 0) == 19);
                errno = 0;
                CHILD_EXPECT(nice(5) == 19);
                CHILD_EXPECT(errno == 0);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(NiceTest, InheritedByForkChildrenFork) {
  EXPECT_THAT(ForkAndWait([]() -> int {
                CHILD_EXPECT(setpriority(PRIO_PROCESS, 0, 7) == 0);
                pid_t pid = fork();
                if (pid == 0) _exit(getpriority(PRIO_PROCESS, 0) == 7 ? 0 : 1);
                int status;
                CHILD_EXPECT(waitpid(pid, &status, 0) == pid);
                CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                // And the parent can read a child's value by pid.
                return 0;
              }),
              ExitedWithCode(0));
}

// Without CAP_SYS_NICE (and with RLIMIT_NICE 0) the nice value can only go
// up.
TEST(NiceTest, UnprivilegedCannotLowerFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAsNobodyAndWait([]() -> int {
                struct rlimit zero = {0, 0};
                CHILD_EXPECT(setrlimit(RLIMIT_NICE, &zero) == 0);
                CHILD_EXPECT(setpriority(PRIO_PROCESS, 0, 10) == 0);
                CHILD_EXPECT(setpriority(PRIO_PROCESS, 0, 5) == -1);
                CHILD_EXPECT(errno == EACCES);
                CHILD_EXPECT(getpriority(PRIO_PROCESS, 0) == 10);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(NiceTest, WhoAndWhichArgumentChecks) {
  errno = 0;
  EXPECT_EQ(getpriority(PRIO_PROCESS, 999999), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_THAT(setpriority(PRIO_PROCESS, 999999, 0),
              SyscallFailsWithErrno(ESRCH));
  // The caller's process group and user have a value too.
  errno = 0;
  getpriority(PRIO_PGRP, 0);
  EXPECT_EQ(errno, 0);
  errno = 0;
  getpriority(PRIO_USER, 0);
  EXPECT_EQ(errno, 0);
}

}  // namespace
}  // namespace sentry::testing
