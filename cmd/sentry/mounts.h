// The sandbox's initial mount namespace, built by `sentry boot` from the
// Gofer connections `run` hands it.
#ifndef CMD_SENTRY_MOUNTS_H_
#define CMD_SENTRY_MOUNTS_H_

#include <string>

#include "absl/status/status.h"
#include "cmd/sentry/commands.h"
#include "sentry/kernel/kernel.h"
#include "sentry/vfs/dentry.h"

namespace sentry::cmd {

// Makes the root (the Gofer's tree under an overlay, per flags.overlay)
// and mounts the volumes.
// then /dev, /proc, /sys, /dev/shm and the volumes.
absl::Status BuildMountNamespace(kernel::Kernel& kernel,
                                 const SandboxFlags& flags);

}  // namespace sentry::cmd

#endif  // CMD_SENTRY_MOUNTS_H_
