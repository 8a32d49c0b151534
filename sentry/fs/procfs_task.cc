// /proc/[pid] and /proc/[pid]/task/[tid]: generated from the Task.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sentry/fs/anon_inode.h"
#include "sentry/fs/pipe.h"
#include "sentry/fs/procfs_internal.h"
#include "sentry/kernel/host_file.h"

namespace sentry::fs::procfs {
namespace {

using kernel::Task;
using Entries =
    std::vector<std::pair<std::string, std::shared_ptr<vfs::Inode>>>;

constexpr uint64_t kPage = 4096;

// The task's command name: the executable's base name (Linux's comm, at
// most 15 bytes).
std::string Comm(Task& t) {
  std::string name = t.comm();
  if (!name.empty()) {
  } else if (t.executable().dentry) {
    name = t.executable().dentry->name();
  } else if (!t.argv().empty()) {
    name = t.argv()[0];
    if (size_t slash = name.rfind('/'); slash != std::string::npos) {
      name = name.substr(slash + 1);
    }
  }
  return name.substr(0, 15);
}

uint64_t MappedBytes(Task& t) {
  uint64_t total = 0;
  for (const mm::Vma& v : t.mm().Areas()) total += v.length();
  return total;
}

char State(Task& t) {
  if (t.group().stopped()) return 'T';
  return kernel::CurrentTask() == &t ? 'R' : 'S';
}

std::string StatText(Task& t, int tid) {
  uint64_t vsize = MappedBytes(t);
  uint64_t start_stack = 0, start_brk = 0, brk = 0;
  for (const mm::Vma& v : t.mm().Areas()) {
    if (v.name == "[stack]") start_stack = v.end;
    if (v.name == "[heap]") {
      start_brk = v.start;
      brk = v.end;
    }
  }
  // utime and stime in clock ticks (USER_HZ, 100): the whole process's
  // in the process's own stat, the thread's in task/<tid>/stat.
  kernel::CpuTimes cpu =
      tid == t.pid() ? t.group().ProcessCpuTimes() : t.ThreadCpuTimes();
  constexpr uint64_t kNsPerTick = 10000000;
  // A task not in the process table yet (or any more) leads its own group.
  int pgrp = t.kernel().processes().Group(t.pid());
  int session = t.kernel().processes().Session(t.pid());
  // Fields 1-52 of proc(5); unaccounted counters are 0.
  return absl::StrFormat(
      "%d (%s) %c %d %d %d 0 -1 4194304 0 0 0 0 %u %u 0 0 20 0 %d 0 0 %u %u "
      "%u 0 0 %u 0 0 %u 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 %u %u 0 0 0 0 0\n",
      tid, Comm(t), State(t), t.ppid(), pgrp != 0 ? pgrp : t.pid(),
      session != 0 ? session : t.pid(), cpu.user_ns / kNsPerTick,
      cpu.sys_ns / kNsPerTick, std::max(1, t.group().Count()), vsize,
      vsize / kPage, t.rlimits()[RLIMIT_RSS].rlim_cur, start_stack,
      t.signal_mask(), start_brk, brk);
}

std::string Hex64(uint64_t v) { return absl::StrFormat("%016x", v); }

std::string StatusText(Task& t, int tid) {
  const kernel::Credentials& c = t.creds();
  uint64_t ign = 0, cgt = 0;
  for (int sig = 1; sig <= kernel::kMaxSignal; ++sig) {
    uint64_t h = t.sigactions()[sig].handler;
    if (h == 1) ign |= uint64_t{1} << (sig - 1);
    if (h > 1) cgt |= uint64_t{1} << (sig - 1);
  }
  uint64_t kb = MappedBytes(t) / 1024;
  uint64_t caps = c.euid == 0 ? 0x000001ffffffffff : 0;
  std::string groups;
  for (gid_t g : c.groups) absl::StrAppend(&groups, g, " ");
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  std::string out;
  absl::StrAppendFormat(&out, "Name:\t%s\nUmask:\t%04o\nState:\t%c (%s)\n",
                        Comm(t), t.fs().umask, State(t),
                        State(t) == 'R'   ? "running"
                        : State(t) == 'T' ? "stopped"
                                          : "sleeping");
  // The fields and their order follow Linux 6.1's fs/proc/array.c, so
  // tools that parse this file find what they expect.
  absl::StrAppendFormat(
      &out,
      "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n"
      "Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nFDSize:\t%d\n"
      "Groups:\t%s\n",
      t.pid(), tid, t.ppid(), c.ruid, c.euid, c.suid, c.fsuid, c.rgid, c.egid,
      c.sgid, c.fsgid, 64, groups);
  absl::StrAppendFormat(&out,
                        "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n"
                        "Kthread:\t0\n",
                        t.pid(), tid, t.pid(), t.pid());
  uint64_t stack_kb = 0, data_kb = 0;
  for (const mm::Vma& v : t.mm().Areas()) {
    if (v.name == "[stack]") {
      stack_kb += v.length() / 1024;
    } else if (!v.shared && (v.prot & PROT_WRITE)) {
      data_kb += v.length() / 1024;
    }
  }
  // Every mapped page counts as resident: the MemoryFile does not say
  // which pages were touched.
  absl::StrAppendFormat(
      &out,
      "VmPeak:\t%8u kB\nVmSize:\t%8u kB\nVmLck:\t%8u kB\nVmPin:\t%8u kB\n"
      "VmHWM:\t%8u kB\nVmRSS:\t%8u kB\nRssAnon:\t%8u kB\n"
      "RssFile:\t%8u kB\nRssShmem:\t%8u kB\nVmData:\t%8u kB\n"
      "VmStk:\t%8u kB\nVmExe:\t%8u kB\nVmLib:\t%8u kB\nVmPTE:\t%8u kB\n"
      "VmSwap:\t%8u kB\nHugetlbPages:\t%8u kB\nCoreDumping:\t0\n"
      "THP_enabled:\t%d\nuntag_mask:\t0xffffffffffffffff\n",
      kb, kb, 0, 0, kb, kb, kb, 0, 0, data_kb, stack_kb, 0, 0, 0, 0, 0,
      t.group().thp_disabled() ? 0 : 1);
  absl::StrAppendFormat(
      &out,
      "Threads:\t%d\nSigQ:\t0/%u\nSigPnd:\t%s\nShdPnd:\t%s\nSigBlk:\t%s\n"
      "SigIgn:\t%s\nSigCgt:\t%s\n",
      std::max(1, t.group().Count()), t.rlimits()[RLIMIT_SIGPENDING].rlim_cur,
      Hex64(t.pending_signals() & ~t.group().pending()),
      Hex64(t.group().pending()), Hex64(t.signal_mask()), Hex64(ign),
      Hex64(cgt));
  int cpus = ncpu > 0 ? static_cast<int>(ncpu) : 1;
  uint64_t cpu_mask = cpus >= 64 ? ~uint64_t{0} : ((uint64_t{1} << cpus) - 1);
  absl::StrAppendFormat(
      &out,
      "CapInh:\t%s\nCapPrm:\t%s\nCapEff:\t%s\nCapBnd:\t%s\nCapAmb:\t%s\n"
      "NoNewPrivs:\t%d\nSeccomp:\t0\nSeccomp_filters:\t0\n"
      "Speculation_Store_Bypass:\tthread vulnerable\n"
      "SpeculationIndirectBranch:\tconditional enabled\n"
      "Cpus_allowed:\t%x\nCpus_allowed_list:\t0-%d\n"
      "Mems_allowed:\t1\nMems_allowed_list:\t0\n"
      "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n",
      Hex64(0), Hex64(caps), Hex64(caps), Hex64(c.cap_bset), Hex64(0),
      t.no_new_privs() ? 1 : 0, cpu_mask, cpus - 1);
  return out;
}

std::string StatmText(Task& t) {
  uint64_t pages = MappedBytes(t) / kPage;
  return absl::StrFormat("%u %u 0 0 0 %u 0\n", pages, pages, pages);
}

std::string MapsText(Task& t) {
  std::string out;
  for (const mm::Vma& v : t.mm().Areas()) {
    std::string line = absl::StrFormat(
        "%08x-%08x %c%c%c%c %08x %02x:%02x %u ", v.start, v.end,
        (v.prot & PROT_READ) ? 'r' : '-', (v.prot & PROT_WRITE) ? 'w' : '-',
        (v.prot & PROT_EXEC) ? 'x' : '-', v.shared ? 's' : 'p',
        v.file_backed ? v.file_offset : 0,
        v.file_backed ? major(v.file_dev) : 0,
        v.file_backed ? minor(v.file_dev) : 0, v.file_backed ? v.file_ino : 0);
    if (!v.name.empty()) {
      // Linux pads the name to column 73 (seq_pad).
      if (line.size() < 73) line.append(73 - line.size(), ' ');
      line += v.name;
    }
    out += line + "\n";
  }
  // The vsyscall page the stub cannot unmap, shown as Linux shows it.
  out +=
      "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0"
      "                  [vsyscall]\n";
  return out;
}

std::string NulJoined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) {
    out += s;
    out.push_back('\0');
  }
  return out;
}

