// A stand-in syscall test for runner_selftest: its outcome depends only on
// SENTRY_TEST_PLATFORM, which the runner sets.
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace {

std::string Platform() {
  const char* p = std::getenv("SENTRY_TEST_PLATFORM");
  return p != nullptr ? p : "";
}

TEST(Selftest, Passes) { SUCCEED(); }

// Listed for ptrace in the selftest expectations and really failing there.
TEST(Selftest, FailsOnPtrace) { EXPECT_NE(Platform(), "ptrace"); }

// Listed for ptrace but passing: must be reported as an unexpected pass.
TEST(Selftest, PassesButListed) { SUCCEED(); }

// Fails on ptrace only when asked to, to check that an unlisted failure
// fails the target.
TEST(Selftest, FailsWhenAsked) {
  EXPECT_EQ(std::getenv("SELFTEST_FAIL"), nullptr);
}

}  // namespace
