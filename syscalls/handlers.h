// Every syscall handler, grouped by the sys_*.cc file that implements it.
// Handlers stay thin: decode, look up the object, call into the kernel.
#ifndef SYSCALLS_HANDLERS_H_
#define SYSCALLS_HANDLERS_H_

#include <cstdint>
#include <functional>
#include <memory>

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
ErrnoOr<void> Unshare(Task& t, uint64_t flags);
ErrnoOr<void> TimerCreate(Task& t, int clock, UserAddr sevp, UserAddr timerid);
ErrnoOr<void> TimerSettime(Task& t, int id, int flags, UserAddr new_value,
                           UserAddr old_value);
ErrnoOr<void> TimerGettime(Task& t, int id, UserAddr cur);
ErrnoOr<uint64_t> TimerGetoverrun(Task& t, int id);
ErrnoOr<void> TimerDelete(Task& t, int id);
ErrnoOr<void> RtSigqueueinfo(Task& t, int pid, int sig, UserAddr info);
ErrnoOr<void> RtTgsigqueueinfo(Task& t, int tgid, int tid, int sig,
                               UserAddr info);
ErrnoOr<void> Sethostname(Task& t, UserAddr name, int64_t len);
ErrnoOr<void> Setdomainname(Task& t, UserAddr name, int64_t len);
ErrnoOr<void> Tgkill(Task& t, int tgid, int tid, int sig);

// sys_time.cc
ErrnoOr<void> ClockGettime(Task& t, int clock, UserAddr tp);
ErrnoOr<void> ClockGetres(Task& t, int clock, UserAddr res);
ErrnoOr<void> Gettimeofday(Task& t, UserAddr tv, UserAddr tz);
ErrnoOr<uint64_t> Time(Task& t, UserAddr tloc);
ErrnoOr<void> ClockSettime(Task& t, int clock, UserAddr tp);
ErrnoOr<void> Settimeofday(Task& t, UserAddr tv, UserAddr tz);

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

// sys_read_write.cc (also Read, Write, Readv, Writev, Close above)
ErrnoOr<uint64_t> Pread64(Task& t, Fd fd, UserAddr buf, uint64_t count,
                          int64_t offset);
ErrnoOr<uint64_t> Pwrite64(Task& t, Fd fd, InBuf buf, uint64_t count,
                           int64_t offset);
ErrnoOr<uint64_t> Preadv(Task& t, Fd fd, UserAddr iov, int iovcnt,
                         int64_t offset);
ErrnoOr<uint64_t> Pwritev(Task& t, Fd fd, UserAddr iov, int iovcnt,
                          int64_t offset);
ErrnoOr<uint64_t> Preadv2(Task& t, Fd fd, UserAddr iov, int iovcnt,
                          int64_t offset, uint64_t pos_h, int flags);
ErrnoOr<uint64_t> Pwritev2(Task& t, Fd fd, UserAddr iov, int iovcnt,
                           int64_t offset, uint64_t pos_h, int flags);
ErrnoOr<uint64_t> Lseek(Task& t, Fd fd, int64_t offset, int whence);

// sys_open.cc
ErrnoOr<uint64_t> Open(Task& t, CString path, int flags, uint32_t mode);
ErrnoOr<uint64_t> Creat(Task& t, CString path, uint32_t mode);
ErrnoOr<uint64_t> Openat(Task& t, Fd dirfd, CString path, int flags,
                         uint32_t mode);
ErrnoOr<uint64_t> Openat2(Task& t, Fd dirfd, CString path, UserAddr how,
                          uint64_t size);
ErrnoOr<uint64_t> Dup(Task& t, Fd fd);
ErrnoOr<uint64_t> Dup2(Task& t, Fd oldfd, Fd newfd);
ErrnoOr<uint64_t> Dup3(Task& t, Fd oldfd, Fd newfd, int flags);
ErrnoOr<uint64_t> Fcntl(Task& t, Fd fd, int cmd, uint64_t arg);
ErrnoOr<void> CloseRange(Task& t, uint32_t first, uint32_t last,
                         uint32_t flags);

