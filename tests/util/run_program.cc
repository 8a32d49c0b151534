#include "tests/util/run_program.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace sentry::testing {
namespace {

// How long to keep reading stdout/stderr after the child has exited, in
// case something it started still holds them.
constexpr absl::Duration kDrainGrace = absl::Seconds(3);
// Poll period when pidfd_open() is unavailable.
constexpr int kTickMs = 10;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "RunProgram: %s: %s\n", what, strerror(errno));
  std::abort();
}

void Pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) Die("pipe2");
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Reads what is available from fd into out; closes fd at EOF or error.
void Drain(int& fd, std::string& out) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    CloseFd(fd);  // EOF or a real error
    return;
  }
}

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void ChildExec(char* const* argv, int in_fd, int out_fd,
                            int err_fd, int exec_err_fd) {
  setpgid(0, 0);
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, nullptr);
  if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) {
    int e = errno;
    (void)!write(exec_err_fd, &e, sizeof(e));
    _exit(127);
  }
  execv(argv[0], argv);
  int e = errno;
  (void)!write(exec_err_fd, &e, sizeof(e));
  _exit(127);
}

}  // namespace

bool RunResult::exited() const {
  return exec_errno == 0 && !timed_out && WIFEXITED(wait_status);
}

int RunResult::exit_code() const {
  return exited() ? WEXITSTATUS(wait_status) : -1;
}

bool RunResult::signaled() const {
  return exec_errno == 0 && !timed_out && WIFSIGNALED(wait_status);
}

int RunResult::term_signal() const {
  return signaled() ? WTERMSIG(wait_status) : 0;
}

std::string RunResult::DescribeStatus() const {
  std::string s;
  if (exec_errno != 0) {
    s = absl::StrCat("execve failed: ", strerror(exec_errno));
  } else if (timed_out) {
    s = absl::StrCat("timed out after ", absl::FormatDuration(elapsed));
  } else if (exited()) {
    s = absl::StrCat("exited ", exit_code());
  } else if (signaled()) {
    s = absl::StrCat("killed by signal ", term_signal(), " (",
                     SignalName(term_signal()), ")",
                     WCOREDUMP(wait_status) ? ", core dumped" : "");
  } else {
    s = absl::StrFormat("wait status %#x", wait_status);
  }
  if (stdio_left_open) s += " (stdout/stderr still open after exit)";
  return s;
}

std::string RunResult::Describe() const {
  return absl::StrCat(DescribeStatus(), "\n--- stdout (", stdout_data.size(),
                      " bytes) ---\n", stdout_data, "\n--- stderr (",
                      stderr_data.size(), " bytes) ---\n", stderr_data,
                      "\n--- end ---");
}

std::string SignalName(int signo) {
  const char* abbrev = sigabbrev_np(signo);
  if (abbrev == nullptr) return absl::StrCat("signal ", signo);
  return absl::StrCat("SIG", abbrev);
}

RunResult RunProgram(const std::vector<std::string>& argv,
                     absl::Duration timeout, const std::string& stdin_data) {
  RunOptions options;
  options.timeout = timeout;
  options.stdin_data = stdin_data;
  return RunProgram(argv, options);
}

