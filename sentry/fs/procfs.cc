// /proc's root and system-wide files. See procfs.h.
#include "sentry/fs/procfs.h"

#include <cpuid.h>
#include <linux/magic.h>
#include <sys/random.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sentry/fs/pipe.h"
#include "sentry/fs/procfs_internal.h"
#include "sentry/kernel/version.h"

namespace sentry::fs {
namespace procfs {

vfs::Path ReaderRoot(const Ctx& ctx) {
  if (kernel::Task* t = kernel::CurrentTask()) return t->fs().root;
  return ctx.kernel->mounts()->root();
}

std::string MountsText(const Ctx& ctx, kernel::Task& t, bool mountinfo) {
  std::string out;
  vfs::MountNamespace* ns = ctx.kernel->mounts();
  if (ns == nullptr) return out;
  const vfs::Path root = t.fs().root;
  for (const std::shared_ptr<vfs::Mount>& m : ns->All()) {
    vfs::Path at{m, m->root()};
    std::string point = vfs::PathName(at, root);
    vfs::MountFlags f = m->flags();
    std::string opts = f.read_only ? "ro" : "rw";
    if (f.nosuid) opts += ",nosuid";
    if (f.nodev) opts += ",nodev";
    if (f.noexec) opts += ",noexec";
    std::string super = f.read_only ? "ro" : "rw";
    if (!m->options().empty()) absl::StrAppend(&super, ",", m->options());
    if (!mountinfo) {
      std::string all = opts;
      if (!m->options().empty()) absl::StrAppend(&all, ",", m->options());
      absl::StrAppend(&out, m->source(), " ", point, " ", m->fstype(), " ", all,
                      " 0 0\n");
      continue;
    }
    dev_t dev = 0;
    if (auto st = m->root()->inode()->Stat(); st.ok()) dev = st->st_dev;
    vfs::Path parent = m->mountpoint();
    uint64_t parent_id = parent.mount ? parent.mount->id() : m->id();
    absl::StrAppendFormat(&out, "%d %d %d:%d / %s %s - %s %s %s\n", m->id(),
                          parent_id, major(dev), minor(dev), point, opts,
                          m->fstype(), m->source(), super);
  }
  return out;
}

namespace {

using Entries =
    std::vector<std::pair<std::string, std::shared_ptr<vfs::Inode>>>;

std::string Uuid() {
  uint8_t b[16];
  if (getrandom(b, sizeof(b), 0) != sizeof(b)) std::memset(b, 0, sizeof(b));
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  return absl::StrFormat(
      "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
      b[12], b[13], b[14], b[15]);
}

long Cpus() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? n : 1;
}

// /proc/cpuinfo from the cpuid instruction, run by the Sentry itself.
std::string CpuInfo() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  char vendor[13] = {};
  __get_cpuid(0, &a, &b, &c, &d);
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &c, 4);
  unsigned eax1 = 0, ebx1 = 0, ecx1 = 0, edx1 = 0;
  __get_cpuid(1, &eax1, &ebx1, &ecx1, &edx1);
  unsigned family = (eax1 >> 8) & 0xf, model = (eax1 >> 4) & 0xf;
  if (family == 0xf) family += (eax1 >> 20) & 0xff;
  if (family == 0x6 || family >= 0xf) model |= ((eax1 >> 16) & 0xf) << 4;
  char brand[49] = {};
  unsigned max_ext = __get_cpuid_max(0x80000000, nullptr);
  if (max_ext >= 0x80000004) {
    for (unsigned i = 0; i < 3; ++i) {
      unsigned r[4] = {};
      __get_cpuid(0x80000002 + i, &r[0], &r[1], &r[2], &r[3]);
      std::memcpy(brand + 16 * i, r, 16);
    }
  }
  unsigned eax7 = 0, ebx7 = 0, ecx7 = 0, edx7 = 0;
  __get_cpuid_count(7, 0, &eax7, &ebx7, &ecx7, &edx7);
  unsigned ecx81 = 0, edx81 = 0, t0 = 0, t1 = 0;
  if (max_ext >= 0x80000001) __get_cpuid(0x80000001, &t0, &t1, &ecx81, &edx81);
  struct Flag {
    const unsigned* reg;
    int bit;
    const char* name;
  };
  const Flag flags[] = {
      {&edx1, 0, "fpu"},      {&edx1, 1, "vme"},       {&edx1, 2, "de"},
      {&edx1, 3, "pse"},      {&edx1, 4, "tsc"},       {&edx1, 5, "msr"},
      {&edx1, 6, "pae"},      {&edx1, 7, "mce"},       {&edx1, 8, "cx8"},
      {&edx1, 9, "apic"},     {&edx1, 11, "sep"},      {&edx1, 12, "mtrr"},
      {&edx1, 13, "pge"},     {&edx1, 14, "mca"},      {&edx1, 15, "cmov"},
      {&edx1, 16, "pat"},     {&edx1, 17, "pse36"},    {&edx1, 19, "clflush"},
      {&edx1, 23, "mmx"},     {&edx1, 24, "fxsr"},     {&edx1, 25, "sse"},
      {&edx1, 26, "sse2"},    {&edx1, 28, "ht"},       {&edx81, 11, "syscall"},
      {&edx81, 20, "nx"},     {&edx81, 26, "pdpe1gb"}, {&edx81, 27, "rdtscp"},
      {&edx81, 29, "lm"},     {&ecx1, 0, "pni"},       {&ecx1, 1, "pclmulqdq"},
      {&ecx1, 9, "ssse3"},    {&ecx1, 12, "fma"},      {&ecx1, 13, "cx16"},
      {&ecx1, 19, "sse4_1"},  {&ecx1, 20, "sse4_2"},   {&ecx1, 22, "movbe"},
      {&ecx1, 23, "popcnt"},  {&ecx1, 25, "aes"},      {&ecx1, 26, "xsave"},
      {&ecx1, 28, "avx"},     {&ecx1, 29, "f16c"},     {&ecx1, 30, "rdrand"},
      {&ecx81, 0, "lahf_lm"}, {&ecx81, 5, "abm"},      {&ebx7, 0, "fsgsbase"},
      {&ebx7, 3, "bmi1"},     {&ebx7, 5, "avx2"},      {&ebx7, 7, "smep"},
      {&ebx7, 8, "bmi2"},     {&ebx7, 9, "erms"},      {&ebx7, 16, "avx512f"},
      {&ebx7, 18, "rdseed"},  {&ebx7, 19, "adx"},      {&ebx7, 20, "smap"},
      {&ebx7, 29, "sha_ni"},
  };
  std::vector<std::string> names;
  for (const Flag& f : flags) {
    if ((*f.reg >> f.bit) & 1) names.push_back(f.name);
  }
  std::string flag_text = absl::StrJoin(names, " ");
  std::string out;
  const long n = Cpus();
  for (long i = 0; i < n; ++i) {
    absl::StrAppendFormat(
        &out,
        "processor\t: %d\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n"
        "model name\t: %s\nstepping\t: %u\nphysical id\t: 0\nsiblings\t: %d\n"
        "core id\t\t: %d\ncpu cores\t: %d\nfpu\t\t: yes\nfpu_exception\t: "
        "yes\ncpuid level\t: %u\nwp\t\t: yes\nflags\t\t: %s\n"
        "clflush size\t: 64\ncache_alignment\t: 64\n"
        "address sizes\t: 46 bits physical, 48 bits virtual\n"
        "power management:\n\n",
        i, vendor, family, model, brand, eax1 & 0xf, n, i, n, a, flag_text);
  }
  return out;
}

