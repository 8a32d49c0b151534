// Threads (clone(2) with CLONE_THREAD, as used by pthread_create(3)), from
// the man pages: clone(2), gettid(2), set_tid_address(2), exit(2),
// exit_group(2), execve(2), tgkill(2), signal(7), sigaltstack(2), futex(2),
// proc(5) and pthreads(7).
//
// Every blocking step has a deadline, so a platform that gets threads wrong
// fails the case instead of hanging the binary. Cases that end or re-image a
// process run in a forked child and carry "Fork" in their names.
#include <asm/prctl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

// --- re-exec check (runs before main, only in an execve'd copy) ---
//
// The Exec*Fork cases execve /proc/self/exe with this variable set to the
// pid the new image must have. The copy checks that it is a single thread
// with that pid and exits with kExecOk (or a code naming the failed check)
// without ever reaching gtest.
namespace {

constexpr const char kExecPidEnv[] = "SENTRY_THREAD_TEST_EXEC_PID";
constexpr int kExecOk = 77;

int CountDirEntries(const char* path) {
  DIR* d = opendir(path);
  if (d == nullptr) return -1;
  int n = 0;
  while (struct dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  }
  closedir(d);
  return n;
}

__attribute__((constructor)) void ReportIfReExecuted() {
  const char* want = getenv(kExecPidEnv);
  if (want == nullptr) return;
  if (getpid() != atoi(want)) _exit(2);
  if (syscall(SYS_gettid) != getpid()) _exit(3);
  if (CountDirEntries("/proc/self/task") != 1) _exit(4);
  _exit(kExecOk);
}

}  // namespace

namespace sentry::testing {
namespace {

using ::testing::Ge;

// How long any single blocking step may take before the case fails.
constexpr int kDeadlineMs = 10000;

pid_t Tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

std::string Chomp(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// `clock` now plus `ms` milliseconds, as an absolute timespec.
struct timespec Deadline(clockid_t clock, long ms) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

double MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// Polls `pred` every 200 µs until it holds or `ms` pass; returns its last
// value.
bool WaitUntil(const std::function<bool()>& pred, long ms = kDeadlineMs) {
  double end = MonotonicMs() + ms;
  while (!pred()) {
    if (MonotonicMs() > end) return pred();
    usleep(200);
  }
  return true;
}

uint32_t Load(uint32_t& word) { return std::atomic_ref<uint32_t>(word).load(); }
void Store(uint32_t& word, uint32_t v) {
  std::atomic_ref<uint32_t>(word).store(v);
}

long Futex(uint32_t* uaddr, int op, uint32_t val,
           const struct timespec* timeout = nullptr, uint32_t* uaddr2 = nullptr,
           uint32_t val3 = 0) {
  return syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
}

// FUTEX_REQUEUE, FUTEX_CMP_REQUEUE and FUTEX_WAKE_OP take an integer (val2)
// in the timeout slot.
long Futex2(uint32_t* uaddr, int op, uint32_t val, uint32_t val2,
            uint32_t* uaddr2, uint32_t val3) {
  return syscall(SYS_futex, uaddr, op, val, static_cast<unsigned long>(val2),
                 uaddr2, val3);
}

// Blocks while `word` == `val` (re-checking after every wake-up), at most
// `ms`. Returns whether the word changed.
bool FutexWaitWhile(uint32_t& word, uint32_t val, int op = FUTEX_WAIT_PRIVATE,
                    long ms = kDeadlineMs) {
  double end = MonotonicMs() + ms;
  while (Load(word) == val) {
    long left_ns = static_cast<long>((end - MonotonicMs()) * 1e6);
    if (left_ns <= 0) return false;
    struct timespec ts = {left_ns / 1000000000L, left_ns % 1000000000L};
    Futex(&word, op, val, &ts);
  }
  return true;
}

// The lines of a /proc status file: the value of `key` ("Threads"), or "".
std::string StatusField(const std::string& path, const std::string& key) {
  std::string status = ReadProcFile(path);
  std::string prefix = "\n" + key + ":";
  size_t pos = ("\n" + status).find(prefix);
  if (pos == std::string::npos) return "";
  pos += prefix.size() - 1;
  size_t end = status.find('\n', pos);
  std::string value = status.substr(pos, end - pos);
  size_t first = value.find_first_not_of(" \t");
  return first == std::string::npos ? "" : value.substr(first);
}

std::string ReadLink(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buf, sizeof(buf));
  if (n < 0) return "";
  return std::string(buf, n);
}

int TaskCount() { return CountDirEntries("/proc/self/task"); }

// The test process is single-threaded between cases, but a thread joined by
// the previous case may still be finishing its exit in the kernel.
bool SettleToOneThread() {
  return WaitUntil([] { return TaskCount() == 1; });
}

// `path` with symlinks resolved, or "" on error.
std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) == nullptr ? "" : buf;
}

bool HasTask(pid_t tid) {
  struct stat st;
  return stat(("/proc/self/task/" + std::to_string(tid)).c_str(), &st) == 0;
}

// A pthread running `fn`. Join() (also run by the destructor) waits at most
// kJoinTimeoutSec and then aborts the whole binary, so a stuck thread fails
// loudly instead of hanging. If pthread_create fails, a test failure is
// recorded and tid() returns -1.
class Thread {
 public:
  static constexpr int kJoinTimeoutSec = 20;

  explicit Thread(std::function<void()> fn,
                  const pthread_attr_t* attr = nullptr)
      : fn_(std::move(fn)) {
    int err = pthread_create(&handle_, attr, &Thread::Run, this);
    if (err != 0) {
      ADD_FAILURE() << "pthread_create: " << strerror(err);
      fprintf(stderr, "pthread_create: %s\n", strerror(err));
      failed_ = true;
      joined_ = true;
    }
  }
  ~Thread() { Join(); }
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;

  bool ok() const { return !failed_; }
  pthread_t handle() const { return handle_; }

  // The thread's id, once it has started running.
  pid_t tid() {
    if (failed_) return -1;
    if (!FutexWaitWhile(tid_, 0)) {
      ADD_FAILURE() << "thread did not start within " << kDeadlineMs << " ms";
      return -1;
    }
    return static_cast<pid_t>(Load(tid_));
  }

  // Joins; returns the thread's return value (PTHREAD_CANCELED if it was
  // cancelled).
  void* Join() {
    if (joined_) return result_;
    joined_ = true;
    struct timespec deadline = Deadline(CLOCK_REALTIME, kJoinTimeoutSec * 1000);
    int err = pthread_timedjoin_np(handle_, &result_, &deadline);
    if (err != 0) {
      fprintf(stderr, "pthread_timedjoin_np: %s; aborting\n", strerror(err));
      fflush(stderr);
      abort();
    }
    return result_;
  }

 private:
  static void* Run(void* arg) {
    auto* self = static_cast<Thread*>(arg);
    Store(self->tid_, static_cast<uint32_t>(Tid()));
    Futex(&self->tid_, FUTEX_WAKE_PRIVATE, INT_MAX);
    self->fn_();
    return nullptr;
  }

  std::function<void()> fn_;
  pthread_t handle_{};
  uint32_t tid_ = 0;
  void* result_ = nullptr;
  bool failed_ = false;
  bool joined_ = false;
};

// A one-shot event a thread can wait for, with a deadline.
class Event {
 public:
  void Set() {
    Store(word_, 1);
    Futex(&word_, FUTEX_WAKE_PRIVATE, INT_MAX);
  }
  bool IsSet() { return Load(word_) != 0; }
  bool Wait(long ms = kDeadlineMs) {
    return FutexWaitWhile(word_, 0, FUTEX_WAIT_PRIVATE, ms);
  }

 private:
  uint32_t word_ = 0;
};

// Runs `fn` when it goes out of scope. Declared after a case's threads, it
// releases them (sets the events they wait for) even when an ASSERT returns
// early, so a failing case fails at once instead of waiting out deadlines.
class Cleanup {
 public:
  explicit Cleanup(std::function<void()> fn) : fn_(std::move(fn)) {}
  ~Cleanup() { fn_(); }
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;

 private:
  std::function<void()> fn_;
};

// Installs a handler for the test's lifetime, restoring the old action.
class ScopedSigaction {
 public:
  ScopedSigaction(int sig, void (*handler)(int), int flags = 0) : sig_(sig) {
    struct sigaction sa = {};
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    EXPECT_THAT(sigaction(sig, &sa, &old_), SyscallSucceeds());
  }
  ~ScopedSigaction() { sigaction(sig_, &old_, nullptr); }
  ScopedSigaction(const ScopedSigaction&) = delete;
  ScopedSigaction& operator=(const ScopedSigaction&) = delete;

 private:
  int sig_;
  struct sigaction old_ = {};
};

// Blocks (or unblocks) signals in the calling thread, restoring its mask on
// destruction. Declare it after the ScopedSigaction for the same signal, so
// that anything left pending is delivered to the test's handler.
class ScopedSigmask {
 public:
  ScopedSigmask(int how, std::initializer_list<int> sigs) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : sigs) sigaddset(&set, s);
    EXPECT_EQ(pthread_sigmask(how, &set, &old_), 0);
  }
  ~ScopedSigmask() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  ScopedSigmask(const ScopedSigmask&) = delete;
  ScopedSigmask& operator=(const ScopedSigmask&) = delete;

 private:
  sigset_t old_;
};

sigset_t SigsetOf(std::initializer_list<int> sigs) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : sigs) sigaddset(&set, s);
  return set;
}

bool Pending(int sig) {
  sigset_t set;
  sigemptyset(&set);
  sigpending(&set);
  return sigismember(&set, sig) == 1;
}

// The handler used by the signal cases: records which thread ran it.
std::atomic<pid_t> g_handler_tid{0};
std::atomic<int> g_handler_runs{0};
void RecordTidHandler(int) {
  int saved = errno;
  g_handler_tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
  g_handler_runs.fetch_add(1);
  errno = saved;
}
void ResetHandlerRecord() {
  g_handler_tid.store(0);
  g_handler_runs.store(0);
}

// --- ids and /proc ---

TEST(ThreadTest, PthreadCreateAndJoinReturnTheValue) {
  pthread_t t;
  int arg = 41;
  ASSERT_EQ(pthread_create(
                &t, nullptr,
                [](void* p) -> void* {
                  return reinterpret_cast<void*>(
                      static_cast<intptr_t>(*static_cast<int*>(p) + 1));
                },
                &arg),
            0);
  void* ret = nullptr;
  struct timespec deadline = Deadline(CLOCK_REALTIME, kDeadlineMs);
  ASSERT_EQ(pthread_timedjoin_np(t, &ret, &deadline), 0);
  EXPECT_EQ(reinterpret_cast<intptr_t>(ret), 42);
  // pthread_exit's value reaches the joiner the same way.
  ASSERT_EQ(
      pthread_create(
          &t, nullptr,
          [](void*) -> void* { pthread_exit(reinterpret_cast<void*>(7)); },
          nullptr),
      0);
  deadline = Deadline(CLOCK_REALTIME, kDeadlineMs);
  ASSERT_EQ(pthread_timedjoin_np(t, &ret, &deadline), 0);
  EXPECT_EQ(reinterpret_cast<intptr_t>(ret), 7);
}

