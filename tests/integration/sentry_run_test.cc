// Integration test of `sentry run`: static guest programs (tests/guests)
// run natively and under the Sentry must behave the same.
//
// Every guest is built three ways (glibc -static, musl -static, glibc
// -static-pie) and each case runs for every flavour and every platform in
// kPlatforms. What each case proves:
//
// GuestNativeTest.Native (also the reference for everything below)
//   The guest program itself is right on this host: expected exit status or
//   signal, expected stdout. A failure here is a broken guest or host, not a
//   Sentry bug.
// GuestTest.SentryMatchesNative (`sentry run --platform=P GUEST ARGS`)
//   stdout and exit status equal the native run's; lines the guest wrote to
//   stderr arrive on the Sentry's stderr in order; the Sentry exits without
//   leaving anything holding the guest's stdio. Per guest:
//   - hello: argv reaches the guest, including empty arguments and ones
//     that look like Sentry flags (flag parsing stops at PROGRAM); stdio
//     output (libc buffering, flush at exit, write vs. writev) is forwarded
//     to the caller's stdout/stderr.
//   - exit_code: exit_group status reaches the caller, including 255 and
//     256 (truncated to 0).
//   - env_args: the guest gets the caller's environment, every entry, in
//     order, including empty values.
//   - stdin_echo: the caller's stdin is forwarded (300 kB through a pipe,
//     more than a pipe buffer) and read() returns 0 at EOF.
//   - auxv: the initial stack layout and auxv (AT_PAGESZ, AT_RANDOM,
//     AT_PHDR/PHENT/PHNUM, AT_ENTRY, AT_BASE, AT_EXECFN, AT_UID..AT_EGID
//     vs. getuid() etc., AT_SECURE, AT_CLKTCK) are what Linux gives.
//   - memory: brk grow/shrink (shrunk pages gone, regrown pages zeroed),
//     anonymous private and shared mmap, hints, MAP_FIXED over existing
//     mappings, munmap and mprotect splitting mappings, EINVAL/ENOMEM
//     cases, a sparse 256 MiB mapping and 2 MiB of stack growth.
//   - efault: wild pointers (near NULL, unmapped, kernel half,
//     non-canonical) passed to syscalls in both directions give EFAULT
//     and neither the guest nor the Sentry crashes.
//   - enosys: unknown syscall numbers (1000, 100000, 0x7fffffff, -1) and
//     never-implemented slots (tuxcall, afs_syscall) give ENOSYS and the
//     guest keeps running.
//   - misc_syscalls: uname, getpid/gettid/getppid, set_tid_address, clocks
//     (raw and via libc), getrandom, prlimit64, rt_sigaction,
//     rt_sigprocmask, arch_prctl, fstat/newfstatat/ioctl(TCGETS,
//     TIOCGWINSZ) on stdio report what Linux reports (stdio are pipes).
//   - pipes_poll: pipes (data, EOF, POLLHUP, O_NONBLOCK, PIPE_BUF
//     atomicity, F_GETPIPE_SZ/F_SETPIPE_SZ, FIONREAD, EPIPE raising
//     SIGPIPE), FIFOs (open rules, ENXIO), eventfd (counter, semaphore),
//     epoll (level, edge, oneshot, MOD/DEL, close removes, timeouts),
//     timerfd (blocking read, poll and epoll wake at expiry, absolute
//     times), signalfd, memfd_create and seals, select/pselect6/poll
//     (timeouts, EBADF, POLLNVAL), sendfile/splice/tee/copy_file_range.
//   - procfs_dev ARGS: /proc/self and thread-self, cmdline, comm, stat,
//     status, statm, environ, maps, limits, mounts, mountinfo, cwd, root,
//     fd/ (readlink, re-opening a pipe), fdinfo/, sys/kernel (matching
//     uname), boot_id/uuid, uptime, loadavg, cpuinfo, meminfo, stat,
//     filesystems; /sys cpu lists; /dev nodes (numbers, modes, null,
//     zero read and mmap, full, urandom) and links.
//   - getpid_loop: a tight syscall loop works (output varies: pattern only).
//   - segv, abort_prog, crash MODE: a guest killed by SIGSEGV, SIGABRT,
//     SIGILL, SIGFPE or SIGTRAP (including a #GP from a non-canonical
//     address and executing a non-executable page) makes the Sentry exit
//     128+N, with exactly one stderr line naming the signal; output
//     written before the crash is not lost.
// SentryFlavourTest.Strace
//   --strace prints each syscall on stderr (write or writev, exit_group,
//   and one line per getpid call) without changing the guest's stdout.
// SentryFlavourTest.UnimplementedSyscallLoggedOnce
//   The first use of an unimplemented syscall (number 1000, called twice)
//   logs exactly one line containing "unimplemented syscall" and the
//   number to the --debug-log file; the guest's stderr stays as it would be
//   natively (the Sentry never writes diagnostics into the guest's stdio).
// SentryFlavourTest.ForwardsSigint/ForwardsSigterm
//   SIGINT/SIGTERM sent to the `sentry` process reach the guest, whose
//   default action kills it: the Sentry exits 130/143 like a shell would.
// BadInputTest.Rejected (and NotExecutableFileRejected)
//   Files that are not runnable static x86-64 ELF programs (text, empty,
//   truncated, another machine (aarch64, i386), ET_REL, program headers
//   past EOF / of the wrong size / absent, a directory, a missing path, no
//   exec permission): exit 126 (127 when missing), exactly one stderr line
//   starting "sentry: ", nothing on stdout, no crash, done within 5 s. The
//   native half checks that execve() really rejects each file.
// SentryCliTest.*
//   Misuse of the CLI (no program, unknown flag) fails cleanly.
//
// Syscalls needed beyond the first step's list (from strace of the native
// runs): auxv calls getuid/geteuid/getgid/getegid; abort_prog needs
// getpid/gettid + tgkill (glibc) or tkill (musl) and signal delivery to
// itself. glibc's startup also calls readlink("/proc/self/exe") but
// tolerates any error from it.
//
// Flags (after the gtest ones):
//   --native_only  run only the native halves (the guests_native_test
//                  target): everything needing the Sentry is skipped.
//   --passthrough_sentry=RUNFILE  test the harness itself (the
//                  harness_selftest target) against passthrough_sentry, a
//                  stand-in that runs guests natively; tests only a real
//                  Sentry can pass (--strace, unimplemented-syscall log)
//                  are skipped.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "tests/util/run_program.h"
#include "tests/util/runfiles.h"

