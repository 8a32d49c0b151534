// Creds: what the VFS needs to know about the caller for permission checks
// (Linux's fsuid/fsgid, supplementary groups and effective capabilities).
#ifndef SENTRY_VFS_CREDS_H_
#define SENTRY_VFS_CREDS_H_

#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sentry/base/errno_or.h"

namespace sentry::vfs {

struct Creds {
  uid_t uid = 0;  // fsuid
  gid_t gid = 0;  // fsgid
  std::vector<gid_t> groups;
  uint64_t caps = ~uint64_t{0};  // effective capability set

  bool HasCap(int cap) const { return (caps >> cap) & 1; }
  bool InGroup(gid_t g) const {
    return g == gid ||
           std::find(groups.begin(), groups.end(), g) != groups.end();
  }
};

// Access bits for CheckPermission, as in Linux's MAY_*.
inline constexpr int kMayExec = 1;
inline constexpr int kMayWrite = 2;
inline constexpr int kMayRead = 4;

// generic_permission(): owner, group or other bits, then CAP_DAC_OVERRIDE
// (everything except executing a file with no x bit at all) and
// CAP_DAC_READ_SEARCH (reading anything, searching directories).
inline ErrnoOr<void> CheckPermission(const Creds& c, const struct stat& st,
                                     int may) {
  int bits;
  if (c.uid == st.st_uid) {
    bits = (st.st_mode >> 6) & 7;
  } else if (c.InGroup(st.st_gid)) {
    bits = (st.st_mode >> 3) & 7;
  } else {
    bits = st.st_mode & 7;
  }
  if ((bits & may) == may) return {};
  const bool dir = S_ISDIR(st.st_mode);
  if (c.HasCap(CAP_DAC_OVERRIDE)) {
    if (!(may & kMayExec) || dir || (st.st_mode & 0111)) return {};
  }
  if (c.HasCap(CAP_DAC_READ_SEARCH)) {
    if (may == kMayRead || (dir && !(may & kMayWrite))) return {};
  }
  return Errno(EACCES);
}

// Whether `c` owns the file or may act as if (CAP_FOWNER).
inline bool IsOwnerOrCapable(const Creds& c, const struct stat& st) {
  return c.uid == st.st_uid || c.HasCap(CAP_FOWNER);
}

}  // namespace sentry::vfs

#endif  // SENTRY_VFS_CREDS_H_
