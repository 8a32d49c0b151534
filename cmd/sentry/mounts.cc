#include "cmd/sentry/mounts.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gofer/client.h"
#include "sentry/fs/gofer_fs.h"
#include "sentry/fs/mounts.h"
#include "sentry/fs/overlay.h"
#include "sentry/fs/tmpfs.h"
#include "sentry/vfs/vfs.h"

namespace sentry::cmd {
namespace {

absl::Status ErrnoStatus(Errno e, const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(e.value())));
}

absl::StatusOr<std::shared_ptr<vfs::Inode>> GoferRoot(int fd, bool read_only,
                                                      const std::string& what) {
  // Inherited from `run` without FD_CLOEXEC; nothing started from here on
  // (stub processes) may hold it.
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
    return absl::InvalidArgumentError("boot: bad file server FD for " + what);
  }
  auto client = std::make_shared<gofer::Client>(UniqueFd(fd));
  ErrnoOr<std::shared_ptr<vfs::Inode>> root =
      fs::MakeGoferRoot(std::move(client), read_only);
  if (!root.ok()) return ErrnoStatus(root.error(), "attaching to " + what);
  return *root;
}

}  // namespace

absl::Status BuildMountNamespace(kernel::Kernel& kernel,
                                 const SandboxFlags& flags) {
  if (flags.root_fd < 0) {
    return absl::InvalidArgumentError("boot: no root file server (--root-fd)");
  }
  absl::StatusOr<std::shared_ptr<vfs::Inode>> lower =
      GoferRoot(flags.root_fd, /*read_only=*/true, "the root file server");
  if (!lower.ok()) return lower.status();

  std::shared_ptr<vfs::Inode> root;
  vfs::MountFlags root_flags;
  if (flags.overlay == "none") {
    root = *lower;
    root_flags.read_only = true;
  } else {
    std::shared_ptr<vfs::Inode> upper;
    if (flags.upper_fd >= 0) {
      absl::StatusOr<std::shared_ptr<vfs::Inode>> dir = GoferRoot(
          flags.upper_fd, /*read_only=*/false, "the overlay directory");
      if (!dir.ok()) return dir.status();
      upper = *dir;
    } else {
      ErrnoOr<struct stat> st = (*lower)->Stat();
      if (!st.ok()) return ErrnoStatus(st.error(), "stat of the root");
      fs::TmpfsOptions opts;
      opts.root_mode = st->st_mode & 07777;
      opts.root_uid = st->st_uid;
      opts.root_gid = st->st_gid;
      upper = fs::Tmpfs::Create(kernel.memory(), opts)->MakeRoot();
      vfs::SetAttrRequest times;
      times.atime = st->st_atim;
      times.mtime = st->st_mtim;
      (void)upper->SetAttr(times);
    }
    root = fs::MakeOverlayRoot(*lower, upper);
  }
  auto root_mount = std::make_shared<vfs::Mount>(
      "overlay", "root", std::make_shared<vfs::Dentry>(root), root_flags);
  kernel.set_mounts(std::make_unique<vfs::MountNamespace>(root_mount));

  for (const std::string& spec : flags.mount_fds) {
    // GUEST:FD:ro|rw (GUEST has no ':' — ParseVolume in `run` saw to it).
    std::vector<std::string> parts = absl::StrSplit(spec, ':');
    if (parts.size() != 3) {
      return absl::InvalidArgumentError("boot: bad --mount-fd " + spec);
    }
    bool ro = parts[2] == "ro";
    absl::StatusOr<std::shared_ptr<vfs::Inode>> vol =
        GoferRoot(std::atoi(parts[1].c_str()), ro, "volume " + parts[0]);
    if (!vol.ok()) return vol.status();
    vfs::MountFlags mf;
    mf.read_only = ro;
    auto m = std::make_shared<vfs::Mount>(
        "9p", parts[0], std::make_shared<vfs::Dentry>(*vol), mf);
    if (absl::Status s = fs::MountAt(kernel, parts[0], m); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace sentry::cmd
