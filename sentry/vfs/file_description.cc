#include "sentry/vfs/file_description.h"

#include <dirent.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>

#include "sentry/vfs/fsnotify.h"
#include "sentry/vfs/lock.h"

namespace sentry::vfs {

namespace {
constexpr int kSettableFlags =
    O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
constexpr int kKeptFlags = O_ACCMODE | kSettableFlags | O_SYNC | O_DSYNC |
                           O_PATH | O_LARGEFILE | O_DIRECTORY;
}  // namespace

FileDescription::FileDescription(int flags)
    : flags_((flags & kKeptFlags) | O_LARGEFILE) {}

FileDescription::~FileDescription() {
  // OFD and flock locks belong to the description and die with it.
  if (Inode* i = inode()) ReleaseLocksOf(*i, this);
  if (path_.dentry && !(flags() & O_PATH)) {
    NotifyPath(path_, writable() ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE);
  }
}

int FileDescription::flags() const {
  absl::MutexLock l(&flags_mu_);
  return flags_ & ~O_DIRECTORY;
}

ErrnoOr<void> FileDescription::SetStatusFlags(int flags) {
  absl::MutexLock l(&flags_mu_);
  flags_ = (flags_ & ~kSettableFlags) | (flags & kSettableFlags);
  return {};
}

bool FileDescription::readable() const {
  int mode = flags() & (O_ACCMODE | O_PATH);
  return mode == O_RDONLY || mode == O_RDWR;
}

bool FileDescription::writable() const {
  int mode = flags() & (O_ACCMODE | O_PATH);
  return mode == O_WRONLY || mode == O_RDWR;
}

Inode* FileDescription::inode() const {
  if (inode_) return inode_.get();
  return path_.dentry ? path_.dentry->inode().get() : nullptr;
}

ErrnoOr<size_t> FileDescription::Read(kernel::Task& t, std::span<uint8_t> dst) {
  if (!seekable()) return PRead(t, dst, 0);
  absl::MutexLock l(&offset_mu_);
  SENTRY_ASSIGN_OR_RETURN(size_t n, PRead(t, dst, offset_));
  offset_ += n;
  return n;
}

ErrnoOr<size_t> FileDescription::Write(kernel::Task& t,
                                       std::span<const uint8_t> src) {
  if (!seekable()) return PWrite(t, src, 0);
  absl::MutexLock l(&offset_mu_);
  if (flags() & O_APPEND) {
    SENTRY_ASSIGN_OR_RETURN(struct stat st, Stat());
    offset_ = static_cast<uint64_t>(st.st_size);
  }
  SENTRY_ASSIGN_OR_RETURN(size_t n, PWrite(t, src, offset_));
  offset_ += n;
  return n;
}

ErrnoOr<size_t> FileDescription::PRead(kernel::Task&, std::span<uint8_t>,
                                       uint64_t) {
  if (S_ISDIR(inode() ? inode()->Type() : 0)) return Errno(EISDIR);
  return Errno(ESPIPE);
}

ErrnoOr<size_t> FileDescription::PWrite(kernel::Task&, std::span<const uint8_t>,
                                        uint64_t) {
  return Errno(ESPIPE);
}

ErrnoOr<uint64_t> FileDescription::Seek(int64_t offset, int whence) {
  mode_t type = inode() ? inode()->Type() : 0;
  if (!seekable() && !S_ISDIR(type)) return Errno(ESPIPE);
  absl::MutexLock l(&offset_mu_);
  int64_t base;
  switch (whence) {
    case SEEK_SET:
      base = 0;
      break;
    case SEEK_CUR:
      base = static_cast<int64_t>(offset_);
      break;
    case SEEK_END:
    case SEEK_DATA:
    case SEEK_HOLE: {
      if (S_ISDIR(type)) return Errno(EINVAL);
      SENTRY_ASSIGN_OR_RETURN(struct stat st, Stat());
      if (whence == SEEK_END) {
        base = st.st_size;
        break;
      }
      // No holes are tracked: all data up to EOF, one hole after it.
      if (offset < 0 || offset >= st.st_size) return Errno(ENXIO);
      offset_ =
          static_cast<uint64_t>(whence == SEEK_DATA ? offset : st.st_size);
      if (S_ISDIR(type)) dir_snapshot_.clear();
      return offset_;
    }
    default:
      return Errno(EINVAL);
  }
  int64_t result;
  if (__builtin_add_overflow(base, offset, &result) || result < 0) {
    return Errno(EINVAL);
  }
  offset_ = static_cast<uint64_t>(result);
  if (S_ISDIR(type) && offset_ == 0) dir_snapshot_.clear();
  return offset_;
}

ErrnoOr<void> FileDescription::Sync() {
  mode_t type = inode() ? inode()->Type() : 0;
  if (S_ISREG(type) || S_ISDIR(type)) return {};
  return Errno(EINVAL);
}

ErrnoOr<struct stat> FileDescription::Stat() {
  if (Inode* i = inode()) return i->Stat();
  return Errno(EBADF);
}

ErrnoOr<uint64_t> FileDescription::Ioctl(kernel::Task&, uint32_t, uint64_t) {
  return Errno(ENOTTY);
}

ErrnoOr<std::vector<DirEntry>> FileDescription::ReadDir() {
  Inode* dir = inode();
  if (dir == nullptr) return Errno(ENOTDIR);
  SENTRY_ASSIGN_OR_RETURN(std::vector<DirEntry> children, dir->ReadDir());
  SENTRY_ASSIGN_OR_RETURN(struct stat self, dir->Stat());
  uint64_t parent_ino = self.st_ino;
  if (path_.dentry) {
    // ".." of a mount root is the mountpoint's parent, as Linux reports.
    Path p = path_;
    while (p.dentry == p.mount->root() && p.mount->mountpoint().mount) {
      p = p.mount->mountpoint();
    }
    if (std::shared_ptr<Dentry> parent = p.dentry->parent()) {
      if (auto st = parent->inode()->Stat(); st.ok()) parent_ino = st->st_ino;
    }
  }
  std::vector<DirEntry> out;
  out.reserve(children.size() + 2);
  out.push_back({".", self.st_ino, DT_DIR});
  out.push_back({"..", parent_ino, DT_DIR});
  for (auto& c : children) out.push_back(std::move(c));
  return out;
}

ErrnoOr<size_t> FileDescription::Getdents64(std::span<uint8_t> buf) {
  absl::MutexLock l(&offset_mu_);
  if (offset_ == 0 || dir_snapshot_.empty()) {
    SENTRY_ASSIGN_OR_RETURN(dir_snapshot_, ReadDir());
  }
  size_t used = 0;
  while (offset_ < dir_snapshot_.size()) {
    const DirEntry& e = dir_snapshot_[offset_];
    // struct linux_dirent64: ino, off, reclen, type, name + NUL, 8-aligned.
    size_t reclen = (19 + e.name.size() + 1 + 7) & ~size_t{7};
    if (used + reclen > buf.size()) {
      if (used == 0) return Errno(EINVAL);
      break;
    }
    uint8_t* rec = buf.data() + used;
    std::memset(rec, 0, reclen);
    uint64_t next = offset_ + 1;
    uint16_t len16 = static_cast<uint16_t>(reclen);
    std::memcpy(rec, &e.ino, 8);
    std::memcpy(rec + 8, &next, 8);
    std::memcpy(rec + 16, &len16, 2);
    rec[18] = e.type;
    std::memcpy(rec + 19, e.name.data(), e.name.size());
    used += reclen;
    ++offset_;
  }
  return used;
}

uint64_t FileDescription::offset() const {
  absl::MutexLock l(const_cast<absl::Mutex*>(&offset_mu_));
  return offset_;
}

void FileDescription::set_offset(uint64_t o) {
  absl::MutexLock l(&offset_mu_);
  offset_ = o;
}

ErrnoOr<struct statfs> Inode::StatFs() { return Errno(ENOSYS); }

std::optional<ErrnoOr<Path>> Inode::MagicLinkTarget() { return std::nullopt; }

mode_t Inode::Type() {
  ErrnoOr<struct stat> st = Stat();
  return st.ok() ? (st->st_mode & S_IFMT) : 0;
}

}  // namespace sentry::vfs
