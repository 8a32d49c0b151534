// goferfs: a file system whose objects live on the host and are reached
// only through a Gofer (gofer/client.h). Names are walked one component at
// a time by handle; file data is read and written on host FDs the Gofer
// donates, the one kind of host I/O the Sentry does for a guest.
//
// Device and inode numbers are the host's, as a bind mount on Linux shows
// them: hard links, find's loop detection and `stat` output rely on them.
//
// Lock order: GoferInode::mu_ is a leaf (Gofer round trips happen without
// it held, except for opening the shared host FDs).
#ifndef SENTRY_FS_GOFER_FS_H_
#define SENTRY_FS_GOFER_FS_H_

#include <memory>
#include <string>

#include "gofer/client.h"
#include "sentry/base/errno_or.h"
#include "sentry/vfs/inode.h"

namespace sentry::fs {

// The root inode of the tree `client` serves. `read_only`: the Gofer
// refuses writes anyway; this only saves round trips.
ErrnoOr<std::shared_ptr<vfs::Inode>> MakeGoferRoot(
    std::shared_ptr<gofer::Client> client, bool read_only);

}  // namespace sentry::fs

#endif  // SENTRY_FS_GOFER_FS_H_
