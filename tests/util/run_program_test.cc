#include "tests/util/run_program.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace sentry::testing {
namespace {

TEST(RunProgramTest, EchoCapturesStdout) {
  RunResult r = RunProgram({"/bin/echo", "hello", "world"}, absl::Seconds(10));
  ASSERT_TRUE(r.exited()) << r.Describe();
  EXPECT_EQ(r.exit_code(), 0);
  EXPECT_EQ(r.stdout_data, "hello world\n");
  EXPECT_EQ(r.stderr_data, "");
  EXPECT_FALSE(r.timed_out);
  EXPECT_FALSE(r.stdio_left_open);
  EXPECT_EQ(r.exec_errno, 0);
  EXPECT_EQ(r.DescribeStatus(), "exited 0");
}

TEST(RunProgramTest, FalseExitsOne) {
  RunResult r = RunProgram({"/bin/false"}, absl::Seconds(10));
  ASSERT_TRUE(r.exited()) << r.Describe();
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_FALSE(r.signaled());
  EXPECT_EQ(r.stdout_data, "");
}

TEST(RunProgramTest, CapturesStderrAndExitCode) {
  RunResult r = RunProgram({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"},
                           absl::Seconds(10));
  ASSERT_TRUE(r.exited()) << r.Describe();
  EXPECT_EQ(r.exit_code(), 3);
  EXPECT_EQ(r.stdout_data, "out\n");
  EXPECT_EQ(r.stderr_data, "err\n");
}

TEST(RunProgramTest, FeedsLargeStdinWithoutDeadlock) {
  std::string data;
  for (int i = 0; data.size() < (2 << 20); i++) {
    data += std::to_string(i) + "\n";
  }
  RunResult r = RunProgram({"/bin/cat"}, absl::Seconds(20), data);
  ASSERT_TRUE(r.exited()) << r.DescribeStatus();
  EXPECT_EQ(r.exit_code(), 0);
  EXPECT_TRUE(r.stdout_data == data)
      << "stdout differs from stdin: " << r.stdout_data.size() << " vs "
      << data.size() << " bytes";
}

TEST(RunProgramTest, StdinIsEmptyPipeByDefault) {
  RunResult r = RunProgram({"/bin/sh", "-c", "cat; test -p /dev/stdin"},
                           absl::Seconds(10));
  ASSERT_TRUE(r.exited()) << r.Describe();
  EXPECT_EQ(r.exit_code(), 0);
  EXPECT_EQ(r.stdout_data, "");
}

TEST(RunProgramTest, ChildThatIgnoresStdinDoesNotKillUs) {
  // /bin/true exits without reading; our writes get EPIPE (and SIGPIPE,
  // which must be swallowed).
  RunResult r =
      RunProgram({"/bin/true"}, absl::Seconds(10), std::string(1 << 20, 'x'));
  ASSERT_TRUE(r.exited()) << r.Describe();
  EXPECT_EQ(r.exit_code(), 0);
}

TEST(RunProgramTest, ReportsSignalDeath) {
  RunResult r =
      RunProgram({"/bin/sh", "-c", "kill -SEGV $$"}, absl::Seconds(10));
  ASSERT_TRUE(r.signaled()) << r.Describe();
  EXPECT_EQ(r.term_signal(), SIGSEGV);
  EXPECT_FALSE(r.exited());
  EXPECT_EQ(r.exit_code(), -1);
  EXPECT_NE(r.DescribeStatus().find("SIGSEGV"), std::string::npos)
      << r.DescribeStatus();
}

TEST(RunProgramTest, ChildGetsDefaultSignalDispositions) {
  // Even if the test process ignores SIGINT, the child must not inherit
  // that: guests are compared against a clean native baseline.
  struct sigaction ign = {}, old = {};
  ign.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGINT, &ign, &old), 0);
  RunResult r =
      RunProgram({"/bin/sh", "-c", "kill -INT $$; exit 0"}, absl::Seconds(10));
  ASSERT_EQ(sigaction(SIGINT, &old, nullptr), 0);
  ASSERT_TRUE(r.signaled()) << r.Describe();
  EXPECT_EQ(r.term_signal(), SIGINT);
}

