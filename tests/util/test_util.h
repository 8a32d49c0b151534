// Helpers for the syscall tests (tests/syscalls): RAII file descriptors and
// temporary paths, gmock matchers for raw syscall results, a fork helper and
// the platform the test runs on.
//
// The same test binary runs natively and inside the Sentry, so nothing here
// may depend on Bazel's runfiles or on files outside $TEST_TMPDIR, /dev and
// /proc. Example:
//
//   TempPath dir = TempPath::CreateDir();
//   FileDescriptor fd(open((dir.path() + "/f").c_str(), O_CREAT | O_RDWR,
//                          0644));
//   ASSERT_THAT(fd.get(), SyscallSucceeds());
//   EXPECT_THAT(write(fd.get(), "x", 1), SyscallSucceedsWithValue(1));
//   EXPECT_THAT(open("", O_RDONLY), SyscallFailsWithErrno(ENOENT));
#ifndef SENTRY_TESTS_UTIL_TEST_UTIL_H_
#define SENTRY_TESTS_UTIL_TEST_UTIL_H_

#include <errno.h>
#include <string.h>
#include <sys/types.h>

#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sentry::testing {

// Owns one file descriptor and closes it on destruction. -1 means empty.
// Move-only, so a descriptor is closed exactly once.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership without closing.
  int release();
  // Closes the current descriptor (if any) and takes `fd`.
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// A file or directory with a unique name under TestTmpDir(), removed
// (recursively, without following symlinks) on destruction. Tests create
// everything they touch under one of these.
class TempPath {
 public:
  // A regular file holding `contents`, created with exactly `mode` (the umask
  // is not applied).
  static TempPath CreateFile(std::string_view contents = "",
                             mode_t mode = 0644);
  // An empty directory with exactly `mode`.
  static TempPath CreateDir(mode_t mode = 0755);
  // The same, inside `parent` instead of TestTmpDir().
  static TempPath CreateFileIn(const std::string& parent,
                               std::string_view contents = "",
                               mode_t mode = 0644);
  static TempPath CreateDirIn(const std::string& parent, mode_t mode = 0755);

  TempPath() = default;
  TempPath(TempPath&& other) noexcept : path_(other.release()) {}
  TempPath& operator=(TempPath&& other) noexcept;
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  ~TempPath();

  const std::string& path() const { return path_; }
  // Returns path() + "/" + name: a child of a directory TempPath.
  std::string Child(std::string_view name) const;
  // Stops owning the path: it is no longer removed.
  std::string release();

