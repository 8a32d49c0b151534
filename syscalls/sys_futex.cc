// futex.
#include <errno.h>
#include <linux/futex.h>
#include <time.h>

#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

using Key = kernel::FutexTable::Key;

// Converts a guest timespec to an absl deadline: relative for FUTEX_WAIT,
// absolute on CLOCK_MONOTONIC (or CLOCK_REALTIME) for the bitset waits.
ErrnoOr<std::optional<absl::Time>> Deadline(Task& t, UserAddr ts, bool absolute,
                                            bool realtime) {
  if (ts.null()) return std::optional<absl::Time>();
  struct timespec spec;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(ts.value, &spec, sizeof(spec)));
  if (spec.tv_sec < 0 || spec.tv_nsec < 0 || spec.tv_nsec >= 1000000000) {
    return Errno(EINVAL);
  }
  absl::Duration d = absl::DurationFromTimespec(spec);
  if (!absolute) return std::optional<absl::Time>(absl::Now() + d);
  struct timespec now;
  clock_gettime(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC, &now);
  return std::optional<absl::Time>(absl::Now() +
                                   (d - absl::DurationFromTimespec(now)));
}

// FUTEX_WAKE_OP's operation on *uaddr2; returns the old value's test.
ErrnoOr<bool> WakeOp(Task& t, uint64_t addr, uint32_t encoded) {
  int op = (encoded >> 28) & 0xf;
  int cmp = (encoded >> 24) & 0xf;
  uint32_t oparg = (encoded >> 12) & 0xfff;
  uint32_t cmparg = encoded & 0xfff;
  if (op & FUTEX_OP_OPARG_SHIFT) {
    op &= ~FUTEX_OP_OPARG_SHIFT;
    oparg = 1u << (oparg & 31);
  }
  uint32_t old;
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(addr, &old, sizeof(old)));
  uint32_t next;
  switch (op) {
    case FUTEX_OP_SET:
      next = oparg;
      break;
    case FUTEX_OP_ADD:
      next = old + oparg;
      break;
    case FUTEX_OP_OR:
      next = old | oparg;
      break;
    case FUTEX_OP_ANDN:
      next = old & ~oparg;
      break;
    case FUTEX_OP_XOR:
      next = old ^ oparg;
      break;
    default:
      return Errno(ENOSYS);
  }
  SENTRY_RETURN_IF_ERRNO(t.mm().CopyOut(addr, &next, sizeof(next)));
  int32_t o = static_cast<int32_t>(old), c = static_cast<int32_t>(cmparg);
  switch (cmp) {
    case FUTEX_OP_CMP_EQ:
      return o == c;
    case FUTEX_OP_CMP_NE:
      return o != c;
    case FUTEX_OP_CMP_LT:
      return o < c;
    case FUTEX_OP_CMP_LE:
      return o <= c;
    case FUTEX_OP_CMP_GT:
      return o > c;
    case FUTEX_OP_CMP_GE:
      return o >= c;
    default:
      return Errno(ENOSYS);
  }
}

}  // namespace

ErrnoOr<uint64_t> Futex(Task& t, UserAddr uaddr, int op, uint32_t val,
                        UserAddr timeout, UserAddr uaddr2, uint32_t val3) {
  if (uaddr.value % 4 != 0) return Errno(EINVAL);
  bool realtime = op & FUTEX_CLOCK_REALTIME;
  int cmd = op & FUTEX_CMD_MASK;
  kernel::FutexTable& table = t.kernel().futexes();
  const bool is_private = op & FUTEX_PRIVATE_FLAG;
  auto key_of = [&](uint64_t addr) {
    return kernel::FutexTable::KeyOf(t.mm(), addr, is_private);
  };
  Key key = key_of(uaddr.value);
  // FUTEX_CLOCK_REALTIME only goes with the operations that wait.
  if (realtime && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET &&
      cmd != FUTEX_WAIT_REQUEUE_PI && cmd != FUTEX_LOCK_PI2) {
    return Errno(ENOSYS);
  }
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      uint32_t bitset = cmd == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : val3;
      if (bitset == 0) return Errno(EINVAL);
      SENTRY_ASSIGN_OR_RETURN(
          std::optional<absl::Time> deadline,
          Deadline(t, timeout, cmd == FUTEX_WAIT_BITSET, realtime));
      SENTRY_RETURN_IF_ERRNO(
          table.Wait(t, key, uaddr.value, val, bitset, deadline));
      return uint64_t{0};
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      uint32_t bitset = cmd == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : val3;
      if (bitset == 0) return Errno(EINVAL);
      int n = static_cast<int>(std::min<uint32_t>(val, INT32_MAX));
      return static_cast<uint64_t>(table.Wake(key, n, bitset));
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
      if (uaddr2.value % 4 != 0) return Errno(EINVAL);
      int n = static_cast<int>(std::min<uint32_t>(val, INT32_MAX));
      int requeue =
          static_cast<int>(std::min<uint64_t>(timeout.value, INT32_MAX));
      std::function<ErrnoOr<bool>()> check;
      if (cmd == FUTEX_CMP_REQUEUE) {
        check = [&]() -> ErrnoOr<bool> {
          uint32_t v;
          SENTRY_RETURN_IF_ERRNO(t.mm().CopyIn(uaddr.value, &v, sizeof(v)));
          return v == val3;
        };
      }
      SENTRY_ASSIGN_OR_RETURN(int done, table.Requeue(key, key_of(uaddr2.value),
                                                      n, requeue, check));
      return static_cast<uint64_t>(done);
    }
    case FUTEX_WAKE_OP: {
      if (uaddr2.value % 4 != 0) return Errno(EINVAL);
      int n = static_cast<int>(std::min<uint32_t>(val, INT32_MAX));
      int n2 = static_cast<int>(std::min<uint64_t>(timeout.value, INT32_MAX));
      return table.Locked([&]() -> ErrnoOr<uint64_t> {
        SENTRY_ASSIGN_OR_RETURN(bool also, WakeOp(t, uaddr2.value, val3));
        int woken = table.WakeLocked(key, n, FUTEX_BITSET_MATCH_ANY);
        if (also) {
          woken += table.WakeLocked(key_of(uaddr2.value), n2,
                                    FUTEX_BITSET_MATCH_ANY);
        }
        return static_cast<uint64_t>(woken);
      });
    }
    default:
      // PI futexes (LOCK_PI, UNLOCK_PI, ...) are not implemented.
      return Errno(ENOSYS);
  }
}

}  // namespace sentry::syscalls
