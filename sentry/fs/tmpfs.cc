#include "sentry/fs/tmpfs.h"

#include <dirent.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>

#include "sentry/vfs/file_description.h"
#include "sentry/vfs/special.h"

namespace sentry::fs {

using vfs::DirEntry;
using vfs::FileDescription;
using vfs::Inode;
using vfs::NewNode;
using vfs::SetAttrRequest;

dev_t NewAnonymousDev() {
  static std::atomic<unsigned> next{16};
  return makedev(0, next++);
}

struct timespec Now() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

namespace {

constexpr uint64_t kPage = mm::kPageSize;
constexpr uint64_t kMaxFileSize = uint64_t{1} << 46;

class TmpfsInode;
class TmpfsDir;

// One tmpfs object. Every field is guarded by the file system's lock.
class TmpfsInode : public Inode {
 public:
  TmpfsInode(std::shared_ptr<Tmpfs> fs, const NewNode& n, uint64_t ino)
      : fs_(std::move(fs)),
        ino_(ino),
        mode_(n.mode),
        uid_(n.uid),
        gid_(n.gid),
        rdev_(n.rdev) {
    atime_ = mtime_ = ctime_ = btime_ = Now();
  }

  std::optional<struct timespec> BirthTime() override { return btime_; }

  ~TmpfsInode() override {
    if (charged_) {
      absl::MutexLock l(&fs_->mu());
      fs_->UnchargePages(1);
    }
  }

  Tmpfs& fs() { return *fs_; }
  // This inode holds a page of the size limit (see TmpfsDir::Add).
  void set_charged() { charged_ = true; }

  ErrnoOr<struct stat> Stat() override {
    absl::MutexLock l(&fs_->mu());
    return StatLocked();
  }

  struct stat StatLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu()) {
    struct stat st {};
    st.st_dev = fs_->dev();
    st.st_ino = ino_;
    st.st_mode = mode_;
    st.st_nlink = nlink_;
    st.st_uid = uid_;
    st.st_gid = gid_;
    st.st_rdev = rdev_;
    st.st_size = static_cast<off_t>(SizeLocked());
    st.st_blksize = kPage;
    st.st_blocks = static_cast<blkcnt_t>(BlocksLocked() * (kPage / 512));
    st.st_atim = atime_;
    st.st_mtim = mtime_;
    st.st_ctim = ctime_;
    return st;
  }

  virtual uint64_t SizeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu()) {
    return 0;
  }
  virtual uint64_t BlocksLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu()) {
    return 0;
  }
  virtual ErrnoOr<void> ResizeLocked(uint64_t)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu()) {
    return Errno(EINVAL);
  }

  ErrnoOr<void> SetAttr(const SetAttrRequest& req) override {
    absl::MutexLock l(&fs_->mu());
    if (req.size) SENTRY_RETURN_IF_ERRNO(ResizeLocked(*req.size));
    struct timespec now = Now();
    if (req.mode) mode_ = (mode_ & S_IFMT) | (*req.mode & 07777);
    if (req.uid) uid_ = *req.uid;
    if (req.gid) gid_ = *req.gid;
    if (req.atime) atime_ = req.atime->tv_nsec == UTIME_NOW ? now : *req.atime;
    if (req.mtime) mtime_ = req.mtime->tv_nsec == UTIME_NOW ? now : *req.mtime;
    ctime_ = now;
    return {};
  }

  ErrnoOr<struct statfs> StatFs() override { return fs_->StatFs(); }

  ErrnoOr<std::shared_ptr<FileDescription>> Open(int flags) override;

  ErrnoOr<std::string> GetXattr(const std::string& name) override {
    if (!AllowedXattr(name)) return Errno(EOPNOTSUPP);
    absl::MutexLock l(&fs_->mu());
    auto it = xattrs_.find(name);
    if (it == xattrs_.end()) return Errno(ENODATA);
    return it->second;
  }
  ErrnoOr<void> SetXattr(const std::string& name, const std::string& value,
                         int flags) override {
    if (!AllowedXattr(name)) return Errno(EOPNOTSUPP);
    absl::MutexLock l(&fs_->mu());
    bool exists = xattrs_.count(name) > 0;
    if ((flags & XATTR_CREATE) && exists) return Errno(EEXIST);
    if ((flags & XATTR_REPLACE) && !exists) return Errno(ENODATA);
    xattrs_[name] = value;
    ctime_ = Now();
    return {};
  }
  ErrnoOr<std::vector<std::string>> ListXattr() override {
    absl::MutexLock l(&fs_->mu());
    std::vector<std::string> out;
    for (const auto& [k, v] : xattrs_) out.push_back(k);
    return out;
  }
  ErrnoOr<void> RemoveXattr(const std::string& name) override {
    if (!AllowedXattr(name)) return Errno(EOPNOTSUPP);
    absl::MutexLock l(&fs_->mu());
    if (xattrs_.erase(name) == 0) return Errno(ENODATA);
    ctime_ = Now();
    return {};
  }

  mode_t mode_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu()) {
    return mode_;
  }
  void AdjustLinks(int delta) ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu()) {
    nlink_ += delta;
    ctime_ = Now();
  }
  void Touch(bool modify) ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu()) {
    struct timespec now = Now();
    if (modify) mtime_ = now;
    ctime_ = now;
  }

 protected:
  // tmpfs keeps trusted.* and user.* (on files and directories) and
  // security.*; system.* ACLs are not supported.
  static bool AllowedXattr(const std::string& name) {
    return name.rfind("user.", 0) == 0 || name.rfind("trusted.", 0) == 0 ||
           name.rfind("security.", 0) == 0;
  }

  const std::shared_ptr<Tmpfs> fs_;
  const uint64_t ino_;
  mode_t mode_;
  uid_t uid_;
  gid_t gid_;
  dev_t rdev_;
  nlink_t nlink_ = 1;
  struct timespec atime_, mtime_, ctime_;
  struct timespec btime_;  // set once at creation
  std::map<std::string, std::string> xattrs_;
  // For FIFOs: the pipe behind it, created by the pipe implementation.
  std::shared_ptr<void> fifo_state_;
  bool charged_ = false;
};

