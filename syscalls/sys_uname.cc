// uname, sethostname, setdomainname.
#include <errno.h>
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
  Set(u.nodename, t.kernel().hostname());
  Set(u.release, kernel::kLinuxRelease);
  Set(u.version, kernel::kLinuxVersion);
  Set(u.machine, "x86_64");
  Set(u.domainname, t.kernel().domainname());
  return t.mm().CopyOut(buf.value, &u, sizeof(u));
}

namespace {

// sethostname(2)/setdomainname(2): CAP_SYS_ADMIN in the sandbox's UTS
// namespace (root here), at most 64 bytes. The names are the sandbox's:
// the host's never change.
ErrnoOr<std::string> CopyInUtsName(Task& t, UserAddr name, int64_t len) {
  if (len < 0 || len > _UTSNAME_LENGTH - 1) return Errno(EINVAL);
  if (t.creds().euid != 0) return Errno(EPERM);
  std::string value(static_cast<size_t>(len), '\0');
  if (len > 0)
    SENTRY_RETURN_IF_ERRNO(
        t.mm().CopyIn(name.value, value.data(), value.size()));
  // The kernel keeps the bytes; uname then stops at the first NUL.
  value.resize(strnlen(value.c_str(), value.size()));
  return value;
}

}  // namespace

ErrnoOr<void> Sethostname(Task& t, UserAddr name, int64_t len) {
  SENTRY_ASSIGN_OR_RETURN(std::string value, CopyInUtsName(t, name, len));
  t.kernel().set_hostname(std::move(value));
  return {};
}

ErrnoOr<void> Setdomainname(Task& t, UserAddr name, int64_t len) {
  SENTRY_ASSIGN_OR_RETURN(std::string value, CopyInUtsName(t, name, len));
  t.kernel().set_domainname(std::move(value));
  return {};
}

}  // namespace sentry::syscalls
