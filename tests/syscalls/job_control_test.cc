// Job control from the man pages (signal(7), wait(2), waitid(2)): stop
// signals stop a process until SIGCONT, its parent can wait for the stop
// and the continue, and is told with SIGCHLD unless it set SA_NOCLDSTOP.
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

// A counter in shared memory that a child keeps increasing.
class SharedCounter {
 public:
  SharedCounter() {
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    value_ = p == MAP_FAILED ? nullptr : static_cast<std::atomic<long>*>(p);
  }
  ~SharedCounter() {
    if (value_ != nullptr) munmap(value_, 4096);
  }
  std::atomic<long>& operator*() { return *value_; }
  bool ok() const { return value_ != nullptr; }

 private:
  std::atomic<long>* value_;
};

// Forks a child that counts forever; returns its PID.
pid_t SpawnCounter(std::atomic<long>& counter) {
  pid_t pid = fork();
  if (pid == 0) {
    for (;;) counter.fetch_add(1);
  }
  return pid;
}

// Waits until the counter moves (the child is running).
bool WaitForProgress(std::atomic<long>& counter) {
  long start = counter.load();
  for (int i = 0; i < 2000; ++i) {
    if (counter.load() != start) return true;
    usleep(1000);
  }
  return false;
}

char ProcState(pid_t pid) {
  std::string stat = ReadProcFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size()
             ? '?'
             : stat[paren + 2];
}

void KillAndReap(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

TEST(JobControlTest, SigstopStopsAndSigcontResumes) {
  SharedCounter counter;
  ASSERT_TRUE(counter.ok());
  pid_t pid = SpawnCounter(*counter);
  ASSERT_THAT(pid, SyscallSucceeds());
  ASSERT_TRUE(WaitForProgress(*counter));
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  int status = 0;
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFSTOPPED(status)) << DescribeWaitStatus(status);
  EXPECT_EQ(WSTOPSIG(status), SIGSTOP);
  EXPECT_EQ(ProcState(pid), 'T');
  long frozen = (*counter).load();
  usleep(30000);
  EXPECT_EQ((*counter).load(), frozen) << "a stopped process ran";
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  ASSERT_THAT(waitpid(pid, &status, WCONTINUED), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFCONTINUED(status)) << DescribeWaitStatus(status);
  EXPECT_TRUE(WaitForProgress(*counter)) << "did not resume";
  KillAndReap(pid);
}

TEST(JobControlTest, StopIsReportedOnce) {
  SharedCounter counter;
  ASSERT_TRUE(counter.ok());
  pid_t pid = SpawnCounter(*counter);
  ASSERT_TRUE(WaitForProgress(*counter));
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  int status = 0;
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  EXPECT_THAT(waitpid(pid, &status, WUNTRACED | WNOHANG),
              SyscallSucceedsWithValue(0));
  // Without WUNTRACED a stopped child is not reported at all.
  EXPECT_THAT(waitpid(pid, &status, WNOHANG), SyscallSucceedsWithValue(0));
  KillAndReap(pid);
}

TEST(JobControlTest, StoppedProcessDiesToSigkill) {
  SharedCounter counter;
  ASSERT_TRUE(counter.ok());
  pid_t pid = SpawnCounter(*counter);
  ASSERT_TRUE(WaitForProgress(*counter));
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  int status = 0;
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  ASSERT_THAT(kill(pid, SIGKILL), SyscallSucceeds());
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_THAT(status, KilledBySignal(SIGKILL));
}

TEST(JobControlTest, SigtstpStopsByDefaultButNotWithAHandler) {
  SharedCounter counter;
  ASSERT_TRUE(counter.ok());
  pid_t pid = SpawnCounter(*counter);
  ASSERT_TRUE(WaitForProgress(*counter));
  ASSERT_THAT(kill(pid, SIGTSTP), SyscallSucceeds());
  int status = 0;
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFSTOPPED(status));
  EXPECT_EQ(WSTOPSIG(status), SIGTSTP);
  KillAndReap(pid);

  pid = fork();
  if (pid == 0) {
    signal(SIGTSTP, [](int) {});
    for (;;) (*counter).fetch_add(1);
  }
  ASSERT_TRUE(WaitForProgress(*counter));
  ASSERT_THAT(kill(pid, SIGTSTP), SyscallSucceeds());
  usleep(20000);
  EXPECT_THAT(waitpid(pid, &status, WUNTRACED | WNOHANG),
              SyscallSucceedsWithValue(0));
  EXPECT_TRUE(WaitForProgress(*counter)) << "a handled SIGTSTP stopped it";
  KillAndReap(pid);
}

