// prlimit64, getrlimit, setrlimit.
//
// Limits start as the host's limits for the Sentry and are kept per
// process; enforcement arrives with the subsystems they limit.
#include <errno.h>
#include <sys/resource.h>

#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

ErrnoOr<void> DoPrlimit(Task& t, uint32_t resource, UserAddr new_limit,
                        UserAddr old_limit) {
  if (resource >= RLIM_NLIMITS) return Errno(EINVAL);
  struct rlimit& slot = t.rlimits()[resource];
  struct rlimit next;
  if (!new_limit.null()) {
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(new_limit.value, &next, sizeof(next)));
    if (next.rlim_cur > next.rlim_max) return Errno(EINVAL);
    // Raising a hard limit needs CAP_SYS_RESOURCE: root in the sandbox.
    if (next.rlim_max > slot.rlim_max && t.creds().euid != 0) {
      return Errno(EPERM);
    }
    if (resource == RLIMIT_NOFILE && next.rlim_max > (1 << 20)) {
      return Errno(EPERM);  // fs.nr_open's default
    }
  }
  if (!old_limit.null()) {
    SENTRY_RETURN_IF_ERRNO(
        t.mm().CopyOut(old_limit.value, &slot, sizeof(slot)));
  }
  if (!new_limit.null()) slot = next;
  return {};
}

}  // namespace

ErrnoOr<void> Prlimit64(Task& t, int pid, uint32_t resource, UserAddr new_limit,
                        UserAddr old_limit) {
  if (pid != 0 && pid != t.pid()) return Errno(ESRCH);
  return DoPrlimit(t, resource, new_limit, old_limit);
}

ErrnoOr<void> Getrlimit(Task& t, uint32_t resource, UserAddr limit) {
  return DoPrlimit(t, resource, UserAddr{0}, limit);
}

ErrnoOr<void> Setrlimit(Task& t, uint32_t resource, UserAddr limit) {
  return DoPrlimit(t, resource, limit, UserAddr{0});
}

}  // namespace sentry::syscalls
