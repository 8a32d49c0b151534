// getrandom.
#include <errno.h>
#include <sys/random.h>

#include <vector>

#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

constexpr uint32_t kGrndInsecure = 0x0004;  // Linux 5.6
// Linux returns at most this much per call (and never blocks once the host
// pool is initialised, which it is by the time a sandbox runs).
constexpr uint64_t kMaxPerCall = 32 << 20;

}  // namespace

ErrnoOr<uint64_t> Getrandom(Task& t, UserAddr buf, uint64_t length,
                            uint32_t flags) {
  if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | kGrndInsecure)) {
    return Errno(EINVAL);
  }
  if ((flags & kGrndInsecure) && (flags & GRND_RANDOM)) return Errno(EINVAL);
  length = std::min(length, kMaxPerCall);
  std::vector<uint8_t> bytes(std::min<uint64_t>(length, 1 << 16));
  uint64_t done = 0;
  while (done < length) {
    size_t n = std::min<uint64_t>(length - done, bytes.size());
    ssize_t got = ::getrandom(bytes.data(), n, 0);
    if (got <= 0) return done > 0 ? ErrnoOr<uint64_t>(done) : Errno(EAGAIN);
    size_t copied = t.mm().CopyOutPartial(buf.value + done, bytes.data(),
                                          static_cast<size_t>(got));
    done += copied;
    if (copied < static_cast<size_t>(got)) {
      return done > 0 ? ErrnoOr<uint64_t>(done) : Errno(EFAULT);
    }
  }
  return done;
}

}  // namespace sentry::syscalls