std::string LimitsText(Task& t) {
  struct Row {
    const char* name;
    int res;
    const char* unit;
  };
  static constexpr Row kRows[] = {
      {"Max cpu time", RLIMIT_CPU, "seconds"},
      {"Max file size", RLIMIT_FSIZE, "bytes"},
      {"Max data size", RLIMIT_DATA, "bytes"},
      {"Max stack size", RLIMIT_STACK, "bytes"},
      {"Max core file size", RLIMIT_CORE, "bytes"},
      {"Max resident set", RLIMIT_RSS, "bytes"},
      {"Max processes", RLIMIT_NPROC, "processes"},
      {"Max open files", RLIMIT_NOFILE, "files"},
      {"Max locked memory", RLIMIT_MEMLOCK, "bytes"},
      {"Max address space", RLIMIT_AS, "bytes"},
      {"Max file locks", RLIMIT_LOCKS, "locks"},
      {"Max pending signals", RLIMIT_SIGPENDING, "signals"},
      {"Max msgqueue size", RLIMIT_MSGQUEUE, "bytes"},
      {"Max nice priority", RLIMIT_NICE, nullptr},
      {"Max realtime priority", RLIMIT_RTPRIO, nullptr},
      {"Max realtime timeout", RLIMIT_RTTIME, "us"},
  };
  std::string out = absl::StrFormat("%-25s %-20s %-20s %-10s\n", "Limit",
                                    "Soft Limit", "Hard Limit", "Units");
  auto value = [](rlim_t v) {
    return v == RLIM_INFINITY ? absl::StrFormat("%-20s ", "unlimited")
                              : absl::StrFormat("%-20u ", v);
  };
  for (const Row& r : kRows) {
    const struct rlimit& l = t.rlimits()[r.res];
    absl::StrAppend(&out, absl::StrFormat("%-25s ", r.name), value(l.rlim_cur),
                    value(l.rlim_max));
    if (r.unit) {
      absl::StrAppendFormat(&out, "%-10s\n", r.unit);
    } else {
      out += "\n";
    }
  }
  return out;
}