 private:
  explicit TempPath(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// $TEST_TMPDIR when set and non-empty, else /tmp.
std::string TestTmpDir();

// A fresh name under `parent` that does not exist yet (nothing is created).
std::string NewTempName(const std::string& parent);

// Removes `path` and everything under it without following symlinks.
// Returns 0 or -1 with errno set (ENOENT is not an error).
int RemoveRecursively(const std::string& path);

// getenv("SENTRY_TEST_PLATFORM"), or "native" when unset or empty. The only
// way a test learns where it runs; the runner (tests/syscalls/run_test.sh)
// sets it.
std::string TestPlatform();
inline bool IsRunningNatively() { return TestPlatform() == "native"; }

// Whole contents of a file read with read(2) until EOF, so that files whose
// st_size is 0 (most of /proc) work. On error records a test failure and
// returns "".
std::string ReadProcFile(const std::string& path);
// The same for an open descriptor, from its current offset.
std::string ReadAll(int fd);
// write(2)s all of `data`; returns false (errno set) on error.
bool WriteAll(int fd, std::string_view data);

// Forks; the child runs `fn` and _exit()s with its result. Returns the
// child's wait status. If the child has not exited within `timeout_seconds`
// it is SIGKILLed, a test failure is recorded and the status of the killed
// child is returned. gtest assertions do not work in the child (they are
// reported only there): use CHILD_EXPECT and return non-zero on failure.
// Returns -1 (and records a failure) if fork fails.
int ForkAndWait(const std::function<int()>& fn, int timeout_seconds = 30);

// "exited 0", "killed by signal 13 (Broken pipe)", ...
std::string DescribeWaitStatus(int status);

// In a ForkAndWait child (a function returning int): when `cond` is false,
// prints it with errno to stderr and returns the line number as the exit
// code, so the parent's failure message points at the line.
#define CHILD_EXPECT(cond)                                               \
  do {                                                                   \
    if (!(cond)) {                                                       \
      int child_expect_errno_ = errno;                                   \
      fprintf(stderr, "%s:%d: CHILD_EXPECT(%s) failed (errno %d: %s)\n", \
              __FILE__, __LINE__, #cond, child_expect_errno_,            \
              strerror(child_expect_errno_));                            \
      return __LINE__ % 255 + 1;                                         \
    }                                                                    \
  } while (0)

// Matches a wait status of a normal exit with `code`.
MATCHER_P(ExitedWithCode, code,
          std::string("exited with code ") + ::testing::PrintToString(code)) {
  *result_listener << DescribeWaitStatus(arg);
  return WIFEXITED(arg) && WEXITSTATUS(arg) == code;
}

// Matches a wait status of a process killed by `sig`.
MATCHER_P(KilledBySignal, sig,
          std::string("killed by signal ") + ::testing::PrintToString(sig)) {
  *result_listener << DescribeWaitStatus(arg);
  return WIFSIGNALED(arg) && WTERMSIG(arg) == sig;
}

// Runs `fn` in a forked child after dropping to uid/gid 65534 (nobody) with
// setresgid/setresuid, so permission checks apply even when the test runs as
// root. Returns the wait status as ForkAndWait does.
int ForkAsNobodyAndWait(const std::function<int()>& fn);
inline constexpr uid_t kNobodyUid = 65534;
inline constexpr gid_t kNobodyGid = 65534;

// Empty when this process can switch to (and chown to) uid/gid 65534: it is
// root and both ids are mapped in its user namespace (Bazel's linux-sandbox
// maps only root) with setgroups allowed. Otherwise the reason it cannot,
// for GTEST_SKIP.
std::string WhyNobodyIsUnavailable();

// Sets the umask for its lifetime and restores the previous one.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask);
  ~ScopedUmask();
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

namespace internal {

// A raw syscall result: -1 is failure (with errno), anything else success.
// errno is read when the matcher runs, i.e. right after the expression
// under test is evaluated by EXPECT_THAT/ASSERT_THAT.
class SyscallResultMatcher {
 public:
  enum class Kind { kSucceeds, kFails };
  SyscallResultMatcher(Kind kind, ::testing::Matcher<long long> value,
                       ::testing::Matcher<int> errno_matcher)
      : kind_(kind),
        value_(std::move(value)),
        errno_(std::move(errno_matcher)) {}

  template <typename T>
  bool MatchAndExplain(T result, ::testing::MatchResultListener* l) const {
    static_assert(std::is_integral_v<T> || std::is_pointer_v<T>,
                  "syscall results are integers");
    const int err = errno;  // before anything else can change it
    long long v;
    if constexpr (std::is_pointer_v<T>) {
      v = reinterpret_cast<long long>(result);
    } else {
      v = static_cast<long long>(result);
    }
    return Explain(v, err, l);
  }
  void DescribeTo(std::ostream* os) const;
  void DescribeNegationTo(std::ostream* os) const;

 private:
  bool Explain(long long v, int err, ::testing::MatchResultListener* l) const;
  Kind kind_;
  ::testing::Matcher<long long> value_;
  ::testing::Matcher<int> errno_;
};

}  // namespace internal

// The call succeeded (did not return -1).
::testing::PolymorphicMatcher<internal::SyscallResultMatcher> SyscallSucceeds();

// The call succeeded and returned a value matching `m` (a value or a
// matcher, e.g. Gt(0)).
template <typename M>
::testing::PolymorphicMatcher<internal::SyscallResultMatcher>
SyscallSucceedsWithValue(M m) {
  return ::testing::MakePolymorphicMatcher(internal::SyscallResultMatcher(
      internal::SyscallResultMatcher::Kind::kSucceeds,
      ::testing::MatcherCast<long long>(m), ::testing::_));
}

// The call failed (returned -1), with any errno.
::testing::PolymorphicMatcher<internal::SyscallResultMatcher> SyscallFails();

// The call failed with an errno matching `e` (a value, or a matcher such as
// AnyOf(EAGAIN, EINTR)).
template <typename E>
::testing::PolymorphicMatcher<internal::SyscallResultMatcher>
SyscallFailsWithErrno(E e) {
  return ::testing::MakePolymorphicMatcher(internal::SyscallResultMatcher(
      internal::SyscallResultMatcher::Kind::kFails, ::testing::_,
      ::testing::MatcherCast<int>(e)));
}

}  // namespace sentry::testing

#endif  // SENTRY_TESTS_UTIL_TEST_UTIL_H_
