// pipes_poll: pipes, FIFOs, poll/ppoll/select/pselect6, epoll, eventfd,
// timerfd, signalfd, memfd_create and seals, sendfile/splice/tee/
// copy_file_range. Everything printed must match a native run exactly;
// values that may differ (inode numbers, pids) are checked, not printed.
// Ends with "OK", exits 0.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>

#include "guest.h"

static void say(const char* what) { guest_dprintf(1, "%s\n", what); }

static void check_pipes(void) {
  int p[2];
  char buf[8192];
  CHECK_OK(pipe(p));
  CHECK(write(p[1], "hello", 5) == 5);
  struct pollfd pf = {p[0], POLLIN, 0};
  CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLIN);
  CHECK(read(p[0], buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0);
  // Nothing to read: poll times out.
  CHECK(poll(&pf, 1, 20) == 0 && pf.revents == 0);
  CHECK_OK(close(p[1]));
  CHECK(poll(&pf, 1, 1000) == 1 && pf.revents == POLLHUP);
  CHECK(read(p[0], buf, 10) == 0);
  CHECK_OK(close(p[0]));
  say("pipe: data, poll timeout, POLLHUP and EOF");

  CHECK_OK(pipe2(p, O_NONBLOCK | O_CLOEXEC));
  CHECK((fcntl(p[0], F_GETFD) & FD_CLOEXEC) != 0);
  CHECK_ERRNO(read(p[0], buf, 1), EAGAIN);
  guest_dprintf(1, "pipe: F_GETPIPE_SZ=%d\n", fcntl(p[0], F_GETPIPE_SZ));
  guest_dprintf(1, "pipe: F_SETPIPE_SZ(5000)=%d\n",
                fcntl(p[1], F_SETPIPE_SZ, 5000));
  long total = 0, n;
  memset(buf, 'x', sizeof(buf));
  while ((n = write(p[1], buf, 4096)) > 0) total += n;
  CHECK(errno == EAGAIN);
  int avail = -1;
  CHECK_OK(ioctl(p[0], FIONREAD, &avail));
  guest_dprintf(1, "pipe: filled %ld bytes, FIONREAD=%d\n", total, avail);
  // A write of at most PIPE_BUF bytes is all or nothing.
  CHECK(read(p[0], buf, 100) == 100);
  CHECK_ERRNO(write(p[1], buf, 200), EAGAIN);
  struct stat st;
  CHECK_OK(fstat(p[0], &st));
  CHECK(S_ISFIFO(st.st_mode));
  char path[64], link[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
  n = readlink(path, link, sizeof(link) - 1);
  CHECK(n > 6);
  link[n] = 0;
  char want[64];
  snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)st.st_ino);
  CHECK(strcmp(link, want) == 0);
  say("pipe: nonblocking, atomic writes, fstat and /proc link");

  // No reader: EPIPE and a SIGPIPE (blocked here, so read via signalfd).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  CHECK_OK(sigprocmask(SIG_BLOCK, &set, NULL));
  int sfd = signalfd(-1, &set, SFD_NONBLOCK);
  CHECK_OK(sfd);
  CHECK_OK(close(p[0]));
  struct pollfd wp = {p[1], POLLOUT, 0};
  CHECK(poll(&wp, 1, 0) == 1 && (wp.revents & POLLERR));
  CHECK_ERRNO(write(p[1], "x", 1), EPIPE);
  struct signalfd_siginfo si;
  CHECK(read(sfd, &si, sizeof(si)) == sizeof(si));
  guest_dprintf(1, "pipe: EPIPE raised signal %u\n", si.ssi_signo);
  CHECK_ERRNO(read(sfd, &si, sizeof(si)), EAGAIN);
  CHECK_OK(close(p[1]));
  CHECK_OK(close(sfd));
  CHECK_OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
}