// --- regular files ----------------------------------------------------------

class TmpfsFile : public TmpfsInode {
 public:
  using TmpfsInode::TmpfsInode;
  ~TmpfsFile() override {
    absl::MutexLock l(&fs_->mu());
    FreeFromLocked(0);
  }

  // MAP_SHARED: the file's pages for [offset, offset + length), laid out
  // contiguously in an extent that mappings share with the file. The
  // extent is made (or, while nothing maps it, moved to a bigger one) on
  // demand; once mapped it cannot move, so a mapping beyond it fails and
  // the caller falls back to a private copy.
  std::optional<vfs::SharedFilePages> MapShared(uint64_t offset,
                                                uint64_t length) {
    absl::MutexLock l(&fs_->mu());
    uint64_t needed = (offset + length) / kPage;
    if (!extent_ || (needed > extent_->pages && extent_.use_count() == 1)) {
      if (!MakeExtentLocked(needed)) return std::nullopt;
    }
    if (needed > extent_->pages) return std::nullopt;
    return vfs::SharedFilePages{extent_->base + offset, extent_};
  }

  uint64_t SizeLocked() override { return size_; }
  uint64_t BlocksLocked() override { return pages_.size(); }

  // File seals (fcntl F_ADD_SEALS/F_GET_SEALS, memfd_create(2)), checked
  // on every write path as Linux's shmem does. How this differs from
  // Linux: F_SEAL_WRITE does not fail with EBUSY while writable shared
  // mappings exist, because those are not counted per file.
  uint32_t seals() {
    absl::MutexLock l(&fs_->mu());
    return seals_;
  }
  void set_seals(uint32_t seals) {
    absl::MutexLock l(&fs_->mu());
    seals_ = seals;
  }
  ErrnoOr<void> AddSeals(uint32_t add) {
    absl::MutexLock l(&fs_->mu());
    if (seals_ & F_SEAL_SEAL) return Errno(EPERM);
    seals_ |= add;
    return {};
  }

  ErrnoOr<void> ResizeLocked(uint64_t size) override {
    if (size > kMaxFileSize) return Errno(EFBIG);
    if (size < size_ && (seals_ & F_SEAL_SHRINK)) return Errno(EPERM);
    if (size > size_ && (seals_ & F_SEAL_GROW)) return Errno(EPERM);
    if (size < size_) {
      FreeFromLocked(mm::PageUp(size) / kPage);
      // Zero the tail of the last partial page so growing again reads 0s.
      if (size % kPage != 0) {
        if (std::optional<uint64_t> at = PageAtLocked(size / kPage)) {
          std::memset(fs_->memory().Access(*at) + size % kPage, 0,
                      kPage - size % kPage);
        }
      }
    }
    if (size != size_) Touch(true);
    size_ = size;
    return {};
  }

