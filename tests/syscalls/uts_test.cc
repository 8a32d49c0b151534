// sethostname(2), setdomainname(2) and uname(2), from the man pages. Each
// case runs in a forked child; natively the child first gets a UTS
// namespace of its own (unshare(2)) so the host's names never change. In
// the sandbox the names are the sandbox's already, and the child puts the
// old ones back before it exits.
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

// Runs `fn` in a child with names it may change.
int WithOwnNames(const std::function<int()>& fn) {
  return ForkAndWait([&] {
    if (IsRunningNatively()) CHILD_EXPECT(unshare(CLONE_NEWUTS) == 0);
    struct utsname before;
    CHILD_EXPECT(uname(&before) == 0);
    int rc = fn();
    CHILD_EXPECT(sethostname(before.nodename, strlen(before.nodename)) == 0);
    CHILD_EXPECT(setdomainname(before.domainname, strlen(before.domainname)) ==
                 0);
    return rc;
  });
}

TEST(UtsTest, SethostnameChangesUnameAndProc) {
  EXPECT_THAT(
      WithOwnNames([] {
        CHILD_EXPECT(sethostname("box-one", 7) == 0);
        struct utsname u;
        CHILD_EXPECT(uname(&u) == 0);
        CHILD_EXPECT(strcmp(u.nodename, "box-one") == 0);
        char buf[128] = {};
        CHILD_EXPECT(gethostname(buf, sizeof(buf)) == 0);
        CHILD_EXPECT(strcmp(buf, "box-one") == 0);
        CHILD_EXPECT(ReadProcFile("/proc/sys/kernel/hostname") == "box-one\n");
        return 0;
      }),
      ExitedWithCode(0));
}

TEST(UtsTest, SethostnameLengthIsHonoured) {
  // The name is the first `len` bytes, not NUL-terminated in the buffer.
  EXPECT_THAT(WithOwnNames([] {
                CHILD_EXPECT(sethostname("abcdef", 3) == 0);
                struct utsname u;
                CHILD_EXPECT(uname(&u) == 0);
                CHILD_EXPECT(strcmp(u.nodename, "abc") == 0);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(UtsTest, SethostnameEmptyName) {
  EXPECT_THAT(WithOwnNames([] {
                CHILD_EXPECT(sethostname("", 0) == 0);
                struct utsname u;
                CHILD_EXPECT(uname(&u) == 0);
                CHILD_EXPECT(u.nodename[0] == '\0');
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(UtsTest, SethostnameTooLongIsEinval) {
  std::string name(65, 'x');
  EXPECT_THAT(WithOwnNames([&] {
                CHILD_EXPECT(sethostname(name.data(), name.size()) == -1 &&
                             errno == EINVAL);
                CHILD_EXPECT(sethostname(name.data(), 64) == 0);
                struct utsname u;
                CHILD_EXPECT(uname(&u) == 0);
                CHILD_EXPECT(strlen(u.nodename) == 64);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(UtsTest, SethostnameBadPointerIsEfault) {
  EXPECT_THAT(
      WithOwnNames([] {
        CHILD_EXPECT(syscall(SYS_sethostname, 8, 4) == -1 && errno == EFAULT);
        return 0;
      }),
      ExitedWithCode(0));
}

TEST(UtsTest, SetdomainnameChangesUname) {
  EXPECT_THAT(WithOwnNames([] {
                CHILD_EXPECT(setdomainname("example.test", 12) == 0);
                struct utsname u;
                CHILD_EXPECT(uname(&u) == 0);
                CHILD_EXPECT(strcmp(u.domainname, "example.test") == 0);
                CHILD_EXPECT(ReadProcFile("/proc/sys/kernel/domainname") ==
                             "example.test\n");
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(UtsTest, UnprivilegedSethostnameIsEperm) {
  if (std::string why = WhyNobodyIsUnavailable(); !why.empty()) {
    GTEST_SKIP() << why;
  }
  EXPECT_THAT(ForkAsNobodyAndWait([] {
                CHILD_EXPECT(sethostname("nope", 4) == -1 && errno == EPERM);
                CHILD_EXPECT(setdomainname("nope", 4) == -1 && errno == EPERM);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(UtsTest, NameIsSeenByOtherProcesses) {
  EXPECT_THAT(WithOwnNames([] {
                CHILD_EXPECT(sethostname("shared-name", 11) == 0);
                int status = ForkAndWait([] {
                  struct utsname u;
                  CHILD_EXPECT(uname(&u) == 0);
                  CHILD_EXPECT(strcmp(u.nodename, "shared-name") == 0);
                  return 0;
                });
                CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                return 0;
              }),
              ExitedWithCode(0));
}

}  // namespace
}  // namespace sentry::testing