// sys_lock.cc
ErrnoOr<void> Flock(Task& t, Fd fd, int operation);

// sys_stat.cc (also Fstat, Newfstatat above)
ErrnoOr<void> Stat(Task& t, CString path, UserAddr statbuf);
ErrnoOr<void> Lstat(Task& t, CString path, UserAddr statbuf);
ErrnoOr<void> Statx(Task& t, Fd dirfd, CString path, int flags, uint32_t mask,
                    UserAddr buf);
ErrnoOr<void> Statfs(Task& t, CString path, UserAddr buf);
ErrnoOr<void> Fstatfs(Task& t, Fd fd, UserAddr buf);
ErrnoOr<uint64_t> Readlink(Task& t, CString path, UserAddr buf, int bufsiz);
ErrnoOr<uint64_t> Readlinkat(Task& t, Fd dirfd, CString path, UserAddr buf,
                             int bufsiz);
ErrnoOr<void> Access(Task& t, CString path, int mode);
ErrnoOr<void> Faccessat(Task& t, Fd dirfd, CString path, int mode);
ErrnoOr<void> Faccessat2(Task& t, Fd dirfd, CString path, int mode, int flags);
ErrnoOr<uint64_t> Getdents64(Task& t, Fd fd, UserAddr dirp, uint32_t count);

// sys_namespace.cc
ErrnoOr<void> Mkdir(Task& t, CString path, uint32_t mode);
ErrnoOr<void> Mkdirat(Task& t, Fd dirfd, CString path, uint32_t mode);
ErrnoOr<void> Mknod(Task& t, CString path, uint32_t mode, uint32_t dev);
ErrnoOr<void> Mknodat(Task& t, Fd dirfd, CString path, uint32_t mode,
                      uint32_t dev);
ErrnoOr<void> Rmdir(Task& t, CString path);
ErrnoOr<void> Unlink(Task& t, CString path);
ErrnoOr<void> Unlinkat(Task& t, Fd dirfd, CString path, int flags);
ErrnoOr<void> Link(Task& t, CString oldpath, CString newpath);
ErrnoOr<void> Linkat(Task& t, Fd olddirfd, CString oldpath, Fd newdirfd,
                     CString newpath, int flags);
ErrnoOr<void> Symlink(Task& t, CString target, CString linkpath);
ErrnoOr<void> Symlinkat(Task& t, CString target, Fd newdirfd, CString linkpath);
ErrnoOr<void> Rename(Task& t, CString oldpath, CString newpath);
ErrnoOr<void> Renameat(Task& t, Fd olddirfd, CString oldpath, Fd newdirfd,
                       CString newpath);
ErrnoOr<void> Renameat2(Task& t, Fd olddirfd, CString oldpath, Fd newdirfd,
                        CString newpath, uint32_t flags);
ErrnoOr<void> Chdir(Task& t, CString path);
ErrnoOr<void> Fchdir(Task& t, Fd fd);
ErrnoOr<uint64_t> Getcwd(Task& t, UserAddr buf, uint64_t size);
ErrnoOr<void> Chroot(Task& t, CString path);
ErrnoOr<uint64_t> Umask(Task& t, uint32_t mask);

// sys_attr.cc
ErrnoOr<void> Chmod(Task& t, CString path, uint32_t mode);
ErrnoOr<void> Fchmod(Task& t, Fd fd, uint32_t mode);
ErrnoOr<void> Fchmodat(Task& t, Fd dirfd, CString path, uint32_t mode);
ErrnoOr<void> Chown(Task& t, CString path, uint32_t uid, uint32_t gid);
ErrnoOr<void> Fchown(Task& t, Fd fd, uint32_t uid, uint32_t gid);
ErrnoOr<void> Lchown(Task& t, CString path, uint32_t uid, uint32_t gid);
ErrnoOr<void> Fchownat(Task& t, Fd dirfd, CString path, uint32_t uid,
                       uint32_t gid, int flags);
