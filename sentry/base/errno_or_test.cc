#include "sentry/base/errno_or.h"

#include <cerrno>
#include <string>

#include "gtest/gtest.h"

namespace sentry {
namespace {

ErrnoOr<int> Half(int x) {
  if (x % 2 != 0) return Errno(EINVAL);
  return x / 2;
}

ErrnoOr<int> Quarter(int x) {
  SENTRY_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

ErrnoOr<void> CheckEven(int x) {
  SENTRY_RETURN_IF_ERRNO(Half(x));
  return {};
}

TEST(ErrnoOrTest, ValueAndError) {
  EXPECT_EQ(*Half(8), 4);
  ErrnoOr<int> e = Half(3);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().value(), EINVAL);
}

TEST(ErrnoOrTest, PropagatesThroughMacros) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).error(), Errno(EINVAL));
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_EQ(CheckEven(1).error(), Errno(EINVAL));
}

TEST(ErrnoOrTest, HoldsMoveOnlyAndStrings) {
  ErrnoOr<std::string> s = std::string("abc");
  EXPECT_EQ(s->size(), 3u);
  std::string moved = std::move(s).value();
  EXPECT_EQ(moved, "abc");
}

}  // namespace
}  // namespace sentry
