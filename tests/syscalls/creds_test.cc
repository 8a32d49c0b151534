// Process credentials, from the man pages of setuid(2), setreuid(2),
// setresuid(2), setfsuid(2), setgroups(2), capget(2) and capabilities(7):
// which ids each call changes for privileged and unprivileged callers, and
// how capabilities follow uid changes. Every change happens in a forked
// child (the test process keeps its ids), which needs root with the ids
// used here mapped: the BUILD target is tagged no-sandbox, as perm_test is.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

#define SKIP_UNLESS_ROOT()                          \
  do {                                              \
    std::string why_not = WhyNobodyIsUnavailable(); \
    if (!why_not.empty()) GTEST_SKIP() << why_not;  \
  } while (0)

bool HasResuid(uid_t r, uid_t e, uid_t s) {
  uid_t rr, ee, ss;
  return getresuid(&rr, &ee, &ss) == 0 && rr == r && ee == e && ss == s;
}

bool HasResgid(gid_t r, gid_t e, gid_t s) {
  gid_t rr, ee, ss;
  return getresgid(&rr, &ee, &ss) == 0 && rr == r && ee == e && ss == s;
}

// The effective and permitted sets (the low 64 capabilities).
struct Caps {
  uint64_t effective = 0;
  uint64_t permitted = 0;
};

bool GetCaps(Caps* caps) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  caps->effective = data[0].effective | (uint64_t{data[1].effective} << 32);
  caps->permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
  return true;
}

bool SetCaps(const Caps& caps) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  data[0].effective = static_cast<uint32_t>(caps.effective);
  data[1].effective = static_cast<uint32_t>(caps.effective >> 32);
  data[0].permitted = static_cast<uint32_t>(caps.permitted);
  data[1].permitted = static_cast<uint32_t>(caps.permitted >> 32);
  return syscall(SYS_capset, &header, data) == 0;
}

constexpr uint64_t Bit(int cap) { return uint64_t{1} << cap; }

TEST(CredsTest, GetresidsAgreeWithTheSingleGetters) {
  uid_t r, e, s;
  ASSERT_THAT(getresuid(&r, &e, &s), SyscallSucceeds());
  EXPECT_EQ(r, getuid());
  EXPECT_EQ(e, geteuid());
  gid_t gr, ge, gs;
  ASSERT_THAT(getresgid(&gr, &ge, &gs), SyscallSucceeds());
  EXPECT_EQ(gr, getgid());
  EXPECT_EQ(ge, getegid());
}

TEST(CredsTest, GetresuidBadPointerFailsEfault) {
  uid_t r, e;
  EXPECT_THAT(syscall(SYS_getresuid, &r, &e, reinterpret_cast<void*>(8)),
              SyscallFailsWithErrno(EFAULT));
}

// For a privileged caller setuid sets the real, effective and saved ids.
TEST(CredsTest, RootSetuidSetsAllThreeFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAndWait([]() -> int {
                CHILD_EXPECT(setuid(1000) == 0);
                CHILD_EXPECT(HasResuid(1000, 1000, 1000));
                // Privilege is gone for good.
                CHILD_EXPECT(setuid(0) == -1 && errno == EPERM);
                return 0;
              }),
              ExitedWithCode(0));
}

// Unprivileged, setuid may switch the effective id to the real or saved id
// and changes nothing else.
TEST(CredsTest, UnprivilegedSetuidChangesOnlyTheEffectiveIdFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAndWait([]() -> int {
                CHILD_EXPECT(setresuid(1000, 1000, 2000) == 0);
                CHILD_EXPECT(setuid(2000) == 0);
                CHILD_EXPECT(HasResuid(1000, 2000, 2000));
                CHILD_EXPECT(setuid(1000) == 0);
                CHILD_EXPECT(HasResuid(1000, 1000, 2000));
                CHILD_EXPECT(setuid(3000) == -1 && errno == EPERM);
                CHILD_EXPECT(HasResuid(1000, 1000, 2000));
                return 0;
              }),
              ExitedWithCode(0));
}

