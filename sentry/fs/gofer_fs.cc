#include "sentry/fs/gofer_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/synchronization/mutex.h"
#include "sentry/fs/tmpfs.h"
#include "sentry/vfs/file_description.h"
#include "sentry/vfs/special.h"

namespace sentry::fs {
namespace {

using vfs::DirEntry;
using vfs::FileDescription;
using vfs::Inode;
using vfs::NewNode;
using vfs::SetAttrRequest;

struct GoferFs {
  std::shared_ptr<gofer::Client> client;
  bool read_only;
};

using SharedFd = std::shared_ptr<UniqueFd>;

class GoferInode : public Inode {
 public:
  GoferInode(std::shared_ptr<GoferFs> fs, const gofer::NodeInfo& info)
      : fs_(std::move(fs)),
        handle_(info.handle),
        btime_(info.btime),
        stat_(info.st) {}

  std::optional<struct timespec> BirthTime() override { return btime_; }
  ~GoferInode() override { fs_->client->Close(handle_); }

  GoferFs& fs() { return *fs_; }
  uint64_t handle() const { return handle_; }

  ErrnoOr<struct stat> Stat() override {
    SharedFd fd = AnyOpenFd();
    struct stat st;
    if (fd && fstat(fd->get(), &st) == 0) {
      // Fresh size and times after writes through the donated FD.
    } else if (fs_->read_only) {
      absl::MutexLock l(&mu_);
      return stat_;
    } else {
      SENTRY_ASSIGN_OR_RETURN(st, fs_->client->Stat(handle_));
    }
    absl::MutexLock l(&mu_);
    stat_ = st;
    return st;
  }

  ErrnoOr<void> SetAttr(const SetAttrRequest& req) override {
    if (fs_->read_only) return Errno(EROFS);
    gofer::Client::SetAttrRequest r;
    r.mode = req.mode;
    r.uid = req.uid;
    r.gid = req.gid;
    r.size = req.size;
    r.atime = req.atime;
    r.mtime = req.mtime;
    return fs_->client->SetAttr(handle_, r);
  }

  ErrnoOr<struct statfs> StatFs() override {
    return fs_->client->StatFs(handle_);
  }

  ErrnoOr<std::shared_ptr<FileDescription>> Open(int flags) override;

  // A host FD for the file's data: one read-only and one read-write FD
  // per inode, shared by every open file description (one round trip per
  // file, not per open).
  ErrnoOr<SharedFd> HostFd(bool write) {
    absl::MutexLock l(&mu_);
    SharedFd& slot = write ? rw_fd_ : ro_fd_;
    if (slot) return slot;
    if (write && fs_->read_only) return Errno(EROFS);
    SENTRY_ASSIGN_OR_RETURN(
        UniqueFd fd, fs_->client->Open(handle_, write ? O_RDWR : O_RDONLY));
    slot = std::make_shared<UniqueFd>(std::move(fd));
    return slot;
  }
  void SetWriteFd(UniqueFd fd) {
    absl::MutexLock l(&mu_);
    rw_fd_ = std::make_shared<UniqueFd>(std::move(fd));
  }

  ErrnoOr<size_t> ReadData(std::span<uint8_t> dst, uint64_t off) override {
    SENTRY_ASSIGN_OR_RETURN(SharedFd fd, HostFd(false));
    ssize_t n =
        pread(fd->get(), dst.data(), dst.size(), static_cast<off_t>(off));
    if (n < 0) return Errno(errno);
    return static_cast<size_t>(n);
  }
  ErrnoOr<size_t> WriteData(std::span<const uint8_t> src,
                            uint64_t off) override {
    SENTRY_ASSIGN_OR_RETURN(SharedFd fd, HostFd(true));
    ssize_t n =
        pwrite(fd->get(), src.data(), src.size(), static_cast<off_t>(off));
    if (n < 0) return Errno(errno);
    return static_cast<size_t>(n);
  }

  // --- directories ---
  ErrnoOr<std::shared_ptr<Inode>> Lookup(const std::string& name) override {
    SENTRY_ASSIGN_OR_RETURN(gofer::NodeInfo info,
                            fs_->client->Walk(handle_, name));
    return std::shared_ptr<Inode>(std::make_shared<GoferInode>(fs_, info));
  }

