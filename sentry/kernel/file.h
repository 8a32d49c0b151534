// File: an open file description as the guest's FD table holds it. This is
// the seed of the VFS's FileDescription: only what stdio needs exists yet.
#ifndef SENTRY_KERNEL_FILE_H_
#define SENTRY_KERNEL_FILE_H_

#include <sys/stat.h>

#include <cstdint>

#include "sentry/base/errno_or.h"

namespace sentry::kernel {

class Task;

class File {
 public:
  virtual ~File() = default;
  // read(2)/write(2) between the file and guest memory at `addr`.
  virtual ErrnoOr<uint64_t> Read(Task& task, uint64_t addr, uint64_t count) = 0;
  virtual ErrnoOr<uint64_t> Write(Task& task, uint64_t addr,
                                  uint64_t count) = 0;
  virtual ErrnoOr<struct stat> Stat() = 0;
  virtual ErrnoOr<uint64_t> Ioctl(Task& task, uint32_t request,
                                  uint64_t arg) = 0;
};

}  // namespace sentry::kernel

#endif  // SENTRY_KERNEL_FILE_H_