  ErrnoOr<size_t> ReadData(std::span<uint8_t> dst, uint64_t offset) override {
    return ReadAt(dst, offset);
  }
  ErrnoOr<size_t> WriteData(std::span<const uint8_t> src,
                            uint64_t offset) override {
    return WriteAt(src, offset);
  }

  ErrnoOr<size_t> ReadAt(std::span<uint8_t> dst, uint64_t offset) {
    absl::MutexLock l(&fs_->mu());
    if (offset >= size_) return size_t{0};
    size_t n =
        static_cast<size_t>(std::min<uint64_t>(dst.size(), size_ - offset));
    size_t done = 0;
    while (done < n) {
      uint64_t pos = offset + done;
      size_t in_page = std::min<size_t>(n - done, kPage - pos % kPage);
      std::optional<uint64_t> at = PageAtLocked(pos / kPage);
      if (!at) {
        std::memset(dst.data() + done, 0, in_page);
      } else {
        std::memcpy(dst.data() + done, fs_->memory().Access(*at) + pos % kPage,
                    in_page);
      }
      done += in_page;
    }
    return n;
  }

  ErrnoOr<size_t> WriteAt(std::span<const uint8_t> src, uint64_t offset) {
    absl::MutexLock l(&fs_->mu());
    if (seals_ & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) return Errno(EPERM);
    if (src.empty()) return size_t{0};
    if ((seals_ & F_SEAL_GROW) && offset + src.size() > size_) {
      return Errno(EPERM);
    }
    if (offset >= kMaxFileSize) return Errno(EFBIG);
    size_t n = static_cast<size_t>(
        std::min<uint64_t>(src.size(), kMaxFileSize - offset));
    size_t done = 0;
    while (done < n) {
      uint64_t pos = offset + done;
      size_t in_page = std::min<size_t>(n - done, kPage - pos % kPage);
      auto it = pages_.find(pos / kPage);
      if (it == pages_.end()) {
        std::optional<uint64_t> page = NewPageLocked(pos / kPage);
        if (!page) break;
        it = pages_.emplace(pos / kPage, *page).first;
      }
      std::memcpy(fs_->memory().Access(it->second) + pos % kPage,
                  src.data() + done, in_page);
      done += in_page;
    }
    if (done == 0) return Errno(ENOSPC);
    size_ = std::max<uint64_t>(size_, offset + done);
    Touch(true);
    return done;
  }

