// Mounting the Sentry's special file systems (/dev, /proc, /sys) in the
// sandbox's mount namespace at boot.
#ifndef SENTRY_FS_MOUNTS_H_
#define SENTRY_FS_MOUNTS_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "sentry/kernel/kernel.h"
#include "sentry/vfs/dentry.h"

namespace sentry::fs {

// Mounts `mount` on the absolute `path` of the kernel's mount namespace,
// creating the directory (through the VFS, with full privileges) if it is
// missing, so this works whatever the root file system is.
absl::Status MountAt(kernel::Kernel& kernel, const std::string& path,
                     std::shared_ptr<vfs::Mount> mount);

// Registers the device drivers and the FIFO opener, and mounts devfs on
// /dev, procfs on /proc and sysfs on /sys. Call once the root is mounted.
absl::Status MountSpecialFilesystems(kernel::Kernel& kernel);

}  // namespace sentry::fs

#endif  // SENTRY_FS_MOUNTS_H_
