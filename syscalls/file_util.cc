#include "syscalls/file_util.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>

#include "sentry/vfs/fsnotify.h"

namespace sentry::syscalls {
namespace {
// Bytes moved per file call: bounds the scratch buffer.
constexpr uint64_t kChunk = 1 << 20;
}  // namespace

ErrnoOr<std::string> CopyInPath(kernel::Task& t, CString path) {
  return t.mm().CopyInString(path.value, PATH_MAX - 1);
}

ErrnoOr<FilePtr> GetFile(kernel::Task& t, Fd fd) {
  return t.fds().Get(fd.value);
}

uint64_t FileSizeLimit(kernel::Task& t) {
  rlim_t cur = t.rlimits()[RLIMIT_FSIZE].rlim_cur;
  return cur == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(cur);
}

Errno FileTooBig(kernel::Task& t) {
  // send_sig(SIGXFSZ, current, 0): from the caller itself, SI_USER.
  siginfo_t info{};
  info.si_signo = SIGXFSZ;
  info.si_code = SI_USER;
  info.si_pid = t.pid();
  info.si_uid = t.creds().ruid;
  t.QueueSignal(SIGXFSZ, &info);
  return Errno(EFBIG);
}

ErrnoOr<vfs::Path> StartFor(kernel::Task& t, Fd dirfd,
                            const std::string& path) {
  if (!path.empty() && path[0] == '/') return t.fs().cwd;
  return t.DirPath(dirfd.value, !path.empty());
}

ErrnoOr<vfs::Path> LookupAt(kernel::Task& t, Fd dirfd, const std::string& path,
                            bool follow, bool empty_path) {
  if (path.empty() && !empty_path) return Errno(ENOENT);
  SENTRY_ASSIGN_OR_RETURN(vfs::Path start, StartFor(t, dirfd, path));
  int flags = (follow ? vfs::kFollow : 0) | (empty_path ? vfs::kEmptyPath : 0);
  return vfs::Lookup(t.resolver(), start, path, flags);
}

ErrnoOr<uint64_t> ReadToGuest(kernel::Task& t, vfs::FileDescription& f,
                              uint64_t addr, uint64_t count,
                              std::optional<uint64_t> offset) {
  if (!f.readable()) return Errno(EBADF);
  if (static_cast<int64_t>(count) < 0) return Errno(EINVAL);
  count = std::min(count, kMaxRwCount);
  if (count == 0) {
    std::span<uint8_t> none;
    SENTRY_ASSIGN_OR_RETURN(
        size_t n, offset ? f.PRead(t, none, *offset) : f.Read(t, none));
    return static_cast<uint64_t>(n);
  }
  size_t writable = t.mm().WritableLength(addr, count);
  if (writable == 0) return Errno(EFAULT);
  uint64_t done = 0;
  while (done < writable) {
    std::span<uint8_t> buf =
        t.Scratch(std::min<uint64_t>(writable - done, kChunk));
    ErrnoOr<size_t> n =
        offset ? f.PRead(t, buf, *offset + done) : f.Read(t, buf);
    if (!n.ok()) return done > 0 ? ErrnoOr<uint64_t>(done) : n.error();
    if (!t.mm().CopyOut(addr + done, buf.data(), *n).ok()) {
      return done > 0 ? ErrnoOr<uint64_t>(done) : Errno(EFAULT);
    }
    done += *n;
    // Streams give what they have in one go; only seekable files loop.
    if (*n < buf.size() || !f.seekable()) break;
  }
  if (done > 0) vfs::NotifyPath(f.path(), IN_ACCESS);
  return done;
}

ErrnoOr<uint64_t> WriteFromGuest(kernel::Task& t, vfs::FileDescription& f,
                                 uint64_t addr, uint64_t count,
                                 std::optional<uint64_t> offset) {
  if (!f.writable()) return Errno(EBADF);
  if (static_cast<int64_t>(count) < 0) return Errno(EINVAL);
  count = std::min(count, kMaxRwCount);
  if (count == 0) return uint64_t{0};
  if (const uint64_t limit = FileSizeLimit(t); limit != UINT64_MAX) {
    if (vfs::Inode* i = f.inode(); i != nullptr && S_ISREG(i->Type())) {
      uint64_t pos;
      if (offset) {
        pos = *offset;
      } else if (f.flags() & O_APPEND) {
        SENTRY_ASSIGN_OR_RETURN(struct stat st, f.Stat());
        pos = static_cast<uint64_t>(st.st_size);
      } else {
        pos = f.offset();
      }
      if (pos >= limit) return FileTooBig(t);
      count = std::min(count, limit - pos);
    }
  }
  uint64_t done = 0;
  while (done < count) {
    std::span<uint8_t> buf =
        t.Scratch(std::min<uint64_t>(count - done, kChunk));
    size_t readable = t.mm().CopyInPartial(addr + done, buf.data(), buf.size());
    if (readable == 0)
      return done > 0 ? ErrnoOr<uint64_t>(done) : Errno(EFAULT);
    std::span<const uint8_t> src(buf.data(), readable);
    ErrnoOr<size_t> n =
        offset ? f.PWrite(t, src, *offset + done) : f.Write(t, src);
    if (!n.ok()) return done > 0 ? ErrnoOr<uint64_t>(done) : n.error();
    done += *n;
    if (*n < buf.size()) break;
  }
  if (done > 0) vfs::NotifyPath(f.path(), IN_MODIFY);
  return done;
}

ErrnoOr<void> GatherIovecs(kernel::Task& t,
                           const std::vector<struct iovec>& vecs, uint64_t from,
                           std::span<uint8_t> out) {
  uint64_t at = 0;
  size_t done = 0;
  for (const struct iovec& v : vecs) {
    if (done == out.size()) break;
    uint64_t end = at + v.iov_len;
    if (end > from + done) {
      uint64_t skip = from + done - at;
      size_t n = std::min<uint64_t>(v.iov_len - skip, out.size() - done);
      uint64_t base = reinterpret_cast<uint64_t>(v.iov_base) + skip;
      if (!t.mm().CopyIn(base, out.data() + done, n).ok()) return Errno(EFAULT);
      done += n;
    }
    at = end;
  }
  return {};
}

ErrnoOr<void> ScatterIovecs(kernel::Task& t,
                            const std::vector<struct iovec>& vecs,
                            std::span<const uint8_t> data) {
  size_t done = 0;
  for (const struct iovec& v : vecs) {
    if (done == data.size()) break;
    size_t n = std::min<size_t>(v.iov_len, data.size() - done);
    uint64_t base = reinterpret_cast<uint64_t>(v.iov_base);
    if (!t.mm().CopyOut(base, data.data() + done, n).ok()) return Errno(EFAULT);
    done += n;
  }
  return {};
}

}  // namespace sentry::syscalls
