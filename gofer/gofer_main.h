// The Gofer process's entry point, for `sentry gofer --fd=N --root=PATH
// [--ro]` in cmd/sentry.
#ifndef GOFER_GOFER_MAIN_H_
#define GOFER_GOFER_MAIN_H_

#include <string>

namespace sentry::gofer {

// Confines the calling process (confine.h) to `root` and serves it on the
// SOCK_SEQPACKET socket `socket_fd` until the Sentry closes its end.
// Returns the process's exit status (0 after a clean close, 1 on failure,
// with one line on stderr); the caller must pass it to _exit(), not exit()
// or a return from main(), because the seccomp filter kills exit handlers
// (LeakSanitizer's among them). Must be called single-threaded.
int GoferMain(int socket_fd, const std::string& root, bool read_only);

}  // namespace sentry::gofer

#endif  // GOFER_GOFER_MAIN_H_