  ErrnoOr<void> Allocate(int mode, uint64_t offset, uint64_t length) {
    absl::MutexLock l(&fs_->mu());
    if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) {
      return Errno(EOPNOTSUPP);
    }
    uint64_t end;
    if (__builtin_add_overflow(offset, length, &end) || end > kMaxFileSize) {
      return Errno(EFBIG);
    }
    if (mode & FALLOC_FL_PUNCH_HOLE) {
      if (!(mode & FALLOC_FL_KEEP_SIZE)) return Errno(EOPNOTSUPP);
      if (seals_ & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) return Errno(EPERM);
      for (uint64_t pos = offset; pos < end;) {
        size_t in_page = std::min<uint64_t>(end - pos, kPage - pos % kPage);
        auto it = pages_.find(pos / kPage);
        if (it != pages_.end() && in_page == kPage) {
          ReleasePageLocked(it->second);
          pages_.erase(it);
        } else if (std::optional<uint64_t> at = PageAtLocked(pos / kPage)) {
          std::memset(fs_->memory().Access(*at) + pos % kPage, 0, in_page);
        }
        pos += in_page;
      }
      Touch(true);
      return {};
    }
    if (!(mode & FALLOC_FL_KEEP_SIZE) && end > size_ &&
        (seals_ & F_SEAL_GROW)) {
      return Errno(EPERM);
    }
    for (uint64_t idx = offset / kPage; idx < mm::PageUp(end) / kPage; ++idx) {
      if (pages_.count(idx)) continue;
      std::optional<uint64_t> page = NewPageLocked(idx);
      if (!page) return Errno(ENOSPC);
      pages_.emplace(idx, *page);
    }
    if (!(mode & FALLOC_FL_KEEP_SIZE) && end > size_) size_ = end;
    Touch(true);
    return {};
  }

 private:
  // A contiguous run of MemoryFile pages holding the file's first `pages`
  // pages, shared with the areas that map it; freed with the last of them.
  struct Extent {
    Extent(mm::MemoryFile& m, uint64_t b, uint64_t n)
        : memory(m), base(b), pages(n) {}
    ~Extent() { memory.Free(base, pages * kPage); }
    bool Holds(uint64_t offset) const {
      return offset >= base && offset < base + pages * kPage;
    }
    mm::MemoryFile& memory;
    const uint64_t base;
    const uint64_t pages;
  };

  // Where page `idx` lives: its own page, or its slot in the extent (where
  // a shared mapping may have written it without write(2)).
  std::optional<uint64_t> PageAtLocked(uint64_t idx)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu()) {
    auto it = pages_.find(idx);
    if (it != pages_.end()) return it->second;
    if (extent_ && idx < extent_->pages) return extent_->base + idx * kPage;
    return std::nullopt;
  }

  // A page for index `idx`, charged against the size limit.
  std::optional<uint64_t> NewPageLocked(uint64_t idx)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu()) {
    if (!fs_->ChargePages(1)) return std::nullopt;
    if (extent_ && idx < extent_->pages) return extent_->base + idx * kPage;
    ErrnoOr<uint64_t> page = fs_->memory().Allocate(kPage);
    if (!page.ok()) {
      fs_->UnchargePages(1);
      return std::nullopt;
    }
    return *page;
  }

  // Gives a page back: extent pages are zeroed (the extent is freed as a
  // whole), others freed.
  void ReleasePageLocked(uint64_t offset)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu()) {
    fs_->UnchargePages(1);
    if (extent_ && extent_->Holds(offset)) {
      fs_->memory().Zero(offset, kPage);
    } else {
      fs_->memory().Free(offset, kPage);
    }
  }

  void FreeFromLocked(uint64_t first_page)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu()) {
    for (auto it = pages_.lower_bound(first_page); it != pages_.end();) {
      ReleasePageLocked(it->second);
      it = pages_.erase(it);
    }
    // Slots a mapping wrote without a page of their own read as zero again.
    if (extent_ && first_page < extent_->pages) {
      fs_->memory().Zero(extent_->base + first_page * kPage,
                         (extent_->pages - first_page) * kPage);
    }
  }

  // Moves the file's pages into a new extent of at least `needed` pages
  // (from an old one only while nothing maps it).
  bool MakeExtentLocked(uint64_t needed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu()) {
    // Room to grow (sqlite maps its -shm file a region at a time), at a
    // cost of MemoryFile address space only: untouched pages take no
    // memory.
    uint64_t pages = std::max<uint64_t>(
        {needed * 2, mm::PageUp(size_) / kPage, uint64_t{256}});
    ErrnoOr<uint64_t> base = fs_->memory().Allocate(pages * kPage);
    if (!base.ok()) return false;
    auto extent = std::make_shared<Extent>(fs_->memory(), *base, pages);
    if (extent_) {
      std::memcpy(fs_->memory().Access(*base),
                  fs_->memory().Access(extent_->base),
                  std::min(pages, extent_->pages) * kPage);
    }
    for (auto& [idx, offset] : pages_) {
      if (idx >= pages) continue;  // stays where it is
      if (!(extent_ && extent_->Holds(offset))) {
        std::memcpy(fs_->memory().Access(*base + idx * kPage),
                    fs_->memory().Access(offset), kPage);
        fs_->memory().Free(offset, kPage);
      }
      offset = *base + idx * kPage;
    }
    extent_ = std::move(extent);
    return true;
  }

  uint64_t size_ = 0;
  std::map<uint64_t, uint64_t> pages_;  // page index → MemoryFile offset
  std::shared_ptr<Extent> extent_;
  uint32_t seals_ = F_SEAL_SEAL;
};