ErrnoOr<void> Utimensat(Task& t, Fd dirfd, CString path, UserAddr times,
                        int flags);
ErrnoOr<void> Utimes(Task& t, CString path, UserAddr times);
ErrnoOr<void> Futimesat(Task& t, Fd dirfd, CString path, UserAddr times);
ErrnoOr<void> Utime(Task& t, CString path, UserAddr times);
ErrnoOr<void> Truncate(Task& t, CString path, int64_t length);
ErrnoOr<void> Ftruncate(Task& t, Fd fd, int64_t length);
ErrnoOr<void> Fallocate(Task& t, Fd fd, int mode, int64_t offset, int64_t len);
ErrnoOr<void> Fadvise64(Task& t, Fd fd, int64_t offset, int64_t len,
                        int advice);
ErrnoOr<void> Readahead(Task& t, Fd fd, int64_t offset, uint64_t count);
ErrnoOr<void> Fsync(Task& t, Fd fd);
ErrnoOr<void> Fdatasync(Task& t, Fd fd);
ErrnoOr<void> Sync(Task& t);
ErrnoOr<void> Syncfs(Task& t, Fd fd);
ErrnoOr<uint64_t> Getxattr(Task& t, CString path, CString name, UserAddr value,
                           uint64_t size);
ErrnoOr<uint64_t> Lgetxattr(Task& t, CString path, CString name, UserAddr value,
                            uint64_t size);
ErrnoOr<uint64_t> Fgetxattr(Task& t, Fd fd, CString name, UserAddr value,
                            uint64_t size);
ErrnoOr<void> Setxattr(Task& t, CString path, CString name, UserAddr value,
                       uint64_t size, int flags);
ErrnoOr<void> Lsetxattr(Task& t, CString path, CString name, UserAddr value,
                        uint64_t size, int flags);
ErrnoOr<void> Fsetxattr(Task& t, Fd fd, CString name, UserAddr value,
                        uint64_t size, int flags);
ErrnoOr<uint64_t> Listxattr(Task& t, CString path, UserAddr list,
                            uint64_t size);
ErrnoOr<uint64_t> Llistxattr(Task& t, CString path, UserAddr list,
                             uint64_t size);
ErrnoOr<uint64_t> Flistxattr(Task& t, Fd fd, UserAddr list, uint64_t size);
ErrnoOr<void> Removexattr(Task& t, CString path, CString name);
ErrnoOr<void> Lremovexattr(Task& t, CString path, CString name);
ErrnoOr<void> Fremovexattr(Task& t, Fd fd, CString name);
ErrnoOr<void> Msync(Task& t, UserAddr addr, uint64_t length, int flags);
ErrnoOr<void> Mincore(Task& t, UserAddr addr, uint64_t length, UserAddr vec);

// sys_mount.cc
ErrnoOr<void> Mount(Task& t, CString source, CString target, CString fstype,
                    uint64_t flags, UserAddr data);
ErrnoOr<void> Umount2(Task& t, CString target, int flags);
ErrnoOr<void> PivotRoot(Task& t, CString new_root, CString put_old);
// How mount(2) makes a "proc" mount; set by whoever builds procfs.
std::function<std::shared_ptr<vfs::Mount>(Task&)>& ProcMountFactory();

// sys_inotify.cc
ErrnoOr<uint64_t> InotifyInit(Task& t);
ErrnoOr<uint64_t> InotifyInit1(Task& t, int flags);
ErrnoOr<uint64_t> InotifyAddWatch(Task& t, Fd fd, CString path, uint32_t mask);
ErrnoOr<void> InotifyRmWatch(Task& t, Fd fd, int wd);

// sys_signal.cc (frames and waits)
ErrnoOr<uint64_t> RtSigreturn(Task& t);
ErrnoOr<uint64_t> RestartSyscall(Task& t);
ErrnoOr<void> Sigaltstack(Task& t, UserAddr ss, UserAddr old_ss);
ErrnoOr<void> RtSigsuspend(Task& t, UserAddr mask, uint64_t sigsetsize);
ErrnoOr<void> Pause(Task& t);
ErrnoOr<void> RtSigpending(Task& t, UserAddr set, uint64_t sigsetsize);
ErrnoOr<uint64_t> RtSigtimedwait(Task& t, UserAddr set, UserAddr info,
                                 UserAddr timeout, uint64_t sigsetsize);

