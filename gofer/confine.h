// Confinement of the Gofer process, applied once before it serves: the
// process ends up chrooted into the served tree, with no_new_privs, holding
// only the FDs it needs, under a seccomp allowlist that kills it on anything
// else (no execve, no fork/clone, no socket creation, no ptrace).
//
// The chroot and the filter are defence in depth: server.h's one-component,
// O_NOFOLLOW walk is what keeps requests inside the tree.
#ifndef GOFER_CONFINE_H_
#define GOFER_CONFINE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sentry/base/unique_fd.h"

namespace sentry::gofer {

// What the server needs after confinement.
struct Confined {
  UniqueFd root;          // O_PATH FD of the served directory
  UniqueFd proc_self_fd;  // O_PATH FD of /proc/self/fd, opened before chroot
};

// Confines the calling process to serve `root_path` on `socket_fd`, in this
// order: opens /proc/self/fd and the root; points stdin/stdout at /dev/null;
// chdir+chroot into the root (EPERM is logged and tolerated, for unprivileged
// runs); raises RLIMIT_NOFILE to its hard limit (each handle is an FD);
// PR_SET_NO_NEW_PRIVS; closes every FD but stdio, the socket, the two above
// and the debug log; installs the seccomp filter.
//
// Irreversible. The process must be single-threaded (seccomp applies to the
// calling thread only), and must end with _exit(): exit handlers such as
// LeakSanitizer's need syscalls the filter kills.
absl::StatusOr<Confined> Confine(int socket_fd, const std::string& root_path);

// Installs the Gofer's seccomp allowlist on the calling thread (default:
// kill the process). sendmsg/recvmsg are allowed on `socket_fd` only.
// Requires no_new_privs or CAP_SYS_ADMIN.
absl::Status InstallSeccompFilter(int socket_fd);

}  // namespace sentry::gofer

#endif  // GOFER_CONFINE_H_