TEST(JobControlTest, WaitidReportsStopAndContinue) {
  SharedCounter counter;
  ASSERT_TRUE(counter.ok());
  pid_t pid = SpawnCounter(*counter);
  ASSERT_TRUE(WaitForProgress(*counter));
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  siginfo_t info{};
  ASSERT_THAT(waitid(P_PID, pid, &info, WSTOPPED | WNOWAIT), SyscallSucceeds());
  EXPECT_EQ(info.si_pid, pid);
  EXPECT_EQ(info.si_code, CLD_STOPPED);
  EXPECT_EQ(info.si_status, SIGSTOP);
  // WNOWAIT left it waitable.
  info = {};
  ASSERT_THAT(waitid(P_PID, pid, &info, WSTOPPED), SyscallSucceeds());
  EXPECT_EQ(info.si_code, CLD_STOPPED);
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  info = {};
  ASSERT_THAT(waitid(P_PID, pid, &info, WCONTINUED), SyscallSucceeds());
  EXPECT_EQ(info.si_code, CLD_CONTINUED);
  EXPECT_EQ(info.si_status, SIGCONT);
  KillAndReap(pid);
}

// SIGCHLD's si_code says what happened to the child.
std::atomic<int> last_chld_code{0};

TEST(JobControlTest, ParentGetsSigchldUnlessNocldstop) {
  struct sigaction sa {
  }, old{};
  sa.sa_sigaction = [](int, siginfo_t* info, void*) {
    last_chld_code = info->si_code;
  };
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  ASSERT_THAT(sigaction(SIGCHLD, &sa, &old), SyscallSucceeds());
  SharedCounter counter;
  ASSERT_TRUE(counter.ok());
  pid_t pid = SpawnCounter(*counter);
  ASSERT_TRUE(WaitForProgress(*counter));
  last_chld_code = 0;
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  for (int i = 0; i < 2000 && last_chld_code == 0; ++i) usleep(1000);
  EXPECT_EQ(last_chld_code, CLD_STOPPED);
  last_chld_code = 0;
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  for (int i = 0; i < 2000 && last_chld_code == 0; ++i) usleep(1000);
  EXPECT_EQ(last_chld_code, CLD_CONTINUED);

  sa.sa_flags |= SA_NOCLDSTOP;
  ASSERT_THAT(sigaction(SIGCHLD, &sa, nullptr), SyscallSucceeds());
  last_chld_code = 0;
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  int status;
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  usleep(20000);
  EXPECT_EQ(last_chld_code, 0) << "SA_NOCLDSTOP still got a stop SIGCHLD";
  sigaction(SIGCHLD, &old, nullptr);
  KillAndReap(pid);
}

TEST(JobControlTest, EveryThreadStops) {
  SharedCounter counter;
  ASSERT_TRUE(counter.ok());
  fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    pthread_t t;
    pthread_create(
        &t, nullptr,
        [](void* c) -> void* {
          for (;;) static_cast<std::atomic<long>*>(c)->fetch_add(1);
        },
        &*counter);
    for (;;) pause();
  }
  ASSERT_TRUE(WaitForProgress(*counter));
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  int status = 0;
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  usleep(10000);
  long frozen = (*counter).load();
  usleep(30000);
  EXPECT_EQ((*counter).load(), frozen) << "a thread of a stopped process ran";
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  EXPECT_TRUE(WaitForProgress(*counter));
  KillAndReap(pid);
}

TEST(JobControlTest, BlockedReadCompletesAfterContinue) {
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[1]);
    char c;
    _exit(read(fds[0], &c, 1) == 1 && c == 'x' ? 0 : 1);
  }
  close(fds[0]);
  usleep(20000);  // let it block in read
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  int status = 0;
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  ASSERT_THAT(write(fds[1], "x", 1), SyscallSucceedsWithValue(1));
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_THAT(status, ExitedWithCode(0));
  close(fds[1]);
}

TEST(JobControlTest, ContinueOfARunningProcessIsNotReported) {
  SharedCounter counter;
  ASSERT_TRUE(counter.ok());
  pid_t pid = SpawnCounter(*counter);
  ASSERT_TRUE(WaitForProgress(*counter));
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  usleep(10000);
  int status;
  EXPECT_THAT(waitpid(pid, &status, WCONTINUED | WNOHANG),
              SyscallSucceedsWithValue(0));
  KillAndReap(pid);
}

}  // namespace
}  // namespace sentry::testing