RunResult RunProgram(const std::vector<std::string>& argv,
                     const RunOptions& options) {
  RunResult result;
  if (argv.empty()) {
    std::fprintf(stderr, "RunProgram: empty argv\n");
    std::abort();
  }
  // Everything the child needs is prepared before fork().
  std::vector<char*> cargv;
  for (const std::string& a : argv)
    cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  int in[2], out[2], err[2], exec_err[2];
  Pipe(in);
  Pipe(out);
  Pipe(err);
  Pipe(exec_err);

  // A write to the stdin pipe after the child has gone must not kill us:
  // block SIGPIPE in this thread and swallow any that is raised.
  sigset_t pipe_set, old_mask;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);

  const absl::Time start = absl::Now();
  pid_t pid = fork();
  if (pid < 0) Die("fork");
  if (pid == 0) ChildExec(cargv.data(), in[0], out[1], err[1], exec_err[1]);
  // Also in the parent, so there is no window in which the child has not
  // yet moved itself when we kill the group.
  setpgid(pid, pid);

  close(in[0]);
  close(out[1]);
  close(err[1]);
  close(exec_err[1]);
  int in_fd = in[1], out_fd = out[0], err_fd = err[0];
  for (int fd : {in_fd, out_fd, err_fd}) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }

  // Did exec succeed? The CLOEXEC pipe reaches EOF on success.
  {
    int e = 0;
    ssize_t n;
    do {
      n = read(exec_err[0], &e, sizeof(e));
    } while (n < 0 && errno == EINTR);
    if (n == sizeof(e)) result.exec_errno = e;
    close(exec_err[0]);
  }

  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  size_t stdin_written = 0;
  if (options.stdin_data.empty()) CloseFd(in_fd);
  bool reaped = false;
  bool signal_sent = options.signal_when_stdout_contains.empty();
  const absl::Time deadline = start + options.timeout;
  absl::Time exit_time;

  for (;;) {
    if (!reaped) {
      int status;
      pid_t r = waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        reaped = true;
        result.wait_status = status;
        exit_time = absl::Now();
        CloseFd(in_fd);
        CloseFd(pidfd);
      } else if (r < 0 && errno != EINTR) {
        Die("waitpid");
      }
    }
    if (reaped && out_fd < 0 && err_fd < 0) break;
    const absl::Time now = absl::Now();
    if (reaped && now - exit_time > kDrainGrace) {
      result.stdio_left_open = true;
      break;
    }
    if (!reaped && now >= deadline) {
      result.timed_out = true;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      int status;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      result.wait_status = status;
      reaped = true;
      exit_time = absl::Now();
      CloseFd(in_fd);
      CloseFd(pidfd);
      continue;
    }

    struct pollfd pfds[4];
    int n = 0;
    auto add = [&](int fd, short events) {
      if (fd >= 0) pfds[n++] = {fd, events, 0};
    };
    add(in_fd, POLLOUT);
    add(out_fd, POLLIN);
    add(err_fd, POLLIN);
    add(pidfd, POLLIN);
    int wait_ms = kTickMs;
    if (pidfd >= 0) {
      // Woken by the child's exit; still bounded by the deadline.
      wait_ms = static_cast<int>(std::clamp<int64_t>(
          absl::ToInt64Milliseconds(deadline - now) + 1, 1, 1000));
    }
    if (reaped) wait_ms = kTickMs;
    if (poll(pfds, n, wait_ms) < 0 && errno != EINTR) Die("poll");

    if (out_fd >= 0) Drain(out_fd, result.stdout_data);
    if (err_fd >= 0) Drain(err_fd, result.stderr_data);
    if (in_fd >= 0) {
      ssize_t w = write(in_fd, options.stdin_data.data() + stdin_written,
                        options.stdin_data.size() - stdin_written);
      if (w > 0) stdin_written += static_cast<size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
          stdin_written == options.stdin_data.size()) {
        CloseFd(in_fd);  // done, or the child closed its end (EPIPE)
      }
    }
    if (!signal_sent && !reaped &&
        result.stdout_data.find(options.signal_when_stdout_contains) !=
            std::string::npos) {
      kill(pid, options.signal_to_send);
      signal_sent = true;
    }
  }
  CloseFd(in_fd);
  CloseFd(out_fd);
  CloseFd(err_fd);
  CloseFd(pidfd);
  result.elapsed = absl::Now() - start;
  // Whatever the child left behind in its process group (e.g. a guest that
  // outlived a crashed Sentry) must not outlive the test.
  kill(-pid, SIGKILL);

  // Swallow a SIGPIPE raised by our writes (unless the caller had it
  // blocked already: then it may be theirs), then restore the mask.
  if (!sigismember(&old_mask, SIGPIPE)) {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return result;
}

}  // namespace sentry::testing
