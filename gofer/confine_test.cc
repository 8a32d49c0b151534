// The Gofer's seccomp filter, loaded in forked children: what it must let
// through for the server, and what it must kill.
#include "gofer/confine.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include "gtest/gtest.h"

namespace sentry::gofer {
namespace {

// Runs `body` in a child under the filter (socket FD 0 is allowed for
// sendmsg/recvmsg) and returns its wait status.
int RunFiltered(const std::function<void()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(100);
    if (!InstallSeccompFilter(/*socket_fd=*/0).ok()) _exit(101);
    body();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

bool KilledBySigsys(int status) {
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

TEST(ConfineTest, AllowsWhatTheServerDoes) {
  int status = RunFiltered([] {
    int fd = openat(AT_FDCWD, "/proc/self/fd", O_PATH | O_DIRECTORY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) _exit(1);
    close(fd);
    void* p = malloc(1 << 20);
    free(p);
    (void)!write(STDERR_FILENO, "", 0);
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(ConfineTest, ExecveKills) {
  int status = RunFiltered([] {
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    char* envp[] = {nullptr};
    execve("/bin/true", argv, envp);
    _exit(2);
  });
  EXPECT_TRUE(KilledBySigsys(status)) << status;
}

TEST(ConfineTest, ForkKills) {
  EXPECT_TRUE(KilledBySigsys(RunFiltered([] { syscall(SYS_fork); })));
  EXPECT_TRUE(KilledBySigsys(
      RunFiltered([] { syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); })));
}

TEST(ConfineTest, SocketsAndPtraceKill) {
  EXPECT_TRUE(
      KilledBySigsys(RunFiltered([] { socket(AF_INET, SOCK_STREAM, 0); })));
  EXPECT_TRUE(KilledBySigsys(RunFiltered([] {
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  })));
  EXPECT_TRUE(KilledBySigsys(
      RunFiltered([] { syscall(SYS_ptrace, 0 /*TRACEME*/, 0, 0, 0); })));
}

TEST(ConfineTest, SendmsgOnlyOnTheSocket) {
  EXPECT_TRUE(KilledBySigsys(RunFiltered([] {
    struct msghdr mh = {};
    sendmsg(5, &mh, 0);
  })));
}

TEST(ConfineTest, KillOnlySelf) {
  const pid_t parent = getpid();  // the filtered child's parent
  EXPECT_TRUE(KilledBySigsys(RunFiltered([] { kill(1, 0); })));
  EXPECT_TRUE(KilledBySigsys(RunFiltered([&] { kill(parent, 0); })));
  int status = RunFiltered([] {
    if (kill(getpid(), 0) != 0) _exit(1);
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(ConfineTest, NoExecutableMemory) {
  EXPECT_TRUE(KilledBySigsys(RunFiltered([] {
    mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
         0);
  })));
}

}  // namespace
}  // namespace sentry::gofer