std::string MemInfo(kernel::Kernel& k) {
  uint64_t host = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) *
                  static_cast<uint64_t>(sysconf(_SC_PAGE_SIZE));
  uint64_t total = std::min<uint64_t>(host, k.memory().size());
  uint64_t used = std::min(k.memory().AllocatedBytes(), total);
  uint64_t free_kb = (total - used) / 1024;
  std::string out;
  auto row = [&](const char* name, uint64_t kb) {
    absl::StrAppendFormat(&out, "%-16s%8u kB\n", absl::StrCat(name, ":"), kb);
  };
  row("MemTotal", total / 1024);
  row("MemFree", free_kb);
  row("MemAvailable", free_kb);
  for (const char* name :
       {"Buffers", "Cached", "SwapCached", "Active", "Inactive", "SwapTotal",
        "SwapFree", "Dirty", "Writeback", "AnonPages", "Mapped", "Shmem"}) {
    row(name, 0);
  }
  return out;
}

// CLOCK_BOOTTIME, as sysinfo's uptime (the host's, like every clock the
// sandbox reads).
double UptimeSeconds(kernel::Kernel&) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string StatText(kernel::Kernel& k) {
  std::string out = "cpu  0 0 0 0 0 0 0 0 0 0\n";
  for (long i = 0; i < Cpus(); ++i) {
    absl::StrAppendFormat(&out, "cpu%d 0 0 0 0 0 0 0 0 0 0\n", i);
  }
  time_t btime = time(nullptr) - static_cast<time_t>(UptimeSeconds(k));
  size_t tasks = k.Tasks().size();
  absl::StrAppendFormat(&out,
                        "intr 0\nctxt 0\nbtime %d\nprocesses %u\n"
                        "procs_running 1\nprocs_blocked 0\n"
                        "softirq 0 0 0 0 0 0 0 0 0 0 0\n",
                        btime, tasks);
  return out;
}

}  // namespace
}  // namespace procfs