TEST(ThreadTest, ThreadHasItsOwnTidButTheProcessPidAndParent) {
  pid_t pid = getpid(), ppid = getppid();
  pid_t seen_pid = 0, seen_ppid = 0, seen_tid = 0;
  Thread t([&] {
    seen_pid = getpid();
    seen_ppid = getppid();
    seen_tid = Tid();
  });
  pid_t tid = t.tid();
  t.Join();
  EXPECT_EQ(seen_pid, pid);
  EXPECT_EQ(seen_ppid, ppid);
  EXPECT_EQ(seen_tid, tid);
  EXPECT_NE(tid, pid);
  EXPECT_GT(tid, 0);
  EXPECT_EQ(Tid(), pid) << "the main thread's tid is the pid";
}

TEST(ThreadTest, ThreadIdsAreDistinct) {
  constexpr int kThreads = 4;
  Event done;
  std::vector<std::unique_ptr<Thread>> threads;
  for (int i = 0; i < kThreads; i++) {
    threads.push_back(std::make_unique<Thread>([&] { done.Wait(); }));
  }
  Cleanup release([&] { done.Set(); });
  std::vector<pid_t> tids = {getpid()};
  for (auto& t : threads) tids.push_back(t->tid());
  done.Set();
  std::sort(tids.begin(), tids.end());
  EXPECT_EQ(std::adjacent_find(tids.begin(), tids.end()), tids.end());
}

TEST(ThreadTest, ProcSelfTaskAndStatusCountThreads) {
  ASSERT_TRUE(SettleToOneThread()) << TaskCount();
  int before = TaskCount();
  EXPECT_EQ(StatusField("/proc/self/status", "Threads"),
            std::to_string(before));
  constexpr int kThreads = 3;
  Event done;
  std::vector<std::unique_ptr<Thread>> threads;
  for (int i = 0; i < kThreads; i++) {
    threads.push_back(std::make_unique<Thread>([&] { done.Wait(); }));
  }
  Cleanup release([&] { done.Set(); });
  for (auto& t : threads) {
    pid_t tid = t->tid();
    EXPECT_TRUE(HasTask(tid)) << tid;
  }
  EXPECT_EQ(TaskCount(), before + kThreads);
  EXPECT_EQ(StatusField("/proc/self/status", "Threads"),
            std::to_string(before + kThreads));
  // proc(5): field 20 of /proc/pid/stat is num_threads. Field 2 (comm) is
  // parenthesized and may hold spaces: count from the last ')'.
  std::string stat = ReadProcFile("/proc/self/stat");
  std::string rest = stat.substr(stat.rfind(')') + 2);
  std::vector<std::string> fields;
  size_t pos = 0;
  while (pos < rest.size()) {
    size_t end = rest.find(' ', pos);
    if (end == std::string::npos) end = rest.size();
    fields.push_back(rest.substr(pos, end - pos));
    pos = end + 1;
  }
  ASSERT_GT(fields.size(), 17u);
  EXPECT_EQ(fields[17], std::to_string(before + kThreads)) << stat;
  done.Set();
  for (auto& t : threads) t->Join();
  // A joined thread may still be finishing its exit in the kernel.
  EXPECT_TRUE(WaitUntil([&] { return TaskCount() == before; })) << TaskCount();
}

TEST(ThreadTest, ThreadStatusNamesPidAndTgid) {
  Event done;
  Thread t([&] { done.Wait(); });
  pid_t tid = t.tid();
  std::string task = "/proc/self/task/" + std::to_string(tid) + "/status";
  EXPECT_EQ(StatusField(task, "Pid"), std::to_string(tid));
  EXPECT_EQ(StatusField(task, "Tgid"), std::to_string(getpid()));
  // proc(5): /proc/<tid> exists for every thread, with the same contents as
  // /proc/<pid>/task/<tid>.
  std::string hidden = "/proc/" + std::to_string(tid) + "/status";
  EXPECT_EQ(StatusField(hidden, "Pid"), std::to_string(tid));
  EXPECT_EQ(StatusField(hidden, "Tgid"), std::to_string(getpid()));
  done.Set();
}

TEST(ThreadTest, ProcListsProcessesButNotThreads) {
  // proc(5): "The /proc/tid subdirectories are not visible when iterating
  // through /proc with getdents(2)".
  Event done;
  Thread t([&] { done.Wait(); });
  Cleanup release([&] { done.Set(); });
  std::string tid = std::to_string(t.tid());
  std::string pid = std::to_string(getpid());
  bool saw_pid = false, saw_tid = false;
  DIR* d = opendir("/proc");
  ASSERT_NE(d, nullptr);
  while (struct dirent* e = readdir(d)) {
    if (pid == e->d_name) saw_pid = true;
    if (tid == e->d_name) saw_tid = true;
  }
  closedir(d);
  EXPECT_TRUE(saw_pid);
  EXPECT_FALSE(saw_tid);
  done.Set();
}

TEST(ThreadTest, ProcSelfIsTheProcessAndThreadSelfTheThread) {
  std::string self, thread_self;
  pid_t tid = 0;
  Thread t([&] {
    self = ReadLink("/proc/self");
    thread_self = ReadLink("/proc/thread-self");
    tid = Tid();
  });
  t.Join();
  EXPECT_EQ(self, std::to_string(getpid()));
  EXPECT_EQ(thread_self,
            std::to_string(getpid()) + "/task/" + std::to_string(tid));
}

TEST(ThreadTest, ThreadIsNotAChildForWait) {
  // clone(2): "nor can the status of such a thread be obtained using
  // wait(2)".
  Event done;
  Thread t([&] { done.Wait(); });
  int status;
  EXPECT_THAT(waitpid(t.tid(), &status, WNOHANG | __WALL),
              SyscallFailsWithErrno(ECHILD));
  done.Set();
}

