// procfs, built from the Sentry's own objects: tasks come from the kernel's
// task registry, /proc/[pid]/maps from the MemoryManager's VMAs, fd/ from
// the FD table, mounts from the mount namespace, cpuinfo from the cpuid
// instruction executed by the Sentry itself. The host's /proc is never
// read.
//
// Layout: /proc/{self, thread-self, mounts, cpuinfo, meminfo, stat, uptime,
// loadavg, version, filesystems}, /proc/sys/kernel/{hostname, ostype,
// osrelease, random/boot_id, random/uuid}, /proc/sys/fs/pipe-max-size, and
// per task /proc/[pid]/{stat, status, statm, maps, cmdline, environ, comm,
// limits, mounts, mountinfo, exe, cwd, root, fd/, fdinfo/, task/[tid]/}.
//
// How this differs from Linux: CPU times, page-fault and context-switch
// counters are 0 (the Sentry does not account them yet); RSS is reported as
// the mapped size (VMAs are backed eagerly); file mappings in maps show
// 00:00 0 for device and inode; re-opening /proc/[pid]/fd/N of a host FD
// (stdio) gives a new description of the same host file and of a pipe a
// new end of the same pipe, as Linux, but other path-less files (eventfd,
// epoll...) give ENXIO.
#ifndef SENTRY_FS_PROCFS_H_
#define SENTRY_FS_PROCFS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "sentry/kernel/kernel.h"
#include "sentry/vfs/dentry.h"

namespace sentry::fs {

absl::StatusOr<std::shared_ptr<vfs::Mount>> MakeProcfs(kernel::Kernel& kernel);

}  // namespace sentry::fs

#endif  // SENTRY_FS_PROCFS_H_
