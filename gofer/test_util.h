// A served temp tree for the Gofer tests: base/ holds a canary file (outside
// the served tree) and root/ (the served tree). The Gofer runs in a forked
// child through GoferMain, so it is chrooted and under its seccomp filter
// exactly as in production; a filter that is too tight shows up as the
// child dying of SIGSYS, which TearDown checks.
#ifndef GOFER_TEST_UTIL_H_
#define GOFER_TEST_UTIL_H_

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>

#include "gofer/client.h"
#include "gofer/gofer_main.h"
#include "gtest/gtest.h"
#include "sentry/base/unique_fd.h"

namespace sentry::gofer {

class GoferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    std::string templ = std::string(tmp ? tmp : "/tmp") + "/gofer.XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr) << strerror(errno);
    base_ = templ;
    root_ = base_ + "/root";
    canary_ = base_ + "/canary";
    ASSERT_EQ(mkdir(root_.c_str(), 0755), 0);
    WriteHostFile(canary_, "secret");
    ASSERT_EQ(lstat(canary_.c_str(), &canary_st_), 0);
    ASSERT_EQ(lstat(base_.c_str(), &base_st_), 0);
    // Bazel's sandbox maps only ID 0 into its user namespace; other owners
    // can be tested only where the host has them.
    if (lchown(canary_.c_str(), 1234, 5678) == 0) {
      uid_ = 1234;
      gid_ = 5678;
    }
  }

  void TearDown() override {
    StopServer();
    std::string cmd = "rm -rf '" + base_ + "'";
    (void)!system(cmd.c_str());
  }

  // Starts a Gofer serving root_ and connects client_ (and raw_, a second
  // FD of the same socket for hand-made messages).
  void StartServer(bool read_only = false) {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      close(sv[0]);
      _exit(GoferMain(sv[1], root_, read_only));
    }
    close(sv[1]);
    raw_.reset(fcntl(sv[0], F_DUPFD_CLOEXEC, 0));
    client_ = std::make_unique<Client>(UniqueFd(sv[0]));
    auto root = client_->Attach();
    ASSERT_TRUE(root.ok()) << root.error().value();
    root_handle_ = root->handle;
  }

  // Closes our end and checks that the Gofer exited cleanly (not killed by
  // its own seccomp filter, not crashed).
  void StopServer() {
    if (pid_ <= 0) return;
    client_.reset();
    raw_.reset();
    int status = 0;
    ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
    pid_ = 0;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "gofer ended with status " << status
        << (WIFSIGNALED(status) ? " (signal " : " (exit ")
        << (WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status))
        << ")";
  }

  static void WriteHostFile(const std::string& path, const std::string& data) {
    UniqueFd fd(
        open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd.valid()) << path << ": " << strerror(errno);
    ASSERT_EQ(write(fd.get(), data.data(), data.size()),
              static_cast<ssize_t>(data.size()));
  }

  static std::string ReadAll(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
    return out;
  }

  std::string Host(const std::string& rel) const { return root_ + "/" + rel; }

  // True if `st` is a host node the Gofer must never hand out.
  bool IsOutside(const struct stat& st) const {
    auto same = [&](const struct stat& o) {
      return st.st_dev == o.st_dev && st.st_ino == o.st_ino;
    };
    return same(canary_st_) || same(base_st_);
  }

  std::string base_, root_, canary_;
  struct stat canary_st_ = {};
  struct stat base_st_ = {};
  pid_t pid_ = 0;
  std::unique_ptr<Client> client_;
  UniqueFd raw_;
  uint64_t root_handle_ = 0;
  // Owner IDs chown can set here besides 0 (0 in a user namespace).
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

// gtest-friendly ErrnoOr checks.
#define EXPECT_ERRNO(expr, e)                               \
  do {                                                      \
    auto r_ = (expr);                                       \
    EXPECT_FALSE(r_.ok()) << #expr " succeeded";            \
    if (!r_.ok()) {                                         \
      EXPECT_EQ(r_.error().value(), (e))                    \
          << #expr << ": " << strerror(r_.error().value()); \
    }                                                       \
  } while (0)

#define ASSERT_OK_AND_ASSIGN(lhs, expr)                              \
  auto GOFER_TEST_CONCAT_(r_, __LINE__) = (expr);                    \
  ASSERT_TRUE(GOFER_TEST_CONCAT_(r_, __LINE__).ok())                 \
      << #expr << ": "                                               \
      << strerror(GOFER_TEST_CONCAT_(r_, __LINE__).error().value()); \
  lhs = std::move(GOFER_TEST_CONCAT_(r_, __LINE__)).value()
#define GOFER_TEST_CONCAT_(a, b) GOFER_TEST_CONCAT_INNER_(a, b)
#define GOFER_TEST_CONCAT_INNER_(a, b) a##b

#define EXPECT_OK(expr)                                                    \
  do {                                                                     \
    auto r_ = (expr);                                                      \
    EXPECT_TRUE(r_.ok()) << #expr << ": " << strerror(r_.error().value()); \
  } while (0)

}  // namespace sentry::gofer

#endif  // GOFER_TEST_UTIL_H_
