#include "sentry/fs/synthetic.h"

#include <dirent.h>
#include <fcntl.h>

#include <cstring>

#include "sentry/fs/tmpfs.h"
#include "sentry/vfs/file_description.h"

namespace sentry::fs {
namespace {

// The open file of a SynthFile: a snapshot of its text.
class SnapshotFile final : public vfs::FileDescription {
 public:
  SnapshotFile(int flags, std::string text, SynthFile::Writer writer)
      : vfs::FileDescription(flags),
        text_(std::move(text)),
        writer_(std::move(writer)) {}
  bool seekable() const override { return true; }
  ErrnoOr<size_t> PRead(kernel::Task&, std::span<uint8_t> dst,
                        uint64_t offset) override {
    if (offset >= text_.size()) return size_t{0};
    size_t n = std::min<size_t>(dst.size(), text_.size() - offset);
    std::memcpy(dst.data(), text_.data() + offset, n);
    return n;
  }
  ErrnoOr<size_t> PWrite(kernel::Task& t, std::span<const uint8_t> src,
                         uint64_t) override {
    if (!writer_) return Errno(EIO);
    SENTRY_RETURN_IF_ERRNO(
        writer_(t, std::string_view(reinterpret_cast<const char*>(src.data()),
                                    src.size())));
    return src.size();
  }

 private:
  const std::string text_;
  const SynthFile::Writer writer_;
};

class SynthDirFile final : public vfs::FileDescription {
 public:
  using vfs::FileDescription::FileDescription;
};

}  // namespace

SyntheticFs::SyntheticFs(long magic) : dev_(NewAnonymousDev()), magic_(magic) {}

uint64_t SyntheticFs::InoFor(const std::string& key) {
  absl::MutexLock l(&mu_);
  auto [it, added] = inos_.emplace(key, inos_.size() + 1);
  return it->second;
}

ErrnoOr<struct stat> SynthInode::Stat() {
  struct stat st {};
  st.st_dev = attr_.fs->dev();
  st.st_ino = attr_.fs->InoFor(attr_.key);
  st.st_mode = attr_.mode;
  st.st_nlink = S_ISDIR(attr_.mode) ? 2 : 1;
  st.st_uid = attr_.uid;
  st.st_gid = attr_.gid;
  st.st_size = static_cast<off_t>(size());
  st.st_blksize = 1024;
  st.st_atim = st.st_mtim = st.st_ctim = Now();
  return st;
}

ErrnoOr<struct statfs> SynthInode::StatFs() {
  struct statfs s {};
  s.f_type = attr_.fs->magic();
  s.f_bsize = 4096;
  s.f_namelen = 255;
  return s;
}

SynthDir::SynthDir(SynthAttr attr, Children children, Hidden hidden)
    : SynthInode(std::move(attr)),
      children_(std::move(children)),
      hidden_(std::move(hidden)) {}

ErrnoOr<std::shared_ptr<vfs::FileDescription>> SynthDir::Open(int flags) {
  if ((flags & O_ACCMODE) != O_RDONLY) return Errno(EISDIR);
  return std::shared_ptr<vfs::FileDescription>(
      std::make_shared<SynthDirFile>(flags));
}

ErrnoOr<std::shared_ptr<vfs::Inode>> SynthDir::Lookup(const std::string& name) {
  for (auto& [n, inode] : children_()) {
    if (n == name) return inode;
  }
  if (hidden_) {
    if (std::shared_ptr<vfs::Inode> inode = hidden_(name)) return inode;
  }
  return Errno(ENOENT);
}

ErrnoOr<std::vector<vfs::DirEntry>> SynthDir::ReadDir() {
  std::vector<vfs::DirEntry> out;
  for (auto& [n, inode] : children_()) {
    SENTRY_ASSIGN_OR_RETURN(struct stat st, inode->Stat());
    out.push_back({n, st.st_ino, static_cast<uint8_t>(IFTODT(st.st_mode))});
  }
  return out;
}

SynthFile::SynthFile(SynthAttr attr, Generate generate, Writer writer)
    : SynthInode(std::move(attr)),
      generate_(std::move(generate)),
      writer_(std::move(writer)) {}

ErrnoOr<std::shared_ptr<vfs::FileDescription>> SynthFile::Open(int flags) {
  // Files without a writer still open for writing when the permission
  // check allowed it (root); the write itself fails with EIO, as Linux's
  // procfs does.
  std::string text;
  if ((flags & O_ACCMODE) != O_WRONLY) {
    SENTRY_ASSIGN_OR_RETURN(text, generate_());
  }
  return std::shared_ptr<vfs::FileDescription>(
      std::make_shared<SnapshotFile>(flags, std::move(text), writer_));
}

SynthSymlink::SynthSymlink(SynthAttr attr, Target target, Magic magic)
    : SynthInode(std::move(attr)),
      target_(std::move(target)),
      magic_(std::move(magic)) {}

std::optional<ErrnoOr<vfs::Path>> SynthSymlink::MagicLinkTarget() {
  if (!magic_) return std::nullopt;
  return magic_();
}

std::shared_ptr<SynthFile> MakeFile(const std::shared_ptr<SyntheticFs>& fs,
                                    const std::string& key,
                                    SynthFile::Generate gen, mode_t perm) {
  return std::make_shared<SynthFile>(SynthAttr{fs, key, S_IFREG | perm, 0, 0},
                                     std::move(gen));
}

std::shared_ptr<SynthDir> MakeDir(
    const std::shared_ptr<SyntheticFs>& fs, const std::string& key,
    std::vector<std::pair<std::string, std::shared_ptr<vfs::Inode>>> fixed) {
  return std::make_shared<SynthDir>(
      SynthAttr{fs, key, S_IFDIR | 0555, 0, 0},
      [fixed = std::move(fixed)] { return fixed; });
}

}  // namespace sentry::fs
