// Building blocks for file systems whose contents the Sentry generates
// (procfs, sysfs): read-only directories, files whose text is produced when
// they are opened, and symlinks (including procfs "magic links").
//
// A file's text is generated once per open (as Linux's seq_file does on the
// first read) and served from that snapshot, so a reader sees one
// consistent version even across several reads.
//
// Lock order: SyntheticFs::mu_ is a leaf.
#ifndef SENTRY_FS_SYNTHETIC_H_
#define SENTRY_FS_SYNTHETIC_H_

#include <sys/stat.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/vfs/dentry.h"

namespace sentry::kernel {
class Task;
}  // namespace sentry::kernel
#include "sentry/vfs/inode.h"

namespace sentry::fs {

// One instance of a synthetic file system: its device number, magic, and
// stable inode numbers (the same key always gets the same number, so a
// regenerated /proc/1/status keeps its st_ino).
class SyntheticFs {
 public:
  explicit SyntheticFs(long magic);
  dev_t dev() const { return dev_; }
  long magic() const { return magic_; }
  uint64_t InoFor(const std::string& key) ABSL_LOCKS_EXCLUDED(mu_);
  // The mount these inodes live on (for magic links that re-open files);
  // set once the Mount exists.
  void set_mount(std::weak_ptr<vfs::Mount> m) { mount_ = std::move(m); }
  std::shared_ptr<vfs::Mount> mount() const { return mount_.lock(); }

 private:
  const dev_t dev_;
  const long magic_;
  absl::Mutex mu_;
  std::map<std::string, uint64_t> inos_ ABSL_GUARDED_BY(mu_);
  std::weak_ptr<vfs::Mount> mount_;
};

struct SynthAttr {
  std::shared_ptr<SyntheticFs> fs;
  std::string key;  // stable identity for InoFor
  mode_t mode = 0;  // with the file type
  uid_t uid = 0;
  gid_t gid = 0;
};

class SynthInode : public vfs::Inode {
 public:
  explicit SynthInode(SynthAttr attr) : attr_(std::move(attr)) {}
  ErrnoOr<struct stat> Stat() override;
  ErrnoOr<struct statfs> StatFs() override;
  const SynthAttr& attr() const { return attr_; }

 protected:
  virtual uint64_t size() { return 0; }
  SynthAttr attr_;
};

// A directory whose children come from a function called on each lookup
// and listing (so /proc follows the task list).
class SynthDir : public SynthInode {
 public:
  using Children = std::function<
      std::vector<std::pair<std::string, std::shared_ptr<vfs::Inode>>>()>;
  // Names Lookup finds that ReadDir does not list (/proc/[tid] of a
  // thread); null: none.
  using Hidden =
      std::function<std::shared_ptr<vfs::Inode>(const std::string& name)>;
  SynthDir(SynthAttr attr, Children children, Hidden hidden = nullptr);
  // Children come and go with tasks and FDs: never cached by name.
  bool CacheableChildren() const override { return false; }
  ErrnoOr<std::shared_ptr<vfs::FileDescription>> Open(int flags) override;
  ErrnoOr<std::shared_ptr<vfs::Inode>> Lookup(const std::string& name) override;
  ErrnoOr<std::vector<vfs::DirEntry>> ReadDir() override;

 private:
  Children children_;
  Hidden hidden_;
};

// A read-only file whose text `generate` makes at open.
class SynthFile : public SynthInode {
 public:
  using Generate = std::function<ErrnoOr<std::string>()>;
  // Takes what a task writes (a whole write(2) at a time); null: the file
  // is read-only and opening it for writing is EACCES.
  using Writer =
      std::function<ErrnoOr<void>(kernel::Task& writer, std::string_view)>;
  SynthFile(SynthAttr attr, Generate generate, Writer writer = nullptr);
  ErrnoOr<std::shared_ptr<vfs::FileDescription>> Open(int flags) override;

 private:
  Generate generate_;
  Writer writer_;
};

// A symlink whose target is computed on each readlink (/proc/self).
// With `magic`, following it jumps to the returned Path instead
// (/proc/[pid]/fd/N, exe, cwd, root), as Linux's nd_jump_link.
class SynthSymlink : public SynthInode {
 public:
  using Target = std::function<ErrnoOr<std::string>()>;
  using Magic = std::function<ErrnoOr<vfs::Path>()>;
  SynthSymlink(SynthAttr attr, Target target, Magic magic = nullptr);
  ErrnoOr<std::shared_ptr<vfs::FileDescription>> Open(int) override {
    return Errno(ELOOP);
  }
  ErrnoOr<std::string> ReadLink() override { return target_(); }
  std::optional<ErrnoOr<vfs::Path>> MagicLinkTarget() override;

 private:
  Target target_;
  Magic magic_;
};

// Helpers for building trees.
std::shared_ptr<SynthFile> MakeFile(const std::shared_ptr<SyntheticFs>& fs,
                                    const std::string& key,
                                    SynthFile::Generate gen,
                                    mode_t perm = 0444);
std::shared_ptr<SynthDir> MakeDir(
    const std::shared_ptr<SyntheticFs>& fs, const std::string& key,
    std::vector<std::pair<std::string, std::shared_ptr<vfs::Inode>>> fixed);

}  // namespace sentry::fs

#endif  // SENTRY_FS_SYNTHETIC_H_
