// Shared helpers for the guest programs in this directory.
//
// Guests are tiny static C programs that run natively and under the Sentry
// (see tests/integration/sentry_run_test.cc). They must stay within the
// syscalls the Sentry implements, so failures are reported with write(2)
// only, never through stdio buffers that may not be flushed. Every check
// that fails prints one line to stderr and exits with status 1.
#ifndef SENTRY_TESTS_GUESTS_GUEST_H_
#define SENTRY_TESTS_GUESTS_GUEST_H_

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

// Writes all of buf to fd with raw write syscalls; returns 0 on success.
static inline int guest_write_all(int fd, const char* buf, size_t len) {
  while (len > 0) {
    long n = syscall(SYS_write, fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

// printf-like output straight to fd (no stdio buffering).
__attribute__((format(printf, 2, 3))) static inline void guest_dprintf(
    int fd, const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof(buf)) n = sizeof(buf) - 1;
  guest_write_all(fd, buf, (size_t)n);
}

#define GUEST_FAIL(...)                                      \
  do {                                                       \
    guest_dprintf(2, "%s:%d: FAILED: ", __FILE__, __LINE__); \
    guest_dprintf(2, __VA_ARGS__);                           \
    guest_dprintf(2, "\n");                                  \
    _exit(1);                                                \
  } while (0)

// CHECK(cond): fails with the condition's text and the current errno.
#define CHECK(cond)                                               \
  do {                                                            \
    if (!(cond)) {                                                \
      int saved_errno_ = errno;                                   \
      GUEST_FAIL("CHECK(%s) (errno %d: %s)", #cond, saved_errno_, \
                 strerror(saved_errno_));                         \
    }                                                             \
  } while (0)

// CHECK_OK(expr): expr must not return -1.
#define CHECK_OK(expr)                                                 \
  do {                                                                 \
    long ret_ = (long)(expr);                                          \
    if (ret_ == -1) {                                                  \
      int saved_errno_ = errno;                                        \
      GUEST_FAIL("%s returned -1 (errno %d: %s)", #expr, saved_errno_, \
                 strerror(saved_errno_));                              \
    }                                                                  \
  } while (0)

// CHECK_ERRNO(expr, err): expr must return -1 with errno == err.
#define CHECK_ERRNO(expr, err)                                             \
  do {                                                                     \
    errno = 0;                                                             \
    long ret_ = (long)(expr);                                              \
    int saved_errno_ = errno;                                              \
    if (ret_ != -1 || saved_errno_ != (err)) {                             \
      GUEST_FAIL("%s returned %ld errno %d (%s); want -1 errno %d (%s)",   \
                 #expr, ret_, saved_errno_, strerror(saved_errno_), (err), \
                 strerror(err));                                           \
    }                                                                      \
  } while (0)

#endif  // SENTRY_TESTS_GUESTS_GUEST_H_
