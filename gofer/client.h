// The Sentry's side of the Gofer protocol (gofer.proto): one Client per
// Gofer connection, i.e. per host-backed mount.
//
// Thread-safe: calls are synchronous round trips, serialised by one mutex.
// Guest-visible failures are the Gofer's errno. Host failures (the Gofer
// died, the socket broke, a malformed answer) are logged once and read as
// EIO from then on: the connection is not reused after one.
//
// Handles name nodes the Gofer holds open; Walk/Create/Mkdir/Symlink/Attach
// each return a new one, which the caller releases with Close.
#ifndef GOFER_CLIENT_H_
#define GOFER_CLIENT_H_

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "gofer/gofer.pb.h"
#include "sentry/base/errno_or.h"
#include "sentry/base/unique_fd.h"

namespace sentry::gofer {

struct NodeInfo {
  uint64_t handle;
  struct stat st;
  std::optional<struct timespec> btime;  // if the host keeps birth times
};

struct DirEntry {
  std::string name;
  uint64_t ino;
  uint8_t type;  // DT_*
};

class Client {
 public:
  // `socket`: the Sentry's end of the Gofer's SOCK_SEQPACKET socketpair.
  explicit Client(UniqueFd socket);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The served directory itself.
  ErrnoOr<NodeInfo> Attach();
  // One component; "", ".", ".." and names with '/' are refused. A symlink
  // is returned as itself: read it with ReadLink and resolve it here.
  ErrnoOr<NodeInfo> Walk(uint64_t dir, std::string_view name);
  ErrnoOr<struct stat> Stat(uint64_t handle);
  // A host FD for reading/writing the node directly. `flags`: O_RDONLY/
  // O_WRONLY/O_RDWR, O_TRUNC, O_APPEND, O_NONBLOCK. Regular files only:
  // directories are EISDIR (list them with ReadDir; a donated directory FD
  // could reach above the root), symlinks ELOOP, anything else ENXIO.
  ErrnoOr<UniqueFd> Open(uint64_t handle, int flags);
  // Every entry but "." and "..", in host order (as many round trips as the
  // directory needs pages).
  ErrnoOr<std::vector<DirEntry>> ReadDir(uint64_t dir);
  ErrnoOr<std::string> ReadLink(uint64_t handle);
  // A new regular file (O_EXCL); `flags` as Open minus O_DIRECTORY. Returns
  // its handle and an FD opened with `flags`.
  ErrnoOr<std::pair<NodeInfo, UniqueFd>> Create(uint64_t dir,
                                                std::string_view name,
                                                int flags, mode_t mode,
                                                uid_t uid, gid_t gid);
  ErrnoOr<NodeInfo> Mkdir(uint64_t dir, std::string_view name, mode_t mode,
                          uid_t uid, gid_t gid);
  ErrnoOr<NodeInfo> Symlink(uint64_t dir, std::string_view name,
                            std::string_view target, uid_t uid, gid_t gid);
  // A hard link to `target` (not a directory) as dir/name.
  ErrnoOr<void> Link(uint64_t target, uint64_t dir, std::string_view name);
  ErrnoOr<void> Unlink(uint64_t dir, std::string_view name, bool remove_dir);
  // `flags`: 0, RENAME_NOREPLACE or RENAME_EXCHANGE.
  ErrnoOr<void> Rename(uint64_t olddir, std::string_view oldname,
                       uint64_t newdir, std::string_view newname,
                       unsigned flags);

  struct SetAttrRequest {
    std::optional<mode_t> mode;
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    std::optional<uint64_t> size;
    // tv_nsec may be UTIME_NOW or UTIME_OMIT.
    std::optional<struct timespec> atime, mtime;
  };
  ErrnoOr<void> SetAttr(uint64_t handle, const SetAttrRequest& req);
  ErrnoOr<struct statfs> StatFs(uint64_t handle);
  // Releases a handle. Not answered by the Gofer, so it costs no round trip.
  void Close(uint64_t handle);
  // An overlay whiteout (char device 0:0) at `name` in `dir`.
  ErrnoOr<NodeInfo> Whiteout(uint64_t dir, std::string_view name);
  // user.* and trusted.overlay.* attributes of files and directories.
  ErrnoOr<std::string> GetXattr(uint64_t handle, std::string_view name);
  ErrnoOr<void> SetXattr(uint64_t handle, std::string_view name,
                         std::string_view value, int flags);
  ErrnoOr<std::vector<std::string>> ListXattr(uint64_t handle);
  ErrnoOr<void> RemoveXattr(uint64_t handle, std::string_view name);

 private:
  struct Answer {
    Response resp;
    UniqueFd fd;
  };
  // Sends `req` (its id is set here) and waits for its answer. Fails with
  // the Gofer's errno, or EIO if the connection is broken.
  ErrnoOr<Answer> Call(Request& req, Response::ResultCase expected,
                       bool expect_fd);
  ErrnoOr<NodeInfo> ToNode(const Answer& a);
  Errno Broken(std::string_view why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  const UniqueFd socket_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sentry::gofer

#endif  // GOFER_CLIENT_H_
