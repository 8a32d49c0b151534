// /dev: the character devices the Sentry implements (memory devices 1:N
// and /dev/tty) and the devtmpfs-like tree mounted on /dev.
//
// Drivers are registered with vfs::RegisterCharDevice, so a device node
// made by mknod on any file system opens the same driver, as on Linux.
// /dev/random and /dev/urandom read the Sentry's own getrandom(2); nothing
// else reaches the host.
//
// How this differs from Linux: /dev/tty is always ENXIO (a sandbox has no
// controlling terminal yet); /dev/pts is an empty directory and ptmx a
// dangling link until devpts exists.
#ifndef SENTRY_FS_DEVICES_H_
#define SENTRY_FS_DEVICES_H_

#include <memory>

#include "absl/status/statusor.h"
#include "sentry/mm/memory_file.h"
#include "sentry/vfs/dentry.h"

namespace sentry::fs {

// Registers null (1:3), zero (1:5), full (1:7), random (1:8), urandom
// (1:9) and tty (5:0). Idempotent.
void RegisterDevices();

// A tmpfs (mode 0755) holding those nodes (0666), shm (01777), pts, and the
// fd, stdin, stdout, stderr and ptmx symlinks. Registers the drivers.
absl::StatusOr<std::shared_ptr<vfs::Mount>> MakeDevfs(mm::MemoryFile& memory);

}  // namespace sentry::fs

#endif  // SENTRY_FS_DEVICES_H_