namespace sentry::testing {
namespace {

bool g_native_only = false;
// Workspace-relative runfile path of the `sentry` binary under test.
std::string g_sentry_runfile = "cmd/sentry/sentry";
// The binary is the passthrough stand-in (harness self-test), which cannot
// do what only a real Sentry can.
bool g_passthrough = false;

// Skips the current test when only the native half is wanted.
#define REQUIRE_SENTRY()                                           \
  do {                                                             \
    if (g_native_only) GTEST_SKIP() << "--native_only: no Sentry"; \
  } while (0)

// Skips the current test when only a real Sentry can pass it.
#define REQUIRE_REAL_SENTRY()                                             \
  do {                                                                    \
    REQUIRE_SENTRY();                                                     \
    if (g_passthrough) GTEST_SKIP() << "passthrough stand-in: no Sentry"; \
  } while (0)

const std::vector<std::string> kFlavours = {"glibc", "musl", "glibc_pie"};
// Add "seccomp-trap" here once that platform exists.
const std::vector<std::string> kPlatforms = {"ptrace"};

constexpr absl::Duration kTimeout = absl::Seconds(30);

// Environment the guests see (set in main(), so native and Sentry runs
// inherit the same values).
constexpr char kEnvVar[] = "SENTRY_TEST_VAR";
constexpr char kEnvValue[] = "a value with spaces=and equals";
constexpr char kEnvEmpty[] = "SENTRY_TEST_EMPTY";
constexpr char kEnvUnset[] = "SENTRY_TEST_UNSET";

std::string GuestPath(const std::string& flavour, const std::string& name) {
  return RunfilePath("tests/guests/" + flavour + "/" + name);
}

std::string SentryPath() { return RunfilePath(g_sentry_runfile); }

// argv for `sentry run --platform=P [flags...] PROGRAM ARGS...`.
std::vector<std::string> SentryArgv(const std::string& platform,
                                    const std::vector<std::string>& flags,
                                    const std::vector<std::string>& guest) {
  std::vector<std::string> argv = {SentryPath(), "run",
                                   "--platform=" + platform};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), guest.begin(), guest.end());
  return argv;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Lines of `text` containing `needle`.
int CountLinesContaining(const std::string& text, const std::string& needle) {
  int n = 0;
  for (const std::string& line : SplitLines(text)) n += Contains(line, needle);
  return n;
}

bool IsWordChar(char ch) {
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
         (ch >= 'A' && ch <= 'Z') || ch == '_';
}

// Whether `word` occurs in `text` delimited by non-word characters.
// (No std::regex: GCC 12's <regex> trips -Werror=maybe-uninitialized under
// --config=asan.)
bool ContainsWord(const std::string& text, const std::string& word) {
  for (size_t pos = text.find(word); pos != std::string::npos;
       pos = text.find(word, pos + 1)) {
    size_t end = pos + word.size();
    if ((pos == 0 || !IsWordChar(text[pos - 1])) &&
        (end == text.size() || !IsWordChar(text[end]))) {
      return true;
    }
  }
  return false;
}

// Lines that contain "unimplemented syscall" followed (anywhere later on
// the line, so a timestamp or pid prefix cannot match) by `number` as a
// whole word.
int CountUnimplementedLines(const std::string& text,
                            const std::string& number) {
  static constexpr char kMarker[] = "unimplemented syscall";
  int n = 0;
  for (const std::string& line : SplitLines(text)) {
    size_t pos = line.find(kMarker);
    if (pos == std::string::npos) continue;
    n += ContainsWord(line.substr(pos + sizeof(kMarker) - 1), number);
  }
  return n;
}

// getpid_loop's output: "ns_per_call <digits>.<digit>\n".
bool IsNsPerCallOutput(const std::string& out) {
  static constexpr char kPrefix[] = "ns_per_call ";
  if (out.rfind(kPrefix, 0) != 0) return false;
  size_t i = sizeof(kPrefix) - 1, digits = 0;
  while (i < out.size() && out[i] >= '0' && out[i] <= '9') i++, digits++;
  return digits > 0 && out.size() == i + 3 && out[i] == '.' &&
         out[i + 1] >= '0' && out[i + 1] <= '9' && out[i + 2] == '\n';
}

// True when the lines of `needles` occur in `haystack`'s lines in order
// (other lines may come between them).
bool LinesAreSubsequence(const std::string& needles,
                         const std::string& haystack) {
  std::vector<std::string> want = SplitLines(needles);
  std::vector<std::string> have = SplitLines(haystack);
  size_t i = 0;
  for (size_t j = 0; j < have.size() && i < want.size(); j++) {
    if (have[j] == want[i]) i++;
  }
  return i == want.size();
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// --- Guest cases -----------------------------------------------------------

struct GuestCase {
  std::string label;  // unique, [A-Za-z0-9_]
  std::string program;
  std::vector<std::string> args;
  std::string stdin_data;
  // Native expectations: exit status (when signal == 0) or signal.
  int exit_code = 0;
  int signal = 0;
  // When set, stdout must be exactly this.
  std::optional<std::string> stdout_equals;
  // Substrings stdout must contain, and its required ending.
  std::vector<std::string> stdout_contains;
  std::string stdout_ends_with;
  // When set, stdout varies between runs: it must satisfy this predicate
  // and is not compared with the native run.
  bool (*stdout_matches)(const std::string&) = nullptr;
};

void PrintTo(const GuestCase& c, std::ostream* os) { *os << c.label; }

std::string StdinEchoData() {
  std::string data;
  for (int i = 0; data.size() < 300000; i++) {
    data += "line " + std::to_string(i) + " of the stdin_echo input\n";
  }
  data.resize(300000);
  return data;
}

// What stdin_echo prints after echoing `data`.
std::string StdinEchoTrailer(const std::string& data) {
  uint32_t hash = 2166136261u;  // FNV-1a, as in stdin_echo.c
  for (unsigned char ch : data) hash = (hash ^ ch) * 16777619u;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "bytes=%zu checksum=%08x\n", data.size(),
                hash);
  return buf;
}

std::vector<GuestCase> GuestCases() {
  std::vector<GuestCase> cases;
  auto ok = [&](const std::string& program) {
    GuestCase c;
    c.label = program;
    c.program = program;
    c.stdout_ends_with = "OK\n";
    return c;
  };
  {
    GuestCase c;
    c.label = "hello";
    c.program = "hello";
    // Arguments after PROGRAM belong to the guest even when they look like
    // Sentry flags: flag parsing must stop at PROGRAM.
    c.args = {"first arg", "", "--strace", "--platform=none", "-v"};
    c.stdout_contains = {"hello, world\n",      "argc=6\n",
                         "argv[1]=first arg\n", "argv[2]=\n",
                         "argv[3]=--strace\n",  "argv[4]=--platform=none\n",
                         "argv[5]=-v\n"};
    cases.push_back(c);
  }
  for (int code : {0, 1, 42, 255, 256}) {
    GuestCase c;
    c.label = "exit_code_" + std::to_string(code);
    c.program = "exit_code";
    c.args = {std::to_string(code)};
    c.exit_code = code & 0xff;
    cases.push_back(c);
  }
  {
    GuestCase c;
    c.label = "env_args";
    c.program = "env_args";
    c.args = {kEnvVar, kEnvEmpty, kEnvUnset, "--all"};
    c.stdout_contains = {std::string(kEnvVar) + "=<" + kEnvValue + ">\n",
                         std::string(kEnvEmpty) + "=<>\n",
                         std::string(kEnvUnset) + " is unset\n", "envc="};
    cases.push_back(c);
  }
  {
    GuestCase c;
    c.label = "stdin_echo";
    c.program = "stdin_echo";
    c.stdin_data = StdinEchoData();
    c.stdout_equals = c.stdin_data + StdinEchoTrailer(c.stdin_data);
    cases.push_back(c);
  }
  cases.push_back(ok("auxv"));
  cases.push_back(ok("memory"));
  cases.push_back(ok("efault"));
  cases.push_back(ok("enosys"));
  {
    GuestCase c = ok("misc_syscalls");
    c.stdout_contains = {"uname: sysname=Linux machine=x86_64\n",
                         "fstat(0): fifo\n", "fstat(1): fifo\n",
                         "fstat(2): fifo\n",
                         "ioctl(1): TCGETS=ENOTTY TIOCGWINSZ=ENOTTY\n"};
    cases.push_back(c);
  }
  cases.push_back(ok("pipes_poll"));
  {
    GuestCase c = ok("procfs_dev");
    c.args = {"first", "second arg"};
    c.stdout_contains = {"fd link of an eventfd: anon_inode:[eventfd]\n",
                         "pipe-max-size: 1048576\n",
                         "/dev/stdin -> /proc/self/fd/0\n"};
    cases.push_back(c);
  }
  {
    GuestCase c;
    c.label = "getpid_loop";
    c.program = "getpid_loop";
    c.args = {"1000"};
    c.stdout_matches = IsNsPerCallOutput;
    cases.push_back(c);
  }
  {
    GuestCase c;
    c.label = "segv";
    c.program = "segv";
    c.signal = SIGSEGV;
    c.stdout_contains = {"about to write through NULL\n"};
    cases.push_back(c);
  }
  {
    GuestCase c;
    c.label = "abort_prog";
    c.program = "abort_prog";
    c.signal = SIGABRT;
    c.stdout_contains = {"about to abort\n"};
    cases.push_back(c);
  }
  const std::vector<std::pair<std::string, int>> crashes = {
      {"ill", SIGILL},        {"fpe", SIGFPE},           {"trap", SIGTRAP},
      {"wild_read", SIGSEGV}, {"noncanonical", SIGSEGV}, {"exec_data", SIGSEGV},
  };
  for (const auto& [mode, sig] : crashes) {
    GuestCase c;
    c.label = "crash_" + mode;
    c.program = "crash";
    c.args = {mode};
    c.signal = sig;
    c.stdout_contains = {"crashing with " + mode + "\n"};
    cases.push_back(c);
  }
  return cases;
}

// Checks a native run against the case's expectations.
void CheckNative(const GuestCase& c, const RunResult& r) {
  ASSERT_EQ(r.exec_errno, 0) << r.Describe();
  ASSERT_FALSE(r.timed_out) << r.Describe();
  if (c.signal != 0) {
    ASSERT_TRUE(r.signaled())
        << "want " << SignalName(c.signal) << "; " << r.Describe();
    EXPECT_EQ(r.term_signal(), c.signal) << r.Describe();
  } else {
    ASSERT_TRUE(r.exited()) << r.Describe();
    EXPECT_EQ(r.exit_code(), c.exit_code) << r.Describe();
  }
  for (const std::string& s : c.stdout_contains) {
    EXPECT_TRUE(Contains(r.stdout_data, s))
        << "stdout lacks \"" << s.substr(0, 200) << "\"\n"
        << r.Describe();
  }
  if (c.stdout_equals.has_value()) {
    // Not EXPECT_EQ: the strings may be large.
    EXPECT_TRUE(r.stdout_data == *c.stdout_equals)
        << "stdout differs from the expected " << c.stdout_equals->size()
        << " bytes; got " << r.stdout_data.size() << " bytes ending in \""
        << r.stdout_data.substr(r.stdout_data.size() -
                                std::min<size_t>(r.stdout_data.size(), 200))
        << "\"";
  }
  const std::string& end = c.stdout_ends_with;
  if (!end.empty()) {
    EXPECT_TRUE(r.stdout_data.size() >= end.size() &&
                r.stdout_data.compare(r.stdout_data.size() - end.size(),
                                      end.size(), end) == 0)
        << "stdout does not end with \"" << end << "\"\n"
        << r.Describe();
  }
  if (c.stdout_matches != nullptr) {
    EXPECT_TRUE(c.stdout_matches(r.stdout_data)) << "unexpected stdout\n"
                                                 << r.Describe();
  }
}

std::vector<std::string> GuestArgv(const GuestCase& c,
                                   const std::string& flavour) {
  std::vector<std::string> argv = {GuestPath(flavour, c.program)};
  argv.insert(argv.end(), c.args.begin(), c.args.end());
  return argv;
}

using NativeParam = std::tuple<GuestCase, std::string>;

class GuestNativeTest : public ::testing::TestWithParam<NativeParam> {};

TEST_P(GuestNativeTest, Native) {
  const auto& [c, flavour] = GetParam();
  CheckNative(c, RunProgram(GuestArgv(c, flavour), kTimeout, c.stdin_data));
}

std::string NativeParamName(const ::testing::TestParamInfo<NativeParam>& info) {
  return std::get<0>(info.param).label + "_" + std::get<1>(info.param);
}

INSTANTIATE_TEST_SUITE_P(Guests, GuestNativeTest,
                         ::testing::Combine(::testing::ValuesIn(GuestCases()),
                                            ::testing::ValuesIn(kFlavours)),
                         NativeParamName);

using GuestParam = std::tuple<GuestCase, std::string, std::string>;

class GuestTest : public ::testing::TestWithParam<GuestParam> {
 protected:
  const GuestCase& guest_case() const { return std::get<0>(GetParam()); }
  const std::string& flavour() const { return std::get<1>(GetParam()); }
  const std::string& platform() const { return std::get<2>(GetParam()); }
  std::vector<std::string> Argv() const {
    return GuestArgv(guest_case(), flavour());
  }
};

TEST_P(GuestTest, SentryMatchesNative) {
  REQUIRE_SENTRY();
  const GuestCase& c = guest_case();
  RunResult native = RunProgram(Argv(), kTimeout, c.stdin_data);
  {
    SCOPED_TRACE("native run");
    CheckNative(c, native);
    if (HasFatalFailure()) return;
  }
  RunResult sentry =
      RunProgram(SentryArgv(platform(), {}, Argv()), kTimeout, c.stdin_data);
  ASSERT_EQ(sentry.exec_errno, 0) << "cannot run " << SentryPath();
  ASSERT_FALSE(sentry.timed_out) << sentry.Describe();
  ASSERT_TRUE(sentry.exited())
      << "the Sentry itself must exit, not die: " << sentry.Describe();
  EXPECT_FALSE(sentry.stdio_left_open)
      << "something outlived the Sentry holding the guest's stdio";

  if (c.signal != 0) {
    EXPECT_EQ(sentry.exit_code(), 128 + c.signal)
        << "guest should die of " << SignalName(c.signal) << "; "
        << sentry.Describe();
    EXPECT_EQ(CountLinesContaining(sentry.stderr_data, SignalName(c.signal)), 1)
        << "want exactly one stderr line naming " << SignalName(c.signal)
        << "; " << sentry.Describe();
  } else {
    EXPECT_EQ(sentry.exit_code(), native.exit_code()) << sentry.Describe();
  }

  if (c.stdout_matches == nullptr) {
    if (native.stdout_data.size() > 10000) {
      EXPECT_TRUE(sentry.stdout_data == native.stdout_data)
          << "stdout differs from the native run: " << sentry.stdout_data.size()
          << " vs " << native.stdout_data.size() << " bytes\n--- stderr ---\n"
          << sentry.stderr_data;
    } else {
      EXPECT_EQ(sentry.stdout_data, native.stdout_data)
          << "stdout differs from the native run\n--- sentry stderr ---\n"
          << sentry.stderr_data;
    }
  } else {
    EXPECT_TRUE(c.stdout_matches(sentry.stdout_data)) << sentry.Describe();
  }
  EXPECT_TRUE(LinesAreSubsequence(native.stderr_data, sentry.stderr_data))
      << "the guest's own stderr lines are missing\n--- native stderr ---\n"
      << native.stderr_data << "\n--- sentry stderr ---\n"
      << sentry.stderr_data;
}

std::string GuestParamName(const ::testing::TestParamInfo<GuestParam>& info) {
  return std::get<0>(info.param).label + "_" + std::get<1>(info.param) + "_" +
         std::get<2>(info.param);
}

INSTANTIATE_TEST_SUITE_P(Guests, GuestTest,
                         ::testing::Combine(::testing::ValuesIn(GuestCases()),
                                            ::testing::ValuesIn(kFlavours),
                                            ::testing::ValuesIn(kPlatforms)),
                         GuestParamName);

// --- Tests of Sentry features, per flavour and platform ----------------------

using FlavourParam = std::tuple<std::string, std::string>;

class SentryFlavourTest : public ::testing::TestWithParam<FlavourParam> {
 protected:
  const std::string& flavour() const { return std::get<0>(GetParam()); }
  const std::string& platform() const { return std::get<1>(GetParam()); }
  std::string Guest(const std::string& name) const {
    return GuestPath(flavour(), name);
  }

