// Shared between procfs.cc (the root and system-wide files) and
// procfs_task.cc (the per-task directories).
#ifndef SENTRY_FS_PROCFS_INTERNAL_H_
#define SENTRY_FS_PROCFS_INTERNAL_H_

#include <memory>
#include <string>

#include "sentry/fs/synthetic.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace sentry::fs::procfs {

struct Ctx {
  kernel::Kernel* kernel;
  std::shared_ptr<SyntheticFs> fs;
};

// /proc/[pid] (or /proc/[pid]/task/[tid] when `thread`).
std::shared_ptr<vfs::Inode> TaskDir(const Ctx& ctx, int pid, int tid,
                                    bool thread);
// The mounts table in /proc/mounts format, or mountinfo's.
std::string MountsText(const Ctx& ctx, kernel::Task& t, bool mountinfo);
// The root the reader sees paths from (the calling task's, or the
// namespace's).
vfs::Path ReaderRoot(const Ctx& ctx);

}  // namespace sentry::fs::procfs

#endif  // SENTRY_FS_PROCFS_INTERNAL_H_
