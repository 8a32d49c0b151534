// Per-process basics that need no second process: ids, uname(2), resource
// limits, umask(2), the working directory, clocks, getrandom(2),
// arch_prctl(2), memory management edge cases, sysinfo(2), prctl(2) names
// and getrusage(2); from the man pages.
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/random.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

using ::testing::Gt;

// `s` without its trailing newline.
std::string Chomp(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// The value of field `key` ("PPid") in /proc/self/status, or "".
std::string StatusField(const std::string& key) {
  std::string status = ReadProcFile("/proc/self/status");
  std::string prefix = key + ":";
  size_t pos = status.find("\n" + prefix);
  if (pos == std::string::npos) return "";
  pos += 1 + prefix.size();
  size_t end = status.find('\n', pos);
  std::string value = status.substr(pos, end - pos);
  size_t first = value.find_first_not_of(" \t");
  return first == std::string::npos ? "" : value.substr(first);
}

long PageSize() { return sysconf(_SC_PAGESIZE); }

// An anonymous private read/write mapping of `pages` pages, unmapped on
// destruction (unless moved by mremap: then call set()).
class Mapping {
 public:
  explicit Mapping(size_t pages) : len_(pages * PageSize()) {
    void* p = mmap(nullptr, len_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED) << strerror(errno);
    addr_ = p == MAP_FAILED ? nullptr : static_cast<char*>(p);
  }
  ~Mapping() {
    if (addr_ != nullptr) munmap(addr_, len_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  char* addr() const { return addr_; }
  size_t len() const { return len_; }
  void set(void* addr, size_t len) {
    addr_ = static_cast<char*>(addr);
    len_ = len;
  }

 private:
  char* addr_;
  size_t len_;
};

// --- ids ---

TEST(ProcessBasicsTest, MainThreadIdIsTheProcessId) {
  EXPECT_EQ(syscall(SYS_gettid), getpid());
  EXPECT_GT(getpid(), 0);
}

TEST(ProcessBasicsTest, ParentIsAnotherProcess) {
  EXPECT_GE(getppid(), 0);
  EXPECT_NE(getppid(), getpid());
  EXPECT_EQ(StatusField("PPid"), std::to_string(getppid()));
  EXPECT_EQ(StatusField("Pid"), std::to_string(getpid()));
}

// --- uname ---

TEST(ProcessBasicsTest, UnameMatchesProcSysKernel) {
  struct utsname u;
  ASSERT_THAT(uname(&u), SyscallSucceeds());
  EXPECT_STREQ(u.sysname, "Linux");
  EXPECT_STRNE(u.release, "");
  EXPECT_STRNE(u.version, "");
  EXPECT_STREQ(u.machine, "x86_64");
  EXPECT_STRNE(u.nodename, "");
  EXPECT_EQ(Chomp(ReadProcFile("/proc/sys/kernel/ostype")), u.sysname);
  EXPECT_EQ(Chomp(ReadProcFile("/proc/sys/kernel/osrelease")), u.release);
  EXPECT_EQ(Chomp(ReadProcFile("/proc/sys/kernel/hostname")), u.nodename);
}

TEST(ProcessBasicsTest, UnameBadPointerFailsEfault) {
  EXPECT_THAT(uname(reinterpret_cast<struct utsname*>(1)),
              SyscallFailsWithErrno(EFAULT));
}

// --- resource limits ---

TEST(ProcessBasicsTest, SetrlimitLowersSoftLimitAndGetrlimitSeesIt) {
  struct rlimit old;
  ASSERT_THAT(getrlimit(RLIMIT_NOFILE, &old), SyscallSucceeds());
  ASSERT_GT(old.rlim_cur, 64u);
  struct rlimit lower = {64, old.rlim_max};
  ASSERT_THAT(setrlimit(RLIMIT_NOFILE, &lower), SyscallSucceeds());
  struct rlimit now;
  ASSERT_THAT(getrlimit(RLIMIT_NOFILE, &now), SyscallSucceeds());
  EXPECT_EQ(now.rlim_cur, 64u);
  EXPECT_EQ(now.rlim_max, old.rlim_max);
  ASSERT_THAT(setrlimit(RLIMIT_NOFILE, &old), SyscallSucceeds());
}

TEST(ProcessBasicsTest, PrlimitReturnsOldLimitWhileSettingNew) {
  struct rlimit orig;
  ASSERT_THAT(prlimit(0, RLIMIT_CORE, nullptr, &orig), SyscallSucceeds());
  struct rlimit want = {0, orig.rlim_max};
  struct rlimit old;
  ASSERT_THAT(prlimit(0, RLIMIT_CORE, &want, &old), SyscallSucceeds());
  EXPECT_EQ(old.rlim_cur, orig.rlim_cur);
  EXPECT_EQ(old.rlim_max, orig.rlim_max);
  struct rlimit now;
  ASSERT_THAT(prlimit(getpid(), RLIMIT_CORE, nullptr, &now), SyscallSucceeds());
  EXPECT_EQ(now.rlim_cur, 0u);
  ASSERT_THAT(prlimit(0, RLIMIT_CORE, &orig, nullptr), SyscallSucceeds());
}

TEST(ProcessBasicsTest, SoftLimitAboveHardFailsEinval) {
  struct rlimit old;
  ASSERT_THAT(getrlimit(RLIMIT_NOFILE, &old), SyscallSucceeds());
  ASSERT_GT(old.rlim_max, 1u);
  struct rlimit bad = {old.rlim_max, old.rlim_max - 1};
  EXPECT_THAT(setrlimit(RLIMIT_NOFILE, &bad), SyscallFailsWithErrno(EINVAL));
}

TEST(ProcessBasicsTest, UnknownResourceFailsEinval) {
  struct rlimit r;
  EXPECT_THAT(prlimit(0, static_cast<__rlimit_resource>(1000), nullptr, &r),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_getrlimit, 1000, &r), SyscallFailsWithErrno(EINVAL));
}

TEST(ProcessBasicsTest, NofileAboveNrOpenFailsEperm) {
  // setrlimit(2): EPERM "The caller tried to increase the hard RLIMIT_NOFILE
  // limit above the maximum defined by /proc/sys/fs/nr_open".
  std::string text = ReadProcFile("/proc/sys/fs/nr_open");
  ASSERT_FALSE(text.empty());
  long nr_open = strtol(text.c_str(), nullptr, 10);
  ASSERT_GT(nr_open, 0);
  struct rlimit old;
  ASSERT_THAT(getrlimit(RLIMIT_NOFILE, &old), SyscallSucceeds());
  struct rlimit big = {old.rlim_cur, static_cast<rlim_t>(nr_open) + 1};
  EXPECT_THAT(setrlimit(RLIMIT_NOFILE, &big), SyscallFailsWithErrno(EPERM));
}

TEST(ProcessBasicsTest, PrlimitOfMissingProcessFailsEsrch) {
  struct rlimit r;
  EXPECT_THAT(prlimit(0x3fffffff, RLIMIT_NOFILE, nullptr, &r),
              SyscallFailsWithErrno(ESRCH));
}

TEST(ProcessBasicsTest, RaisingHardLimitUnprivilegedForkFailsEperm) {
  std::string why_not = WhyNobodyIsUnavailable();
  if (!why_not.empty()) GTEST_SKIP() << why_not;
  EXPECT_THAT(ForkAsNobodyAndWait([] {
                struct rlimit r;
                CHILD_EXPECT(getrlimit(RLIMIT_CORE, &r) == 0);
                if (r.rlim_max == RLIM_INFINITY) {
                  r.rlim_max = 1024;
                  r.rlim_cur = 0;
                  CHILD_EXPECT(setrlimit(RLIMIT_CORE, &r) == 0);
                }
                r.rlim_max += 1;
                CHILD_EXPECT(setrlimit(RLIMIT_CORE, &r) == -1);
                CHILD_EXPECT(errno == EPERM);
                return 0;
              }),
              ExitedWithCode(0));
}

// --- umask, cwd ---

TEST(ProcessBasicsTest, UmaskReturnsThePreviousMask) {
  mode_t orig = umask(027);
  EXPECT_EQ(umask(0777 | 07000), 027u);  // only 0777 is kept
  EXPECT_EQ(umask(orig), 0777u);
  EXPECT_EQ(StatusField("Umask"), [orig] {
    char buf[8];
    snprintf(buf, sizeof(buf), "%04o", orig);
    return std::string(buf);
  }());
}

TEST(ProcessBasicsTest, ChdirThenGetcwdNamesTheDirectory) {
  TempPath dir = TempPath::CreateDir();
  char old[PATH_MAX];
  ASSERT_NE(getcwd(old, sizeof(old)), nullptr) << strerror(errno);
  ASSERT_THAT(chdir(dir.path().c_str()), SyscallSucceeds());
  char cwd[PATH_MAX];
  char* got = getcwd(cwd, sizeof(cwd));
  int err = errno;
  ASSERT_THAT(chdir(old), SyscallSucceeds());
  ASSERT_NE(got, nullptr) << strerror(err);
  // The path may differ through symlinks; it must name the same directory.
  struct stat a, b;
  ASSERT_THAT(stat(cwd, &a), SyscallSucceeds());
  ASSERT_THAT(stat(dir.path().c_str(), &b), SyscallSucceeds());
  EXPECT_EQ(a.st_dev, b.st_dev);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(cwd[0], '/');
}

TEST(ProcessBasicsTest, GetcwdIntoTooSmallBufferFailsErange) {
  char buf[1];
  EXPECT_THAT(syscall(SYS_getcwd, buf, sizeof(buf)),
              SyscallFailsWithErrno(ERANGE));
}

TEST(ProcessBasicsTest, ChdirToFileFailsEnotdir) {
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(chdir(f.path().c_str()), SyscallFailsWithErrno(ENOTDIR));
}

// --- clocks ---

TEST(ProcessBasicsTest, MonotonicClockNeverGoesBack) {
  struct timespec prev;
  ASSERT_THAT(clock_gettime(CLOCK_MONOTONIC, &prev), SyscallSucceeds());
  for (int i = 0; i < 1000; i++) {
    struct timespec now;
    ASSERT_THAT(clock_gettime(CLOCK_MONOTONIC, &now), SyscallSucceeds());
    ASSERT_TRUE(now.tv_sec > prev.tv_sec ||
                (now.tv_sec == prev.tv_sec && now.tv_nsec >= prev.tv_nsec))
        << "went back at iteration " << i;
    prev = now;
  }
}

TEST(ProcessBasicsTest, RealtimeClockAgreesWithTimeAndGettimeofday) {
  struct timespec ts;
  ASSERT_THAT(clock_gettime(CLOCK_REALTIME, &ts), SyscallSucceeds());
  time_t t = time(nullptr);
  struct timeval tv;
  ASSERT_THAT(gettimeofday(&tv, nullptr), SyscallSucceeds());
  EXPECT_LE(std::abs(static_cast<long>(t - ts.tv_sec)), 2);
  EXPECT_LE(std::abs(static_cast<long>(tv.tv_sec - ts.tv_sec)), 2);
  EXPECT_GE(tv.tv_usec, 0);
  EXPECT_LT(tv.tv_usec, 1000000);
  // Some time after 2020-01-01.
  EXPECT_GT(ts.tv_sec, 1577836800);
}

TEST(ProcessBasicsTest, ClockGetresIsPositiveAndBelowASecond) {
  for (clockid_t c : {CLOCK_REALTIME, CLOCK_MONOTONIC}) {
    struct timespec res = {-1, -1};
    ASSERT_THAT(clock_getres(c, &res), SyscallSucceeds());
    EXPECT_EQ(res.tv_sec, 0) << "clock " << c;
    EXPECT_GT(res.tv_nsec, 0) << "clock " << c;
  }
}

TEST(ProcessBasicsTest, UnknownClockFailsEinval) {
  struct timespec ts;
  EXPECT_THAT(syscall(SYS_clock_gettime, 12345, &ts),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_clock_getres, 12345, &ts),
              SyscallFailsWithErrno(EINVAL));
}

// --- getrandom ---

TEST(ProcessBasicsTest, GetrandomFillsTheRequestedLength) {
  char buf[256];
  EXPECT_THAT(getrandom(buf, 0, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(getrandom(buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(sizeof(buf)));
  char a[32] = {}, b[32] = {};
  ASSERT_THAT(getrandom(a, sizeof(a), 0), SyscallSucceedsWithValue(32));
  ASSERT_THAT(getrandom(b, sizeof(b), 0), SyscallSucceedsWithValue(32));
  EXPECT_NE(memcmp(a, b, sizeof(a)), 0);
}

TEST(ProcessBasicsTest, GetrandomNonblockSucceedsOnceSeeded) {
  char buf[64];
  EXPECT_THAT(getrandom(buf, sizeof(buf), GRND_NONBLOCK),
              SyscallSucceedsWithValue(sizeof(buf)));
}

TEST(ProcessBasicsTest, GetrandomUnknownFlagFailsEinval) {
  char buf[8];
  EXPECT_THAT(getrandom(buf, sizeof(buf), 0x100),
              SyscallFailsWithErrno(EINVAL));
}

TEST(ProcessBasicsTest, SchedYieldSucceeds) {
  EXPECT_THAT(sched_yield(), SyscallSucceedsWithValue(0));
}

// --- arch_prctl ---

TEST(ProcessBasicsTest, ArchPrctlGetFsIsTheThreadPointer) {
  unsigned long fs = 0;
  ASSERT_THAT(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), SyscallSucceeds());
  // The x86-64 TLS ABI: the word at %fs:0 points to itself.
  unsigned long self;
  asm volatile("mov %%fs:0, %0" : "=r"(self));
  EXPECT_EQ(fs, self);
  EXPECT_NE(fs, 0u);
}

TEST(ProcessBasicsTest, ArchPrctlUnknownCodeFailsEinval) {
  unsigned long v;
  EXPECT_THAT(syscall(SYS_arch_prctl, 0x9999, &v),
              SyscallFailsWithErrno(EINVAL));
}

// --- memory ---

TEST(ProcessBasicsTest, BrkGrowsTheHeapAndShrinksBack) {
  uintptr_t start = syscall(SYS_brk, 0);
  ASSERT_NE(start, 0u);
  const uintptr_t want = start + 16 * PageSize();
  uintptr_t grown = syscall(SYS_brk, want);
  ASSERT_EQ(grown, want);
  // The new memory is usable and zero-filled.
  volatile char* p = reinterpret_cast<volatile char*>(want - 1);
  EXPECT_EQ(*p, 0);
  *p = 'x';
  EXPECT_EQ(*p, 'x');
  EXPECT_EQ(static_cast<uintptr_t>(syscall(SYS_brk, start)), start);
}

TEST(ProcessBasicsTest, MmapZeroLengthFailsEinval) {
  EXPECT_EQ(mmap(nullptr, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
}

TEST(ProcessBasicsTest, MmapWithoutPrivateOrSharedFailsEinval) {
  EXPECT_EQ(mmap(nullptr, PageSize(), PROT_READ, MAP_ANONYMOUS, -1, 0),
            MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
}

TEST(ProcessBasicsTest, MmapFixedUnalignedFailsEinval) {
  EXPECT_EQ(mmap(reinterpret_cast<void*>(0x10000001), PageSize(), PROT_READ,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
            MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
}

TEST(ProcessBasicsTest, MmapLargerThanAddressSpaceFailsEnomem) {
  EXPECT_EQ(mmap(nullptr, size_t{1} << 50, PROT_READ,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
            MAP_FAILED);
  EXPECT_EQ(errno, ENOMEM);
}

TEST(ProcessBasicsTest, MunmapAndMprotectUnalignedFailEinval) {
  Mapping m(2);
  ASSERT_NE(m.addr(), nullptr);
  EXPECT_THAT(munmap(m.addr() + 1, PageSize()), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mprotect(m.addr() + 1, PageSize(), PROT_READ),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(munmap(m.addr(), 0), SyscallFailsWithErrno(EINVAL));
}

TEST(ProcessBasicsTest, MprotectOfUnmappedRangeFailsEnomem) {
  Mapping m(3);
  ASSERT_NE(m.addr(), nullptr);
  // Punch a hole in the middle; mprotect over it fails.
  ASSERT_THAT(munmap(m.addr() + PageSize(), PageSize()), SyscallSucceeds());
  EXPECT_THAT(mprotect(m.addr(), 3 * PageSize(), PROT_READ),
              SyscallFailsWithErrno(ENOMEM));
  // Unmapping an already unmapped range is not an error.
  EXPECT_THAT(munmap(m.addr() + PageSize(), PageSize()), SyscallSucceeds());
}

TEST(ProcessBasicsTest, MadviseDontneedZeroesAnonymousPrivatePages) {
  Mapping m(2);
  ASSERT_NE(m.addr(), nullptr);
  memset(m.addr(), 'x', m.len());
  ASSERT_THAT(madvise(m.addr(), PageSize(), MADV_DONTNEED), SyscallSucceeds());
  EXPECT_EQ(m.addr()[0], 0);
  EXPECT_EQ(m.addr()[PageSize() - 1], 0);
  // The page after the range keeps its contents.
  EXPECT_EQ(m.addr()[PageSize()], 'x');
}

TEST(ProcessBasicsTest, MadviseUnknownAdviceFailsEinval) {
  Mapping m(1);
  ASSERT_NE(m.addr(), nullptr);
  EXPECT_THAT(madvise(m.addr(), m.len(), 12345), SyscallFailsWithErrno(EINVAL));
}

TEST(ProcessBasicsTest, MremapGrowsKeepingContents) {
  Mapping m(1);
  ASSERT_NE(m.addr(), nullptr);
  memset(m.addr(), 'a', m.len());
  void* p = mremap(m.addr(), m.len(), 4 * PageSize(), MREMAP_MAYMOVE);
  ASSERT_NE(p, MAP_FAILED) << strerror(errno);
  m.set(p, 4 * PageSize());
  EXPECT_EQ(m.addr()[0], 'a');
  EXPECT_EQ(m.addr()[PageSize() - 1], 'a');
  // The grown part is new zero-filled memory.
  EXPECT_EQ(m.addr()[PageSize()], 0);
  m.addr()[4 * PageSize() - 1] = 'z';
}

TEST(ProcessBasicsTest, MremapFixedMovesTheMapping) {
  Mapping src(2);
  Mapping dst(2);
  ASSERT_NE(src.addr(), nullptr);
  ASSERT_NE(dst.addr(), nullptr);
  memset(src.addr(), 'm', src.len());
  void* p = mremap(src.addr(), src.len(), src.len(),
                   MREMAP_MAYMOVE | MREMAP_FIXED, dst.addr());
  ASSERT_EQ(p, dst.addr()) << strerror(errno);
  EXPECT_EQ(dst.addr()[0], 'm');
  EXPECT_EQ(dst.addr()[dst.len() - 1], 'm');
  // The old range is no longer mapped.
  EXPECT_THAT(mprotect(src.addr(), src.len(), PROT_READ),
              SyscallFailsWithErrno(ENOMEM));
  src.set(nullptr, 0);
}

TEST(ProcessBasicsTest, MremapGrowInPlaceWithoutMaymoveFailsEnomem) {
  Mapping m(2);
  ASSERT_NE(m.addr(), nullptr);
  // The page after the first is the rest of `m`: no room to grow in place.
  EXPECT_EQ(mremap(m.addr(), PageSize(), 2 * PageSize(), 0), MAP_FAILED);
  EXPECT_EQ(errno, ENOMEM);
}

// --- sysinfo, prctl, getrusage ---

TEST(ProcessBasicsTest, SysinfoFieldsAreSane) {
  struct sysinfo si;
  ASSERT_THAT(sysinfo(&si), SyscallSucceeds());
  EXPECT_GT(si.uptime, 0);
  EXPECT_GE(si.mem_unit, 1u);
  EXPECT_GT(si.totalram, 0u);
  EXPECT_LE(si.freeram, si.totalram);
  EXPECT_GE(si.procs, 1);
}

TEST(ProcessBasicsTest, PrctlSetNameIsReadBackTruncated) {
  char old[16] = {};
  ASSERT_THAT(prctl(PR_GET_NAME, old), SyscallSucceeds());
  ASSERT_THAT(prctl(PR_SET_NAME, "a-name-longer-than-15"), SyscallSucceeds());
  char now[16] = {};
  ASSERT_THAT(prctl(PR_GET_NAME, now), SyscallSucceeds());
  // "The name can be up to 16 bytes long, including the terminating null".
  EXPECT_STREQ(now, "a-name-longer-t");
  EXPECT_EQ(Chomp(ReadProcFile("/proc/self/comm")), "a-name-longer-t");
  ASSERT_THAT(prctl(PR_SET_NAME, old), SyscallSucceeds());
}

TEST(ProcessBasicsTest, GetrusageSelfSucceeds) {
  struct rusage ru;
  ASSERT_THAT(getrusage(RUSAGE_SELF, &ru), SyscallSucceeds());
  EXPECT_GE(ru.ru_utime.tv_sec, 0);
  EXPECT_GE(ru.ru_stime.tv_sec, 0);
  EXPECT_THAT(ru.ru_maxrss, Gt(0));
}

TEST(ProcessBasicsTest, GetrusageUnknownWhoFailsEinval) {
  struct rusage ru;
  EXPECT_THAT(syscall(SYS_getrusage, 12345, &ru),
              SyscallFailsWithErrno(EINVAL));
}

// --- scheduling and priorities (sched_setaffinity(2), getpriority(2)) ---

TEST(SchedTest, GetaffinityIncludesCpuZeroAndReturnsMaskSize) {
  cpu_set_t set;
  CPU_ZERO(&set);
  long n = syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
  ASSERT_THAT(n, SyscallSucceeds());
  EXPECT_GT(n, 0);
  EXPECT_EQ(n % sizeof(long), 0u);
  EXPECT_GE(CPU_COUNT(&set), 1);
}

TEST(SchedTest, GetaffinityTooSmallFailsEinval) {
  unsigned char small[1];
  EXPECT_THAT(syscall(SYS_sched_getaffinity, 0, sizeof(small), small),
              SyscallFailsWithErrno(EINVAL));
}

TEST(SchedTest, SetaffinityToCurrentMaskSucceeds) {
  cpu_set_t set;
  ASSERT_THAT(sched_getaffinity(0, sizeof(set), &set), SyscallSucceeds());
  EXPECT_THAT(sched_setaffinity(0, sizeof(set), &set), SyscallSucceeds());
}

TEST(SchedTest, SchedulerIsOtherWithPriorityZero) {
  EXPECT_THAT(sched_getscheduler(0), SyscallSucceedsWithValue(SCHED_OTHER));
  struct sched_param p = {.sched_priority = 42};
  ASSERT_THAT(sched_getparam(0, &p), SyscallSucceeds());
  EXPECT_EQ(p.sched_priority, 0);
  EXPECT_THAT(sched_get_priority_max(SCHED_FIFO), SyscallSucceedsWithValue(99));
  EXPECT_THAT(sched_get_priority_min(SCHED_RR), SyscallSucceedsWithValue(1));
  EXPECT_THAT(sched_get_priority_max(12345), SyscallFailsWithErrno(EINVAL));
}

TEST(SchedTest, UnknownPidFailsEsrch) {
  EXPECT_THAT(sched_getscheduler(999999), SyscallFailsWithErrno(ESRCH));
}

TEST(PriorityTest, SetThenGetRoundTrips) {
  errno = 0;
  int before = getpriority(PRIO_PROCESS, 0);
  ASSERT_EQ(errno, 0);
  ASSERT_THAT(setpriority(PRIO_PROCESS, 0, before + 1), SyscallSucceeds());
  errno = 0;
  EXPECT_EQ(getpriority(PRIO_PROCESS, 0), before + 1);
  EXPECT_EQ(errno, 0);
  // Back down needs CAP_SYS_NICE, which root in a user namespace (Bazel's
  // sandbox) lacks over the host: success or EACCES.
  if (setpriority(PRIO_PROCESS, 0, before) != 0) {
    EXPECT_EQ(errno, EACCES);
  }
}

TEST(PriorityTest, BadWhichFailsEinval) {
  EXPECT_THAT(setpriority(42, 0, 0), SyscallFailsWithErrno(EINVAL));
}

TEST(TimesTest, ReturnsGrowingTicks) {
  struct tms a, b;
  clock_t t1 = times(&a);
  ASSERT_NE(t1, static_cast<clock_t>(-1));
  usleep(30 * 1000);
  clock_t t2 = times(&b);
  EXPECT_GE(t2, t1);
  EXPECT_GE(b.tms_utime, a.tms_utime);
}

// --- ITIMER_REAL and alarm (setitimer(2), alarm(2)) ---

volatile sig_atomic_t alarms_seen = 0;
void CountAlarm(int) { alarms_seen = alarms_seen + 1; }

TEST(ItimerTest, AlarmReturnsSecondsLeft) {
  EXPECT_EQ(alarm(100), 0u);
  unsigned left = alarm(0);
  EXPECT_GE(left, 99u);
  EXPECT_LE(left, 100u);
  EXPECT_EQ(alarm(0), 0u);
}

TEST(ItimerTest, SetGetRoundTripAndDisarm) {
  struct itimerval v = {{0, 0}, {10, 0}}, old, cur;
  ASSERT_THAT(setitimer(ITIMER_REAL, &v, &old), SyscallSucceeds());
  EXPECT_EQ(old.it_value.tv_sec, 0);
  ASSERT_THAT(getitimer(ITIMER_REAL, &cur), SyscallSucceeds());
  EXPECT_LE(cur.it_value.tv_sec, 10);
  EXPECT_GE(cur.it_value.tv_sec, 9);
  struct itimerval off = {{0, 0}, {0, 0}};
  ASSERT_THAT(setitimer(ITIMER_REAL, &off, nullptr), SyscallSucceeds());
  ASSERT_THAT(getitimer(ITIMER_REAL, &cur), SyscallSucceeds());
  EXPECT_EQ(cur.it_value.tv_sec, 0);
  EXPECT_EQ(cur.it_value.tv_usec, 0);
}

TEST(ItimerTest, BadTimevalFailsEinval) {
  struct itimerval v = {{0, 0}, {0, 1000000}};
  EXPECT_THAT(setitimer(ITIMER_REAL, &v, nullptr),
              SyscallFailsWithErrno(EINVAL));
}

TEST(ItimerTest, ExpiryDeliversSigalrm) {
  struct sigaction sa = {}, old;
  sa.sa_handler = CountAlarm;
  ASSERT_THAT(sigaction(SIGALRM, &sa, &old), SyscallSucceeds());
  alarms_seen = 0;
  struct itimerval v = {{0, 0}, {0, 50 * 1000}};
  ASSERT_THAT(setitimer(ITIMER_REAL, &v, nullptr), SyscallSucceeds());
  for (int i = 0; i < 200 && alarms_seen == 0; i++) usleep(10 * 1000);
  EXPECT_EQ(alarms_seen, 1);
  ASSERT_THAT(sigaction(SIGALRM, &old, nullptr), SyscallSucceeds());
}

TEST(ItimerTest, IntervalTimerRepeats) {
  struct sigaction sa = {}, old;
  sa.sa_handler = CountAlarm;
  ASSERT_THAT(sigaction(SIGALRM, &sa, &old), SyscallSucceeds());
  alarms_seen = 0;
  struct itimerval v = {{0, 20 * 1000}, {0, 20 * 1000}};
  ASSERT_THAT(setitimer(ITIMER_REAL, &v, nullptr), SyscallSucceeds());
  for (int i = 0; i < 300 && alarms_seen < 3; i++) usleep(10 * 1000);
  struct itimerval off = {{0, 0}, {0, 0}};
  ASSERT_THAT(setitimer(ITIMER_REAL, &off, nullptr), SyscallSucceeds());
  EXPECT_GE(alarms_seen, 3);
  ASSERT_THAT(sigaction(SIGALRM, &old, nullptr), SyscallSucceeds());
}

}  // namespace
}  // namespace sentry::testing
