// flock(2), fcntl(2) record locks (F_SETLK/F_SETLKW/F_GETLK) and open file
// description locks (F_OFD_*), from the man pages. Conflicts between
// processes need fork: those cases carry "Fork" in their names so that
// platforms without fork can list them in expectations.txt.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

struct flock Lock(short type, off_t start, off_t len) {
  struct flock fl = {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = len;
  return fl;
}

class LockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = TempPath::CreateFile("0123456789");
    fd_.reset(open(file_.path().c_str(), O_RDWR));
    ASSERT_THAT(fd_.get(), SyscallSucceeds());
  }
  FileDescriptor Reopen(int flags = O_RDWR) {
    return FileDescriptor(open(file_.path().c_str(), flags));
  }
  TempPath file_;
  FileDescriptor fd_;
};

TEST_F(LockTest, FlockExclusiveAndUnlock) {
  EXPECT_THAT(flock(fd_.get(), LOCK_EX), SyscallSucceeds());
  EXPECT_THAT(flock(fd_.get(), LOCK_UN), SyscallSucceeds());
}

TEST_F(LockTest, FlockConflictsBetweenOpenFileDescriptions) {
  // flock locks belong to the open file description: a second open() of the
  // same file in the same process conflicts.
  FileDescriptor other = Reopen();
  ASSERT_THAT(flock(fd_.get(), LOCK_EX), SyscallSucceeds());
  EXPECT_THAT(flock(other.get(), LOCK_EX | LOCK_NB),
              SyscallFailsWithErrno(EWOULDBLOCK));
  EXPECT_THAT(flock(other.get(), LOCK_SH | LOCK_NB),
              SyscallFailsWithErrno(EWOULDBLOCK));
}

TEST_F(LockTest, FlockSharedLocksCoexist) {
  FileDescriptor other = Reopen();
  ASSERT_THAT(flock(fd_.get(), LOCK_SH), SyscallSucceeds());
  EXPECT_THAT(flock(other.get(), LOCK_SH | LOCK_NB), SyscallSucceeds());
}

TEST_F(LockTest, FlockDupSharesLock) {
  FileDescriptor d(dup(fd_.get()));
  ASSERT_THAT(flock(fd_.get(), LOCK_EX), SyscallSucceeds());
  EXPECT_THAT(flock(d.get(), LOCK_EX | LOCK_NB), SyscallSucceeds());
}

TEST_F(LockTest, FlockReleasedWhenLastDescriptorCloses) {
  FileDescriptor other = Reopen();
  {
    FileDescriptor locker = Reopen();
    ASSERT_THAT(flock(locker.get(), LOCK_EX), SyscallSucceeds());
  }
  EXPECT_THAT(flock(other.get(), LOCK_EX | LOCK_NB), SyscallSucceeds());
}

TEST_F(LockTest, FlockConvertsSharedToExclusive) {
  ASSERT_THAT(flock(fd_.get(), LOCK_SH), SyscallSucceeds());
  EXPECT_THAT(flock(fd_.get(), LOCK_EX | LOCK_NB), SyscallSucceeds());
  FileDescriptor other = Reopen();
  EXPECT_THAT(flock(other.get(), LOCK_SH | LOCK_NB),
              SyscallFailsWithErrno(EWOULDBLOCK));
}

