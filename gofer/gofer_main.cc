#include "gofer/gofer_main.h"

#include <utility>

#include "gofer/confine.h"
#include "gofer/server.h"
#include "sentry/base/log.h"
#include "sentry/base/unique_fd.h"

namespace sentry::gofer {

int GoferMain(int socket_fd, const std::string& root, bool read_only) {
  absl::StatusOr<Confined> confined = Confine(socket_fd, root);
  if (!confined.ok()) {
    SENTRY_LOG(kError, "gofer: cannot confine to %s: %s", root,
               confined.status().ToString());
    return 1;
  }
  absl::Status s = Serve(UniqueFd(socket_fd), std::move(confined->root),
                         std::move(confined->proc_self_fd),
                         ServeOptions{.read_only = read_only});
  if (!s.ok()) {
    SENTRY_LOG(kError, "gofer: serving %s: %s", root, s.ToString());
    return 1;
  }
  SENTRY_LOG(kDebug, "gofer: %s: the Sentry closed the connection", root);
  return 0;
}

}  // namespace sentry::gofer