// An unprivileged setresuid may set each id to any of the current three;
// -1 leaves an id unchanged.
TEST(CredsTest, UnprivilegedSetresuidPermutesItsOwnIdsFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAndWait([]() -> int {
                CHILD_EXPECT(setresuid(1000, 2000, 3000) == 0);
                CHILD_EXPECT(setresuid(3000, 1000, 2000) == 0);
                CHILD_EXPECT(HasResuid(3000, 1000, 2000));
                CHILD_EXPECT(setresuid(-1, 3000, -1) == 0);
                CHILD_EXPECT(HasResuid(3000, 3000, 2000));
                CHILD_EXPECT(setresuid(-1, -1, -1) == 0);
                CHILD_EXPECT(HasResuid(3000, 3000, 2000));
                CHILD_EXPECT(setresuid(4000, -1, -1) == -1 && errno == EPERM);
                CHILD_EXPECT(setresuid(-1, -1, 0) == -1 && errno == EPERM);
                CHILD_EXPECT(HasResuid(3000, 3000, 2000));
                return 0;
              }),
              ExitedWithCode(0));
}

// seteuid keeps the saved id, so a root process can drop its effective id
// and take it back.
TEST(CredsTest, SeteuidKeepsSavedRootSoItCanBeRegainedFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAndWait([]() -> int {
                CHILD_EXPECT(seteuid(1000) == 0);
                CHILD_EXPECT(HasResuid(0, 1000, 0));
                CHILD_EXPECT(seteuid(0) == 0);
                CHILD_EXPECT(HasResuid(0, 0, 0));
                return 0;
              }),
              ExitedWithCode(0));
}

