#include "sentry/fs/devices.h"

#include <linux/random.h>
#include <sys/random.h>
#include <sys/sysmacros.h>

#include <cstring>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "sentry/fs/tmpfs.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/special.h"

namespace sentry::fs {
namespace {

enum class Kind { kNull, kZero, kFull, kRandom };

// The memory devices: every offset reads the same, so they are seekable
// and pread/pwrite work, as on Linux.
class MemDevice final : public vfs::FileDescription {
 public:
  MemDevice(int flags, Kind kind) : vfs::FileDescription(flags), kind_(kind) {}
  bool seekable() const override { return true; }

  ErrnoOr<size_t> PRead(kernel::Task&, std::span<uint8_t> dst,
                        uint64_t) override {
    switch (kind_) {
      case Kind::kNull:
        return size_t{0};
      case Kind::kZero:
      case Kind::kFull:
        std::memset(dst.data(), 0, dst.size());
        return dst.size();
      case Kind::kRandom: {
        // The Sentry's own entropy: urandom never blocks once the host
        // pool is up, which it is by the time a sandbox runs.
        size_t done = 0;
        while (done < dst.size()) {
          ssize_t n = getrandom(dst.data() + done, dst.size() - done, 0);
          if (n <= 0) return done > 0 ? ErrnoOr<size_t>(done) : Errno(EIO);
          done += static_cast<size_t>(n);
        }
        return done;
      }
    }
    return Errno(EINVAL);
  }

  ErrnoOr<size_t> PWrite(kernel::Task&, std::span<const uint8_t> src,
                         uint64_t) override {
    // Writes to random/urandom would mix into the pool on Linux; we accept
    // and drop them (the Sentry's pool is the host's).
    if (kind_ == Kind::kFull) return Errno(ENOSPC);
    return src.size();
  }

  ErrnoOr<uint64_t> Ioctl(kernel::Task& t, uint32_t request,
                          uint64_t arg) override {
    if (kind_ != Kind::kRandom) return Errno(ENOTTY);
    switch (request) {
      case RNDGETENTCNT: {
        // The host's pool is initialised and full as far as the guest can
        // tell (Linux 5.18+ reports 256 bits once ready).
        int bits = 256;
        if (!t.mm().CopyOut(arg, &bits, sizeof(bits)).ok())
          return Errno(EFAULT);
        return uint64_t{0};
      }
      case RNDADDTOENTCNT:
      case RNDADDENTROPY:
      case RNDZAPENTCNT:
      case RNDCLEARPOOL:
      case RNDRESEEDCRNG:
        // Changing the pool needs CAP_SYS_ADMIN on the host's pool, which
        // the sandbox does not touch.
        return Errno(EPERM);
      default:
        return Errno(ENOTTY);
    }
  }

  ErrnoOr<uint64_t> Seek(int64_t, int) override {
    // Linux's null_lseek/zero_lseek: always 0, for any whence.
    set_offset(0);
    return uint64_t{0};
  }

 private:
  const Kind kind_;
};

vfs::DeviceOpener Opener(Kind kind) {
  return [kind](int flags) -> ErrnoOr<std::shared_ptr<vfs::FileDescription>> {
    return std::shared_ptr<vfs::FileDescription>(
        std::make_shared<MemDevice>(flags, kind));
  };
}

}  // namespace

void RegisterDevices() {
  static std::once_flag once;
  std::call_once(once, [] {
    vfs::RegisterCharDevice(makedev(1, 3), Opener(Kind::kNull));
    vfs::RegisterCharDevice(makedev(1, 5), Opener(Kind::kZero));
    vfs::RegisterCharDevice(makedev(1, 7), Opener(Kind::kFull));
    vfs::RegisterCharDevice(makedev(1, 8), Opener(Kind::kRandom));
    vfs::RegisterCharDevice(makedev(1, 9), Opener(Kind::kRandom));
    // No controlling terminal: what Linux answers a process without one.
    vfs::RegisterCharDevice(
        makedev(5, 0),
        [](int) -> ErrnoOr<std::shared_ptr<vfs::FileDescription>> {
          return Errno(ENXIO);
        });
  });
}

absl::StatusOr<std::shared_ptr<vfs::Mount>> MakeDevfs(mm::MemoryFile& memory) {
  RegisterDevices();
  TmpfsOptions opts;
  opts.root_mode = 0755;
  std::shared_ptr<Tmpfs> fs = Tmpfs::Create(memory, opts);
  std::shared_ptr<vfs::Inode> root = fs->MakeRoot();
  auto check = [](const auto& r, const char* what) -> absl::Status {
    if (r.ok()) return absl::OkStatus();
    return absl::InternalError(
        absl::StrCat("devfs: ", what, ": errno ", r.error().value()));
  };
  struct Node {
    const char* name;
    unsigned major, minor;
  };
  for (const Node& n :
       {Node{"null", 1, 3}, Node{"zero", 1, 5}, Node{"full", 1, 7},
        Node{"random", 1, 8}, Node{"urandom", 1, 9}, Node{"tty", 5, 0}}) {
    vfs::NewNode nn{S_IFCHR | 0666, 0, 0, makedev(n.major, n.minor)};
    if (auto s = check(root->Mknod(n.name, nn), n.name); !s.ok()) return s;
  }
  if (auto s = check(root->Mkdir("shm", {S_IFDIR | 01777, 0, 0, 0}), "shm");
      !s.ok()) {
    return s;
  }
  if (auto s = check(root->Mkdir("pts", {S_IFDIR | 0755, 0, 0, 0}), "pts");
      !s.ok()) {
    return s;
  }
  struct Link {
    const char* name;
    const char* target;
  };
  for (const Link& l :
       {Link{"fd", "/proc/self/fd"}, Link{"stdin", "/proc/self/fd/0"},
        Link{"stdout", "/proc/self/fd/1"}, Link{"stderr", "/proc/self/fd/2"},
        Link{"ptmx", "pts/ptmx"}}) {
    auto r = root->Symlink(l.name, l.target, {S_IFLNK | 0777, 0, 0, 0});
    if (auto s = check(r, l.name); !s.ok()) return s;
  }
  return std::make_shared<vfs::Mount>("tmpfs", "none",
                                      std::make_shared<vfs::Dentry>(root),
                                      vfs::MountFlags{}, "mode=755");
}

}  // namespace sentry::fs
