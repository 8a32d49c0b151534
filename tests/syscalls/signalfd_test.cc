// signalfd(2), from the man page: reading struct signalfd_siginfo for
// pending signals in the mask, changing the mask, non-blocking reads, poll
// readiness and argument checks. Every case blocks the signals it uses (a
// signalfd only sees signals that stay pending).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

sigset_t SetOf(std::initializer_list<int> sigs) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : sigs) sigaddset(&set, s);
  return set;
}

// Blocks `sigs` for the scope; on exit drops whatever is left pending and
// restores the old mask.
class BlockedSignals {
 public:
  explicit BlockedSignals(std::initializer_list<int> sigs) : set_(SetOf(sigs)) {
    sigprocmask(SIG_BLOCK, &set_, &old_);
  }
  ~BlockedSignals() {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set_, nullptr, &zero) > 0) {
    }
    sigprocmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t set_;
  sigset_t old_;
};

FileDescriptor NewSignalfd(std::initializer_list<int> sigs, int flags = 0) {
  sigset_t set = SetOf(sigs);
  FileDescriptor fd(signalfd(-1, &set, flags));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
  return fd;
}

bool Readable(int fd, int timeout_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

bool IsPending(int sig) {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, sig);
}

TEST(SignalfdTest, ReadsTheSiginfoOfAPendingSignal) {
  BlockedSignals blocked({SIGUSR1});
  FileDescriptor fd = NewSignalfd({SIGUSR1});
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  struct signalfd_siginfo info = {};
  ASSERT_THAT(read(fd.get(), &info, sizeof(info)),
              SyscallSucceedsWithValue(sizeof(info)));
  EXPECT_EQ(info.ssi_signo, static_cast<uint32_t>(SIGUSR1));
  EXPECT_EQ(info.ssi_code, SI_USER);
  EXPECT_EQ(info.ssi_pid, static_cast<uint32_t>(getpid()));
  EXPECT_EQ(info.ssi_uid, getuid());
}

