// overlay: a writable view of a read-only tree (the "lower" layer, e.g.
// the host root through the Gofer) with every change kept in an "upper"
// layer (tmpfs in sandbox memory by default), as Linux's overlayfs does:
//
//  - reads see the upper object if there is one, else the lower one;
//  - the first change to a lower object copies it up (data, mode, owner,
//    times), creating its parent directories in the upper layer first;
//  - removing a name that exists below leaves a whiteout in the upper
//    layer (a character device 0:0, Linux's own format), and a directory
//    created over a whiteout is marked opaque (xattr trusted.overlay.opaque
//    = "y") so the lower directory of that name stays hidden.
//
// How this differs from Linux: renaming a directory that has lower parts
// gives EXDEV (as overlayfs without redirect_dir does; mv falls back to
// copying); hard links to lower files are broken by copy-up (no index);
// inode numbers are the lower file's where there is one.
//
// Lock order: Overlay::mu_ (one per overlay, guarding layer pointers and
// names) before the layers' own locks; copy-up runs with it held.
#ifndef SENTRY_FS_OVERLAY_H_
#define SENTRY_FS_OVERLAY_H_

#include <memory>

#include "sentry/vfs/inode.h"

namespace sentry::fs {

// The root of an overlay of `lower` (never written) under `upper` (an empty
// or previously used upper directory).
std::shared_ptr<vfs::Inode> MakeOverlayRoot(std::shared_ptr<vfs::Inode> lower,
                                            std::shared_ptr<vfs::Inode> upper);

}  // namespace sentry::fs

#endif  // SENTRY_FS_OVERLAY_H_
