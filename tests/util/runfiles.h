// Locating a test's data files and scratch directory under `bazel test`.
#ifndef SENTRY_TESTS_UTIL_RUNFILES_H_
#define SENTRY_TESTS_UTIL_RUNFILES_H_

#include <string>

namespace sentry::testing {

// Absolute path of a data dependency given its workspace-relative path
// (e.g. "tests/guests/glibc/hello"): $TEST_SRCDIR/$TEST_WORKSPACE/<path>.
// Aborts with a message when TEST_SRCDIR is not set (not run by Bazel).
std::string RunfilePath(const std::string& workspace_relative_path);

// The per-test scratch directory ($TEST_TMPDIR, else /tmp).
std::string TestTmpDir();

}  // namespace sentry::testing

#endif  // SENTRY_TESTS_UTIL_RUNFILES_H_
