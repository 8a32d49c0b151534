// uname.
#include <sys/utsname.h>

#include <cstring>

#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

// The Linux version the Sentry presents. Userspace checks it against the
// features it uses; it names the kernel whose behaviour we emulate.
constexpr char kRelease[] = "6.1.0-sentry";
constexpr char kVersion[] = "#1 SMP PREEMPT_DYNAMIC sentry";

void Set(char* field, const std::string& value) {
  strncpy(field, value.c_str(), _UTSNAME_LENGTH - 1);
}

}  // namespace

ErrnoOr<void> Uname(Task& t, UserAddr buf) {
  struct utsname u;
  memset(&u, 0, sizeof(u));
  Set(u.sysname, "Linux");
  Set(u.nodename, t.kernel().options().hostname);
  Set(u.release, kRelease);
  Set(u.version, kVersion);
  Set(u.machine, "x86_64");
  Set(u.domainname, "(none)");
  return t.mm().CopyOut(buf.value, &u, sizeof(u));
}

}  // namespace sentry::syscalls