class TmpfsFileDescription : public FileDescription {
 public:
  TmpfsFileDescription(int flags, std::shared_ptr<TmpfsFile> file)
      : FileDescription(flags), file_(std::move(file)) {
    set_inode(file_);
  }
  bool seekable() const override { return true; }
  ErrnoOr<size_t> PRead(kernel::Task&, std::span<uint8_t> dst,
                        uint64_t offset) override {
    return file_->ReadAt(dst, offset);
  }
  ErrnoOr<size_t> PWrite(kernel::Task&, std::span<const uint8_t> src,
                         uint64_t offset) override {
    return file_->WriteAt(src, offset);
  }
  ErrnoOr<void> Truncate(uint64_t size) override {
    SetAttrRequest req;
    req.size = size;
    return file_->SetAttr(req);
  }
  ErrnoOr<void> Allocate(int mode, uint64_t offset, uint64_t len) override {
    return file_->Allocate(mode, offset, len);
  }
  std::optional<vfs::SharedFilePages> MapSharedPages(uint64_t offset,
                                                     uint64_t length) override {
    return file_->MapShared(offset, length);
  }
  ErrnoOr<void> CheckMmap(int prot, bool shared) override {
    if (shared && (prot & PROT_WRITE) &&
        (file_->seals() & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))) {
      return Errno(EPERM);
    }
    return {};
  }

  ErrnoOr<uint64_t> Fcntl(kernel::Task& t, int cmd, uint64_t arg) override {
    // Opened through another file system (the overlay uses tmpfs as its
    // upper layer): seals are tmpfs's, not the overlay's.
    if (inode() != file_.get()) return FileDescription::Fcntl(t, cmd, arg);
    switch (cmd) {
      case F_GET_SEALS:
        return uint64_t{file_->seals()};
      case F_ADD_SEALS: {
        constexpr uint32_t kKnown = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW |
                                    F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
        if (arg & ~uint64_t{kKnown}) return Errno(EINVAL);
        if (!writable()) return Errno(EPERM);
        SENTRY_RETURN_IF_ERRNO(file_->AddSeals(static_cast<uint32_t>(arg)));
        return uint64_t{0};
      }
      default:
        return Errno(EINVAL);
    }
  }

 private:
  std::shared_ptr<TmpfsFile> file_;
};

// --- directories ------------------------------------------------------------

class TmpfsDir : public TmpfsInode {
 public:
  TmpfsDir(std::shared_ptr<Tmpfs> fs, const NewNode& n, uint64_t ino)
      : TmpfsInode(std::move(fs), n, ino) {
    nlink_ = 2;
  }

  uint64_t SizeLocked() override { return kPage; }

  ErrnoOr<std::shared_ptr<Inode>> Lookup(const std::string& name) override {
    absl::MutexLock l(&fs_->mu());
    auto it = children_.find(name);
    if (it == children_.end()) return Errno(ENOENT);
    return std::shared_ptr<Inode>(it->second);
  }

  ErrnoOr<std::vector<DirEntry>> ReadDir() override {
    absl::MutexLock l(&fs_->mu());
    std::vector<DirEntry> out;
    out.reserve(children_.size());
    for (const auto& [name, child] : children_) {
      struct stat st = child->StatLocked();
      out.push_back(
          {name, st.st_ino, static_cast<uint8_t>(IFTODT(st.st_mode))});
    }
    return out;
  }

  ErrnoOr<std::shared_ptr<Inode>> Mknod(const std::string& name,
                                        const NewNode& n) override {
    return Add(name, n, "");
  }
  ErrnoOr<std::shared_ptr<Inode>> Mkdir(const std::string& name,
                                        const NewNode& n) override {
    return Add(name, n, "");
  }
  ErrnoOr<std::shared_ptr<Inode>> Symlink(const std::string& name,
                                          const std::string& target,
                                          const NewNode& n) override {
    return Add(name, n, target);
  }

  ErrnoOr<void> Link(const std::string& name,
                     const std::shared_ptr<Inode>& target) override {
    auto t = std::dynamic_pointer_cast<TmpfsInode>(target);
    if (!t || &t->fs() != fs_.get()) return Errno(EXDEV);
    absl::MutexLock l(&fs_->mu());
    if (unlinked_) return Errno(ENOENT);
    if (children_.count(name)) return Errno(EEXIST);
    children_[name] = t;
    t->AdjustLinks(1);
    Touch(true);
    return {};
  }

