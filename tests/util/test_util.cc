#include "tests/util/test_util.h"

#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace sentry::testing {

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int FileDescriptor::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void FileDescriptor::reset(int fd) {
  // close() errors are not actionable here; EINTR still closes on Linux.
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

std::string TestTmpDir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

std::string NewTempName(const std::string& parent) {
  // pid + a process-wide counter + the clock: unique across the forked
  // children and repeated runs that share a TEST_TMPDIR.
  static std::atomic<unsigned> counter{0};
  for (;;) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    std::string name = parent + "/sentry_tmp_" + std::to_string(getpid()) +
                       "_" + std::to_string(counter++) + "_" +
                       std::to_string(ts.tv_nsec);
    struct stat st;
    if (lstat(name.c_str(), &st) != 0 && errno == ENOENT) return name;
  }
}

TempPath TempPath::CreateFileIn(const std::string& parent,
                                std::string_view contents, mode_t mode) {
  std::string path = NewTempName(parent);
  int fd = open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0) {
    ADD_FAILURE() << "TempPath: creating " << path << ": " << strerror(errno);
    return TempPath();
  }
  FileDescriptor owned(fd);
  if (!WriteAll(fd, contents)) {
    ADD_FAILURE() << "TempPath: writing " << path << ": " << strerror(errno);
  }
  // open() applied the umask; the caller asked for exactly `mode`.
  if (fchmod(fd, mode) != 0) {
    ADD_FAILURE() << "TempPath: fchmod " << path << ": " << strerror(errno);
  }
  return TempPath(std::move(path));
}

TempPath TempPath::CreateDirIn(const std::string& parent, mode_t mode) {
  std::string path = NewTempName(parent);
  if (mkdir(path.c_str(), mode) != 0) {
    ADD_FAILURE() << "TempPath: mkdir " << path << ": " << strerror(errno);
    return TempPath();
  }
  if (chmod(path.c_str(), mode) != 0) {
    ADD_FAILURE() << "TempPath: chmod " << path << ": " << strerror(errno);
  }
  return TempPath(std::move(path));
}

TempPath TempPath::CreateFile(std::string_view contents, mode_t mode) {
  return CreateFileIn(TestTmpDir(), contents, mode);
}

TempPath TempPath::CreateDir(mode_t mode) {
  return CreateDirIn(TestTmpDir(), mode);
}

TempPath& TempPath::operator=(TempPath&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) RemoveRecursively(path_);
    path_ = other.release();
  }
  return *this;
}

TempPath::~TempPath() {
  if (!path_.empty()) RemoveRecursively(path_);
}

std::string TempPath::Child(std::string_view name) const {
  return path_ + "/" + std::string(name);
}

std::string TempPath::release() {
  std::string p = std::move(path_);
  path_.clear();
  return p;
}

namespace {

int RemoveOne(const char* path, const struct stat* /*st*/, int type,
              struct FTW* /*ftw*/) {
  if (type == FTW_DP || type == FTW_D) {
    if (rmdir(path) != 0 && errno != ENOENT) return -1;
    return 0;
  }
  if (unlink(path) != 0 && errno != ENOENT) return -1;
  return 0;
}

// Tests chmod directories to 0 or 0555; give them back write and search
// permission so that removal also works when not running as root.
int MakeRemovable(const char* path, const struct stat* st, int type,
                  struct FTW* /*ftw*/) {
  if (type == FTW_D || type == FTW_DNR)
    chmod(path, (st->st_mode & 07777) | 0700);
  return 0;
}

}  // namespace

int RemoveRecursively(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return errno == ENOENT ? 0 : -1;
  if (S_ISDIR(st.st_mode)) {
    nftw(path.c_str(), MakeRemovable, 16, FTW_PHYS);
  }
  // FTW_DEPTH: children before their directory; FTW_PHYS: never follow a
  // symlink out of the tree.
  return nftw(path.c_str(), RemoveOne, 16, FTW_DEPTH | FTW_PHYS);
}

std::string TestPlatform() {
  const char* p = std::getenv("SENTRY_TEST_PLATFORM");
  return p != nullptr && *p != '\0' ? p : "native";
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ADD_FAILURE() << "read fd " << fd << ": " << strerror(errno);
      return out;
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string ReadProcFile(const std::string& path) {
  FileDescriptor fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    ADD_FAILURE() << "open " << path << ": " << strerror(errno);
    return "";
  }
  return ReadAll(fd.get());
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

int ForkAndWait(const std::function<int()>& fn, int timeout_seconds) {
  // Flush so the child does not print the parent's buffered output again.
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << strerror(errno);
    return -1;
  }
  if (pid == 0) {
    int rc = fn();
    fflush(stdout);
    fflush(stderr);
    // _exit: no atexit handlers or gtest teardown run twice.
    _exit(rc);
  }
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int status = 0;
  for (long sleep_us = 100;;
       sleep_us = sleep_us < 20000 ? sleep_us * 2 : sleep_us) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) {
      ADD_FAILURE() << "waitpid: " << strerror(errno);
      return -1;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= timeout_seconds) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      ADD_FAILURE() << "child " << pid << " timed out after " << timeout_seconds
                    << " s and was killed";
      return status;
    }
    usleep(static_cast<useconds_t>(sleep_us));
  }
}