TEST(ThreadTest, KillWithSignalZeroProbesThreads) {
  Event done;
  Thread t([&] { done.Wait(); });
  Cleanup release([&] { done.Set(); });
  pid_t tid = t.tid();
  EXPECT_THAT(tgkill(getpid(), tid, 0), SyscallSucceeds());
  // tgkill(2): ESRCH when the thread is not in that thread group. (Not
  // getppid(): inside a sandbox the test may be its init, with parent 0.)
  fflush(stdout);
  fflush(stderr);
  pid_t other = fork();
  if (other == 0) {
    for (;;) pause();
  }
  ASSERT_THAT(other, SyscallSucceeds());
  EXPECT_THAT(tgkill(other, tid, 0), SyscallFailsWithErrno(ESRCH));
  kill(other, SIGKILL);
  waitpid(other, nullptr, 0);
  EXPECT_THAT(tgkill(0, tid, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(tgkill(getpid(), 0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(pthread_kill(t.handle(), 0), 0);
  done.Set();
  t.Join();
  ASSERT_TRUE(WaitUntil([&] { return !HasTask(tid); }));
  EXPECT_THAT(tgkill(getpid(), tid, 0), SyscallFailsWithErrno(ESRCH));
}

// --- raw clone(2) ---

// Raw system calls that touch neither errno nor any other thread-local
// state: the raw clone child below runs on a fake TLS block.
__attribute__((always_inline)) inline long RawSyscall(long nr, long a1 = 0,
                                                      long a2 = 0) {
  long ret;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(nr), "D"(a1), "S"(a2)
               : "rcx", "r11", "memory");
  return ret;
}

struct RawChild {
  uint32_t* set_tid_to = nullptr;  // if set: set_tid_address(this)
  long tid = 0;
  long pid = 0;
  long set_tid_ret = 0;
  unsigned long fs = 0;
};

__attribute__((no_stack_protector)) int RawChildMain(void* arg) {
  auto* c = static_cast<RawChild*>(arg);
  c->tid = RawSyscall(SYS_gettid);
  c->pid = RawSyscall(SYS_getpid);
  RawSyscall(SYS_arch_prctl, ARCH_GET_FS, reinterpret_cast<long>(&c->fs));
  if (c->set_tid_to != nullptr) {
    c->set_tid_ret =
        RawSyscall(SYS_set_tid_address, reinterpret_cast<long>(c->set_tid_to));
  }
  return 0;  // glibc's clone() then calls exit(2) for this thread only
}

// A stack for a raw clone child, unmapped on destruction.
class ChildStack {
 public:
  static constexpr size_t kSize = 256 * 1024;
  ChildStack() {
    void* p = mmap(nullptr, kSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    EXPECT_NE(p, MAP_FAILED) << strerror(errno);
    base_ = p == MAP_FAILED ? nullptr : static_cast<char*>(p);
  }
  ~ChildStack() {
    if (base_ != nullptr) munmap(base_, kSize);
  }
  void* top() const { return base_ + kSize; }
  // Keeps the stack mapped forever: for when the child may still run on it.
  void Leak() { base_ = nullptr; }

 private:
  char* base_;
};

// A minimal x86-64 TCB: the self pointer glibc expects at %fs:0 and
// %fs:0x10, and the stack guard at %fs:0x28.
struct alignas(64) FakeTcb {
  uint64_t words[64] = {};
  FakeTcb() {
    words[0] = words[2] = reinterpret_cast<uint64_t>(this);
    uint64_t guard;
    asm("mov %%fs:0x28, %0" : "=r"(guard));
    words[5] = guard;
  }
};

constexpr int kThreadFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                             CLONE_THREAD | CLONE_SYSVSEM;

TEST(CloneTest, ThreadSetsParentTidTlsAndClearsChildTidOnExit) {
  ChildStack stack;
  FakeTcb tcb;
  RawChild child;
  uint32_t parent_tid = 0;
  uint32_t child_tid = 0xffffffffu;  // only ever cleared, never set
  int tid = clone(
      RawChildMain, stack.top(),
      kThreadFlags | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID,
      &child, &parent_tid, &tcb, &child_tid);
  ASSERT_THAT(tid, SyscallSucceedsWithValue(Ge(1)));
  // "The store operation completes before the clone call returns control to
  // user space."
  EXPECT_EQ(parent_tid, static_cast<uint32_t>(tid));
  // set_tid_address(2): at exit 0 is written and a FUTEX_WAKE done there (a
  // shared futex: no FUTEX_PRIVATE_FLAG).
  if (!FutexWaitWhile(child_tid, 0xffffffffu, FUTEX_WAIT)) {
    stack.Leak();
    FAIL() << "child_tid was not cleared";
  }
  EXPECT_EQ(Load(child_tid), 0u);
  EXPECT_EQ(child.tid, tid);
  EXPECT_EQ(child.pid, getpid());
  EXPECT_EQ(child.fs, reinterpret_cast<unsigned long>(&tcb));
  EXPECT_TRUE(WaitUntil([&] { return !HasTask(tid); }));
}

TEST(CloneTest, ChildSetTidAndSetTidAddress) {
  ChildStack stack;
  FakeTcb tcb;
  RawChild child;
  uint32_t other = 0xffffffffu;
  child.set_tid_to = &other;
  uint32_t child_tid = 0;
  int tid = clone(
      RawChildMain, stack.top(),
      kThreadFlags | CLONE_SETTLS | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID,
      &child, nullptr, &tcb, &child_tid);
  ASSERT_THAT(tid, SyscallSucceedsWithValue(Ge(1)));
  // The child moved its clear address to `other`: that one is cleared and
  // woken at exit, and child_tid keeps the id CLONE_CHILD_SETTID stored.
  if (!FutexWaitWhile(other, 0xffffffffu, FUTEX_WAIT)) {
    stack.Leak();
    FAIL() << "the set_tid_address address was not cleared";
  }
  EXPECT_EQ(child.set_tid_ret, tid) << "set_tid_address returns the tid";
  EXPECT_EQ(Load(child_tid), static_cast<uint32_t>(tid));
  EXPECT_TRUE(WaitUntil([&] { return !HasTask(tid); }));
}

TEST(CloneTest, ThreadExitSendsNoSignalAndLeavesNoZombieFork) {
  // clone(2): "When a CLONE_THREAD thread terminates, the thread that created
  // it is not sent a SIGCHLD (or other termination) signal"; the exit signal
  // in the low byte is ignored.
  EXPECT_THAT(ForkAndWait(
                  [] {
                    sigset_t chld = SigsetOf({SIGCHLD});
                    CHILD_EXPECT(sigprocmask(SIG_BLOCK, &chld, nullptr) == 0);
                    ChildStack stack;
                    FakeTcb tcb;
                    RawChild child;
                    uint32_t child_tid = 1;
                    int tid = clone(RawChildMain, stack.top(),
                                    kThreadFlags | CLONE_SETTLS |
                                        CLONE_CHILD_CLEARTID | SIGCHLD,
                                    &child, nullptr, &tcb, &child_tid);
                    CHILD_EXPECT(tid > 0);
                    CHILD_EXPECT(FutexWaitWhile(child_tid, 1, FUTEX_WAIT));
                    CHILD_EXPECT(WaitUntil([&] { return !HasTask(tid); }));
                    CHILD_EXPECT(!Pending(SIGCHLD));
                    int status;
                    CHILD_EXPECT(waitpid(-1, &status, WNOHANG | __WALL) == -1 &&
                                 errno == ECHILD);
                    return 0;
                  },
                  10),
              ExitedWithCode(0));
}

TEST(CloneTest, ThreadWithoutSighandFailsEinvalFork) {
  EXPECT_THAT(ForkAndWait(
                  [] {
                    ChildStack stack;
                    RawChild child;
                    int r = clone(RawChildMain, stack.top(),
                                  CLONE_VM | CLONE_THREAD, &child);
                    CHILD_EXPECT(r == -1 && errno == EINVAL);
                    return 0;
                  },
                  10),
              ExitedWithCode(0));
}

TEST(CloneTest, SighandWithoutVmFailsEinvalFork) {
  EXPECT_THAT(ForkAndWait(
                  [] {
                    ChildStack stack;
                    RawChild child;
                    int r = clone(RawChildMain, stack.top(),
                                  CLONE_SIGHAND | SIGCHLD, &child);
                    CHILD_EXPECT(r == -1 && errno == EINVAL);
                    return 0;
                  },
                  10),
              ExitedWithCode(0));
}

// --- shared state ---

TEST(ThreadTest, MemoryMappedInOneThreadIsVisibleInAnother) {
  char* p = nullptr;
  Thread t([&] {
    void* m = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return;
    strcpy(static_cast<char*>(m), "from the thread");
    p = static_cast<char*>(m);
  });
  t.Join();
  ASSERT_NE(p, nullptr);
  EXPECT_STREQ(p, "from the thread");
  strcpy(p, "from main");
  Thread reader([&] { EXPECT_STREQ(p, "from main"); });
  reader.Join();
  EXPECT_THAT(munmap(p, 4096), SyscallSucceeds());
}

TEST(ThreadTest, MunmapInAThreadMakesTheOtherFaultFork) {
  EXPECT_THAT(ForkAndWait(
                  [] {
                    char* p = static_cast<char*>(
                        mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
                    CHILD_EXPECT(p != MAP_FAILED);
                    p[0] = 1;
                    {
                      Thread t([&] { munmap(p, 4096); });
                    }
                    *static_cast<volatile char*>(p) = 2;  // SIGSEGV
                    _exit(99);  // not via the threads' destructors
                  },
                  10),
              KilledBySignal(SIGSEGV));
}

TEST(ThreadTest, FileDescriptorTableIsShared) {
  int fds[2] = {-1, -1};
  Thread opener([&] { EXPECT_THAT(pipe(fds), SyscallSucceeds()); });
  opener.Join();
  FileDescriptor r(fds[0]), w(fds[1]);
  ASSERT_TRUE(r.valid() && w.valid());
  EXPECT_THAT(write(w.get(), "x", 1), SyscallSucceedsWithValue(1));
  char c;
  EXPECT_THAT(read(r.get(), &c, 1), SyscallSucceedsWithValue(1));
  int wfd = w.release();
  Thread closer([&] { EXPECT_THAT(close(wfd), SyscallSucceeds()); });
  closer.Join();
  EXPECT_THAT(fcntl(wfd, F_GETFD), SyscallFailsWithErrno(EBADF));
}

TEST(ThreadTest, UnshareFilesGivesTheThreadItsOwnTable) {
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor r(fds[0]), w(fds[1]);
  int opened_in_thread = -1;
  Thread t([&] {
    ASSERT_THAT(unshare(CLONE_FILES), SyscallSucceeds());
    // The thread's copy still has both ends...
    EXPECT_THAT(fcntl(r.get(), F_GETFD), SyscallSucceeds());
    // ...and closing or opening there no longer affects the process's.
    EXPECT_THAT(close(r.get()), SyscallSucceeds());
    opened_in_thread = open("/dev/null", O_RDONLY);
    EXPECT_THAT(opened_in_thread, SyscallSucceeds());
  });
  t.Join();
  EXPECT_THAT(fcntl(r.get(), F_GETFD), SyscallSucceeds());
  if (opened_in_thread >= 0 && opened_in_thread != r.get() &&
      opened_in_thread != w.get()) {
    EXPECT_THAT(fcntl(opened_in_thread, F_GETFD), SyscallFailsWithErrno(EBADF));
  }
}

TEST(ThreadTest, WorkingDirectoryAndUmaskAreShared) {
  TempPath dir = TempPath::CreateDir();
  char old_cwd[PATH_MAX];
  ASSERT_NE(getcwd(old_cwd, sizeof(old_cwd)), nullptr);
  mode_t old_mask = umask(022);
  Thread t([&] {
    EXPECT_THAT(chdir(dir.path().c_str()), SyscallSucceeds());
    umask(077);
  });
  t.Join();
  char cwd[PATH_MAX];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  EXPECT_EQ(std::string(cwd), RealPath(dir.path()));
  EXPECT_EQ(ReadLink("/proc/self/cwd"), RealPath(dir.path()));
  EXPECT_EQ(umask(old_mask), 077);
  ASSERT_THAT(chdir(old_cwd), SyscallSucceeds());
}

TEST(ThreadTest, UnshareFsGivesTheThreadItsOwnWorkingDirectory) {
  TempPath dir = TempPath::CreateDir();
  std::string before = ReadLink("/proc/self/cwd");
  std::string in_thread;
  Thread t([&] {
    ASSERT_THAT(unshare(CLONE_FS), SyscallSucceeds());
    EXPECT_THAT(chdir(dir.path().c_str()), SyscallSucceeds());
    in_thread = ReadLink("/proc/thread-self/cwd");
  });
  t.Join();
  EXPECT_EQ(in_thread, RealPath(dir.path()));
  EXPECT_EQ(ReadLink("/proc/self/cwd"), before);
}

// --- thread exit ---

TEST(ThreadExitTest, ExitOfANonMainThreadLeavesTheProcessFork) {
  EXPECT_THAT(ForkAndWait(
                  [] {
                    int before = TaskCount();
                    pid_t tid;
                    {
                      Thread t([] { syscall(SYS_exit, 3); });
                      tid = t.tid();
                    }  // joined: the kernel cleared the thread's tid
                    CHILD_EXPECT(WaitUntil([&] { return !HasTask(tid); }));
                    CHILD_EXPECT(TaskCount() == before);
                    return 0;
                  },
                  30),
              ExitedWithCode(0));
}

TEST(ThreadExitTest, ExitGroupFromAThreadEndsTheProcessFork) {
  EXPECT_THAT(ForkAndWait(
                  []() -> int {
                    Event never;
                    Thread waiter([&] { never.Wait(); });
                    Thread t([] { syscall(SYS_exit_group, 42); });
                    never.Wait();  // ended by exit_group
                    _exit(99);     // not via the threads' destructors
                  },
                  10),
              ExitedWithCode(42));
}

TEST(ThreadExitTest, ProcessExitsWithLastThreadAfterMainThreadExitsFork) {
  // The main thread exits alone; the process lives on in the other
  // thread, keeps its pid, and is reported to wait(2) only when that thread
  // ends the process.
  int to_parent[2], to_child[2];
  ASSERT_THAT(pipe(to_parent), SyscallSucceeds());
  ASSERT_THAT(pipe(to_child), SyscallSucceeds());
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    close(to_parent[0]);
    close(to_child[1]);
    static int up, down;
    static pid_t my_pid;
    static pthread_t main_thread;
    up = to_parent[1];
    down = to_child[0];
    my_pid = getpid();
    main_thread = pthread_self();
    pthread_t t;
    if (pthread_create(
            &t, nullptr,
            [](void*) -> void* {
              // Joining the main thread waits for its exit (the kernel
              // clears its tid, as for any thread).
              if (pthread_join(main_thread, nullptr) != 0) _exit(10);
              if (getpid() != my_pid) _exit(11);
              if (write(up, "L", 1) != 1) _exit(12);
              char c;
              if (read(down, &c, 1) != 1) _exit(13);
              _exit(5);  // exit_group(2)
            },
            nullptr) != 0) {
      _exit(14);
    }
    // What pthread_exit(3) does in the kernel: exit(2) of this thread only.
    // (pthread_exit itself would unwind into gtest's catch-all here.)
    syscall(SYS_exit, 0);
  }
  close(to_parent[1]);
  close(to_child[0]);
  FileDescriptor up(to_parent[0]), down(to_child[1]);
  struct pollfd pfd = {up.get(), POLLIN, 0};
  int status = 0;
  ASSERT_THAT(poll(&pfd, 1, kDeadlineMs), SyscallSucceedsWithValue(1));
  char c;
  ASSERT_THAT(read(up.get(), &c, 1), SyscallSucceedsWithValue(1));
  // The leader has exited, but the thread group has not.
  EXPECT_THAT(waitpid(pid, &status, WNOHANG), SyscallSucceedsWithValue(0));
  EXPECT_EQ(StatusField("/proc/" + std::to_string(pid) + "/status", "Tgid"),
            std::to_string(pid));
  ASSERT_THAT(write(down.get(), "G", 1), SyscallSucceedsWithValue(1));
  double end = MonotonicMs() + kDeadlineMs;
  pid_t r;
  while ((r = waitpid(pid, &status, WNOHANG)) == 0 && MonotonicMs() < end) {
    usleep(1000);
  }
  if (r == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "the process did not exit";
  }
  EXPECT_THAT(status, ExitedWithCode(5));
}

// --- execve and fork ---

int ExecSelf() {
  std::string env = std::string(kExecPidEnv) + "=" + std::to_string(getpid());
  char* argv[] = {const_cast<char*>("thread_test"), nullptr};
  char* envp[] = {env.data(), nullptr};
  execve("/proc/self/exe", argv, envp);
  return 100 + errno % 100;
}

TEST(ThreadExecTest, ExecveFromMainThreadEndsTheOtherThreadsFork) {
  // execve(2): "All threads other than the calling thread are destroyed".
  EXPECT_THAT(ForkAndWait(
                  [] {
                    Event never;
                    Thread a([&] { never.Wait(); });
                    Thread b([&] { never.Wait(); });
                    CHILD_EXPECT(a.tid() > 0 && b.tid() > 0);
                    _exit(ExecSelf());
                  },
                  10),
              ExitedWithCode(kExecOk));
}

TEST(ThreadExecTest, ExecveFromANonMainThreadTakesThePidFork) {
  // clone(2): "all threads other than the thread group leader are
  // terminated, and the new program is executed in the thread group leader":
  // the new image runs with the process's pid as its only thread.
  EXPECT_THAT(ForkAndWait(
                  []() -> int {
                    Event never;
                    Thread other([&] { never.Wait(); });
                    Thread execer([] { _exit(ExecSelf()); });
                    never.Wait();
                    _exit(99);  // not via the threads' destructors
                  },
                  10),
              ExitedWithCode(kExecOk));
}

TEST(ThreadForkTest, ForkOfAThreadedProcessHasOneThreadFork) {
  Event done;
  Thread a([&] { done.Wait(); });
  Thread b([&] { done.Wait(); });
  Cleanup release([&] { done.Set(); });
  ASSERT_GT(a.tid(), 0);
  ASSERT_GT(b.tid(), 0);
  EXPECT_THAT(
      ForkAndWait(
          [] {
            CHILD_EXPECT(TaskCount() == 1);
            CHILD_EXPECT(StatusField("/proc/self/status", "Threads") == "1");
            CHILD_EXPECT(Tid() == getpid());
            // The child can create threads of its own.
            std::atomic<int> ran{0};
            {
              Thread t([&] { ran = 1; });
            }
            CHILD_EXPECT(ran == 1);
            return 0;
          },
          10),
      ExitedWithCode(0));
  done.Set();
}

TEST(ThreadForkTest, ForkFromANonMainThreadFork) {
  pid_t parent = getpid();
  int status = -1;
  Thread t([&] {
    status = ForkAndWait(
        [parent] {
          CHILD_EXPECT(getppid() == parent);  // the process, not the thread
          CHILD_EXPECT(Tid() == getpid());
          CHILD_EXPECT(TaskCount() == 1);
          return 0;
        },
        10);
  });
  t.Join();
  EXPECT_THAT(status, ExitedWithCode(0));
}

TEST(ThreadForkTest, AnyThreadCanWaitForAChildOfAnotherFork) {
  // clone(2): "If one of the threads in a thread group creates a child using
  // fork(2), then any thread in the group can wait(2) for that child" - here
  // even after the thread that forked has exited.
  pid_t child = -1;
  pid_t parent = getpid();
  Thread t([&] {
    fflush(stdout);
    fflush(stderr);
    child = fork();
    // The child's parent is the process, not the thread that forked.
    if (child == 0) _exit(getppid() == parent ? 9 : 1);
  });
  t.Join();
  ASSERT_THAT(child, SyscallSucceeds());
  int status = 0;
  double end = MonotonicMs() + kDeadlineMs;
  pid_t r;
  while ((r = waitpid(child, &status, WNOHANG)) == 0 && MonotonicMs() < end) {
    usleep(1000);
  }
  ASSERT_THAT(r, SyscallSucceedsWithValue(child));
  EXPECT_THAT(status, ExitedWithCode(9));
}

// --- per-thread state ---

__thread int tls_value = 7;

TEST(ThreadTest, ThreadLocalVariablesArePerThread) {
  tls_value = 1;
  int seen_initial = 0;
  int* addr_in_thread = nullptr;
  unsigned long fs_main = 0, fs_thread = 0;
  ASSERT_THAT(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs_main),
              SyscallSucceeds());
  Thread t([&] {
    seen_initial = tls_value;
    tls_value = 2;
    addr_in_thread = &tls_value;
    syscall(SYS_arch_prctl, ARCH_GET_FS, &fs_thread);
  });
  t.Join();
  EXPECT_EQ(seen_initial, 7) << "a new thread starts from the initializer";
  EXPECT_EQ(tls_value, 1);
  EXPECT_NE(addr_in_thread, &tls_value);
  EXPECT_NE(fs_thread, 0u);
  EXPECT_NE(fs_thread, fs_main);
  tls_value = 7;
}

TEST(ThreadTest, AffinityIsInheritedAndPerThread) {
  cpu_set_t main_set;
  ASSERT_THAT(sched_getaffinity(0, sizeof(main_set), &main_set),
              SyscallSucceeds());
  ASSERT_GE(CPU_COUNT(&main_set), 1);
  int first = 0;
  while (!CPU_ISSET(first, &main_set)) first++;
  cpu_set_t inherited;
  CPU_ZERO(&inherited);
  Event set_done, done;
  Thread t([&] {
    EXPECT_THAT(sched_getaffinity(0, sizeof(inherited), &inherited),
                SyscallSucceeds());
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    EXPECT_THAT(sched_setaffinity(0, sizeof(one), &one), SyscallSucceeds());
    set_done.Set();
    done.Wait();
  });
  Cleanup release([&] { done.Set(); });
  ASSERT_TRUE(set_done.Wait());
  EXPECT_TRUE(CPU_EQUAL(&inherited, &main_set));
  cpu_set_t theirs, mine;
  ASSERT_THAT(sched_getaffinity(t.tid(), sizeof(theirs), &theirs),
              SyscallSucceeds());
  EXPECT_EQ(CPU_COUNT(&theirs), 1);
  EXPECT_TRUE(CPU_ISSET(first, &theirs));
  ASSERT_THAT(sched_getaffinity(0, sizeof(mine), &mine), SyscallSucceeds());
  EXPECT_TRUE(CPU_EQUAL(&mine, &main_set)) << "the main thread's mask changed";
  done.Set();
}

TEST(ThreadTest, ThreadNamesArePerThreadAndInherited) {
  char main_name[16] = {};
  ASSERT_THAT(prctl(PR_GET_NAME, main_name), SyscallSucceeds());
  char initial[16] = {};
  Event renamed, done;
  Thread t([&] {
    prctl(PR_GET_NAME, initial);
    prctl(PR_SET_NAME, "by-the-thread");
    renamed.Set();
    done.Wait();
  });
  Cleanup release([&] { done.Set(); });
  ASSERT_TRUE(renamed.Wait());
  EXPECT_STREQ(initial, main_name) << "a new thread starts with its creator's";
  std::string comm = "/proc/self/task/" + std::to_string(t.tid()) + "/comm";
  EXPECT_EQ(Chomp(ReadProcFile(comm)), "by-the-thread");
  char got[16] = {};
  EXPECT_EQ(pthread_getname_np(t.handle(), got, sizeof(got)), 0);
  EXPECT_STREQ(got, "by-the-thread");
  char now[16] = {};
  ASSERT_THAT(prctl(PR_GET_NAME, now), SyscallSucceeds());
  EXPECT_STREQ(now, main_name);
  EXPECT_EQ(Chomp(ReadProcFile("/proc/self/comm")), main_name);
}

TEST(ThreadTest, CommOfAnotherThreadIsWritable) {
  // proc(5): a thread may change "that of any of other thread in the same
  // thread group, by writing to the file /proc/self/task/[tid]/comm" (what
  // pthread_setname_np(3) does for another thread).
  char seen[16] = {};
  Event named;
  Thread t([&] {
    named.Wait();
    prctl(PR_GET_NAME, seen);
  });
  Cleanup release([&] { named.Set(); });
  std::string comm = "/proc/self/task/" + std::to_string(t.tid()) + "/comm";
  ASSERT_EQ(pthread_setname_np(t.handle(), "worker-7"), 0);
  EXPECT_EQ(Chomp(ReadProcFile(comm)), "worker-7");
  named.Set();
  t.Join();
  EXPECT_STREQ(seen, "worker-7");
}

TEST(ThreadTest, ThreadCpuClockCountsOnlyThatThread) {
  Event spun, done;
  constexpr long kSpinNs = 30 * 1000000L;
  Thread busy([&] {
    struct timespec ts;
    double end = MonotonicMs() + kDeadlineMs;
    do {
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    } while (ts.tv_sec * 1000000000L + ts.tv_nsec < kSpinNs &&
             MonotonicMs() < end);
    spun.Set();
    done.Wait();  // stay alive so that its clock can be read
  });
  Thread idle([&] {
    spun.Wait();
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    EXPECT_LT(ts.tv_sec * 1000000000L + ts.tv_nsec, kSpinNs);
  });
  EXPECT_TRUE(spun.Wait());
  clockid_t busy_clock;
  int err = pthread_getcpuclockid(busy.handle(), &busy_clock);
  struct timespec b = {}, p = {};
  int rb = err == 0 ? clock_gettime(busy_clock, &b) : -1;
  int rp = clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p);
  done.Set();
  ASSERT_EQ(err, 0) << strerror(err);
  ASSERT_EQ(rb, 0) << strerror(errno);
  ASSERT_EQ(rp, 0);
  long busy_ns = b.tv_sec * 1000000000L + b.tv_nsec;
  EXPECT_GE(busy_ns, kSpinNs);
  EXPECT_GE(p.tv_sec * 1000000000L + p.tv_nsec, busy_ns);
}

// --- signals ---

TEST(ThreadSignalTest, TgkillRunsTheHandlerOnTheTargetThread) {
  ResetHandlerRecord();
  ScopedSigaction sa(SIGUSR1, RecordTidHandler);
  Thread t([] { WaitUntil([] { return g_handler_runs.load() > 0; }); });
  pid_t tid = t.tid();
  ASSERT_THAT(tgkill(getpid(), tid, SIGUSR1), SyscallSucceeds());
  t.Join();
  EXPECT_EQ(g_handler_tid.load(), tid);
  EXPECT_EQ(g_handler_runs.load(), 1);
}

TEST(ThreadSignalTest, ProcessSignalGoesToTheThreadNotBlockingIt) {
  ResetHandlerRecord();
  ScopedSigaction sa(SIGUSR2, RecordTidHandler);
  ScopedSigmask block(SIG_BLOCK, {SIGUSR2});
  Event ready;
  Thread t([&] {
    // The new thread inherited the blocked mask; only it unblocks.
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, nullptr, &mask);
    EXPECT_TRUE(sigismember(&mask, SIGUSR2));
    sigset_t usr2 = SigsetOf({SIGUSR2});
    pthread_sigmask(SIG_UNBLOCK, &usr2, nullptr);
    ready.Set();
    WaitUntil([] { return g_handler_runs.load() > 0; });
  });
  ASSERT_TRUE(ready.Wait());
  ASSERT_THAT(kill(getpid(), SIGUSR2), SyscallSucceeds());
  pid_t tid = t.tid();
  t.Join();
  EXPECT_EQ(g_handler_tid.load(), tid);
  EXPECT_FALSE(Pending(SIGUSR2));
}

TEST(ThreadSignalTest, PendingProcessSignalGoesToTheThreadThatUnblocksIt) {
  ResetHandlerRecord();
  ScopedSigaction sa(SIGUSR1, RecordTidHandler);
  ScopedSigmask block(SIG_BLOCK, {SIGUSR1});
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  ASSERT_TRUE(Pending(SIGUSR1));
  EXPECT_EQ(g_handler_runs.load(), 0);
  pid_t tid = 0;
  Thread t([&] {
    tid = Tid();
    EXPECT_TRUE(Pending(SIGUSR1)) << "process-directed: pending for all";
    sigset_t usr1 = SigsetOf({SIGUSR1});
    pthread_sigmask(SIG_UNBLOCK, &usr1, nullptr);
  });
  t.Join();
  EXPECT_EQ(g_handler_runs.load(), 1);
  EXPECT_EQ(g_handler_tid.load(), tid);
  EXPECT_FALSE(Pending(SIGUSR1));
}

TEST(ThreadSignalTest, SigpendingIsThreadPendingPlusProcessPending) {
  // signal(7): the set is "the union of the set of pending process-directed
  // signals and the set of signals pending for the calling thread".
  ResetHandlerRecord();
  ScopedSigaction sa1(SIGUSR1, RecordTidHandler);
  ScopedSigaction sa2(SIGUSR2, RecordTidHandler);
  ScopedSigmask block(SIG_BLOCK, {SIGUSR1, SIGUSR2});
  Event sent, checked;
  bool thread_saw_usr1 = false, thread_saw_usr2 = false;
  int consumed = 0;
  Thread t([&] {
    sent.Wait();
    thread_saw_usr1 = Pending(SIGUSR1);
    thread_saw_usr2 = Pending(SIGUSR2);
    sigset_t usr1 = SigsetOf({SIGUSR1});
    struct timespec zero = {0, 0};
    consumed = sigtimedwait(&usr1, nullptr, &zero);
    checked.Set();
  });
  Cleanup release([&] { sent.Set(); });
  ASSERT_THAT(tgkill(getpid(), t.tid(), SIGUSR1), SyscallSucceeds());
  ASSERT_THAT(kill(getpid(), SIGUSR2), SyscallSucceeds());
  EXPECT_FALSE(Pending(SIGUSR1)) << "directed at the other thread";
  EXPECT_TRUE(Pending(SIGUSR2));
  // The main thread cannot take the other thread's signal.
  sigset_t usr1 = SigsetOf({SIGUSR1});
  struct timespec zero = {0, 0};
  EXPECT_THAT(sigtimedwait(&usr1, nullptr, &zero),
              SyscallFailsWithErrno(EAGAIN));
  sent.Set();
  ASSERT_TRUE(checked.Wait());
  t.Join();
  EXPECT_TRUE(thread_saw_usr1);
  EXPECT_TRUE(thread_saw_usr2);
  EXPECT_EQ(consumed, SIGUSR1);
  sigset_t usr2 = SigsetOf({SIGUSR2});
  EXPECT_THAT(sigtimedwait(&usr2, nullptr, &zero),
              SyscallSucceedsWithValue(SIGUSR2));
  EXPECT_EQ(g_handler_runs.load(), 0);
}

TEST(ThreadSignalTest, SigtimedwaitInAThreadReceivesAProcessSignal) {
  ScopedSigaction sa(SIGUSR1, RecordTidHandler);  // in case it stays pending
  ScopedSigmask block(SIG_BLOCK, {SIGUSR1});
  siginfo_t info = {};
  int got = -1;
  Event waiting;
  Thread t([&] {
    sigset_t usr1 = SigsetOf({SIGUSR1});
    struct timespec timeout = {kDeadlineMs / 1000, 0};
    waiting.Set();
    got = sigtimedwait(&usr1, &info, &timeout);
  });
  ASSERT_TRUE(waiting.Wait());
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  t.Join();
  EXPECT_EQ(got, SIGUSR1);
  EXPECT_EQ(info.si_signo, SIGUSR1);
  EXPECT_EQ(info.si_code, SI_USER);
  EXPECT_EQ(info.si_pid, getpid());
  EXPECT_FALSE(Pending(SIGUSR1));
}

// Bit `sig` of a /proc status signal-set field ("SigBlk").
bool ProcSigsetHas(const std::string& status_path, const char* field, int sig) {
  std::string hex = StatusField(status_path, field);
  if (hex.empty()) return false;
  return (std::stoull(hex, nullptr, 16) >> (sig - 1)) & 1;
}

TEST(ThreadSignalTest, SignalMaskIsPerThreadAndInherited) {
  ScopedSigmask block(SIG_BLOCK, {SIGUSR1});
  bool inherited_usr1 = false, blocks_usr2 = false;
  Thread t([&] {
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, nullptr, &mask);
    inherited_usr1 = sigismember(&mask, SIGUSR1);
    sigset_t usr2 = SigsetOf({SIGUSR2});
    pthread_sigmask(SIG_BLOCK, &usr2, nullptr);
    pthread_sigmask(SIG_BLOCK, nullptr, &mask);
    blocks_usr2 = sigismember(&mask, SIGUSR2);
  });
  t.Join();
  EXPECT_TRUE(inherited_usr1);
  EXPECT_TRUE(blocks_usr2);
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  EXPECT_FALSE(sigismember(&mask, SIGUSR2)) << "the thread's change leaked";
  EXPECT_TRUE(sigismember(&mask, SIGUSR1));
}

