// sendfile, splice, tee, copy_file_range: moving bytes between files
// without the guest's memory. The Sentry moves them through a Sentry-side
// buffer with the files' own Read/PRead/Write/PWrite, so any pair of files
// works; splice and tee still require pipe ends where Linux does.
//
// How this differs from Linux: nothing is zero-copy (Linux moves page
// references); a transfer from a file into a pipe that a concurrent
// writer fills between the room check and the write loses what did not
// fit (Linux reserves the buffers first).
#include <errno.h>
#include <fcntl.h>

#include <algorithm>
#include <optional>

#include "sentry/fs/pipe.h"
#include "syscalls/file_util.h"
#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

constexpr size_t kChunk = 64 << 10;

// Reads an optional loff_t argument: nullopt for NULL, EINVAL if negative.
ErrnoOr<std::optional<uint64_t>> CopyInOffset(Task& t, UserAddr p) {
  if (p.null()) return std::optional<uint64_t>();
  int64_t off;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(p.value, &off, sizeof(off)));
  if (off < 0) return Errno(EINVAL);
  return std::optional<uint64_t>(static_cast<uint64_t>(off));
}

ErrnoOr<void> CopyOutOffset(Task& t, UserAddr p, uint64_t off) {
  int64_t v = static_cast<int64_t>(off);
  return t.mm().CopyOut(p.value, &v, sizeof(v));
}

ErrnoOr<size_t> ReadSome(Task& t, vfs::FileDescription& f,
                         std::span<uint8_t> buf, std::optional<uint64_t> off) {
  return off ? f.PRead(t, buf, *off) : f.Read(t, buf);
}

// Writes all of `src` unless the file stops early; returns what was
// written (an error only if nothing was).
ErrnoOr<size_t> WriteAll(Task& t, vfs::FileDescription& f,
                         std::span<const uint8_t> src,
                         std::optional<uint64_t> off) {
  size_t done = 0;
  while (done < src.size()) {
    std::span<const uint8_t> rest = src.subspan(done);
    ErrnoOr<size_t> n = off ? f.PWrite(t, rest, *off + done) : f.Write(t, rest);
    if (!n.ok()) return done > 0 ? ErrnoOr<size_t>(done) : n.error();
    if (*n == 0) break;
    done += *n;
  }
  return done;
}

fs::PipeFile* AsPipe(const FilePtr& f) {
  return dynamic_cast<fs::PipeFile*>(f.get());
}

}  // namespace

ErrnoOr<uint64_t> Sendfile(Task& t, Fd out_fd, Fd in_fd, UserAddr offset,
                           uint64_t count) {
  SENTRY_ASSIGN_OR_RETURN(FilePtr in, GetFile(t, in_fd));
  SENTRY_ASSIGN_OR_RETURN(FilePtr out, GetFile(t, out_fd));
  if (!in->readable() || !out->writable()) return Errno(EBADF);
  if (out->flags() & O_APPEND) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(std::optional<uint64_t> off, CopyInOffset(t, offset));
  if (off && !in->seekable()) return Errno(ESPIPE);
  count = std::min(count, kMaxRwCount);
  uint64_t done = 0;
  while (done < count) {
    std::span<uint8_t> buf =
        t.Scratch(std::min<uint64_t>(count - done, kChunk));
    std::optional<uint64_t> at;
    if (off) at = *off + done;
    ErrnoOr<size_t> n = ReadSome(t, *in, buf, at);
    if (!n.ok()) {
      if (done > 0) break;
      return n.error();
    }
    if (*n == 0) break;
    ErrnoOr<size_t> w = WriteAll(t, *out, buf.first(*n), std::nullopt);
    if (!w.ok()) {
      // Put back what was read but not sent.
      if (!off && in->seekable())
        (void)in->Seek(-static_cast<int64_t>(*n), SEEK_CUR);
      if (done > 0) break;
      return w.error();
    }
    done += *w;
    if (*w < *n) {
      if (!off && in->seekable()) {
        (void)in->Seek(-static_cast<int64_t>(*n - *w), SEEK_CUR);
      }
      break;
    }
    if (*n < buf.size()) break;  // a stream gave what it had
  }
  if (off) SENTRY_RETURN_IF_ERRNO(CopyOutOffset(t, offset, *off + done));
  return done;
}