  void CheckForwardedSignal(int sig) {
    RunOptions options;
    options.timeout = kTimeout;
    options.signal_when_stdout_contains = "ready\n";
    options.signal_to_send = sig;
    RunResult native = RunProgram({Guest("spin")}, options);
    ASSERT_TRUE(native.signaled()) << native.Describe();
    ASSERT_EQ(native.term_signal(), sig) << native.Describe();
    if (g_native_only) return;

    RunResult sentry =
        RunProgram(SentryArgv(platform(), {}, {Guest("spin")}), options);
    ASSERT_FALSE(sentry.timed_out) << sentry.Describe();
    ASSERT_TRUE(sentry.exited()) << "the Sentry should exit 128+" << sig
                                 << ", not die: " << sentry.Describe();
    EXPECT_EQ(sentry.exit_code(), 128 + sig) << sentry.Describe();
    EXPECT_EQ(sentry.stdout_data, "ready\n");
    EXPECT_LT(sentry.elapsed, absl::Seconds(15))
        << "the guest ran to its own 20 s limit: the signal was not "
           "forwarded";
  }
};

TEST_P(SentryFlavourTest, Strace) {
  REQUIRE_REAL_SENTRY();
  RunResult native = RunProgram({Guest("hello"), "x"}, kTimeout);
  ASSERT_TRUE(native.exited()) << native.Describe();
  RunResult sentry = RunProgram(
      SentryArgv(platform(), {"--strace"}, {Guest("hello"), "x"}), kTimeout);
  ASSERT_TRUE(sentry.exited()) << sentry.Describe();
  EXPECT_EQ(sentry.exit_code(), 0) << sentry.Describe();
  EXPECT_EQ(sentry.stdout_data, native.stdout_data)
      << "--strace must not touch the guest's stdout";
  // glibc's stdio uses write, musl's writev.
  EXPECT_GE(CountLinesContaining(sentry.stderr_data, "write(") +
                CountLinesContaining(sentry.stderr_data, "writev("),
            1)
      << sentry.stderr_data;
  EXPECT_GE(CountLinesContaining(sentry.stderr_data, "exit_group("), 1)
      << sentry.stderr_data;

  // Each syscall is shown, not just each kind of syscall: getpid_loop makes
  // 1 + 7 getpid calls.
  RunResult loop = RunProgram(
      SentryArgv(platform(), {"--strace"}, {Guest("getpid_loop"), "7"}),
      kTimeout);
  ASSERT_TRUE(loop.exited()) << loop.Describe();
  EXPECT_EQ(loop.exit_code(), 0) << loop.Describe();
  EXPECT_GE(CountLinesContaining(loop.stderr_data, "getpid("), 8)
      << loop.stderr_data;
}

TEST_P(SentryFlavourTest, UnimplementedSyscallLoggedOnce) {
  REQUIRE_REAL_SENTRY();
  const std::string log =
      TestTmpDir() + "/unimplemented_" + flavour() + "_" + platform() + ".log";
  unlink(log.c_str());
  RunResult sentry = RunProgram(
      SentryArgv(platform(), {"--debug-log=" + log}, {Guest("enosys")}),
      kTimeout);
  ASSERT_TRUE(sentry.exited()) << sentry.Describe();
  EXPECT_EQ(sentry.exit_code(), 0) << sentry.Describe();
  EXPECT_EQ(sentry.stdout_data, "OK\n") << sentry.Describe();
  // The guest calls syscall 1000 twice; it is logged once, in the debug log,
  // and the guest's stderr is untouched.
  EXPECT_EQ(CountUnimplementedLines(sentry.stderr_data, "1000"), 0)
      << sentry.stderr_data;
  const std::string log_text = ReadFileOrEmpty(log);
  EXPECT_EQ(CountUnimplementedLines(log_text, "1000"), 1)
      << "--- " << log << " ---\n"
      << log_text;

  // Without --debug-log nothing reaches the guest's stderr either.
  RunResult plain =
      RunProgram(SentryArgv(platform(), {}, {Guest("enosys")}), kTimeout);
  ASSERT_TRUE(plain.exited()) << plain.Describe();
  EXPECT_EQ(plain.exit_code(), 0) << plain.Describe();
  EXPECT_EQ(plain.stderr_data, "") << plain.stderr_data;
}

TEST_P(SentryFlavourTest, ForwardsSigint) { CheckForwardedSignal(SIGINT); }

TEST_P(SentryFlavourTest, ForwardsSigterm) { CheckForwardedSignal(SIGTERM); }

std::string FlavourParamName(
    const ::testing::TestParamInfo<FlavourParam>& info) {
  return std::get<0>(info.param) + "_" + std::get<1>(info.param);
}

INSTANTIATE_TEST_SUITE_P(Flavours, SentryFlavourTest,
                         ::testing::Combine(::testing::ValuesIn(kFlavours),
                                            ::testing::ValuesIn(kPlatforms)),
                         FlavourParamName);

// --- Bad input --------------------------------------------------------------

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::abort();
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `data` to a fresh file in the test's temporary directory.
std::string WriteTempFile(const std::string& name, const std::string& data,
                          mode_t mode = 0755) {
  std::string path = TestTmpDir() + "/" + name;
  unlink(path.c_str());
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0 || write(fd, data.data(), data.size()) !=
                    static_cast<ssize_t>(data.size())) {
    std::fprintf(stderr, "cannot write %s: %s\n", path.c_str(),
                 strerror(errno));
    std::abort();
  }
  close(fd);
  chmod(path.c_str(), mode);  // regardless of the umask
  return path;
}