// The inode behind /proc/[pid]/fd/N of a file with no path: opening it
// gives a new end of the same pipe, or a new description of the same host
// file.
class ReopenInode final : public SynthInode {
 public:
  ReopenInode(SynthAttr attr, std::shared_ptr<vfs::FileDescription> file)
      : SynthInode(std::move(attr)), file_(std::move(file)) {}
  ErrnoOr<struct stat> Stat() override { return file_->Stat(); }
  // The file's own file system (pipefs for a pipe), not /proc's: statfs
  // through the link describes what it names, as fstatfs would.
  ErrnoOr<struct statfs> StatFs() override {
    if (vfs::Inode* i = file_->inode()) return i->StatFs();
    return SynthInode::StatFs();
  }
  ErrnoOr<std::shared_ptr<vfs::FileDescription>> Open(int flags) override {
    if (auto* p = dynamic_cast<PipeFile*>(file_.get())) {
      return std::shared_ptr<vfs::FileDescription>(p->pipe().OpenEnd(flags));
    }
    if (file_->host_fd() >= 0) {
      absl::StatusOr<std::shared_ptr<kernel::HostFile>> f =
          kernel::HostFile::Import(file_->host_fd());
      if (!f.ok()) return Errno(ENXIO);
      return std::shared_ptr<vfs::FileDescription>(*f);
    }
    return Errno(ENXIO);
  }

 private:
  std::shared_ptr<vfs::FileDescription> file_;
};

// What readlink shows for an open file.
std::string FileName(const Ctx& ctx, vfs::FileDescription& f) {
  if (auto* anon = dynamic_cast<AnonInode*>(f.inode())) return anon->Name();
  if (f.path().dentry) return vfs::PathName(f.path(), ReaderRoot(ctx));
  // Host files (the caller's stdio): their kind, as Linux names
  // path-less objects.
  if (ErrnoOr<struct stat> st = f.Stat(); st.ok()) {
    if (S_ISFIFO(st->st_mode)) return absl::StrCat("pipe:[", st->st_ino, "]");
    if (S_ISSOCK(st->st_mode)) return absl::StrCat("socket:[", st->st_ino, "]");
    if (S_ISCHR(st->st_mode) && major(st->st_rdev) >= 136 &&
        major(st->st_rdev) <= 143) {
      return absl::StrCat("/dev/pts/", minor(st->st_rdev));
    }
  }
  return "anon_inode:[host]";
}

