// File system semantics that hold on any Linux file system, run on files
// the host already has (/etc, /usr). Inside the Sentry the root is the host's
// tree read-only under a writable overlay, so these exercise the overlay's
// lookup, readdir and copy-up paths (see sentry/fs/overlay.h).
//
// Reading host files is done on every platform. Changing them is done on
// copies under a TempPath everywhere, and in addition on the real host paths
// only inside the Sentry, where the changes stay in the overlay's memory
// ("*OnHostPath" cases skip natively: they would modify the host).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::Not;

#define SKIP_IF_NATIVE()                       \
  do {                                         \
    if (TestPlatform() == "native") {          \
      GTEST_SKIP() << "would modify the host"; \
    }                                          \
  } while (0)

// Names in directory `path` (without "." and ".."), via readdir(3).
std::set<std::string> ListDir(const std::string& path) {
  std::set<std::string> names;
  DIR* d = opendir(path.c_str());
  EXPECT_NE(d, nullptr) << path << ": " << strerror(errno);
  if (d == nullptr) return names;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.insert(name);
  }
  closedir(d);
  return names;
}

// The layout getdents64(2) fills in.
struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// Every name getdents64 returns from `fd`'s current offset to the end,
// "." and ".." included, read through a small buffer so it takes several
// calls.
std::vector<std::string> Getdents(int fd) {
  std::vector<std::string> names;
  alignas(8) char buf[512];
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
    EXPECT_GE(n, 0) << strerror(errno);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      const auto* e = reinterpret_cast<const LinuxDirent64*>(buf + off);
      names.push_back(e->d_name);
      off += e->d_reclen;
    }
  }
  return names;
}

std::string ReadFile(const std::string& path) {
  FileDescriptor fd(open(path.c_str(), O_RDONLY));
  EXPECT_THAT(fd.get(), SyscallSucceeds()) << path;
  return fd.valid() ? ReadAll(fd.get()) : "";
}

