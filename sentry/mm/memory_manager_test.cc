// MemoryManager against a real ptrace stub: bookkeeping, EFAULT rules and
// what the guest would see.
#include "sentry/mm/memory_manager.h"

#include <errno.h>
#include <sys/mman.h>

#include <cstring>

#include "gtest/gtest.h"
#include "platform/ptrace/ptrace_platform.h"

namespace sentry::mm {
namespace {

class MemoryManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mf = MemoryFile::Create(1ULL << 32);
    ASSERT_TRUE(mf.ok()) << mf.status();
    memory_ = std::move(*mf);
    auto platform = platform::CreatePtracePlatform(memory_->fd());
    ASSERT_TRUE(platform.ok()) << platform.status();
    platform_ = std::move(*platform);
    auto as = platform_->NewAddressSpace();
    ASSERT_TRUE(as.ok()) << as.status();
    as_ = std::move(*as);
    mm_ = std::make_unique<MemoryManager>(*memory_, *as_,
                                          platform_->MinUserAddress(),
                                          platform_->MaxUserAddress());
  }
  void TearDown() override {
    mm_.reset();
    as_.reset();
    platform_.reset();
  }

  uint64_t MapRw(uint64_t length, uint64_t addr = 0, bool fixed = false) {
    MmapRequest req;
    req.addr = addr;
    req.length = length;
    req.prot = PROT_READ | PROT_WRITE;
    req.fixed = fixed;
    auto r = mm_->Map(req);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : 0;
  }

  std::unique_ptr<MemoryFile> memory_;
  std::unique_ptr<platform::Platform> platform_;
  std::unique_ptr<platform::AddressSpace> as_;
  std::unique_ptr<MemoryManager> mm_;
};

TEST_F(MemoryManagerTest, MapCopyRoundTripAndZeroFill) {
  uint64_t a = MapRw(3 * kPageSize);
  ASSERT_NE(a, 0u);
  char zeros[64] = {}, buf[64];
  ASSERT_TRUE(mm_->CopyIn(a + 100, buf, sizeof(buf)).ok());
  EXPECT_EQ(memcmp(buf, zeros, sizeof(buf)), 0);
  const char msg[] = "across a page boundary";
  ASSERT_TRUE(mm_->CopyOut(a + kPageSize - 5, msg, sizeof(msg)).ok());
  ASSERT_TRUE(mm_->CopyIn(a + kPageSize - 5, buf, sizeof(msg)).ok());
  EXPECT_STREQ(buf, msg);
}

TEST_F(MemoryManagerTest, UnmappedAndProtectedRangesFault) {
  uint64_t a = MapRw(2 * kPageSize);
  char buf[16];
  EXPECT_EQ(mm_->CopyIn(a + 2 * kPageSize, buf, 1).error(), Errno(EFAULT));
  EXPECT_EQ(mm_->CopyIn(0, buf, 1).error(), Errno(EFAULT));
  EXPECT_EQ(mm_->CopyIn(~0ULL - 4, buf, 16).error(), Errno(EFAULT));
  // Partial: stops at the end of the mapping.
  EXPECT_EQ(mm_->CopyInPartial(a + 2 * kPageSize - 4, buf, 16), 4u);
  ASSERT_TRUE(mm_->Protect(a + kPageSize, kPageSize, PROT_READ).ok());
  EXPECT_EQ(mm_->CopyOut(a + kPageSize, buf, 1).error(), Errno(EFAULT));
  EXPECT_TRUE(mm_->CopyIn(a + kPageSize, buf, 1).ok());
  ASSERT_TRUE(mm_->Protect(a, kPageSize, PROT_NONE).ok());
  EXPECT_EQ(mm_->CopyIn(a, buf, 1).error(), Errno(EFAULT));
  // The loader may write anywhere mapped.
  EXPECT_TRUE(mm_->Poke(a, "x", 1).ok());
  EXPECT_EQ(mm_->Areas().size(), 2u);
}

