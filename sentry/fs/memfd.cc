#include "sentry/fs/memfd.h"

#include <sys/mman.h>

#include <map>

#include "absl/synchronization/mutex.h"
#include "sentry/fs/tmpfs.h"

namespace sentry::fs {
namespace {

// Linux's memfd name limit: NAME_MAX minus the "memfd:" prefix.
constexpr size_t kMaxName = 249;

struct MemfdFs {
  std::shared_ptr<Tmpfs> fs;
  std::shared_ptr<vfs::Mount> mount;
};

MemfdFs& FsFor(mm::MemoryFile& memory) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* all = new std::map<mm::MemoryFile*, MemfdFs>;
  absl::MutexLock l(&mu);
  MemfdFs& m = (*all)[&memory];
  if (!m.fs) {
    m.fs = Tmpfs::Create(memory, TmpfsOptions{});
    m.mount = std::make_shared<vfs::Mount>(
        "tmpfs", "memfd", std::make_shared<vfs::Dentry>(m.fs->MakeRoot()),
        vfs::MountFlags{});
  }
  return m;
}

}  // namespace

ErrnoOr<std::shared_ptr<vfs::FileDescription>> CreateMemfd(
    mm::MemoryFile& memory, const std::string& name, unsigned flags, uid_t uid,
    gid_t gid) {
  // MFD_HUGETLB needs huge pages, MFD_NOEXEC_SEAL/MFD_EXEC are newer than
  // the 6.1 we present.
  if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING)) return Errno(EINVAL);
  if (name.size() > kMaxName) return Errno(EINVAL);
  MemfdFs& m = FsFor(memory);
  std::shared_ptr<vfs::Inode> inode = m.fs->NewAnonymousFile(
      0777, uid, gid, (flags & MFD_ALLOW_SEALING) ? 0 : F_SEAL_SEAL);
  SENTRY_ASSIGN_OR_RETURN(std::shared_ptr<vfs::FileDescription> file,
                          inode->Open(O_RDWR | O_LARGEFILE));
  // A name that was never linked: adding and removing it marks the dentry
  // deleted, so its path reads "/memfd:NAME (deleted)".
  const std::shared_ptr<vfs::Dentry>& root = m.mount->root();
  std::string entry = "memfd:" + name;
  std::shared_ptr<vfs::Dentry> d = root->AddChild(entry, inode);
  root->RemoveChild(entry);
  file->set_path(vfs::Path{m.mount, d});
  return file;
}

}  // namespace sentry::fs
