// The registry of platforms `--platform=` can name.
#ifndef PLATFORM_PLATFORMS_H_
#define PLATFORM_PLATFORMS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "platform/platform.h"

namespace sentry::platform {

// Creates the platform named `name` ("ptrace"). `memory_fd` is the
// MemoryFile's host FD; the platform keeps its own duplicate.
absl::StatusOr<std::unique_ptr<Platform>> CreatePlatform(
    const std::string& name, int memory_fd);

}  // namespace sentry::platform

#endif  // PLATFORM_PLATFORMS_H_
