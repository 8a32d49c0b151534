// passthrough_sentry: a stand-in for `sentry run` that runs the guest
// natively, used only to test the integration-test harness itself
// (//tests/integration:harness_selftest). It mimics the CLI contract of
// `sentry run [--platform=P] [--strace] [--debug-log=FILE] PROGRAM [ARGS...]`:
// stdio and environment are inherited, SIGINT/SIGTERM are forwarded, a
// guest killed by signal N gives one stderr line and exit 128+N, and a
// program that cannot be executed gives one "sentry: " line and exit 126
// (127 when missing). It emulates nothing: not a sandbox.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

volatile pid_t g_child = 0;

void Forward(int sig) {
  if (g_child > 0) kill(g_child, sig);
}

int Usage(const char* why) {
  fprintf(stderr, "sentry: %s\n", why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || strcmp(argv[1], "run") != 0) {
    return Usage("usage: sentry run [FLAGS] PROGRAM [ARGS...]");
  }
  // Flags end at the first argument that is not one: the rest is the guest's.
  int i = 2;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    const std::string flag = argv[i];
    if (flag.rfind("--platform=", 0) == 0 || flag == "--strace" ||
        flag.rfind("--debug-log=", 0) == 0) {
      continue;  // accepted, no effect
    }
    fprintf(stderr, "sentry: unknown flag %s\n", argv[i]);
    return 2;
  }
  if (i >= argc) return Usage("run: missing PROGRAM");

  int exec_err[2];
  if (pipe2(exec_err, O_CLOEXEC) != 0) {
    perror("sentry: pipe2");
    return 1;
  }
  struct sigaction fwd = {};
  fwd.sa_handler = Forward;
  sigaction(SIGINT, &fwd, nullptr);
  sigaction(SIGTERM, &fwd, nullptr);

  pid_t pid = fork();
  if (pid < 0) {
    perror("sentry: fork");
    return 1;
  }
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execv(argv[i], argv + i);
    int e = errno;
    (void)!write(exec_err[1], &e, sizeof(e));
    _exit(127);
  }
  g_child = pid;
  close(exec_err[1]);
  int e = 0;
  ssize_t n;
  do {
    n = read(exec_err[0], &e, sizeof(e));
  } while (n < 0 && errno == EINTR);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n == sizeof(e)) {
    fprintf(stderr, "sentry: cannot execute %s: %s\n", argv[i], strerror(e));
    return e == ENOENT ? 127 : 126;
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    fprintf(stderr, "sentry: guest killed by SIG%s\n", sigabbrev_np(sig));
    return 128 + sig;
  }
  return WEXITSTATUS(status);
}
