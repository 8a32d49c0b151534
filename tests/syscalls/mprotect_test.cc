// Changing and querying existing mappings, from the man pages: mprotect(2)
// (new protections fault as asked, ranges split areas), madvise(2)
// (MADV_DONTNEED, MADV_REMOVE, MADV_DONTFORK, MADV_WIPEONFORK, MADV_FREE and
// their errors), mlock(2)/munlock(2)/mlockall(2) and msync(2) errors.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

long PageSize() { return sysconf(_SC_PAGESIZE); }

// An anonymous mapping of `pages` pages, unmapped on destruction.
class Mapping {
 public:
  explicit Mapping(size_t pages, int flags = MAP_PRIVATE,
                   int prot = PROT_READ | PROT_WRITE)
      : len_(pages * PageSize()) {
    void* p = mmap(nullptr, len_, prot, flags | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED) << strerror(errno);
    addr_ = p == MAP_FAILED ? nullptr : static_cast<char*>(p);
  }
  ~Mapping() {
    if (addr_ != nullptr) munmap(addr_, len_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  char* addr() const { return addr_; }
  char* page(size_t i) const { return addr_ + i * PageSize(); }
  size_t len() const { return len_; }

 private:
  size_t len_;
  char* addr_;
};

// A child that is about to fault must not leave a core file behind.
void NoCoreDump() {
  struct rlimit rl = {0, 0};
  setrlimit(RLIMIT_CORE, &rl);
}

// Reads (or writes) the byte at `p` in a forked child; its wait status.
int ReadInChild(volatile char* p) {
  return ForkAndWait([p] {
    NoCoreDump();
    char c = *p;
    (void)c;
    return 0;
  });
}

int WriteInChild(volatile char* p) {
  return ForkAndWait([p] {
    NoCoreDump();
    *p = 1;
    return 0;
  });
}

// The permissions column ("rw-p") of the /proc/self/maps line of the area
// that starts at `addr`, or "".
std::string MapsPerms(const void* addr) {
  std::string maps = ReadProcFile("/proc/self/maps");
  char start[32];
  snprintf(start, sizeof(start), "%lx-", reinterpret_cast<unsigned long>(addr));
  size_t pos = 0;
  while (pos < maps.size()) {
    size_t end = maps.find('\n', pos);
    if (end == std::string::npos) end = maps.size();
    std::string line = maps.substr(pos, end - pos);
    if (line.rfind(start, 0) == 0) {
      size_t sp = line.find(' ');
      return line.substr(sp + 1, 4);
    }
    pos = end + 1;
  }
  return "";
}

// --- mprotect ---

TEST(MprotectTest, ReadOnlyPageFaultsOnWrite) {
  Mapping m(1);
  ASSERT_NE(m.addr(), nullptr);
  m.addr()[0] = 'r';
  ASSERT_THAT(mprotect(m.addr(), m.len(), PROT_READ), SyscallSucceeds());
  EXPECT_EQ(m.addr()[0], 'r');
  EXPECT_THAT(WriteInChild(m.addr()), KilledBySignal(SIGSEGV));
  EXPECT_EQ(MapsPerms(m.addr()), "r--p");
}

TEST(MprotectTest, ProtNoneFaultsOnReadAndKeepsTheContents) {
  Mapping m(1);
  ASSERT_NE(m.addr(), nullptr);
  m.addr()[10] = 'k';
  ASSERT_THAT(mprotect(m.addr(), m.len(), PROT_NONE), SyscallSucceeds());
  EXPECT_THAT(ReadInChild(m.addr()), KilledBySignal(SIGSEGV));
  EXPECT_EQ(MapsPerms(m.addr()), "---p");
  // Making it accessible again shows the old contents.
  ASSERT_THAT(mprotect(m.addr(), m.len(), PROT_READ | PROT_WRITE),
              SyscallSucceeds());
  EXPECT_EQ(m.addr()[10], 'k');
  m.addr()[11] = 'w';
  EXPECT_EQ(m.addr()[11], 'w');
}

TEST(MprotectTest, MiddlePageSplitsTheArea) {
  Mapping m(3);
  ASSERT_NE(m.addr(), nullptr);
  ASSERT_THAT(mprotect(m.page(1), PageSize(), PROT_READ), SyscallSucceeds());
  EXPECT_THAT(WriteInChild(m.page(0)), ExitedWithCode(0));
  EXPECT_THAT(WriteInChild(m.page(1)), KilledBySignal(SIGSEGV));
  EXPECT_THAT(WriteInChild(m.page(2)), ExitedWithCode(0));
  EXPECT_EQ(MapsPerms(m.page(0)), "rw-p");
  EXPECT_EQ(MapsPerms(m.page(1)), "r--p");
  EXPECT_EQ(MapsPerms(m.page(2)), "rw-p");
}

TEST(MprotectTest, RangeMayCoverSeveralAreas) {
  Mapping m(3);
  ASSERT_NE(m.addr(), nullptr);
  ASSERT_THAT(mprotect(m.page(1), PageSize(), PROT_NONE), SyscallSucceeds());
  // One call over the three areas (rw-, ---, rw-).
  ASSERT_THAT(mprotect(m.addr(), m.len(), PROT_READ), SyscallSucceeds());
  for (int i = 0; i < 3; i++) {
    EXPECT_THAT(ReadInChild(m.page(i)), ExitedWithCode(0)) << i;
    EXPECT_THAT(WriteInChild(m.page(i)), KilledBySignal(SIGSEGV)) << i;
  }
}

TEST(MprotectTest, UnknownProtectionBitsFailEinval) {
  Mapping m(1);
  ASSERT_NE(m.addr(), nullptr);
  EXPECT_THAT(mprotect(m.addr(), m.len(), 0x10 | PROT_READ),
              SyscallFailsWithErrno(EINVAL));
  // PROT_GROWSDOWN and PROT_GROWSUP together are invalid.
  EXPECT_THAT(
      mprotect(m.addr(), m.len(), PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP),
      SyscallFailsWithErrno(EINVAL));
  // PROT_GROWSDOWN is only for a MAP_GROWSDOWN area.
  EXPECT_THAT(mprotect(m.addr(), m.len(), PROT_READ | PROT_GROWSDOWN),
              SyscallFailsWithErrno(EINVAL));
}

TEST(MprotectTest, SharedFileMappingNeedsAWritableDescriptorForProtWrite) {
  TempPath f = TempPath::CreateFile(std::string(PageSize(), 'f'));
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  void* shared = mmap(nullptr, PageSize(), PROT_READ, MAP_SHARED, fd.get(), 0);
  ASSERT_NE(shared, MAP_FAILED) << strerror(errno);
  // "EACCES The memory cannot be given the specified access ... if you
  // mmap(2) a file to which you have read-only access, then ask mprotect()
  // to mark it PROT_WRITE."
  EXPECT_THAT(mprotect(shared, PageSize(), PROT_READ | PROT_WRITE),
              SyscallFailsWithErrno(EACCES));
  void* priv = mmap(nullptr, PageSize(), PROT_READ, MAP_PRIVATE, fd.get(), 0);
  ASSERT_NE(priv, MAP_FAILED) << strerror(errno);
  // A private mapping is a copy: writing it is fine.
  EXPECT_THAT(mprotect(priv, PageSize(), PROT_READ | PROT_WRITE),
              SyscallSucceeds());
  static_cast<char*>(priv)[0] = 'p';
  munmap(shared, PageSize());
  munmap(priv, PageSize());
}

TEST(MunmapTest, AddressBeyondTheUserRangeFailsEinval) {
  EXPECT_THAT(munmap(reinterpret_cast<void*>(uintptr_t{1} << 63), PageSize()),
              SyscallFailsWithErrno(EINVAL));
}

// --- madvise ---

TEST(MadviseTest, UnalignedOrUnmappedRangeFails) {
  Mapping m(3);
  ASSERT_NE(m.addr(), nullptr);
  EXPECT_THAT(madvise(m.addr() + 1, PageSize(), MADV_NORMAL),
              SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(munmap(m.page(1), PageSize()), SyscallSucceeds());
  // "ENOMEM Addresses in the specified range are not currently mapped".
  EXPECT_THAT(madvise(m.addr(), m.len(), MADV_NORMAL),
              SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(madvise(m.page(1), PageSize(), MADV_DONTNEED),
              SyscallFailsWithErrno(ENOMEM));
}

TEST(MadviseTest, AccessPatternHintsSucceed) {
  Mapping m(2);
  ASSERT_NE(m.addr(), nullptr);
  m.addr()[0] = 'h';
  for (int advice :
       {MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED}) {
    EXPECT_THAT(madvise(m.addr(), m.len(), advice), SyscallSucceeds())
        << advice;
  }
  EXPECT_EQ(m.addr()[0], 'h');
}

TEST(MadviseTest, DontneedKeepsSharedAnonymousContents) {
  // Shared anonymous memory is refilled "from the up-to-date contents of the
  // underlying mapped file" (its shmem object): nothing is lost.
  Mapping m(1, MAP_SHARED);
  ASSERT_NE(m.addr(), nullptr);
  memset(m.addr(), 's', m.len());
  ASSERT_THAT(madvise(m.addr(), m.len(), MADV_DONTNEED), SyscallSucceeds());
  EXPECT_EQ(m.addr()[0], 's');
  EXPECT_EQ(m.addr()[m.len() - 1], 's');
}

TEST(MadviseTest, DontneedOnAPrivateFileMappingRevertsToTheFile) {
  TempPath f = TempPath::CreateFile(std::string(PageSize(), 'f'));
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  void* p = mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE, MAP_PRIVATE,
                 fd.get(), 0);
  ASSERT_NE(p, MAP_FAILED) << strerror(errno);
  char* c = static_cast<char*>(p);
  c[0] = 'X';
  ASSERT_THAT(madvise(p, PageSize(), MADV_DONTNEED), SyscallSucceeds());
  // The private copy is dropped; the page is read from the file again.
  EXPECT_EQ(c[0], 'f');
  munmap(p, PageSize());
}

TEST(MadviseTest, DontneedOnLockedPagesFailsEinval) {
  Mapping m(1);
  ASSERT_NE(m.addr(), nullptr);
  ASSERT_THAT(mlock(m.addr(), m.len()), SyscallSucceeds());
  m.addr()[0] = 'l';
  // "EINVAL advice is MADV_DONTNEED or MADV_REMOVE and the specified address
  // range includes locked ... pages."
  EXPECT_THAT(madvise(m.addr(), m.len(), MADV_DONTNEED),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(m.addr()[0], 'l');
  EXPECT_THAT(munlock(m.addr(), m.len()), SyscallSucceeds());
}

TEST(MadviseTest, RemoveFreesSharedMemoryButNotPrivate) {
  Mapping shared(2, MAP_SHARED);
  ASSERT_NE(shared.addr(), nullptr);
  memset(shared.addr(), 'r', shared.len());
  ASSERT_THAT(madvise(shared.addr(), PageSize(), MADV_REMOVE),
              SyscallSucceeds());
  EXPECT_EQ(shared.addr()[0], 0);
  EXPECT_EQ(shared.page(1)[0], 'r');
  // MADV_REMOVE is for shmem-like mappings only.
  Mapping priv(1);
  ASSERT_NE(priv.addr(), nullptr);
  priv.addr()[0] = 'p';
  EXPECT_THAT(madvise(priv.addr(), priv.len(), MADV_REMOVE),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(priv.addr()[0], 'p');
}

TEST(MadviseTest, FreeIsOnlyForPrivateAnonymousMemory) {
  Mapping priv(1);
  ASSERT_NE(priv.addr(), nullptr);
  priv.addr()[0] = 'p';
  EXPECT_THAT(madvise(priv.addr(), priv.len(), MADV_FREE), SyscallSucceeds());
  Mapping shared(1, MAP_SHARED);
  ASSERT_NE(shared.addr(), nullptr);
  shared.addr()[0] = 's';
  EXPECT_THAT(madvise(shared.addr(), shared.len(), MADV_FREE),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(shared.addr()[0], 's');
}

TEST(MadviseTest, DontforkHidesTheRangeFromAForkChild) {
  Mapping m(2);
  ASSERT_NE(m.addr(), nullptr);
  memset(m.addr(), 'd', m.len());
  ASSERT_THAT(madvise(m.page(1), PageSize(), MADV_DONTFORK), SyscallSucceeds());
  EXPECT_THAT(ReadInChild(m.page(0)), ExitedWithCode(0));
  EXPECT_THAT(ReadInChild(m.page(1)), KilledBySignal(SIGSEGV));
  // MADV_DOFORK undoes it; the parent never lost the page.
  EXPECT_EQ(m.page(1)[0], 'd');
  ASSERT_THAT(madvise(m.page(1), PageSize(), MADV_DOFORK), SyscallSucceeds());
  EXPECT_THAT(ReadInChild(m.page(1)), ExitedWithCode(0));
}

TEST(MadviseTest, WipeonforkGivesAForkChildZeroes) {
  Mapping m(2);
  ASSERT_NE(m.addr(), nullptr);
  memset(m.addr(), 'w', m.len());
  ASSERT_THAT(madvise(m.page(0), PageSize(), MADV_WIPEONFORK),
              SyscallSucceeds());
  char* first = m.page(0);
  char* second = m.page(1);
  auto child = [first, second] {
    CHILD_EXPECT(first[0] == 0);
    CHILD_EXPECT(first[PageSize() - 1] == 0);
    CHILD_EXPECT(second[0] == 'w');
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
  EXPECT_EQ(first[0], 'w');
  // Only private anonymous memory can be wiped.
  Mapping shared(1, MAP_SHARED);
  ASSERT_NE(shared.addr(), nullptr);
  EXPECT_THAT(madvise(shared.addr(), shared.len(), MADV_WIPEONFORK),
              SyscallFailsWithErrno(EINVAL));
}

// --- mlock ---

TEST(MlockTest, LockAndUnlockARange) {
  Mapping m(2);
  ASSERT_NE(m.addr(), nullptr);
  // "addr is rounded down to the nearest page boundary": unaligned is fine.
  ASSERT_THAT(mlock(m.addr() + 10, 2 * PageSize() - 20), SyscallSucceeds());
  // Locked pages are resident.
  unsigned char vec[2] = {};
  ASSERT_THAT(mincore(m.addr(), m.len(), vec), SyscallSucceeds());
  EXPECT_EQ(vec[0] & 1, 1);
  EXPECT_EQ(vec[1] & 1, 1);
  EXPECT_THAT(munlock(m.addr(), m.len()), SyscallSucceeds());
  // Unlocking what is not locked is not an error.
  EXPECT_THAT(munlock(m.addr(), m.len()), SyscallSucceeds());
}

TEST(MlockTest, LockedSizeShowsInProcStatus) {
  Mapping m(4);
  ASSERT_NE(m.addr(), nullptr);
  ASSERT_THAT(mlock(m.addr(), m.len()), SyscallSucceeds());
  std::string status = ReadProcFile("/proc/self/status");
  size_t pos = status.find("VmLck:");
  ASSERT_NE(pos, std::string::npos) << status;
  long kb = strtol(status.c_str() + pos + 6, nullptr, 10);
  EXPECT_GE(kb, 4 * PageSize() / 1024);
  ASSERT_THAT(munlock(m.addr(), m.len()), SyscallSucceeds());
}

TEST(MlockTest, UnmappedRangeFailsEnomem) {
  Mapping m(3);
  ASSERT_NE(m.addr(), nullptr);
  ASSERT_THAT(munmap(m.page(1), PageSize()), SyscallSucceeds());
  EXPECT_THAT(mlock(m.addr(), m.len()), SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(munlock(m.page(1), PageSize()), SyscallFailsWithErrno(ENOMEM));
}

TEST(MlockTest, BadFlagsFailEinval) {
  Mapping m(1);
  ASSERT_NE(m.addr(), nullptr);
  EXPECT_THAT(mlock2(m.addr(), m.len(), 0x100), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mlock2(m.addr(), m.len(), MLOCK_ONFAULT), SyscallSucceeds());
  EXPECT_THAT(munlock(m.addr(), m.len()), SyscallSucceeds());
  // mlockall: "EINVAL Unknown flags were specified or MCL_ONFAULT was
  // specified without either MCL_FUTURE or MCL_CURRENT."
  EXPECT_THAT(mlockall(0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mlockall(MCL_ONFAULT), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mlockall(0x100 | MCL_FUTURE), SyscallFailsWithErrno(EINVAL));
}

// --- msync ---

TEST(MsyncTest, FlagsMustNameExactlyOneOfSyncAndAsync) {
  Mapping m(1);
  ASSERT_NE(m.addr(), nullptr);
  EXPECT_THAT(msync(m.addr(), m.len(), MS_SYNC | MS_ASYNC),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(msync(m.addr(), m.len(), 0x100), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(msync(m.addr(), m.len(), MS_ASYNC), SyscallSucceeds());
  EXPECT_THAT(msync(m.addr(), m.len(), MS_SYNC | MS_INVALIDATE),
              SyscallSucceeds());
}

TEST(MsyncTest, UnalignedAddressFailsEinval) {
  Mapping m(1);
  ASSERT_NE(m.addr(), nullptr);
  EXPECT_THAT(msync(m.addr() + 1, 10, MS_SYNC), SyscallFailsWithErrno(EINVAL));
}

TEST(MsyncTest, UnmappedRangeFailsEnomem) {
  Mapping m(3);
  ASSERT_NE(m.addr(), nullptr);
  ASSERT_THAT(munmap(m.page(1), PageSize()), SyscallSucceeds());
  EXPECT_THAT(msync(m.addr(), m.len(), MS_SYNC), SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(msync(m.page(2), PageSize(), MS_SYNC), SyscallSucceeds());
}

TEST(MsyncTest, SyncOfAFileMappingKeepsItsContents) {
  TempPath f = TempPath::CreateFile(std::string(PageSize(), 'o'));
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  void* p = mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE, MAP_SHARED,
                 fd.get(), 0);
  ASSERT_NE(p, MAP_FAILED) << strerror(errno);
  static_cast<char*>(p)[0] = 'n';
  EXPECT_THAT(msync(p, PageSize(), MS_SYNC), SyscallSucceeds());
  EXPECT_THAT(msync(p, PageSize(), MS_ASYNC | MS_INVALIDATE),
              SyscallSucceeds());
  EXPECT_EQ(static_cast<char*>(p)[0], 'n');
  EXPECT_EQ(static_cast<char*>(p)[1], 'o');
  munmap(p, PageSize());
}

}  // namespace
}  // namespace sentry::testing