ErrnoOr<uint64_t> Splice(Task& t, Fd fd_in, UserAddr off_in, Fd fd_out,
                         UserAddr off_out, uint64_t len, uint32_t flags) {
  if (flags & ~uint32_t{SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE |
                        SPLICE_F_GIFT}) {
    return Errno(EINVAL);
  }
  SENTRY_ASSIGN_OR_RETURN(FilePtr in, GetFile(t, fd_in));
  SENTRY_ASSIGN_OR_RETURN(FilePtr out, GetFile(t, fd_out));
  if (!in->readable() || !out->writable()) return Errno(EBADF);
  fs::PipeFile* ip = AsPipe(in);
  fs::PipeFile* op = AsPipe(out);
  if (ip == nullptr && op == nullptr) return Errno(EINVAL);
  if ((ip && !off_in.null()) || (op && !off_out.null())) return Errno(ESPIPE);
  if (out->flags() & O_APPEND) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(std::optional<uint64_t> in_off,
                          CopyInOffset(t, off_in));
  SENTRY_ASSIGN_OR_RETURN(std::optional<uint64_t> out_off,
                          CopyInOffset(t, off_out));
  if ((in_off && !in->seekable()) || (out_off && !out->seekable())) {
    return Errno(ESPIPE);
  }
  if (len == 0) return uint64_t{0};
  len = std::min(len, kMaxRwCount);
  const bool nb = flags & SPLICE_F_NONBLOCK;
  size_t moved = 0;
  if (ip != nullptr && op != nullptr) {
    if (&ip->pipe() == &op->pipe()) return Errno(EINVAL);
    // Wait for data, then for room, as Linux's splice_pipe_to_pipe.
    std::span<uint8_t> probe = t.Scratch(1);
    SENTRY_ASSIGN_OR_RETURN(
        size_t have,
        ip->pipe().Peek(t, ip->queue(), probe, 0, nb || in->nonblocking()));
    if (have == 0) return uint64_t{0};  // no writers: EOF
    SENTRY_ASSIGN_OR_RETURN(
        size_t room,
        op->pipe().WaitWritable(t, op->queue(), nb || out->nonblocking()));
    std::span<uint8_t> buf = t.Scratch(std::min<uint64_t>(len, room));
    SENTRY_ASSIGN_OR_RETURN(size_t n,
                            ip->pipe().Peek(t, ip->queue(), buf, 0, true));
    SENTRY_ASSIGN_OR_RETURN(
        moved, op->pipe().Write(t, op->queue(), buf.first(n), true));
    ip->pipe().Consume(moved);
    return moved;
  }
  if (ip != nullptr) {
    // Pipe to file: peek, write, then drop what the file took.
    std::span<uint8_t> buf =
        t.Scratch(std::min<uint64_t>(len, ip->pipe().capacity()));
    SENTRY_ASSIGN_OR_RETURN(size_t n, ip->pipe().Peek(t, ip->queue(), buf, 0,
                                                      nb || in->nonblocking()));
    if (n == 0) return uint64_t{0};
    SENTRY_ASSIGN_OR_RETURN(moved, WriteAll(t, *out, buf.first(n), out_off));
    ip->pipe().Consume(moved);
    if (out_off)
      SENTRY_RETURN_IF_ERRNO(CopyOutOffset(t, off_out, *out_off + moved));
    return moved;
  }
  // File to pipe: read no more than there is room for.
  SENTRY_ASSIGN_OR_RETURN(
      size_t room,
      op->pipe().WaitWritable(t, op->queue(), nb || out->nonblocking()));
  std::span<uint8_t> buf = t.Scratch(std::min<uint64_t>(len, room));
  SENTRY_ASSIGN_OR_RETURN(size_t n, ReadSome(t, *in, buf, in_off));
  if (n == 0) return uint64_t{0};
  SENTRY_ASSIGN_OR_RETURN(moved,
                          op->pipe().Write(t, op->queue(), buf.first(n), true));
  if (moved < n && !in_off && in->seekable()) {
    (void)in->Seek(-static_cast<int64_t>(n - moved), SEEK_CUR);
  }
  if (in_off) SENTRY_RETURN_IF_ERRNO(CopyOutOffset(t, off_in, *in_off + moved));
  return moved;
}