// "If the real user ID is set or the effective user ID is set to a value not
// equal to the previous real user ID, the saved set-user-ID will be set to
// the new effective user ID."
TEST(CredsTest, SetreuidUpdatesTheSavedIdFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAndWait([]() -> int {
                CHILD_EXPECT(setreuid(-1, 1000) == 0);
                CHILD_EXPECT(HasResuid(0, 1000, 1000));
                // Unprivileged now, but the effective id may become the real
                // id (and that equals the old real id: saved stays).
                CHILD_EXPECT(setreuid(-1, 0) == 0);
                CHILD_EXPECT(HasResuid(0, 0, 1000));
                CHILD_EXPECT(setreuid(2000, 3000) == 0);
                CHILD_EXPECT(HasResuid(2000, 3000, 3000));
                // Unprivileged: the real id may only become the effective one
                // (or stay).
                CHILD_EXPECT(setreuid(3000, -1) == 0);
                CHILD_EXPECT(HasResuid(3000, 3000, 3000));
                CHILD_EXPECT(setreuid(1000, -1) == -1 && errno == EPERM);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(CredsTest, GidCallsFollowTheSameRulesFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAndWait([]() -> int {
                CHILD_EXPECT(setresgid(100, 200, 300) == 0);
                CHILD_EXPECT(HasResgid(100, 200, 300));
                CHILD_EXPECT(setegid(300) == 0);
                CHILD_EXPECT(HasResgid(100, 300, 300));
                // Still root (uid 0): setgid sets all three.
                CHILD_EXPECT(setgid(400) == 0);
                CHILD_EXPECT(HasResgid(400, 400, 400));
                CHILD_EXPECT(setresuid(1000, 1000, 1000) == 0);
                CHILD_EXPECT(setgid(500) == -1 && errno == EPERM);
                CHILD_EXPECT(setresgid(-1, 100, -1) == -1 && errno == EPERM);
                return 0;
              }),
              ExitedWithCode(0));
}

// /proc/self/status lists real, effective, saved and filesystem ids.
TEST(CredsTest, ProcStatusShowsAllFourIdsFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAndWait([]() -> int {
                CHILD_EXPECT(setresgid(10, 20, 30) == 0);
                CHILD_EXPECT(setresuid(1000, 2000, 3000) == 0);
                std::string status = ReadProcFile("/proc/self/status");
                CHILD_EXPECT(status.find("\nUid:\t1000\t2000\t3000\t2000\n") !=
                             std::string::npos);
                CHILD_EXPECT(status.find("\nGid:\t10\t20\t30\t20\n") !=
                             std::string::npos);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(GroupsTest, GetgroupsCountsAndChecksTheSizeFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAndWait([]() -> int {
                const gid_t want[] = {7, 8, 9};
                CHILD_EXPECT(setgroups(3, want) == 0);
                // Size 0 asks for the count without storing anything.
                CHILD_EXPECT(getgroups(0, nullptr) == 3);
                gid_t got[8] = {};
                CHILD_EXPECT(getgroups(1, got) == -1 && errno == EINVAL);
                CHILD_EXPECT(getgroups(8, got) == 3);
                CHILD_EXPECT(got[0] == 7 && got[1] == 8 && got[2] == 9);
                CHILD_EXPECT(setgroups(0, nullptr) == 0);
                CHILD_EXPECT(getgroups(0, nullptr) == 0);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(GroupsTest, SetgroupsLimitsFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAndWait([]() -> int {
                // More than NGROUPS_MAX (65536) entries.
                std::vector<gid_t> many(65537, 1);
                CHILD_EXPECT(setgroups(many.size(), many.data()) == -1 &&
                             errno == EINVAL);
                CHILD_EXPECT(syscall(SYS_setgroups, 2,
                                     reinterpret_cast<void*>(8)) == -1 &&
                             errno == EFAULT);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(GroupsTest, UnprivilegedSetgroupsFailsEpermFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAsNobodyAndWait([]() -> int {
                const gid_t one[] = {kNobodyGid};
                CHILD_EXPECT(setgroups(1, one) == -1 && errno == EPERM);
                CHILD_EXPECT(getgroups(0, nullptr) == 0);
                return 0;
              }),
              ExitedWithCode(0));
}

// setfsuid returns the previous filesystem uid, and files are created with
// the filesystem ids, not the effective ones.
TEST(FsuidTest, CreatesFilesAsTheFilesystemIdsFork) {
  SKIP_UNLESS_ROOT();
  TempPath dir = TempPath::CreateDir(0777);
  // The child works relative to a descriptor of the directory: with a
  // foreign filesystem uid it may not be able to search the directories
  // above it.
  FileDescriptor dirfd(open(dir.path().c_str(), O_PATH | O_DIRECTORY));
  ASSERT_THAT(dirfd.get(), SyscallSucceeds());
  int raw_dirfd = dirfd.get();
  EXPECT_THAT(ForkAndWait([raw_dirfd]() -> int {
                CHILD_EXPECT(setfsgid(4321) == 0);
                CHILD_EXPECT(setfsuid(1234) == 0);
                // -1 is never valid: the call only reports the current one.
                CHILD_EXPECT(setfsuid(-1) == 1234);
                CHILD_EXPECT(geteuid() == 0);
                int fd = openat(raw_dirfd, "f", O_CREAT | O_WRONLY, 0644);
                CHILD_EXPECT(fd >= 0);
                struct stat st;
                CHILD_EXPECT(fstat(fd, &st) == 0);
                close(fd);
                CHILD_EXPECT(st.st_uid == 1234);
                CHILD_EXPECT(st.st_gid == 4321);
                return 0;
              }),
              ExitedWithCode(0));
}

// Changing the effective id changes the filesystem id with it, and an
// unprivileged caller cannot pick a foreign filesystem id (the call still
// returns the old one).
TEST(FsuidTest, FollowsTheEffectiveIdAndIsLimitedWhenUnprivilegedFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAndWait([]() -> int {
                CHILD_EXPECT(setresuid(1000, 2000, 3000) == 0);
                CHILD_EXPECT(setfsuid(-1) == 2000);
                CHILD_EXPECT(setfsuid(3000) == 2000);
                CHILD_EXPECT(setfsuid(-1) == 3000);
                CHILD_EXPECT(setfsuid(0) == 3000);
                CHILD_EXPECT(setfsuid(-1) == 3000);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(CapabilityTest, RootHasEffectiveCapabilities) {
  SKIP_UNLESS_ROOT();
  Caps caps;
  ASSERT_TRUE(GetCaps(&caps)) << strerror(errno);
  EXPECT_NE(caps.effective & Bit(CAP_CHOWN), 0u);
  EXPECT_NE(caps.permitted & Bit(CAP_SETUID), 0u);
}

// An unsupported version fails EINVAL and the kernel writes its preferred
// version into the header.
TEST(CapabilityTest, UnknownVersionReportsThePreferredOne) {
  struct __user_cap_header_struct header = {0x12345678, 0};
  struct __user_cap_data_struct data[2];
  EXPECT_THAT(syscall(SYS_capget, &header, data),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(header.version, static_cast<uint32_t>(_LINUX_CAPABILITY_VERSION_3));
  // With a NULL data pointer (the way libcap probes) the call succeeds and
  // only reports the version.
  header = {0, 0};
  EXPECT_THAT(syscall(SYS_capget, &header, nullptr), SyscallSucceeds());
  EXPECT_EQ(header.version, static_cast<uint32_t>(_LINUX_CAPABILITY_VERSION_3));
}

// capabilities(7): when all of the real, effective and saved uids become
// non-zero, the permitted and effective sets are cleared.
TEST(CapabilityTest, DroppedWhenNoUidIsZeroFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAndWait([]() -> int {
                CHILD_EXPECT(setresuid(1000, 1000, 1000) == 0);
                Caps caps;
                CHILD_EXPECT(GetCaps(&caps));
                CHILD_EXPECT(caps.effective == 0);
                CHILD_EXPECT(caps.permitted == 0);
                return 0;
              }),
              ExitedWithCode(0));
}

// Moving only the effective uid away from 0 clears the effective set;
// moving it back restores it from the permitted set.
TEST(CapabilityTest, EffectiveUidChangeClearsOnlyTheEffectiveSetFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAndWait([]() -> int {
                Caps before;
                CHILD_EXPECT(GetCaps(&before));
                CHILD_EXPECT(seteuid(1000) == 0);
                Caps caps;
                CHILD_EXPECT(GetCaps(&caps));
                CHILD_EXPECT(caps.effective == 0);
                CHILD_EXPECT(caps.permitted == before.permitted);
                CHILD_EXPECT(seteuid(0) == 0);
                CHILD_EXPECT(GetCaps(&caps));
                CHILD_EXPECT(caps.effective == before.permitted);
                return 0;
              }),
              ExitedWithCode(0));
}

// With PR_SET_KEEPCAPS the permitted set survives leaving uid 0 (the
// effective set is still cleared).
TEST(CapabilityTest, KeepcapsKeepsThePermittedSetFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAndWait([]() -> int {
                Caps before;
                CHILD_EXPECT(GetCaps(&before));
                CHILD_EXPECT(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0);
                CHILD_EXPECT(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 1);
                CHILD_EXPECT(setresuid(1000, 1000, 1000) == 0);
                Caps caps;
                CHILD_EXPECT(GetCaps(&caps));
                CHILD_EXPECT(caps.permitted == before.permitted);
                CHILD_EXPECT(caps.effective == 0);
                return 0;
              }),
              ExitedWithCode(0));
}

// Dropping CAP_CHOWN takes away root's right to give files away, and a
// capability dropped from the permitted set cannot be raised again.
TEST(CapabilityTest, DroppedCapabilityIsEnforcedAndCannotComeBackFork) {
  SKIP_UNLESS_ROOT();
  TempPath f = TempPath::CreateFile();
  EXPECT_THAT(
      ForkAndWait([&]() -> int {
        Caps caps;
        CHILD_EXPECT(GetCaps(&caps));
        caps.effective &= ~Bit(CAP_CHOWN);
        caps.permitted &= ~Bit(CAP_CHOWN);
        CHILD_EXPECT(SetCaps(caps));
        CHILD_EXPECT(chown(f.path().c_str(), 1234, -1) == -1 && errno == EPERM);
        caps.effective |= Bit(CAP_CHOWN);
        caps.permitted |= Bit(CAP_CHOWN);
        CHILD_EXPECT(!SetCaps(caps) && errno == EPERM);
        // The effective set must stay within the permitted set.
        caps.permitted &= ~Bit(CAP_CHOWN);
        CHILD_EXPECT(!SetCaps(caps) && errno == EPERM);
        return 0;
      }),
      ExitedWithCode(0));
}

// The kernel keeps credentials per thread: the raw setuid syscall changes
// only the calling thread (glibc's setuid(3) makes all threads agree by
// signalling each of them).
TEST(ThreadCredsTest, RawSetuidChangesOnlyTheCallingThreadFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAndWait([]() -> int {
                long thread_uid = -1;
                std::thread t([&] {
                  thread_uid = syscall(SYS_setresuid, 1000, 1000, 1000);
                  if (thread_uid == 0) thread_uid = syscall(SYS_getuid);
                });
                t.join();
                CHILD_EXPECT(thread_uid == 1000);
                CHILD_EXPECT(syscall(SYS_getuid) == 0);
                return 0;
              }),
              ExitedWithCode(0));
}

TEST(ThreadCredsTest, LibcSetuidAppliesToEveryThreadFork) {
  SKIP_UNLESS_ROOT();
  EXPECT_THAT(ForkAndWait([]() -> int {
                int p[2];
                CHILD_EXPECT(pipe(p) == 0);
                long seen = -1;
                std::thread t([&] {
                  char c;
                  if (read(p[0], &c, 1) == 1) seen = syscall(SYS_geteuid);
                });
                CHILD_EXPECT(setresuid(1000, 1000, 1000) == 0);
                CHILD_EXPECT(write(p[1], "x", 1) == 1);
                t.join();
                CHILD_EXPECT(seen == 1000);
                return 0;
              }),
              ExitedWithCode(0));
}

}  // namespace
}  // namespace sentry::testing