// Reading takes the signal: it is no longer pending and is not delivered.
TEST(SignalfdTest, ReadConsumesThePendingSignal) {
  BlockedSignals blocked({SIGUSR1});
  FileDescriptor fd = NewSignalfd({SIGUSR1}, SFD_NONBLOCK);
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  ASSERT_TRUE(IsPending(SIGUSR1));
  struct signalfd_siginfo info;
  ASSERT_THAT(read(fd.get(), &info, sizeof(info)),
              SyscallSucceedsWithValue(sizeof(info)));
  EXPECT_FALSE(IsPending(SIGUSR1));
  EXPECT_THAT(read(fd.get(), &info, sizeof(info)),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(SignalfdTest, SigqueueValueAndCodeAreReported) {
  BlockedSignals blocked({SIGUSR2});
  FileDescriptor fd = NewSignalfd({SIGUSR2});
  union sigval value;
  value.sival_int = 31337;
  ASSERT_THAT(sigqueue(getpid(), SIGUSR2, value), SyscallSucceeds());
  struct signalfd_siginfo info = {};
  ASSERT_THAT(read(fd.get(), &info, sizeof(info)),
              SyscallSucceedsWithValue(sizeof(info)));
  EXPECT_EQ(info.ssi_signo, static_cast<uint32_t>(SIGUSR2));
  EXPECT_EQ(info.ssi_code, SI_QUEUE);
  EXPECT_EQ(info.ssi_int, 31337);
}

TEST(SignalfdTest, TgkillIsReportedAsSiTkill) {
  BlockedSignals blocked({SIGUSR1});
  FileDescriptor fd = NewSignalfd({SIGUSR1});
  ASSERT_THAT(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1),
              SyscallSucceeds());
  struct signalfd_siginfo info = {};
  ASSERT_THAT(read(fd.get(), &info, sizeof(info)),
              SyscallSucceedsWithValue(sizeof(info)));
  EXPECT_EQ(info.ssi_code, SI_TKILL);
  EXPECT_EQ(info.ssi_pid, static_cast<uint32_t>(getpid()));
}

// One read returns as many siginfos as fit and are pending.
TEST(SignalfdTest, OneReadReturnsSeveralSignals) {
  BlockedSignals blocked({SIGUSR1, SIGUSR2});
  FileDescriptor fd = NewSignalfd({SIGUSR1, SIGUSR2});
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  ASSERT_THAT(kill(getpid(), SIGUSR2), SyscallSucceeds());
  struct signalfd_siginfo info[4] = {};
  ASSERT_THAT(read(fd.get(), info, sizeof(info)),
              SyscallSucceedsWithValue(2 * sizeof(info[0])));
  // Standard signals are dequeued lowest number first.
  EXPECT_EQ(info[0].ssi_signo, static_cast<uint32_t>(SIGUSR1));
  EXPECT_EQ(info[1].ssi_signo, static_cast<uint32_t>(SIGUSR2));
}

// Real-time signals queue: each sigqueue is read separately, in order.
TEST(SignalfdTest, RealtimeSignalsQueueEachInstance) {
  const int sig = SIGRTMIN + 1;
  BlockedSignals blocked({sig});
  FileDescriptor fd = NewSignalfd({sig}, SFD_NONBLOCK);
  for (int i = 1; i <= 3; i++) {
    union sigval value;
    value.sival_int = i;
    ASSERT_THAT(sigqueue(getpid(), sig, value), SyscallSucceeds());
  }
  for (int i = 1; i <= 3; i++) {
    struct signalfd_siginfo info = {};
    ASSERT_THAT(read(fd.get(), &info, sizeof(info)),
                SyscallSucceedsWithValue(sizeof(info)));
    EXPECT_EQ(info.ssi_int, i);
  }
  struct signalfd_siginfo info;
  EXPECT_THAT(read(fd.get(), &info, sizeof(info)),
              SyscallFailsWithErrno(EAGAIN));
}

// A pending signal outside the mask is neither read nor consumed.
TEST(SignalfdTest, SignalsOutsideTheMaskAreNotRead) {
  BlockedSignals blocked({SIGUSR1, SIGUSR2});
  FileDescriptor fd = NewSignalfd({SIGUSR1}, SFD_NONBLOCK);
  ASSERT_THAT(kill(getpid(), SIGUSR2), SyscallSucceeds());
  struct signalfd_siginfo info;
  EXPECT_THAT(read(fd.get(), &info, sizeof(info)),
              SyscallFailsWithErrno(EAGAIN));
  EXPECT_FALSE(Readable(fd.get(), 0));
  EXPECT_TRUE(IsPending(SIGUSR2));
}

// Passing the existing descriptor replaces its mask.
TEST(SignalfdTest, SecondCallReplacesTheMask) {
  BlockedSignals blocked({SIGUSR1, SIGUSR2});
  FileDescriptor fd = NewSignalfd({SIGUSR1}, SFD_NONBLOCK);
  ASSERT_THAT(kill(getpid(), SIGUSR2), SyscallSucceeds());
  sigset_t set = SetOf({SIGUSR2});
  ASSERT_THAT(signalfd(fd.get(), &set, 0), SyscallSucceedsWithValue(fd.get()));
  struct signalfd_siginfo info = {};
  ASSERT_THAT(read(fd.get(), &info, sizeof(info)),
              SyscallSucceedsWithValue(sizeof(info)));
  EXPECT_EQ(info.ssi_signo, static_cast<uint32_t>(SIGUSR2));
  // SIGUSR1 is no longer in the mask.
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  EXPECT_THAT(read(fd.get(), &info, sizeof(info)),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(SignalfdTest, PollIsReadableOnlyWithASignalPending) {
  BlockedSignals blocked({SIGUSR1});
  FileDescriptor fd = NewSignalfd({SIGUSR1}, SFD_NONBLOCK);
  EXPECT_FALSE(Readable(fd.get(), 0));
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  EXPECT_TRUE(Readable(fd.get(), 1000));
}

TEST(SignalfdTest, BlockingReadWaitsForASignalFromAnotherProcessFork) {
  BlockedSignals blocked({SIGUSR1});
  FileDescriptor fd = NewSignalfd({SIGUSR1});
  pid_t parent = getpid();
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    usleep(30 * 1000);
    kill(parent, SIGUSR1);
    _exit(0);
  }
  // A SIGALRM handler without SA_RESTART bounds the wait: if the signal
  // never wakes the read, it fails EINTR after 5 seconds instead of hanging.
  struct sigaction sa = {}, old;
  sa.sa_handler = [](int) {};
  ASSERT_THAT(sigaction(SIGALRM, &sa, &old), SyscallSucceeds());
  alarm(5);
  struct signalfd_siginfo info = {};
  EXPECT_THAT(read(fd.get(), &info, sizeof(info)),
              SyscallSucceedsWithValue(sizeof(info)));
  alarm(0);
  ASSERT_THAT(sigaction(SIGALRM, &old, nullptr), SyscallSucceeds());
  EXPECT_EQ(info.ssi_signo, static_cast<uint32_t>(SIGUSR1));
  EXPECT_EQ(info.ssi_pid, static_cast<uint32_t>(pid));
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
}

TEST(SignalfdTest, FlagsSetCloexecAndNonblock) {
  FileDescriptor plain = NewSignalfd({SIGUSR1});
  EXPECT_THAT(fcntl(plain.get(), F_GETFD), SyscallSucceedsWithValue(0));
  EXPECT_EQ(fcntl(plain.get(), F_GETFL) & O_NONBLOCK, 0);
  FileDescriptor both = NewSignalfd({SIGUSR1}, SFD_CLOEXEC | SFD_NONBLOCK);
  EXPECT_THAT(fcntl(both.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_NE(fcntl(both.get(), F_GETFL) & O_NONBLOCK, 0);
}

TEST(SignalfdTest, ReadIntoTooSmallBufferFailsEinval) {
  BlockedSignals blocked({SIGUSR1});
  FileDescriptor fd = NewSignalfd({SIGUSR1}, SFD_NONBLOCK);
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  char small[sizeof(struct signalfd_siginfo) - 1];
  EXPECT_THAT(read(fd.get(), small, sizeof(small)),
              SyscallFailsWithErrno(EINVAL));
  // The signal is still there for a proper read.
  EXPECT_TRUE(IsPending(SIGUSR1));
}

TEST(SignalfdTest, InvalidArgumentsFail) {
  sigset_t set = SetOf({SIGUSR1});
  // Unknown flags.
  EXPECT_THAT(syscall(SYS_signalfd4, -1, &set, 8, 0x1),
              SyscallFailsWithErrno(EINVAL));
  // The mask size must be the kernel's sigset size (8 bytes).
  EXPECT_THAT(syscall(SYS_signalfd4, -1, &set, 4, 0),
              SyscallFailsWithErrno(EINVAL));
  // An existing descriptor that is not a signalfd.
  FileDescriptor other(open("/dev/null", O_RDONLY));
  EXPECT_THAT(signalfd(other.get(), &set, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(signalfd(12345, &set, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(syscall(SYS_signalfd4, -1, reinterpret_cast<void*>(8), 8, 0),
              SyscallFailsWithErrno(EFAULT));
}

// SIGKILL and SIGSTOP in the mask are silently ignored, not an error.
TEST(SignalfdTest, SigkillAndSigstopInTheMaskAreIgnored) {
  FileDescriptor fd = NewSignalfd({SIGKILL, SIGSTOP}, SFD_NONBLOCK);
  struct signalfd_siginfo info;
  EXPECT_THAT(read(fd.get(), &info, sizeof(info)),
              SyscallFailsWithErrno(EAGAIN));
}

}  // namespace
}  // namespace sentry::testing
