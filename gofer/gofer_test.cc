// Every Gofer operation, through the client, against a confined Gofer.
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <set>
#include <string>

#include "gofer/client.h"
#include "gofer/test_util.h"
#include "gtest/gtest.h"

namespace sentry::gofer {
namespace {

TEST_F(GoferTest, WalkStatOpenRead) {
  ASSERT_EQ(mkdir(Host("dir").c_str(), 0755), 0);
  WriteHostFile(Host("dir/file"), "hello");
  StartServer();

  ASSERT_OK_AND_ASSIGN(NodeInfo dir, client_->Walk(root_handle_, "dir"));
  EXPECT_TRUE(S_ISDIR(dir.st.st_mode));
  ASSERT_OK_AND_ASSIGN(NodeInfo file, client_->Walk(dir.handle, "file"));
  struct stat host;
  ASSERT_EQ(lstat(Host("dir/file").c_str(), &host), 0);
  EXPECT_EQ(file.st.st_ino, host.st_ino);
  EXPECT_EQ(file.st.st_dev, host.st_dev);
  EXPECT_EQ(file.st.st_size, 5);
  EXPECT_EQ(file.st.st_mode, host.st_mode);
  EXPECT_EQ(file.st.st_mtim.tv_nsec, host.st_mtim.tv_nsec);

  ASSERT_OK_AND_ASSIGN(struct stat st, client_->Stat(file.handle));
  EXPECT_EQ(st.st_ino, host.st_ino);

  ASSERT_OK_AND_ASSIGN(UniqueFd fd, client_->Open(file.handle, O_RDONLY));
  EXPECT_EQ(ReadAll(fd.get()), "hello");
  EXPECT_EQ(fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);

  ASSERT_OK_AND_ASSIGN(UniqueFd w,
                       client_->Open(file.handle, O_WRONLY | O_APPEND));
  ASSERT_EQ(write(w.get(), " world", 6), 6);
  UniqueFd check(open(Host("dir/file").c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(ReadAll(check.get()), "hello world");

  ASSERT_OK_AND_ASSIGN(UniqueFd t,
                       client_->Open(file.handle, O_RDWR | O_TRUNC));
  ASSERT_EQ(lstat(Host("dir/file").c_str(), &host), 0);
  EXPECT_EQ(host.st_size, 0);

  // Directories are never donated (they are listed with ReadDir).
  EXPECT_ERRNO(client_->Open(dir.handle, O_RDONLY | O_DIRECTORY), EISDIR);
}

TEST_F(GoferTest, WalkErrors) {
  WriteHostFile(Host("file"), "x");
  StartServer();
  EXPECT_ERRNO(client_->Walk(root_handle_, "missing"), ENOENT);
  EXPECT_ERRNO(client_->Walk(root_handle_, "."), EINVAL);
  EXPECT_ERRNO(client_->Walk(root_handle_, ".."), EINVAL);
  EXPECT_ERRNO(client_->Walk(root_handle_, ""), ENOENT);
  EXPECT_ERRNO(client_->Walk(root_handle_, "a/b"), EINVAL);
  EXPECT_ERRNO(client_->Walk(root_handle_, "/"), EINVAL);
  EXPECT_ERRNO(client_->Walk(root_handle_, std::string("file\0x", 6)), EINVAL);
  EXPECT_ERRNO(client_->Walk(root_handle_, std::string(256, 'a')),
               ENAMETOOLONG);
  EXPECT_ERRNO(client_->Walk(12345, "file"), EBADF);
  ASSERT_OK_AND_ASSIGN(NodeInfo file, client_->Walk(root_handle_, "file"));
  EXPECT_ERRNO(client_->Walk(file.handle, "x"), ENOTDIR);
}

TEST_F(GoferTest, OpenRefusals) {
  ASSERT_EQ(mkdir(Host("dir").c_str(), 0755), 0);
  WriteHostFile(Host("file"), "x");
  ASSERT_EQ(mkfifo(Host("fifo").c_str(), 0644), 0);
  // No device nodes inside Bazel's sandbox (no CAP_MKNOD in its namespace).
  bool have_dev =
      mknod(Host("null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0;
  StartServer();
  ASSERT_OK_AND_ASSIGN(NodeInfo dir, client_->Walk(root_handle_, "dir"));
  ASSERT_OK_AND_ASSIGN(NodeInfo file, client_->Walk(root_handle_, "file"));
  ASSERT_OK_AND_ASSIGN(NodeInfo fifo, client_->Walk(root_handle_, "fifo"));
  EXPECT_TRUE(S_ISFIFO(fifo.st.st_mode));
  EXPECT_ERRNO(client_->Open(fifo.handle, O_RDONLY | O_NONBLOCK), ENXIO);
  if (have_dev) {
    ASSERT_OK_AND_ASSIGN(NodeInfo null, client_->Walk(root_handle_, "null"));
    EXPECT_TRUE(S_ISCHR(null.st.st_mode));
    EXPECT_ERRNO(client_->Open(null.handle, O_RDWR), ENXIO);
  }
  EXPECT_ERRNO(client_->Open(dir.handle, O_WRONLY), EISDIR);
  EXPECT_ERRNO(client_->Open(file.handle, O_RDONLY | O_DIRECTORY), ENOTDIR);
  EXPECT_ERRNO(client_->Open(file.handle, O_RDONLY | O_CREAT), EINVAL);
  EXPECT_ERRNO(client_->Open(file.handle, O_RDONLY | O_NOFOLLOW), EINVAL);
  EXPECT_ERRNO(client_->Open(file.handle, O_PATH), EINVAL);
  EXPECT_ERRNO(client_->Open(file.handle, O_ACCMODE), EINVAL);
  EXPECT_ERRNO(client_->Open(999, O_RDONLY), EBADF);
}

TEST_F(GoferTest, ReadDirPagesThroughBigDirectories) {
  ASSERT_EQ(mkdir(Host("big").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Host("big/subdir").c_str(), 0755), 0);
  std::set<std::string> want = {"subdir"};
  // 3000 names of ~100 bytes: ~350 KB of entries, several 64 KiB pages.
  for (int i = 0; i < 3000; ++i) {
    std::string name = std::string(96, 'n') + std::to_string(i);
    UniqueFd fd(open(Host("big/" + name).c_str(),
                     O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd.valid());
    want.insert(name);
  }
  StartServer();
  ASSERT_OK_AND_ASSIGN(NodeInfo big, client_->Walk(root_handle_, "big"));
  ASSERT_OK_AND_ASSIGN(std::vector<DirEntry> entries,
                       client_->ReadDir(big.handle));
  std::set<std::string> got;
  for (const DirEntry& e : entries) {
    EXPECT_TRUE(got.insert(e.name).second) << "duplicate " << e.name;
    EXPECT_EQ(e.type, e.name == "subdir" ? DT_DIR : DT_REG) << e.name;
    struct stat st;
    ASSERT_EQ(lstat(Host("big/" + e.name).c_str(), &st), 0);
    EXPECT_EQ(e.ino, st.st_ino);
  }
  EXPECT_EQ(got, want);

  ASSERT_OK_AND_ASSIGN(NodeInfo sub, client_->Walk(big.handle, "subdir"));
  ASSERT_OK_AND_ASSIGN(std::vector<DirEntry> none,
                       client_->ReadDir(sub.handle));
  EXPECT_TRUE(none.empty());
  ASSERT_OK_AND_ASSIGN(NodeInfo f, client_->Walk(big.handle, *want.begin()));
  EXPECT_ERRNO(client_->ReadDir(f.handle), ENOTDIR);
}

TEST_F(GoferTest, ReadLink) {
  ASSERT_EQ(symlink("some/where", Host("link").c_str()), 0);
  WriteHostFile(Host("file"), "x");
  StartServer();
  ASSERT_OK_AND_ASSIGN(NodeInfo link, client_->Walk(root_handle_, "link"));
  EXPECT_TRUE(S_ISLNK(link.st.st_mode));
  ASSERT_OK_AND_ASSIGN(std::string target, client_->ReadLink(link.handle));
  EXPECT_EQ(target, "some/where");
  ASSERT_OK_AND_ASSIGN(NodeInfo file, client_->Walk(root_handle_, "file"));
  EXPECT_FALSE(client_->ReadLink(file.handle).ok());
}

TEST_F(GoferTest, CreateMkdirSymlinkLink) {
  StartServer();
  ASSERT_OK_AND_ASSIGN(
      auto created,
      client_->Create(root_handle_, "new", O_RDWR, 04640, uid_, gid_));
  auto& [node, fd] = created;
  struct stat host;
  ASSERT_EQ(lstat(Host("new").c_str(), &host), 0);
  EXPECT_EQ(node.st.st_ino, host.st_ino);
  EXPECT_EQ(node.st.st_mode, host.st_mode);
  EXPECT_EQ(host.st_mode, S_IFREG | 04640u);  // exact: no umask, set-ID kept
  EXPECT_EQ(host.st_uid, uid_);
  EXPECT_EQ(host.st_gid, gid_);
  // The donated FD writes the new file (and, as writes do, drops set-ID).
  ASSERT_EQ(write(fd.get(), "data", 4), 4);
  ASSERT_EQ(lstat(Host("new").c_str(), &host), 0);
  EXPECT_EQ(host.st_size, 4);
  EXPECT_ERRNO(client_->Create(root_handle_, "new", O_RDWR, 0644, 0, 0),
               EEXIST);
  EXPECT_ERRNO(
      client_->Create(root_handle_, "d", O_RDONLY | O_DIRECTORY, 0644, 0, 0),
      EINVAL);
  EXPECT_ERRNO(client_->Create(root_handle_, "..", O_RDWR, 0644, 0, 0), EINVAL);

  ASSERT_OK_AND_ASSIGN(NodeInfo dir,
                       client_->Mkdir(root_handle_, "sub", 0751, uid_, gid_));
  ASSERT_EQ(lstat(Host("sub").c_str(), &host), 0);
  EXPECT_EQ(host.st_mode, S_IFDIR | 0751u);
  EXPECT_EQ(host.st_uid, uid_);
  EXPECT_EQ(host.st_gid, gid_);
  EXPECT_EQ(dir.st.st_ino, host.st_ino);
  EXPECT_ERRNO(client_->Mkdir(root_handle_, "sub", 0755, 0, 0), EEXIST);

  ASSERT_OK_AND_ASSIGN(
      NodeInfo link, client_->Symlink(dir.handle, "ln", "../new", uid_, gid_));
  EXPECT_TRUE(S_ISLNK(link.st.st_mode));
  char buf[64] = {};
  ASSERT_EQ(readlink(Host("sub/ln").c_str(), buf, sizeof(buf)), 6);
  EXPECT_STREQ(buf, "../new");
  ASSERT_EQ(lstat(Host("sub/ln").c_str(), &host), 0);
  EXPECT_EQ(host.st_uid, uid_);
  EXPECT_ERRNO(client_->Symlink(dir.handle, "empty", "", 0, 0), ENOENT);

  EXPECT_OK(client_->Link(node.handle, dir.handle, "hard"));
  ASSERT_EQ(lstat(Host("sub/hard").c_str(), &host), 0);
  EXPECT_EQ(host.st_ino, node.st.st_ino);
  EXPECT_EQ(host.st_nlink, 2u);
  // A hard link to the symlink is the symlink, not what it points to.
  EXPECT_OK(client_->Link(link.handle, root_handle_, "ln2"));
  ASSERT_EQ(lstat(Host("ln2").c_str(), &host), 0);
  EXPECT_TRUE(S_ISLNK(host.st_mode));
  EXPECT_EQ(host.st_ino, link.st.st_ino);
  EXPECT_ERRNO(client_->Link(dir.handle, root_handle_, "dirlink"), EPERM);
  EXPECT_ERRNO(client_->Link(node.handle, root_handle_, "new"), EEXIST);
}

TEST_F(GoferTest, UnlinkAndRename) {
  ASSERT_EQ(mkdir(Host("d").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Host("e").c_str(), 0755), 0);
  WriteHostFile(Host("a"), "A");
  WriteHostFile(Host("b"), "B");
  WriteHostFile(Host("d/c"), "C");
  StartServer();
  ASSERT_OK_AND_ASSIGN(NodeInfo d, client_->Walk(root_handle_, "d"));

  EXPECT_ERRNO(client_->Unlink(root_handle_, "d", false), EISDIR);
  EXPECT_ERRNO(client_->Unlink(root_handle_, "a", true), ENOTDIR);
  EXPECT_ERRNO(client_->Unlink(root_handle_, "d", true), ENOTEMPTY);
  EXPECT_ERRNO(client_->Unlink(root_handle_, "..", true), EINVAL);
  EXPECT_OK(client_->Unlink(root_handle_, "e", true));
  EXPECT_NE(access(Host("e").c_str(), F_OK), 0);

  EXPECT_OK(client_->Rename(d.handle, "c", root_handle_, "c2", 0));
  EXPECT_EQ(access(Host("c2").c_str(), F_OK), 0);
  EXPECT_ERRNO(
      client_->Rename(root_handle_, "a", root_handle_, "b", RENAME_NOREPLACE),
      EEXIST);
  struct stat a, b;
  ASSERT_EQ(lstat(Host("a").c_str(), &a), 0);
  ASSERT_EQ(lstat(Host("b").c_str(), &b), 0);
  EXPECT_OK(
      client_->Rename(root_handle_, "a", root_handle_, "b", RENAME_EXCHANGE));
  struct stat a2, b2;
  ASSERT_EQ(lstat(Host("a").c_str(), &a2), 0);
  ASSERT_EQ(lstat(Host("b").c_str(), &b2), 0);
  EXPECT_EQ(a2.st_ino, b.st_ino);
  EXPECT_EQ(b2.st_ino, a.st_ino);
  EXPECT_ERRNO(
      client_->Rename(root_handle_, "a", root_handle_, "z", RENAME_WHITEOUT),
      EINVAL);
  EXPECT_ERRNO(client_->Rename(root_handle_, "a", root_handle_, "..", 0),
               EINVAL);
  EXPECT_OK(client_->Rename(root_handle_, "a", d.handle, "moved", 0));
  EXPECT_OK(client_->Unlink(d.handle, "moved", false));
  EXPECT_NE(access(Host("d/moved").c_str(), F_OK), 0);
}

TEST_F(GoferTest, SetAttr) {
  WriteHostFile(Host("f"), "0123456789");
  ASSERT_EQ(symlink("f", Host("ln").c_str()), 0);
  ASSERT_EQ(mkdir(Host("d").c_str(), 0755), 0);
  StartServer();
  ASSERT_OK_AND_ASSIGN(NodeInfo f, client_->Walk(root_handle_, "f"));
  ASSERT_OK_AND_ASSIGN(NodeInfo ln, client_->Walk(root_handle_, "ln"));
  ASSERT_OK_AND_ASSIGN(NodeInfo d, client_->Walk(root_handle_, "d"));

  Client::SetAttrRequest req;
  req.mode = 0600;
  req.uid = uid_;
  req.gid = gid_;
  req.size = 3;
  req.atime = timespec{1000, 5};
  req.mtime = timespec{2000, 6};
  EXPECT_OK(client_->SetAttr(f.handle, req));
  struct stat host;
  ASSERT_EQ(lstat(Host("f").c_str(), &host), 0);
  EXPECT_EQ(host.st_mode, S_IFREG | 0600u);
  EXPECT_EQ(host.st_uid, uid_);
  EXPECT_EQ(host.st_gid, gid_);
  EXPECT_EQ(host.st_size, 3);
  EXPECT_EQ(host.st_atim.tv_sec, 1000);
  EXPECT_EQ(host.st_atim.tv_nsec, 5);
  EXPECT_EQ(host.st_mtim.tv_sec, 2000);
  EXPECT_EQ(host.st_mtim.tv_nsec, 6);

  // UTIME_OMIT keeps, UTIME_NOW sets to now.
  Client::SetAttrRequest times;
  times.atime = timespec{0, UTIME_OMIT};
  times.mtime = timespec{0, UTIME_NOW};
  EXPECT_OK(client_->SetAttr(f.handle, times));
  ASSERT_EQ(lstat(Host("f").c_str(), &host), 0);
  EXPECT_EQ(host.st_atim.tv_sec, 1000);
  EXPECT_GT(host.st_mtim.tv_sec, 2000);

  // Symlinks: owner and times of the link itself; no mode.
  Client::SetAttrRequest on_link;
  on_link.uid = 0;
  on_link.mtime = timespec{3000, 0};
  EXPECT_OK(client_->SetAttr(ln.handle, on_link));
  ASSERT_EQ(lstat(Host("ln").c_str(), &host), 0);
  EXPECT_EQ(host.st_uid, 0u);
  EXPECT_EQ(host.st_mtim.tv_sec, 3000);
  ASSERT_EQ(stat(Host("f").c_str(), &host), 0);
  EXPECT_EQ(host.st_uid, uid_);  // the target is untouched
  Client::SetAttrRequest link_mode;
  link_mode.mode = 0777;
  EXPECT_ERRNO(client_->SetAttr(ln.handle, link_mode), EOPNOTSUPP);

  Client::SetAttrRequest dir_size;
  dir_size.size = 0;
  EXPECT_ERRNO(client_->SetAttr(d.handle, dir_size), EISDIR);
  Client::SetAttrRequest dir_mode;
  dir_mode.mode = 0700;
  EXPECT_OK(client_->SetAttr(d.handle, dir_mode));
  ASSERT_EQ(lstat(Host("d").c_str(), &host), 0);
  EXPECT_EQ(host.st_mode, S_IFDIR | 0700u);
}

TEST_F(GoferTest, StatFsAndClose) {
  WriteHostFile(Host("f"), "x");
  StartServer();
  ASSERT_OK_AND_ASSIGN(struct statfs fs, client_->StatFs(root_handle_));
  struct statfs host;
  ASSERT_EQ(statfs(root_.c_str(), &host), 0);
  EXPECT_EQ(fs.f_type, host.f_type);
  EXPECT_EQ(fs.f_bsize, host.f_bsize);
  EXPECT_EQ(fs.f_blocks, host.f_blocks);
  EXPECT_EQ(fs.f_namelen, host.f_namelen);

  ASSERT_OK_AND_ASSIGN(NodeInfo f, client_->Walk(root_handle_, "f"));
  client_->Close(f.handle);
  EXPECT_ERRNO(client_->Stat(f.handle), EBADF);
  client_->Close(f.handle);  // unknown now: still no answer, no harm
  EXPECT_OK(client_->Stat(root_handle_));
}

TEST_F(GoferTest, ReadOnlyRefusesEveryMutation) {
  ASSERT_EQ(mkdir(Host("d").c_str(), 0755), 0);
  WriteHostFile(Host("f"), "x");
  StartServer(/*read_only=*/true);
  uint64_t r = root_handle_;
  ASSERT_OK_AND_ASSIGN(NodeInfo f, client_->Walk(r, "f"));
  ASSERT_OK_AND_ASSIGN(NodeInfo d, client_->Walk(r, "d"));
  EXPECT_OK(client_->Open(f.handle, O_RDONLY));
  EXPECT_OK(client_->ReadDir(d.handle));
  EXPECT_OK(client_->StatFs(r));
  EXPECT_ERRNO(client_->Open(f.handle, O_WRONLY), EROFS);
  EXPECT_ERRNO(client_->Open(f.handle, O_RDWR), EROFS);
  EXPECT_ERRNO(client_->Open(f.handle, O_RDONLY | O_TRUNC), EROFS);
  EXPECT_ERRNO(client_->Create(r, "n", O_RDWR, 0644, 0, 0), EROFS);
  EXPECT_ERRNO(client_->Mkdir(r, "n", 0755, 0, 0), EROFS);
  EXPECT_ERRNO(client_->Symlink(r, "n", "f", 0, 0), EROFS);
  EXPECT_ERRNO(client_->Link(f.handle, r, "n"), EROFS);
  EXPECT_ERRNO(client_->Unlink(r, "f", false), EROFS);
  EXPECT_ERRNO(client_->Unlink(r, "d", true), EROFS);
  EXPECT_ERRNO(client_->Rename(r, "f", r, "g", 0), EROFS);
  Client::SetAttrRequest req;
  req.mode = 0600;
  EXPECT_ERRNO(client_->SetAttr(f.handle, req), EROFS);
  Client::SetAttrRequest times;
  times.mtime = timespec{0, UTIME_NOW};
  EXPECT_ERRNO(client_->SetAttr(f.handle, times), EROFS);
  EXPECT_ERRNO(client_->Whiteout(r, "w"), EROFS);
  EXPECT_ERRNO(client_->SetXattr(d.handle, "user.x", "1", 0), EROFS);
  EXPECT_ERRNO(client_->RemoveXattr(d.handle, "user.x"), EROFS);
  struct stat host;
  ASSERT_EQ(lstat(Host("f").c_str(), &host), 0);
  EXPECT_EQ(host.st_mode, S_IFREG | 0644u);
  EXPECT_NE(access(Host("n").c_str(), F_OK), 0);
}

TEST_F(GoferTest, WhiteoutsAndOverlayXattrs) {
  ASSERT_EQ(mkdir(Host("d").c_str(), 0755), 0);
  WriteHostFile(Host("f"), "x");
  StartServer();
  uint64_t r = root_handle_;
  ASSERT_OK_AND_ASSIGN(NodeInfo w, client_->Whiteout(r, "gone"));
  EXPECT_TRUE(S_ISCHR(w.st.st_mode));
  EXPECT_EQ(w.st.st_rdev, 0u);
  struct stat host;
  ASSERT_EQ(lstat(Host("gone").c_str(), &host), 0);
  EXPECT_TRUE(S_ISCHR(host.st_mode));
  EXPECT_ERRNO(client_->Whiteout(r, "f"), EEXIST);
  EXPECT_ERRNO(client_->Whiteout(r, ".."), EINVAL);

  ASSERT_OK_AND_ASSIGN(NodeInfo d, client_->Walk(r, "d"));
  ASSERT_OK_AND_ASSIGN(NodeInfo f, client_->Walk(r, "f"));
  // trusted.* needs CAP_SYS_ADMIN over the host file system; inside
  // Bazel's user-namespace sandbox the host may drop it silently.
  if (client_->SetXattr(d.handle, "trusted.overlay.opaque", "y", 0).ok()) {
    ErrnoOr<std::string> v =
        client_->GetXattr(d.handle, "trusted.overlay.opaque");
    if (v.ok()) {
      EXPECT_EQ(*v, "y");
    }
  }
  EXPECT_OK(client_->SetXattr(d.handle, "user.dir", "y", 0));
  ASSERT_OK_AND_ASSIGN(std::string v, client_->GetXattr(d.handle, "user.dir"));
  EXPECT_EQ(v, "y");
  EXPECT_OK(client_->SetXattr(f.handle, "user.note", "hello", 0));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names,
                       client_->ListXattr(f.handle));
  EXPECT_EQ(names, std::vector<std::string>{"user.note"});
  EXPECT_OK(client_->RemoveXattr(f.handle, "user.note"));
  EXPECT_ERRNO(client_->GetXattr(f.handle, "user.note"), ENODATA);
  // Other namespaces are not served.
  EXPECT_ERRNO(client_->SetXattr(f.handle, "security.evil", "1", 0),
               EOPNOTSUPP);
  EXPECT_ERRNO(client_->GetXattr(f.handle, "trusted.other"), EOPNOTSUPP);
  // Whiteouts are not files: xattrs on them are refused.
  EXPECT_ERRNO(client_->GetXattr(w.handle, "user.x"), EPERM);
}

}  // namespace
}  // namespace sentry::gofer
