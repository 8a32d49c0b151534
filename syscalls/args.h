// Typed syscall arguments. Handlers declare what each register means, e.g.
//
//   ErrnoOr<uint64_t> Write(Task& t, Fd fd, InBuf buf, uint64_t count);
//
// and the table's adapter decodes the registers into those types (with
// Linux's truncation: an `int` argument is the low 32 bits) and, for
// --strace, formats each argument by its type.
#ifndef SYSCALLS_ARGS_H_
#define SYSCALLS_ARGS_H_

#include <array>
#include <cstdint>
#include <string>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sentry/kernel/task.h"

namespace sentry::syscalls {

struct SyscallArgs {
  std::array<uint64_t, 6> v{};
};

// A file descriptor number.
struct Fd {
  int value;
};

// A guest address.
struct UserAddr {
  uint64_t value;
  bool null() const { return value == 0; }
};

// A guest buffer the syscall reads, whose length is the next argument
// (write's buf): --strace shows its first bytes.
struct InBuf : UserAddr {};

// A NUL-terminated guest string, e.g. a path: --strace shows it quoted.
struct CString : UserAddr {};

template <typename T, typename Enable = void>
struct ArgTraits;

template <typename T>
struct ArgTraits<T, std::enable_if_t<std::is_integral_v<T>>> {
  static T Decode(uint64_t raw) { return static_cast<T>(raw); }
  static std::string Format(kernel::Task&, const SyscallArgs& a, int i) {
    if constexpr (std::is_signed_v<T>) {
      return absl::StrCat(static_cast<int64_t>(static_cast<T>(a.v[i])));
    } else if constexpr (sizeof(T) <= 4) {
      return absl::StrFormat("%#x", static_cast<T>(a.v[i]));
    } else {
      return absl::StrCat(a.v[i]);
    }
  }
};

template <>
struct ArgTraits<Fd> {
  static Fd Decode(uint64_t raw) { return Fd{static_cast<int>(raw)}; }
  static std::string Format(kernel::Task&, const SyscallArgs& a, int i) {
    return absl::StrCat(static_cast<int>(a.v[i]));
  }
};

template <>
struct ArgTraits<UserAddr> {
  static UserAddr Decode(uint64_t raw) { return UserAddr{raw}; }
  static std::string Format(kernel::Task&, const SyscallArgs& a, int i) {
    return a.v[i] == 0 ? "NULL" : absl::StrFormat("%#x", a.v[i]);
  }
};

std::string FormatGuestBytes(kernel::Task& t, uint64_t addr, uint64_t length);
std::string FormatGuestString(kernel::Task& t, uint64_t addr);

template <>
struct ArgTraits<InBuf> {
  static InBuf Decode(uint64_t raw) { return InBuf{{raw}}; }
  static std::string Format(kernel::Task& t, const SyscallArgs& a, int i) {
    return FormatGuestBytes(t, a.v[i], i + 1 < 6 ? a.v[i + 1] : 0);
  }
};

template <>
struct ArgTraits<CString> {
  static CString Decode(uint64_t raw) { return CString{{raw}}; }
  static std::string Format(kernel::Task& t, const SyscallArgs& a, int i) {
    return FormatGuestString(t, a.v[i]);
  }
};

}  // namespace sentry::syscalls

#endif  // SYSCALLS_ARGS_H_