TEST(ThreadSignalTest, ProcStatusSigBlkIsPerThread) {
  // proc(5): SigBlk in /proc/[pid]/task/[tid]/status is the thread's mask.
  ScopedSigmask block(SIG_BLOCK, {SIGUSR1});
  Event masked, done;
  Thread t([&] {
    sigset_t usr2 = SigsetOf({SIGUSR2});
    pthread_sigmask(SIG_BLOCK, &usr2, nullptr);
    masked.Set();
    done.Wait();
  });
  Cleanup release([&] { done.Set(); });
  ASSERT_TRUE(masked.Wait());
  std::string theirs = "/proc/self/task/" + std::to_string(t.tid()) + "/status";
  std::string mine = "/proc/self/task/" + std::to_string(Tid()) + "/status";
  EXPECT_TRUE(ProcSigsetHas(theirs, "SigBlk", SIGUSR2));
  EXPECT_TRUE(ProcSigsetHas(theirs, "SigBlk", SIGUSR1));
  EXPECT_FALSE(ProcSigsetHas(mine, "SigBlk", SIGUSR2));
  EXPECT_TRUE(ProcSigsetHas(mine, "SigBlk", SIGUSR1));
}

TEST(ThreadSignalTest, HandlersAreSharedBetweenThreads) {
  ResetHandlerRecord();
  struct sigaction old = {};
  sigaction(SIGUSR1, nullptr, &old);
  Thread t([] {
    struct sigaction sa = {};
    sa.sa_handler = RecordTidHandler;
    sigemptyset(&sa.sa_mask);
    EXPECT_THAT(sigaction(SIGUSR1, &sa, nullptr), SyscallSucceeds());
  });
  t.Join();
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_handler_runs.load(), 1);
  EXPECT_EQ(g_handler_tid.load(), getpid());
  sigaction(SIGUSR1, &old, nullptr);
}

