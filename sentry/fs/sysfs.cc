#include "sentry/fs/sysfs.h"

#include <linux/magic.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "sentry/fs/synthetic.h"

namespace sentry::fs {

absl::StatusOr<std::shared_ptr<vfs::Mount>> MakeSysfs() {
  auto fs = std::make_shared<SyntheticFs>(SYSFS_MAGIC);
  auto cpus = []() -> ErrnoOr<std::string> {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 1) return std::string("0\n");
    return absl::StrCat("0-", n - 1, "\n");
  };
  auto cpu = MakeDir(fs, "devices/system/cpu",
                     {{"online", MakeFile(fs, "cpu/online", cpus)},
                      {"possible", MakeFile(fs, "cpu/possible", cpus)},
                      {"present", MakeFile(fs, "cpu/present", cpus)}});
  auto system = MakeDir(fs, "devices/system", {{"cpu", cpu}});
  auto devices = MakeDir(fs, "devices", {{"system", system}});
  auto root = MakeDir(fs, "", {{"devices", devices}});
  auto mount = std::make_shared<vfs::Mount>(
      "sysfs", "sysfs", std::make_shared<vfs::Dentry>(root),
      vfs::MountFlags{
          .read_only = false, .nosuid = true, .nodev = true, .noexec = true});
  fs->set_mount(mount);
  return mount;
}

}  // namespace sentry::fs
