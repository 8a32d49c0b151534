#include "sentry/vfs/special.h"

#include <map>

#include "absl/synchronization/mutex.h"

namespace sentry::vfs {
namespace {

struct Registry {
  absl::Mutex mu;
  std::map<dev_t, DeviceOpener> devices ABSL_GUARDED_BY(mu);
  FifoOpener fifo ABSL_GUARDED_BY(mu);
};

Registry& GetRegistry() {
  static Registry* r = new Registry;
  return *r;
}

}  // namespace

void RegisterCharDevice(dev_t dev, DeviceOpener opener) {
  Registry& r = GetRegistry();
  absl::MutexLock l(&r.mu);
  r.devices[dev] = std::move(opener);
}

ErrnoOr<std::shared_ptr<FileDescription>> OpenCharDevice(dev_t dev, int flags) {
  DeviceOpener opener;
  {
    Registry& r = GetRegistry();
    absl::MutexLock l(&r.mu);
    auto it = r.devices.find(dev);
    if (it == r.devices.end()) return Errno(ENXIO);
    opener = it->second;
  }
  return opener(flags);
}

void RegisterFifoOpener(FifoOpener opener) {
  Registry& r = GetRegistry();
  absl::MutexLock l(&r.mu);
  r.fifo = std::move(opener);
}

ErrnoOr<std::shared_ptr<FileDescription>> OpenFifo(std::shared_ptr<void>& state,
                                                   int flags) {
  FifoOpener opener;
  {
    Registry& r = GetRegistry();
    absl::MutexLock l(&r.mu);
    opener = r.fifo;
  }
  if (!opener) return Errno(ENXIO);
  return opener(state, flags);
}

}  // namespace sentry::vfs
