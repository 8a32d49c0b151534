// rename(2), renameat and renameat2 (RENAME_NOREPLACE, RENAME_EXCHANGE),
// from the man pages.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

using ::testing::AnyOf;

class RenameTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = TempPath::CreateDir(); }
  std::string P(const std::string& name) const { return dir_.Child(name); }
  void MakeFile(const std::string& name, std::string_view contents = "") {
    FileDescriptor fd(open(P(name).c_str(), O_CREAT | O_WRONLY, 0644));
    ASSERT_THAT(fd.get(), SyscallSucceeds());
    ASSERT_TRUE(WriteAll(fd.get(), contents));
  }
  void MakeDir(const std::string& name) {
    ASSERT_THAT(mkdir(P(name).c_str(), 0755), SyscallSucceeds());
  }
  std::string Contents(const std::string& name) {
    FileDescriptor fd(open(P(name).c_str(), O_RDONLY));
    EXPECT_THAT(fd.get(), SyscallSucceeds());
    return fd.valid() ? ReadAll(fd.get()) : "";
  }
  bool Exists(const std::string& name) {
    struct stat st;
    return lstat(P(name).c_str(), &st) == 0;
  }
  TempPath dir_;
};

TEST_F(RenameTest, MovesFile) {
  MakeFile("a", "A");
  ASSERT_THAT(rename(P("a").c_str(), P("b").c_str()), SyscallSucceeds());
  EXPECT_FALSE(Exists("a"));
  EXPECT_EQ(Contents("b"), "A");
}

TEST_F(RenameTest, KeepsInode) {
  MakeFile("a");
  struct stat before, after;
  ASSERT_THAT(stat(P("a").c_str(), &before), SyscallSucceeds());
  ASSERT_THAT(rename(P("a").c_str(), P("b").c_str()), SyscallSucceeds());
  ASSERT_THAT(stat(P("b").c_str(), &after), SyscallSucceeds());
  EXPECT_EQ(before.st_ino, after.st_ino);
}

TEST_F(RenameTest, ReplacesExistingFile) {
  MakeFile("a", "new");
  MakeFile("b", "old");
  ASSERT_THAT(rename(P("a").c_str(), P("b").c_str()), SyscallSucceeds());
  EXPECT_EQ(Contents("b"), "new");
  EXPECT_FALSE(Exists("a"));
}

TEST_F(RenameTest, SameFileIsNoOp) {
  // rename(2): if oldpath and newpath are links to the same file, nothing
  // happens and both remain.
  MakeFile("a");
  ASSERT_THAT(link(P("a").c_str(), P("b").c_str()), SyscallSucceeds());
  ASSERT_THAT(rename(P("a").c_str(), P("b").c_str()), SyscallSucceeds());
  EXPECT_TRUE(Exists("a"));
  EXPECT_TRUE(Exists("b"));
}

TEST_F(RenameTest, MissingSourceFailsEnoent) {
  EXPECT_THAT(rename(P("a").c_str(), P("b").c_str()),
              SyscallFailsWithErrno(ENOENT));
}

TEST_F(RenameTest, MovesDirectoryOverEmptyDirectory) {
  MakeDir("d");
  MakeFile("d/f");
  MakeDir("e");
  ASSERT_THAT(rename(P("d").c_str(), P("e").c_str()), SyscallSucceeds());
  EXPECT_TRUE(Exists("e/f"));
  EXPECT_FALSE(Exists("d"));
}

TEST_F(RenameTest, DirectoryOverNonEmptyDirectoryFails) {
  MakeDir("d");
  MakeDir("e");
  MakeFile("e/f");
  EXPECT_THAT(rename(P("d").c_str(), P("e").c_str()),
              SyscallFailsWithErrno(AnyOf(ENOTEMPTY, EEXIST)));
}

TEST_F(RenameTest, DirectoryOverFileFailsEnotdir) {
  MakeDir("d");
  MakeFile("f");
  EXPECT_THAT(rename(P("d").c_str(), P("f").c_str()),
              SyscallFailsWithErrno(ENOTDIR));
}

TEST_F(RenameTest, FileOverDirectoryFailsEisdir) {
  MakeFile("f");
  MakeDir("d");
  EXPECT_THAT(rename(P("f").c_str(), P("d").c_str()),
              SyscallFailsWithErrno(EISDIR));
}

