// mmap, munmap, mprotect, brk, msync.
#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>

#include "syscalls/file_util.h"
#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

// asm-generic/mman-common.h; glibc does not define it.
constexpr int kProtSem = 0x8;
constexpr int kProtMask = PROT_READ | PROT_WRITE | PROT_EXEC | kProtSem;

}  // namespace

ErrnoOr<uint64_t> Mmap(Task& t, UserAddr addr, uint64_t length, int prot,
                       int flags, Fd fd, uint64_t offset) {
  if (prot & ~(kProtMask | PROT_GROWSDOWN | PROT_GROWSUP)) return Errno(EINVAL);
  if (offset % mm::kPageSize != 0) return Errno(EINVAL);
  int type = flags & MAP_TYPE;
  if (type != MAP_SHARED && type != MAP_PRIVATE &&
      type != MAP_SHARED_VALIDATE) {
    return Errno(EINVAL);
  }
  mm::MmapRequest req;
  FilePtr file;
  uint64_t file_size = 0;
  if (!(flags & MAP_ANONYMOUS)) {
    SENTRY_ASSIGN_OR_RETURN(file, GetFile(t, fd));
    if (file->flags() & O_PATH) return Errno(EBADF);
    SENTRY_ASSIGN_OR_RETURN(struct stat st, file->Stat());
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 5)) {
      file.reset();  // /dev/zero: anonymous memory
    } else if (!S_ISREG(st.st_mode)) {
      return Errno(ENODEV);
    } else {
      if (!file->readable()) return Errno(EACCES);
      SENTRY_RETURN_IF_ERRNO(file->CheckMmap(prot, type != MAP_PRIVATE));
      if (type != MAP_PRIVATE && (prot & PROT_WRITE) && !file->writable()) {
        return Errno(EACCES);
      }
      if (file->path().mount && file->path().mount->flags().noexec &&
          (prot & PROT_EXEC)) {
        return Errno(EPERM);
      }
      file_size = static_cast<uint64_t>(st.st_size);
      if (file->path().dentry) {
        req.name = vfs::PathName(file->path(), t.fs().root);
      }
    }
  }
  req.addr = addr.value;
  req.length = length;
  req.prot = prot & kProtMask;
  req.shared = type != MAP_PRIVATE;
  req.fixed = (flags & MAP_FIXED) != 0;
  req.noreplace = (flags & MAP_FIXED_NOREPLACE) != 0 && !req.fixed;
  req.below_2g = (flags & MAP_32BIT) != 0;
  req.grows_down = (flags & MAP_GROWSDOWN) != 0;
  if (!file) return t.mm().Map(req);
  if (req.shared) {
    // Files that keep their data in MemoryFile pages (tmpfs, memfd, the
    // overlay's memory layer) are mapped themselves: writes through the
    // mapping and through write(2) see each other, across processes.
    if (std::optional<vfs::SharedFilePages> pages =
            file->MapSharedPages(offset, mm::PageUp(length))) {
      req.backing_offset = pages->memory_offset;
      req.backing_owner = std::move(pages->owner);
      return t.mm().Map(req);
    }
  }
  // Other file mappings are filled with a copy of the file's bytes. How
  // this differs from Linux: for such files (host files served by the
  // Gofer) a MAP_SHARED mapping's writes do not reach the file and later
  // writes to the file do not show in the mapping; bytes past EOF read as
  // zero instead of raising SIGBUS.
  req.shared = false;
  SENTRY_ASSIGN_OR_RETURN(uint64_t at, t.mm().Map(req));
  uint64_t want = offset < file_size ? std::min(length, file_size - offset) : 0;
  constexpr uint64_t kChunk = 1 << 20;
  for (uint64_t done = 0; done < want;) {
    std::span<uint8_t> buf = t.Scratch(std::min(want - done, kChunk));
    ErrnoOr<size_t> n = file->PRead(t, buf, offset + done);
    if (!n.ok() || *n == 0) break;
    if (!t.mm().Poke(at + done, buf.data(), *n).ok()) break;
    done += *n;
  }
  return at;
}

ErrnoOr<void> Munmap(Task& t, UserAddr addr, uint64_t length) {
  return t.mm().Unmap(addr.value, length);
}

ErrnoOr<void> Mprotect(Task& t, UserAddr addr, uint64_t length, int prot) {
  if (prot & ~(kProtMask | PROT_GROWSDOWN | PROT_GROWSUP)) return Errno(EINVAL);
  return t.mm().Protect(addr.value, length, prot & kProtMask);
}

ErrnoOr<void> Msync(Task& t, UserAddr addr, uint64_t length, int flags) {
  if (addr.value % mm::kPageSize != 0) return Errno(EINVAL);
  if (flags & ~(MS_ASYNC | MS_SYNC | MS_INVALIDATE)) return Errno(EINVAL);
  if ((flags & MS_ASYNC) && (flags & MS_SYNC)) return Errno(EINVAL);
  // The range must be mapped (ENOMEM otherwise); there is nothing to write
  // back since file mappings are private copies.
  if (!t.mm().IsMapped(addr.value, length)) return Errno(ENOMEM);
  return {};
}

// mincore(2). How we differ from Linux: every page of a mapped range is
// reported resident (the sandbox's memory is never swapped out behind
// the guest's back, and untouched pages read as zero either way).
ErrnoOr<void> Mincore(Task& t, UserAddr addr, uint64_t length, UserAddr vec) {
  if (addr.value % mm::kPageSize != 0) return Errno(EINVAL);
  if (length == 0) return {};
  uint64_t pages = mm::PageUp(length) / mm::kPageSize;
  if (pages == 0) return Errno(ENOMEM);  // the length wrapped around
  if (!t.mm().IsMapped(addr.value, length)) return Errno(ENOMEM);
  std::vector<uint8_t> ones(std::min<uint64_t>(pages, 4096), 1);
  for (uint64_t done = 0; done < pages;) {
    uint64_t n = std::min<uint64_t>(pages - done, ones.size());
    SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(vec.value + done, ones.data(), n));
    done += n;
  }
  return {};
}

ErrnoOr<uint64_t> Mremap(Task& t, UserAddr old_addr, uint64_t old_size,
                         uint64_t new_size, int flags, UserAddr new_addr) {
  return t.mm().Remap(old_addr.value, old_size, new_size, flags,
                      new_addr.value);
}

ErrnoOr<void> Madvise(Task& t, UserAddr addr, uint64_t length, int advice) {
  if (addr.value % mm::kPageSize != 0) return Errno(EINVAL);
  switch (advice) {
    case MADV_NORMAL:
    case MADV_RANDOM:
    case MADV_SEQUENTIAL:
    case MADV_WILLNEED:
    case MADV_DONTFORK:
    case MADV_DOFORK:
    case MADV_MERGEABLE:
    case MADV_UNMERGEABLE:
    case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE:
    case MADV_DONTDUMP:
    case MADV_DODUMP:
    case MADV_COLD:
    case MADV_PAGEOUT:
    case MADV_WIPEONFORK:
    case MADV_KEEPONFORK:
      return {};
    case MADV_DONTNEED:
    case MADV_FREE:
    case MADV_REMOVE:
      // Private anonymous pages read as zeros afterwards.
      return t.mm().ZeroRange(addr.value, mm::PageUp(length));
    default:
      return Errno(EINVAL);
  }
}

ErrnoOr<uint64_t> Brk(Task& t, UserAddr addr) { return t.mm().Brk(addr.value); }

}  // namespace sentry::syscalls
