// Path resolution and the path-based operations of the VFS (the parts of
// Linux's fs/namei.c and fs/open.c that do not depend on a file system).
//
// Every operation takes a Resolver (whose mount namespace and root apply,
// and who asks), a start Path (the cwd or a dirfd's path) and the guest's
// path string. Resolution follows Linux: "." and ".." (clamped at the root,
// crossing mounts), symlinks with ELOOP after 40, trailing slashes demanding
// a directory, O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, and openat2's RESOLVE_*
// restrictions. Permission checks happen here, with the caller's Creds.
#ifndef SENTRY_VFS_VFS_H_
#define SENTRY_VFS_VFS_H_

#include <sys/stat.h>
#include <sys/statfs.h>

#include <memory>
#include <string>
#include <string_view>

#include "sentry/base/errno_or.h"
#include "sentry/vfs/creds.h"
#include "sentry/vfs/dentry.h"
#include "sentry/vfs/file_description.h"

namespace sentry::vfs {

inline constexpr int kMaxSymlinkFollows = 40;  // Linux's MAXSYMLINKS

struct Resolver {
  MountNamespace* ns = nullptr;
  Path root;  // the caller's root (chroot)
  Creds creds;
};

// Lookup flags.
enum : int {
  kFollow = 1 << 0,     // follow a final symlink
  kDirectory = 1 << 1,  // the result must be a directory
  kEmptyPath = 1 << 2,  // "" means `start` (AT_EMPTY_PATH)
};

// openat2's resolve flags, from linux/openat2.h.
enum : uint64_t {
  kResolveNoXdev = 0x01,
  kResolveNoMagiclinks = 0x02,
  kResolveNoSymlinks = 0x04,
  kResolveBeneath = 0x08,
  kResolveInRoot = 0x10,
  kResolveCached = 0x20,
};

// Resolves `path` from `start`.
ErrnoOr<Path> Lookup(const Resolver& r, const Path& start,
                     std::string_view path, int flags, uint64_t resolve = 0);

// Resolves all but the last component: the directory and the final name
// ("" for "/", possibly "." or ".."), and whether the path ended in '/'.
struct ParentAndName {
  Path dir;
  std::string name;
  bool trailing_slash = false;
};
ErrnoOr<ParentAndName> LookupParent(const Resolver& r, const Path& start,
                                    std::string_view path,
                                    uint64_t resolve = 0);

// open(2)/openat2(2). `mode` is already masked by the umask.
ErrnoOr<std::shared_ptr<FileDescription>> Open(const Resolver& r,
                                               const Path& start,
                                               std::string_view path, int flags,
                                               mode_t mode,
                                               uint64_t resolve = 0);
// Opens an already resolved path (execve, /proc/self/fd re-opens).
ErrnoOr<std::shared_ptr<FileDescription>> OpenPath(const Resolver& r,
                                                   const Path& p, int flags);

// `mode` already masked by the umask and with the file type set.
ErrnoOr<void> Mknod(const Resolver& r, const Path& start, std::string_view path,
                    mode_t mode, dev_t dev);
ErrnoOr<void> Mkdir(const Resolver& r, const Path& start, std::string_view path,
                    mode_t mode);
ErrnoOr<void> Symlink(const Resolver& r, const std::string& target,
                      const Path& start, std::string_view path);
ErrnoOr<void> Link(const Resolver& r, const Path& old_start,
                   std::string_view old_path, const Path& new_start,
                   std::string_view new_path, int lookup_flags);
ErrnoOr<void> Unlink(const Resolver& r, const Path& start,
                     std::string_view path);
ErrnoOr<void> Rmdir(const Resolver& r, const Path& start,
                    std::string_view path);
ErrnoOr<void> Rename(const Resolver& r, const Path& old_start,
                     std::string_view old_path, const Path& new_start,
                     std::string_view new_path, unsigned flags);
ErrnoOr<std::string> ReadLink(const Resolver& r, const Path& start,
                              std::string_view path);

// chmod, chown, utimensat, truncate with Linux's permission rules, on a
// resolved path (the syscalls resolve with or without kFollow).
ErrnoOr<void> Chmod(const Resolver& r, const Path& p, mode_t mode);
ErrnoOr<void> Chown(const Resolver& r, const Path& p, uid_t uid, gid_t gid);
// `times` as utimensat's (nullptr: both now).
ErrnoOr<void> Utimes(const Resolver& r, const Path& p,
                     const struct timespec* times);
// truncate(2). Growing the file past `size_limit` (the caller's
// RLIMIT_FSIZE) fails EFBIG after the other checks; the caller raises
// SIGXFSZ.
ErrnoOr<void> Truncate(const Resolver& r, const Path& p, uint64_t length,
                       uint64_t size_limit = UINT64_MAX);
// access(2) with `mode` (R_OK|W_OK|X_OK or F_OK).
ErrnoOr<void> Access(const Resolver& r, const Path& p, int mode);

// The directory "..": the parent within the namespace, staying at `root`.
Path ParentOf(const Path& p, const Path& root);

// Whether the path's mount is read-only (EROFS for writes).
bool ReadOnly(const Path& p);

}  // namespace sentry::vfs

#endif  // SENTRY_VFS_VFS_H_
