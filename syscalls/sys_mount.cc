// mount, umount2, pivot_root: the sandbox's own mount namespace. Only file
// systems the Sentry implements can be mounted (tmpfs, proc, bind mounts of
// paths the guest can already see); nothing here reaches the host.
#include <errno.h>
#include <sys/mount.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "sentry/fs/tmpfs.h"
#include "syscalls/file_util.h"
#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

constexpr uint64_t kIgnoredFlags = MS_SILENT | MS_NOATIME | MS_NODIRATIME |
                                   MS_RELATIME | MS_STRICTATIME | MS_LAZYTIME |
                                   MS_MGC_VAL;

bool Privileged(Task& t) { return t.creds().euid == 0; }  // CAP_SYS_ADMIN

vfs::MountFlags FlagsFrom(uint64_t flags) {
  vfs::MountFlags f;
  f.read_only = flags & MS_RDONLY;
  f.nosuid = flags & MS_NOSUID;
  f.nodev = flags & MS_NODEV;
  f.noexec = flags & MS_NOEXEC;
  return f;
}

// tmpfs's "size=N[kmg%]" option (percent of sandbox memory).
ErrnoOr<uint64_t> TmpfsSize(Task& t, const std::string& data) {
  for (absl::string_view opt : absl::StrSplit(data, ',', absl::SkipEmpty())) {
    if (!absl::ConsumePrefix(&opt, "size=")) continue;
    if (opt.empty()) return Errno(EINVAL);
    uint64_t mult = 1;
    switch (opt.back()) {
      case 'k':
      case 'K':
        mult = 1 << 10;
        opt.remove_suffix(1);
        break;
      case 'm':
      case 'M':
        mult = 1 << 20;
        opt.remove_suffix(1);
        break;
      case 'g':
      case 'G':
        mult = 1 << 30;
        opt.remove_suffix(1);
        break;
      case '%':
        mult = 0;
        opt.remove_suffix(1);
        break;
      default:
        break;
    }
    uint64_t n;
    if (!absl::SimpleAtoi(opt, &n)) return Errno(EINVAL);
    if (mult == 0) return t.kernel().memory().size() / 100 * n;
    return n * mult;
  }
  return uint64_t{0};
}

}  // namespace

// Made by procfs (see boot): a fresh proc mount for mount(2) "proc".
std::function<std::shared_ptr<vfs::Mount>(Task&)>& ProcMountFactory() {
  static auto* f = new std::function<std::shared_ptr<vfs::Mount>(Task&)>;
  return *f;
}

ErrnoOr<void> Mount(Task& t, CString source, CString target, CString fstype,
                    uint64_t flags, UserAddr data) {
  if (!Privileged(t)) return Errno(EPERM);
  SENTRY_ASSIGN_OR_RETURN(std::string to, CopyInPath(t, target));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path at,
                          LookupAt(t, Fd{AT_FDCWD}, to, true, false));
  flags &= ~kIgnoredFlags;
  if (flags & MS_REMOUNT) {
    // Changes the flags of the mount whose root `at` is.
    if (at.dentry != at.mount->root()) return Errno(EINVAL);
    at.mount->set_flags(FlagsFrom(flags));
    return {};
  }
  if (flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)) {
    // One namespace, no propagation: every mount is private already.
    return {};
  }
  if (flags & MS_MOVE) return Errno(EINVAL);
  if (!S_ISDIR(at.inode().Type()) && !(flags & MS_BIND)) {
    return Errno(ENOTDIR);
  }
  std::shared_ptr<vfs::Mount> m;
  if (flags & MS_BIND) {
    SENTRY_ASSIGN_OR_RETURN(std::string from, CopyInPath(t, source));
    SENTRY_ASSIGN_OR_RETURN(vfs::Path src,
                            LookupAt(t, Fd{AT_FDCWD}, from, true, false));
    if (S_ISDIR(src.inode().Type()) != S_ISDIR(at.inode().Type())) {
      return Errno(ENOTDIR);
    }
    m = std::make_shared<vfs::Mount>(src.mount->fstype(), from, src.dentry,
                                     FlagsFrom(flags));
  } else {
    SENTRY_ASSIGN_OR_RETURN(std::string type,
                            t.mm().CopyInString(fstype.value, 255));
    std::string src_name = "none";
    if (!source.null()) {
      SENTRY_ASSIGN_OR_RETURN(src_name,
                              t.mm().CopyInString(source.value, 4095));
    }
    std::string options;
    if (!data.null()) {
      SENTRY_ASSIGN_OR_RETURN(options, t.mm().CopyInString(data.value, 4095));
    }
    if (type == "tmpfs") {
      fs::TmpfsOptions opts;
      SENTRY_ASSIGN_OR_RETURN(opts.size_limit, TmpfsSize(t, options));
      auto fs = fs::Tmpfs::Create(t.kernel().memory(), opts);
      m = std::make_shared<vfs::Mount>(
          "tmpfs", src_name, std::make_shared<vfs::Dentry>(fs->MakeRoot()),
          FlagsFrom(flags), options);
    } else if (type == "proc" && ProcMountFactory()) {
      m = ProcMountFactory()(t);
      if (!m) return Errno(ENODEV);
      m->set_flags(FlagsFrom(flags));
    } else {
      return Errno(ENODEV);
    }
  }
  t.kernel().mounts()->Attach(std::move(m), at);
  return {};
}