// sys_time.cc (sleeps)
ErrnoOr<void> Nanosleep(Task& t, UserAddr request, UserAddr remain);
ErrnoOr<void> ClockNanosleep(Task& t, int clock, int flags, UserAddr request,
                             UserAddr remain);

// sys_creds.cc
ErrnoOr<void> Setuid(Task& t, uint32_t uid);
ErrnoOr<void> Setgid(Task& t, uint32_t gid);
ErrnoOr<void> Setreuid(Task& t, uint32_t r, uint32_t e);
ErrnoOr<void> Setregid(Task& t, uint32_t r, uint32_t e);
ErrnoOr<void> Setresuid(Task& t, uint32_t r, uint32_t e, uint32_t s);
ErrnoOr<void> Setresgid(Task& t, uint32_t r, uint32_t e, uint32_t s);
ErrnoOr<void> Getresuid(Task& t, UserAddr r, UserAddr e, UserAddr s);
ErrnoOr<void> Getresgid(Task& t, UserAddr r, UserAddr e, UserAddr s);
ErrnoOr<uint64_t> Setfsuid(Task& t, uint32_t uid);
ErrnoOr<uint64_t> Setfsgid(Task& t, uint32_t gid);
ErrnoOr<uint64_t> Getgroups(Task& t, int size, UserAddr list);
ErrnoOr<void> Setgroups(Task& t, int size, UserAddr list);
ErrnoOr<void> Capget(Task& t, UserAddr header, UserAddr data);
ErrnoOr<void> Capset(Task& t, UserAddr header, UserAddr data);
ErrnoOr<uint64_t> Prctl(Task& t, int option, uint64_t a2, uint64_t a3,
                        uint64_t a4, uint64_t a5);
ErrnoOr<void> Sysinfo(Task& t, UserAddr info);
ErrnoOr<void> Getrusage(Task& t, int who, UserAddr usage);
ErrnoOr<void> Madvise(Task& t, UserAddr addr, uint64_t length, int advice);
ErrnoOr<void> Mlock(Task& t, UserAddr addr, uint64_t length);
ErrnoOr<void> Mlock2(Task& t, UserAddr addr, uint64_t length, int flags);
ErrnoOr<void> Munlock(Task& t, UserAddr addr, uint64_t length);
ErrnoOr<void> Mlockall(Task& t, int flags);
ErrnoOr<void> Munlockall(Task& t);
ErrnoOr<uint64_t> Mremap(Task& t, UserAddr old_addr, uint64_t old_size,
                         uint64_t new_size, int flags, UserAddr new_addr);

// sys_sched.cc
ErrnoOr<uint64_t> SchedGetaffinity(Task& t, int pid, uint32_t size,
                                   UserAddr mask);
ErrnoOr<void> SchedSetaffinity(Task& t, int pid, uint32_t size, UserAddr mask);
ErrnoOr<void> Getcpu(Task& t, UserAddr cpu, UserAddr node, UserAddr cache);
ErrnoOr<uint64_t> SchedGetscheduler(Task& t, int pid);
ErrnoOr<void> SchedGetparam(Task& t, int pid, UserAddr param);
ErrnoOr<void> SchedSetscheduler(Task& t, int pid, int policy, UserAddr param);
ErrnoOr<void> SchedSetparam(Task& t, int pid, UserAddr param);
ErrnoOr<void> SchedRrGetInterval(Task& t, int pid, UserAddr interval);
ErrnoOr<void> SchedGetattr(Task& t, int pid, UserAddr attr, uint32_t size,
                           uint32_t flags);
