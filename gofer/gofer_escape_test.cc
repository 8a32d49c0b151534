// Attempts to make a confined Gofer serve something outside its root, or
// crash it, through the protocol.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gofer/client.h"
#include "gofer/gofer.pb.h"
#include "gofer/test_util.h"
#include "gofer/wire.h"
#include "gtest/gtest.h"

namespace sentry::gofer {
namespace {

TEST_F(GoferTest, NoDotDotAtRoot) {
  StartServer();
  EXPECT_ERRNO(client_->Walk(root_handle_, ".."), EINVAL);
  EXPECT_ERRNO(client_->Walk(root_handle_, "../canary"), EINVAL);
  EXPECT_ERRNO(client_->Walk(root_handle_, "a/../.."), EINVAL);
  EXPECT_ERRNO(client_->Walk(root_handle_, "canary"), ENOENT);
}

TEST_F(GoferTest, SymlinksOutOfTheTreeAreNeverFollowed) {
  ASSERT_EQ(mkdir(Host("d").c_str(), 0755), 0);
  ASSERT_EQ(symlink("/", Host("slash").c_str()), 0);
  ASSERT_EQ(symlink("../../etc", Host("d/etc").c_str()), 0);
  ASSERT_EQ(symlink("../canary", Host("rel").c_str()), 0);
  ASSERT_EQ(symlink(canary_.c_str(), Host("abs").c_str()), 0);
  ASSERT_EQ(symlink(base_.c_str(), Host("base").c_str()), 0);
  StartServer();
  ASSERT_OK_AND_ASSIGN(NodeInfo d, client_->Walk(root_handle_, "d"));
  struct {
    uint64_t dir;
    const char* name;
  } links[] = {{root_handle_, "slash"},
               {d.handle, "etc"},
               {root_handle_, "rel"},
               {root_handle_, "abs"},
               {root_handle_, "base"}};
  for (const auto& l : links) {
    SCOPED_TRACE(l.name);
    ASSERT_OK_AND_ASSIGN(NodeInfo n, client_->Walk(l.dir, l.name));
    EXPECT_TRUE(S_ISLNK(n.st.st_mode));
    EXPECT_FALSE(IsOutside(n.st));
    for (int flags :
         {O_RDONLY, O_RDWR, O_RDONLY | O_DIRECTORY, O_WRONLY | O_TRUNC}) {
      EXPECT_ERRNO(client_->Open(n.handle, flags), ELOOP);
    }
    // Through the link, as if it were the directory it names.
    EXPECT_ERRNO(client_->Walk(n.handle, "canary"), ENOTDIR);
    EXPECT_ERRNO(client_->Walk(n.handle, "passwd"), ENOTDIR);
    EXPECT_FALSE(client_->ReadDir(n.handle).ok());
    EXPECT_ERRNO(client_->Create(n.handle, "x", O_RDWR, 0644, 0, 0), ENOTDIR);
    // Attributes change the link, never its target.
    Client::SetAttrRequest req;
    req.size = 0;
    EXPECT_ERRNO(client_->SetAttr(n.handle, req), EINVAL);
    EXPECT_OK(client_->Link(n.handle, root_handle_, "hard"));
    ASSERT_OK_AND_ASSIGN(NodeInfo hard, client_->Walk(root_handle_, "hard"));
    EXPECT_TRUE(S_ISLNK(hard.st.st_mode));
    EXPECT_OK(client_->Unlink(root_handle_, "hard", false));
  }
  struct stat st;
  ASSERT_EQ(stat(canary_.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 6);
  EXPECT_EQ(st.st_nlink, 1u);
}

// The guest renames directories around while walking into them, hoping a
// handle ends up above the root. Every handle's inode is checked against
// the canary and the root's parent.
TEST_F(GoferTest, RacingRenamesNeverLeaveTheRoot) {
  ASSERT_EQ(mkdir(Host("a").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Host("a/b").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Host("a/b/c").c_str(), 0755), 0);
  ASSERT_EQ(symlink("../../../canary", Host("a/b/c/up").c_str()), 0);
  StartServer();
  ASSERT_OK_AND_ASSIGN(NodeInfo a, client_->Walk(root_handle_, "a"));

  std::atomic<bool> stop{false};
  std::atomic<int> escapes{0}, walks{0};
  auto check = [&](const NodeInfo& n) {
    if (IsOutside(n.st)) escapes++;
    auto st = client_->Stat(n.handle);
    if (st.ok() && IsOutside(*st)) escapes++;
    if (client_->Walk(n.handle, "..").ok()) escapes++;
    if (client_->Walk(n.handle, "canary").ok()) escapes++;
    if (S_ISLNK(n.st.st_mode) && client_->Open(n.handle, O_RDONLY).ok()) {
      escapes++;
    }
  };
  std::vector<std::thread> threads;
  // Movers: b between a/ and the root, a between two names.
  threads.emplace_back([&] {
    while (!stop) {
      (void)client_->Rename(a.handle, "b", root_handle_, "b", 0);
      (void)client_->Rename(root_handle_, "b", a.handle, "b", 0);
      (void)client_->Rename(root_handle_, "a", root_handle_, "x", 0);
      (void)client_->Rename(root_handle_, "x", root_handle_, "a", 0);
    }
  });
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&] {
      while (!stop) {
        for (const char* top : {"a", "x", "b"}) {
          auto n = client_->Walk(root_handle_, top);
          if (!n.ok()) continue;
          check(*n);
          std::vector<uint64_t> held = {n->handle};
          uint64_t dir = n->handle;
          for (const char* name : {"b", "c", "up"}) {
            auto next = client_->Walk(dir, name);
            if (!next.ok()) continue;
            check(*next);
            held.push_back(next->handle);
            dir = next->handle;
          }
          for (uint64_t h : held) client_->Close(h);
          walks++;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(escapes.load(), 0);
  EXPECT_GT(walks.load(), 10);
}

// Sends raw bytes (and FDs) on the socket and returns the answer.
Response RawCall(int sock, const std::string& bytes,
                 const std::vector<int>& fds = {}) {
  struct iovec iov = {const_cast<char*>(bytes.data()), bytes.size()};
  struct msghdr mh = {};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(fds.size() * sizeof(int)));
  if (!fds.empty()) {
    mh.msg_control = control.data();
    mh.msg_controllen = control.size();
    struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    std::memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
  }
  EXPECT_EQ(sendmsg(sock, &mh, MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()))
      << strerror(errno);
  absl::StatusOr<Datagram> d = ReceiveDatagram(sock);
  Response resp;
  EXPECT_TRUE(d.ok());
  if (!d.ok()) return resp;
  EXPECT_FALSE(d->eof) << "the gofer hung up";
  EXPECT_TRUE(d->fds.empty());
  EXPECT_TRUE(resp.ParseFromString(d->bytes));
  return resp;
}

std::string Serialized(const Request& req) {
  std::string out;
  req.SerializeToString(&out);
  return out;
}

TEST_F(GoferTest, MalformedRequestsGetErrorsNotCrashes) {
  WriteHostFile(Host("f"), "x");
  StartServer();
  int s = raw_.get();

  Response r = RawCall(s, "\xff\xff\xff\xff garbage \x01\x02");
  EXPECT_EQ(r.id(), 0u);
  EXPECT_EQ(r.errno_value(), EINVAL);

  r = RawCall(s, "");
  EXPECT_EQ(r.errno_value(), EINVAL);  // no op

  Request req;
  req.set_id(77);
  r = RawCall(s, Serialized(req));
  EXPECT_EQ(r.id(), 77u);
  EXPECT_EQ(r.errno_value(), EINVAL);

  req.mutable_stat()->set_handle(0xdeadbeef);
  r = RawCall(s, Serialized(req));
  EXPECT_EQ(r.id(), 77u);
  EXPECT_EQ(r.errno_value(), EBADF);

  req.mutable_walk()->set_dir(root_handle_);
  req.mutable_walk()->set_name(std::string(200 * 1024, 'a'));
  r = RawCall(s, Serialized(req));
  EXPECT_EQ(r.errno_value(), EINVAL);

  r = RawCall(s, std::string(200 * 1024, '\0'));
  EXPECT_EQ(r.errno_value(), EINVAL);

  // Unrequested FDs: refused and closed, so the pipe sees EOF once ours is
  // closed too. 8 is more than the gofer takes (the kernel drops the rest).
  for (int count : {1, 8}) {
    SCOPED_TRACE(count);
    std::vector<int> writers;
    std::vector<UniqueFd> readers;
    for (int i = 0; i < count; ++i) {
      int p[2];
      ASSERT_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
      readers.emplace_back(p[0]);
      writers.push_back(p[1]);
    }
    Request stat;
    stat.set_id(5);
    stat.mutable_stat()->set_handle(root_handle_);
    r = RawCall(s, Serialized(stat), writers);
    EXPECT_EQ(r.id(), 5u);
    EXPECT_EQ(r.errno_value(), EINVAL);
    for (int w : writers) close(w);
    for (const UniqueFd& rd : readers) {
      char c;
      EXPECT_EQ(read(rd.get(), &c, 1), 0) << "the gofer kept a donated FD";
    }
  }

  // Close is never answered, even for a bad handle; the next answer is for
  // the next request.
  Request close_req;
  close_req.set_id(8);
  close_req.mutable_close()->set_handle(424242);
  std::string bytes = Serialized(close_req);
  ASSERT_EQ(send(s, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
  Request stat;
  stat.set_id(9);
  stat.mutable_stat()->set_handle(root_handle_);
  r = RawCall(s, Serialized(stat));
  EXPECT_EQ(r.id(), 9u);
  EXPECT_EQ(r.errno_value(), 0);

  // Still serving, and still inside the root.
  ASSERT_OK_AND_ASSIGN(NodeInfo f, client_->Walk(root_handle_, "f"));
  EXPECT_FALSE(IsOutside(f.st));
  EXPECT_ERRNO(client_->Walk(root_handle_, ".."), EINVAL);
}

TEST_F(GoferTest, ClientSeesEioWhenTheGoferIsGone) {
  StartServer();
  kill(pid_, SIGKILL);
  int status;
  ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
  pid_ = 0;
  EXPECT_ERRNO(client_->Attach(), EIO);
  EXPECT_ERRNO(client_->Stat(root_handle_), EIO);
  client_->Close(root_handle_);
}

}  // namespace
}  // namespace sentry::gofer