template <typename Fn>
SynthFile::Generate FromTask(const Ctx& ctx, int tid, Fn fn) {
  kernel::Kernel* k = ctx.kernel;
  return [k, tid, fn]() -> ErrnoOr<std::string> {
    return k->WithTask(tid,
                       [&](Task& t) -> ErrnoOr<std::string> { return fn(t); });
  };
}

SynthAttr Attr(const Ctx& ctx, const std::string& key, mode_t mode, int tid) {
  uid_t uid = 0;
  gid_t gid = 0;
  (void)ctx.kernel->WithTask(tid, [&](Task& t) -> ErrnoOr<void> {
    uid = t.creds().euid;
    gid = t.creds().egid;
    return {};
  });
  return SynthAttr{ctx.fs, key, mode, uid, gid};
}

// exe, cwd, root: magic links to a path of the task.
std::shared_ptr<vfs::Inode> PathLink(const Ctx& ctx, const std::string& key,
                                     int tid, vfs::Path (*get)(Task&)) {
  kernel::Kernel* k = ctx.kernel;
  auto path = [k, tid, get]() -> ErrnoOr<vfs::Path> {
    return k->WithTask(tid, [&](Task& t) -> ErrnoOr<vfs::Path> {
      vfs::Path p = get(t);
      if (!p.dentry) return Errno(ENOENT);
      return p;
    });
  };
  Ctx c = ctx;
  return std::make_shared<SynthSymlink>(
      Attr(ctx, key, S_IFLNK | 0777, tid),
      [path, c]() -> ErrnoOr<std::string> {
        SENTRY_ASSIGN_OR_RETURN(vfs::Path p, path());
        return vfs::PathName(p, ReaderRoot(c));
      },
      path);
}

Entries FdEntries(const Ctx& ctx, const std::string& base, int tid, bool info) {
  std::vector<std::pair<int, std::shared_ptr<vfs::FileDescription>>> files;
  (void)ctx.kernel->WithTask(tid, [&](Task& t) -> ErrnoOr<void> {
    files = t.fds().All();
    return {};
  });
  Entries out;
  for (auto& [fd, file] : files) {
    std::string name = std::to_string(fd);
    std::string key = absl::StrCat(base, "/", name);
    if (info) {
      kernel::Kernel* k = ctx.kernel;
      int fdn = fd;
      std::weak_ptr<vfs::FileDescription> weak = file;
      out.emplace_back(
          name, std::make_shared<SynthFile>(
                    Attr(ctx, key, S_IFREG | 0444, tid),
                    [k, tid, fdn, weak]() -> ErrnoOr<std::string> {
                      auto f = weak.lock();
                      if (!f) return Errno(ENOENT);
                      bool cloexec = false;
                      (void)k->WithTask(tid, [&](Task& t) -> ErrnoOr<void> {
                        ErrnoOr<bool> c = t.fds().GetCloexec(fdn);
                        cloexec = c.ok() && *c;
                        return {};
                      });
                      uint64_t ino = 0;
                      if (f->inode()) {
                        if (auto st = f->inode()->Stat(); st.ok())
                          ino = st->st_ino;
                      }
                      return absl::StrFormat(
                          "pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%u\n",
                          f->offset(), f->flags() | (cloexec ? O_CLOEXEC : 0),
                          f->path().mount ? f->path().mount->id() : 0, ino);
                    }));
      continue;
    }
    // lr-x, l-wx or lrwx by the open mode, as Linux shows.
    mode_t perm = 0700;
    if (!file->writable()) perm &= ~0200;
    if (!file->readable()) perm &= ~0400;
    std::weak_ptr<vfs::FileDescription> weak = file;
    Ctx c = ctx;
    out.emplace_back(
        name,
        std::make_shared<SynthSymlink>(
            Attr(ctx, key, S_IFLNK | perm, tid),
            [weak, c]() -> ErrnoOr<std::string> {
              auto f = weak.lock();
              if (!f) return Errno(ENOENT);
              return FileName(c, *f);
            },
            [weak, c, key]() -> ErrnoOr<vfs::Path> {
              auto f = weak.lock();
              if (!f) return Errno(ENOENT);
              if (f->path().dentry && !dynamic_cast<AnonInode*>(f->inode())) {
                return f->path();
              }
              std::shared_ptr<vfs::Mount> m = c.fs->mount();
              if (!m) return Errno(ENXIO);
              auto inode = std::make_shared<ReopenInode>(
                  SynthAttr{c.fs, key + "/reopen", S_IFREG, 0, 0}, f);
              return vfs::Path{m, std::make_shared<vfs::Dentry>(inode)};
            }));
  }
  return out;
}

}  // namespace

