#include "platform/platforms.h"

#include "absl/strings/str_cat.h"
#include "platform/ptrace/ptrace_platform.h"

namespace sentry::platform {

absl::StatusOr<std::unique_ptr<Platform>> CreatePlatform(
    const std::string& name, int memory_fd) {
  if (name == "ptrace") return CreatePtracePlatform(memory_fd);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown platform \"", name, "\" (available: ptrace)"));
}

}  // namespace sentry::platform
