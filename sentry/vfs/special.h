// Hooks through which file systems open special files they store but do not
// implement: character devices (by device number, registered by devfs) and
// FIFOs (implemented with pipes). Any file system can hold a device node or
// a FIFO (tmpfs, the overlay); opening it lands here.
#ifndef SENTRY_VFS_SPECIAL_H_
#define SENTRY_VFS_SPECIAL_H_

#include <sys/types.h>

#include <functional>
#include <memory>

#include "sentry/base/errno_or.h"
#include "sentry/vfs/file_description.h"

namespace sentry::vfs {

using DeviceOpener =
    std::function<ErrnoOr<std::shared_ptr<FileDescription>>(int flags)>;

// Registers the driver for character device `dev` (makedev(major, minor)).
void RegisterCharDevice(dev_t dev, DeviceOpener opener);
// Opens character device `dev`: ENXIO if no driver is registered.
ErrnoOr<std::shared_ptr<FileDescription>> OpenCharDevice(dev_t dev, int flags);

// A FIFO's shared state lives in its inode as an opaque pointer that the
// pipe implementation creates on first open.
using FifoOpener = std::function<ErrnoOr<std::shared_ptr<FileDescription>>(
    std::shared_ptr<void>& state, int flags)>;
void RegisterFifoOpener(FifoOpener opener);
ErrnoOr<std::shared_ptr<FileDescription>> OpenFifo(std::shared_ptr<void>& state,
                                                   int flags);

}  // namespace sentry::vfs

#endif  // SENTRY_VFS_SPECIAL_H_
