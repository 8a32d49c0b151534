// sigaltstack(2) from the man page: setting and querying the alternate
// signal stack, SA_ONSTACK handlers running on it (and reporting
// SS_ONSTACK), EPERM while on it, SS_DISABLE, SS_AUTODISARM, the size and
// flag errors, fork inheritance, and the classic use: handling a stack
// overflow.
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

namespace sentry::testing {
namespace {

constexpr size_t kStackSize = 1 << 16;
alignas(64) char g_stack[kStackSize];
alignas(64) char g_other_stack[kStackSize];

bool OnStack(const void* p, const char* stack = g_stack) {
  auto a = reinterpret_cast<uintptr_t>(p);
  auto lo = reinterpret_cast<uintptr_t>(stack);
  return a >= lo && a < lo + kStackSize;
}

// Sets the alternate stack for the scope; restores the old one after.
class ScopedAltStack {
 public:
  explicit ScopedAltStack(char* sp = g_stack, size_t size = kStackSize,
                          int flags = 0) {
    stack_t ss = {};
    ss.ss_sp = sp;
    ss.ss_size = size;
    ss.ss_flags = flags;
    EXPECT_THAT(sigaltstack(&ss, &old_), SyscallSucceeds());
  }
  ~ScopedAltStack() { sigaltstack(&old_, nullptr); }
  ScopedAltStack(const ScopedAltStack&) = delete;
  ScopedAltStack& operator=(const ScopedAltStack&) = delete;

 private:
  stack_t old_;
};

// Installs `handler` for `sig` with `flags` for the scope.
class ScopedHandler {
 public:
  ScopedHandler(int sig, void (*handler)(int, siginfo_t*, void*), int flags)
      : sig_(sig) {
    struct sigaction sa = {};
    sa.sa_sigaction = handler;
    sa.sa_flags = flags | SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    EXPECT_THAT(sigaction(sig, &sa, &old_), SyscallSucceeds());
  }
  ~ScopedHandler() { sigaction(sig_, &old_, nullptr); }
  ScopedHandler(const ScopedHandler&) = delete;
  ScopedHandler& operator=(const ScopedHandler&) = delete;

