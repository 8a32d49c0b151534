// Inode: one file-system object (file, directory, symlink, device, FIFO)
// as a file system implements it. The VFS above (Dentry, Mount, path walk)
// deals in names, mounts and permissions; an Inode only answers for
// itself and, if it is a directory, for its children by name.
//
// Directory operations take one component that the VFS already checked: not
// empty, not "." or "..", no '/', at most NAME_MAX bytes. Permission and
// sticky-bit checks are the VFS's job, not the file system's.
#ifndef SENTRY_VFS_INODE_H_
#define SENTRY_VFS_INODE_H_

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sentry/base/errno_or.h"

namespace sentry::vfs {

class FileDescription;
struct Path;
struct InodeLocks;    // lock.cc
struct InodeWatches;  // fsnotify.cc

struct DirEntry {
  std::string name;
  uint64_t ino = 0;
  uint8_t type = 0;  // DT_*
};

// chmod/chown/truncate/utimensat in one request, as Linux's struct iattr.
struct SetAttrRequest {
  std::optional<mode_t> mode;  // permission bits only
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::optional<uint64_t> size;
  // tv_nsec may be UTIME_NOW; absent means leave alone.
  std::optional<struct timespec> atime;
  std::optional<struct timespec> mtime;
};

// What a new node gets: full st_mode (type and permission bits, after
// umask), owner, and the device number for mknod.
struct NewNode {
  mode_t mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  dev_t rdev = 0;
};

class Inode : public std::enable_shared_from_this<Inode> {
 public:
  virtual ~Inode() = default;

  virtual ErrnoOr<struct stat> Stat() = 0;
  // statx's birth time, if the file system keeps one.
  virtual std::optional<struct timespec> BirthTime() { return std::nullopt; }
  virtual ErrnoOr<void> SetAttr(const SetAttrRequest&) { return Errno(EPERM); }
  virtual ErrnoOr<struct statfs> StatFs();

  // Opens the object; flags are open(2)'s (the VFS has checked access and
  // resolved O_CREAT/O_EXCL). O_TRUNC is the file system's job.
  virtual ErrnoOr<std::shared_ptr<FileDescription>> Open(int flags) = 0;

  // Data of a regular file without an open file description, for the
  // overlay's copy-up. EINVAL for file systems that cannot.
  virtual ErrnoOr<size_t> ReadData(std::span<uint8_t>, uint64_t) {
    return Errno(EINVAL);
  }
  virtual ErrnoOr<size_t> WriteData(std::span<const uint8_t>, uint64_t) {
    return Errno(EINVAL);
  }

  // --- directories -------------------------------------------------------
  // Whether the VFS may cache this directory's children by name. Files
  // whose children change without the VFS knowing (procfs: /proc/self/fd/3
  // is whatever FD 3 is now) say no, and are looked up on every walk (what
  // Linux's d_revalidate achieves).
  virtual bool CacheableChildren() const { return true; }
  virtual ErrnoOr<std::shared_ptr<Inode>> Lookup(const std::string&) {
    return Errno(ENOTDIR);
  }
  // The children, without "." and "..".
  virtual ErrnoOr<std::vector<DirEntry>> ReadDir() { return Errno(ENOTDIR); }
  // Creates a regular file, device, FIFO or socket (by mode's type).
  virtual ErrnoOr<std::shared_ptr<Inode>> Mknod(const std::string&,
                                                const NewNode&) {
    return Errno(ENOTDIR);
  }
  virtual ErrnoOr<std::shared_ptr<Inode>> Mkdir(const std::string&,
                                                const NewNode&) {
    return Errno(ENOTDIR);
  }
  virtual ErrnoOr<std::shared_ptr<Inode>> Symlink(const std::string&,
                                                  const std::string&,
                                                  const NewNode&) {
    return Errno(ENOTDIR);
  }
  // Adds `name` as another link to `target` (EXDEV if foreign).
  virtual ErrnoOr<void> Link(const std::string&,
                             const std::shared_ptr<Inode>&) {
    return Errno(ENOTDIR);
  }
  virtual ErrnoOr<void> Unlink(const std::string&) { return Errno(ENOTDIR); }
  virtual ErrnoOr<void> Rmdir(const std::string&) { return Errno(ENOTDIR); }
  // renameat2 within one file system; `new_dir` is an Inode of the same
  // file system (the VFS checked EXDEV by mount). flags: RENAME_NOREPLACE,
  // RENAME_EXCHANGE (the VFS checked the combinations).
  virtual ErrnoOr<void> Rename(const std::string&, Inode&, const std::string&,
                               unsigned) {
    return Errno(ENOTDIR);
  }

  // --- symlinks ----------------------------------------------------------
  virtual ErrnoOr<std::string> ReadLink() { return Errno(EINVAL); }
  // procfs "magic links" (/proc/self/fd/N, exe, cwd, root) resolve to an
  // object rather than a path; nullopt for ordinary symlinks.
  virtual std::optional<ErrnoOr<Path>> MagicLinkTarget();

  // --- extended attributes ------------------------------------------------
  virtual ErrnoOr<std::string> GetXattr(const std::string&) {
    return Errno(EOPNOTSUPP);
  }
  virtual ErrnoOr<void> SetXattr(const std::string&, const std::string&,
                                 int /*XATTR_CREATE/REPLACE*/) {
    return Errno(EOPNOTSUPP);
  }
  virtual ErrnoOr<std::vector<std::string>> ListXattr() {
    return std::vector<std::string>{};
  }
  virtual ErrnoOr<void> RemoveXattr(const std::string&) {
    return Errno(EOPNOTSUPP);
  }

  // Convenience: the file type bits of Stat(), or 0 if it fails.
  mode_t Type();

  // Advisory locks on this inode (lock.h), created on first use and
  // guarded by the lock table's mutex.
  std::shared_ptr<InodeLocks> locks;
  // inotify watches on this inode (fsnotify.h), guarded by the watch-list
  // mutex.
  std::shared_ptr<InodeWatches> watches;
};

}  // namespace sentry::vfs

#endif  // SENTRY_VFS_INODE_H_