struct Patch {
  uint64_t offset;
  int size;
  uint64_t value;  // stored little-endian
};

// A valid static guest (glibc hello) with some header fields replaced.
std::string PatchedHello(const std::vector<Patch>& patches) {
  std::string elf = ReadFileOrDie(GuestPath("glibc", "hello"));
  for (const Patch& p : patches) {
    for (int i = 0; i < p.size; i++) {
      elf[p.offset + i] = static_cast<char>((p.value >> (8 * i)) & 0xff);
    }
  }
  return elf;
}

struct BadInputCase {
  std::string label;
  // Creates the file (or not) and returns the path to run.
  std::string (*make)();
  int sentry_exit_code;  // what a shell would report
  int native_errno;      // what execve() says natively
};

// Offsets in Elf64_Ehdr.
constexpr uint64_t kEiClass = 4, kEType = 16, kEMachine = 18, kEPhoff = 32,
                   kEPhentsize = 54, kEPhnum = 56;

std::vector<BadInputCase> BadInputCases() {
  return {
      {"text_file",
       [] {
         return WriteTempFile("text_file",
                              "this is not a program\njust text\n");
       },
       126, ENOEXEC},
      {"empty_file", [] { return WriteTempFile("empty_file", ""); }, 126,
       ENOEXEC},
      {"truncated_elf",
       [] {
         return WriteTempFile(
             "truncated_elf",
             ReadFileOrDie(GuestPath("glibc", "hello")).substr(0, 20));
       },
       126, ENOEXEC},
      {"aarch64_elf",
       [] {
         return WriteTempFile(
             "aarch64_elf", PatchedHello({{kEMachine, 2, /*EM_AARCH64=*/183}}));
       },
       126, ENOEXEC},
      // Note: Linux ignores EI_CLASS (and EI_DATA) when e_machine is
      // EM_X86_64, so a 32-bit program is simulated with EM_386 too.
      {"i386_elf",
       [] {
         return WriteTempFile("i386_elf",
                              PatchedHello({{kEiClass, 1, /*ELFCLASS32=*/1},
                                            {kEMachine, 2, /*EM_386=*/3}}));
       },
       126, ENOEXEC},
      {"relocatable_elf",
       [] {
         return WriteTempFile("relocatable_elf",
                              PatchedHello({{kEType, 2, /*ET_REL=*/1}}));
       },
       126, ENOEXEC},
      {"phoff_past_eof",
       [] {
         uint64_t size = ReadFileOrDie(GuestPath("glibc", "hello")).size();
         return WriteTempFile("phoff_past_eof",
                              PatchedHello({{kEPhoff, 8, size + 4096}}));
       },
       126, ENOEXEC},
      {"bad_phentsize",
       [] {
         return WriteTempFile("bad_phentsize",
                              PatchedHello({{kEPhentsize, 2, 32}}));
       },
       126, ENOEXEC},
      {"no_program_headers",
       [] {
         return WriteTempFile("no_program_headers",
                              PatchedHello({{kEPhnum, 2, 0}}));
       },
       126, ENOEXEC},
      {"directory",
       [] {
         std::string path = TestTmpDir() + "/a_directory";
         mkdir(path.c_str(), 0755);
         return path;
       },
       126, EACCES},
      {"missing_path", [] { return TestTmpDir() + "/no/such/program"; }, 127,
       ENOENT},
  };
}

