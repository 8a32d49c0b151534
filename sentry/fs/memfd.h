// memfd_create(2): an unnamed regular file on a tmpfs that the sandbox
// keeps for the purpose (one per MemoryFile, i.e. per sandbox), with file
// seals (F_ADD_SEALS/F_GET_SEALS) enforced by tmpfs.
//
// The file's path is "/memfd:NAME (deleted)", as /proc/[pid]/fd shows on
// Linux: a dentry on the internal mount that was never linked.
//
// Lock order: the registry's mutex is a leaf.
#ifndef SENTRY_FS_MEMFD_H_
#define SENTRY_FS_MEMFD_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "sentry/base/errno_or.h"
#include "sentry/mm/memory_file.h"
#include "sentry/vfs/file_description.h"

namespace sentry::fs {

// `flags`: MFD_CLOEXEC (the caller's business) and MFD_ALLOW_SEALING;
// others are EINVAL. `name` at most 249 bytes (EINVAL beyond).
ErrnoOr<std::shared_ptr<vfs::FileDescription>> CreateMemfd(
    mm::MemoryFile& memory, const std::string& name, unsigned flags, uid_t uid,
    gid_t gid);

}  // namespace sentry::fs

#endif  // SENTRY_FS_MEMFD_H_
