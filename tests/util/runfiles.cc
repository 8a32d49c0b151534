#include "tests/util/runfiles.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace sentry::testing {

std::string RunfilePath(const std::string& workspace_relative_path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  if (srcdir == nullptr || *srcdir == '\0') {
    std::fprintf(stderr,
                 "TEST_SRCDIR is not set: run this test with `bazel test`\n");
    std::abort();
  }
  const char* workspace = std::getenv("TEST_WORKSPACE");
  std::string ws =
      workspace != nullptr && *workspace != '\0' ? workspace : "sentry";
  return std::string(srcdir) + "/" + ws + "/" + workspace_relative_path;
}

std::string TestTmpDir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

}  // namespace sentry::testing
