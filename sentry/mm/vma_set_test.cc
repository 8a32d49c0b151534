#include "sentry/mm/vma_set.h"

#include <sys/mman.h>

#include "gtest/gtest.h"

namespace sentry::mm {
namespace {

constexpr uint64_t kP = 4096;

Vma Area(uint64_t start, uint64_t end, uint64_t offset = 0,
         int prot = PROT_READ) {
  Vma v;
  v.start = start;
  v.end = end;
  v.offset = offset;
  v.prot = prot;
  return v;
}

TEST(VmaSetTest, FindAndFreeness) {
  VmaSet set;
  set.Insert(Area(10 * kP, 20 * kP));
  EXPECT_EQ(set.Find(9 * kP), nullptr);
  ASSERT_NE(set.Find(10 * kP), nullptr);
  ASSERT_NE(set.Find(20 * kP - 1), nullptr);
  EXPECT_EQ(set.Find(20 * kP), nullptr);
  EXPECT_TRUE(set.IsFree(0, 10 * kP));
  EXPECT_TRUE(set.IsFree(20 * kP, 30 * kP));
  EXPECT_FALSE(set.IsFree(19 * kP, 21 * kP));
  EXPECT_FALSE(set.IsFree(5 * kP, 11 * kP));
  EXPECT_FALSE(set.IsFree(12 * kP, 13 * kP));
}

TEST(VmaSetTest, RemoveMiddleSplitsAndAdjustsOffsets) {
  VmaSet set;
  set.Insert(Area(10 * kP, 20 * kP, 100 * kP));
  std::vector<Vma> removed = set.Remove(12 * kP, 15 * kP);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].start, 12 * kP);
  EXPECT_EQ(removed[0].end, 15 * kP);
  EXPECT_EQ(removed[0].offset, 102 * kP);
  std::vector<Vma> all = set.All();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].start, 10 * kP);
  EXPECT_EQ(all[0].end, 12 * kP);
  EXPECT_EQ(all[0].offset, 100 * kP);
  EXPECT_EQ(all[1].start, 15 * kP);
  EXPECT_EQ(all[1].end, 20 * kP);
  EXPECT_EQ(all[1].offset, 105 * kP);
}

TEST(VmaSetTest, RemoveAcrossSeveralAreasAndHoles) {
  VmaSet set;
  set.Insert(Area(10 * kP, 20 * kP));
  set.Insert(Area(30 * kP, 40 * kP));
  set.Insert(Area(50 * kP, 60 * kP));
  std::vector<Vma> removed = set.Remove(15 * kP, 55 * kP);
  ASSERT_EQ(removed.size(), 3u);
  EXPECT_EQ(removed[0].start, 15 * kP);
  EXPECT_EQ(removed[1].start, 30 * kP);
  EXPECT_EQ(removed[2].end, 55 * kP);
  EXPECT_TRUE(set.IsFree(15 * kP, 55 * kP));
  EXPECT_EQ(set.size(), 2u);
}

TEST(VmaSetTest, RemoveNothingIsHarmless) {
  VmaSet set;
  set.Insert(Area(10 * kP, 20 * kP));
  EXPECT_TRUE(set.Remove(30 * kP, 40 * kP).empty());
  EXPECT_EQ(set.size(), 1u);
}

TEST(VmaSetTest, ProtectSplits) {
  VmaSet set;
  set.Insert(Area(10 * kP, 20 * kP, 0, PROT_READ | PROT_WRITE));
  set.Protect(12 * kP, 14 * kP, PROT_READ);
  std::vector<Vma> all = set.All();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].prot, PROT_READ | PROT_WRITE);
  EXPECT_EQ(all[1].prot, PROT_READ);
  EXPECT_EQ(all[1].start, 12 * kP);
  EXPECT_EQ(all[1].end, 14 * kP);
  EXPECT_EQ(all[2].prot, PROT_READ | PROT_WRITE);
}

TEST(VmaSetTest, FullyMapped) {
  VmaSet set;
  set.Insert(Area(10 * kP, 20 * kP));
  set.Insert(Area(20 * kP, 30 * kP));
  EXPECT_TRUE(set.IsFullyMapped(10 * kP, 30 * kP));
  EXPECT_TRUE(set.IsFullyMapped(15 * kP, 25 * kP));
  set.Remove(22 * kP, 23 * kP);
  EXPECT_FALSE(set.IsFullyMapped(15 * kP, 25 * kP));
  EXPECT_FALSE(set.IsFullyMapped(5 * kP, 12 * kP));
}

TEST(VmaSetTest, FindGapTopDown) {
  VmaSet set;
  // Empty: the top of the range.
  EXPECT_EQ(set.FindGapTopDown(2 * kP, 0, 100 * kP), 98 * kP);
  set.Insert(Area(90 * kP, 100 * kP));
  EXPECT_EQ(set.FindGapTopDown(2 * kP, 0, 100 * kP), 88 * kP);
  set.Insert(Area(80 * kP, 89 * kP));
  // The 1-page hole at 89 is too small; below 80 fits.
  EXPECT_EQ(set.FindGapTopDown(2 * kP, 0, 100 * kP), 78 * kP);
  EXPECT_EQ(set.FindGapTopDown(kP, 0, 100 * kP), 89 * kP);
  // Area straddling `hi`.
  EXPECT_EQ(set.FindGapTopDown(kP, 0, 95 * kP), 89 * kP);
  // Nothing fits above `lo`.
  EXPECT_EQ(set.FindGapTopDown(5 * kP, 76 * kP, 100 * kP), std::nullopt);
  EXPECT_EQ(set.FindGapTopDown(4 * kP, 76 * kP, 100 * kP), 76 * kP);
  EXPECT_EQ(set.FindGapTopDown(200 * kP, 0, 100 * kP), std::nullopt);
}

TEST(VmaSetTest, CountAfterSplit) {
  VmaSet set;
  set.Insert(Area(10 * kP, 20 * kP));
  EXPECT_EQ(set.CountAfterSplit(10 * kP, 20 * kP), 1u);
  EXPECT_EQ(set.CountAfterSplit(12 * kP, 20 * kP), 2u);
  EXPECT_EQ(set.CountAfterSplit(12 * kP, 14 * kP), 3u);
}

}  // namespace
}  // namespace sentry::mm
