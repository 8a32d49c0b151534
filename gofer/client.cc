#include "gofer/client.h"

#include <fcntl.h>

#include <cerrno>

#include "gofer/wire.h"
#include "sentry/base/log.h"

namespace sentry::gofer {
namespace {

// A ReadDir that has not reached its end after this many pages is a Gofer
// going round in circles (a directory of a million long names takes ~2000).
constexpr int kMaxReadDirPages = 1 << 20;

}  // namespace

Client::Client(UniqueFd socket) : socket_(std::move(socket)) {}

Errno Client::Broken(std::string_view why) {
  if (!broken_) {
    SENTRY_LOG(kError, "gofer connection lost: %s", why);
    broken_ = true;
  }
  return Errno(EIO);
}

ErrnoOr<Client::Answer> Client::Call(Request& req,
                                     Response::ResultCase expected,
                                     bool expect_fd) {
  absl::MutexLock lock(&mu_);
  if (broken_) return Errno(EIO);
  req.set_id(next_id_++);
  absl::Status s = SendMessage(socket_.get(), req);
  if (!s.ok()) return Broken(s.ToString());
  absl::StatusOr<Datagram> d = ReceiveDatagram(socket_.get());
  if (!d.ok()) return Broken(d.status().ToString());
  if (d->eof) return Broken("the gofer closed the connection");
  Answer a;
  if (d->truncated || !a.resp.ParseFromString(d->bytes)) {
    return Broken("unparseable response");
  }
  if (a.resp.id() != req.id()) return Broken("response to the wrong request");
  if (a.resp.errno_value() != 0) {
    if (a.resp.errno_value() < 0 || !d->fds.empty()) {
      return Broken("malformed error response");
    }
    return Errno(a.resp.errno_value());
  }
  if (a.resp.result_case() != expected ||
      d->fds.size() != (expect_fd ? 1u : 0u) || d->control_truncated) {
    return Broken("response of the wrong shape");
  }
  if (expect_fd) a.fd = std::move(d->fds[0]);
  return a;
}

ErrnoOr<NodeInfo> Client::ToNode(const Answer& a) {
  const NodeResult& n = a.resp.node();
  if (n.handle() == 0) {
    absl::MutexLock lock(&mu_);
    return Broken("handle 0");
  }
  NodeInfo info{n.handle(), StatFromProto(n.stat()), std::nullopt};
  if (n.stat().has_btime()) {
    info.btime = timespec{n.stat().btime_sec(), n.stat().btime_nsec()};
  }
  return info;
}

ErrnoOr<NodeInfo> Client::Attach() {
  Request req;
  req.mutable_attach();
  SENTRY_ASSIGN_OR_RETURN(Answer a, Call(req, Response::kNode, false));
  return ToNode(a);
}

ErrnoOr<NodeInfo> Client::Walk(uint64_t dir, std::string_view name) {
  Request req;
  WalkRequest* w = req.mutable_walk();
  w->set_dir(dir);
  w->set_name(std::string(name));
  SENTRY_ASSIGN_OR_RETURN(Answer a, Call(req, Response::kNode, false));
  return ToNode(a);
}

ErrnoOr<struct stat> Client::Stat(uint64_t handle) {
  Request req;
  req.mutable_stat()->set_handle(handle);
  SENTRY_ASSIGN_OR_RETURN(Answer a, Call(req, Response::kStat, false));
  return StatFromProto(a.resp.stat().stat());
}

ErrnoOr<UniqueFd> Client::Open(uint64_t handle, int flags) {
  Request req;
  OpenRequest* o = req.mutable_open();
  o->set_handle(handle);
  o->set_flags(static_cast<uint32_t>(flags));
  SENTRY_ASSIGN_OR_RETURN(Answer a, Call(req, Response::kOpen, true));
  return std::move(a.fd);
}

ErrnoOr<std::vector<DirEntry>> Client::ReadDir(uint64_t dir) {
  std::vector<DirEntry> out;
  uint64_t offset = 0;
  for (int page = 0; page < kMaxReadDirPages; ++page) {
    Request req;
    ReadDirRequest* r = req.mutable_read_dir();
    r->set_dir(dir);
    r->set_offset(offset);
    SENTRY_ASSIGN_OR_RETURN(Answer a, Call(req, Response::kReadDir, false));
    const ReadDirResult& res = a.resp.read_dir();
    for (const Dirent& e : res.entries()) {
      out.push_back({e.name(), e.ino(), static_cast<uint8_t>(e.type())});
    }
    if (res.eof()) return out;
    offset = res.next_offset();
  }
  absl::MutexLock lock(&mu_);
  return Broken("ReadDir never reached the end of the directory");
}

ErrnoOr<std::string> Client::ReadLink(uint64_t handle) {
  Request req;
  req.mutable_read_link()->set_handle(handle);
  SENTRY_ASSIGN_OR_RETURN(Answer a, Call(req, Response::kReadLink, false));
  return std::move(*a.resp.mutable_read_link()->mutable_target());
}

ErrnoOr<std::pair<NodeInfo, UniqueFd>> Client::Create(uint64_t dir,
                                                      std::string_view name,
                                                      int flags, mode_t mode,
                                                      uid_t uid, gid_t gid) {
  Request req;
  CreateRequest* c = req.mutable_create();
  c->set_dir(dir);
  c->set_name(std::string(name));
  c->set_flags(static_cast<uint32_t>(flags));
  c->set_mode(mode);
  c->set_uid(uid);
  c->set_gid(gid);
  SENTRY_ASSIGN_OR_RETURN(Answer a, Call(req, Response::kNode, true));
  SENTRY_ASSIGN_OR_RETURN(NodeInfo node, ToNode(a));
  return std::make_pair(node, std::move(a.fd));
}

ErrnoOr<NodeInfo> Client::Mkdir(uint64_t dir, std::string_view name,
                                mode_t mode, uid_t uid, gid_t gid) {
  Request req;
  MkdirRequest* m = req.mutable_mkdir();
  m->set_dir(dir);
  m->set_name(std::string(name));
  m->set_mode(mode);
  m->set_uid(uid);
  m->set_gid(gid);
  SENTRY_ASSIGN_OR_RETURN(Answer a, Call(req, Response::kNode, false));
  return ToNode(a);
}

ErrnoOr<NodeInfo> Client::Symlink(uint64_t dir, std::string_view name,
                                  std::string_view target, uid_t uid,
                                  gid_t gid) {
  Request req;
  SymlinkRequest* s = req.mutable_symlink();
  s->set_dir(dir);
  s->set_name(std::string(name));
  s->set_target(std::string(target));
  s->set_uid(uid);
  s->set_gid(gid);
  SENTRY_ASSIGN_OR_RETURN(Answer a, Call(req, Response::kNode, false));
  return ToNode(a);
}

ErrnoOr<NodeInfo> Client::Whiteout(uint64_t dir, std::string_view name) {
  Request req;
  req.mutable_whiteout()->set_dir(dir);
  req.mutable_whiteout()->set_name(std::string(name));
  SENTRY_ASSIGN_OR_RETURN(Answer a, Call(req, Response::kNode, false));
  return ToNode(a);
}

ErrnoOr<std::string> Client::GetXattr(uint64_t handle, std::string_view name) {
  Request req;
  req.mutable_get_xattr()->set_handle(handle);
  req.mutable_get_xattr()->set_name(std::string(name));
  SENTRY_ASSIGN_OR_RETURN(Answer a, Call(req, Response::kXattr, false));
  return std::move(*a.resp.mutable_xattr()->mutable_value());
}

ErrnoOr<void> Client::SetXattr(uint64_t handle, std::string_view name,
                               std::string_view value, int flags) {
  Request req;
  SetXattrRequest* r = req.mutable_set_xattr();
  r->set_handle(handle);
  r->set_name(std::string(name));
  r->set_value(std::string(value));
  r->set_flags(flags);
  SENTRY_RETURN_IF_ERRNO(Call(req, Response::kEmpty, false));
  return {};
}

ErrnoOr<std::vector<std::string>> Client::ListXattr(uint64_t handle) {
  Request req;
  req.mutable_list_xattr()->set_handle(handle);
  SENTRY_ASSIGN_OR_RETURN(Answer a, Call(req, Response::kXattr, false));
  std::vector<std::string> out(a.resp.xattr().names().begin(),
                               a.resp.xattr().names().end());
  return out;
}

ErrnoOr<void> Client::RemoveXattr(uint64_t handle, std::string_view name) {
  Request req;
  req.mutable_remove_xattr()->set_handle(handle);
  req.mutable_remove_xattr()->set_name(std::string(name));
  SENTRY_RETURN_IF_ERRNO(Call(req, Response::kEmpty, false));
  return {};
}

ErrnoOr<void> Client::Link(uint64_t target, uint64_t dir,
                           std::string_view name) {
  Request req;
  LinkRequest* l = req.mutable_link();
  l->set_target(target);
  l->set_dir(dir);
  l->set_name(std::string(name));
  SENTRY_RETURN_IF_ERRNO(Call(req, Response::kEmpty, false));
  return {};
}

ErrnoOr<void> Client::Unlink(uint64_t dir, std::string_view name,
                             bool remove_dir) {
  Request req;
  UnlinkRequest* u = req.mutable_unlink();
  u->set_dir(dir);
  u->set_name(std::string(name));
  u->set_remove_dir(remove_dir);
  SENTRY_RETURN_IF_ERRNO(Call(req, Response::kEmpty, false));
  return {};
}

ErrnoOr<void> Client::Rename(uint64_t olddir, std::string_view oldname,
                             uint64_t newdir, std::string_view newname,
                             unsigned flags) {
  Request req;
  RenameRequest* r = req.mutable_rename();
  r->set_old_dir(olddir);
  r->set_old_name(std::string(oldname));
  r->set_new_dir(newdir);
  r->set_new_name(std::string(newname));
  r->set_flags(flags);
  SENTRY_RETURN_IF_ERRNO(Call(req, Response::kEmpty, false));
  return {};
}

ErrnoOr<void> Client::SetAttr(uint64_t handle, const SetAttrRequest& in) {
  Request req;
  gofer::SetAttrRequest* s = req.mutable_set_attr();
  s->set_handle(handle);
  if (in.mode) s->set_mode(*in.mode);
  if (in.uid) s->set_uid(*in.uid);
  if (in.gid) s->set_gid(*in.gid);
  if (in.size) s->set_size(*in.size);
  if (in.atime) {
    s->mutable_atime()->set_sec(in.atime->tv_sec);
    s->mutable_atime()->set_nsec(in.atime->tv_nsec);
  }
  if (in.mtime) {
    s->mutable_mtime()->set_sec(in.mtime->tv_sec);
    s->mutable_mtime()->set_nsec(in.mtime->tv_nsec);
  }
  SENTRY_RETURN_IF_ERRNO(Call(req, Response::kEmpty, false));
  return {};
}

ErrnoOr<struct statfs> Client::StatFs(uint64_t handle) {
  Request req;
  req.mutable_stat_fs()->set_handle(handle);
  SENTRY_ASSIGN_OR_RETURN(Answer a, Call(req, Response::kStatFs, false));
  return StatFsFromProto(a.resp.stat_fs());
}

void Client::Close(uint64_t handle) {
  Request req;
  req.mutable_close()->set_handle(handle);
  absl::MutexLock lock(&mu_);
  if (broken_) return;
  req.set_id(next_id_++);
  absl::Status s = SendMessage(socket_.get(), req);
  if (!s.ok()) Broken(s.ToString());
}

}  // namespace sentry::gofer