void WriteFile(const std::string& path, const std::string& contents,
               int extra_flags = O_TRUNC) {
  FileDescriptor fd(open(path.c_str(), O_CREAT | O_WRONLY | extra_flags, 0644));
  ASSERT_THAT(fd.get(), SyscallSucceeds()) << path;
  ASSERT_TRUE(WriteAll(fd.get(), contents));
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

// A host directory under /usr/share/doc holding only 1-10 non-directories,
// or "" if there is none.
std::string SmallHostDirectory() {
  const std::string base = "/usr/share/doc";
  for (const std::string& name : ListDir(base)) {
    std::string dir = base + "/" + name;
    struct stat st;
    if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    std::set<std::string> children = ListDir(dir);
    if (children.empty() || children.size() > 10) continue;
    bool flat = true;
    for (const std::string& c : children) {
      if (lstat((dir + "/" + c).c_str(), &st) != 0 || S_ISDIR(st.st_mode)) {
        flat = false;
      }
    }
    if (flat) return dir;
  }
  return "";
}

// --- reading host files: every platform ---

TEST(OverlaySemanticsTest, ReadsAHostFile) {
  FileDescriptor fd(open("/etc/passwd", O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  std::string contents = ReadAll(fd.get());
  EXPECT_NE(contents.find("root:"), std::string::npos);
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, static_cast<off_t>(contents.size()));
}

TEST(OverlaySemanticsTest, ReadsEtcHostname) {
  std::string contents = ReadFile("/etc/hostname");
  EXPECT_FALSE(contents.empty());
}

TEST(OverlaySemanticsTest, PreadAtAnOffsetMatchesRead) {
  std::string all = ReadFile("/etc/passwd");
  ASSERT_GT(all.size(), 10u);
  FileDescriptor fd(open("/etc/passwd", O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  char buf[5];
  ASSERT_THAT(pread(fd.get(), buf, sizeof(buf), 3),
              SyscallSucceedsWithValue(5));
  EXPECT_EQ(std::string(buf, 5), all.substr(3, 5));
}

TEST(OverlaySemanticsTest, PrivateMappingOfAHostFileMatchesRead) {
  std::string all = ReadFile("/etc/passwd");
  ASSERT_FALSE(all.empty());
  FileDescriptor fd(open("/etc/passwd", O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  void* p = mmap(nullptr, all.size(), PROT_READ, MAP_PRIVATE, fd.get(), 0);
  ASSERT_NE(p, MAP_FAILED) << strerror(errno);
  EXPECT_EQ(std::string(static_cast<char*>(p), all.size()), all);
  munmap(p, all.size());
}

TEST(OverlaySemanticsTest, StatAndFstatAgree) {
  struct stat by_path;
  ASSERT_THAT(stat("/usr/bin/env", &by_path), SyscallSucceeds());
  FileDescriptor fd(open("/usr/bin/env", O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct stat by_fd;
  ASSERT_THAT(fstat(fd.get(), &by_fd), SyscallSucceeds());
  EXPECT_EQ(by_path.st_ino, by_fd.st_ino);
  EXPECT_EQ(by_path.st_dev, by_fd.st_dev);
  EXPECT_EQ(by_path.st_size, by_fd.st_size);
  EXPECT_EQ(by_path.st_mode, by_fd.st_mode);
  EXPECT_TRUE(S_ISREG(by_fd.st_mode));
  EXPECT_TRUE(by_fd.st_mode & S_IXUSR);
}

TEST(OverlaySemanticsTest, ReaddirOfUsrIncludeHasStdioH) {
  EXPECT_THAT(ListDir("/usr/include"), Contains("stdio.h"));
}

TEST(OverlaySemanticsTest, GetdentsOfEtcTwiceGivesTheSameNames) {
  FileDescriptor fd(open("/etc", O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  std::vector<std::string> first = Getdents(fd.get());
  ASSERT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceedsWithValue(0));
  std::vector<std::string> second = Getdents(fd.get());
  std::set<std::string> a(first.begin(), first.end());
  std::set<std::string> b(second.begin(), second.end());
  EXPECT_EQ(first.size(), a.size()) << "a name was returned twice";
  EXPECT_EQ(a, b);
  EXPECT_THAT(a, Contains("."));
  EXPECT_THAT(a, Contains(".."));
  EXPECT_THAT(a, Contains("passwd"));
}

TEST(OverlaySemanticsTest, DirentTypesMatchLstat) {
  DIR* d = opendir("/etc");
  ASSERT_NE(d, nullptr) << strerror(errno);
  int checked = 0;
  while (struct dirent* e = readdir(d)) {
    if (e->d_type == DT_UNKNOWN) continue;
    struct stat st;
    std::string path = std::string("/etc/") + e->d_name;
    ASSERT_THAT(lstat(path.c_str(), &st), SyscallSucceeds()) << path;
    EXPECT_EQ(e->d_type, IFTODT(st.st_mode)) << path;
    checked++;
  }
  closedir(d);
  EXPECT_GT(checked, 0);
}

TEST(OverlaySemanticsTest, AccessEtcPasswdForReading) {
  EXPECT_THAT(access("/etc/passwd", R_OK), SyscallSucceeds());
  EXPECT_THAT(access("/etc/no_such_file_here", F_OK),
              SyscallFailsWithErrno(ENOENT));
}

TEST(OverlaySemanticsTest, StatfsOfRootSucceeds) {
  struct statfs sfs;
  ASSERT_THAT(statfs("/", &sfs), SyscallSucceeds());
  EXPECT_GT(sfs.f_bsize, 0);
  EXPECT_GT(sfs.f_namelen, 0);
}

TEST(OverlaySemanticsTest, ReadlinkOfASymlinkInUsrBin) {
  std::string link;
  for (const std::string& name : ListDir("/usr/bin")) {
    struct stat st;
    std::string path = "/usr/bin/" + name;
    if (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      link = path;
      break;
    }
  }
  if (link.empty()) GTEST_SKIP() << "no symlink in /usr/bin";
  struct stat lst;
  ASSERT_THAT(lstat(link.c_str(), &lst), SyscallSucceeds());
  char buf[PATH_MAX];
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf));
  ASSERT_THAT(n, SyscallSucceeds()) << link;
  // lstat(2): "The size of a symbolic link is the length of the pathname it
  // contains, without a terminating null byte."
  EXPECT_EQ(n, lst.st_size) << link;
}

TEST(OverlaySemanticsTest, HostFileIsNotADirectory) {
  EXPECT_THAT(open("/etc/passwd", O_RDONLY | O_DIRECTORY),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(open("/etc/passwd/", O_RDONLY), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(open("/etc/passwd/x", O_RDONLY), SyscallFailsWithErrno(ENOTDIR));
}

// --- changes: the same checks on a copy and on the host path ---

// Creates `dir`/`name`, sees it listed, and removes it again.
void CheckCreateListUnlink(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name;
  ASSERT_FALSE(Exists(path)) << path;
  WriteFile(path, "probe");
  EXPECT_EQ(ReadFile(path), "probe");
  EXPECT_THAT(ListDir(dir), Contains(name));
  ASSERT_THAT(unlink(path.c_str()), SyscallSucceeds());
  EXPECT_FALSE(Exists(path));
  EXPECT_THAT(ListDir(dir), Not(Contains(name)));
}

// Overwrites the existing file `path`, sees the new contents with the same
// inode number, and puts the old contents back.
void CheckOverwriteInPlace(const std::string& path) {
  std::string old = ReadFile(path);
  struct stat before;
  ASSERT_THAT(stat(path.c_str(), &before), SyscallSucceeds());
  WriteFile(path, "overwritten\n");
  EXPECT_EQ(ReadFile(path), "overwritten\n");
  struct stat after;
  ASSERT_THAT(stat(path.c_str(), &after), SyscallSucceeds());
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(after.st_size, 12);
  WriteFile(path, "appended\n", O_APPEND);
  EXPECT_EQ(ReadFile(path), "overwritten\nappended\n");
  WriteFile(path, old);
}

// Removes the existing file `path` and creates a new one of that name: the
// new file has only the new contents.
void CheckUnlinkThenRecreate(const std::string& path) {
  ASSERT_TRUE(Exists(path)) << path;
  const std::string dir = path.substr(0, path.rfind('/'));
  const std::string name = path.substr(path.rfind('/') + 1);
  std::string old = ReadFile(path);
  ASSERT_THAT(unlink(path.c_str()), SyscallSucceeds());
  EXPECT_FALSE(Exists(path));
  EXPECT_THAT(ListDir(dir), Not(Contains(name)));
  EXPECT_THAT(open(path.c_str(), O_RDONLY), SyscallFailsWithErrno(ENOENT));
  FileDescriptor fd(open(path.c_str(), O_CREAT | O_EXCL | O_RDWR, 0644));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(ReadAll(fd.get()), "");
  ASSERT_TRUE(WriteAll(fd.get(), old));
}

// Renames `dir`/`name` within `dir`, sees only the new name, and renames it
// back.
void CheckRenameWithinDirectory(const std::string& dir,
                                const std::string& name) {
  const std::string from = dir + "/" + name;
  const std::string to = from + ".sentry_renamed";
  std::string contents = ReadFile(from);
  ASSERT_THAT(rename(from.c_str(), to.c_str()), SyscallSucceeds());
  EXPECT_FALSE(Exists(from));
  EXPECT_EQ(ReadFile(to), contents);
  std::set<std::string> names = ListDir(dir);
  EXPECT_THAT(names, Not(Contains(name)));
  EXPECT_THAT(names, Contains(name + ".sentry_renamed"));
  ASSERT_THAT(rename(to.c_str(), from.c_str()), SyscallSucceeds());
  EXPECT_EQ(ReadFile(from), contents);
  EXPECT_FALSE(Exists(to));
}

// chmods directory `dir`, sees the mode, and restores it.
void CheckChmodDirectory(const std::string& dir) {
  struct stat before;
  ASSERT_THAT(stat(dir.c_str(), &before), SyscallSucceeds());
  ASSERT_THAT(chmod(dir.c_str(), 0700), SyscallSucceeds());
  struct stat after;
  ASSERT_THAT(stat(dir.c_str(), &after), SyscallSucceeds());
  EXPECT_EQ(after.st_mode & 07777, 0700u);
  EXPECT_EQ(after.st_ino, before.st_ino);
  // The contents are untouched by a metadata change.
  EXPECT_FALSE(ListDir(dir).empty());
  ASSERT_THAT(chmod(dir.c_str(), before.st_mode & 07777), SyscallSucceeds());
}

// mkdir + rmdir of a new directory in `dir`.
void CheckMkdirRmdir(const std::string& dir) {
  const std::string sub = dir + "/sentry_probe_dir";
  ASSERT_THAT(mkdir(sub.c_str(), 0755), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(sub.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_THAT(ListDir(sub), IsEmpty());
  EXPECT_THAT(rmdir(dir.c_str()), SyscallFailsWithErrno(ENOTEMPTY));
  ASSERT_THAT(rmdir(sub.c_str()), SyscallSucceeds());
  EXPECT_FALSE(Exists(sub));
}

// Empties and removes the flat directory `dir`, then makes a new directory
// of that name: it must be empty, none of the old names showing through.
void CheckMkdirOverRemovedDirectoryIsEmpty(const std::string& dir) {
  std::set<std::string> old = ListDir(dir);
  ASSERT_FALSE(old.empty());
  EXPECT_THAT(rmdir(dir.c_str()), SyscallFailsWithErrno(ENOTEMPTY));
  for (const std::string& name : old) {
    ASSERT_THAT(unlink((dir + "/" + name).c_str()), SyscallSucceeds()) << name;
  }
  EXPECT_THAT(ListDir(dir), IsEmpty());
  ASSERT_THAT(rmdir(dir.c_str()), SyscallSucceeds());
  EXPECT_FALSE(Exists(dir));
  ASSERT_THAT(mkdir(dir.c_str(), 0755), SyscallSucceeds());
  EXPECT_THAT(ListDir(dir), IsEmpty());
  for (const std::string& name : old) {
    EXPECT_FALSE(Exists(dir + "/" + name)) << name;
  }
  FileDescriptor fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(Getdents(fd.get()), ::testing::UnorderedElementsAre(".", ".."));
}

// Hard-links the existing file `path` and removes the link again.
void CheckHardLink(const std::string& path) {
  const std::string link = path + ".sentry_link";
  std::string contents = ReadFile(path);
  struct stat before;
  ASSERT_THAT(stat(path.c_str(), &before), SyscallSucceeds());
  ASSERT_THAT(::link(path.c_str(), link.c_str()), SyscallSucceeds());
  EXPECT_EQ(ReadFile(link), contents);
  struct stat a, b;
  ASSERT_THAT(stat(path.c_str(), &a), SyscallSucceeds());
  ASSERT_THAT(stat(link.c_str(), &b), SyscallSucceeds());
  EXPECT_EQ(a.st_nlink, before.st_nlink + 1);
  EXPECT_EQ(b.st_nlink, a.st_nlink);
  ASSERT_THAT(unlink(link.c_str()), SyscallSucceeds());
  EXPECT_EQ(ReadFile(path), contents);
}

// A TempPath directory holding copies of the named files of `src_dir`.
TempPath CopyOf(const std::string& src_dir,
                const std::set<std::string>& names) {
  TempPath dir = TempPath::CreateDir();
  for (const std::string& name : names) {
    WriteFile(dir.Child(name), ReadFile(src_dir + "/" + name));
  }
  return dir;
}

TEST(OverlaySemanticsTest, CreateAndUnlinkOnCopy) {
  TempPath etc = CopyOf("/etc", {"hostname", "passwd"});
  CheckCreateListUnlink(etc.path(), "sentry_overlay_probe");
}

TEST(OverlaySemanticsTest, CreateAndUnlinkOnHostPath) {
  SKIP_IF_NATIVE();
  CheckCreateListUnlink("/etc", "sentry_overlay_probe");
}

TEST(OverlaySemanticsTest, OverwriteInPlaceOnCopy) {
  TempPath etc = CopyOf("/etc", {"hostname"});
  CheckOverwriteInPlace(etc.Child("hostname"));
}

TEST(OverlaySemanticsTest, OverwriteInPlaceOnHostPath) {
  SKIP_IF_NATIVE();
  CheckOverwriteInPlace("/etc/hostname");
}

TEST(OverlaySemanticsTest, UnlinkThenRecreateOnCopy) {
  TempPath etc = CopyOf("/etc", {"debian_version"});
  CheckUnlinkThenRecreate(etc.Child("debian_version"));
}

TEST(OverlaySemanticsTest, UnlinkThenRecreateOnHostPath) {
  SKIP_IF_NATIVE();
  CheckUnlinkThenRecreate("/etc/debian_version");
}

TEST(OverlaySemanticsTest, RenameWithinDirectoryOnCopy) {
  TempPath etc = CopyOf("/etc", {"hostname", "passwd"});
  CheckRenameWithinDirectory(etc.path(), "hostname");
}

TEST(OverlaySemanticsTest, RenameWithinDirectoryOnHostPath) {
  SKIP_IF_NATIVE();
  CheckRenameWithinDirectory("/etc", "hostname");
}

TEST(OverlaySemanticsTest, ChmodDirectoryOnCopy) {
  TempPath doc = CopyOf("/etc", {"hostname"});
  CheckChmodDirectory(doc.path());
}

TEST(OverlaySemanticsTest, ChmodDirectoryOnHostPath) {
  SKIP_IF_NATIVE();
  CheckChmodDirectory("/usr/share/doc");
}

TEST(OverlaySemanticsTest, MkdirRmdirOnCopy) {
  TempPath etc = CopyOf("/etc", {"hostname"});
  CheckMkdirRmdir(etc.path());
}

TEST(OverlaySemanticsTest, MkdirRmdirOnHostPath) {
  SKIP_IF_NATIVE();
  CheckMkdirRmdir("/etc");
}

TEST(OverlaySemanticsTest, MkdirOverRemovedDirectoryOnCopy) {
  std::string host = SmallHostDirectory();
  if (host.empty()) GTEST_SKIP() << "no small flat directory in /usr/share/doc";
  TempPath parent = TempPath::CreateDir();
  std::string dir = parent.Child("doc");
  ASSERT_THAT(mkdir(dir.c_str(), 0755), SyscallSucceeds());
  for (const std::string& name : ListDir(host)) {
    WriteFile(dir + "/" + name, "copy of " + name);
  }
  CheckMkdirOverRemovedDirectoryIsEmpty(dir);
}

TEST(OverlaySemanticsTest, MkdirOverRemovedDirectoryOnHostPath) {
  SKIP_IF_NATIVE();
  std::string host = SmallHostDirectory();
  if (host.empty()) GTEST_SKIP() << "no small flat directory in /usr/share/doc";
  CheckMkdirOverRemovedDirectoryIsEmpty(host);
}

TEST(OverlaySemanticsTest, HardLinkOnCopy) {
  TempPath etc = CopyOf("/etc", {"passwd"});
  CheckHardLink(etc.Child("passwd"));
}

TEST(OverlaySemanticsTest, HardLinkOnHostPath) {
  SKIP_IF_NATIVE();
  CheckHardLink("/etc/passwd");
}

}  // namespace
}  // namespace sentry::testing