ErrnoOr<void> SchedSetattr(Task& t, int pid, UserAddr attr, uint32_t flags);
ErrnoOr<uint64_t> SchedGetPriorityMax(Task& t, int policy);
ErrnoOr<uint64_t> SchedGetPriorityMin(Task& t, int policy);
ErrnoOr<uint64_t> Getpriority(Task& t, int which, int who);
ErrnoOr<void> Setpriority(Task& t, int which, int who, int prio);
ErrnoOr<uint64_t> Times(Task& t, UserAddr buf);

// sys_time.cc (timers)
ErrnoOr<void> Setitimer(Task& t, int which, UserAddr value, UserAddr old);
ErrnoOr<void> Getitimer(Task& t, int which, UserAddr value);
ErrnoOr<uint64_t> Alarm(Task& t, uint32_t seconds);

// sys_fork.cc
ErrnoOr<uint64_t> Fork(Task& t);
ErrnoOr<uint64_t> Vfork(Task& t);
ErrnoOr<uint64_t> Clone(Task& t, uint64_t flags, UserAddr stack,
                        UserAddr parent_tid, UserAddr child_tid, uint64_t tls);
ErrnoOr<uint64_t> Clone3(Task& t, UserAddr uargs, uint64_t size);
ErrnoOr<uint64_t> Execve(Task& t, CString path, UserAddr argv, UserAddr envp);
ErrnoOr<uint64_t> Execveat(Task& t, Fd dirfd, CString path, UserAddr argv,
                           UserAddr envp, int flags);
ErrnoOr<uint64_t> Wait4(Task& t, int pid, UserAddr status, int options,
                        UserAddr rusage);
ErrnoOr<void> Waitid(Task& t, int idtype, int id, UserAddr infop, int options,
                     UserAddr rusage);
ErrnoOr<void> Setpgid(Task& t, int pid, int pgid);
ErrnoOr<uint64_t> Getpgid(Task& t, int pid);
ErrnoOr<uint64_t> Getpgrp(Task& t);
ErrnoOr<uint64_t> Setsid(Task& t);
ErrnoOr<uint64_t> Getsid(Task& t, int pid);

// sys_futex.cc
ErrnoOr<uint64_t> Futex(Task& t, UserAddr uaddr, int op, uint32_t val,
                        UserAddr timeout, UserAddr uaddr2, uint32_t val3);
// --- pipes, special files, polling and splicing ----------------------------

// sys_pipe.cc
ErrnoOr<void> Pipe(Task& t, UserAddr fds);
ErrnoOr<void> Pipe2(Task& t, UserAddr fds, int flags);

// sys_eventfd.cc
ErrnoOr<uint64_t> Eventfd(Task& t, uint32_t initval);
ErrnoOr<uint64_t> Eventfd2(Task& t, uint32_t initval, int flags);
ErrnoOr<uint64_t> TimerfdCreate(Task& t, int clockid, int flags);
ErrnoOr<void> TimerfdSettime(Task& t, Fd fd, int flags, UserAddr new_value,
                             UserAddr old_value);
ErrnoOr<void> TimerfdGettime(Task& t, Fd fd, UserAddr curr_value);
ErrnoOr<uint64_t> Signalfd(Task& t, Fd fd, UserAddr mask, uint64_t sizemask);
ErrnoOr<uint64_t> Signalfd4(Task& t, Fd fd, UserAddr mask, uint64_t sizemask,
                            int flags);
ErrnoOr<uint64_t> MemfdCreate(Task& t, CString name, uint32_t flags);

// sys_poll.cc
ErrnoOr<uint64_t> Poll(Task& t, UserAddr fds, uint64_t nfds, int timeout);
ErrnoOr<uint64_t> Ppoll(Task& t, UserAddr fds, uint64_t nfds, UserAddr tsp,
                        UserAddr sigmask, uint64_t sigsetsize);
ErrnoOr<uint64_t> Select(Task& t, int nfds, UserAddr readfds, UserAddr writefds,
                         UserAddr exceptfds, UserAddr timeout);
ErrnoOr<uint64_t> Pselect6(Task& t, int nfds, UserAddr readfds,
                           UserAddr writefds, UserAddr exceptfds,
                           UserAddr timeout, UserAddr sig);
