// Every syscall handler, grouped by the sys_*.cc file that implements it.
// Handlers stay thin: decode, look up the object, call into the kernel.
#ifndef SYSCALLS_HANDLERS_H_
#define SYSCALLS_HANDLERS_H_

#include <cstdint>

#include "sentry/base/errno_or.h"
#include "sentry/kernel/task.h"
#include "syscalls/args.h"

namespace sentry::syscalls {

using kernel::Task;

// sys_read_write.cc
ErrnoOr<uint64_t> Read(Task& t, Fd fd, UserAddr buf, uint64_t count);
ErrnoOr<uint64_t> Write(Task& t, Fd fd, InBuf buf, uint64_t count);
ErrnoOr<uint64_t> Readv(Task& t, Fd fd, UserAddr iov, int iovcnt);
ErrnoOr<uint64_t> Writev(Task& t, Fd fd, UserAddr iov, int iovcnt);
ErrnoOr<void> Close(Task& t, Fd fd);

// sys_stat.cc
ErrnoOr<void> Fstat(Task& t, Fd fd, UserAddr statbuf);
ErrnoOr<void> Newfstatat(Task& t, Fd dirfd, CString path, UserAddr statbuf,
                         int flags);

// sys_ioctl.cc
ErrnoOr<uint64_t> Ioctl(Task& t, Fd fd, uint32_t request, UserAddr arg);

// sys_mmap.cc
ErrnoOr<uint64_t> Mmap(Task& t, UserAddr addr, uint64_t length, int prot,
                       int flags, Fd fd, uint64_t offset);
ErrnoOr<void> Munmap(Task& t, UserAddr addr, uint64_t length);
ErrnoOr<void> Mprotect(Task& t, UserAddr addr, uint64_t length, int prot);
ErrnoOr<uint64_t> Brk(Task& t, UserAddr addr);

// sys_process.cc
ErrnoOr<uint64_t> Exit(Task& t, int status);
ErrnoOr<uint64_t> ExitGroup(Task& t, int status);
ErrnoOr<uint64_t> Getpid(Task& t);
ErrnoOr<uint64_t> Gettid(Task& t);
ErrnoOr<uint64_t> Getppid(Task& t);
ErrnoOr<uint64_t> Getuid(Task& t);
ErrnoOr<uint64_t> Geteuid(Task& t);
ErrnoOr<uint64_t> Getgid(Task& t);
ErrnoOr<uint64_t> Getegid(Task& t);
ErrnoOr<uint64_t> SetTidAddress(Task& t, UserAddr tidptr);
ErrnoOr<void> SetRobustList(Task& t, UserAddr head, uint64_t length);
ErrnoOr<uint64_t> ArchPrctl(Task& t, int code, UserAddr addr);
ErrnoOr<void> SchedYield(Task& t);

// sys_signal.cc
ErrnoOr<void> RtSigaction(Task& t, int sig, UserAddr act, UserAddr oldact,
                          uint64_t sigsetsize);
ErrnoOr<void> RtSigprocmask(Task& t, int how, UserAddr set, UserAddr oldset,
                            uint64_t sigsetsize);
ErrnoOr<void> Kill(Task& t, int pid, int sig);
ErrnoOr<void> Tkill(Task& t, int tid, int sig);
ErrnoOr<void> Tgkill(Task& t, int tgid, int tid, int sig);

// sys_time.cc
ErrnoOr<void> ClockGettime(Task& t, int clock, UserAddr tp);
ErrnoOr<void> ClockGetres(Task& t, int clock, UserAddr res);
ErrnoOr<void> Gettimeofday(Task& t, UserAddr tv, UserAddr tz);
ErrnoOr<uint64_t> Time(Task& t, UserAddr tloc);

// sys_random.cc
ErrnoOr<uint64_t> Getrandom(Task& t, UserAddr buf, uint64_t length,
                            uint32_t flags);

// sys_rlimit.cc
ErrnoOr<void> Prlimit64(Task& t, int pid, uint32_t resource, UserAddr new_limit,
                        UserAddr old_limit);
ErrnoOr<void> Getrlimit(Task& t, uint32_t resource, UserAddr limit);
ErrnoOr<void> Setrlimit(Task& t, uint32_t resource, UserAddr limit);

// sys_uname.cc
ErrnoOr<void> Uname(Task& t, UserAddr buf);

}  // namespace sentry::syscalls

#endif  // SYSCALLS_HANDLERS_H_
