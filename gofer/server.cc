#include "gofer/server.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gofer/gofer.pb.h"
#include "gofer/wire.h"
#include "sentry/base/errno_or.h"
#include "sentry/base/log.h"

namespace sentry::gofer {
namespace {

// One getdents64 call per ReadDir page. Each dirent64 record is at least as
// big as its protobuf encoding (a 19-byte header plus the name and padding,
// against about 20 bytes of tags and varints plus the name), so a page of
// this many record bytes always fits in kMaxMessageSize.
constexpr size_t kReadDirBufferSize = 32 * 1024;

// Far below any host's FD limit in practice; refusing here gives the Sentry
// a clean ENFILE instead of whatever openat would do.
constexpr size_t kMaxHandles = 1 << 20;

// The only flags Open passes through. O_CREAT/O_EXCL/O_NOFOLLOW/O_PATH/
// O_TMPFILE would change what the reopen means, so they are refused.
constexpr uint32_t kOpenFlags =
    O_ACCMODE | O_TRUNC | O_APPEND | O_DIRECTORY | O_NONBLOCK;
// Create: as Open, minus O_DIRECTORY (it makes regular files only).
constexpr uint32_t kCreateFlags = O_ACCMODE | O_TRUNC | O_APPEND | O_NONBLOCK;

Errno LastErrno() { return Errno(errno != 0 ? errno : EIO); }

// A name the host may look up in a directory we hold: one component that
// cannot leave the directory. "." and ".." are the Sentry's business.
ErrnoOr<void> CheckName(const std::string& name) {
  if (name.empty()) return Errno(ENOENT);
  if (name == "." || name == "..") return Errno(EINVAL);
  if (name.find('/') != std::string::npos) return Errno(EINVAL);
  if (name.find('\0') != std::string::npos) return Errno(EINVAL);
  if (name.size() > NAME_MAX) return Errno(ENAMETOOLONG);
  return {};
}

class Server {
 public:
  Server(int sock, UniqueFd root, UniqueFd proc, bool read_only)
      : sock_(sock),
        root_(std::move(root)),
        proc_(std::move(proc)),
        read_only_(read_only) {}

  absl::Status Run() {
    for (;;) {
      absl::StatusOr<Datagram> d = ReceiveDatagram(sock_);
      if (!d.ok()) return d.status();
      if (d->eof) return absl::OkStatus();
      Response resp;
      UniqueFd donate;
      bool answer = Handle(*d, resp, donate);
      // Unrequested FDs are closed here, with the datagram.
      d->fds.clear();
      if (!answer) continue;
      if (resp.ByteSizeLong() > kMaxMessageSize) {
        // Cannot happen by construction (ReadDir pages, PATH_MAX links);
        // kept so that a bug is an EIO, not a lost answer.
        SENTRY_LOG(kError, "gofer: response to request %d too big", resp.id());
        uint64_t id = resp.id();
        resp.Clear();
        resp.set_id(id);
        resp.set_errno_value(EIO);
        donate.reset();
      }
      absl::Status s = SendMessage(sock_, resp, donate.get());
      // The Sentry may close its end while an answer is on its way.
      if (!s.ok() && IsPeerGone(s)) return absl::OkStatus();
      if (!s.ok()) return s;
    }
  }

 private:
  static bool IsPeerGone(const absl::Status& s) {
    // absl::ErrnoToStatus maps EPIPE/ECONNRESET to these codes.
    return absl::IsUnavailable(s) || absl::IsFailedPrecondition(s);
  }

