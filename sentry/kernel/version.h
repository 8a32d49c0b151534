// The Linux version the Sentry presents (uname(2), /proc/version,
// /proc/sys/kernel/osrelease). Userspace checks it against the features it
// uses; it names the kernel whose behaviour we emulate.
#ifndef SENTRY_KERNEL_VERSION_H_
#define SENTRY_KERNEL_VERSION_H_

namespace sentry::kernel {

inline constexpr char kLinuxRelease[] = "6.1.0-sentry";
inline constexpr char kLinuxVersion[] = "#1 SMP PREEMPT_DYNAMIC sentry";

}  // namespace sentry::kernel

#endif  // SENTRY_KERNEL_VERSION_H_