TEST_F(RenameTest, IntoOwnSubdirectoryFailsEinval) {
  MakeDir("d");
  MakeDir("d/sub");
  EXPECT_THAT(rename(P("d").c_str(), P("d/sub/d").c_str()),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(RenameTest, DotFails) {
  MakeDir("d");
  EXPECT_THAT(rename(P("d/.").c_str(), P("e").c_str()),
              SyscallFailsWithErrno(AnyOf(EINVAL, EBUSY)));
}

TEST_F(RenameTest, RenamesSymlinkNotTarget) {
  MakeFile("f", "T");
  ASSERT_THAT(symlink("f", P("l").c_str()), SyscallSucceeds());
  ASSERT_THAT(rename(P("l").c_str(), P("m").c_str()), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(lstat(P("m").c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_TRUE(Exists("f"));
}

TEST_F(RenameTest, OpenFdFollowsRenamedFile) {
  MakeFile("a", "abc");
  FileDescriptor fd(open(P("a").c_str(), O_RDONLY));
  ASSERT_THAT(rename(P("a").c_str(), P("b").c_str()), SyscallSucceeds());
  EXPECT_EQ(ReadAll(fd.get()), "abc");
}

TEST_F(RenameTest, DirectoryMoveUpdatesParentLinkCounts) {
  MakeDir("p1");
  MakeDir("p2");
  MakeDir("p1/d");
  struct stat p1, p2;
  ASSERT_THAT(stat(P("p1").c_str(), &p1), SyscallSucceeds());
  ASSERT_THAT(stat(P("p2").c_str(), &p2), SyscallSucceeds());
  ASSERT_THAT(rename(P("p1/d").c_str(), P("p2/d").c_str()), SyscallSucceeds());
  struct stat p1a, p2a;
  ASSERT_THAT(stat(P("p1").c_str(), &p1a), SyscallSucceeds());
  ASSERT_THAT(stat(P("p2").c_str(), &p2a), SyscallSucceeds());
  EXPECT_EQ(p1a.st_nlink, p1.st_nlink - 1);
  EXPECT_EQ(p2a.st_nlink, p2.st_nlink + 1);
}

TEST_F(RenameTest, RenameatRelativeToDirfds) {
  MakeDir("src");
  MakeDir("dst");
  MakeFile("src/f", "x");
  FileDescriptor s(open(P("src").c_str(), O_RDONLY | O_DIRECTORY));
  FileDescriptor d(open(P("dst").c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(renameat(s.get(), "f", d.get(), "g"), SyscallSucceeds());
  EXPECT_EQ(Contents("dst/g"), "x");
}

TEST_F(RenameTest, RenameatBadDirfdFailsEbadf) {
  MakeFile("f");
  EXPECT_THAT(renameat(-1, "f", AT_FDCWD, P("g").c_str()),
              SyscallFailsWithErrno(EBADF));
}

TEST_F(RenameTest, Renameat2NoreplaceFailsOnExisting) {
  MakeFile("a", "A");
  MakeFile("b", "B");
  EXPECT_THAT(renameat2(AT_FDCWD, P("a").c_str(), AT_FDCWD, P("b").c_str(),
                        RENAME_NOREPLACE),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_EQ(Contents("b"), "B");
}

TEST_F(RenameTest, Renameat2NoreplaceMovesToNewName) {
  MakeFile("a", "A");
  ASSERT_THAT(renameat2(AT_FDCWD, P("a").c_str(), AT_FDCWD, P("c").c_str(),
                        RENAME_NOREPLACE),
              SyscallSucceeds());
  EXPECT_EQ(Contents("c"), "A");
}

TEST_F(RenameTest, Renameat2ExchangeSwapsFiles) {
  MakeFile("a", "A");
  MakeFile("b", "B");
  ASSERT_THAT(renameat2(AT_FDCWD, P("a").c_str(), AT_FDCWD, P("b").c_str(),
                        RENAME_EXCHANGE),
              SyscallSucceeds());
  EXPECT_EQ(Contents("a"), "B");
  EXPECT_EQ(Contents("b"), "A");
}

TEST_F(RenameTest, Renameat2ExchangeFileAndDirectory) {
  MakeFile("f", "F");
  MakeDir("d");
  ASSERT_THAT(renameat2(AT_FDCWD, P("f").c_str(), AT_FDCWD, P("d").c_str(),
                        RENAME_EXCHANGE),
              SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(P("f").c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(Contents("d"), "F");
}

TEST_F(RenameTest, Renameat2ExchangeMissingTargetFailsEnoent) {
  MakeFile("a");
  EXPECT_THAT(renameat2(AT_FDCWD, P("a").c_str(), AT_FDCWD, P("b").c_str(),
                        RENAME_EXCHANGE),
              SyscallFailsWithErrno(ENOENT));
}

TEST_F(RenameTest, Renameat2NoreplaceWithExchangeFailsEinval) {
  MakeFile("a");
  MakeFile("b");
  EXPECT_THAT(renameat2(AT_FDCWD, P("a").c_str(), AT_FDCWD, P("b").c_str(),
                        RENAME_NOREPLACE | RENAME_EXCHANGE),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(RenameTest, Renameat2UnknownFlagFailsEinval) {
  MakeFile("a");
  EXPECT_THAT(
      renameat2(AT_FDCWD, P("a").c_str(), AT_FDCWD, P("b").c_str(), 1U << 20),
      SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace sentry::testing
