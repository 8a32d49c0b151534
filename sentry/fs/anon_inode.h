// Inodes for files that have no name in any directory: pipes and the
// "anonymous inode" files (eventfd, timerfd, signalfd, epoll).
//
// As in Linux, each pipe gets its own S_IFIFO inode on an internal "pipefs"
// (fstat shows a FIFO, /proc/[pid]/fd shows "pipe:[ino]"), and the other
// kinds share one inode per kind with mode 0600 and no file type bits, as
// Linux's anon_inodefs does (/proc shows "anon_inode:[eventfd]"). Linux
// shares a single inode between all kinds; we keep one per kind so the
// name can live on the inode. Nothing observable depends on the
// difference except st_ino.
//
// Lock order: AnonInode has no lock (its fields are immutable).
#ifndef SENTRY_FS_ANON_INODE_H_
#define SENTRY_FS_ANON_INODE_H_

#include <sys/stat.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "sentry/vfs/inode.h"

namespace sentry::fs {

class AnonInode : public vfs::Inode {
 public:
  // `kind`: "pipe" for pipes (name "pipe:[ino]"), else the bracketed
  // anon_inode name such as "[eventfd]".
  AnonInode(mode_t mode, uid_t uid, gid_t gid, std::string kind);

  ErrnoOr<struct stat> Stat() override;
  ErrnoOr<struct statfs> StatFs() override;
  // Nothing can open an anonymous inode by name; /proc/[pid]/fd re-opens
  // go through the file, not here.
  ErrnoOr<std::shared_ptr<vfs::FileDescription>> Open(int) override {
    return Errno(ENXIO);
  }

  // What readlink of /proc/[pid]/fd/N shows.
  std::string Name() const;
  uint64_t ino() const { return ino_; }

 private:
  const mode_t mode_;
  const uid_t uid_;
  const gid_t gid_;
  const std::string kind_;
  const uint64_t ino_;
  const struct timespec created_;
};

// A new pipe inode (S_IFIFO | 0600) owned by `uid`/`gid`.
std::shared_ptr<AnonInode> NewPipeInode(uid_t uid, gid_t gid);
// A new sockfs inode (S_IFSOCK | 0777), one per socket as in Linux; /proc
// shows "socket:[ino]".
std::shared_ptr<AnonInode> NewSocketInode(uid_t uid, gid_t gid);
// The shared inode of an anon_inode kind ("[eventfd]", "[timerfd]",
// "[signalfd]", "[eventpoll]").
std::shared_ptr<AnonInode> AnonInodeOf(const std::string& kind);

// Implemented by files whose readiness changes with time rather than
// through a wait queue notification (timerfd): poll and epoll shorten
// their wait to the returned time, when the file may become ready.
class TimedReadiness {
 public:
  virtual ~TimedReadiness() = default;
  virtual std::optional<absl::Time> NextReadinessChange() = 0;
};

}  // namespace sentry::fs

#endif  // SENTRY_FS_ANON_INODE_H_
