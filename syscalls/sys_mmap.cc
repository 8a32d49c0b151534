// mmap, munmap, mprotect, brk.
#include <errno.h>
#include <sys/mman.h>

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
  if (!(flags & MAP_ANONYMOUS)) {
    // File mappings: the only files so far are host stdio, which cannot be
    // mapped (pipes and terminals give ENODEV on Linux too).
    SENTRY_RETURN_IF_ERRNO(t.fds().Get(fd.value));
    return Errno(ENODEV);
  }
  mm::MmapRequest req;
  req.addr = addr.value;
  req.length = length;
  req.prot = prot & kProtMask;
  req.shared = type != MAP_PRIVATE;
  req.fixed = (flags & MAP_FIXED) != 0;
  req.noreplace = (flags & MAP_FIXED_NOREPLACE) != 0 && !req.fixed;
  req.below_2g = (flags & MAP_32BIT) != 0;
  return t.mm().Map(req);
}

ErrnoOr<void> Munmap(Task& t, UserAddr addr, uint64_t length) {
  return t.mm().Unmap(addr.value, length);
}

ErrnoOr<void> Mprotect(Task& t, UserAddr addr, uint64_t length, int prot) {
  if (prot & ~(kProtMask | PROT_GROWSDOWN | PROT_GROWSUP)) return Errno(EINVAL);
  return t.mm().Protect(addr.value, length, prot & kProtMask);
}

ErrnoOr<uint64_t> Brk(Task& t, UserAddr addr) { return t.mm().Brk(addr.value); }

}  // namespace sentry::syscalls