  ErrnoOr<std::vector<DirEntry>> ReadDir() override {
    SENTRY_ASSIGN_OR_RETURN(std::vector<gofer::DirEntry> entries,
                            fs_->client->ReadDir(handle_));
    std::vector<DirEntry> out;
    out.reserve(entries.size());
    for (auto& e : entries) out.push_back({std::move(e.name), e.ino, e.type});
    return out;
  }

  ErrnoOr<std::shared_ptr<Inode>> Mknod(const std::string& name,
                                        const NewNode& n) override {
    if (fs_->read_only) return Errno(EROFS);
    if (S_ISCHR(n.mode) && n.rdev == 0) {
      // An overlay whiteout in a host upper directory.
      SENTRY_ASSIGN_OR_RETURN(gofer::NodeInfo info,
                              fs_->client->Whiteout(handle_, name));
      return std::shared_ptr<Inode>(std::make_shared<GoferInode>(fs_, info));
    }
    // Only regular files are created on the host: device nodes, FIFOs and
    // sockets there would be host objects the guest could reach.
    if (!S_ISREG(n.mode)) return Errno(EPERM);
    SENTRY_ASSIGN_OR_RETURN(
        auto created, fs_->client->Create(handle_, name, O_RDWR, n.mode & 07777,
                                          n.uid, n.gid));
    auto inode = std::make_shared<GoferInode>(fs_, created.first);
    inode->SetWriteFd(std::move(created.second));
    return std::shared_ptr<Inode>(inode);
  }

  ErrnoOr<std::shared_ptr<Inode>> Mkdir(const std::string& name,
                                        const NewNode& n) override {
    if (fs_->read_only) return Errno(EROFS);
    SENTRY_ASSIGN_OR_RETURN(
        gofer::NodeInfo info,
        fs_->client->Mkdir(handle_, name, n.mode & 07777, n.uid, n.gid));
    return std::shared_ptr<Inode>(std::make_shared<GoferInode>(fs_, info));
  }

  ErrnoOr<std::shared_ptr<Inode>> Symlink(const std::string& name,
                                          const std::string& target,
                                          const NewNode& n) override {
    if (fs_->read_only) return Errno(EROFS);
    SENTRY_ASSIGN_OR_RETURN(
        gofer::NodeInfo info,
        fs_->client->Symlink(handle_, name, target, n.uid, n.gid));
    return std::shared_ptr<Inode>(std::make_shared<GoferInode>(fs_, info));
  }

  ErrnoOr<void> Link(const std::string& name,
                     const std::shared_ptr<Inode>& target) override {
    auto t = std::dynamic_pointer_cast<GoferInode>(target);
    if (!t || t->fs_ != fs_) return Errno(EXDEV);
    if (fs_->read_only) return Errno(EROFS);
    return fs_->client->Link(t->handle_, handle_, name);
  }

  ErrnoOr<void> Unlink(const std::string& name) override {
    if (fs_->read_only) return Errno(EROFS);
    return fs_->client->Unlink(handle_, name, false);
  }
  ErrnoOr<void> Rmdir(const std::string& name) override {
    if (fs_->read_only) return Errno(EROFS);
    return fs_->client->Unlink(handle_, name, true);
  }
  ErrnoOr<void> Rename(const std::string& old_name, Inode& new_dir,
                       const std::string& new_name, unsigned flags) override {
    auto* nd = dynamic_cast<GoferInode*>(&new_dir);
    if (nd == nullptr || nd->fs_ != fs_) return Errno(EXDEV);
    if (fs_->read_only) return Errno(EROFS);
    return fs_->client->Rename(handle_, old_name, nd->handle_, new_name, flags);
  }

  ErrnoOr<std::string> GetXattr(const std::string& name) override {
    return fs_->client->GetXattr(handle_, name);
  }
  ErrnoOr<void> SetXattr(const std::string& name, const std::string& value,
                         int flags) override {
    if (fs_->read_only) return Errno(EROFS);
    return fs_->client->SetXattr(handle_, name, value, flags);
  }
  ErrnoOr<std::vector<std::string>> ListXattr() override {
    return fs_->client->ListXattr(handle_);
  }
  ErrnoOr<void> RemoveXattr(const std::string& name) override {
    if (fs_->read_only) return Errno(EROFS);
    return fs_->client->RemoveXattr(handle_, name);
  }

