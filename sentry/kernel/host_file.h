// HostFile: a host FD handed to the sandbox at start (the caller's stdio),
// presented to the guest as a file. The Sentry only reads, writes, stats and
// queries terminal attributes of such FDs, the host work the design allows
// for donated FDs.
//
// Blocking is interruptible: the Sentry polls the host FD together with the
// task's interrupt FD before each read or write, so a signal or a kill
// never waits for the host.
#ifndef SENTRY_KERNEL_HOST_FILE_H_
#define SENTRY_KERNEL_HOST_FILE_H_

#include "absl/status/statusor.h"
#include "sentry/base/unique_fd.h"
#include "sentry/vfs/file_description.h"

namespace sentry::kernel {

class HostFile final : public vfs::FileDescription {
 public:
  // Duplicates `host_fd`; the Sentry's own copy stays untouched, so a guest
  // that closes its stderr does not close the Sentry's.
  static absl::StatusOr<std::shared_ptr<HostFile>> Import(int host_fd);

  ErrnoOr<size_t> Read(Task& task, std::span<uint8_t> dst) override;
  ErrnoOr<size_t> Write(Task& task, std::span<const uint8_t> src) override;
  ErrnoOr<uint64_t> Seek(int64_t offset, int whence) override;
  ErrnoOr<struct stat> Stat() override;
  ErrnoOr<uint64_t> Ioctl(Task& task, uint32_t request, uint64_t arg) override;
  uint32_t Readiness(uint32_t mask) override;
  int host_fd() const override { return fd_.get(); }

 private:
  HostFile(UniqueFd fd, int flags)
      : FileDescription(flags), fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace sentry::kernel

#endif  // SENTRY_KERNEL_HOST_FILE_H_