TEST_F(MemoryManagerTest, UnmapMiddleAndRemap) {
  uint64_t a = MapRw(4 * kPageSize);
  ASSERT_TRUE(mm_->CopyOut(a + kPageSize, "abc", 3).ok());
  ASSERT_TRUE(mm_->Unmap(a + kPageSize, kPageSize).ok());
  char c;
  EXPECT_FALSE(mm_->CopyIn(a + kPageSize, &c, 1).ok());
  EXPECT_EQ(mm_->Areas().size(), 2u);
  // MAP_FIXED into the hole gets fresh zeroed memory.
  EXPECT_EQ(MapRw(kPageSize, a + kPageSize, /*fixed=*/true), a + kPageSize);
  ASSERT_TRUE(mm_->CopyIn(a + kPageSize, &c, 1).ok());
  EXPECT_EQ(c, 0);
}

TEST_F(MemoryManagerTest, ArgumentErrorsMatchLinux) {
  MmapRequest req;
  req.length = 0;
  EXPECT_EQ(mm_->Map(req).error(), Errno(EINVAL));
  req.length = kPageSize;
  req.fixed = true;
  req.addr = 0x1001;
  EXPECT_EQ(mm_->Map(req).error(), Errno(EINVAL));
  req.addr = 0x1000;  // below mmap_min_addr
  EXPECT_EQ(mm_->Map(req).error(), Errno(EPERM));
  EXPECT_EQ(mm_->Unmap(0x1001, kPageSize).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Unmap(0x1000, 0).error(), Errno(EINVAL));
  EXPECT_TRUE(mm_->Unmap(0x10000000, kPageSize).ok());  // nothing there
  EXPECT_EQ(mm_->Protect(0x10000000, kPageSize, PROT_READ).error(),
            Errno(ENOMEM));
  EXPECT_EQ(mm_->Protect(0x10000001, kPageSize, PROT_READ).error(),
            Errno(EINVAL));
  uint64_t a = MapRw(kPageSize);
  MmapRequest noreplace;
  noreplace.addr = a;
  noreplace.length = kPageSize;
  noreplace.noreplace = true;
  EXPECT_EQ(mm_->Map(noreplace).error(), Errno(EEXIST));
}

TEST_F(MemoryManagerTest, BrkGrowsAndShrinks) {
  const uint64_t start = 0x20000000;
  mm_->set_brk_start(start);
  EXPECT_EQ(mm_->Brk(0), start);
  EXPECT_EQ(mm_->Brk(start + 10000), start + 10000);
  char buf[4] = {1, 2, 3, 4};
  EXPECT_TRUE(mm_->CopyOut(start + 9990, buf, 4).ok());
  EXPECT_EQ(mm_->Brk(start + 100), start + 100);
  EXPECT_FALSE(mm_->CopyOut(start + 9990, buf, 4).ok());
  EXPECT_TRUE(mm_->CopyOut(start + 50, buf, 4).ok());
  // Below the start: refused, the break stays.
  EXPECT_EQ(mm_->Brk(start - kPageSize), start + 100);
  // Growing into another mapping is refused.
  MapRw(kPageSize, start + 16 * kPageSize, /*fixed=*/true);
  EXPECT_EQ(mm_->Brk(start + 20 * kPageSize), start + 100);
}

TEST_F(MemoryManagerTest, CopyInString) {
  uint64_t a = MapRw(2 * kPageSize);
  const char s[] = "hello";
  ASSERT_TRUE(mm_->CopyOut(a + 10, s, sizeof(s)).ok());
  EXPECT_EQ(*mm_->CopyInString(a + 10, 100), "hello");
  EXPECT_EQ(mm_->CopyInString(a + 10, 3).error(), Errno(ENAMETOOLONG));
  // A string running into an unmapped page faults.
  std::string fill(kPageSize, 'x');
  ASSERT_TRUE(mm_->CopyOut(a + kPageSize, fill.data(), fill.size()).ok());
  EXPECT_EQ(mm_->CopyInString(a + kPageSize, 1 << 20).error(), Errno(EFAULT));
  // One ending right at the boundary is fine.
  ASSERT_TRUE(mm_->CopyOut(a + 2 * kPageSize - 1, "", 1).ok());
  EXPECT_EQ(mm_->CopyInString(a + 2 * kPageSize - 3, 100)->size(), 2u);
}

TEST_F(MemoryManagerTest, HintsAreHonouredWhenFree) {
  uint64_t hint = 0x300000000;
  EXPECT_EQ(MapRw(kPageSize, hint), hint);
  // Taken: another address is chosen.
  uint64_t b = MapRw(kPageSize, hint);
  EXPECT_NE(b, hint);
  EXPECT_NE(b, 0u);
}

}  // namespace
}  // namespace sentry::mm