int ForkAsNobodyAndWait(const std::function<int()>& fn) {
  return ForkAndWait([&fn]() -> int {
    // Supplementary groups first: root's would otherwise still grant access.
    CHILD_EXPECT(setgroups(0, nullptr) == 0);
    CHILD_EXPECT(setresgid(kNobodyGid, kNobodyGid, kNobodyGid) == 0);
    CHILD_EXPECT(setresuid(kNobodyUid, kNobodyUid, kNobodyUid) == 0);
    return fn();
  });
}

namespace {

// The file's contents, or "" if it cannot be read (no test failure: used for
// probing what the platform offers).
std::string ReadQuietly(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  close(fd);
  return out;
}

// Whether `id` is inside one of the ranges of a /proc/<pid>/{u,g}id_map.
bool IdMapped(const std::string& map, unsigned long id) {
  unsigned long inside, outside, count;
  const char* p = map.c_str();
  int consumed;
  while (sscanf(p, "%lu %lu %lu%n", &inside, &outside, &count, &consumed) ==
         3) {
    if (id >= inside && id - inside < count) return true;
    p += consumed;
  }
  return false;
}

}  // namespace

std::string WhyNobodyIsUnavailable() {
  if (geteuid() != 0) return "needs root to switch to uid 65534";
  std::string uid_map = ReadQuietly("/proc/self/uid_map");
  std::string gid_map = ReadQuietly("/proc/self/gid_map");
  // Without /proc we cannot tell; assume the initial namespace (all mapped).
  if (uid_map.empty() && gid_map.empty()) return "";
  if (!IdMapped(uid_map, kNobodyUid) || !IdMapped(gid_map, kNobodyGid)) {
    return "uid/gid 65534 is not mapped in this user namespace (e.g. Bazel's "
           "linux-sandbox; tag the test no-sandbox)";
  }
  if (ReadQuietly("/proc/self/setgroups").rfind("deny", 0) == 0) {
    return "setgroups is denied in this user namespace";
  }
  return "";
}

std::string DescribeWaitStatus(int status) {
  if (status == -1) return "no status (fork or wait failed)";
  if (WIFEXITED(status)) return "exited " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "wait status " + std::to_string(status);
}

ScopedUmask::ScopedUmask(mode_t mask) : old_(umask(mask)) {}
ScopedUmask::~ScopedUmask() { umask(old_); }

namespace internal {

namespace {
std::string ErrnoText(int err) {
  return std::to_string(err) + " (" + strerror(err) + ")";
}
}  // namespace

bool SyscallResultMatcher::Explain(long long v, int err,
                                   ::testing::MatchResultListener* l) const {
  if (kind_ == Kind::kSucceeds) {
    if (v == -1) {
      *l << "failed with errno " << ErrnoText(err);
      return false;
    }
    ::testing::StringMatchResultListener inner;
    if (!value_.MatchAndExplain(v, &inner)) {
      *l << "succeeded with value " << v;
      if (!inner.str().empty()) *l << ", " << inner.str();
      return false;
    }
    return true;
  }
  if (v != -1) {
    *l << "succeeded with value " << v;
    return false;
  }
  if (!errno_.Matches(err)) {
    *l << "failed with errno " << ErrnoText(err);
    return false;
  }
  return true;
}

void SyscallResultMatcher::DescribeTo(std::ostream* os) const {
  if (kind_ == Kind::kSucceeds) {
    *os << "succeeds with a value that ";
    value_.DescribeTo(os);
  } else {
    *os << "fails with errno that ";
    errno_.DescribeTo(os);
  }
}

void SyscallResultMatcher::DescribeNegationTo(std::ostream* os) const {
  *os << "not (";
  DescribeTo(os);
  *os << ")";
}

}  // namespace internal

::testing::PolymorphicMatcher<internal::SyscallResultMatcher>
SyscallSucceeds() {
  return ::testing::MakePolymorphicMatcher(internal::SyscallResultMatcher(
      internal::SyscallResultMatcher::Kind::kSucceeds, ::testing::_,
      ::testing::_));
}

::testing::PolymorphicMatcher<internal::SyscallResultMatcher> SyscallFails() {
  return ::testing::MakePolymorphicMatcher(internal::SyscallResultMatcher(
      internal::SyscallResultMatcher::Kind::kFails, ::testing::_,
      ::testing::_));
}

}  // namespace sentry::testing