TEST(ThreadSignalTest, NewThreadHasNoAlternateSignalStack) {
  // sigaltstack(2): with CLONE_VM and without CLONE_VFORK "any alternate
  // signal stack that was established in the parent is disabled in the
  // child".
  std::vector<char> mem(SIGSTKSZ * 4);
  stack_t ss = {}, old = {};
  ss.ss_sp = mem.data();
  ss.ss_size = mem.size();
  ASSERT_THAT(sigaltstack(&ss, &old), SyscallSucceeds());
  stack_t in_thread = {};
  Thread t([&] { sigaltstack(nullptr, &in_thread); });
  t.Join();
  EXPECT_EQ(in_thread.ss_flags & SS_DISABLE, SS_DISABLE);
  stack_t mine = {};
  ASSERT_THAT(sigaltstack(nullptr, &mine), SyscallSucceeds());
  EXPECT_EQ(mine.ss_sp, mem.data());
  EXPECT_EQ(mine.ss_flags & SS_DISABLE, 0);
  old.ss_flags &= SS_DISABLE;
  ASSERT_THAT(sigaltstack(&old, nullptr), SyscallSucceeds());
}

TEST(ThreadSignalTest, SigkillToOneThreadKillsTheProcessFork) {
  EXPECT_THAT(ForkAndWait(
                  []() -> int {
                    Event never;
                    Thread a([&] { never.Wait(); });
                    Thread b([&] { never.Wait(); });
                    tgkill(getpid(), b.tid(), SIGKILL);
                    never.Wait();
                    _exit(99);  // not via the threads' destructors
                  },
                  10),
              KilledBySignal(SIGKILL));
}

TEST(ThreadSignalTest, FatalSignalInOneThreadKillsTheProcessFork) {
  // signal(7): "if an unhandled signal is delivered to a thread, then all of
  // the threads of the process are affected".
  EXPECT_THAT(ForkAndWait(
                  []() -> int {
                    Event never;
                    Thread a([&] { never.Wait(); });
                    tgkill(getpid(), a.tid(), SIGTERM);
                    never.Wait();
                    _exit(99);  // not via the threads' destructors
                  },
                  10),
              KilledBySignal(SIGTERM));
}

TEST(ThreadSignalTest, PthreadCancelInterruptsABlockedRead) {
  // Deferred cancellation of a thread blocked in read(2), a cancellation
  // point: glibc signals the thread, which must be interrupted in the call.
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor r(fds[0]), w(fds[1]);
  Event started;
  Thread t([&] {
    started.Set();
    char c;
    (void)!read(r.get(), &c, 1);
    ADD_FAILURE() << "read returned instead of being cancelled";
  });
  ASSERT_TRUE(started.Wait());
  ASSERT_EQ(pthread_cancel(t.handle()), 0);
  EXPECT_EQ(t.Join(), PTHREAD_CANCELED);
}

// --- futexes ---

