// uname.
#include <sys/utsname.h>

#include <cstring>

#include "sentry/kernel/version.h"
#include "syscalls/handlers.h"

namespace sentry::syscalls {
namespace {

void Set(char* field, const std::string& value) {
  strncpy(field, value.c_str(), _UTSNAME_LENGTH - 1);
}

}  // namespace

ErrnoOr<void> Uname(Task& t, UserAddr buf) {
  struct utsname u;
  memset(&u, 0, sizeof(u));
  Set(u.sysname, "Linux");
  Set(u.nodename, t.kernel().options().hostname);
  Set(u.release, kernel::kLinuxRelease);
  Set(u.version, kernel::kLinuxVersion);
  Set(u.machine, "x86_64");
  Set(u.domainname, "(none)");
  return t.mm().CopyOut(buf.value, &u, sizeof(u));
}

}  // namespace sentry::syscalls