TEST(RunProgramTest, TimeoutKillsTheWholeProcessGroup) {
  // The grandchild holds stdout open; killing only the child would leave
  // us waiting for EOF.
  RunResult r = RunProgram({"/bin/sh", "-c", "/bin/sleep 60 & /bin/sleep 60"},
                           absl::Milliseconds(300));
  EXPECT_TRUE(r.timed_out) << r.Describe();
  EXPECT_FALSE(r.exited());
  EXPECT_FALSE(r.signaled());
  EXPECT_FALSE(r.stdio_left_open);
  EXPECT_LT(r.elapsed, absl::Seconds(5));
  EXPECT_NE(r.DescribeStatus().find("timed out"), std::string::npos);
}

TEST(RunProgramTest, SendsSignalWhenStdoutContainsMarker) {
  RunOptions options;
  options.timeout = absl::Seconds(20);
  options.signal_when_stdout_contains = "ready";
  options.signal_to_send = SIGTERM;
  RunResult r =
      RunProgram({"/bin/sh", "-c", "echo ready; exec /bin/sleep 60"}, options);
  ASSERT_TRUE(r.signaled()) << r.Describe();
  EXPECT_EQ(r.term_signal(), SIGTERM);
  EXPECT_EQ(r.stdout_data, "ready\n");
  EXPECT_LT(r.elapsed, absl::Seconds(10));
}

TEST(RunProgramTest, MissingProgramReportsExecErrno) {
  RunResult r = RunProgram({"/nonexistent/program"}, absl::Seconds(10));
  EXPECT_EQ(r.exec_errno, ENOENT) << r.Describe();
  EXPECT_FALSE(r.exited());
  EXPECT_NE(r.DescribeStatus().find("execve failed"), std::string::npos);
}

TEST(RunProgramTest, DirectoryReportsEacces) {
  RunResult r = RunProgram({"/"}, absl::Seconds(10));
  EXPECT_EQ(r.exec_errno, EACCES) << r.Describe();
}

TEST(RunProgramTest, DetectsStdioLeftOpenByALingeringProcess) {
  // The child exits at once but a process in another process group (so
  // not killed) keeps stdout open for longer than the drain grace period.
  RunResult r = RunProgram({"/bin/sh", "-c", "setsid /bin/sleep 6 & exit 0"},
                           absl::Seconds(20));
  ASSERT_TRUE(r.exited()) << r.Describe();
  EXPECT_TRUE(r.stdio_left_open);
  EXPECT_LT(r.elapsed, absl::Seconds(5.5));
}

// True once `pid` has exited (it may linger as a zombie until reaped by
// whoever inherited it).
bool Gone(pid_t pid) {
  std::string stat;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!std::getline(in, stat)) return true;
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() &&
         stat[paren + 2] == 'Z';
}

TEST(RunProgramTest, KillsLeftoversInTheProcessGroup) {
  RunResult r = RunProgram(
      {"/bin/sh", "-c", "/bin/sleep 60 </dev/null >/dev/null 2>&1 & echo $!"},
      absl::Seconds(10));
  ASSERT_TRUE(r.exited()) << r.Describe();
  EXPECT_FALSE(r.stdio_left_open);
  pid_t sleeper = std::stoi(r.stdout_data);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; i++) {
    gone = Gone(sleeper);
    if (!gone) usleep(10000);
  }
  EXPECT_TRUE(gone) << "pid " << sleeper << " survived";
}

TEST(SignalNameTest, Names) {
  EXPECT_EQ(SignalName(SIGSEGV), "SIGSEGV");
  EXPECT_EQ(SignalName(SIGABRT), "SIGABRT");
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(SignalName(200), "signal 200");
}

}  // namespace
}  // namespace sentry::testing
