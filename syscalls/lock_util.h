// fcntl's lock commands, shared by sys_open.cc (fcntl) and sys_lock.cc.
#ifndef SYSCALLS_LOCK_UTIL_H_
#define SYSCALLS_LOCK_UTIL_H_

#include "syscalls/file_util.h"

namespace sentry::syscalls {

ErrnoOr<uint64_t> FcntlLock(kernel::Task& t, const FilePtr& file, int cmd,
                            uint64_t arg);

}  // namespace sentry::syscalls

#endif  // SYSCALLS_LOCK_UTIL_H_