std::shared_ptr<vfs::Inode> TaskDir(const Ctx& ctx, int pid, int tid,
                                    bool thread) {
  std::string base =
      thread ? absl::StrCat(pid, "/task/", tid) : std::to_string(pid);
  auto file = [&](const std::string& name, auto fn, mode_t perm = 0444) {
    return std::make_shared<SynthFile>(
        Attr(ctx, base + "/" + name, S_IFREG | perm, tid),
        FromTask(ctx, tid, fn));
  };
  Entries e;
  e.emplace_back("stat",
                 file("stat", [tid](Task& t) { return StatText(t, tid); }));
  e.emplace_back("status",
                 file("status", [tid](Task& t) { return StatusText(t, tid); }));
  e.emplace_back("statm", file("statm", StatmText));
  e.emplace_back("maps", file("maps", MapsText));
  e.emplace_back("cmdline",
                 file("cmdline", [](Task& t) { return NulJoined(t.argv()); }));
  e.emplace_back(
      "environ",
      file(
          "environ", [](Task& t) { return NulJoined(t.envp()); }, 0400));
  // comm is writable by the threads of the process (proc(5)).
  kernel::Kernel* k = ctx.kernel;
  e.emplace_back(
      "comm",
      std::make_shared<SynthFile>(
          Attr(ctx, base + "/comm", S_IFREG | 0644, tid),
          FromTask(ctx, tid, [](Task& t) { return Comm(t) + "\n"; }),
          [k, tid](Task& writer, std::string_view data) -> ErrnoOr<void> {
            std::string_view name = data.substr(0, data.find('\n'));
            return k->WithTask(tid, [&](Task& t) -> ErrnoOr<void> {
              if (t.pid() != writer.pid()) return Errno(EINVAL);
              t.set_comm(name);
              return {};
            });
          }));
  e.emplace_back("limits", file("limits", LimitsText));
  Ctx c = ctx;
  e.emplace_back("mounts", file("mounts", [c](Task& t) {
                   return MountsText(c, t, false);
                 }));
  e.emplace_back("mountinfo", file("mountinfo", [c](Task& t) {
                   return MountsText(c, t, true);
                 }));
  e.emplace_back("exe", PathLink(ctx, base + "/exe", tid,
                                 [](Task& t) { return t.executable(); }));
  e.emplace_back("cwd", PathLink(ctx, base + "/cwd", tid,
                                 [](Task& t) { return t.fs().cwd; }));
  e.emplace_back("root", PathLink(ctx, base + "/root", tid,
                                  [](Task& t) { return t.fs().root; }));
  e.emplace_back(
      "fd", std::make_shared<SynthDir>(
                Attr(ctx, base + "/fd", S_IFDIR | 0500, tid), [c, base, tid] {
                  return FdEntries(c, base + "/fd", tid, false);
                }));
  e.emplace_back(
      "fdinfo",
      std::make_shared<SynthDir>(
          Attr(ctx, base + "/fdinfo", S_IFDIR | 0500, tid), [c, base, tid] {
            return FdEntries(c, base + "/fdinfo", tid, true);
          }));
  if (!thread) {
    e.emplace_back(
        "task", std::make_shared<SynthDir>(
                    Attr(ctx, base + "/task", S_IFDIR | 0555, tid), [c, pid] {
                      std::vector<int> tids;
                      (void)c.kernel->WithTask(pid, [&](Task& t) {
                        tids = t.group().Tids();
                        return ErrnoOr<void>();
                      });
                      Entries threads;
                      for (int id : tids) {
                        threads.emplace_back(std::to_string(id),
                                             TaskDir(c, pid, id, true));
                      }
                      return threads;
                    }));
  }
  return std::make_shared<SynthDir>(Attr(ctx, base, S_IFDIR | 0555, tid),
                                    [e] { return e; });
}

}  // namespace sentry::fs::procfs
