// mremap(2) from the man page: shrinking and growing in place, moving
// (MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP), what moves with the
// mapping (contents, protection, file pages), duplicating a shared mapping
// with old_size 0, and the errors.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

namespace sentry::testing {
namespace {

long PageSize() { return sysconf(_SC_PAGESIZE); }

// Owns a mapping that mremap may move or resize: update with set().
class Mapping {
 public:
  explicit Mapping(size_t pages, int flags = MAP_PRIVATE | MAP_ANONYMOUS,
                   int prot = PROT_READ | PROT_WRITE, int fd = -1)
      : len_(pages * PageSize()) {
    void* p = mmap(nullptr, len_, prot, flags, fd, 0);
    EXPECT_NE(p, MAP_FAILED) << strerror(errno);
    addr_ = p == MAP_FAILED ? nullptr : static_cast<char*>(p);
  }
  // Takes over [addr, addr + len), e.g. a range mremap returned.
  Mapping(void* addr, size_t len)
      : len_(len), addr_(static_cast<char*>(addr)) {}
  ~Mapping() {
    if (addr_ != nullptr) munmap(addr_, len_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  char* addr() const { return addr_; }
  char* page(size_t i) const { return addr_ + i * PageSize(); }
  size_t len() const { return len_; }
  void set(void* addr, size_t len) {
    addr_ = static_cast<char*>(addr);
    len_ = len;
  }

 private:
  size_t len_;
  char* addr_;
};

// Whether [p, p + len) is mapped at all (msync fails with ENOMEM on holes).
bool IsMapped(void* p, size_t len) { return msync(p, len, MS_ASYNC) == 0; }

int AccessInChild(volatile char* p, bool write) {
  return ForkAndWait([p, write] {
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);  // no core file from the fault
    if (write) {
      *p = 1;
    } else {
      char c = *p;
      (void)c;
    }
    return 0;
  });
}

TEST(MremapTest, ShrinkStaysInPlaceAndUnmapsTheTail) {
  Mapping m(4);
  ASSERT_NE(m.addr(), nullptr);
  memset(m.addr(), 's', m.len());
  void* p = mremap(m.addr(), m.len(), PageSize(), 0);
  ASSERT_EQ(p, m.addr()) << strerror(errno);
  char* tail = m.page(1);
  m.set(p, PageSize());
  EXPECT_EQ(m.addr()[PageSize() - 1], 's');
  EXPECT_FALSE(IsMapped(tail, 3 * PageSize()));
}

TEST(MremapTest, GrowsInPlaceWhenTheNextPagesAreFree) {
  Mapping m(4);
  ASSERT_NE(m.addr(), nullptr);
  // Free the last three pages, then grow the first back over them.
  ASSERT_THAT(munmap(m.page(1), 3 * PageSize()), SyscallSucceeds());
  m.addr()[0] = 'g';
  void* p = mremap(m.addr(), PageSize(), 4 * PageSize(), 0);
  ASSERT_EQ(p, m.addr()) << strerror(errno);
  EXPECT_EQ(m.addr()[0], 'g');
  EXPECT_EQ(m.page(3)[PageSize() - 1], 0);
  m.page(3)[0] = 'e';
}

TEST(MremapTest, MaymoveKeepsTheAddressWhenItCanGrowInPlace) {
  Mapping m(4);
  ASSERT_NE(m.addr(), nullptr);
  ASSERT_THAT(munmap(m.page(2), 2 * PageSize()), SyscallSucceeds());
  void* p = mremap(m.addr(), 2 * PageSize(), 4 * PageSize(), MREMAP_MAYMOVE);
  ASSERT_NE(p, MAP_FAILED) << strerror(errno);
  m.set(p, 4 * PageSize());
  EXPECT_EQ(p, m.addr());
}

TEST(MremapTest, MovedMappingKeepsItsProtection) {
  Mapping m(1);
  Mapping blocker(1);  // keeps the page after `m` busy so it must move
  ASSERT_NE(m.addr(), nullptr);
  m.addr()[0] = 'q';
  ASSERT_THAT(mprotect(m.addr(), m.len(), PROT_READ), SyscallSucceeds());
  void* p = mremap(m.addr(), PageSize(), 8 * PageSize(), MREMAP_MAYMOVE);
  ASSERT_NE(p, MAP_FAILED) << strerror(errno);
  m.set(p, 8 * PageSize());
  EXPECT_EQ(m.addr()[0], 'q');
  EXPECT_THAT(AccessInChild(m.addr(), false), ExitedWithCode(0));
  EXPECT_THAT(AccessInChild(m.page(7), true), KilledBySignal(SIGSEGV));
}

TEST(MremapTest, GrowingAFileMappingMapsMoreOfTheFile) {
  std::string contents(PageSize(), 'A');
  contents.append(PageSize(), 'B');
  TempPath f = TempPath::CreateFile(contents);
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  Mapping m(1, MAP_PRIVATE, PROT_READ, fd.get());
  ASSERT_NE(m.addr(), nullptr);
  void* p = mremap(m.addr(), PageSize(), 2 * PageSize(), MREMAP_MAYMOVE);
  ASSERT_NE(p, MAP_FAILED) << strerror(errno);
  m.set(p, 2 * PageSize());
  EXPECT_EQ(m.addr()[0], 'A');
  // The new page is the file's second page.
  EXPECT_EQ(m.page(1)[0], 'B');
}

TEST(MremapTest, MovingASharedMappingKeepsItShared) {
  Mapping m(2, MAP_SHARED | MAP_ANONYMOUS);
  Mapping dst(2);
  ASSERT_NE(m.addr(), nullptr);
  ASSERT_NE(dst.addr(), nullptr);
  m.addr()[0] = 'm';
  void* p = mremap(m.addr(), m.len(), m.len(), MREMAP_MAYMOVE | MREMAP_FIXED,
                   dst.addr());
  ASSERT_EQ(p, dst.addr()) << strerror(errno);
  m.set(nullptr, 0);
  volatile char* c = dst.addr();
  EXPECT_EQ(c[0], 'm');
  auto child = [c] {
    c[0] = 'x';
    c[PageSize()] = 'y';
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
  EXPECT_EQ(c[0], 'x');
  EXPECT_EQ(c[PageSize()], 'y');
}

TEST(MremapTest, OldSizeZeroDuplicatesASharedMapping) {
  // "If the value of old_size is zero, and old_address refers to a shareable
  // mapping, then mremap() will create a new mapping of the same pages."
  Mapping m(1, MAP_SHARED | MAP_ANONYMOUS);
  ASSERT_NE(m.addr(), nullptr);
  void* p = mremap(m.addr(), 0, PageSize(), MREMAP_MAYMOVE);
  ASSERT_NE(p, MAP_FAILED) << strerror(errno);
  Mapping dup(p, PageSize());
  EXPECT_NE(p, m.addr());
  m.addr()[0] = 'd';
  EXPECT_EQ(dup.addr()[0], 'd');
  dup.addr()[1] = 'u';
  EXPECT_EQ(m.addr()[1], 'u');
}

TEST(MremapTest, OldSizeZeroOfAPrivateMappingFailsEinval) {
  Mapping m(1);
  ASSERT_NE(m.addr(), nullptr);
  EXPECT_EQ(mremap(m.addr(), 0, PageSize(), MREMAP_MAYMOVE), MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
}

TEST(MremapTest, DontunmapLeavesTheOldRangeMappedAndEmpty) {
  Mapping m(2);
  ASSERT_NE(m.addr(), nullptr);
  memset(m.addr(), 'o', m.len());
  // Without MREMAP_FIXED new_address is still read, as a hint.
  void* p = mremap(m.addr(), m.len(), m.len(),
                   MREMAP_MAYMOVE | MREMAP_DONTUNMAP, nullptr);
  ASSERT_NE(p, MAP_FAILED) << strerror(errno);
  Mapping moved(p, m.len());
  EXPECT_NE(p, m.addr());
  EXPECT_EQ(moved.addr()[0], 'o');
  EXPECT_EQ(moved.page(1)[PageSize() - 1], 'o');
  // The old private anonymous range stays mapped; touching it gives
  // zero-filled pages.
  EXPECT_TRUE(IsMapped(m.addr(), m.len()));
  EXPECT_EQ(m.addr()[0], 0);
  EXPECT_EQ(m.page(1)[0], 0);
}

TEST(MremapTest, DontunmapNeedsMaymoveAndTheSameSize) {
  Mapping m(2);
  ASSERT_NE(m.addr(), nullptr);
  EXPECT_EQ(mremap(m.addr(), m.len(), m.len(), MREMAP_DONTUNMAP, nullptr),
            MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(mremap(m.addr(), m.len(), 2 * m.len(),
                   MREMAP_MAYMOVE | MREMAP_DONTUNMAP, nullptr),
            MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
}

TEST(MremapTest, FixedWithoutMaymoveFailsEinval) {
  Mapping m(1);
  Mapping dst(1);
  ASSERT_NE(m.addr(), nullptr);
  ASSERT_NE(dst.addr(), nullptr);
  EXPECT_EQ(mremap(m.addr(), PageSize(), PageSize(), MREMAP_FIXED, dst.addr()),
            MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
}

TEST(MremapTest, FixedOntoAnOverlappingRangeFailsEinval) {
  Mapping m(4);
  ASSERT_NE(m.addr(), nullptr);
  EXPECT_EQ(mremap(m.addr(), 2 * PageSize(), 2 * PageSize(),
                   MREMAP_MAYMOVE | MREMAP_FIXED, m.page(1)),
            MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
  // An unaligned new_address is EINVAL too.
  EXPECT_EQ(mremap(m.addr(), PageSize(), PageSize(),
                   MREMAP_MAYMOVE | MREMAP_FIXED, m.page(3) + 1),
            MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
}

TEST(MremapTest, BadArgumentsFailEinval) {
  Mapping m(2);
  ASSERT_NE(m.addr(), nullptr);
  // Unaligned old_address.
  EXPECT_EQ(mremap(m.addr() + 1, PageSize(), PageSize(), 0), MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
  // new_size zero.
  EXPECT_EQ(mremap(m.addr(), PageSize(), 0, MREMAP_MAYMOVE), MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
  // Unknown flags.
  EXPECT_EQ(mremap(m.addr(), PageSize(), PageSize(), 0x80), MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
}

TEST(MremapTest, UnmappedOldAddressFailsEfault) {
  Mapping m(2);
  ASSERT_NE(m.addr(), nullptr);
  ASSERT_THAT(munmap(m.page(1), PageSize()), SyscallSucceeds());
  // "EFAULT Some address in the range old_address to old_address+old_size
  // is an invalid virtual memory address for this process."
  EXPECT_EQ(mremap(m.page(1), PageSize(), 2 * PageSize(), MREMAP_MAYMOVE),
            MAP_FAILED);
  EXPECT_EQ(errno, EFAULT);
  // A range that runs past the end of its mapping, too.
  EXPECT_EQ(mremap(m.addr(), 2 * PageSize(), 4 * PageSize(), MREMAP_MAYMOVE),
            MAP_FAILED);
  EXPECT_EQ(errno, EFAULT);
}

TEST(MremapTest, ShrinkingWithinAMappingSplitsIt) {
  // Shrinking only part of an area (the middle two of four pages): the
  // pages after the new size are unmapped, the rest of the area stays.
  Mapping m(4);
  ASSERT_NE(m.addr(), nullptr);
  memset(m.addr(), 'm', m.len());
  void* p = mremap(m.page(1), 2 * PageSize(), PageSize(), 0);
  ASSERT_EQ(p, m.page(1)) << strerror(errno);
  EXPECT_TRUE(IsMapped(m.page(0), 2 * PageSize()));
  EXPECT_FALSE(IsMapped(m.page(2), PageSize()));
  EXPECT_TRUE(IsMapped(m.page(3), PageSize()));
  EXPECT_EQ(m.page(3)[0], 'm');
  EXPECT_EQ(m.page(1)[0], 'm');
}

}  // namespace
}  // namespace sentry::testing
