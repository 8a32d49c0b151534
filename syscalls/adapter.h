// Turns a typed handler into the table's uniform Handler and ArgFormatter.
#ifndef SYSCALLS_ADAPTER_H_
#define SYSCALLS_ADAPTER_H_

#include <string>
#include <utility>

#include "absl/strings/str_join.h"
#include "sentry/base/errno_or.h"
#include "syscalls/args.h"
#include "syscalls/table.h"

namespace sentry::syscalls {

template <typename T>
int64_t ToRaw(const ErrnoOr<T>& r) {
  if (!r.ok()) return -static_cast<int64_t>(r.error().value());
  return static_cast<int64_t>(r.value());
}
inline int64_t ToRaw(const ErrnoOr<void>& r) {
  return r.ok() ? 0 : -static_cast<int64_t>(r.error().value());
}

template <auto Fn>
struct Adapter;

template <typename R, typename... A, R (*Fn)(kernel::Task&, A...)>
struct Adapter<Fn> {
  static constexpr int kArgs = sizeof...(A);
  static_assert(kArgs <= 6, "x86-64 syscalls take at most 6 arguments");

  static int64_t Call(kernel::Task& t, const SyscallArgs& a) {
    return CallImpl(t, a, std::index_sequence_for<A...>{});
  }
  static std::string Format(kernel::Task& t, const SyscallArgs& a) {
    return FormatImpl(t, a, std::index_sequence_for<A...>{});
  }

 private:
  template <size_t... I>
  static int64_t CallImpl(kernel::Task& t, const SyscallArgs& a,
                          std::index_sequence<I...>) {
    return ToRaw(Fn(t, ArgTraits<A>::Decode(a.v[I])...));
  }
  template <size_t... I>
  static std::string FormatImpl(kernel::Task& t, const SyscallArgs& a,
                                std::index_sequence<I...>) {
    std::vector<std::string> parts = {
        ArgTraits<A>::Format(t, a, static_cast<int>(I))...};
    return absl::StrJoin(parts, ", ");
  }
};

// The table row's handler, checking at compile time that the handler takes
// no more arguments than the syscall has.
template <int kDeclaredArgs, auto Fn>
constexpr Handler CheckedHandler() {
  static_assert(Adapter<Fn>::kArgs <= kDeclaredArgs,
                "handler takes more arguments than the syscall has");
  return &Adapter<Fn>::Call;
}

}  // namespace sentry::syscalls

#endif  // SYSCALLS_ADAPTER_H_
