// The ptrace platform: guest code runs in a stub process traced with
// PTRACE_SYSEMU, so every guest syscall stops the stub before the host
// kernel acts on it and the Sentry emulates it instead.
//
// How it differs from gVisor's ptrace platform: the stub is a separate tiny
// static executable (embedded in the Sentry and exec'd from a memfd), not a
// fork of the Sentry, so nothing of the Sentry's memory is ever mapped in a
// process that runs guest code. The stub's seccomp filter is built by the
// Sentry with libseccomp and installed by syscall injection.
#ifndef PLATFORM_PTRACE_PTRACE_PLATFORM_H_
#define PLATFORM_PTRACE_PTRACE_PLATFORM_H_

#include <memory>

#include "absl/status/statusor.h"
#include "platform/platform.h"

namespace sentry::platform {

absl::StatusOr<std::unique_ptr<Platform>> CreatePtracePlatform(int memory_fd);

}  // namespace sentry::platform

#endif  // PLATFORM_PTRACE_PTRACE_PLATFORM_H_
