// Installing new files in the caller's FD table, for the syscalls that
// create files (pipe2, eventfd2, memfd_create, epoll_create1, ...).
#ifndef SYSCALLS_INSTALL_UTIL_H_
#define SYSCALLS_INSTALL_UTIL_H_

#include <memory>

#include "sentry/base/errno_or.h"
#include "sentry/kernel/task.h"
#include "syscalls/args.h"

namespace sentry::syscalls {

// Installs `file` at the lowest free FD (EMFILE beyond RLIMIT_NOFILE).
inline ErrnoOr<uint64_t> InstallFile(kernel::Task& t,
                                     std::shared_ptr<vfs::FileDescription> file,
                                     bool cloexec) {
  SENTRY_ASSIGN_OR_RETURN(int fd,
                          t.fds().Install(std::move(file), cloexec, 0,
                                          t.rlimits()[RLIMIT_NOFILE].rlim_cur));
  return static_cast<uint64_t>(fd);
}

// Installs two new files and writes their numbers to `fds` (int[2]);
// nothing stays installed on failure (Linux copies out before it installs,
// so the guest never sees FDs from a failed call).
inline ErrnoOr<void> InstallPair(kernel::Task& t, UserAddr fds,
                                 std::shared_ptr<vfs::FileDescription> a,
                                 std::shared_ptr<vfs::FileDescription> b,
                                 bool cloexec) {
  SENTRY_ASSIGN_OR_RETURN(uint64_t fa, InstallFile(t, std::move(a), cloexec));
  ErrnoOr<uint64_t> fb = InstallFile(t, std::move(b), cloexec);
  if (!fb.ok()) {
    (void)t.fds().Remove(static_cast<int>(fa));
    return fb.error();
  }
  int out[2] = {static_cast<int>(fa), static_cast<int>(*fb)};
  if (!t.mm().CopyOut(fds.value, out, sizeof(out)).ok()) {
    (void)t.fds().Remove(out[0]);
    (void)t.fds().Remove(out[1]);
    return Errno(EFAULT);
  }
  return {};
}

}  // namespace sentry::syscalls

#endif  // SYSCALLS_INSTALL_UTIL_H_