  ErrnoOr<void> Unlink(const std::string& name) override {
    std::shared_ptr<TmpfsInode> victim;  // released after the lock
    absl::MutexLock l(&fs_->mu());
    auto it = children_.find(name);
    if (it == children_.end()) return Errno(ENOENT);
    if (S_ISDIR(it->second->mode_locked())) return Errno(EISDIR);
    victim = std::move(it->second);
    children_.erase(it);
    victim->AdjustLinks(-1);
    Touch(true);
    return {};
  }

  ErrnoOr<void> Rmdir(const std::string& name) override {
    std::shared_ptr<TmpfsInode> victim;
    absl::MutexLock l(&fs_->mu());
    auto it = children_.find(name);
    if (it == children_.end()) return Errno(ENOENT);
    auto dir = std::dynamic_pointer_cast<TmpfsDir>(it->second);
    if (!dir) return Errno(ENOTDIR);
    if (!dir->children_.empty()) return Errno(ENOTEMPTY);
    victim = std::move(it->second);
    children_.erase(it);
    dir->unlinked_ = true;
    dir->AdjustLinks(-2);
    AdjustLinks(-1);
    Touch(true);
    return {};
  }

  ErrnoOr<void> Rename(const std::string& old_name, Inode& new_dir_inode,
                       const std::string& new_name, unsigned flags) override {
    auto* new_dir = dynamic_cast<TmpfsDir*>(&new_dir_inode);
    if (new_dir == nullptr || &new_dir->fs() != fs_.get()) {
      return Errno(EXDEV);
    }
    std::shared_ptr<TmpfsInode> replaced;
    absl::MutexLock l(&fs_->mu());
    auto src = children_.find(old_name);
    if (src == children_.end()) return Errno(ENOENT);
    std::shared_ptr<TmpfsInode> moving = src->second;
    bool moving_dir = S_ISDIR(moving->mode_locked());
    auto dst = new_dir->children_.find(new_name);
    if (flags & RENAME_EXCHANGE) {
      if (dst == new_dir->children_.end()) return Errno(ENOENT);
      bool other_dir = S_ISDIR(dst->second->mode_locked());
      std::swap(src->second, dst->second);
      if (moving_dir != other_dir && this != new_dir) {
        int d = moving_dir ? 1 : -1;
        new_dir->AdjustLinks(d);
        AdjustLinks(-d);
      }
      Touch(true);
      new_dir->Touch(true);
      return {};
    }
    if (dst != new_dir->children_.end()) {
      if (flags & RENAME_NOREPLACE) return Errno(EEXIST);
      auto target_dir = std::dynamic_pointer_cast<TmpfsDir>(dst->second);
      if (target_dir) {
        if (!moving_dir) return Errno(EISDIR);
        if (!target_dir->children_.empty()) return Errno(ENOTEMPTY);
        target_dir->unlinked_ = true;
        target_dir->AdjustLinks(-2);
        new_dir->AdjustLinks(-1);
      } else {
        if (moving_dir) return Errno(ENOTDIR);
        dst->second->AdjustLinks(-1);
      }
      replaced = std::move(dst->second);
      new_dir->children_.erase(dst);
    }
    children_.erase(old_name);
    new_dir->children_[new_name] = moving;
    if (moving_dir && this != new_dir) {
      AdjustLinks(-1);
      new_dir->AdjustLinks(1);
    }
    moving->Touch(false);
    Touch(true);
    new_dir->Touch(true);
    return {};
  }

  bool unlinked_ = false;

 private:
  ErrnoOr<std::shared_ptr<Inode>> Add(const std::string& name, const NewNode& n,
                                      const std::string& target) {
    absl::MutexLock l(&fs_->mu());
    if (unlinked_) return Errno(ENOENT);
    if (children_.count(name)) return Errno(EEXIST);
    // Each inode costs a page against the size limit, as Linux's tmpfs
    // nr_inodes (derived from size) bounds them.
    if (!fs_->ChargePages(1)) return Errno(ENOSPC);
    auto inode =
        std::static_pointer_cast<TmpfsInode>(fs_->MakeInode(n, target));
    inode->set_charged();
    children_[name] = inode;
    if (S_ISDIR(n.mode)) AdjustLinks(1);
    Touch(true);
    return std::shared_ptr<Inode>(inode);
  }