void PrintTo(const BadInputCase& c, std::ostream* os) { *os << c.label; }

class BadInputTest : public ::testing::TestWithParam<BadInputCase> {};

// Checks that `sentry run` rejects `path` the way the issue asks.
void CheckSentryRejects(const std::string& path, int want_exit) {
  for (const std::string& platform : kPlatforms) {
    SCOPED_TRACE("platform " + platform);
    RunResult r =
        RunProgram(SentryArgv(platform, {}, {path, "arg"}), absl::Seconds(20));
    ASSERT_EQ(r.exec_errno, 0) << "cannot run " << SentryPath();
    ASSERT_FALSE(r.timed_out) << r.Describe();
    ASSERT_TRUE(r.exited()) << "the Sentry crashed: " << r.Describe();
    EXPECT_EQ(r.exit_code(), want_exit) << r.Describe();
    EXPECT_LT(r.elapsed, absl::Seconds(5));
    EXPECT_EQ(r.stdout_data, "");
    std::vector<std::string> lines = SplitLines(r.stderr_data);
    ASSERT_EQ(lines.size(), 1u) << "want exactly one line on stderr\n"
                                << r.Describe();
    EXPECT_EQ(lines[0].rfind("sentry: ", 0), 0u) << lines[0];
    EXPECT_EQ(r.stderr_data.back(), '\n');
  }
}