  // Fills `resp` for one datagram. Returns false when no answer is due
  // (Close).
  bool Handle(const Datagram& d, Response& resp, UniqueFd& donate) {
    Request req;
    bool parsed = !d.truncated && req.ParseFromString(d.bytes);
    if (parsed) resp.set_id(req.id());
    if (!parsed || d.truncated) {
      SENTRY_LOG(kWarning, "gofer: dropping a malformed request (%d bytes%s)",
                 d.bytes.size(), d.truncated ? ", truncated" : "");
      resp.set_errno_value(EINVAL);
      return true;
    }
    if (!d.fds.empty() || d.control_truncated) {
      // Requests never carry FDs; one that does is not what its sender
      // thinks it is.
      SENTRY_LOG(kWarning, "gofer: request %d carried %d FDs; closed", req.id(),
                 d.fds.size());
      resp.set_errno_value(EINVAL);
      return true;
    }
    if (req.op_case() == Request::kClose) {
      handles_.erase(req.close().handle());
      return false;
    }
    ErrnoOr<void> r = Dispatch(req, resp, donate);
    if (!r.ok()) {
      uint64_t id = resp.id();
      resp.Clear();
      resp.set_id(id);
      resp.set_errno_value(r.error().value());
      donate.reset();
    }
    return true;
  }

  ErrnoOr<void> Dispatch(const Request& req, Response& resp, UniqueFd& donate) {
    switch (req.op_case()) {
      case Request::kAttach:
        return Attach(resp);
      case Request::kWalk:
        return Walk(req.walk(), resp);
      case Request::kStat:
        return DoStat(req.stat(), resp);
      case Request::kOpen:
        return Open(req.open(), resp, donate);
      case Request::kReadDir:
        return ReadDir(req.read_dir(), resp);
      case Request::kReadLink:
        return ReadLink(req.read_link(), resp);
      case Request::kCreate:
        return Create(req.create(), resp, donate);
      case Request::kMkdir:
        return Mkdir(req.mkdir(), resp);
      case Request::kSymlink:
        return Symlink(req.symlink(), resp);
      case Request::kLink:
        return Link(req.link(), resp);
      case Request::kUnlink:
        return Unlink(req.unlink(), resp);
      case Request::kRename:
        return Rename(req.rename(), resp);
      case Request::kSetAttr:
        return SetAttr(req.set_attr(), resp);
      case Request::kStatFs:
        return StatFs(req.stat_fs(), resp);
      case Request::kWhiteout:
        return Whiteout(req.whiteout(), resp);
      case Request::kGetXattr:
      case Request::kSetXattr:
      case Request::kListXattr:
      case Request::kRemoveXattr:
        return Xattr(req, resp);
      case Request::kClose:  // answered in Handle
      case Request::OP_NOT_SET:
        break;
    }
    return Errno(EINVAL);
  }

  // --- handles ---

  ErrnoOr<int> Lookup(uint64_t handle) const {
    auto it = handles_.find(handle);
    if (it == handles_.end()) return Errno(EBADF);
    return it->second.get();
  }

  // Takes `opath` (an O_PATH FD inside the tree) as a new handle and
  // describes it in `resp`.
  ErrnoOr<void> AddNode(UniqueFd opath, Response& resp) {
    struct stat st;
    if (fstat(opath.get(), &st) != 0) return LastErrno();
    if (handles_.size() >= kMaxHandles) return Errno(ENFILE);
    uint64_t handle = next_handle_++;
    handles_.emplace(handle, std::move(opath));
    NodeResult* node = resp.mutable_node();
    node->set_handle(handle);
    StatToProto(st, node->mutable_stat());
    struct statx sx;
    if (statx(handles_[handle].get(), "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
              STATX_BTIME, &sx) == 0 &&
        (sx.stx_mask & STATX_BTIME)) {
      node->mutable_stat()->set_has_btime(true);
      node->mutable_stat()->set_btime_sec(sx.stx_btime.tv_sec);
      node->mutable_stat()->set_btime_nsec(sx.stx_btime.tv_nsec);
    }
    return {};
  }