static void check_fifo(void) {
  char path[64], buf[16];
  if (mkdir("/tmp", 01777) != 0) CHECK(errno == EEXIST);
  snprintf(path, sizeof(path), "/tmp/pipes_poll_fifo.%d", (int)getpid());
  CHECK_OK(mkfifo(path, 0600));
  CHECK_ERRNO(open(path, O_WRONLY | O_NONBLOCK), ENXIO);
  int r = open(path, O_RDONLY | O_NONBLOCK);
  CHECK_OK(r);
  int w = open(path, O_WRONLY);
  CHECK_OK(w);
  CHECK(write(w, "fifo", 4) == 4);
  CHECK(read(r, buf, sizeof(buf)) == 4 && memcmp(buf, "fifo", 4) == 0);
  CHECK_OK(close(w));
  CHECK(read(r, buf, sizeof(buf)) == 0);
  CHECK_OK(close(r));
  CHECK_OK(unlink(path));
  say("fifo: open rules, data and EOF");
}

static uint64_t read_u64(int fd) {
  uint64_t v = 0;
  CHECK(read(fd, &v, sizeof(v)) == sizeof(v));
  return v;
}

static void write_u64(int fd, uint64_t v) {
  CHECK(write(fd, &v, sizeof(v)) == sizeof(v));
}

static void check_eventfd(void) {
  int e = eventfd(3, EFD_NONBLOCK);
  CHECK_OK(e);
  guest_dprintf(1, "eventfd: read %llu\n", (unsigned long long)read_u64(e));
  uint64_t v;
  CHECK_ERRNO(read(e, &v, sizeof(v)), EAGAIN);
  v = UINT64_MAX;
  CHECK_ERRNO(write(e, &v, sizeof(v)), EINVAL);
  CHECK_ERRNO(read(e, &v, 4), EINVAL);
  write_u64(e, UINT64_MAX - 1);
  v = 1;
  CHECK_ERRNO(write(e, &v, sizeof(v)), EAGAIN);
  struct pollfd pf = {e, POLLIN | POLLOUT, 0};
  CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLIN);
  CHECK_OK(close(e));
  int s = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
  CHECK_OK(s);
  guest_dprintf(1, "eventfd: semaphore reads %llu %llu\n",
                (unsigned long long)read_u64(s),
                (unsigned long long)read_u64(s));
  CHECK_ERRNO(read(s, &v, sizeof(v)), EAGAIN);
  CHECK_OK(close(s));
}

static void check_epoll(void) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  CHECK_OK(ep);
  CHECK_ERRNO(syscall(SYS_epoll_create, 0), EINVAL);
  int level = eventfd(1, EFD_NONBLOCK), edge = eventfd(1, EFD_NONBLOCK),
      once = eventfd(1, EFD_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN, .data = {.u64 = 1}};
  CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, level, &ev));
  ev = (struct epoll_event){.events = EPOLLIN | EPOLLET, .data = {.u64 = 2}};
  CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, edge, &ev));
  ev = (struct epoll_event){.events = EPOLLIN | EPOLLONESHOT,
                            .data = {.u64 = 3}};
  CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, once, &ev));
  CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, once, &ev), EEXIST);
  CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
  struct epoll_event out[8];
  uint64_t sum = 0;
  int n = epoll_wait(ep, out, 8, 0);
  for (int i = 0; i < n; i++) sum += out[i].data.u64;
  guest_dprintf(1, "epoll: first wait %d events, data sum %llu\n", n,
                (unsigned long long)sum);
  n = epoll_wait(ep, out, 8, 0);
  guest_dprintf(1, "epoll: second wait %d event (data %llu)\n", n,
                (unsigned long long)out[0].data.u64);
  write_u64(edge, 1);
  n = epoll_wait(ep, out, 8, 0);
  guest_dprintf(1, "epoll: after a new edge %d events\n", n);
  ev = (struct epoll_event){.events = EPOLLIN | EPOLLONESHOT,
                            .data = {.u64 = 3}};
  CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, once, &ev));
  CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, level, NULL));
  CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_DEL, level, NULL), ENOENT);
  n = epoll_wait(ep, out, 8, 0);
  guest_dprintf(1, "epoll: after MOD and DEL %d event (data %llu)\n", n,
                (unsigned long long)out[0].data.u64);
  // A regular file cannot be watched.
  int mfd = memfd_create("epoll", 0);
  CHECK_OK(mfd);
  CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, mfd, &ev), EPERM);
  // A pipe: epoll_pwait times out, then sees data.
  int p[2];
  CHECK_OK(pipe(p));
  ev = (struct epoll_event){.events = EPOLLIN, .data = {.u64 = 9}};
  CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
  read_u64(edge);
  read_u64(once);
  sigset_t none;
  sigemptyset(&none);
  CHECK(epoll_pwait(ep, out, 8, 20, &none) == 0);
  CHECK(write(p[1], "z", 1) == 1);
  n = epoll_wait(ep, out, 8, 1000);
  CHECK(n == 1 && out[0].data.u64 == 9 && out[0].events == EPOLLIN);
  // Closing the only FD removes the interest.
  CHECK_OK(close(p[0]));
  CHECK(epoll_wait(ep, out, 8, 0) == 0);
  say("epoll: pipe wait, timeout and close");
  close(p[1]);
  close(mfd);
  close(level);
  close(edge);
  close(once);
  close(ep);
}