TEST_P(BadInputTest, Rejected) {
  const BadInputCase& c = GetParam();
  const std::string path = c.make();
  // The file really is unrunnable: execve() refuses it natively.
  RunResult native = RunProgram({path, "arg"}, absl::Seconds(10));
  EXPECT_EQ(native.exec_errno, c.native_errno)
      << "natively: " << native.Describe();
  REQUIRE_SENTRY();
  CheckSentryRejects(path, c.sentry_exit_code);
}

INSTANTIATE_TEST_SUITE_P(
    Files, BadInputTest, ::testing::ValuesIn(BadInputCases()),
    [](const ::testing::TestParamInfo<BadInputCase>& info) {
      return info.param.label;
    });

// A valid program without any exec permission bit: execve() says EACCES
// (even for root), a shell says "Permission denied" and 126.
TEST(BadInputPermissionTest, NotExecutableFileRejected) {
  const std::string path = WriteTempFile(
      "not_executable", ReadFileOrDie(GuestPath("glibc", "hello")), 0644);
  RunResult native = RunProgram({path}, absl::Seconds(10));
  EXPECT_EQ(native.exec_errno, EACCES) << native.Describe();
  REQUIRE_SENTRY();
  CheckSentryRejects(path, 126);
}

// --- CLI misuse
// ---------------------------------------------------------------

