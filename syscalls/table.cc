#include "syscalls/table.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <mutex>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sentry/base/log.h"
#include "syscalls/adapter.h"
#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

#define IMPLEMENTED_ROW(nr, name, nargs, support, fn, note) \
  SyscallInfo{nr,                                           \
              #name,                                        \
              nargs,                                        \
              support,                                      \
              CheckedHandler<nargs, fn>(),                  \
              &Adapter<fn>::Format,                         \
              note},
#define SUPPORTED(nr, name, nargs, fn, note) \
  IMPLEMENTED_ROW(nr, name, nargs, Support::kFull, fn, note)
#define PARTIAL(nr, name, nargs, fn, note) \
  IMPLEMENTED_ROW(nr, name, nargs, Support::kPartial, fn, note)
#define UNSUPPORTED(nr, name, nargs, note) \
  SyscallInfo{nr, #name, nargs, Support::kNone, nullptr, nullptr, note},

constexpr SyscallInfo kSyscalls[] = {
#include "syscalls/linux64.inc"
};

#undef SUPPORTED
#undef PARTIAL
#undef UNSUPPORTED
#undef IMPLEMENTED_ROW

constexpr size_t kTableSize = 512;

// Number → row, built once.
const std::array<const SyscallInfo*, kTableSize>& ByNumber() {
  static const auto* table = [] {
    auto* t = new std::array<const SyscallInfo*, kTableSize>{};
    for (const SyscallInfo& info : kSyscalls) (*t)[info.nr] = &info;
    return t;
  }();
  return *table;
}

// The first use of each unimplemented syscall is logged; later ones only
// counted.
std::array<std::atomic<uint64_t>, kTableSize> g_unimplemented_count;

void LogUnimplemented(uint64_t nr, const SyscallInfo* info,
                      const SyscallArgs& a) {
  bool first;
  if (nr < kTableSize) {
    first = g_unimplemented_count[nr].fetch_add(1) == 0;
  } else {
    static std::mutex mu;
    static std::set<uint64_t>* seen = new std::set<uint64_t>;
    std::lock_guard<std::mutex> lock(mu);
    first = seen->insert(nr).second;
  }
  if (!first) return;
  int nargs = info ? info->nargs : 6;
  std::vector<std::string> args;
  for (int i = 0; i < nargs; ++i)
    args.push_back(absl::StrFormat("%#x", a.v[i]));
  SENTRY_LOG(kInfo, "unimplemented syscall %s (%d)(%s): returning ENOSYS%s%s",
             info ? info->name : "unknown", static_cast<int>(nr),
             absl::StrJoin(args, ", "), info && info->note[0] ? "; " : "",
             info ? info->note : "");
}

std::string FormatResult(int64_t r) {
  if (r < 0 && r > -4096) {
    int err = static_cast<int>(-r);
    const char* name = strerrorname_np(err);
    return absl::StrFormat("-1 %s (%s)", name ? name : absl::StrCat(err),
                           strerror(err));
  }
  if (r > 0xffff) return absl::StrFormat("%#x", r);
  return absl::StrCat(r);
}

void WriteStrace(const std::string& line) {
  if (DebugLogEnabled()) {
    SENTRY_LOG(kInfo, "%s", line);
    return;
  }
  std::string out = line + "\n";
  (void)!::write(STDERR_FILENO, out.data(), out.size());
}

}  // namespace

std::span<const SyscallInfo> AllSyscalls() { return kSyscalls; }

const SyscallInfo* LookupSyscall(uint64_t nr) {
  return nr < kTableSize ? ByNumber()[nr] : nullptr;
}

const char* SupportName(Support s) {
  switch (s) {
    case Support::kFull:
      return "supported";
    case Support::kPartial:
      return "partial";
    case Support::kNone:
      return "unsupported";
  }
  return "?";
}

void Dispatch(kernel::Task& task) {
  platform::Registers& r = task.regs();
  uint64_t nr = r.orig_rax;
  SyscallArgs a{{r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9}};
  const SyscallInfo* info = LookupSyscall(nr);
  const bool strace = task.kernel().options().strace;
  std::string call;
  int64_t result;
  if (info == nullptr || info->handler == nullptr) {
    LogUnimplemented(nr, info, a);
    result = -ENOSYS;
    if (strace) {
      call = absl::StrFormat("%s(%#x, %#x, %#x, ...)",
                             info ? info->name : absl::StrCat("syscall_", nr),
                             a.v[0], a.v[1], a.v[2]);
    }
  } else {
    // Arguments are formatted before the call: buffers the syscall reads
    // are shown as the guest passed them.
    if (strace)
      call = absl::StrCat(info->name, "(", info->format(task, a), ")");
    result = info->handler(task, a);
  }
  if (task.exiting()) {
    if (strace) WriteStrace(absl::StrFormat("[%4d] %s = ?", task.tid(), call));
    return;
  }
  r.rax = static_cast<uint64_t>(result);
  if (strace) {
    WriteStrace(absl::StrFormat("[%4d] %s = %s", task.tid(), call,
                                FormatResult(result)));
  }
}

std::string FormatGuestBytes(kernel::Task& t, uint64_t addr, uint64_t length) {
  constexpr size_t kShown = 32;
  char buf[kShown];
  size_t want = std::min<uint64_t>(length, kShown);
  size_t got = t.mm().CopyInPartial(addr, buf, want);
  if (got == 0 && want > 0) return absl::StrFormat("%#x", addr);
  std::string out =
      absl::StrCat("\"", absl::CHexEscape(absl::string_view(buf, got)), "\"");
  if (length > got) out += "...";
  return out;
}

std::string FormatGuestString(kernel::Task& t, uint64_t addr) {
  ErrnoOr<std::string> s = t.mm().CopyInString(addr, 4096);
  if (!s.ok()) return absl::StrFormat("%#x", addr);
  std::string shown = s->size() > 64 ? s->substr(0, 64) : *s;
  return absl::StrCat("\"", absl::CHexEscape(shown), "\"",
                      s->size() > 64 ? "..." : "");
}

}  // namespace sentry::syscalls