ErrnoOr<void> Umount2(Task& t, CString target, int flags) {
  if (!Privileged(t)) return Errno(EPERM);
  if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW)) {
    return Errno(EINVAL);
  }
  if ((flags & MNT_EXPIRE) && (flags & (MNT_FORCE | MNT_DETACH))) {
    return Errno(EINVAL);
  }
  SENTRY_ASSIGN_OR_RETURN(std::string name, CopyInPath(t, target));
  SENTRY_ASSIGN_OR_RETURN(
      vfs::Path p,
      LookupAt(t, Fd{AT_FDCWD}, name, !(flags & UMOUNT_NOFOLLOW), false));
  if (p.dentry != p.mount->root()) return Errno(EINVAL);  // not a mount
  // Without MNT_DETACH a mount in use is busy. Open files are not tracked
  // per mount yet: only the caller's cwd and root count.
  if (!(flags & MNT_DETACH) &&
      (t.fs().cwd.mount == p.mount || t.fs().root.mount == p.mount)) {
    return Errno(EBUSY);
  }
  if (flags & MNT_DETACH) return t.kernel().mounts()->DetachTree(p);
  return t.kernel().mounts()->Detach(p);
}

ErrnoOr<void> PivotRoot(Task& t, CString new_root, CString put_old) {
  if (!Privileged(t)) return Errno(EPERM);
  SENTRY_ASSIGN_OR_RETURN(std::string nr, CopyInPath(t, new_root));
  SENTRY_ASSIGN_OR_RETURN(std::string po, CopyInPath(t, put_old));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path n,
                          LookupAt(t, Fd{AT_FDCWD}, nr, true, false));
  SENTRY_ASSIGN_OR_RETURN(vfs::Path o,
                          LookupAt(t, Fd{AT_FDCWD}, po, true, false));
  if (!S_ISDIR(n.inode().Type()) || !S_ISDIR(o.inode().Type())) {
    return Errno(ENOTDIR);
  }
  // put_old must be at or below new_root.
  if (!o.dentry->IsDescendantOf(n.dentry.get())) return Errno(EINVAL);
  vfs::Path old_root = t.kernel().mounts()->root();
  SENTRY_RETURN_IF_ERRNO(t.kernel().mounts()->Pivot(n, o));
  // Processes whose root or cwd was the old root move to the new one
  // (pivot_root(2)).
  vfs::Path root = t.kernel().mounts()->root();
  if (t.fs().root == old_root) t.fs().root = root;
  if (t.fs().cwd == old_root) t.fs().cwd = root;
  t.PublishFs();
  return {};
}

}  // namespace sentry::syscalls