static void check_timerfd(void) {
  int t = timerfd_create(CLOCK_MONOTONIC, 0);
  CHECK_OK(t);
  CHECK_ERRNO(timerfd_create(12345, 0), EINVAL);
  struct itimerspec its = {{0, 0}, {0, 20 * 1000 * 1000}};
  CHECK_OK(timerfd_settime(t, 0, &its, NULL));
  guest_dprintf(1, "timerfd: blocking read %llu\n",
                (unsigned long long)read_u64(t));
  CHECK_OK(timerfd_settime(t, 0, &its, NULL));
  struct pollfd pf = {t, POLLIN, 0};
  CHECK(poll(&pf, 1, 2000) == 1 && pf.revents == POLLIN);
  read_u64(t);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data = {.u64 = 5}}, out;
  CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev));
  CHECK_OK(timerfd_settime(t, 0, &its, NULL));
  CHECK(epoll_wait(ep, &out, 1, 2000) == 1 && out.data.u64 == 5);
  struct itimerspec cur;
  CHECK_OK(timerfd_gettime(t, &cur));
  CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
  // An absolute time in the past expires at once.
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  its.it_value = now;
  its.it_value.tv_sec -= 1;
  read_u64(t);
  CHECK_OK(timerfd_settime(t, TFD_TIMER_ABSTIME, &its, NULL));
  guest_dprintf(1, "timerfd: past absolute time gives %llu\n",
                (unsigned long long)read_u64(t));
  say("timerfd: poll and epoll wake at expiry");
  close(ep);
  close(t);
}

static void check_signalfd(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  CHECK_OK(sigprocmask(SIG_BLOCK, &set, NULL));
  int s = signalfd(-1, &set, SFD_CLOEXEC);
  CHECK_OK(s);
  struct pollfd pf = {s, POLLIN, 0};
  CHECK(poll(&pf, 1, 0) == 0);
  CHECK_OK(raise(SIGUSR1));
  CHECK(poll(&pf, 1, 0) == 1);
  struct signalfd_siginfo si;
  CHECK(read(s, &si, sizeof(si)) == sizeof(si));
  guest_dprintf(1, "signalfd: read signal %u\n", si.ssi_signo);
  CHECK_OK(close(s));
  CHECK_OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
}