TEST(FutexTest, WaitWakePingPong) {
  constexpr uint32_t kRounds = 2000;
  uint32_t turn = 0;  // even: main's turn, odd: the thread's
  Thread t([&] {
    for (uint32_t i = 1; i < 2 * kRounds; i += 2) {
      if (!FutexWaitWhile(turn, i - 1)) return;
      Store(turn, i + 1);
      Futex(&turn, FUTEX_WAKE_PRIVATE, 1);
    }
  });
  for (uint32_t i = 0; i < 2 * kRounds; i += 2) {
    Store(turn, i + 1);
    Futex(&turn, FUTEX_WAKE_PRIVATE, 1);
    ASSERT_TRUE(FutexWaitWhile(turn, i + 1)) << "round " << i / 2;
  }
  EXPECT_EQ(Load(turn), 2 * kRounds);
}

TEST(FutexTest, SharedOpsWorkBetweenThreads) {
  constexpr uint32_t kRounds = 500;
  uint32_t turn = 0;
  Thread t([&] {
    for (uint32_t i = 1; i < 2 * kRounds; i += 2) {
      if (!FutexWaitWhile(turn, i - 1, FUTEX_WAIT)) return;
      Store(turn, i + 1);
      Futex(&turn, FUTEX_WAKE, 1);
    }
  });
  for (uint32_t i = 0; i < 2 * kRounds; i += 2) {
    Store(turn, i + 1);
    Futex(&turn, FUTEX_WAKE, 1);
    ASSERT_TRUE(FutexWaitWhile(turn, i + 1, FUTEX_WAIT)) << "round " << i / 2;
  }
}

TEST(FutexTest, WaitWithAnotherValueFailsEagain) {
  uint32_t word = 1;
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE, 0),
              SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(Futex(&word, FUTEX_WAIT, 2), SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, nullptr, nullptr,
                    FUTEX_BITSET_MATCH_ANY),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(FutexTest, WaitTimesOutAfterARelativeTimeout) {
  uint32_t word = 0;
  struct timespec ts = {0, 30 * 1000000L};
  double start = MonotonicMs();
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE, 0, &ts),
              SyscallFailsWithErrno(ETIMEDOUT));
  // "guaranteed not to expire early"
  EXPECT_GE(MonotonicMs() - start, 29.9);
}

TEST(FutexTest, WaitBitsetTimeoutIsAbsolute) {
  uint32_t word = 0;
  struct timespec past = {1, 0};  // long ago on both clocks
  double start = MonotonicMs();
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &past, nullptr,
                    FUTEX_BITSET_MATCH_ANY),
              SyscallFailsWithErrno(ETIMEDOUT));
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0,
                    &past, nullptr, FUTEX_BITSET_MATCH_ANY),
              SyscallFailsWithErrno(ETIMEDOUT));
  EXPECT_LT(MonotonicMs() - start, 1000) << "a past deadline did not expire";
  struct timespec mono = Deadline(CLOCK_MONOTONIC, 30);
  start = MonotonicMs();
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &mono, nullptr,
                    FUTEX_BITSET_MATCH_ANY),
              SyscallFailsWithErrno(ETIMEDOUT));
  EXPECT_GE(MonotonicMs() - start, 29.9);
  struct timespec real = Deadline(CLOCK_REALTIME, 30);
  start = MonotonicMs();
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0,
                    &real, nullptr, FUTEX_BITSET_MATCH_ANY),
              SyscallFailsWithErrno(ETIMEDOUT));
  EXPECT_GE(MonotonicMs() - start, 25);
}

TEST(FutexTest, InvalidTimeoutFailsEinval) {
  uint32_t word = 0;
  struct timespec bad = {0, 1000000000L};
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE, 0, &bad),
              SyscallFailsWithErrno(EINVAL));
  struct timespec negative = {-1, 0};
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE, 0, &negative),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &bad, nullptr,
                    FUTEX_BITSET_MATCH_ANY),
              SyscallFailsWithErrno(EINVAL));
}

TEST(FutexTest, BadAddressesFail) {
  alignas(8) uint32_t words[2] = {0, 0};
  auto* unaligned =
      reinterpret_cast<uint32_t*>(reinterpret_cast<char*>(&words[0]) + 1);
  EXPECT_THAT(Futex(unaligned, FUTEX_WAKE_PRIVATE, 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Futex(unaligned, FUTEX_WAIT_PRIVATE, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Futex(nullptr, FUTEX_WAIT_PRIVATE, 0),
              SyscallFailsWithErrno(EFAULT));
}

TEST(FutexTest, ZeroBitsetFailsEinval) {
  uint32_t word = 0;
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, nullptr, nullptr, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, nullptr, nullptr, 0),
              SyscallFailsWithErrno(EINVAL));
}

TEST(FutexTest, UnknownOperationOrClockFailsEnosys) {
  uint32_t word = 0;
  // FUTEX_CLOCK_REALTIME only goes with the waiting operations.
  EXPECT_THAT(Futex(&word, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1),
              SyscallFailsWithErrno(ENOSYS));
  EXPECT_THAT(Futex(&word, 99, 0), SyscallFailsWithErrno(ENOSYS));
}

TEST(FutexTest, WakeWithoutWaitersReturnsZero) {
  uint32_t word = 0;
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(Futex(&word, FUTEX_WAKE, 1), SyscallSucceedsWithValue(0));
}

// A thread blocked in one FUTEX_WAIT_BITSET on a word of its own (the
// lobby). MoveTo() requeues it onto another word and returns only once it is
// queued there, so the wake counts the cases check are exact, with no
// sleeps. This relies on FUTEX_CMP_REQUEUE returning "the total number of
// waiters that were woken up or requeued" (futex(2)).
class FutexWaiter {
 public:
  explicit FutexWaiter(uint32_t bitset = FUTEX_BITSET_MATCH_ANY)
      : bitset_(bitset), thread_([this] { Run(); }) {}
  // After a failure the waiter may still be blocked: wake it wherever it is.
  ~FutexWaiter() {
    double end = MonotonicMs() + kDeadlineMs;
    while (!returned() && MonotonicMs() < end) {
      Futex(&lobby_, FUTEX_WAKE_PRIVATE, INT_MAX);
      if (target_ != nullptr) Futex(target_, FUTEX_WAKE_PRIVATE, INT_MAX);
      usleep(1000);
    }
  }

  // Requeues the waiter from its lobby onto `target` (FUTEX_CMP_REQUEUE with
  // nothing woken and at most one moved).
  bool MoveTo(uint32_t* target) {
    target_ = target;
    double end = MonotonicMs() + 3000;
    while (MonotonicMs() < end) {
      long r = Futex2(&lobby_, FUTEX_CMP_REQUEUE_PRIVATE, 0, 1, target, 0);
      if (r == 1) return true;
      if (r != 0) {
        ADD_FAILURE() << "FUTEX_CMP_REQUEUE: " << strerror(errno);
        return false;
      }
      usleep(100);
    }
    ADD_FAILURE() << "FUTEX_CMP_REQUEUE never reported the waiter requeued "
                     "(it returns woken + requeued)";
    return false;
  }
  // Whether the wait has returned, and with what (0 or an errno).
  bool returned() { return Load(done_) != 0; }
  int result() {
    thread_.Join();
    return result_;
  }
  void Join() { thread_.Join(); }

 private:
  void Run() {
    struct timespec deadline = Deadline(CLOCK_MONOTONIC, kDeadlineMs);
    long r = Futex(&lobby_, FUTEX_WAIT_BITSET_PRIVATE, 0, &deadline, nullptr,
                   bitset_);
    result_ = r == 0 ? 0 : errno;
    Store(done_, 1);
  }

  uint32_t bitset_;
  uint32_t* target_ = nullptr;
  uint32_t lobby_ = 0;
  uint32_t done_ = 0;
  int result_ = -1;
  Thread thread_;  // last: starts once the rest is initialized
};

TEST(FutexTest, WakeWakesAtMostValWaiters) {
  uint32_t word = 0;
  FutexWaiter w[3];
  for (auto& x : w) ASSERT_TRUE(x.MoveTo(&word));
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, 2), SyscallSucceedsWithValue(2));
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(1));
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(0));
  for (auto& x : w) EXPECT_EQ(x.result(), 0);
}