  // Opens the inode behind `fd` anew, through its /proc/self/fd magic link:
  // no path is walked, so nothing renamed or swapped in the tree can
  // redirect it. No O_NOFOLLOW: the magic link itself is a symlink, so
  // O_NOFOLLOW would always be ELOOP; callers check the inode's type first
  // (a symlink's O_PATH FD reopens as ELOOP anyway).
  ErrnoOr<UniqueFd> Reopen(int fd, int flags) const {
    char name[16];
    snprintf(name, sizeof(name), "%d", fd);
    UniqueFd out(openat(proc_.get(), name, flags | O_CLOEXEC | O_NOCTTY));
    if (!out) return LastErrno();
    return out;
  }

  ErrnoOr<void> CheckWritable() const {
    if (read_only_) return Errno(EROFS);
    return {};
  }

  // --- operations ---

  ErrnoOr<void> Attach(Response& resp) {
    UniqueFd fd(openat(root_.get(), ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return LastErrno();
    return AddNode(std::move(fd), resp);
  }

  ErrnoOr<void> Walk(const WalkRequest& r, Response& resp) {
    SENTRY_ASSIGN_OR_RETURN(int dir, Lookup(r.dir()));
    SENTRY_RETURN_IF_ERRNO(CheckName(r.name()));
    UniqueFd fd(openat(dir, r.name().c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return LastErrno();
    return AddNode(std::move(fd), resp);
  }

  ErrnoOr<void> DoStat(const StatRequest& r, Response& resp) {
    SENTRY_ASSIGN_OR_RETURN(int fd, Lookup(r.handle()));
    struct stat st;
    if (fstat(fd, &st) != 0) return LastErrno();
    StatToProto(st, resp.mutable_stat()->mutable_stat());
    return {};
  }

  ErrnoOr<void> Open(const OpenRequest& r, Response& resp, UniqueFd& donate) {
    SENTRY_ASSIGN_OR_RETURN(int fd, Lookup(r.handle()));
    uint32_t flags = r.flags();
    if ((flags & ~kOpenFlags) != 0 || (flags & O_ACCMODE) == O_ACCMODE) {
      return Errno(EINVAL);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) return LastErrno();
    if (S_ISLNK(st.st_mode)) return Errno(ELOOP);
    // Directories are listed with ReadDir, never donated: a directory FD
    // in the Sentry could openat() its way above the root.
    if (S_ISDIR(st.st_mode)) return Errno(EISDIR);
    if (!S_ISREG(st.st_mode)) return Errno(ENXIO);
    bool writes = (flags & O_ACCMODE) != O_RDONLY;
    if ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode)) return Errno(ENOTDIR);
    if (read_only_ && (writes || (flags & O_TRUNC))) return Errno(EROFS);
    SENTRY_ASSIGN_OR_RETURN(donate, Reopen(fd, static_cast<int>(flags)));
    resp.mutable_open();
    return {};
  }

  ErrnoOr<void> ReadDir(const ReadDirRequest& r, Response& resp) {
    SENTRY_ASSIGN_OR_RETURN(int dir, Lookup(r.dir()));
    struct stat st;
    if (fstat(dir, &st) != 0) return LastErrno();
    if (!S_ISDIR(st.st_mode)) return Errno(ENOTDIR);
    // A fresh description per page keeps the server stateless; the offset
    // is the filesystem's own telldir cookie (d_off), valid across opens.
    SENTRY_ASSIGN_OR_RETURN(UniqueFd fd, Reopen(dir, O_RDONLY | O_DIRECTORY));
    if (r.offset() > static_cast<uint64_t>(INT64_MAX)) return Errno(EINVAL);
    if (lseek(fd.get(), static_cast<off_t>(r.offset()), SEEK_SET) < 0) {
      return LastErrno();
    }
    alignas(struct dirent64) char buf[kReadDirBufferSize];
    ssize_t n = getdents64(fd.get(), buf, sizeof(buf));
    if (n < 0) return LastErrno();
    ReadDirResult* out = resp.mutable_read_dir();
    out->set_next_offset(r.offset());
    out->set_eof(n == 0);
    for (ssize_t pos = 0; pos < n;) {
      const auto* e = reinterpret_cast<const struct dirent64*>(buf + pos);
      pos += e->d_reclen;
      out->set_next_offset(static_cast<uint64_t>(e->d_off));
      std::string_view name(e->d_name);
      if (name == "." || name == "..") continue;
      Dirent* entry = out->add_entries();
      entry->set_name(std::string(name));
      entry->set_ino(e->d_ino);
      entry->set_type(e->d_type);
    }
    return {};
  }

  ErrnoOr<void> ReadLink(const ReadLinkRequest& r, Response& resp) {
    SENTRY_ASSIGN_OR_RETURN(int fd, Lookup(r.handle()));
    char buf[PATH_MAX];
    ssize_t n = readlinkat(fd, "", buf, sizeof(buf));
    if (n < 0) return LastErrno();
    resp.mutable_read_link()->set_target(std::string(buf, n));
    return {};
  }

  // Gives a node just made the owner and mode asked for. chown first: it
  // clears set-user/group-ID bits, which the chmod then restores. The chmod
  // also makes the mode exact whatever this process's umask is (the Sentry
  // applies the guest's).
  ErrnoOr<void> SetOwnerAndMode(int opath, uint32_t uid, uint32_t gid,
                                uint32_t mode, bool is_symlink) {
    if (fchownat(opath, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) !=
        0) {
      return LastErrno();
    }
    if (is_symlink) return {};
    char name[16];
    snprintf(name, sizeof(name), "%d", opath);
    if (fchmodat(proc_.get(), name, mode & 07777, 0) != 0) return LastErrno();
    return {};
  }

  ErrnoOr<void> Create(const CreateRequest& r, Response& resp,
                       UniqueFd& donate) {
    SENTRY_ASSIGN_OR_RETURN(int dir, Lookup(r.dir()));
    SENTRY_RETURN_IF_ERRNO(CheckName(r.name()));
    SENTRY_RETURN_IF_ERRNO(CheckWritable());
    if ((r.flags() & ~kCreateFlags) != 0 ||
        (r.flags() & O_ACCMODE) == O_ACCMODE) {
      return Errno(EINVAL);
    }
    int flags = static_cast<int>(r.flags()) | O_CREAT | O_EXCL | O_NOFOLLOW |
                O_CLOEXEC | O_NOCTTY;
    UniqueFd fd(openat(dir, r.name().c_str(), flags, r.mode() & 07777));
    if (!fd) return LastErrno();
    // The handle is the created inode itself, not a second lookup of the
    // name (which someone could have replaced meanwhile).
    ErrnoOr<UniqueFd> opath = Reopen(fd.get(), O_PATH);
    ErrnoOr<void> done =
        opath.ok() ? SetOwnerAndMode(opath->get(), r.uid(), r.gid(), r.mode(),
                                     /*is_symlink=*/false)
                   : ErrnoOr<void>(opath.error());
    if (done.ok()) done = AddNode(std::move(*opath), resp);
    if (!done.ok()) {
      // Leave no half-made file behind for the guest to trip over.
      unlinkat(dir, r.name().c_str(), 0);
      return done.error();
    }
    donate = std::move(fd);
    return {};
  }

  ErrnoOr<void> Mkdir(const MkdirRequest& r, Response& resp) {
    SENTRY_ASSIGN_OR_RETURN(int dir, Lookup(r.dir()));
    SENTRY_RETURN_IF_ERRNO(CheckName(r.name()));
    SENTRY_RETURN_IF_ERRNO(CheckWritable());
    if (mkdirat(dir, r.name().c_str(), 0700) != 0) return LastErrno();
    UniqueFd fd(openat(dir, r.name().c_str(),
                       O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC));
    ErrnoOr<void> done = fd ? SetOwnerAndMode(fd.get(), r.uid(), r.gid(),
                                              r.mode(), /*is_symlink=*/false)
                            : ErrnoOr<void>(LastErrno());
    if (done.ok()) done = AddNode(std::move(fd), resp);
    if (!done.ok()) {
      unlinkat(dir, r.name().c_str(), AT_REMOVEDIR);
      return done.error();
    }
    return {};
  }

  ErrnoOr<void> Symlink(const SymlinkRequest& r, Response& resp) {
    SENTRY_ASSIGN_OR_RETURN(int dir, Lookup(r.dir()));
    SENTRY_RETURN_IF_ERRNO(CheckName(r.name()));
    SENTRY_RETURN_IF_ERRNO(CheckWritable());
    const std::string& target = r.target();
    if (target.empty()) return Errno(ENOENT);
    if (target.find('\0') != std::string::npos) return Errno(EINVAL);
    if (target.size() >= PATH_MAX) return Errno(ENAMETOOLONG);
    if (symlinkat(target.c_str(), dir, r.name().c_str()) != 0) {
      return LastErrno();
    }
    UniqueFd fd(openat(dir, r.name().c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    ErrnoOr<void> done = fd ? SetOwnerAndMode(fd.get(), r.uid(), r.gid(), 0,
                                              /*is_symlink=*/true)
                            : ErrnoOr<void>(LastErrno());
    if (done.ok()) done = AddNode(std::move(fd), resp);
    if (!done.ok()) {
      unlinkat(dir, r.name().c_str(), 0);
      return done.error();
    }
    return {};
  }

  ErrnoOr<void> Whiteout(const WhiteoutRequest& r, Response& resp) {
    SENTRY_ASSIGN_OR_RETURN(int dir, Lookup(r.dir()));
    SENTRY_RETURN_IF_ERRNO(CheckName(r.name()));
    SENTRY_RETURN_IF_ERRNO(CheckWritable());
    if (mknodat(dir, r.name().c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
      return LastErrno();
    }
    UniqueFd fd(openat(dir, r.name().c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    ErrnoOr<void> done = fd ? ErrnoOr<void>() : ErrnoOr<void>(LastErrno());
    if (done.ok()) done = AddNode(std::move(fd), resp);
    if (!done.ok()) unlinkat(dir, r.name().c_str(), 0);
    return done;
  }

  static bool ServedXattr(const std::string& name) {
    return name.rfind("user.", 0) == 0 ||
           name.rfind("trusted.overlay.", 0) == 0;
  }

  // Extended attributes through a real FD (xattr calls do not work on
  // O_PATH FDs), reopened without a path walk like Open.
  ErrnoOr<void> Xattr(const Request& req, Response& resp) {
    uint64_t handle = 0;
    switch (req.op_case()) {
      case Request::kGetXattr:
        handle = req.get_xattr().handle();
        break;
      case Request::kSetXattr:
        handle = req.set_xattr().handle();
        break;
      case Request::kListXattr:
        handle = req.list_xattr().handle();
        break;
      default:
        handle = req.remove_xattr().handle();
        break;
    }
    SENTRY_ASSIGN_OR_RETURN(int node, Lookup(handle));
    struct stat st;
    if (fstat(node, &st) != 0) return LastErrno();
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return Errno(EPERM);
    SENTRY_ASSIGN_OR_RETURN(
        UniqueFd fd,
        Reopen(node, S_ISDIR(st.st_mode) ? O_RDONLY | O_DIRECTORY : O_RDONLY));
    constexpr size_t kMaxValue = 65536;
    switch (req.op_case()) {
      case Request::kGetXattr: {
        const std::string& name = req.get_xattr().name();
        if (!ServedXattr(name)) return Errno(EOPNOTSUPP);
        std::string value(kMaxValue, '\0');
        ssize_t n =
            fgetxattr(fd.get(), name.c_str(), value.data(), value.size());
        if (n < 0) return LastErrno();
        value.resize(static_cast<size_t>(n));
        resp.mutable_xattr()->set_value(std::move(value));
        return {};
      }
      case Request::kSetXattr: {
        const SetXattrRequest& r = req.set_xattr();
        if (!ServedXattr(r.name())) return Errno(EOPNOTSUPP);
        SENTRY_RETURN_IF_ERRNO(CheckWritable());
        if (r.value().size() > kMaxValue) return Errno(E2BIG);
        if (fsetxattr(fd.get(), r.name().c_str(), r.value().data(),
                      r.value().size(), r.flags()) != 0) {
          return LastErrno();
        }
        resp.mutable_empty();
        return {};
      }
      case Request::kListXattr: {
        std::string names(kMaxValue, '\0');
        ssize_t n = flistxattr(fd.get(), names.data(), names.size());
        if (n < 0) return LastErrno();
        XattrResult* out = resp.mutable_xattr();
        for (size_t i = 0; i < static_cast<size_t>(n);) {
          std::string name(names.c_str() + i);
          i += name.size() + 1;
          if (ServedXattr(name)) out->add_names(std::move(name));
        }
        return {};
      }
      default: {
        const std::string& name = req.remove_xattr().name();
        if (!ServedXattr(name)) return Errno(EOPNOTSUPP);
        SENTRY_RETURN_IF_ERRNO(CheckWritable());
        if (fremovexattr(fd.get(), name.c_str()) != 0) return LastErrno();
        resp.mutable_empty();
        return {};
      }
    }
  }

  ErrnoOr<void> Link(const LinkRequest& r, Response& resp) {
    SENTRY_ASSIGN_OR_RETURN(int target, Lookup(r.target()));
    SENTRY_ASSIGN_OR_RETURN(int dir, Lookup(r.dir()));
    SENTRY_RETURN_IF_ERRNO(CheckName(r.name()));
    SENTRY_RETURN_IF_ERRNO(CheckWritable());
    struct stat st;
    if (fstat(target, &st) != 0) return LastErrno();
    if (S_ISDIR(st.st_mode)) return Errno(EPERM);
    int rc;
    if (S_ISLNK(st.st_mode)) {
      // Through /proc, AT_SYMLINK_FOLLOW could go on to the link's target;
      // AT_EMPTY_PATH links the symlink itself but needs
      // CAP_DAC_READ_SEARCH (ENOENT without it).
      rc = linkat(target, "", dir, r.name().c_str(), AT_EMPTY_PATH);
    } else {
      // The magic link names the inode, whatever path it has now.
      char name[16];
      snprintf(name, sizeof(name), "%d", target);
      rc = linkat(proc_.get(), name, dir, r.name().c_str(), AT_SYMLINK_FOLLOW);
    }
    if (rc != 0) return LastErrno();
    resp.mutable_empty();
    return {};
  }

  ErrnoOr<void> Unlink(const UnlinkRequest& r, Response& resp) {
    SENTRY_ASSIGN_OR_RETURN(int dir, Lookup(r.dir()));
    SENTRY_RETURN_IF_ERRNO(CheckName(r.name()));
    SENTRY_RETURN_IF_ERRNO(CheckWritable());
    if (unlinkat(dir, r.name().c_str(), r.remove_dir() ? AT_REMOVEDIR : 0) !=
        0) {
      return LastErrno();
    }
    resp.mutable_empty();
    return {};
  }

  ErrnoOr<void> Rename(const RenameRequest& r, Response& resp) {
    SENTRY_ASSIGN_OR_RETURN(int old_dir, Lookup(r.old_dir()));
    SENTRY_ASSIGN_OR_RETURN(int new_dir, Lookup(r.new_dir()));
    SENTRY_RETURN_IF_ERRNO(CheckName(r.old_name()));
    SENTRY_RETURN_IF_ERRNO(CheckName(r.new_name()));
    SENTRY_RETURN_IF_ERRNO(CheckWritable());
    // RENAME_WHITEOUT makes a device node; overlay whiteouts are the
    // Sentry's, in its own upper layer.
    if ((r.flags() & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) != 0) {
      return Errno(EINVAL);
    }
    if (renameat2(old_dir, r.old_name().c_str(), new_dir, r.new_name().c_str(),
                  r.flags()) != 0) {
      return LastErrno();
    }
    resp.mutable_empty();
    return {};
  }

  ErrnoOr<void> SetAttr(const SetAttrRequest& r, Response& resp) {
    SENTRY_ASSIGN_OR_RETURN(int fd, Lookup(r.handle()));
    SENTRY_RETURN_IF_ERRNO(CheckWritable());
    struct stat st;
    if (fstat(fd, &st) != 0) return LastErrno();
    char name[16];
    snprintf(name, sizeof(name), "%d", fd);
    // Linux's order in notify_change: owner (which may clear set-ID bits),
    // then mode, so an explicit mode wins; then size; then times, so an
    // explicit mtime survives the truncate.
    if (r.has_uid() || r.has_gid()) {
      uid_t uid = r.has_uid() ? r.uid() : static_cast<uid_t>(-1);
      gid_t gid = r.has_gid() ? r.gid() : static_cast<gid_t>(-1);
      if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) !=
          0) {
        return LastErrno();
      }
    }
    if (r.has_mode()) {
      // As fchmodat(AT_SYMLINK_NOFOLLOW) on Linux: symlinks have no mode.
      if (S_ISLNK(st.st_mode)) return Errno(EOPNOTSUPP);
      if (fchmodat(proc_.get(), name, r.mode() & 07777, 0) != 0) {
        return LastErrno();
      }
    }
    if (r.has_size()) {
      if (S_ISDIR(st.st_mode)) return Errno(EISDIR);
      if (!S_ISREG(st.st_mode)) return Errno(EINVAL);
      if (r.size() > static_cast<uint64_t>(INT64_MAX)) return Errno(EINVAL);
      SENTRY_ASSIGN_OR_RETURN(UniqueFd w, Reopen(fd, O_WRONLY));
      if (ftruncate(w.get(), static_cast<off_t>(r.size())) != 0) {
        return LastErrno();
      }
    }
    if (r.has_atime() || r.has_mtime()) {
      struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
      if (r.has_atime()) ts[0] = {r.atime().sec(), r.atime().nsec()};
      if (r.has_mtime()) ts[1] = {r.mtime().sec(), r.mtime().nsec()};
      if (utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
        return LastErrno();
      }
    }
    resp.mutable_empty();
    return {};
  }

  ErrnoOr<void> StatFs(const StatFsRequest& r, Response& resp) {
    SENTRY_ASSIGN_OR_RETURN(int fd, Lookup(r.handle()));
    struct statfs st;
    if (fstatfs(fd, &st) != 0) return LastErrno();
    StatFsToProto(st, resp.mutable_stat_fs());
    return {};
  }

  const int sock_;
  const UniqueFd root_;
  const UniqueFd proc_;
  const bool read_only_;
  // Handle -> O_PATH|O_NOFOLLOW FD inside the tree. 0 is never a handle.
  absl::flat_hash_map<uint64_t, UniqueFd> handles_;
  uint64_t next_handle_ = 1;
};

}  // namespace

absl::Status Serve(UniqueFd socket, UniqueFd root, UniqueFd proc_self_fd,
                   const ServeOptions& options) {
  UniqueFd root_path(openat(root.get(), ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_path) return absl::ErrnoToStatus(errno, "opening the gofer root");
  root.reset();
  if (!proc_self_fd) {
    proc_self_fd.reset(open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!proc_self_fd) {
      return absl::ErrnoToStatus(errno, "opening /proc/self/fd");
    }
  }
  Server server(socket.get(), std::move(root_path), std::move(proc_self_fd),
                options.read_only);
  return server.Run();
}

}  // namespace sentry::gofer