absl::StatusOr<std::shared_ptr<vfs::Mount>> MakeProcfs(kernel::Kernel& kernel) {
  using procfs::Entries;
  auto fs = std::make_shared<SyntheticFs>(PROC_SUPER_MAGIC);
  procfs::Ctx ctx{&kernel, fs};
  kernel::Kernel* k = &kernel;
  auto text = [](std::string s) {
    return [s]() -> ErrnoOr<std::string> { return s; };
  };
  const std::string boot_id = procfs::Uuid();

  auto random =
      MakeDir(fs, "sys/kernel/random",
              {{"boot_id", MakeFile(fs, "boot_id", text(boot_id))},
               {"uuid", MakeFile(fs, "uuid", []() -> ErrnoOr<std::string> {
                  return procfs::Uuid();
                })}});
  auto sys_kernel = MakeDir(
      fs, "sys/kernel",
      {{"hostname", MakeFile(fs, "hostname",
                             [k]() -> ErrnoOr<std::string> {
                               return k->hostname() + "\n";
                             })},
       {"domainname", MakeFile(fs, "domainname",
                               [k]() -> ErrnoOr<std::string> {
                                 return k->domainname() + "\n";
                               })},
       {"ostype", MakeFile(fs, "ostype", text("Linux\n"))},
       {"osrelease", MakeFile(fs, "osrelease",
                              text(std::string(kernel::kLinuxRelease) + "\n"))},
       {"random", random}});
  auto sys_fs = MakeDir(
      fs, "sys/fs",
      {{"pipe-max-size",
        MakeFile(fs, "pipe-max-size", text(absl::StrCat(kPipeMaxSize, "\n")))},
       // The ceiling setrlimit(RLIMIT_NOFILE) enforces.
       {"nr_open", MakeFile(fs, "nr_open", text("1048576\n"))}});
  auto sys = MakeDir(fs, "sys", {{"kernel", sys_kernel}, {"fs", sys_fs}});

  auto link = [&](const std::string& key, auto target) {
    return std::make_shared<SynthSymlink>(
        SynthAttr{fs, key, S_IFLNK | 0777, 0, 0}, target);
  };
  Entries fixed = {
      {"self", link("self",
                    []() -> ErrnoOr<std::string> {
                      kernel::Task* t = kernel::CurrentTask();
                      if (t == nullptr) return Errno(ENOENT);
                      return std::to_string(t->pid());
                    })},
      {"thread-self", link("thread-self",
                           []() -> ErrnoOr<std::string> {
                             kernel::Task* t = kernel::CurrentTask();
                             if (t == nullptr) return Errno(ENOENT);
                             return absl::StrCat(t->pid(), "/task/", t->tid());
                           })},
      {"mounts", link("mounts", text("self/mounts"))},
      {"cpuinfo",
       MakeFile(fs, "cpuinfo",
                []() -> ErrnoOr<std::string> { return procfs::CpuInfo(); })},
      {"meminfo",
       MakeFile(fs, "meminfo",
                [k]() -> ErrnoOr<std::string> { return procfs::MemInfo(*k); })},
      {"stat", MakeFile(fs, "stat",
                        [k]() -> ErrnoOr<std::string> {
                          return procfs::StatText(*k);
                        })},
      {"uptime", MakeFile(fs, "uptime",
                          [k]() -> ErrnoOr<std::string> {
                            return absl::StrFormat("%.2f 0.00\n",
                                                   procfs::UptimeSeconds(*k));
                          })},
      {"loadavg", MakeFile(fs, "loadavg",
                           [k]() -> ErrnoOr<std::string> {
                             std::vector<int> tids = k->Tasks();
                             return absl::StrFormat(
                                 "0.00 0.00 0.00 1/%u %d\n", tids.size(),
                                 tids.empty() ? 0 : tids.back());
                           })},
      {"version",
       MakeFile(fs, "version",
                text(absl::StrCat("Linux version ", kernel::kLinuxRelease,
                                  " (sentry@sentry) (gcc) ",
                                  kernel::kLinuxVersion, "\n")))},
      {"filesystems", MakeFile(fs, "filesystems",
                               text("nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\n"
                                    "nodev\tpipefs\nnodev\tanon_inodefs\n"))},
      {"sys", sys},
  };
  auto root = std::make_shared<SynthDir>(
      SynthAttr{fs, "", S_IFDIR | 0555, 0, 0},
      [ctx, fixed]() {
        Entries e = fixed;
        for (int tid : ctx.kernel->Tasks()) {
          e.emplace_back(std::to_string(tid),
                         procfs::TaskDir(ctx, tid, tid, false));
        }
        return e;
      },
      // A thread's /proc/[tid] is there for lookups but not listed, as on
      // Linux.
      [ctx](const std::string& name) -> std::shared_ptr<vfs::Inode> {
        int tid = 0;
        if (!absl::SimpleAtoi(name, &tid) || tid <= 0 ||
            std::to_string(tid) != name) {
          return nullptr;
        }
        ErrnoOr<int> pid = ctx.kernel->WithTask(
            tid, [](kernel::Task& t) -> ErrnoOr<int> { return t.pid(); });
        if (!pid.ok()) return nullptr;
        return procfs::TaskDir(ctx, tid, tid, false);
      });
  auto mount = std::make_shared<vfs::Mount>(
      "proc", "proc", std::make_shared<vfs::Dentry>(root),
      vfs::MountFlags{
          .read_only = false, .nosuid = true, .nodev = true, .noexec = true});
  fs->set_mount(mount);
  return mount;
}

}  // namespace sentry::fs
