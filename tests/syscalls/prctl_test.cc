// prctl(2) options from the man page: PR_SET_NAME, PR_SET_DUMPABLE,
// PR_SET_NO_NEW_PRIVS, PR_SET_KEEPCAPS, PR_CAPBSET_READ/DROP,
// PR_GET_TID_ADDRESS, PR_SET_TIMERSLACK, PR_SET_THP_DISABLE, PR_SET_TSC,
// PR_SET_SECCOMP (strict mode), PR_GET_AUXV and unknown options.
// (PR_SET_PDEATHSIG and PR_SET_CHILD_SUBREAPER are in lifecycle_test.)
//
// Every attribute is changed in a forked child, never in the test process.
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

#ifndef PR_GET_AUXV
#define PR_GET_AUXV 0x41555856
#endif

namespace sentry::testing {
namespace {

// The value of "Name:" in /proc/self/status ("" if missing).
std::string StatusField(const std::string& name) {
  std::string status = "\n" + ReadProcFile("/proc/self/status");
  size_t pos = status.find("\n" + name + ":");
  if (pos == std::string::npos) return "";
  pos += name.size() + 2;
  while (pos < status.size() && (status[pos] == ' ' || status[pos] == '\t')) {
    pos++;
  }
  return status.substr(pos, status.find('\n', pos) - pos);
}

// --- PR_SET_NAME ---

TEST(PrctlTest, NameOfFifteenBytesOrEmptyIsKept) {
  auto child = [] {
    char name[16] = {};
    CHILD_EXPECT(prctl(PR_SET_NAME, "fifteen-chars-x") == 0);
    CHILD_EXPECT(prctl(PR_GET_NAME, name) == 0);
    CHILD_EXPECT(strcmp(name, "fifteen-chars-x") == 0);
    CHILD_EXPECT(StatusField("Name") == "fifteen-chars-x");
    CHILD_EXPECT(prctl(PR_SET_NAME, "") == 0);
    memset(name, 'z', sizeof(name));
    CHILD_EXPECT(prctl(PR_GET_NAME, name) == 0);
    CHILD_EXPECT(name[0] == '\0');
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(PrctlTest, NameIsInheritedByAForkChild) {
  auto child = [] {
    CHILD_EXPECT(prctl(PR_SET_NAME, "inherited") == 0);
    pid_t pid = fork();
    CHILD_EXPECT(pid >= 0);
    if (pid == 0) {
      char name[16] = {};
      prctl(PR_GET_NAME, name);
      _exit(strcmp(name, "inherited") == 0 ? 0 : 1);
    }
    int status;
    CHILD_EXPECT(waitpid(pid, &status, 0) == pid);
    CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(PrctlTest, BadNamePointerFailsEfault) {
  EXPECT_THAT(prctl(PR_SET_NAME, reinterpret_cast<char*>(8)),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(prctl(PR_GET_NAME, reinterpret_cast<char*>(8)),
              SyscallFailsWithErrno(EFAULT));
}

// --- PR_SET_DUMPABLE ---

TEST(PrctlTest, DumpableIsZeroOrOne) {
  auto child = [] {
    CHILD_EXPECT(prctl(PR_GET_DUMPABLE) == 1);
    CHILD_EXPECT(prctl(PR_SET_DUMPABLE, 0) == 0);
    CHILD_EXPECT(prctl(PR_GET_DUMPABLE) == 0);
    // "Since Linux 2.6.13 ... the value 2 ... not permitted": EINVAL.
    CHILD_EXPECT(prctl(PR_SET_DUMPABLE, 2) == -1 && errno == EINVAL);
    CHILD_EXPECT(prctl(PR_SET_DUMPABLE, 3) == -1 && errno == EINVAL);
    CHILD_EXPECT(prctl(PR_GET_DUMPABLE) == 0);
    CHILD_EXPECT(prctl(PR_SET_DUMPABLE, 1) == 0);
    CHILD_EXPECT(prctl(PR_GET_DUMPABLE) == 1);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(PrctlTest, ChangingTheEffectiveUidResetsDumpableFork) {
  // prctl(2): the dumpable attribute "is reset to the current value
  // contained in the file /proc/sys/fs/suid_dumpable" when "the process's
  // effective user or group ID is changed".
  std::string why_not = WhyNobodyIsUnavailable();
  if (!why_not.empty()) GTEST_SKIP() << why_not;
  auto child = [] {
    std::string text = ReadProcFile("/proc/sys/fs/suid_dumpable");
    CHILD_EXPECT(!text.empty());
    int expected = atoi(text.c_str());
    CHILD_EXPECT(prctl(PR_GET_DUMPABLE) == 1);
    CHILD_EXPECT(setresuid(kNobodyUid, kNobodyUid, kNobodyUid) == 0);
    CHILD_EXPECT(prctl(PR_GET_DUMPABLE) == expected);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

// --- PR_SET_NO_NEW_PRIVS ---

TEST(PrctlTest, NoNewPrivsIsOneWayAndInherited) {
  auto child = [] {
    CHILD_EXPECT(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
    CHILD_EXPECT(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
    CHILD_EXPECT(StatusField("NoNewPrivs") == "1");
    // It cannot be unset.
    CHILD_EXPECT(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0) == -1);
    CHILD_EXPECT(errno == EINVAL);
    pid_t pid = fork();
    CHILD_EXPECT(pid >= 0);
    if (pid == 0) _exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1);
    int status;
    CHILD_EXPECT(waitpid(pid, &status, 0) == pid);
    CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(PrctlTest, NoNewPrivsRejectsNonZeroUnusedArguments) {
  auto child = [] {
    CHILD_EXPECT(prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0) == -1);
    CHILD_EXPECT(errno == EINVAL);
    CHILD_EXPECT(prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1);
    CHILD_EXPECT(errno == EINVAL);
    CHILD_EXPECT(prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0) == -1);
    CHILD_EXPECT(errno == EINVAL);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

// --- PR_SET_KEEPCAPS and capability sets ---

// (What the flag does to capabilities across setuid is in creds_test.)
TEST(PrctlTest, KeepcapsAcceptsOnlyZeroAndOne) {
  auto child = [] {
    CHILD_EXPECT(prctl(PR_GET_KEEPCAPS) == 0);
    CHILD_EXPECT(prctl(PR_SET_KEEPCAPS, 2) == -1 && errno == EINVAL);
    CHILD_EXPECT(prctl(PR_SET_KEEPCAPS, -1) == -1 && errno == EINVAL);
    CHILD_EXPECT(prctl(PR_SET_KEEPCAPS, 1) == 0);
    // A rejected value leaves the flag as it was.
    CHILD_EXPECT(prctl(PR_SET_KEEPCAPS, 2) == -1 && errno == EINVAL);
    CHILD_EXPECT(prctl(PR_GET_KEEPCAPS) == 1);
    CHILD_EXPECT(prctl(PR_SET_KEEPCAPS, 0) == 0);
    CHILD_EXPECT(prctl(PR_GET_KEEPCAPS) == 0);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(PrctlTest, CapbsetReadAndDrop) {
  auto child = [] {
    int r = prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0);
    CHILD_EXPECT(r == 0 || r == 1);
    CHILD_EXPECT(prctl(PR_CAPBSET_READ, 1000, 0, 0, 0) == -1);
    CHILD_EXPECT(errno == EINVAL);
    if (prctl(PR_CAPBSET_READ, CAP_MKNOD, 0, 0, 0) != 1) return 0;
    // Dropping needs CAP_SETPCAP; once dropped, it stays out.
    if (prctl(PR_CAPBSET_DROP, CAP_MKNOD, 0, 0, 0) != 0) {
      CHILD_EXPECT(errno == EPERM);
      return 0;
    }
    CHILD_EXPECT(prctl(PR_CAPBSET_READ, CAP_MKNOD, 0, 0, 0) == 0);
    CHILD_EXPECT(prctl(PR_CAPBSET_DROP, 1000, 0, 0, 0) == -1);
    CHILD_EXPECT(errno == EINVAL);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

// --- other options ---

TEST(PrctlTest, GetTidAddressReturnsWhatSetTidAddressSet) {
  int* probe;
  if (prctl(PR_GET_TID_ADDRESS, &probe, 0, 0, 0) != 0 && errno == EINVAL &&
      IsRunningNatively()) {
    GTEST_SKIP() << "kernel built without CONFIG_CHECKPOINT_RESTORE";
  }
  auto child = [] {
    static int word;
    syscall(SYS_set_tid_address, &word);
    int* got = nullptr;
    CHILD_EXPECT(prctl(PR_GET_TID_ADDRESS, &got, 0, 0, 0) == 0);
    CHILD_EXPECT(got == &word);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(PrctlTest, TimerslackRoundTripsAndZeroRestoresTheDefault) {
  auto child = [] {
    int def = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    CHILD_EXPECT(def > 0);
    CHILD_EXPECT(prctl(PR_SET_TIMERSLACK, 123456, 0, 0, 0) == 0);
    CHILD_EXPECT(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) == 123456);
    // "Setting the value to 0 ... resets ... to the default".
    CHILD_EXPECT(prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0) == 0);
    CHILD_EXPECT(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) == def);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(PrctlTest, ThpDisableRoundTripsAndIsInherited) {
  auto child = [] {
    CHILD_EXPECT(prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 0);
    CHILD_EXPECT(prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0);
    CHILD_EXPECT(prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1);
    pid_t pid = fork();
    CHILD_EXPECT(pid >= 0);
    if (pid == 0) _exit(prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1 ? 0 : 1);
    int status;
    CHILD_EXPECT(waitpid(pid, &status, 0) == pid);
    CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(PrctlTest, TscIsReadableUntilSetToSigsegv) {
  auto child = [] {
    int mode = -1;
    CHILD_EXPECT(prctl(PR_GET_TSC, &mode, 0, 0, 0) == 0);
    CHILD_EXPECT(mode == PR_TSC_ENABLE);
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    CHILD_EXPECT(prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) == 0);
    CHILD_EXPECT(prctl(PR_GET_TSC, &mode, 0, 0, 0) == 0);
    CHILD_EXPECT(mode == PR_TSC_SIGSEGV);
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
    // "Set the state of the flag determining whether the timestamp counter
    // can be read": now reading it raises SIGSEGV.
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), KilledBySignal(SIGSEGV));
}

TEST(PrctlTest, SeccompStrictAllowsOnlyReadWriteExitAndSigreturn) {
  if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0) {
    GTEST_SKIP() << "already under a seccomp filter";
  }
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor r(fds[0]), w(fds[1]);
  auto allowed = [&] {
    CHILD_EXPECT(prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) == 0);
    (void)!write(w.get(), "s", 1);
    // exit(2), not exit_group(2): only the former is allowed.
    syscall(SYS_exit, 0);
    return 1;
  };
  EXPECT_THAT(ForkAndWait(allowed), ExitedWithCode(0));
  w.reset();  // so that the read sees EOF if the child wrote nothing
  char c = 0;
  EXPECT_THAT(read(r.get(), &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, 's');
  auto forbidden = [] {
    CHILD_EXPECT(prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) == 0);
    syscall(SYS_getpid);  // SIGKILL
    syscall(SYS_exit, 0);
    return 1;
  };
  EXPECT_THAT(ForkAndWait(forbidden), KilledBySignal(SIGKILL));
}

TEST(PrctlTest, GetAuxvMatchesGetauxval) {
  unsigned long auxv[256] = {};
  long size = prctl(PR_GET_AUXV, auxv, sizeof(auxv), 0, 0);
  if (size == -1 && errno == EINVAL && IsRunningNatively()) {
    GTEST_SKIP() << "PR_GET_AUXV needs Linux 6.4";
  }
  ASSERT_THAT(size, SyscallSucceeds());
  // The size of the whole vector, in (type, value) pairs, ending in
  // AT_NULL.
  ASSERT_GT(size, 0);
  ASSERT_LE(static_cast<size_t>(size), sizeof(auxv));
  EXPECT_EQ(size % (2 * sizeof(unsigned long)), 0);
  bool saw_pagesz = false;
  for (long i = 0; i + 1 < size / static_cast<long>(sizeof(long)); i += 2) {
    if (auxv[i] == AT_PAGESZ) {
      saw_pagesz = true;
      EXPECT_EQ(auxv[i + 1], getauxval(AT_PAGESZ));
    }
  }
  EXPECT_TRUE(saw_pagesz);
  // A short buffer still gets the full size back.
  EXPECT_THAT(prctl(PR_GET_AUXV, auxv, 16, 0, 0),
              SyscallSucceedsWithValue(size));
}

TEST(PrctlTest, UnknownOptionFailsEinval) {
  EXPECT_THAT(prctl(0x7ffffff0, 0, 0, 0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(prctl(-1, 0, 0, 0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(prctl(0, 0, 0, 0, 0), SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace sentry::testing