  std::map<std::string, std::shared_ptr<TmpfsInode>> children_;
};

class TmpfsSymlink : public TmpfsInode {
 public:
  TmpfsSymlink(std::shared_ptr<Tmpfs> fs, const NewNode& n, uint64_t ino,
               std::string target)
      : TmpfsInode(std::move(fs), n, ino), target_(std::move(target)) {}
  uint64_t SizeLocked() override { return target_.size(); }
  ErrnoOr<std::string> ReadLink() override { return target_; }

 private:
  const std::string target_;
};

// A tmpfs directory opened for reading.
class TmpfsDirDescription : public FileDescription {
 public:
  using FileDescription::FileDescription;
};

ErrnoOr<std::shared_ptr<FileDescription>> TmpfsInode::Open(int flags) {
  mode_t type = mode_ & S_IFMT;
  switch (type) {
    case S_IFREG:
      return std::shared_ptr<FileDescription>(
          std::make_shared<TmpfsFileDescription>(
              flags, std::static_pointer_cast<TmpfsFile>(shared_from_this())));
    case S_IFDIR:
      return std::shared_ptr<FileDescription>(
          std::make_shared<TmpfsDirDescription>(flags));
    case S_IFCHR:
      return vfs::OpenCharDevice(rdev_, flags);
    case S_IFIFO:
      return vfs::OpenFifo(fifo_state_, flags);
    default:
      return Errno(ENXIO);  // block devices, sockets
  }
}

}  // namespace

std::shared_ptr<Tmpfs> Tmpfs::Create(mm::MemoryFile& memory,
                                     TmpfsOptions options) {
  return std::shared_ptr<Tmpfs>(new Tmpfs(memory, options));
}

Tmpfs::Tmpfs(mm::MemoryFile& memory, TmpfsOptions options)
    : memory_(memory), options_(options), dev_(NewAnonymousDev()) {}

Tmpfs::~Tmpfs() = default;

std::shared_ptr<Inode> Tmpfs::MakeRoot() {
  absl::MutexLock l(&mu_);
  return MakeInode(
      {S_IFDIR | options_.root_mode, options_.root_uid, options_.root_gid, 0},
      "");
}

std::shared_ptr<Inode> Tmpfs::NewAnonymousFile(mode_t mode, uid_t uid,
                                               gid_t gid, uint32_t seals) {
  std::shared_ptr<Inode> inode;
  {
    absl::MutexLock l(&mu_);
    inode = MakeInode({S_IFREG | (mode & 07777), uid, gid, 0}, "");
  }
  static_cast<TmpfsFile*>(inode.get())->set_seals(seals);
  return inode;
}

std::shared_ptr<Inode> Tmpfs::MakeInode(const NewNode& n,
                                        const std::string& target) {
  uint64_t ino = NextIno();
  std::shared_ptr<Tmpfs> self = shared_from_this();
  switch (n.mode & S_IFMT) {
    case S_IFREG:
      return std::make_shared<TmpfsFile>(self, n, ino);
    case S_IFDIR:
      return std::make_shared<TmpfsDir>(self, n, ino);
    case S_IFLNK:
      return std::make_shared<TmpfsSymlink>(self, n, ino, target);
    default:
      return std::make_shared<TmpfsInode>(self, n, ino);
  }
}

bool Tmpfs::ChargePages(uint64_t n) {
  if (options_.size_limit != 0 &&
      (pages_used_ + n) * kPage > options_.size_limit) {
    return false;
  }
  pages_used_ += n;
  return true;
}

void Tmpfs::UnchargePages(uint64_t n) { pages_used_ -= n; }

struct statfs Tmpfs::StatFs() {
  absl::MutexLock l(&mu_);
  struct statfs s {};
  s.f_type = TMPFS_MAGIC;
  s.f_bsize = kPage;
  s.f_frsize = kPage;
  uint64_t total = options_.size_limit != 0 ? options_.size_limit / kPage
                                            : memory_.size() / kPage;
  s.f_blocks = total;
  s.f_bfree = s.f_bavail = total > pages_used_ ? total - pages_used_ : 0;
  s.f_files = total;
  s.f_ffree = s.f_bfree;
  s.f_namelen = NAME_MAX;
  return s;
}

}  // namespace sentry::fs