TEST_F(LockTest, FlockInvalidOperationFailsEinval) {
  EXPECT_THAT(flock(fd_.get(), 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(flock(fd_.get(), LOCK_SH | LOCK_EX),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(LockTest, FlockBadFdFailsEbadf) {
  EXPECT_THAT(flock(-1, LOCK_EX), SyscallFailsWithErrno(EBADF));
}

TEST_F(LockTest, FlockConflictFork) {
  ASSERT_THAT(flock(fd_.get(), LOCK_EX), SyscallSucceeds());
  std::string path = file_.path();
  EXPECT_THAT(ForkAndWait([&]() -> int {
                int fd = open(path.c_str(), O_RDWR);
                CHILD_EXPECT(fd >= 0);
                CHILD_EXPECT(flock(fd, LOCK_EX | LOCK_NB) == -1 &&
                             errno == EWOULDBLOCK);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST_F(LockTest, SetlkOwnLocksNeverConflict) {
  // POSIX record locks belong to the process: re-locking is a replacement.
  struct flock w = Lock(F_WRLCK, 0, 5);
  ASSERT_THAT(fcntl(fd_.get(), F_SETLK, &w), SyscallSucceeds());
  FileDescriptor other = Reopen();
  EXPECT_THAT(fcntl(other.get(), F_SETLK, &w), SyscallSucceeds());
  struct flock q = Lock(F_WRLCK, 0, 5);
  ASSERT_THAT(fcntl(fd_.get(), F_GETLK, &q), SyscallSucceeds());
  EXPECT_EQ(q.l_type, F_UNLCK);
}

TEST_F(LockTest, SetlkReadLockNeedsReadableFd) {
  FileDescriptor wo = Reopen(O_WRONLY);
  struct flock r = Lock(F_RDLCK, 0, 1);
  EXPECT_THAT(fcntl(wo.get(), F_SETLK, &r), SyscallFailsWithErrno(EBADF));
}

TEST_F(LockTest, SetlkWriteLockNeedsWritableFd) {
  FileDescriptor ro = Reopen(O_RDONLY);
  struct flock w = Lock(F_WRLCK, 0, 1);
  EXPECT_THAT(fcntl(ro.get(), F_SETLK, &w), SyscallFailsWithErrno(EBADF));
}

TEST_F(LockTest, SetlkInvalidTypeFailsEinval) {
  struct flock bad = Lock(42, 0, 1);
  EXPECT_THAT(fcntl(fd_.get(), F_SETLK, &bad), SyscallFailsWithErrno(EINVAL));
}

TEST_F(LockTest, SetlkNegativeStartFailsEinval) {
  struct flock bad = Lock(F_WRLCK, -5, 1);
  EXPECT_THAT(fcntl(fd_.get(), F_SETLK, &bad), SyscallFailsWithErrno(EINVAL));
}

TEST_F(LockTest, SetlkReleasedByClosingAnyDescriptorFork) {
  // fcntl(2): closing *any* descriptor of the file drops the process's
  // record locks on it. Checked from another process, so it needs fork.
  struct flock w = Lock(F_WRLCK, 0, 0);
  ASSERT_THAT(fcntl(fd_.get(), F_SETLK, &w), SyscallSucceeds());
  { FileDescriptor other = Reopen(); }
  std::string path = file_.path();
  EXPECT_THAT(ForkAndWait([&]() -> int {
                int fd = open(path.c_str(), O_RDWR);
                struct flock c = Lock(F_WRLCK, 0, 0);
                CHILD_EXPECT(fcntl(fd, F_SETLK, &c) == 0);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST_F(LockTest, SetlkConflictFork) {
  struct flock w = Lock(F_WRLCK, 2, 3);
  ASSERT_THAT(fcntl(fd_.get(), F_SETLK, &w), SyscallSucceeds());
  pid_t parent = getpid();
  std::string path = file_.path();
  EXPECT_THAT(ForkAndWait([&]() -> int {
                int fd = open(path.c_str(), O_RDWR);
                struct flock c = Lock(F_WRLCK, 0, 10);
                CHILD_EXPECT(fcntl(fd, F_SETLK, &c) == -1);
                CHILD_EXPECT(errno == EAGAIN || errno == EACCES);
                // A range that does not overlap is free.
                struct flock free = Lock(F_WRLCK, 5, 5);
                CHILD_EXPECT(fcntl(fd, F_SETLK, &free) == 0);
                // F_GETLK describes the conflicting lock and its owner.
                struct flock q = Lock(F_RDLCK, 0, 3);
                CHILD_EXPECT(fcntl(fd, F_GETLK, &q) == 0);
                CHILD_EXPECT(q.l_type == F_WRLCK);
                CHILD_EXPECT(q.l_start == 2 && q.l_len == 3);
                CHILD_EXPECT(q.l_pid == parent);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST_F(LockTest, SetlkReadLocksShareFork) {
  struct flock r = Lock(F_RDLCK, 0, 0);
  ASSERT_THAT(fcntl(fd_.get(), F_SETLK, &r), SyscallSucceeds());
  std::string path = file_.path();
  EXPECT_THAT(ForkAndWait([&]() -> int {
                int fd = open(path.c_str(), O_RDWR);
                struct flock c = Lock(F_RDLCK, 0, 0);
                CHILD_EXPECT(fcntl(fd, F_SETLK, &c) == 0);
                struct flock w = Lock(F_WRLCK, 0, 0);
                CHILD_EXPECT(fcntl(fd, F_SETLK, &w) == -1);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST_F(LockTest, SetlkwWaitsForReleaseFork) {
  // The child takes the lock and holds it until told to go (after the
  // parent saw F_SETLK fail), then exits, which releases it; the parent's
  // F_SETLKW must then succeed.
  int locked[2], go[2];
  ASSERT_THAT(pipe(locked), SyscallSucceeds());
  ASSERT_THAT(pipe(go), SyscallSucceeds());
  FileDescriptor locked_r(locked[0]), locked_w(locked[1]);
  FileDescriptor go_r(go[0]), go_w(go[1]);
  std::string path = file_.path();
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    int fd = open(path.c_str(), O_RDWR);
    struct flock l = Lock(F_WRLCK, 0, 0);
    if (fcntl(fd, F_SETLK, &l) != 0) _exit(1);
    (void)!write(locked_w.get(), "x", 1);
    char c;
    (void)!read(go_r.get(), &c, 1);
    usleep(50 * 1000);  // let the parent block in F_SETLKW
    _exit(0);
  }
  char c;
  ASSERT_THAT(read(locked_r.get(), &c, 1), SyscallSucceedsWithValue(1));
  struct flock l = Lock(F_WRLCK, 0, 0);
  EXPECT_THAT(fcntl(fd_.get(), F_SETLK, &l),
              SyscallFailsWithErrno(::testing::AnyOf(EAGAIN, EACCES)));
  ASSERT_THAT(write(go_w.get(), "g", 1), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd_.get(), F_SETLKW, &l), SyscallSucceeds());
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceeds());
  EXPECT_THAT(status, ExitedWithCode(0));
}

TEST_F(LockTest, OfdLocksConflictBetweenDescriptions) {
  // OFD locks belong to the open file description, so two open()s in one
  // process conflict (unlike F_SETLK).
  FileDescriptor other = Reopen();
  struct flock w = Lock(F_WRLCK, 0, 10);
  ASSERT_THAT(fcntl(fd_.get(), F_OFD_SETLK, &w), SyscallSucceeds());
  struct flock w2 = Lock(F_WRLCK, 5, 1);
  EXPECT_THAT(fcntl(other.get(), F_OFD_SETLK, &w2),
              SyscallFailsWithErrno(EAGAIN));
}

TEST_F(LockTest, OfdGetlkReportsPidMinusOne) {
  FileDescriptor other = Reopen();
  struct flock w = Lock(F_WRLCK, 0, 10);
  ASSERT_THAT(fcntl(fd_.get(), F_OFD_SETLK, &w), SyscallSucceeds());
  struct flock q = Lock(F_RDLCK, 0, 1);
  ASSERT_THAT(fcntl(other.get(), F_OFD_GETLK, &q), SyscallSucceeds());
  EXPECT_EQ(q.l_type, F_WRLCK);
  EXPECT_EQ(q.l_pid, -1);
}

TEST_F(LockTest, OfdRequiresZeroPid) {
  struct flock w = Lock(F_WRLCK, 0, 1);
  w.l_pid = getpid();
  EXPECT_THAT(fcntl(fd_.get(), F_OFD_SETLK, &w), SyscallFailsWithErrno(EINVAL));
}

TEST_F(LockTest, OfdUnlockThenOtherCanLock) {
  FileDescriptor other = Reopen();
  struct flock w = Lock(F_WRLCK, 0, 0);
  ASSERT_THAT(fcntl(fd_.get(), F_OFD_SETLK, &w), SyscallSucceeds());
  struct flock u = Lock(F_UNLCK, 0, 0);
  ASSERT_THAT(fcntl(fd_.get(), F_OFD_SETLK, &u), SyscallSucceeds());
  EXPECT_THAT(fcntl(other.get(), F_OFD_SETLK, &w), SyscallSucceeds());
}

TEST_F(LockTest, OfdSharedWithForkedChildFork) {
  // The child inherits the open file description and so the OFD lock.
  struct flock w = Lock(F_WRLCK, 0, 0);
  ASSERT_THAT(fcntl(fd_.get(), F_OFD_SETLK, &w), SyscallSucceeds());
  int fd = fd_.get();
  EXPECT_THAT(ForkAndWait([&]() -> int {
                struct flock again = Lock(F_WRLCK, 0, 0);
                CHILD_EXPECT(fcntl(fd, F_OFD_SETLK, &again) == 0);
                return 0;
              }),
              ExitedWithCode(0));
}

}  // namespace
}  // namespace sentry::testing
