// tmpfs: a file system that lives entirely in sandbox memory. File data is
// kept in MemoryFile pages (so it counts against the sandbox's memory, not
// the Sentry's heap) and is limited by the mount's size: writes past the
// limit fail with ENOSPC, as on Linux's tmpfs.
//
// tmpfs is also the overlay's default upper layer and the backing of
// memfd_create, /dev/shm and /tmp.
//
// Lock order: Tmpfs::mu_ (one lock per file system, like a superblock
// lock) before MemoryFile::mu_.
#ifndef SENTRY_FS_TMPFS_H_
#define SENTRY_FS_TMPFS_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "sentry/mm/memory_file.h"
#include "sentry/vfs/inode.h"

namespace sentry::fs {

struct TmpfsOptions {
  uint64_t size_limit = 0;  // bytes; 0 means no limit beyond memory
  mode_t root_mode = 01777;
  uid_t root_uid = 0;
  gid_t root_gid = 0;
};

class Tmpfs : public std::enable_shared_from_this<Tmpfs> {
 public:
  static std::shared_ptr<Tmpfs> Create(mm::MemoryFile& memory,
                                       TmpfsOptions options);
  ~Tmpfs();

  // The root directory. Inodes hold their file system, not the other way
  // round, so call this once and keep the result (in a Mount).
  std::shared_ptr<vfs::Inode> MakeRoot();
  // A regular file with no name (memfd_create). `seals`: the initial
  // F_SEAL_* set; F_SEAL_SEAL (the default, as for every tmpfs file) means
  // no seals can be added, 0 is memfd_create's MFD_ALLOW_SEALING.
  std::shared_ptr<vfs::Inode> NewAnonymousFile(mode_t mode, uid_t uid,
                                               gid_t gid,
                                               uint32_t seals = F_SEAL_SEAL);

  // Implementation details shared with the inodes in tmpfs.cc.
  mm::MemoryFile& memory() { return memory_; }
  absl::Mutex& mu() { return mu_; }
  dev_t dev() const { return dev_; }
  uint64_t NextIno() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return next_ino_++; }
  // Reserves/returns pages against the size limit.
  bool ChargePages(uint64_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UnchargePages(uint64_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  struct statfs StatFs() ABSL_LOCKS_EXCLUDED(mu_);
  std::shared_ptr<vfs::Inode> MakeInode(const vfs::NewNode& n,
                                        const std::string& symlink_target)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

 private:
  Tmpfs(mm::MemoryFile& memory, TmpfsOptions options);

  mm::MemoryFile& memory_;
  const TmpfsOptions options_;
  const dev_t dev_;
  absl::Mutex mu_;
  uint64_t next_ino_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t pages_used_ ABSL_GUARDED_BY(mu_) = 0;
};

// A fresh anonymous device number for a new file system instance (0:N, as
// Linux's get_anon_bdev).
dev_t NewAnonymousDev();

// Current CLOCK_REALTIME.
struct timespec Now();

}  // namespace sentry::fs

#endif  // SENTRY_FS_TMPFS_H_
