#include "sentry/fs/mounts.h"

#include "absl/strings/str_cat.h"
#include "sentry/fs/devices.h"
#include "sentry/fs/pipe.h"
#include "sentry/fs/procfs.h"
#include "sentry/fs/sysfs.h"
#include "sentry/vfs/vfs.h"

namespace sentry::fs {

absl::Status MountAt(kernel::Kernel& kernel, const std::string& path,
                     std::shared_ptr<vfs::Mount> mount) {
  vfs::MountNamespace* ns = kernel.mounts();
  if (ns == nullptr) return absl::FailedPreconditionError("no mount namespace");
  vfs::Resolver r;
  r.ns = ns;
  r.root = ns->root();  // default Creds: root with every capability
  auto fail = [&](const char* what, Errno e) {
    return absl::InternalError(
        absl::StrCat("mount on ", path, ": ", what, ": errno ", e.value()));
  };
  ErrnoOr<vfs::Path> at = vfs::Lookup(r, r.root, path, vfs::kFollow);
  if (!at.ok() && at.error() == Errno(ENOENT)) {
    if (ErrnoOr<void> m = vfs::Mkdir(r, r.root, path, 0755); !m.ok()) {
      return fail("mkdir", m.error());
    }
    at = vfs::Lookup(r, r.root, path, vfs::kFollow);
  }
  if (!at.ok()) return fail("lookup", at.error());
  if (!S_ISDIR(at->inode().Type())) return fail("mountpoint", Errno(ENOTDIR));
  ns->Attach(std::move(mount), *at);
  return absl::OkStatus();
}

absl::Status MountSpecialFilesystems(kernel::Kernel& kernel) {
  RegisterFifos();
  RegisterDevices();
  absl::StatusOr<std::shared_ptr<vfs::Mount>> dev = MakeDevfs(kernel.memory());
  if (!dev.ok()) return dev.status();
  if (absl::Status s = MountAt(kernel, "/dev", *dev); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<vfs::Mount>> proc = MakeProcfs(kernel);
  if (!proc.ok()) return proc.status();
  if (absl::Status s = MountAt(kernel, "/proc", *proc); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<vfs::Mount>> sys = MakeSysfs();
  if (!sys.ok()) return sys.status();
  return MountAt(kernel, "/sys", *sys);
}

}  // namespace sentry::fs
