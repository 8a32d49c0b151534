#include "sentry/kernel/vdso.h"

#include <cpuid.h>
#include <time.h>
#include <x86intrin.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/time/time.h"
#include "sentry/base/log.h"
#include "sentry/loader/vdso/vdso_params.h"

extern "C" const unsigned char kSentryVdsoImage[];
extern "C" const unsigned long kSentryVdsoImageSize;

namespace sentry::kernel {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint32_t kShift = 32;
// How long the TSC's rate is first measured over, and how often the
// parameters are re-anchored after that.
constexpr absl::Duration kFirstCalibration = absl::Milliseconds(20);
constexpr absl::Duration kUpdateInterval = absl::Seconds(1);

int64_t ClockNs(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// A TSC reading with the host clocks read as close to it as possible.
struct Sample {
  uint64_t tsc;
  int64_t mono;
  int64_t real;
  int64_t boot;
};

Sample TakeSample() {
  // The tightest of a few tries: a preemption between the reads would
  // skew the pair.
  Sample best{};
  uint64_t best_gap = ~uint64_t{0};
  for (int i = 0; i < 5; ++i) {
    _mm_lfence();
    uint64_t before = __rdtsc();
    int64_t mono = ClockNs(CLOCK_MONOTONIC);
    uint64_t after = __rdtsc();
    if (after - before < best_gap) {
      best_gap = after - before;
      best = {before + (after - before) / 2, mono, 0, 0};
    }
  }
  // The offsets tolerate a few ns of skew.
  best.real = ClockNs(CLOCK_REALTIME);
  best.boot = ClockNs(CLOCK_BOOTTIME);
  return best;
}

// Whether the guest can compute time from the TSC: it must tick at a
// constant rate through sleep states (Linux's constant_tsc and
// nonstop_tsc), as the host's own clocksource relies on.
uint32_t HostFlags() {
  std::ifstream in("/proc/cpuinfo");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string info = ss.str();
  auto has = [&](const char* flag) {
    return info.find(std::string(" ") + flag + " ") != std::string::npos ||
           info.find(std::string(" ") + flag + "\n") != std::string::npos;
  };
  uint32_t flags = 0;
  if (has("constant_tsc") && has("nonstop_tsc")) flags |= SENTRY_VDSO_TSC;
  if (has("rdtscp")) flags |= SENTRY_VDSO_RDTSCP;
  return flags;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Vdso>> Vdso::Create(mm::MemoryFile& memory) {
  uint64_t image_length = (kSentryVdsoImageSize + kPage - 1) & ~(kPage - 1);
  ErrnoOr<uint64_t> offset = memory.Allocate(kPage + image_length);
  if (!offset.ok()) return absl::ResourceExhaustedError("no memory for vDSO");
  std::memcpy(memory.Access(*offset + kPage), kSentryVdsoImage,
              kSentryVdsoImageSize);
  auto* params = reinterpret_cast<SentryVdsoParams*>(memory.Access(*offset));
  *params = SentryVdsoParams{};
  // Until calibrated, only getcpu's fast path is on.
  params->flags = HostFlags() & SENTRY_VDSO_RDTSCP;
  std::unique_ptr<Vdso> vdso(new Vdso(memory, *offset, image_length));
  vdso->updater_ = std::thread([v = vdso.get()] { v->Update(); });
  return vdso;
}

Vdso::~Vdso() {
  stop_.Notify();
  if (updater_.joinable()) updater_.join();
  memory_.Free(offset_, kPage + image_length_);
}

std::vector<mm::KernelPages> Vdso::Pages() const {
  return {{offset_, kPage, PROT_READ, "[vvar]"},
          {offset_ + kPage, image_length_, PROT_READ | PROT_EXEC, "[vdso]"}};
}

void Vdso::Update() {
  auto* params = reinterpret_cast<SentryVdsoParams*>(memory_.Access(offset_));
  const uint32_t host = HostFlags();
  if (!(host & SENTRY_VDSO_TSC)) {
    SENTRY_LOG(kInfo, "no invariant TSC: vDSO time calls trap");
    return;
  }
  // Publishes new parameters (seqlock: odd while writing).
  auto publish = [params, host](uint64_t tsc_base, int64_t mono_base,
                                int64_t real_offset, int64_t boot_offset,
                                uint64_t mult) {
    uint32_t seq = __atomic_load_n(&params->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&params->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    params->tsc_base = tsc_base;
    params->mono_base_ns = mono_base;
    params->real_offset_ns = real_offset;
    params->boot_offset_ns = boot_offset;
    params->mult = mult;
    params->shift = kShift;
    params->flags = host;
    __atomic_store_n(&params->seq, seq + 2, __ATOMIC_RELEASE);
  };
  const Sample first = TakeSample();
  if (stop_.WaitForNotificationWithTimeout(kFirstCalibration)) return;
  Sample now = TakeSample();
  // ns per tick << kShift, from the longest baseline measured so far.
  auto rate = [&first](const Sample& s) -> uint64_t {
    if (s.tsc <= first.tsc) return 0;
    return static_cast<uint64_t>(
        (static_cast<unsigned __int128>(s.mono - first.mono) << kShift) /
        (s.tsc - first.tsc));
  };
  uint64_t mult = rate(now);
  if (mult == 0) return;
  uint64_t tsc_base = now.tsc;
  int64_t mono_base = now.mono;
  publish(tsc_base, mono_base, now.real - now.mono, now.boot - now.mono, mult);
  const int64_t interval_ns = absl::ToInt64Nanoseconds(kUpdateInterval);
  while (!stop_.WaitForNotificationWithTimeout(kUpdateInterval)) {
    now = TakeSample();
    // Where the published clock is now: the new anchor, so it never
    // steps back.
    uint64_t delta = now.tsc > tsc_base ? now.tsc - tsc_base : 0;
    int64_t predicted =
        mono_base +
        static_cast<int64_t>((static_cast<unsigned __int128>(delta) * mult) >>
                             kShift);
    int64_t error = now.mono - predicted;  // > 0: the guest's clock lags
    uint64_t base_rate = rate(now);
    if (base_rate == 0) continue;
    if (error > interval_ns / 10) {
      // Far behind (the updater was starved): jump forward.
      predicted = now.mono;
      error = 0;
    }
    // Run fast or slow enough to close the gap over the next interval.
    int64_t clamped =
        std::clamp<int64_t>(error, -interval_ns / 10, interval_ns / 10);
    mult =
        static_cast<uint64_t>((static_cast<unsigned __int128>(base_rate) *
                               static_cast<uint64_t>(interval_ns + clamped)) /
                              static_cast<uint64_t>(interval_ns));
    tsc_base = now.tsc;
    mono_base = predicted;
    publish(tsc_base, mono_base, now.real - now.mono, now.boot - now.mono,
            mult);
  }
}

}  // namespace sentry::kernel
