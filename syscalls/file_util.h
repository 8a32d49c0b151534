// Helpers shared by the file syscall families: fetching paths and files,
// and moving bytes between files and guest memory.
#ifndef SYSCALLS_FILE_UTIL_H_
#define SYSCALLS_FILE_UTIL_H_

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sentry/base/errno_or.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/file_description.h"
#include "syscalls/args.h"

namespace sentry::syscalls {

using FilePtr = std::shared_ptr<vfs::FileDescription>;

// Linux's MAX_RW_COUNT: one call moves at most INT_MAX rounded down to a
// page.
inline constexpr uint64_t kMaxRwCount = 0x7ffff000;

// A path argument: EFAULT if unreadable, ENAMETOOLONG if longer than
// PATH_MAX with its NUL.
ErrnoOr<std::string> CopyInPath(kernel::Task& t, CString path);

ErrnoOr<FilePtr> GetFile(kernel::Task& t, Fd fd);

// The largest size the task may give a file: its RLIMIT_FSIZE.
uint64_t FileSizeLimit(kernel::Task& t);
// Writing or truncating a file past RLIMIT_FSIZE: raises SIGXFSZ on the
// task's process (whose default action ends it) and returns EFBIG, as
// Linux's inode_newsize_ok and generic_write_check_limits do.
Errno FileTooBig(kernel::Task& t);

// read(2)/pread(2) into guest memory at `addr`: checks that the buffer is
// writable first (so a bad buffer loses no data from a pipe), then copies
// through the task's scratch buffer. `offset` selects pread.
ErrnoOr<uint64_t> ReadToGuest(kernel::Task& t, vfs::FileDescription& f,
                              uint64_t addr, uint64_t count,
                              std::optional<uint64_t> offset);
// A write to a regular file stops at RLIMIT_FSIZE; one that would start at
// or past it fails with FileTooBig.
ErrnoOr<uint64_t> WriteFromGuest(kernel::Task& t, vfs::FileDescription& f,
                                 uint64_t addr, uint64_t count,
                                 std::optional<uint64_t> offset);

// Copies bytes [from, from + out.size()) of the data the iovecs describe
// into `out` (EFAULT if unreadable).
ErrnoOr<void> GatherIovecs(kernel::Task& t,
                           const std::vector<struct iovec>& vecs, uint64_t from,
                           std::span<uint8_t> out);
// Copies `data` into the iovecs, in order (EFAULT if unwritable).
ErrnoOr<void> ScatterIovecs(kernel::Task& t,
                            const std::vector<struct iovec>& vecs,
                            std::span<const uint8_t> data);

// Converts a Resolver-relative "start" for *at() syscalls: absolute paths
// ignore dirfd, as Linux does (even a bad one).
ErrnoOr<vfs::Path> StartFor(kernel::Task& t, Fd dirfd, const std::string& path);

// Resolves a path argument of an *at() syscall: relative to `dirfd`,
// following a final symlink if `follow`, "" meaning dirfd itself if
// `empty_path` (AT_EMPTY_PATH).
ErrnoOr<vfs::Path> LookupAt(kernel::Task& t, Fd dirfd, const std::string& path,
                            bool follow, bool empty_path);

}  // namespace sentry::syscalls

#endif  // SYSCALLS_FILE_UTIL_H_
