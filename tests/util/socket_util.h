// Helpers for the AF_UNIX socket tests (header-only: the syscall test
// binaries are built by compiling test_util.cc alongside, see
// tests/syscalls/defs.bzl).
#ifndef SENTRY_TESTS_UTIL_SOCKET_UTIL_H_
#define SENTRY_TESTS_UTIL_SOCKET_UTIL_H_

#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {

// Both ends of a socketpair(AF_UNIX, type, 0); `type` may carry
// SOCK_NONBLOCK/SOCK_CLOEXEC.
struct SocketPair {
  FileDescriptor a, b;
};

inline SocketPair MakeSocketPair(int type) {
  int sv[2] = {-1, -1};
  EXPECT_THAT(socketpair(AF_UNIX, type, 0, sv), SyscallSucceeds());
  return {FileDescriptor(sv[0]), FileDescriptor(sv[1])};
}

// A socket address and the length to pass with it.
struct UnixAddr {
  sockaddr_un sun = {};
  socklen_t len = 0;
  const sockaddr* get() const {
    return reinterpret_cast<const sockaddr*>(&sun);
  }
};

inline constexpr socklen_t kPathOffset = offsetof(sockaddr_un, sun_path);

// A pathname address. addrlen covers the path and its terminating NUL, as
// unix(7) recommends.
inline UnixAddr PathAddr(const std::string& path) {
  UnixAddr a;
  a.sun.sun_family = AF_UNIX;
  EXPECT_LT(path.size(), sizeof(a.sun.sun_path)) << path;
  size_t n = std::min(path.size(), sizeof(a.sun.sun_path) - 1);
  memcpy(a.sun.sun_path, path.data(), n);
  a.len = kPathOffset + n + 1;
  return a;
}

// An abstract address: a NUL byte then `name`. Every byte within addrlen is
// part of the name, so addrlen covers exactly those bytes.
inline UnixAddr AbstractAddr(const std::string& name) {
  UnixAddr a;
  a.sun.sun_family = AF_UNIX;
  size_t n = std::min(name.size(), sizeof(a.sun.sun_path) - 1);
  memcpy(a.sun.sun_path + 1, name.data(), n);
  a.len = kPathOffset + 1 + n;
  return a;
}

// The abstract namespace is shared by everything in the network namespace
// (e.g. a native and a Sentry run of a test at once): names made here are
// unique to the process, call and second.
inline std::string UniqueAbstractName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "_" + std::to_string(getpid()) + "_" +
         std::to_string(counter++) + "_" + std::to_string(time(nullptr));
}

// A directory for socket files. sun_path holds 108 bytes and Bazel's
// TEST_TMPDIR alone can be longer than that, so the directory is under
// TestTmpDir() only when short names in it fit, else under /tmp.
inline TempPath SocketDir() {
  std::string parent = TestTmpDir();
  // NewTempName() adds at most ~35 bytes, tests add "/" and <= 10 more.
  if (parent.size() > 60) parent = "/tmp";
  return TempPath::CreateDirIn(parent);
}

// The events of `events` that poll reports for `fd` within `timeout_ms`.
inline short PollEvents(int fd, short events, int timeout_ms = 0) {
  struct pollfd pfd = {fd, events, 0};
  EXPECT_THAT(poll(&pfd, 1, timeout_ms), SyscallSucceeds());
  return pfd.revents;
}

// An int SOL_SOCKET option.
inline int GetIntOpt(int fd, int name) {
  int v = -1;
  socklen_t len = sizeof(v);
  EXPECT_THAT(getsockopt(fd, SOL_SOCKET, name, &v, &len), SyscallSucceeds());
  EXPECT_EQ(len, sizeof(v));
  return v;
}

}  // namespace sentry::testing

#endif  // SENTRY_TESTS_UTIL_SOCKET_UTIL_H_
