// Syscall round trips, natively and under the Sentry, in one run.
//
// BM_GetpidNative is the host's own getpid. BM_GetpidPtrace runs a guest
// that loops on `syscall(SYS_getpid)` in a real ptrace stub: each iteration
// is one guest syscall caught by the platform, dispatched through the
// syscall table, and resumed -- exactly what a guest pays per syscall.
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "benchmark/benchmark.h"
#include "platform/platforms.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/memory_manager.h"
#include "syscalls/table.h"

namespace sentry {
namespace {

void BM_GetpidNative(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(syscall(SYS_getpid));
}
BENCHMARK(BM_GetpidNative);

// A guest that calls getpid forever: mov $39, %eax; syscall; jmp back.
constexpr char kGetpidLoop[] = "\xb8\x27\x00\x00\x00\x0f\x05\xeb\xf7";
constexpr uint64_t kCodeAddr = 0x400000;

void BM_GetpidPtrace(benchmark::State& state) {
  auto memory = mm::MemoryFile::Create(1ULL << 30);
  if (!memory.ok()) return state.SkipWithError("MemoryFile");
  auto platform = platform::CreatePlatform("ptrace", (*memory)->fd());
  if (!platform.ok()) return state.SkipWithError("platform");
  kernel::Kernel kernel({}, std::move(*memory), std::move(*platform),
                        &syscalls::Dispatch);
  auto as = kernel.platform().NewAddressSpace();
  if (!as.ok()) return state.SkipWithError("address space");
  auto mm = std::make_unique<mm::MemoryManager>(
      kernel.memory(), **as, kernel.platform().MinUserAddress(),
      kernel.platform().MaxUserAddress());
  mm::MmapRequest code;
  code.addr = kCodeAddr;
  code.length = mm::kPageSize;
  code.prot = PROT_READ | PROT_EXEC;
  code.fixed = true;
  if (!mm->Map(code).ok() ||
      !mm->Poke(kCodeAddr, kGetpidLoop, sizeof(kGetpidLoop) - 1).ok()) {
    return state.SkipWithError("guest code");
  }
  kernel::Task task(kernel, std::move(*as), std::move(mm));
  task.regs().rip = kCodeAddr;
  for (auto _ : state) {
    auto event = task.context().Switch(task.address_space(), task.regs());
    if (!event.ok() || event->event != platform::SwitchEvent::kSyscall) {
      return state.SkipWithError("guest did not make a syscall");
    }
    syscalls::Dispatch(task);
  }
  if (task.regs().rax != 1)
    state.SkipWithError("getpid returned the wrong pid");
}
BENCHMARK(BM_GetpidPtrace);

}  // namespace
}  // namespace sentry

BENCHMARK_MAIN();