TEST(FutexTest, CmpRequeueWakesSomeAndMovesTheRest) {
  uint32_t a = 5, b = 0;
  FutexWaiter w[4];
  for (auto& x : w) ASSERT_TRUE(x.MoveTo(&a));
  EXPECT_THAT(Futex2(&a, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, &b, 6),
              SyscallFailsWithErrno(EAGAIN));
  // Wake 1, requeue at most 2: returns woken + requeued.
  EXPECT_THAT(Futex2(&a, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, &b, 5),
              SyscallSucceedsWithValue(3));
  EXPECT_THAT(Futex(&a, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(1));
  EXPECT_THAT(Futex(&b, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(2));
  for (auto& x : w) EXPECT_EQ(x.result(), 0);
}

TEST(FutexTest, RequeueMovesWithoutComparing) {
  uint32_t a = 5, b = 0;
  FutexWaiter w[3];
  for (auto& x : w) ASSERT_TRUE(x.MoveTo(&a));
  // val3 is ignored by FUTEX_REQUEUE. futex(2) says it returns the number
  // woken; Linux returns woken + requeued, as for FUTEX_CMP_REQUEUE.
  EXPECT_THAT(Futex2(&a, FUTEX_REQUEUE_PRIVATE, 0, INT_MAX, &b, 12345),
              SyscallSucceedsWithValue(3));
  EXPECT_THAT(Futex(&a, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(Futex(&b, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(3));
  for (auto& x : w) EXPECT_EQ(x.result(), 0);
}

constexpr uint32_t FutexOp(uint32_t op, uint32_t oparg, uint32_t cmp,
                           uint32_t cmparg) {
  return ((op & 0xf) << 28) | ((cmp & 0xf) << 24) | ((oparg & 0xfff) << 12) |
         (cmparg & 0xfff);
}

TEST(FutexTest, WakeOpChangesTheSecondWordAndWakesOnBoth) {
  uint32_t a = 0, b = 5;
  FutexWaiter on_a, on_b;
  ASSERT_TRUE(on_a.MoveTo(&a));
  ASSERT_TRUE(on_b.MoveTo(&b));
  // oldval = b (5); b += 3; wake 1 on a; 5 == 5 so wake 1 on b.
  EXPECT_THAT(Futex2(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &b,
                     FutexOp(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_EQ, 5)),
              SyscallSucceedsWithValue(2));
  EXPECT_EQ(Load(b), 8u);
  EXPECT_EQ(on_a.result(), 0);
  EXPECT_EQ(on_b.result(), 0);
}

TEST(FutexTest, WakeOpComparisonFalseLeavesSecondWaiter) {
  uint32_t a = 0, b = 8;
  FutexWaiter on_b;
  ASSERT_TRUE(on_b.MoveTo(&b));
  // oldval 8 is not < 8: nobody on b is woken, but b still becomes 1 << 4.
  EXPECT_THAT(Futex2(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &b,
                     FutexOp(FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 4,
                             FUTEX_OP_CMP_LT, 8)),
              SyscallSucceedsWithValue(0));
  EXPECT_EQ(Load(b), 16u);
  // OR, ANDN and XOR, without waiters.
  EXPECT_THAT(Futex2(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &b,
                     FutexOp(FUTEX_OP_OR, 3, FUTEX_OP_CMP_NE, 16)),
              SyscallSucceedsWithValue(0));
  EXPECT_EQ(Load(b), 19u);
  EXPECT_THAT(Futex2(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &b,
                     FutexOp(FUTEX_OP_ANDN, 1, FUTEX_OP_CMP_GE, 0)),
              SyscallSucceedsWithValue(1));  // 19 >= 0: wakes on_b
  EXPECT_EQ(Load(b), 18u);
  EXPECT_THAT(Futex2(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &b,
                     FutexOp(FUTEX_OP_XOR, 0xff, FUTEX_OP_CMP_GT, 100)),
              SyscallSucceedsWithValue(0));
  EXPECT_EQ(Load(b), 18u ^ 0xffu);
  EXPECT_EQ(on_b.result(), 0);
}

TEST(FutexTest, WakeBitsetWakesOnlyMatchingWaiters) {
  uint32_t word = 0;
  FutexWaiter one(0x1), two(0x2), both(0x3);
  ASSERT_TRUE(one.MoveTo(&word));
  ASSERT_TRUE(two.MoveTo(&word));
  ASSERT_TRUE(both.MoveTo(&word));
  EXPECT_THAT(
      Futex(&word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, nullptr, nullptr, 0x4),
      SyscallSucceedsWithValue(0));
  EXPECT_THAT(
      Futex(&word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, nullptr, nullptr, 0x2),
      SyscallSucceedsWithValue(2));
  EXPECT_EQ(two.result(), 0);
  EXPECT_EQ(both.result(), 0);
  EXPECT_FALSE(one.returned());
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(1));
  EXPECT_EQ(one.result(), 0);
}

// One word in a MAP_SHARED anonymous mapping, shared with forked children.
class SharedWords {
 public:
  SharedWords() {
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED) << strerror(errno);
    words_ = p == MAP_FAILED ? nullptr : static_cast<uint32_t*>(p);
  }
  ~SharedWords() {
    if (words_ != nullptr) munmap(words_, 4096);
  }
  uint32_t& operator[](int i) { return words_[i]; }
  bool ok() const { return words_ != nullptr; }

 private:
  uint32_t* words_;
};

TEST(FutexTest, SharedPingPongBetweenProcessesFork) {
  SharedWords w;
  ASSERT_TRUE(w.ok());
  constexpr uint32_t kRounds = 200;
  uint32_t& turn = w[0];
  int status = -1;
  Thread waiter([&] {
    status = ForkAndWait(
        [&] {
          for (uint32_t i = 1; i < 2 * kRounds; i += 2) {
            CHILD_EXPECT(FutexWaitWhile(turn, i - 1, FUTEX_WAIT));
            Store(turn, i + 1);
            Futex(&turn, FUTEX_WAKE, 1);
          }
          return 0;
        },
        20);
  });
  for (uint32_t i = 0; i < 2 * kRounds; i += 2) {
    Store(turn, i + 1);
    Futex(&turn, FUTEX_WAKE, 1);
    ASSERT_TRUE(FutexWaitWhile(turn, i + 1, FUTEX_WAIT)) << "round " << i / 2;
  }
  waiter.Join();
  EXPECT_THAT(status, ExitedWithCode(0));
}

TEST(FutexTest, PrivateWakeDoesNotReachAnotherProcessFork) {
  SharedWords w;
  ASSERT_TRUE(w.ok());
  uint32_t& lobby = w[0];
  uint32_t& target = w[1];
  uint32_t& go = w[2];
  int status = -1;
  Thread forker([&] {
    status = ForkAndWait(
        [&] {
          struct timespec ts = {kDeadlineMs / 1000, 0};
          CHILD_EXPECT(Futex(&lobby, FUTEX_WAIT, 0, &ts) == 0);
          CHILD_EXPECT(Load(go) == 1);
          return 0;
        },
        20);
  });
  // Requeue the child's shared waiter onto `target` (so it is surely there).
  double end = MonotonicMs() + 3000;
  long moved = 0;
  while (moved == 0 && MonotonicMs() < end) {
    moved = Futex2(&lobby, FUTEX_CMP_REQUEUE, 0, 1, &target, 0);
    if (moved == 0) usleep(100);
  }
  if (moved != 1) {
    // Release the child wherever it waits before failing.
    Store(go, 1);
    Futex(&lobby, FUTEX_WAKE, INT_MAX);
    Futex(&target, FUTEX_WAKE, INT_MAX);
    FAIL() << "FUTEX_CMP_REQUEUE returned " << moved << " (" << strerror(errno)
           << "), not 1: it returns woken + requeued";
  }
  // A private futex is keyed by this process's address space.
  EXPECT_THAT(Futex(&target, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(0));
  Store(go, 1);
  EXPECT_THAT(Futex(&target, FUTEX_WAKE, INT_MAX), SyscallSucceedsWithValue(1));
  forker.Join();
  EXPECT_THAT(status, ExitedWithCode(0));
}

// --- priority-inheritance futexes ---

TEST(FutexPiTest, UnlockPiHandsTheLockToTheWaiter) {
  uint32_t word = 0;
  Event held;
  Thread holder([&] {
    uint32_t expected = 0;
    // Taken in user space, as futex(2) describes: the word holds the tid.
    std::atomic_ref<uint32_t>(word).compare_exchange_strong(
        expected, static_cast<uint32_t>(Tid()));
    held.Set();
    // The kernel sets FUTEX_WAITERS when the main thread blocks.
    EXPECT_TRUE(WaitUntil([&] { return (Load(word) & FUTEX_WAITERS) != 0; }));
    EXPECT_THAT(Futex(&word, FUTEX_UNLOCK_PI_PRIVATE, 0), SyscallSucceeds());
  });
  ASSERT_TRUE(held.Wait());
  pid_t holder_tid = holder.tid();
  EXPECT_EQ(Load(word), static_cast<uint32_t>(holder_tid));
  struct timespec deadline = Deadline(CLOCK_REALTIME, kDeadlineMs);
  ASSERT_THAT(Futex(&word, FUTEX_LOCK_PI_PRIVATE, 0, &deadline),
              SyscallSucceedsWithValue(0));
  EXPECT_EQ(Load(word) & FUTEX_TID_MASK, static_cast<uint32_t>(Tid()));
  holder.Join();
  EXPECT_THAT(Futex(&word, FUTEX_UNLOCK_PI_PRIVATE, 0), SyscallSucceeds());
  EXPECT_EQ(Load(word), 0u);
}

TEST(FutexPiTest, LockUnlockAndTrylockErrors) {
  uint32_t word = 0;
  EXPECT_THAT(Futex(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0),
              SyscallSucceedsWithValue(0));
  EXPECT_EQ(Load(word), static_cast<uint32_t>(Tid()));
  struct timespec deadline = Deadline(CLOCK_REALTIME, 1000);
  EXPECT_THAT(Futex(&word, FUTEX_LOCK_PI_PRIVATE, 0, &deadline),
              SyscallFailsWithErrno(EDEADLK));
  Thread other([&] {
    EXPECT_THAT(Futex(&word, FUTEX_UNLOCK_PI_PRIVATE, 0),
                SyscallFailsWithErrno(EPERM));
    EXPECT_THAT(Futex(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0),
                SyscallFailsWithErrno(EAGAIN));
  });
  other.Join();
  EXPECT_THAT(Futex(&word, FUTEX_UNLOCK_PI_PRIVATE, 0), SyscallSucceeds());
  EXPECT_EQ(Load(word), 0u);
}

TEST(FutexPiTest, LockPiWithAMissingOwnerFailsEsrch) {
  // futex(2): ESRCH "The thread ID in the futex word at uaddr does not
  // exist". Above any pid_max.
  uint32_t orphan = 0x3ffffff0u;
  struct timespec deadline = Deadline(CLOCK_REALTIME, 1000);
  EXPECT_THAT(Futex(&orphan, FUTEX_LOCK_PI_PRIVATE, 0, &deadline),
              SyscallFailsWithErrno(ESRCH));
}

// --- pthread synchronization ---

TEST(PthreadSyncTest, MutexProtectsACounter) {
  constexpr int kThreads = 4, kIters = 20000;
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  long counter = 0;
  {
    std::vector<std::unique_ptr<Thread>> threads;
    for (int i = 0; i < kThreads; i++) {
      threads.push_back(std::make_unique<Thread>([&] {
        for (int j = 0; j < kIters; j++) {
          pthread_mutex_lock(&mu);
          counter++;
          pthread_mutex_unlock(&mu);
        }
      }));
    }
  }
  EXPECT_EQ(counter, long{kThreads} * kIters);
}

TEST(PthreadSyncTest, MutexTimedlockTimesOutWhileHeldElsewhere) {
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  Event locked, release;
  Thread holder([&] {
    pthread_mutex_lock(&mu);
    locked.Set();
    release.Wait();
    pthread_mutex_unlock(&mu);
  });
  Cleanup cleanup([&] { release.Set(); });
  ASSERT_TRUE(locked.Wait());
  EXPECT_EQ(pthread_mutex_trylock(&mu), EBUSY);
  struct timespec deadline = Deadline(CLOCK_REALTIME, 30);
  EXPECT_EQ(pthread_mutex_timedlock(&mu, &deadline), ETIMEDOUT);
  release.Set();
  deadline = Deadline(CLOCK_REALTIME, kDeadlineMs);
  EXPECT_EQ(pthread_mutex_timedlock(&mu, &deadline), 0);
  pthread_mutex_unlock(&mu);
}

TEST(PthreadSyncTest, RobustMutexReportsADeadOwner) {
  // The kernel walks the exiting thread's robust list (set_robust_list(2))
  // and marks the futex of each mutex it still holds.
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_t mu;
  ASSERT_EQ(pthread_mutex_init(&mu, &attr), 0);
  Thread t([&] { pthread_mutex_lock(&mu); });  // exits holding it
  t.Join();
  struct timespec deadline = Deadline(CLOCK_REALTIME, kDeadlineMs);
  ASSERT_EQ(pthread_mutex_timedlock(&mu, &deadline), EOWNERDEAD);
  EXPECT_EQ(pthread_mutex_consistent(&mu), 0);
  EXPECT_EQ(pthread_mutex_unlock(&mu), 0);
  EXPECT_EQ(pthread_mutex_lock(&mu), 0);
  EXPECT_EQ(pthread_mutex_unlock(&mu), 0);
  pthread_mutex_destroy(&mu);
  pthread_mutexattr_destroy(&attr);
}

TEST(PthreadSyncTest, CondvarBroadcastWakesAllWaiters) {
  constexpr int kThreads = 4;
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
  int waiting = 0, woken = 0;
  bool go = false;
  {
    std::vector<std::unique_ptr<Thread>> threads;
    for (int i = 0; i < kThreads; i++) {
      threads.push_back(std::make_unique<Thread>([&] {
        pthread_mutex_lock(&mu);
        waiting++;
        pthread_cond_broadcast(&cv);
        struct timespec deadline = Deadline(CLOCK_REALTIME, kDeadlineMs);
        while (!go) {
          if (pthread_cond_timedwait(&cv, &mu, &deadline) == ETIMEDOUT) break;
        }
        if (go) woken++;
        pthread_mutex_unlock(&mu);
      }));
    }
    pthread_mutex_lock(&mu);
    struct timespec deadline = Deadline(CLOCK_REALTIME, kDeadlineMs);
    while (waiting < kThreads) {
      if (pthread_cond_timedwait(&cv, &mu, &deadline) == ETIMEDOUT) break;
    }
    EXPECT_EQ(waiting, kThreads);
    go = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
  }
  EXPECT_EQ(woken, kThreads);
}

TEST(PthreadSyncTest, CondvarSignalProducerConsumer) {
  constexpr int kItems = 2000;
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
  pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
  std::vector<int> queue;
  long sum = 0;
  Thread consumer([&] {
    for (int i = 0; i < kItems; i++) {
      pthread_mutex_lock(&mu);
      while (queue.empty()) pthread_cond_wait(&not_empty, &mu);
      sum += queue.back();
      queue.pop_back();
      pthread_cond_signal(&not_full);
      pthread_mutex_unlock(&mu);
    }
  });
  for (int i = 1; i <= kItems; i++) {
    pthread_mutex_lock(&mu);
    while (queue.size() >= 4) pthread_cond_wait(&not_full, &mu);
    queue.push_back(i);
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&mu);
  }
  consumer.Join();
  EXPECT_EQ(sum, long{kItems} * (kItems + 1) / 2);
}

TEST(PthreadSyncTest, CondTimedwaitOnMonotonicClockTimesOut) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  ASSERT_EQ(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC), 0);
  pthread_cond_t cv;
  ASSERT_EQ(pthread_cond_init(&cv, &attr), 0);
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&mu);
  struct timespec deadline = Deadline(CLOCK_MONOTONIC, 30);
  double start = MonotonicMs();
  int r;
  do {
    r = pthread_cond_timedwait(&cv, &mu, &deadline);
  } while (r == 0);
  EXPECT_EQ(r, ETIMEDOUT);
  EXPECT_GE(MonotonicMs() - start, 29.9);
  pthread_mutex_unlock(&mu);
  pthread_cond_destroy(&cv);
  pthread_condattr_destroy(&attr);
}

