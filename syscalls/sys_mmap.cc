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
  if (type == MAP_SHARED_VALIDATE) {
    // Flags mmap(2) knows; of the validated ones, MAP_SYNC needs DAX
    // storage, which no sandbox file is.
    constexpr int kKnown = MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_32BIT |
                           MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE |
                           MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE |
                           MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB |
                           MAP_FIXED_NOREPLACE | (0x3f << MAP_HUGE_SHIFT);
    if ((flags & ~kKnown) || (flags & MAP_SYNC)) return Errno(EOPNOTSUPP);
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
      req.file_backed = true;
      req.file_offset = offset;
      req.file_dev = st.st_dev;
      req.file_ino = st.st_ino;
      req.may_write = type == MAP_PRIVATE || file->writable();
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
  req.as_limit = t.rlimits()[RLIMIT_AS].rlim_cur;
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
  // x86-64 has no upward-growing areas, and PROT_GROWSDOWN applies only to
  // a MAP_GROWSDOWN area.
  if (prot & PROT_GROWSUP) return Errno(EINVAL);
  if ((prot & PROT_GROWSDOWN) && !t.mm().GrowsDown(addr.value))
    return Errno(EINVAL);
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
  return t.mm().Remap(old_addr.value, old_size, new_size, flags, new_addr.value,
                      t.rlimits()[RLIMIT_AS].rlim_cur);
}

namespace {

ErrnoOr<void> Advise(Task& t, uint64_t addr, uint64_t length, int advice) {
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
      // Private anonymous pages read as zeros afterwards.
      return t.mm().ZeroRange(addr, length);
    case MADV_FREE:
      // Only for private anonymous memory (Linux: EINVAL elsewhere).
      if (t.mm().AnySharedIn(addr, length)) return Errno(EINVAL);
      return t.mm().ZeroRange(addr, length);
    case MADV_REMOVE:
      // Only for shared memory, whose pages it frees (zeroes).
      if (!t.mm().AllSharedIn(addr, length)) return Errno(EINVAL);
      return t.mm().ZeroRange(addr, length, /*shared_too=*/true);
    default:
      return Errno(EINVAL);
  }
}

}  // namespace

ErrnoOr<void> Madvise(Task& t, UserAddr addr, uint64_t length, int advice) {
  if (addr.value % mm::kPageSize != 0) return Errno(EINVAL);
  if (static_cast<int64_t>(length) < 0) return Errno(EINVAL);
  if (length == 0) return {};
  // Advice for a range with holes is carried out and then fails ENOMEM;
  // the advice we act on is harmless on what is mapped.
  const bool holes = !t.mm().IsMapped(addr.value, length);
  ErrnoOr<void> r = Advise(t, addr.value, mm::PageUp(length), advice);
  if (!r.ok()) return r;
  return holes ? Errno(ENOMEM) : r;
}

ErrnoOr<void> Mlock(Task& t, UserAddr addr, uint64_t length) {
  return Mlock2(t, addr, length, 0);
}

// The sandbox's memory is never paged out behind the guest's back, so
// locking only checks its arguments and limits (mlock(2)).
ErrnoOr<void> Mlock2(Task& t, UserAddr addr, uint64_t length, int flags) {
  if (flags & ~MLOCK_ONFAULT) return Errno(EINVAL);
  uint64_t start = addr.value & ~(mm::kPageSize - 1);
  uint64_t end = mm::PageUp(addr.value + length);
  if (end < start) return Errno(EINVAL);
  if (length == 0) return {};
  if (t.creds().euid != 0 &&
      end - start > t.rlimits()[RLIMIT_MEMLOCK].rlim_cur) {
    return Errno(t.rlimits()[RLIMIT_MEMLOCK].rlim_cur == 0 ? EPERM : ENOMEM);
  }
  if (!t.mm().IsMapped(start, end - start)) return Errno(ENOMEM);
  return {};
}

ErrnoOr<void> Munlock(Task& t, UserAddr addr, uint64_t length) {
  uint64_t start = addr.value & ~(mm::kPageSize - 1);
  uint64_t end = mm::PageUp(addr.value + length);
  if (end < start) return Errno(EINVAL);
  if (length == 0) return {};
  if (!t.mm().IsMapped(start, end - start)) return Errno(ENOMEM);
  return {};
}

ErrnoOr<void> Mlockall(Task& t, int flags) {
  if (flags == 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) ||
      flags == MCL_ONFAULT)
    return Errno(EINVAL);
  if (t.creds().euid != 0 && t.rlimits()[RLIMIT_MEMLOCK].rlim_cur == 0)
    return Errno(EPERM);
  return {};
}

ErrnoOr<void> Munlockall(Task&) { return {}; }

ErrnoOr<uint64_t> Brk(Task& t, UserAddr addr) {
  return t.mm().Brk(addr.value, t.rlimits()[RLIMIT_AS].rlim_cur,
                    t.rlimits()[RLIMIT_DATA].rlim_cur);
}

}  // namespace sentry::syscalls
