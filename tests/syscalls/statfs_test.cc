// statfs(2) and fstatfs(2), from the man page: what holds for every file
// system (field consistency, ST_VALID, symlinks, a file and its directory
// agreeing, errors) and the f_type of the kernel's internal file systems
// (pipes, sockets, anonymous inodes, memfd), whose magic numbers
// linux/magic.h defines. attr_test covers the basics for / and /proc.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

// f_flags is valid when the kernel sets this bit (statfs(2): "since Linux
// 2.6.36").
constexpr long kStValid = 0x0020;

long FstatfsType(int fd) {
  struct statfs st;
  if (fstatfs(fd, &st) != 0) return -1;
  return st.f_type;
}

TEST(StatfsPathTest, FieldsAreConsistent) {
  TempPath dir = TempPath::CreateDir();
  for (const std::string& path :
       {std::string("/"), std::string("/proc"), dir.path()}) {
    struct statfs st;
    ASSERT_THAT(statfs(path.c_str(), &st), SyscallSucceeds()) << path;
    EXPECT_GT(st.f_bsize, 0) << path;
    EXPECT_GT(st.f_frsize, 0) << path;
    EXPECT_GT(st.f_namelen, 0) << path;
    EXPECT_LE(st.f_bfree, st.f_blocks) << path;
    EXPECT_LE(st.f_bavail, st.f_bfree) << path;
    EXPECT_LE(st.f_ffree, st.f_files) << path;
    EXPECT_NE(st.f_flags & kStValid, 0) << path;
  }
}

// A directory that holds files has room for names of at least a few
// characters and a positive capacity.
TEST(StatfsPathTest, WritableDirectoryHasCapacity) {
  TempPath dir = TempPath::CreateDir();
  struct statfs st;
  ASSERT_THAT(statfs(dir.path().c_str(), &st), SyscallSucceeds());
  EXPECT_GT(st.f_blocks, 0u);
  EXPECT_GE(st.f_namelen, 14);
  // Not mounted read-only: we just created the directory.
  EXPECT_EQ(st.f_flags & ST_RDONLY, 0);
}

TEST(StatfsPathTest, FollowsSymlinks) {
  TempPath dir = TempPath::CreateDir();
  std::string link = dir.Child("to-proc");
  ASSERT_THAT(symlink("/proc", link.c_str()), SyscallSucceeds());
  struct statfs st;
  ASSERT_THAT(statfs(link.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.f_type, PROC_SUPER_MAGIC);
}

// A file and the directory holding it are on the same file system.
TEST(StatfsPathTest, FileAndItsDirectoryAgree) {
  TempPath dir = TempPath::CreateDir();
  TempPath f = TempPath::CreateFileIn(dir.path(), "abc");
  struct statfs a, b;
  ASSERT_THAT(statfs(dir.path().c_str(), &a), SyscallSucceeds());
  ASSERT_THAT(statfs(f.path().c_str(), &b), SyscallSucceeds());
  EXPECT_EQ(a.f_type, b.f_type);
  EXPECT_EQ(a.f_bsize, b.f_bsize);
  EXPECT_EQ(a.f_blocks, b.f_blocks);
  EXPECT_EQ(a.f_files, b.f_files);
  EXPECT_EQ(memcmp(&a.f_fsid, &b.f_fsid, sizeof(a.f_fsid)), 0);
}

TEST(StatfsPathTest, PathErrors) {
  TempPath f = TempPath::CreateFile();
  struct statfs st;
  EXPECT_THAT(statfs((f.path() + "/x").c_str(), &st),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(statfs("", &st), SyscallFailsWithErrno(ENOENT));
  std::string long_name(NAME_MAX + 1, 'x');
  EXPECT_THAT(statfs(long_name.c_str(), &st),
              SyscallFailsWithErrno(ENAMETOOLONG));
  EXPECT_THAT(syscall(SYS_statfs, reinterpret_cast<void*>(8), &st),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_statfs, "/", reinterpret_cast<void*>(8)),
              SyscallFailsWithErrno(EFAULT));
  TempPath dir = TempPath::CreateDir();
  std::string loop = dir.Child("loop");
  ASSERT_THAT(symlink("loop", loop.c_str()), SyscallSucceeds());
  EXPECT_THAT(statfs(loop.c_str(), &st), SyscallFailsWithErrno(ELOOP));
}

TEST(FstatfsTest, DescriptorErrors) {
  struct statfs st;
  EXPECT_THAT(fstatfs(-1, &st), SyscallFailsWithErrno(EBADF));
  FileDescriptor fd(open("/", O_RDONLY | O_DIRECTORY));
  EXPECT_THAT(syscall(SYS_fstatfs, fd.get(), reinterpret_cast<void*>(8)),
              SyscallFailsWithErrno(EFAULT));
}

// fstatfs is one of the calls an O_PATH descriptor allows.
TEST(FstatfsTest, OPathDescriptorWorks) {
  FileDescriptor fd(open("/proc", O_PATH));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(FstatfsType(fd.get()), PROC_SUPER_MAGIC);
}

TEST(FstatfsTest, PipesAreOnPipefs) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  EXPECT_EQ(FstatfsType(r.get()), PIPEFS_MAGIC);
  EXPECT_EQ(FstatfsType(w.get()), PIPEFS_MAGIC);
  // statfs through the /proc/self/fd magic link reaches the same inode.
  struct statfs st;
  std::string link = "/proc/self/fd/" + std::to_string(r.get());
  ASSERT_THAT(statfs(link.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.f_type, PIPEFS_MAGIC);
}

TEST(FstatfsTest, SocketsAreOnSockfs) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  EXPECT_EQ(FstatfsType(a.get()), SOCKFS_MAGIC);
}

// eventfd, epoll and timerfd descriptors are anonymous inodes.
TEST(FstatfsTest, EventDescriptorsAreAnonymousInodes) {
  FileDescriptor efd(eventfd(0, 0));
  FileDescriptor ep(epoll_create1(0));
  FileDescriptor tfd(timerfd_create(CLOCK_MONOTONIC, 0));
  ASSERT_THAT(efd.get(), SyscallSucceeds());
  ASSERT_THAT(ep.get(), SyscallSucceeds());
  ASSERT_THAT(tfd.get(), SyscallSucceeds());
  EXPECT_EQ(FstatfsType(efd.get()), ANON_INODE_FS_MAGIC);
  EXPECT_EQ(FstatfsType(ep.get()), ANON_INODE_FS_MAGIC);
  EXPECT_EQ(FstatfsType(tfd.get()), ANON_INODE_FS_MAGIC);
}

// memfd files live in shared memory, a tmpfs.
TEST(FstatfsTest, MemfdIsOnTmpfs) {
  FileDescriptor fd(memfd_create("statfs_test", 0));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(FstatfsType(fd.get()), TMPFS_MAGIC);
}

}  // namespace
}  // namespace sentry::testing