void CheckFailsCleanly(const std::vector<std::string>& argv) {
  RunResult r = RunProgram(argv, absl::Seconds(20));
  ASSERT_EQ(r.exec_errno, 0) << "cannot run " << SentryPath();
  ASSERT_FALSE(r.timed_out) << r.Describe();
  ASSERT_TRUE(r.exited()) << "the Sentry crashed: " << r.Describe();
  EXPECT_NE(r.exit_code(), 0) << r.Describe();
  EXPECT_NE(r.stderr_data, "") << "no explanation on stderr";
  EXPECT_LT(r.elapsed, absl::Seconds(5));
}

TEST(SentryCliTest, RunWithoutProgramFails) {
  REQUIRE_SENTRY();
  CheckFailsCleanly({SentryPath(), "run"});
}

TEST(SentryCliTest, UnknownFlagFails) {
  REQUIRE_SENTRY();
  CheckFailsCleanly({SentryPath(), "run", "--no-such-flag-exists",
                     GuestPath("glibc", "hello")});
}

}  // namespace
}  // namespace sentry::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    static constexpr char kPassthrough[] = "--passthrough_sentry=";
    if (arg == "--native_only") {
      sentry::testing::g_native_only = true;
    } else if (arg.rfind(kPassthrough, 0) == 0) {
      sentry::testing::g_sentry_runfile = arg.substr(sizeof(kPassthrough) - 1);
      sentry::testing::g_passthrough = true;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  // The guests' environment (env_args checks these).
  setenv(sentry::testing::kEnvVar, sentry::testing::kEnvValue, 1);
  setenv(sentry::testing::kEnvEmpty, "", 1);
  unsetenv(sentry::testing::kEnvUnset);
  return RUN_ALL_TESTS();
}
