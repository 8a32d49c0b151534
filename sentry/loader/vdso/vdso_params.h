/* The vDSO's parameter page ([vvar], the page just below the vDSO image):
 * the Sentry keeps it current and every guest process maps it read-only,
 * so clock_gettime and friends read the time without trapping.
 *
 * Time is computed from the TSC: ns = mono_base_ns + (tsc - tsc_base) *
 * mult >> shift. The Sentry re-anchors the parameters about once a second,
 * continuing from where the old ones were at that instant (so the clock
 * never steps back) and adjusting `mult` so the clock converges on the
 * host's CLOCK_MONOTONIC. Readers retry while `seq` is odd or changed.
 *
 * Plain C: included by the vDSO (built freestanding) and by the Sentry. */
#ifndef SENTRY_LOADER_VDSO_VDSO_PARAMS_H_
#define SENTRY_LOADER_VDSO_VDSO_PARAMS_H_

#include <stdint.h>

/* The TSC is usable (invariant on this host): time needs no syscall. */
#define SENTRY_VDSO_TSC 0x1u
/* rdtscp works: getcpu reads the CPU from TSC_AUX. */
#define SENTRY_VDSO_RDTSCP 0x2u

struct SentryVdsoParams {
  uint32_t seq;
  uint32_t flags;
  uint64_t tsc_base;
  int64_t mono_base_ns;   /* CLOCK_MONOTONIC at tsc_base */
  int64_t real_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
  int64_t boot_offset_ns; /* CLOCK_BOOTTIME - CLOCK_MONOTONIC (suspends) */
  uint64_t mult;
  uint32_t shift;
  uint32_t pad;
};

#endif /* SENTRY_LOADER_VDSO_VDSO_PARAMS_H_ */
