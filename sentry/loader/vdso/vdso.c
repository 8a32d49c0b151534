/* The Sentry's vDSO: clock_gettime, gettimeofday, time, getcpu and
 * clock_getres without a trap, from the parameter page the Sentry keeps
 * (vdso_params.h). Anything it cannot answer (other clocks, a host without
 * an invariant TSC) is a real syscall instruction, which the platform
 * catches like any other.
 *
 * Freestanding: no libc, no relocations, no writable data; the image is
 * shared by every process of the sandbox. */
#include "vdso_params.h"

struct vdso_timespec {
  long tv_sec;
  long tv_nsec;
};
struct vdso_timeval {
  long tv_sec;
  long tv_usec;
};
struct vdso_timezone {
  int tz_minuteswest;
  int tz_dsttime;
};

enum {
  kClockRealtime = 0,
  kClockMonotonic = 1,
  kClockRealtimeCoarse = 5,
  kClockMonotonicCoarse = 6,
  kClockBoottime = 7,
};
enum {
  kSysGettimeofday = 96,
  kSysTime = 201,
  kSysClockGettime = 228,
  kSysClockGetres = 229,
  kSysGetcpu = 309,
};

/* The parameters are the page below this image's ELF header (the
 * linker's __ehdr_start), taken RIP-relative so the image needs no
 * relocation. */
static inline const volatile struct SentryVdsoParams* Params(void) {
  uintptr_t image;
  __asm__("lea __ehdr_start(%%rip), %0" : "=r"(image));
  return (const volatile struct SentryVdsoParams*)(image - 4096);
}

static inline long Syscall3(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "0"(nr), "D"(a), "S"(b), "d"(c)
                   : "rcx", "r11", "memory");
  return ret;
}

static inline uint64_t ReadTsc(void) {
  uint32_t lo, hi;
  /* lfence: the TSC is read after the loads before it, as Linux's
   * rdtsc_ordered does. */
  __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
  return ((uint64_t)hi << 32) | lo;
}

/* CLOCK_MONOTONIC and the realtime and boot-time offsets, in ns; 0 if the
 * TSC cannot be used here. */
static int Now(int64_t* mono, int64_t* real_offset, int64_t* boot_offset) {
  const volatile struct SentryVdsoParams* p = Params();
  for (;;) {
    uint32_t seq = p->seq;
    if (seq & 1) continue; /* the Sentry is mid-update: a few ns */
    __asm__ volatile("" ::: "memory");
    if (!(p->flags & SENTRY_VDSO_TSC)) return 0;
    uint64_t base = p->tsc_base;
    int64_t mono_base = p->mono_base_ns;
    int64_t offset = p->real_offset_ns;
    int64_t boot = p->boot_offset_ns;
    uint64_t mult = p->mult;
    uint32_t shift = p->shift;
    uint64_t tsc = ReadTsc();
    __asm__ volatile("" ::: "memory");
    if (p->seq != seq) continue;
    uint64_t delta = tsc > base ? tsc - base : 0;
    *mono = mono_base + (int64_t)(((unsigned __int128)delta * mult) >> shift);
    *real_offset = offset;
    *boot_offset = boot;
    return 1;
  }
}

static inline void ToTimespec(int64_t ns, struct vdso_timespec* ts) {
  ts->tv_sec = ns / 1000000000;
  ts->tv_nsec = ns % 1000000000;
}

int __vdso_clock_gettime(int clock, struct vdso_timespec* ts) {
  int64_t mono, offset, boot;
  switch (clock) {
    case kClockRealtime:
    case kClockRealtimeCoarse:
      if (!Now(&mono, &offset, &boot)) break;
      ToTimespec(mono + offset, ts);
      return 0;
    case kClockMonotonic:
    case kClockMonotonicCoarse:
      if (!Now(&mono, &offset, &boot)) break;
      ToTimespec(mono, ts);
      return 0;
    case kClockBoottime:
      if (!Now(&mono, &offset, &boot)) break;
      ToTimespec(mono + boot, ts);
      return 0;
    default:
      break;
  }
  return (int)Syscall3(kSysClockGettime, clock, (long)ts, 0);
}

int __vdso_gettimeofday(struct vdso_timeval* tv, struct vdso_timezone* tz) {
  int64_t mono, offset, boot;
  if (!Now(&mono, &offset, &boot)) {
    return (int)Syscall3(kSysGettimeofday, (long)tv, (long)tz, 0);
  }
  if (tv) {
    int64_t ns = mono + offset;
    tv->tv_sec = ns / 1000000000;
    tv->tv_usec = (ns % 1000000000) / 1000;
  }
  if (tz) {
    /* The sandbox's kernel time zone is UTC, as the syscall says. */
    tz->tz_minuteswest = 0;
    tz->tz_dsttime = 0;
  }
  return 0;
}

long __vdso_time(long* t) {
  int64_t mono, offset, boot;
  if (!Now(&mono, &offset, &boot)) return Syscall3(kSysTime, (long)t, 0, 0);
  long s = (mono + offset) / 1000000000;
  if (t) *t = s;
  return s;
}

int __vdso_getcpu(unsigned* cpu, unsigned* node, void* cache) {
  if (!(Params()->flags & SENTRY_VDSO_RDTSCP)) {
    return (int)Syscall3(kSysGetcpu, (long)cpu, (long)node, (long)cache);
  }
  uint32_t lo, hi, aux;
  __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
  /* Linux keeps (node << 12) | cpu in TSC_AUX. */
  if (cpu) *cpu = aux & 0xfff;
  if (node) *node = aux >> 12;
  return 0;
}

int __vdso_clock_getres(int clock, struct vdso_timespec* res) {
  switch (clock) {
    case kClockRealtime:
    case kClockMonotonic:
    case kClockBoottime:
      if (res) {
        res->tv_sec = 0;
        res->tv_nsec = 1;
      }
      return 0;
    default:
      return (int)Syscall3(kSysClockGetres, clock, (long)res, 0);
  }
}

/* The unprefixed names Linux's vDSO also exports. */
int clock_gettime(int, struct vdso_timespec*)
    __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct vdso_timeval*, struct vdso_timezone*)
    __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long*) __attribute__((weak, alias("__vdso_time")));
int getcpu(unsigned*, unsigned*, void*)
    __attribute__((weak, alias("__vdso_getcpu")));
int clock_getres(int, struct vdso_timespec*)
    __attribute__((weak, alias("__vdso_clock_getres")));
