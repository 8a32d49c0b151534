// ErrnoOr<T>: the result of an operation the guest asked for. Either a value
// or a Linux errno the guest will see. Host failures (a ptrace call that
// failed, a broken Gofer connection) are absl::Status instead; the syscall
// boundary decides which guest errno, if any, such a failure becomes.
//
//   ErrnoOr<size_t> Write(Task& t, Fd fd, UserAddr buf, size_t len) {
//     SENTRY_ASSIGN_OR_RETURN(HostFile* file, t.fds().Get(fd));
//     if (len > kMaxRw) return Errno(EINVAL);
//     ...
//   }
#ifndef SENTRY_BASE_ERRNO_OR_H_
#define SENTRY_BASE_ERRNO_OR_H_

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace sentry {

// A positive Linux errno value (EFAULT, ENOSYS, ...). Kernel-internal restart
// codes (ERESTARTSYS = 512 ...) are also representable.
class Errno {
 public:
  constexpr explicit Errno(int value) : value_(value) {}
  constexpr int value() const { return value_; }
  friend constexpr bool operator==(Errno a, Errno b) = default;

 private:
  int value_;
};

template <typename T>
class [[nodiscard]] ErrnoOr {
 public:
  // Implicit on purpose, so handlers can `return Errno(EINVAL);` or
  // `return n;`.
  ErrnoOr(Errno e) : v_(e) { assert(e.value() > 0); }  // NOLINT
  template <typename U, typename = std::enable_if_t<
                            std::is_convertible_v<U&&, T> &&
                            !std::is_same_v<std::decay_t<U>, Errno>>>
  ErrnoOr(U&& value)
      : v_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  Errno error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Errno> v_;
};

// ErrnoOr<void>: success or an errno.
template <>
class [[nodiscard]] ErrnoOr<void> {
 public:
  ErrnoOr() = default;
  ErrnoOr(Errno e) : err_(e.value()) { assert(e.value() > 0); }  // NOLINT
  bool ok() const { return err_ == 0; }
  Errno error() const {
    assert(!ok());
    return Errno(err_);
  }

 private:
  int err_ = 0;
};

// Kernel-internal errnos, never seen by the guest as such (Linux's
// include/linux/errno.h).
inline constexpr int kErestartSys = 512;
inline constexpr int kErestartNoIntr = 513;
inline constexpr int kErestartNoHand = 514;
inline constexpr int kErestartRestartBlock = 516;

}  // namespace sentry

#define SENTRY_ERRNO_CONCAT_INNER_(a, b) a##b
#define SENTRY_ERRNO_CONCAT_(a, b) SENTRY_ERRNO_CONCAT_INNER_(a, b)

// Returns the errno from the enclosing function if `expr` failed.
#define SENTRY_RETURN_IF_ERRNO(expr)                             \
  do {                                                           \
    auto sentry_errno_or_ = (expr);                              \
    if (!sentry_errno_or_.ok()) return sentry_errno_or_.error(); \
  } while (0)

// `SENTRY_ASSIGN_OR_RETURN(T v, expr);` declares v from an ErrnoOr<T>, or
// returns its errno.
#define SENTRY_ASSIGN_OR_RETURN(lhs, expr)                                 \
  SENTRY_ASSIGN_OR_RETURN_IMPL_(SENTRY_ERRNO_CONCAT_(errno_or_, __LINE__), \
                                lhs, expr)
#define SENTRY_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.error();                  \
  lhs = std::move(tmp).value()

#endif  // SENTRY_BASE_ERRNO_OR_H_
