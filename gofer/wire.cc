#include "gofer/wire.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sentry::gofer {

absl::Status SendMessage(int sock, const google::protobuf::MessageLite& msg,
                         int fd) {
  std::string bytes;
  if (!msg.SerializeToString(&bytes)) {
    return absl::InternalError("cannot serialize a gofer message");
  }
  if (bytes.size() > kMaxMessageSize) {
    return absl::InternalError(
        absl::StrCat("gofer message of ", bytes.size(), " bytes is too big"));
  }
  struct iovec iov = {bytes.data(), bytes.size()};
  struct msghdr mh = {};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    mh.msg_control = control;
    mh.msg_controllen = sizeof(control);
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&mh);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  ssize_t n;
  do {
    n = sendmsg(sock, &mh, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return absl::ErrnoToStatus(errno, "sendmsg on the gofer socket");
  if (static_cast<size_t>(n) != bytes.size()) {
    return absl::InternalError("short sendmsg on a SOCK_SEQPACKET socket");
  }
  return absl::OkStatus();
}

namespace {

bool PeerHungUp(int sock) {
  struct pollfd p = {sock, POLLIN | POLLRDHUP, 0};
  int n;
  do {
    n = poll(&p, 1, 0);
  } while (n < 0 && errno == EINTR);
  return n > 0 && (p.revents & (POLLHUP | POLLRDHUP)) != 0;
}

}  // namespace

absl::StatusOr<Datagram> ReceiveDatagram(int sock) {
  Datagram d;
  // One byte more than the limit, so that an over-limit message is caught
  // even where the kernel would not set MSG_TRUNC.
  d.bytes.resize(kMaxMessageSize + 1);
  struct iovec iov = {d.bytes.data(), d.bytes.size()};
  alignas(
      struct cmsghdr) char control[CMSG_SPACE(kMaxFdsPerMessage * sizeof(int))];
  struct msghdr mh = {};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == ECONNRESET) {
      d.eof = true;
      d.bytes.clear();
      return d;
    }
    return absl::ErrnoToStatus(errno, "recvmsg on the gofer socket");
  }
  // Take ownership of every FD first, so that no return path leaks one.
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr;
       c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        d.fds.emplace_back(fd);
      }
    } else {
      d.control_truncated = true;
    }
  }
  if (mh.msg_flags & MSG_CTRUNC) d.control_truncated = true;
  d.truncated = (mh.msg_flags & MSG_TRUNC) != 0 ||
                static_cast<size_t>(n) > kMaxMessageSize;
  d.bytes.resize(std::min(static_cast<size_t>(n), kMaxMessageSize));
  if (n == 0 && d.fds.empty() && !d.control_truncated && PeerHungUp(sock)) {
    d.eof = true;
  }
  return d;
}

void StatToProto(const struct stat& st, Stat* out) {
  out->set_dev(st.st_dev);
  out->set_ino(st.st_ino);
  out->set_mode(st.st_mode);
  out->set_nlink(st.st_nlink);
  out->set_uid(st.st_uid);
  out->set_gid(st.st_gid);
  out->set_rdev(st.st_rdev);
  out->set_size(st.st_size);
  out->set_blksize(st.st_blksize);
  out->set_blocks(st.st_blocks);
  out->set_atime_sec(st.st_atim.tv_sec);
  out->set_atime_nsec(st.st_atim.tv_nsec);
  out->set_mtime_sec(st.st_mtim.tv_sec);
  out->set_mtime_nsec(st.st_mtim.tv_nsec);
  out->set_ctime_sec(st.st_ctim.tv_sec);
  out->set_ctime_nsec(st.st_ctim.tv_nsec);
}

struct stat StatFromProto(const Stat& in) {
  struct stat st = {};
  st.st_dev = in.dev();
  st.st_ino = in.ino();
  st.st_mode = in.mode();
  st.st_nlink = in.nlink();
  st.st_uid = in.uid();
  st.st_gid = in.gid();
  st.st_rdev = in.rdev();
  st.st_size = in.size();
  st.st_blksize = in.blksize();
  st.st_blocks = in.blocks();
  st.st_atim = {in.atime_sec(), in.atime_nsec()};
  st.st_mtim = {in.mtime_sec(), in.mtime_nsec()};
  st.st_ctim = {in.ctime_sec(), in.ctime_nsec()};
  return st;
}

void StatFsToProto(const struct statfs& st, StatFsResult* out) {
  out->set_type(st.f_type);
  out->set_bsize(st.f_bsize);
  out->set_blocks(st.f_blocks);
  out->set_bfree(st.f_bfree);
  out->set_bavail(st.f_bavail);
  out->set_files(st.f_files);
  out->set_ffree(st.f_ffree);
  uint64_t fsid;
  static_assert(sizeof(fsid) == sizeof(st.f_fsid));
  std::memcpy(&fsid, &st.f_fsid, sizeof(fsid));
  out->set_fsid(fsid);
  out->set_namelen(st.f_namelen);
  out->set_frsize(st.f_frsize);
  out->set_flags(st.f_flags);
}

struct statfs StatFsFromProto(const StatFsResult& in) {
  struct statfs st = {};
  st.f_type = in.type();
  st.f_bsize = in.bsize();
  st.f_blocks = in.blocks();
  st.f_bfree = in.bfree();
  st.f_bavail = in.bavail();
  st.f_files = in.files();
  st.f_ffree = in.ffree();
  uint64_t fsid = in.fsid();
  std::memcpy(&st.f_fsid, &fsid, sizeof(fsid));
  st.f_namelen = in.namelen();
  st.f_frsize = in.frsize();
  st.f_flags = in.flags();
  return st;
}

}  // namespace sentry::gofer