  // --- symlinks ---
  ErrnoOr<std::string> ReadLink() override {
    {
      absl::MutexLock l(&mu_);
      if (link_target_) return *link_target_;
    }
    SENTRY_ASSIGN_OR_RETURN(std::string target, fs_->client->ReadLink(handle_));
    absl::MutexLock l(&mu_);
    link_target_ = target;
    return target;
  }

 private:
  SharedFd AnyOpenFd() {
    absl::MutexLock l(&mu_);
    return rw_fd_ ? rw_fd_ : ro_fd_;
  }

  const std::shared_ptr<GoferFs> fs_;
  const uint64_t handle_;
  const std::optional<struct timespec> btime_;
  absl::Mutex mu_;
  struct stat stat_ ABSL_GUARDED_BY(mu_);
  SharedFd ro_fd_ ABSL_GUARDED_BY(mu_);
  SharedFd rw_fd_ ABSL_GUARDED_BY(mu_);
  std::optional<std::string> link_target_ ABSL_GUARDED_BY(mu_);
};

// An open regular file: I/O straight on the donated host FD.
class GoferFile : public FileDescription {
 public:
  GoferFile(int flags, std::shared_ptr<GoferInode> inode, SharedFd fd)
      : FileDescription(flags), inode_(std::move(inode)), fd_(std::move(fd)) {
    set_inode(inode_);
  }
  bool seekable() const override { return true; }
  int host_fd() const override { return fd_->get(); }

  ErrnoOr<size_t> PRead(kernel::Task&, std::span<uint8_t> dst,
                        uint64_t offset) override {
    ssize_t n =
        pread(fd_->get(), dst.data(), dst.size(), static_cast<off_t>(offset));
    if (n < 0) return Errno(errno);
    return static_cast<size_t>(n);
  }
  ErrnoOr<size_t> PWrite(kernel::Task&, std::span<const uint8_t> src,
                         uint64_t offset) override {
    ssize_t n =
        pwrite(fd_->get(), src.data(), src.size(), static_cast<off_t>(offset));
    if (n < 0) return Errno(errno);
    return static_cast<size_t>(n);
  }
  ErrnoOr<void> Truncate(uint64_t size) override {
    SetAttrRequest req;
    req.size = size;
    return inode_->SetAttr(req);
  }
  ErrnoOr<void> Sync() override {
    if (fdatasync(fd_->get()) != 0 && errno != EINVAL) return Errno(errno);
    return {};
  }

 private:
  std::shared_ptr<GoferInode> inode_;
  SharedFd fd_;
};

class GoferDir : public FileDescription {
 public:
  using FileDescription::FileDescription;
};

ErrnoOr<std::shared_ptr<FileDescription>> GoferInode::Open(int flags) {
  mode_t type;
  dev_t rdev;
  {
    absl::MutexLock l(&mu_);
    type = stat_.st_mode & S_IFMT;
    rdev = stat_.st_rdev;
  }
  switch (type) {
    case S_IFREG: {
      bool write = (flags & O_ACCMODE) != O_RDONLY;
      SENTRY_ASSIGN_OR_RETURN(SharedFd fd, HostFd(write));
      auto self = std::static_pointer_cast<GoferInode>(shared_from_this());
      return std::shared_ptr<FileDescription>(
          std::make_shared<GoferFile>(flags, self, std::move(fd)));
    }
    case S_IFDIR:
      return std::shared_ptr<FileDescription>(
          std::make_shared<GoferDir>(flags));
    case S_IFCHR:
      // A device node in the host tree opens the Sentry's own driver for
      // that number, never the host device.
      return vfs::OpenCharDevice(rdev, flags);
    default:
      return Errno(ENXIO);
  }
}

}  // namespace

ErrnoOr<std::shared_ptr<Inode>> MakeGoferRoot(
    std::shared_ptr<gofer::Client> client, bool read_only) {
  SENTRY_ASSIGN_OR_RETURN(gofer::NodeInfo root, client->Attach());
  auto fs = std::make_shared<GoferFs>(GoferFs{std::move(client), read_only});
  return std::shared_ptr<Inode>(std::make_shared<GoferInode>(fs, root));
}

}  // namespace sentry::fs
