#include "sentry/fs/anon_inode.h"

#include <linux/magic.h>
#include <time.h>

#include <atomic>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "sentry/fs/tmpfs.h"

namespace sentry::fs {
namespace {

// pipefs and anon_inodefs: one device number each, inode numbers from one
// counter (Linux's get_next_ino).
dev_t PipeDev() {
  static const dev_t dev = NewAnonymousDev();
  return dev;
}
dev_t AnonDev() {
  static const dev_t dev = NewAnonymousDev();
  return dev;
}
uint64_t NextIno() {
  static std::atomic<uint64_t> next{1000};
  return next++;
}

}  // namespace

AnonInode::AnonInode(mode_t mode, uid_t uid, gid_t gid, std::string kind)
    : mode_(mode),
      uid_(uid),
      gid_(gid),
      kind_(std::move(kind)),
      ino_(NextIno()),
      created_(Now()) {}

ErrnoOr<struct stat> AnonInode::Stat() {
  struct stat st {};
  st.st_dev = kind_ == "pipe" ? PipeDev() : AnonDev();
  st.st_ino = ino_;
  st.st_mode = mode_;
  st.st_nlink = 1;
  st.st_uid = uid_;
  st.st_gid = gid_;
  st.st_blksize = 4096;
  st.st_atim = st.st_mtim = st.st_ctim = created_;
  return st;
}

ErrnoOr<struct statfs> AnonInode::StatFs() {
  struct statfs s {};
  s.f_type = kind_ == "pipe"     ? PIPEFS_MAGIC
             : kind_ == "socket" ? SOCKFS_MAGIC
                                 : ANON_INODE_FS_MAGIC;
  s.f_bsize = 4096;
  s.f_namelen = 255;
  return s;
}

std::string AnonInode::Name() const {
  if (kind_ == "pipe") return absl::StrCat("pipe:[", ino_, "]");
  if (kind_ == "socket") return absl::StrCat("socket:[", ino_, "]");
  return "anon_inode:" + kind_;
}

std::shared_ptr<AnonInode> NewPipeInode(uid_t uid, gid_t gid) {
  return std::make_shared<AnonInode>(S_IFIFO | 0600, uid, gid, "pipe");
}

std::shared_ptr<AnonInode> NewSocketInode(uid_t uid, gid_t gid) {
  return std::make_shared<AnonInode>(S_IFSOCK | 0777, uid, gid, "socket");
}

std::shared_ptr<AnonInode> AnonInodeOf(const std::string& kind) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* inodes = new std::map<std::string, std::shared_ptr<AnonInode>>;
  absl::MutexLock l(&mu);
  auto& slot = (*inodes)[kind];
  // Owned by root with no type bits, as Linux's anon_inode.
  if (!slot) slot = std::make_shared<AnonInode>(0600, 0, 0, kind);
  return slot;
}

}  // namespace sentry::fs
