// The Gofer's request loop: serves one host directory tree to one Sentry
// over a SOCK_SEQPACKET socket (protocol in gofer.proto).
//
// Why it cannot serve outside its root, even before confine.h's chroot:
//  - a handle is an O_PATH|O_NOFOLLOW FD reached from the root one component
//    at a time (openat(dir, name, O_PATH|O_NOFOLLOW)), and "", ".", ".." and
//    names holding '/' or NUL are refused, so a walk only ever goes down;
//  - a symlink is returned as itself (its own handle), never followed; Open
//    of it is ELOOP and Walk through it ENOTDIR;
//  - Open reopens the handle's own inode through /proc/self/fd/N, never a
//    path, and only for regular files and directories;
//  - every creating call (Create, Mkdir, Symlink, Link, Rename, Unlink)
//    names its parent by handle and its entry by one checked component.
// Renames can move a directory we hold a handle to, but only to somewhere
// inside the tree, since both ends of every rename are handles too.
#ifndef GOFER_SERVER_H_
#define GOFER_SERVER_H_

#include "absl/status/status.h"
#include "sentry/base/unique_fd.h"

namespace sentry::gofer {

struct ServeOptions {
  // Every mutation, and every Open for writing or truncation, is EROFS.
  bool read_only = false;
};

// Serves requests on `socket` until the peer closes it (then OK) or the
// socket itself fails (then an error). `root` is the served directory (any
// FD to it; it is reopened O_PATH). `proc_self_fd` is an FD of /proc/self/fd,
// opened before chroot; when invalid, Serve opens it itself (an unconfined
// server, as in tests). Malformed requests get error responses and never
// end the loop.
absl::Status Serve(UniqueFd socket, UniqueFd root, UniqueFd proc_self_fd,
                   const ServeOptions& options);

}  // namespace sentry::gofer

#endif  // GOFER_SERVER_H_