ErrnoOr<uint64_t> EpollCreate(Task& t, int size);
ErrnoOr<uint64_t> EpollCreate1(Task& t, int flags);
ErrnoOr<void> EpollCtl(Task& t, Fd epfd, int op, Fd fd, UserAddr event);
ErrnoOr<uint64_t> EpollWait(Task& t, Fd epfd, UserAddr events, int maxevents,
                            int timeout);
ErrnoOr<uint64_t> EpollPwait(Task& t, Fd epfd, UserAddr events, int maxevents,
                             int timeout, UserAddr sigmask,
                             uint64_t sigsetsize);
ErrnoOr<uint64_t> EpollPwait2(Task& t, Fd epfd, UserAddr events, int maxevents,
                              UserAddr timeout, UserAddr sigmask,
                              uint64_t sigsetsize);

// sys_socket.cc
ErrnoOr<uint64_t> Socket(Task& t, int domain, int type, int protocol);
ErrnoOr<void> Socketpair(Task& t, int domain, int type, int protocol,
                         UserAddr fds);
ErrnoOr<void> Bind(Task& t, Fd fd, UserAddr addr, uint32_t addrlen);
ErrnoOr<void> Listen(Task& t, Fd fd, int backlog);
ErrnoOr<uint64_t> Accept(Task& t, Fd fd, UserAddr addr, UserAddr addrlen);
ErrnoOr<uint64_t> Accept4(Task& t, Fd fd, UserAddr addr, UserAddr addrlen,
                          int flags);
ErrnoOr<void> Connect(Task& t, Fd fd, UserAddr addr, uint32_t addrlen);
ErrnoOr<void> Getsockname(Task& t, Fd fd, UserAddr addr, UserAddr addrlen);
ErrnoOr<void> Getpeername(Task& t, Fd fd, UserAddr addr, UserAddr addrlen);
ErrnoOr<uint64_t> Sendto(Task& t, Fd fd, InBuf buf, uint64_t len, int flags,
                         UserAddr addr, uint32_t addrlen);
ErrnoOr<uint64_t> Recvfrom(Task& t, Fd fd, UserAddr buf, uint64_t len,
                           int flags, UserAddr addr, UserAddr addrlen);
ErrnoOr<uint64_t> Sendmsg(Task& t, Fd fd, UserAddr msg, int flags);
ErrnoOr<uint64_t> Recvmsg(Task& t, Fd fd, UserAddr msg, int flags);
ErrnoOr<uint64_t> Sendmmsg(Task& t, Fd fd, UserAddr msgvec, uint32_t vlen,
                           int flags);
ErrnoOr<uint64_t> Recvmmsg(Task& t, Fd fd, UserAddr msgvec, uint32_t vlen,
                           int flags, UserAddr timeout);
ErrnoOr<void> Shutdown(Task& t, Fd fd, int how);
ErrnoOr<void> Setsockopt(Task& t, Fd fd, int level, int name, UserAddr optval,
                         int optlen);
ErrnoOr<void> Getsockopt(Task& t, Fd fd, int level, int name, UserAddr optval,
                         UserAddr optlen);

// sys_splice.cc
ErrnoOr<uint64_t> Sendfile(Task& t, Fd out_fd, Fd in_fd, UserAddr offset,
                           uint64_t count);
ErrnoOr<uint64_t> Splice(Task& t, Fd fd_in, UserAddr off_in, Fd fd_out,
                         UserAddr off_out, uint64_t len, uint32_t flags);
ErrnoOr<uint64_t> Tee(Task& t, Fd fd_in, Fd fd_out, uint64_t len,
                      uint32_t flags);
ErrnoOr<uint64_t> CopyFileRange(Task& t, Fd fd_in, UserAddr off_in, Fd fd_out,
                                UserAddr off_out, uint64_t len, uint32_t flags);

}  // namespace sentry::syscalls

#endif  // SYSCALLS_HANDLERS_H_