ErrnoOr<uint64_t> Tee(Task& t, Fd fd_in, Fd fd_out, uint64_t len,
                      uint32_t flags) {
  if (flags & ~uint32_t{SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE |
                        SPLICE_F_GIFT}) {
    return Errno(EINVAL);
  }
  SENTRY_ASSIGN_OR_RETURN(FilePtr in, GetFile(t, fd_in));
  SENTRY_ASSIGN_OR_RETURN(FilePtr out, GetFile(t, fd_out));
  if (!in->readable() || !out->writable()) return Errno(EBADF);
  fs::PipeFile* ip = AsPipe(in);
  fs::PipeFile* op = AsPipe(out);
  if (ip == nullptr || op == nullptr || &ip->pipe() == &op->pipe()) {
    return Errno(EINVAL);
  }
  if (len == 0) return uint64_t{0};
  const bool nb = flags & SPLICE_F_NONBLOCK;
  std::span<uint8_t> probe = t.Scratch(1);
  SENTRY_ASSIGN_OR_RETURN(
      size_t have,
      ip->pipe().Peek(t, ip->queue(), probe, 0, nb || in->nonblocking()));
  if (have == 0) return uint64_t{0};
  SENTRY_ASSIGN_OR_RETURN(
      size_t room,
      op->pipe().WaitWritable(t, op->queue(), nb || out->nonblocking()));
  std::span<uint8_t> buf =
      t.Scratch(std::min<uint64_t>(std::min(len, kMaxRwCount), room));
  SENTRY_ASSIGN_OR_RETURN(size_t n,
                          ip->pipe().Peek(t, ip->queue(), buf, 0, true));
  return op->pipe().Write(t, op->queue(), buf.first(n), true);
}

ErrnoOr<uint64_t> CopyFileRange(Task& t, Fd fd_in, UserAddr off_in, Fd fd_out,
                                UserAddr off_out, uint64_t len,
                                uint32_t flags) {
  if (flags != 0) return Errno(EINVAL);
  SENTRY_ASSIGN_OR_RETURN(FilePtr in, GetFile(t, fd_in));
  SENTRY_ASSIGN_OR_RETURN(FilePtr out, GetFile(t, fd_out));
  if (!in->readable() || !out->writable() || (out->flags() & O_APPEND)) {
    return Errno(EBADF);
  }
  SENTRY_ASSIGN_OR_RETURN(struct stat sin, in->Stat());
  SENTRY_ASSIGN_OR_RETURN(struct stat sout, out->Stat());
  if (S_ISDIR(sin.st_mode) || S_ISDIR(sout.st_mode)) return Errno(EISDIR);
  if (!S_ISREG(sin.st_mode) || !S_ISREG(sout.st_mode)) return Errno(EINVAL);
  // As Linux since 5.19: only within one file system; callers (cat, cp)
  // fall back to read/write on EXDEV. Files without positional I/O
  // (procfs, host stdio) count as foreign too.
  if (sin.st_dev != sout.st_dev || !in->seekable() || !out->seekable()) {
    return Errno(EXDEV);
  }
  SENTRY_ASSIGN_OR_RETURN(std::optional<uint64_t> in_off,
                          CopyInOffset(t, off_in));
  SENTRY_ASSIGN_OR_RETURN(std::optional<uint64_t> out_off,
                          CopyInOffset(t, off_out));
  len = std::min(len, kMaxRwCount);
  uint64_t in_pos = in_off ? *in_off : in->offset();
  uint64_t out_pos = out_off ? *out_off : out->offset();
  if (sin.st_dev == sout.st_dev && sin.st_ino == sout.st_ino &&
      in_pos < out_pos + len && out_pos < in_pos + len) {
    return Errno(EINVAL);  // overlapping ranges of one file
  }
  uint64_t done = 0;
  while (done < len) {
    std::span<uint8_t> buf = t.Scratch(std::min<uint64_t>(len - done, kChunk));
    ErrnoOr<size_t> n = in->PRead(t, buf, in_pos + done);
    if (!n.ok()) {
      if (done > 0) break;
      return n.error();
    }
    if (*n == 0) break;
    ErrnoOr<size_t> w = WriteAll(t, *out, buf.first(*n), out_pos + done);
    if (!w.ok()) {
      if (done > 0) break;
      return w.error();
    }
    done += *w;
    if (*w < *n) break;
  }
  if (in_off) {
    SENTRY_RETURN_IF_ERRNO(CopyOutOffset(t, off_in, in_pos + done));
  } else {
    in->set_offset(in_pos + done);
  }
  if (out_off) {
    SENTRY_RETURN_IF_ERRNO(CopyOutOffset(t, off_out, out_pos + done));
  } else {
    out->set_offset(out_pos + done);
  }
  return done;
}

}  // namespace sentry::syscalls