 private:
  int sig_;
  struct sigaction old_;
};

// What the handlers saw.
volatile sig_atomic_t g_count = 0;
void* volatile g_frame = nullptr;
void* volatile g_inner_frame = nullptr;
stack_t g_query;
int g_query_result = 0;
int g_set_errno = 0;
stack_t g_uc_stack;

void Reset() {
  g_count = 0;
  g_frame = nullptr;
  g_inner_frame = nullptr;
  memset(&g_query, 0, sizeof(g_query));
  g_query_result = 0;
  g_set_errno = 0;
  memset(&g_uc_stack, 0, sizeof(g_uc_stack));
}

void RecordFrame(int, siginfo_t*, void* uc) {
  g_count = g_count + 1;
  g_frame = __builtin_frame_address(0);
  g_query_result = sigaltstack(nullptr, &g_query);
  g_uc_stack = static_cast<ucontext_t*>(uc)->uc_stack;
}

// Tries to replace and to disable the stack it runs on.
void TryToChangeTheStack(int, siginfo_t*, void*) {
  g_count = g_count + 1;
  stack_t ss = {};
  ss.ss_sp = g_other_stack;
  ss.ss_size = kStackSize;
  int r1 = sigaltstack(&ss, nullptr);
  int e1 = errno;
  ss.ss_flags = SS_DISABLE;
  int r2 = sigaltstack(&ss, nullptr);
  int e2 = errno;
  g_set_errno =
      (r1 == -1 && e1 == EPERM && r2 == -1 && e2 == EPERM) ? EPERM : -1;
}

void InnerFrame(int, siginfo_t*, void*) {
  g_inner_frame = __builtin_frame_address(0);
}

// Raises SIGUSR2 (also SA_ONSTACK) while on the alternate stack.
void RaiseInner(int, siginfo_t*, void*) {
  g_frame = __builtin_frame_address(0);
  raise(SIGUSR2);
}

TEST(SigaltstackTest, DisabledUnlessSet) {
  auto child = [] {
    stack_t ss;
    CHILD_EXPECT(sigaltstack(nullptr, &ss) == 0);
    CHILD_EXPECT(ss.ss_flags == SS_DISABLE);
    return 0;
  };
  // In a child, as a fresh view of the state no test here changed.
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(SigaltstackTest, QueryReturnsWhatWasSet) {
  ScopedAltStack alt;
  stack_t ss;
  ASSERT_THAT(sigaltstack(nullptr, &ss), SyscallSucceeds());
  EXPECT_EQ(ss.ss_sp, g_stack);
  EXPECT_EQ(ss.ss_size, kStackSize);
  EXPECT_EQ(ss.ss_flags, 0);
  // Both arguments NULL is a no-op.
  EXPECT_THAT(sigaltstack(nullptr, nullptr), SyscallSucceeds());
}

TEST(SigaltstackTest, OnstackHandlerRunsOnTheAlternateStack) {
  Reset();
  ScopedAltStack alt;
  ScopedHandler h(SIGUSR1, RecordFrame, SA_ONSTACK);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  ASSERT_EQ(g_count, 1);
  EXPECT_TRUE(OnStack(g_frame)) << g_frame;
  // Inside, the stack is reported in use.
  EXPECT_EQ(g_query_result, 0);
  EXPECT_EQ(g_query.ss_flags, SS_ONSTACK);
  EXPECT_EQ(g_query.ss_sp, g_stack);
  // Outside again, it is not.
  stack_t ss;
  ASSERT_THAT(sigaltstack(nullptr, &ss), SyscallSucceeds());
  EXPECT_EQ(ss.ss_flags, 0);
}

TEST(SigaltstackTest, HandlerWithoutOnstackUsesTheNormalStack) {
  Reset();
  ScopedAltStack alt;
  ScopedHandler h(SIGUSR1, RecordFrame, 0);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  ASSERT_EQ(g_count, 1);
  EXPECT_FALSE(OnStack(g_frame)) << g_frame;
  EXPECT_EQ(g_query.ss_flags, 0);
}

TEST(SigaltstackTest, UcontextDescribesTheAlternateStack) {
  Reset();
  ScopedAltStack alt;
  ScopedHandler h(SIGUSR1, RecordFrame, SA_ONSTACK);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(g_uc_stack.ss_sp, g_stack);
  EXPECT_EQ(g_uc_stack.ss_size, kStackSize);
}

TEST(SigaltstackTest, ChangingItWhileOnItFailsEperm) {
  Reset();
  ScopedAltStack alt;
  ScopedHandler h(SIGUSR1, TryToChangeTheStack, SA_ONSTACK);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(g_set_errno, EPERM);
  stack_t ss;
  ASSERT_THAT(sigaltstack(nullptr, &ss), SyscallSucceeds());
  EXPECT_EQ(ss.ss_sp, g_stack);
}

TEST(SigaltstackTest, NestedSignalStaysOnTheAlternateStack) {
  Reset();
  ScopedAltStack alt;
  ScopedHandler outer(SIGUSR1, RaiseInner, SA_ONSTACK);
  ScopedHandler inner(SIGUSR2, InnerFrame, SA_ONSTACK);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  ASSERT_NE(g_inner_frame, nullptr);
  EXPECT_TRUE(OnStack(g_frame));
  EXPECT_TRUE(OnStack(g_inner_frame));
  // The inner frame is pushed below the outer one, not at the top again.
  EXPECT_LT(reinterpret_cast<uintptr_t>(g_inner_frame),
            reinterpret_cast<uintptr_t>(g_frame));
}

TEST(SigaltstackTest, SsDisableTurnsItOff) {
  Reset();
  ScopedAltStack alt;
  stack_t off = {};
  off.ss_flags = SS_DISABLE;
  ASSERT_THAT(sigaltstack(&off, nullptr), SyscallSucceeds());
  stack_t ss;
  ASSERT_THAT(sigaltstack(nullptr, &ss), SyscallSucceeds());
  EXPECT_EQ(ss.ss_flags, SS_DISABLE);
  ScopedHandler h(SIGUSR1, RecordFrame, SA_ONSTACK);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  ASSERT_EQ(g_count, 1);
  EXPECT_FALSE(OnStack(g_frame));
}

TEST(SigaltstackTest, AutodisarmClearsItInsideTheHandler) {
  Reset();
  ScopedAltStack alt(g_stack, kStackSize, SS_AUTODISARM);
  ScopedHandler h(SIGUSR1, RecordFrame, SA_ONSTACK);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  ASSERT_EQ(g_count, 1);
  EXPECT_TRUE(OnStack(g_frame));
  // "the alternate signal stack is cleared on entry to the signal handler"
  EXPECT_EQ(g_query.ss_flags & SS_DISABLE, SS_DISABLE);
  // and restored when it returns.
  stack_t ss;
  ASSERT_THAT(sigaltstack(nullptr, &ss), SyscallSucceeds());
  EXPECT_EQ(ss.ss_sp, g_stack);
  EXPECT_EQ(ss.ss_size, kStackSize);
  EXPECT_EQ(ss.ss_flags & SS_DISABLE, 0);
}

TEST(SigaltstackTest, TooSmallFailsEnomem) {
  // MINSIGSTKSZ is 2048 in the kernel's x86 ABI.
  for (size_t size : {size_t{1}, size_t{2047}}) {
    stack_t ss = {};
    ss.ss_sp = g_stack;
    ss.ss_size = size;
    EXPECT_THAT(sigaltstack(&ss, nullptr), SyscallFailsWithErrno(ENOMEM))
        << size;
  }
  // A disabled stack has no size to check.
  stack_t old;
  ASSERT_THAT(sigaltstack(nullptr, &old), SyscallSucceeds());
  stack_t off = {};
  off.ss_flags = SS_DISABLE;
  off.ss_size = 1;
  EXPECT_THAT(sigaltstack(&off, nullptr), SyscallSucceeds());
  sigaltstack(&old, nullptr);
}

TEST(SigaltstackTest, UnknownFlagsFailEinval) {
  stack_t ss = {};
  ss.ss_sp = g_stack;
  ss.ss_size = kStackSize;
  ss.ss_flags = 0x1234;
  EXPECT_THAT(sigaltstack(&ss, nullptr), SyscallFailsWithErrno(EINVAL));
}

TEST(SigaltstackTest, BadPointersFailEfault) {
  EXPECT_THAT(sigaltstack(reinterpret_cast<stack_t*>(8), nullptr),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(sigaltstack(nullptr, reinterpret_cast<stack_t*>(8)),
              SyscallFailsWithErrno(EFAULT));
}

TEST(SigaltstackTest, ForkChildInheritsTheAlternateStack) {
  ScopedAltStack alt;
  auto child = [] {
    stack_t ss;
    CHILD_EXPECT(sigaltstack(nullptr, &ss) == 0);
    CHILD_EXPECT(ss.ss_sp == g_stack);
    CHILD_EXPECT(ss.ss_size == kStackSize);
    CHILD_EXPECT(ss.ss_flags == 0);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

// Far more than any stack holds (1 KiB frames).
volatile int g_overflow_depth = 1 << 30;

// Recurses g_overflow_depth times: each frame is kept alive by using it
// after the call.
__attribute__((noinline)) int Overflow(int depth) {
  volatile char buf[1024];
  buf[0] = static_cast<char>(depth);
  if (depth >= g_overflow_depth) return buf[0];
  return Overflow(depth + 1) + buf[0];
}

void ExitFromOverflow(int sig, siginfo_t*, void*) {
  char here;
  _exit(sig == SIGSEGV && OnStack(&here) ? 0 : 1);
}

TEST(SigaltstackTest, StackOverflowIsHandledOnTheAlternateStackFork) {
  // The man page's use case: "to handle the SIGSEGV signal that occurs if
  // the normal process stack is exhausted".
  auto child = [] {
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
    rl = {1 << 20, 1 << 20};
    CHILD_EXPECT(setrlimit(RLIMIT_STACK, &rl) == 0);
    stack_t ss = {};
    ss.ss_sp = g_stack;
    ss.ss_size = kStackSize;
    CHILD_EXPECT(sigaltstack(&ss, nullptr) == 0);
    struct sigaction sa = {};
    sa.sa_sigaction = ExitFromOverflow;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    CHILD_EXPECT(sigaction(SIGSEGV, &sa, nullptr) == 0);
    return Overflow(0);
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

}  // namespace
}  // namespace sentry::testing
