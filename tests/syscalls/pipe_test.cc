// pipe(2)/pipe2(2) and pipe(7) semantics, from the man pages.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

struct Pipe {
  FileDescriptor r, w;
};

Pipe MakePipe(int flags = 0) {
  int p[2];
  EXPECT_THAT(pipe2(p, flags), SyscallSucceeds());
  return {FileDescriptor(p[0]), FileDescriptor(p[1])};
}

// Ignores SIGPIPE for its lifetime.
class ScopedIgnoreSigpipe {
 public:
  ScopedIgnoreSigpipe() { old_ = signal(SIGPIPE, SIG_IGN); }
  ~ScopedIgnoreSigpipe() { signal(SIGPIPE, old_); }

 private:
  sighandler_t old_;
};

TEST(PipeTest, DataFlowsInOrder) {
  Pipe p = MakePipe();
  ASSERT_THAT(write(p.w.get(), "hello", 5), SyscallSucceedsWithValue(5));
  char buf[8];
  ASSERT_THAT(read(p.r.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(5));
  EXPECT_EQ(std::string(buf, 5), "hello");
}

TEST(PipeTest, EndsAreOneWay) {
  Pipe p = MakePipe();
  char c = 'x';
  EXPECT_THAT(write(p.r.get(), &c, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(read(p.w.get(), &c, 1), SyscallFailsWithErrno(EBADF));
}

TEST(PipeTest, FlagsOfEnds) {
  Pipe p = MakePipe();
  EXPECT_EQ(fcntl(p.r.get(), F_GETFL) & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(fcntl(p.w.get(), F_GETFL) & O_ACCMODE, O_WRONLY);
  EXPECT_THAT(fcntl(p.r.get(), F_GETFD), SyscallSucceedsWithValue(0));
}

TEST(PipeTest, Pipe2CloexecAndNonblock) {
  Pipe p = MakePipe(O_CLOEXEC | O_NONBLOCK);
  EXPECT_THAT(fcntl(p.r.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(fcntl(p.w.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_TRUE(fcntl(p.r.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(fcntl(p.w.get(), F_GETFL) & O_NONBLOCK);
}

TEST(PipeTest, Pipe2InvalidFlagsFailEinval) {
  int p[2];
  EXPECT_THAT(pipe2(p, O_RDWR | O_APPEND), SyscallFailsWithErrno(EINVAL));
}

TEST(PipeTest, BadArrayFailsEfault) {
  EXPECT_THAT(pipe(reinterpret_cast<int*>(1)), SyscallFailsWithErrno(EFAULT));
}

TEST(PipeTest, EmptyNonblockingReadFailsEagain) {
  Pipe p = MakePipe(O_NONBLOCK);
  char c;
  EXPECT_THAT(read(p.r.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
}

TEST(PipeTest, FullNonblockingWriteFailsEagain) {
  Pipe p = MakePipe(O_NONBLOCK);
  std::vector<char> chunk(4096, 'a');
  ssize_t total = 0;
  for (;;) {
    ssize_t n = write(p.w.get(), chunk.data(), chunk.size());
    if (n < 0) {
      EXPECT_EQ(errno, EAGAIN);
      break;
    }
    total += n;
    ASSERT_LT(total, 64 << 20) << "pipe never filled";
  }
  int size = fcntl(p.w.get(), F_GETPIPE_SZ);
  EXPECT_EQ(total, size);
}

TEST(PipeTest, EofWhenAllWritersClose) {
  Pipe p = MakePipe();
  ASSERT_THAT(write(p.w.get(), "ab", 2), SyscallSucceeds());
  p.w.reset();
  char buf[4];
  EXPECT_THAT(read(p.r.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(2));
  EXPECT_THAT(read(p.r.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
}

TEST(PipeTest, DupedWriterKeepsPipeOpen) {
  Pipe p = MakePipe(O_NONBLOCK);
  FileDescriptor w2(dup(p.w.get()));
  p.w.reset();
  char c;
  EXPECT_THAT(read(p.r.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
}

TEST(PipeTest, WriteWithoutReaderFailsEpipeWhenIgnored) {
  ScopedIgnoreSigpipe ignore;
  Pipe p = MakePipe();
  p.r.reset();
  EXPECT_THAT(write(p.w.get(), "x", 1), SyscallFailsWithErrno(EPIPE));
}

TEST(PipeTest, WriteWithoutReaderRaisesSigpipeBlockedPending) {
  // With SIGPIPE blocked the write fails EPIPE and the signal stays pending.
  Pipe p = MakePipe();
  p.r.reset();
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, &old), SyscallSucceeds());
  EXPECT_THAT(write(p.w.get(), "x", 1), SyscallFailsWithErrno(EPIPE));
  sigset_t pending;
  ASSERT_THAT(sigpending(&pending), SyscallSucceeds());
  EXPECT_TRUE(sigismember(&pending, SIGPIPE));
  struct timespec zero = {0, 0};
  EXPECT_THAT(sigtimedwait(&set, nullptr, &zero),
              SyscallSucceedsWithValue(SIGPIPE));
  ASSERT_THAT(sigprocmask(SIG_SETMASK, &old, nullptr), SyscallSucceeds());
}

TEST(PipeTest, WriteWithoutReaderKillsWithSigpipeFork) {
  Pipe p = MakePipe();
  p.r.reset();
  int w = p.w.get();
  EXPECT_THAT(ForkAndWait([w]() -> int {
                signal(SIGPIPE, SIG_DFL);
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, nullptr);
                (void)!write(w, "x", 1);
                return 99;  // not reached: SIGPIPE kills first
              }),
              KilledBySignal(SIGPIPE));
}

TEST(PipeTest, PipeBufWritesAreAtomicWhenNonblocking) {
  // pipe(7): a nonblocking write of <= PIPE_BUF bytes either writes all or
  // fails EAGAIN; never partially.
  Pipe p = MakePipe(O_NONBLOCK);
  int size = fcntl(p.w.get(), F_GETPIPE_SZ);
  ASSERT_THAT(size, SyscallSucceeds());
  std::vector<char> fill(size - 100, 'f');
  ASSERT_THAT(write(p.w.get(), fill.data(), fill.size()),
              SyscallSucceedsWithValue(static_cast<ssize_t>(fill.size())));
  std::vector<char> atomic(PIPE_BUF, 'a');
  EXPECT_THAT(write(p.w.get(), atomic.data(), atomic.size()),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(PipeTest, LargeNonblockingWriteMayBePartial) {
  Pipe p = MakePipe(O_NONBLOCK);
  int size = fcntl(p.w.get(), F_GETPIPE_SZ);
  std::vector<char> big(size * 2, 'b');
  EXPECT_THAT(write(p.w.get(), big.data(), big.size()),
              SyscallSucceedsWithValue(size));
}

TEST(PipeTest, GetAndSetPipeSize) {
  Pipe p = MakePipe();
  EXPECT_THAT(fcntl(p.w.get(), F_GETPIPE_SZ),
              SyscallSucceedsWithValue(::testing::Ge(PIPE_BUF)));
  // The kernel rounds up to a power-of-two number of pages.
  ASSERT_THAT(fcntl(p.w.get(), F_SETPIPE_SZ, 100000),
              SyscallSucceedsWithValue(131072));
  EXPECT_THAT(fcntl(p.r.get(), F_GETPIPE_SZ), SyscallSucceedsWithValue(131072));
}

TEST(PipeTest, SetPipeSizeBelowContentsFailsEbusy) {
  Pipe p = MakePipe();
  std::vector<char> data(8192, 'd');
  ASSERT_THAT(write(p.w.get(), data.data(), data.size()), SyscallSucceeds());
  EXPECT_THAT(fcntl(p.w.get(), F_SETPIPE_SZ, 4096),
              SyscallFailsWithErrno(EBUSY));
}

TEST(PipeTest, SetPipeSizeOnFileFailsEbadf) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  EXPECT_THAT(fcntl(fd.get(), F_SETPIPE_SZ, 4096),
              SyscallFailsWithErrno(EBADF));
}

TEST(PipeTest, FionreadCountsUnreadBytes) {
  Pipe p = MakePipe();
  int n = -1;
  ASSERT_THAT(ioctl(p.r.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 0);
  ASSERT_THAT(write(p.w.get(), "12345", 5), SyscallSucceeds());
  ASSERT_THAT(ioctl(p.r.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 5);
  char c;
  ASSERT_THAT(read(p.r.get(), &c, 1), SyscallSucceeds());
  ASSERT_THAT(ioctl(p.r.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 4);
}

TEST(PipeTest, BlockingReadWaitsForWriterFork) {
  Pipe p = MakePipe();
  int w = p.w.get();
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    usleep(50 * 1000);
    (void)!write(w, "late", 4);
    _exit(0);
  }
  char buf[4];
  EXPECT_THAT(read(p.r.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(4));
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceeds());
}

}  // namespace
}  // namespace sentry::testing
