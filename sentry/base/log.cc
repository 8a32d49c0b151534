#include "sentry/base/log.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace sentry {
namespace {

std::atomic<int> g_log_fd{-1};

void WriteAll(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "D";
    case LogLevel::kInfo:
      return "I";
    case LogLevel::kWarning:
      return "W";
    case LogLevel::kError:
      return "E";
  }
  return "?";
}

}  // namespace

absl::Status OpenDebugLog(const std::string& path) {
  int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("open debug log ", path));
  }
  int old = g_log_fd.exchange(fd);
  if (old >= 0) ::close(old);
  return absl::OkStatus();
}

bool DebugLogEnabled() { return g_log_fd.load(std::memory_order_relaxed) >= 0; }

int DebugLogFd() { return g_log_fd.load(std::memory_order_relaxed); }

void LogLine(LogLevel level, const char* file, int line, std::string_view msg) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  const char* base = std::strrchr(file, '/');
  std::string out =
      absl::StrFormat("%s%ld.%06ld %d:%ld %s:%d] %s\n", LevelName(level),
                      static_cast<long>(ts.tv_sec), ts.tv_nsec / 1000, getpid(),
                      static_cast<long>(syscall(SYS_gettid)),
                      base ? base + 1 : file, line, msg);
  int fd = g_log_fd.load(std::memory_order_relaxed);
  if (fd >= 0) WriteAll(fd, out);
  if (level >= LogLevel::kWarning && fd != STDERR_FILENO) {
    WriteAll(STDERR_FILENO, std::string("sentry: ").append(msg).append("\n"));
  }
}

}  // namespace sentry
