// Minimal logging for the Sentry. Abseil 20220623 (Debian 12) has no
// absl/log, and the Sentry must not write to the guest's stdio, so messages
// go to the --debug-log file when one is set and are dropped otherwise;
// warnings and errors also go to stderr.
//
//   SENTRY_LOG(kInfo, "loaded %s entry=%#x", path, entry);
#ifndef SENTRY_BASE_LOG_H_
#define SENTRY_BASE_LOG_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace sentry {

enum class LogLevel { kDebug, kInfo, kWarning, kError };
using LogLevel::kDebug;
using LogLevel::kError;
using LogLevel::kInfo;
using LogLevel::kWarning;

// Opens `path` (appending) as the debug log. Called once at start-up, before
// any thread exists.
absl::Status OpenDebugLog(const std::string& path);
// True when a debug log is open (so callers can skip formatting).
bool DebugLogEnabled();
// The debug log's FD, or -1. For processes that close every FD they do not
// know of (the Gofer), so that they keep this one rather than leave its
// number free for a host file that log lines would then be written into.
int DebugLogFd();
// Writes one line, prefixed with time, pid and thread id.
void LogLine(LogLevel level, const char* file, int line, std::string_view msg);

}  // namespace sentry

#define SENTRY_LOG(level, ...)                                         \
  do {                                                                 \
    if (::sentry::LogLevel::level >= ::sentry::LogLevel::kWarning ||   \
        ::sentry::DebugLogEnabled()) {                                 \
      ::sentry::LogLine(::sentry::LogLevel::level, __FILE__, __LINE__, \
                        absl::StrFormat(__VA_ARGS__));                 \
    }                                                                  \
  } while (0)

#endif  // SENTRY_BASE_LOG_H_
