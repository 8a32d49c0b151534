// The extended FPU state in signal frames (sigreturn(2), signal(7), and
// the x86-64 ABI's sigcontext): a handler that clobbers the AVX registers
// does not change what the interrupted code sees, the frame carries the
// XSAVE area with Linux's magic words, and sigreturn loads what the handler
// left in the frame.
#include <signal.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdint>

#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

constexpr uint32_t kFpXstateMagic1 = 0x46505853;
constexpr uint32_t kFpXstateMagic2 = 0x46505845;
constexpr unsigned long kUcFpXstate = 0x1;

bool HasAvx() { return __builtin_cpu_supports("avx"); }

// Installs `fn` as `sig`'s handler for the scope.
class ScopedHandler {
 public:
  ScopedHandler(int sig, void (*fn)(int, siginfo_t*, void*)) : sig_(sig) {
    struct sigaction sa {};
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, &old_);
  }
  ~ScopedHandler() { sigaction(sig_, &old_, nullptr); }

 private:
  int sig_;
  struct sigaction old_ {};
};

// Loads ymm15 from `in`, signals this thread with a raw tgkill (the
// handler runs as that syscall returns, inside the same asm block, so no
// compiler code touches the register in between) and stores ymm15 to `out`.
__attribute__((target("avx"))) void Ymm15RoundTrip(const uint64_t* in,
                                                   uint64_t* out, int sig) {
  long pid = getpid(), tid = gettid();
  __asm__ volatile(
      "vmovdqu (%[in]), %%ymm15\n"
      "mov $234, %%eax\n"
      "mov %[pid], %%rdi\n"
      "mov %[tid], %%rsi\n"
      "mov %[sig], %%rdx\n"
      "syscall\n"
      "vmovdqu %%ymm15, (%[out])\n"
      :
      : [in] "r"(in), [out] "r"(out), [pid] "r"(pid), [tid] "r"(tid),
        [sig] "r"(static_cast<long>(sig))
      : "rax", "rdi", "rsi", "rdx", "rcx", "r11", "xmm15", "memory");
}

// The same with xmm1 (SSE only).
void Xmm1RoundTrip(const uint64_t* in, uint64_t* out, int sig) {
  long pid = getpid(), tid = gettid();
  __asm__ volatile(
      "movdqu (%[in]), %%xmm1\n"
      "mov $234, %%eax\n"
      "mov %[pid], %%rdi\n"
      "mov %[tid], %%rsi\n"
      "mov %[sig], %%rdx\n"
      "syscall\n"
      "movdqu %%xmm1, (%[out])\n"
      :
      : [in] "r"(in), [out] "r"(out), [pid] "r"(pid), [tid] "r"(tid),
        [sig] "r"(static_cast<long>(sig))
      : "rax", "rdi", "rsi", "rdx", "rcx", "r11", "xmm1", "memory");
}

__attribute__((target("avx"))) void ClobberYmm(int, siginfo_t*, void*) {
  __asm__ volatile("vzeroall" ::
                       : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
                         "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
                         "xmm13", "xmm14", "xmm15");
}

TEST(SignalFrameTest, AvxRegistersSurviveAHandler) {
  if (!HasAvx()) GTEST_SKIP() << "no AVX";
  uint64_t in[4] = {0x1111111111111111, 0x2222222222222222, 0x3333333333333333,
                    0x4444444444444444};
  uint64_t out[4] = {};
  ScopedHandler h(SIGUSR1, ClobberYmm);
  Ymm15RoundTrip(in, out, SIGUSR1);
  // ymm15's upper half is what FXSAVE alone would lose.
  EXPECT_EQ(out[2], in[2]) << "upper half of ymm15 lost across the handler";
  EXPECT_EQ(out[3], in[3]);
  EXPECT_EQ(out[0], in[0]);
}

std::atomic<bool> saw_magic{false};
std::atomic<bool> saw_flag{false};

void InspectFrame(int, siginfo_t*, void* ctx) {
  auto* uc = static_cast<ucontext_t*>(ctx);
  saw_flag = uc->uc_flags & kUcFpXstate;
  const auto* fp = reinterpret_cast<const uint8_t*>(uc->uc_mcontext.fpregs);
  if (fp == nullptr) return;
  uint32_t magic1, extended, xstate_size, magic2;
  memcpy(&magic1, fp + 464, 4);
  memcpy(&extended, fp + 468, 4);
  memcpy(&xstate_size, fp + 480, 4);
  if (magic1 != kFpXstateMagic1 || extended != xstate_size + 4) return;
  memcpy(&magic2, fp + xstate_size, 4);
  saw_magic = magic2 == kFpXstateMagic2;
}

TEST(SignalFrameTest, FrameCarriesTheXsaveArea) {
  if (!HasAvx()) GTEST_SKIP() << "no AVX";
  saw_magic = false;
  saw_flag = false;
  ScopedHandler h(SIGUSR2, InspectFrame);
  raise(SIGUSR2);
  EXPECT_TRUE(saw_flag) << "uc_flags lacks UC_FP_XSTATE";
  EXPECT_TRUE(saw_magic) << "no FP_XSTATE_MAGIC1/2 around the XSAVE area";
}

void EditXmm1InFrame(int, siginfo_t*, void* ctx) {
  auto* uc = static_cast<ucontext_t*>(ctx);
  // xmm1 lives at byte 176 of the FXSAVE area.
  auto* fp = reinterpret_cast<uint8_t*>(uc->uc_mcontext.fpregs);
  uint64_t v = 0xabcdef0123456789;
  memcpy(fp + 176, &v, 8);
}

TEST(SignalFrameTest, SigreturnLoadsTheStateLeftInTheFrame) {
  uint64_t in[2] = {1, 2};
  uint64_t out[2] = {};
  ScopedHandler h(SIGUSR1, EditXmm1InFrame);
  Xmm1RoundTrip(in, out, SIGUSR1);
  EXPECT_EQ(out[0], 0xabcdef0123456789u);
  EXPECT_EQ(out[1], 2u);
}

void ClobberXmm(int, siginfo_t*, void*) {
  __asm__ volatile("pxor %%xmm1, %%xmm1" ::: "xmm1");
}

TEST(SignalFrameTest, SseRegistersSurviveAHandler) {
  uint64_t in[2] = {0x5555, 0x6666};
  uint64_t out[2] = {};
  ScopedHandler h(SIGUSR2, ClobberXmm);
  Xmm1RoundTrip(in, out, SIGUSR2);
  EXPECT_EQ(out[0], in[0]);
  EXPECT_EQ(out[1], in[1]);
}

}  // namespace
}  // namespace sentry::testing