static void check_memfd(void) {
  int m = memfd_create("guest", MFD_ALLOW_SEALING | MFD_CLOEXEC);
  CHECK_OK(m);
  CHECK(write(m, "0123456789", 10) == 10);
  char path[64], link[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", m);
  long n = readlink(path, link, sizeof(link) - 1);
  CHECK(n > 0);
  link[n] = 0;
  guest_dprintf(1, "memfd: link %s\n", link);
  guest_dprintf(1, "memfd: seals %d\n", fcntl(m, F_GET_SEALS));
  CHECK_OK(fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW));
  CHECK_ERRNO(ftruncate(m, 5), EPERM);
  CHECK_ERRNO(ftruncate(m, 50), EPERM);
  CHECK_ERRNO(pwrite(m, "x", 1, 10), EPERM);
  CHECK(pwrite(m, "x", 1, 0) == 1);
  CHECK_OK(fcntl(m, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SEAL));
  CHECK_ERRNO(pwrite(m, "x", 1, 0), EPERM);
  CHECK_ERRNO(fcntl(m, F_ADD_SEALS, F_SEAL_GROW), EPERM);
  guest_dprintf(1, "memfd: seals now %d\n", fcntl(m, F_GET_SEALS));
  int plain = memfd_create("plain", 0);
  CHECK_ERRNO(fcntl(plain, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
  guest_dprintf(1, "memfd: unsealable seals %d\n", fcntl(plain, F_GET_SEALS));
  close(plain);
  close(m);
}

static void check_select(void) {
  int e = eventfd(0, 0);
  int p[2];
  CHECK_OK(pipe(p));
  fd_set rs, ws;
  FD_ZERO(&rs);
  FD_ZERO(&ws);
  FD_SET(e, &rs);
  FD_SET(p[0], &rs);
  FD_SET(p[1], &ws);
  struct timeval tv = {1, 0};
  int n = select((e > p[1] ? e : p[1]) + 1, &rs, &ws, NULL, &tv);
  guest_dprintf(1, "select: %d ready (eventfd %d, pipe read %d, write %d)\n", n,
                FD_ISSET(e, &rs), FD_ISSET(p[0], &rs), FD_ISSET(p[1], &ws));
  FD_ZERO(&rs);
  FD_SET(e, &rs);
  struct timespec ts = {0, 20 * 1000 * 1000};
  CHECK(pselect(e + 1, &rs, NULL, NULL, &ts, NULL) == 0);
  // An unopened FD inside the FD table is EBADF (Linux ignores bits past
  // the table's size, so stay below 64, its smallest size).
  FD_ZERO(&rs);
  FD_SET(60, &rs);
  tv = (struct timeval){0, 0};
  CHECK_ERRNO(select(61, &rs, NULL, NULL, &tv), EBADF);
  struct pollfd pf[2] = {{e, POLLIN, 0}, {999, POLLIN, 0}};
  CHECK(poll(pf, 2, 0) == 1 && pf[1].revents == POLLNVAL);
  say("select: pselect timeout, EBADF; poll POLLNVAL");
  close(e);
  close(p[0]);
  close(p[1]);
}

static void check_splice(void) {
  char buf[64];
  int m = memfd_create("src", 0), out = memfd_create("dst", 0);
  CHECK(write(m, "0123456789", 10) == 10);
  int p[2], q[2];
  CHECK_OK(pipe(p));
  CHECK_OK(pipe(q));
  off_t off = 2;
  CHECK(sendfile(p[1], m, &off, 5) == 5 && off == 7);
  CHECK(tee(p[0], q[1], 100, 0) == 5);
  CHECK(splice(p[0], NULL, out, NULL, 100, 0) == 5);
  CHECK(pread(out, buf, sizeof(buf), 0) == 5 && memcmp(buf, "23456", 5) == 0);
  CHECK(read(q[0], buf, sizeof(buf)) == 5 && memcmp(buf, "23456", 5) == 0);
  loff_t in_off = 0, out_off = 5;
  CHECK(syscall(SYS_copy_file_range, m, &in_off, out, &out_off, 3, 0) == 3);
  CHECK(pread(out, buf, sizeof(buf), 0) == 8 &&
        memcmp(buf, "23456012", 8) == 0);
  CHECK_ERRNO(splice(m, NULL, out, NULL, 1, 0), EINVAL);
  CHECK_ERRNO(tee(p[0], p[1], 1, 0), EINVAL);
  say("splice: sendfile, tee, splice, copy_file_range");
  close(m);
  close(out);
  close(p[0]);
  close(p[1]);
  close(q[0]);
  close(q[1]);
}

int main(void) {
  check_pipes();
  check_fifo();
  check_eventfd();
  check_epoll();
  check_timerfd();
  check_signalfd();
  check_memfd();
  check_select();
  check_splice();
  say("OK");
  return 0;
}