TEST(PthreadSyncTest, RwlockAdmitsReadersTogetherAndWritersAlone) {
  pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
  pthread_barrier_t both_reading;
  ASSERT_EQ(pthread_barrier_init(&both_reading, nullptr, 3), 0);
  Event release;
  auto reader = [&] {
    EXPECT_EQ(pthread_rwlock_rdlock(&rw), 0);
    // Both readers reach here while holding the read lock.
    pthread_barrier_wait(&both_reading);
    release.Wait();
    pthread_rwlock_unlock(&rw);
  };
  {
    Thread r1(reader), r2(reader);
    pthread_barrier_wait(&both_reading);
    EXPECT_EQ(pthread_rwlock_trywrlock(&rw), EBUSY);
    EXPECT_EQ(pthread_rwlock_tryrdlock(&rw), 0);
    pthread_rwlock_unlock(&rw);
    release.Set();
  }
  ASSERT_EQ(pthread_rwlock_wrlock(&rw), 0);
  Thread r3([&] {
    EXPECT_EQ(pthread_rwlock_tryrdlock(&rw), EBUSY);
    struct timespec deadline = Deadline(CLOCK_REALTIME, 20);
    EXPECT_EQ(pthread_rwlock_timedrdlock(&rw, &deadline), ETIMEDOUT);
  });
  r3.Join();
  pthread_rwlock_unlock(&rw);
  pthread_barrier_destroy(&both_reading);
}

TEST(PthreadSyncTest, BarrierHasOneSerialThreadPerRound) {
  constexpr int kThreads = 4, kRounds = 50;
  pthread_barrier_t barrier;
  ASSERT_EQ(pthread_barrier_init(&barrier, nullptr, kThreads), 0);
  std::atomic<int> serial{0}, arrived{0};
  std::atomic<bool> ordered{true};
  {
    std::vector<std::unique_ptr<Thread>> threads;
    for (int i = 0; i < kThreads; i++) {
      threads.push_back(std::make_unique<Thread>([&] {
        for (int r = 0; r < kRounds; r++) {
          arrived++;
          int ret = pthread_barrier_wait(&barrier);
          // Everyone of this round has arrived before anyone leaves.
          if (arrived.load() < (r + 1) * kThreads) ordered = false;
          if (ret == PTHREAD_BARRIER_SERIAL_THREAD) {
            serial++;
          } else if (ret != 0) {
            ordered = false;
          }
          pthread_barrier_wait(&barrier);
        }
      }));
    }
  }
  EXPECT_EQ(serial.load(), kRounds);
  EXPECT_TRUE(ordered.load());
  pthread_barrier_destroy(&barrier);
}

TEST(PthreadSyncTest, SemaphoresCountAcrossThreads) {
  sem_t items, done;
  ASSERT_EQ(sem_init(&items, 0, 0), 0);
  ASSERT_EQ(sem_init(&done, 0, 0), 0);
  constexpr int kPosts = 1000;
  std::atomic<int> taken{0};
  Thread consumer([&] {
    for (int i = 0; i < kPosts; i++) {
      struct timespec deadline = Deadline(CLOCK_REALTIME, kDeadlineMs);
      if (sem_timedwait(&items, &deadline) != 0) break;
      taken++;
    }
    sem_post(&done);
  });
  for (int i = 0; i < kPosts; i++) sem_post(&items);
  struct timespec deadline = Deadline(CLOCK_REALTIME, kDeadlineMs);
  ASSERT_EQ(sem_timedwait(&done, &deadline), 0);
  EXPECT_EQ(taken.load(), kPosts);
  int value = -1;
  sem_getvalue(&items, &value);
  EXPECT_EQ(value, 0);
  deadline = Deadline(CLOCK_REALTIME, 20);
  EXPECT_EQ(sem_timedwait(&items, &deadline), -1);
  EXPECT_EQ(errno, ETIMEDOUT);
  sem_destroy(&items);
  sem_destroy(&done);
}

TEST(PthreadSyncTest, ProcessSharedMutexAndSemaphoreFork) {
  struct Shared {
    pthread_mutex_t mu;
    sem_t sem;
    long counter;
  };
  void* p = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  auto* s = static_cast<Shared*>(p);
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  ASSERT_EQ(pthread_mutex_init(&s->mu, &attr), 0);
  ASSERT_EQ(sem_init(&s->sem, 1, 0), 0);
  s->counter = 0;
  constexpr int kIters = 5000;
  int status = -1;
  Thread forker([&] {
    status = ForkAndWait(
        [s] {
          for (int i = 0; i < kIters; i++) {
            pthread_mutex_lock(&s->mu);
            s->counter++;
            pthread_mutex_unlock(&s->mu);
          }
          sem_post(&s->sem);
          return 0;
        },
        20);
  });
  for (int i = 0; i < kIters; i++) {
    pthread_mutex_lock(&s->mu);
    s->counter++;
    pthread_mutex_unlock(&s->mu);
  }
  struct timespec deadline = Deadline(CLOCK_REALTIME, kDeadlineMs);
  EXPECT_EQ(sem_timedwait(&s->sem, &deadline), 0);
  forker.Join();
  EXPECT_THAT(status, ExitedWithCode(0));
  EXPECT_EQ(s->counter, 2L * kIters);
  pthread_mutex_destroy(&s->mu);
  sem_destroy(&s->sem);
  pthread_mutexattr_destroy(&attr);
  munmap(p, sizeof(Shared));
}

TEST(PthreadSyncTest, OnceRunsOnceAndKeyDestructorsRunAtThreadExit) {
  pthread_once_t once = PTHREAD_ONCE_INIT;
  static std::atomic<int> once_runs, destructor_runs;
  once_runs = 0;
  destructor_runs = 0;
  pthread_key_t key;
  ASSERT_EQ(pthread_key_create(&key,
                               [](void* v) {
                                 if (v != nullptr) destructor_runs++;
                               }),
            0);
  {
    std::vector<std::unique_ptr<Thread>> threads;
    for (int i = 0; i < 4; i++) {
      threads.push_back(std::make_unique<Thread>([&] {
        pthread_once(&once, [] { once_runs++; });
        pthread_setspecific(key, &key);
      }));
    }
  }
  EXPECT_EQ(once_runs.load(), 1);
  EXPECT_EQ(destructor_runs.load(), 4);
  EXPECT_EQ(pthread_getspecific(key), nullptr);
  pthread_key_delete(key);
}

TEST(PthreadSyncTest, DetachedThreadsGoAwayOnTheirOwn) {
  ASSERT_TRUE(SettleToOneThread()) << TaskCount();
  int before = TaskCount();
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  static std::atomic<int> ran{0};
  ran = 0;
  for (int i = 0; i < 3; i++) {
    pthread_t t;
    ASSERT_EQ(pthread_create(
                  &t, &attr,
                  [](void*) -> void* {
                    ran++;
                    return nullptr;
                  },
                  nullptr),
              0);
  }
  pthread_attr_destroy(&attr);
  EXPECT_TRUE(WaitUntil([] { return ran.load() == 3; }));
  EXPECT_TRUE(WaitUntil([&] { return TaskCount() == before; })) << TaskCount();
}

// --- credentials ---

TEST(ThreadCredsTest, RawSetresgidIsPerThreadGlibcSetsAllFork) {
  std::string why = WhyNobodyIsUnavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  // The system call changes only the calling thread's credentials; glibc's
  // wrapper applies the change to every thread (nptl signals each one).
  EXPECT_THAT(
      ForkAndWait(
          [] {
            Event raw_done, glibc_done, exit_now;
            pid_t tid = 0;
            Thread t([&] {
              tid = Tid();
              raw_done.Wait();
              glibc_done.Wait();
              exit_now.Wait();
            });
            CHILD_EXPECT(t.tid() > 0);
            std::string task =
                "/proc/self/task/" + std::to_string(t.tid()) + "/status";
            std::string main_task =
                "/proc/self/task/" + std::to_string(getpid()) + "/status";
            CHILD_EXPECT(syscall(SYS_setresgid, kNobodyGid, kNobodyGid,
                                 kNobodyGid) == 0);
            raw_done.Set();
            CHILD_EXPECT(StatusField(main_task, "Gid").rfind("65534", 0) == 0);
            CHILD_EXPECT(StatusField(task, "Gid").rfind("0", 0) == 0);
            CHILD_EXPECT(syscall(SYS_setresgid, 0, 0, 0) == 0);
            CHILD_EXPECT(setresgid(kNobodyGid, kNobodyGid, kNobodyGid) == 0);
            glibc_done.Set();
            CHILD_EXPECT(StatusField(task, "Gid").rfind("65534", 0) == 0);
            exit_now.Set();
            return 0;
          },
          10),
      ExitedWithCode(0));
}

}  // namespace
}  // namespace sentry::testing
