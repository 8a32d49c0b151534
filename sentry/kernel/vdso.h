// Vdso: the vDSO image and its parameter page in the MemoryFile, shared by
// every guest process, and the thread that keeps the parameters current.
//
// How time works without traps: the guest's vDSO reads the TSC and turns
// it into CLOCK_MONOTONIC with the page's parameters (see vdso_params.h).
// The parameters are published only once the TSC's rate has been measured
// against the host clock (tens of milliseconds after start: until then,
// and on hosts without an invariant TSC, the vDSO makes the syscall).
#ifndef SENTRY_KERNEL_VDSO_H_
#define SENTRY_KERNEL_VDSO_H_

#include <memory>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/memory_manager.h"

namespace sentry::kernel {

class Vdso {
 public:
  static absl::StatusOr<std::unique_ptr<Vdso>> Create(mm::MemoryFile& memory);
  ~Vdso();  // stops the updater

  // What the loader maps: [vvar] (read-only) then [vdso] (read+execute).
  std::vector<mm::KernelPages> Pages() const;

 private:
  Vdso(mm::MemoryFile& memory, uint64_t offset, uint64_t image_length)
      : memory_(memory), offset_(offset), image_length_(image_length) {}
  void Update();  // the updater thread's loop

  mm::MemoryFile& memory_;
  const uint64_t offset_;        // the parameter page; the image follows
  const uint64_t image_length_;  // page aligned
  absl::Notification stop_;
  std::thread updater_;
};

}  // namespace sentry::kernel

#endif  // SENTRY_KERNEL_VDSO_H_
