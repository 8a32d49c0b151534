// mmap(2) and munmap(2) from the man page: the mapping flags, file-backed
// mappings (MAP_SHARED carries writes to the file, MAP_PRIVATE is
// copy-on-write), offsets, access faults (SIGSEGV for PROT_NONE and holes,
// SIGBUS beyond the end of the file) and the errors for bad descriptors and
// arguments.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

long PageSize() { return sysconf(_SC_PAGESIZE); }

// Unmaps [addr, addr + len) on destruction.
class ScopedMap {
 public:
  ScopedMap(void* addr, size_t len)
      : addr_(addr == MAP_FAILED ? nullptr : static_cast<char*>(addr)),
        len_(len) {}
  ~ScopedMap() {
    if (addr_ != nullptr) munmap(addr_, len_);
  }
  ScopedMap(const ScopedMap&) = delete;
  ScopedMap& operator=(const ScopedMap&) = delete;
  char* addr() const { return addr_; }
  char* page(size_t i) const { return addr_ + i * PageSize(); }
  size_t len() const { return len_; }

 private:
  char* addr_;
  size_t len_;
};

// mmap(2) of `pages` anonymous pages with `prot` and `flags` (MAP_ANONYMOUS
// added).
ScopedMap MapAnon(size_t pages, int prot = PROT_READ | PROT_WRITE,
                  int flags = MAP_PRIVATE) {
  size_t len = pages * PageSize();
  return ScopedMap(mmap(nullptr, len, prot, flags | MAP_ANONYMOUS, -1, 0), len);
}

// A file under a TempPath holding `pages` pages, page i filled with 'a' + i.
std::string PagesOfLetters(size_t pages) {
  std::string s;
  for (size_t i = 0; i < pages; i++) s.append(PageSize(), 'a' + i);
  return s;
}

// A child that is about to fault must not leave a core file behind.
void NoCoreDump() {
  struct rlimit rl = {0, 0};
  setrlimit(RLIMIT_CORE, &rl);
}

// Whether the byte at `p` can be read: reads it in a forked child and
// returns its wait status (exit 0 when the read worked).
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

// --- anonymous mappings ---

TEST(MmapTest, AnonymousMappingIsZeroFilledAndWritable) {
  ScopedMap m = MapAnon(4);
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(m.addr()) % PageSize(), 0u);
  std::vector<char> zeros(m.len(), 0);
  EXPECT_EQ(memcmp(m.addr(), zeros.data(), m.len()), 0);
  memset(m.addr(), 0x5a, m.len());
  EXPECT_EQ(m.addr()[m.len() - 1], 0x5a);
}

TEST(MmapTest, LengthIsRoundedUpToAWholePage) {
  // "the length ... is rounded up to a multiple of the page size": the rest
  // of the last page is mapped too.
  void* p = mmap(nullptr, 10, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ScopedMap m(p, PageSize());
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  m.addr()[PageSize() - 1] = 'x';
  EXPECT_EQ(m.addr()[PageSize() - 1], 'x');
  unsigned char vec;
  EXPECT_THAT(mincore(m.addr(), PageSize(), &vec), SyscallSucceeds());
}

TEST(MmapTest, HintIsOnlyAHintWithoutMapFixed) {
  // An unaligned hint is not an error without MAP_FIXED: the kernel picks
  // a page-aligned address.
  void* p = mmap(reinterpret_cast<void*>(0x12345), PageSize(), PROT_READ,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ScopedMap m(p, PageSize());
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(m.addr()) % PageSize(), 0u);
}

TEST(MmapTest, MapFixedReplacesTheExistingMapping) {
  ScopedMap m = MapAnon(3);
  ASSERT_NE(m.addr(), nullptr);
  memset(m.addr(), 'x', m.len());
  // "If the memory region specified by addr and length overlaps pages of
  // any existing mapping(s), then the overlapped part of the existing
  // mapping(s) will be discarded."
  void* p = mmap(m.page(1), PageSize(), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  ASSERT_EQ(p, m.page(1)) << strerror(errno);
  EXPECT_EQ(m.page(0)[0], 'x');
  EXPECT_EQ(m.page(1)[0], 0);
  EXPECT_EQ(m.page(1)[PageSize() - 1], 0);
  EXPECT_EQ(m.page(2)[0], 'x');
}

TEST(MmapTest, MapFixedNoreplaceOverAMappingFailsEexist) {
  ScopedMap m = MapAnon(2);
  ASSERT_NE(m.addr(), nullptr);
  m.addr()[0] = 'k';
  // Overlapping only the second page is enough.
  void* p = mmap(m.page(1), 2 * PageSize(), PROT_READ,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  EXPECT_EQ(p, MAP_FAILED);
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(m.addr()[0], 'k');
}

TEST(MmapTest, MapFixedNoreplaceOnAFreeRangeMapsThere) {
  ScopedMap m = MapAnon(3);
  ASSERT_NE(m.addr(), nullptr);
  char* hole = m.page(1);
  ASSERT_THAT(munmap(hole, PageSize()), SyscallSucceeds());
  void* p = mmap(hole, PageSize(), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  EXPECT_EQ(p, hole) << strerror(errno);
  if (p != MAP_FAILED) {
    hole[0] = 1;
    EXPECT_EQ(hole[0], 1);
  }
}

TEST(MmapTest, PopulateAndNoreserveAreAccepted) {
  ScopedMap populated =
      MapAnon(4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_POPULATE);
  ASSERT_NE(populated.addr(), nullptr) << strerror(errno);
  // MAP_POPULATE prefaults the pages: they are resident at once.
  unsigned char vec[4] = {};
  ASSERT_THAT(mincore(populated.addr(), populated.len(), vec),
              SyscallSucceeds());
  for (int i = 0; i < 4; i++) EXPECT_EQ(vec[i] & 1, 1) << "page " << i;
  EXPECT_EQ(populated.addr()[0], 0);

  ScopedMap noreserve =
      MapAnon(4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
  ASSERT_NE(noreserve.addr(), nullptr) << strerror(errno);
  noreserve.page(3)[5] = 'n';
  EXPECT_EQ(noreserve.page(3)[5], 'n');
}

TEST(MmapTest, SharedAnonymousMemoryIsSharedWithAForkChild) {
  ScopedMap m = MapAnon(1, PROT_READ | PROT_WRITE, MAP_SHARED);
  ASSERT_NE(m.addr(), nullptr);
  volatile char* p = m.addr();
  auto child = [p] {
    p[0] = 's';
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
  EXPECT_EQ(p[0], 's');
}

TEST(MmapTest, PrivateAnonymousMemoryIsCopiedForAForkChild) {
  ScopedMap m = MapAnon(1);
  ASSERT_NE(m.addr(), nullptr);
  volatile char* p = m.addr();
  p[0] = 'p';
  auto child = [p] {
    CHILD_EXPECT(p[0] == 'p');
    p[0] = 'c';
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
  EXPECT_EQ(p[0], 'p');
}

// --- file mappings ---

TEST(MmapTest, FileMappingShowsTheFileContents) {
  TempPath f = TempPath::CreateFile(PagesOfLetters(2));
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ScopedMap m(
      mmap(nullptr, 2 * PageSize(), PROT_READ, MAP_PRIVATE, fd.get(), 0),
      2 * PageSize());
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  EXPECT_EQ(m.page(0)[0], 'a');
  EXPECT_EQ(m.page(0)[PageSize() - 1], 'a');
  EXPECT_EQ(m.page(1)[0], 'b');
}

TEST(MmapTest, OffsetSelectsTheFilePage) {
  TempPath f = TempPath::CreateFile(PagesOfLetters(3));
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ScopedMap m(mmap(nullptr, PageSize(), PROT_READ, MAP_SHARED, fd.get(),
                   2 * PageSize()),
              PageSize());
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  EXPECT_EQ(m.addr()[0], 'c');
  EXPECT_EQ(m.addr()[PageSize() - 1], 'c');
}

TEST(MmapTest, MappingOutlivesTheDescriptor) {
  TempPath f = TempPath::CreateFile("still here");
  int fd = open(f.path().c_str(), O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  ScopedMap m(mmap(nullptr, PageSize(), PROT_READ, MAP_PRIVATE, fd, 0),
              PageSize());
  ASSERT_THAT(close(fd), SyscallSucceeds());
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  EXPECT_EQ(std::string(m.addr(), 10), "still here");
}

TEST(MmapTest, SharedFileWritesReachTheFile) {
  TempPath f = TempPath::CreateFile(PagesOfLetters(1));
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ScopedMap m(mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE, MAP_SHARED,
                   fd.get(), 0),
              PageSize());
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  memcpy(m.addr() + 100, "shared", 6);
  ASSERT_THAT(msync(m.addr(), PageSize(), MS_SYNC), SyscallSucceeds());
  // Read back through another open file description.
  FileDescriptor other(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(other.get(), SyscallSucceeds());
  char buf[6];
  ASSERT_THAT(pread(other.get(), buf, sizeof(buf), 100),
              SyscallSucceedsWithValue(6));
  EXPECT_EQ(std::string(buf, 6), "shared");
}

TEST(MmapTest, FileWritesAreSeenThroughASharedMapping) {
  TempPath f = TempPath::CreateFile(PagesOfLetters(1));
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ScopedMap m(mmap(nullptr, PageSize(), PROT_READ, MAP_SHARED, fd.get(), 0),
              PageSize());
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  ASSERT_THAT(pwrite(fd.get(), "new", 3, 7), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(m.addr() + 7, 3), "new");
}

TEST(MmapTest, SharedFileMappingIsSharedWithAForkChild) {
  TempPath f = TempPath::CreateFile(PagesOfLetters(1));
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ScopedMap m(mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE, MAP_SHARED,
                   fd.get(), 0),
              PageSize());
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  volatile char* p = m.addr();
  auto child = [p] {
    p[1] = 'Z';
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
  EXPECT_EQ(p[1], 'Z');
}

TEST(MmapTest, PrivateFileWritesAreNotCarriedToTheFile) {
  TempPath f = TempPath::CreateFile(PagesOfLetters(1));
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ScopedMap m(mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE, MAP_PRIVATE,
                   fd.get(), 0),
              PageSize());
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  m.addr()[0] = 'P';
  ASSERT_THAT(msync(m.addr(), PageSize(), MS_SYNC), SyscallSucceeds());
  char c;
  ASSERT_THAT(pread(fd.get(), &c, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, 'a');
  // A second private mapping of the same file does not see the copy either.
  ScopedMap other(
      mmap(nullptr, PageSize(), PROT_READ, MAP_PRIVATE, fd.get(), 0),
      PageSize());
  ASSERT_NE(other.addr(), nullptr);
  EXPECT_EQ(other.addr()[0], 'a');
  EXPECT_EQ(m.addr()[0], 'P');
}

TEST(MmapTest, TailOfTheLastPageBeyondEofIsZero) {
  TempPath f = TempPath::CreateFile("0123456789");
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ScopedMap m(mmap(nullptr, PageSize(), PROT_READ, MAP_PRIVATE, fd.get(), 0),
              PageSize());
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  EXPECT_EQ(m.addr()[9], '9');
  // "the remaining bytes in the partial page at the end of the mapping are
  // zeroed".
  EXPECT_EQ(m.addr()[10], 0);
  EXPECT_EQ(m.addr()[PageSize() - 1], 0);
}

TEST(MmapTest, AccessToAPageBeyondEofIsSigbus) {
  TempPath f = TempPath::CreateFile("short file");
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  // Mapping past the end of the file is allowed; touching a page with no
  // file behind it raises SIGBUS.
  ScopedMap m(mmap(nullptr, 3 * PageSize(), PROT_READ, MAP_SHARED, fd.get(), 0),
              3 * PageSize());
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  EXPECT_THAT(ReadInChild(m.page(0)), ExitedWithCode(0));
  EXPECT_THAT(ReadInChild(m.page(1)), KilledBySignal(SIGBUS));
  EXPECT_THAT(ReadInChild(m.page(2) + 17), KilledBySignal(SIGBUS));
}

TEST(MmapTest, PageBeyondEofBecomesAccessibleWhenTheFileGrows) {
  TempPath f = TempPath::CreateFile("x");
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ScopedMap m(mmap(nullptr, 2 * PageSize(), PROT_READ, MAP_SHARED, fd.get(), 0),
              2 * PageSize());
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  EXPECT_THAT(ReadInChild(m.page(1)), KilledBySignal(SIGBUS));
  ASSERT_THAT(pwrite(fd.get(), "y", 1, PageSize() + 3),
              SyscallSucceedsWithValue(1));
  EXPECT_EQ(m.page(1)[3], 'y');
  EXPECT_EQ(m.page(1)[0], 0);
}

// --- protection faults and holes ---

TEST(MmapTest, ProtNonePageFaultsWithSigsegv) {
  ScopedMap m = MapAnon(1, PROT_NONE);
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  EXPECT_THAT(ReadInChild(m.addr()), KilledBySignal(SIGSEGV));
  EXPECT_THAT(WriteInChild(m.addr()), KilledBySignal(SIGSEGV));
}

TEST(MmapTest, WriteToAReadOnlyMappingFaultsWithSigsegv) {
  ScopedMap m = MapAnon(1, PROT_READ);
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  EXPECT_THAT(ReadInChild(m.addr()), ExitedWithCode(0));
  EXPECT_THAT(WriteInChild(m.addr()), KilledBySignal(SIGSEGV));
}

TEST(MmapTest, MunmapOfTheMiddleLeavesAHole) {
  ScopedMap m = MapAnon(3);
  ASSERT_NE(m.addr(), nullptr);
  memset(m.addr(), 'h', m.len());
  ASSERT_THAT(munmap(m.page(1), PageSize()), SyscallSucceeds());
  EXPECT_EQ(m.page(0)[PageSize() - 1], 'h');
  EXPECT_EQ(m.page(2)[0], 'h');
  EXPECT_THAT(ReadInChild(m.page(1)), KilledBySignal(SIGSEGV));
  // A new mapping can take the hole's place.
  void* p = mmap(m.page(1), PageSize(), PROT_READ,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  EXPECT_EQ(p, m.page(1));
}

TEST(MmapTest, MunmapOfAPartialPageUnmapsTheWholePage) {
  ScopedMap m = MapAnon(2);
  ASSERT_NE(m.addr(), nullptr);
  // The length is rounded up: one byte unmaps the whole first page.
  ASSERT_THAT(munmap(m.addr(), 1), SyscallSucceeds());
  EXPECT_THAT(ReadInChild(m.addr() + PageSize() - 1), KilledBySignal(SIGSEGV));
  EXPECT_THAT(ReadInChild(m.page(1)), ExitedWithCode(0));
}

TEST(MmapTest, MunmapAcrossSeveralMappingsUnmapsThemAll) {
  // Three adjacent mappings with different protections (separate areas).
  ScopedMap m = MapAnon(3);
  ASSERT_NE(m.addr(), nullptr);
  ASSERT_THAT(mprotect(m.page(1), PageSize(), PROT_READ), SyscallSucceeds());
  ASSERT_THAT(munmap(m.addr(), m.len()), SyscallSucceeds());
  for (int i = 0; i < 3; i++) {
    EXPECT_THAT(ReadInChild(m.page(i)), KilledBySignal(SIGSEGV)) << i;
  }
}

// --- errors ---

TEST(MmapTest, UnalignedOffsetFailsEinval) {
  TempPath f = TempPath::CreateFile(PagesOfLetters(2));
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  for (off_t off : {off_t{1}, off_t{100}, static_cast<off_t>(PageSize() + 1)}) {
    EXPECT_EQ(mmap(nullptr, PageSize(), PROT_READ, MAP_PRIVATE, fd.get(), off),
              MAP_FAILED)
        << off;
    EXPECT_EQ(errno, EINVAL) << off;
  }
}

TEST(MmapTest, BadDescriptorFailsEbadf) {
  EXPECT_EQ(mmap(nullptr, PageSize(), PROT_READ, MAP_PRIVATE, -1, 0),
            MAP_FAILED);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(mmap(nullptr, PageSize(), PROT_READ, MAP_SHARED, 12345, 0),
            MAP_FAILED);
  EXPECT_EQ(errno, EBADF);
}

TEST(MmapTest, WriteOnlyDescriptorFailsEacces) {
  // "EACCES ... a file mapping was requested, but fd is not open for
  // reading."
  TempPath f = TempPath::CreateFile(PagesOfLetters(1));
  FileDescriptor fd(open(f.path().c_str(), O_WRONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(mmap(nullptr, PageSize(), PROT_READ, MAP_PRIVATE, fd.get(), 0),
            MAP_FAILED);
  EXPECT_EQ(errno, EACCES);
  EXPECT_EQ(mmap(nullptr, PageSize(), PROT_READ, MAP_SHARED, fd.get(), 0),
            MAP_FAILED);
  EXPECT_EQ(errno, EACCES);
}

TEST(MmapTest, SharedWritableMappingOfAReadOnlyDescriptorFailsEacces) {
  TempPath f = TempPath::CreateFile(PagesOfLetters(1));
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  // "MAP_SHARED was requested and PROT_WRITE is set, but fd is not open in
  // read/write (O_RDWR) mode."
  EXPECT_EQ(mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE, MAP_SHARED,
                 fd.get(), 0),
            MAP_FAILED);
  EXPECT_EQ(errno, EACCES);
  // A private writable mapping only needs read access.
  ScopedMap m(mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE, MAP_PRIVATE,
                   fd.get(), 0),
              PageSize());
  EXPECT_NE(m.addr(), nullptr) << strerror(errno);
}

TEST(MmapTest, DirectoryAndPipeCannotBeMapped) {
  // Neither has a mmap operation: ENODEV ("The underlying filesystem of the
  // specified file does not support memory mapping").
  TempPath dir = TempPath::CreateDir();
  FileDescriptor d(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(d.get(), SyscallSucceeds());
  EXPECT_EQ(mmap(nullptr, PageSize(), PROT_READ, MAP_PRIVATE, d.get(), 0),
            MAP_FAILED);
  EXPECT_EQ(errno, ENODEV);
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor r(fds[0]), w(fds[1]);
  EXPECT_EQ(mmap(nullptr, PageSize(), PROT_READ, MAP_PRIVATE, r.get(), 0),
            MAP_FAILED);
  EXPECT_EQ(errno, ENODEV);
}

TEST(MmapTest, SharedValidateRejectsUnsupportedFlagsEopnotsupp) {
  TempPath f = TempPath::CreateFile(PagesOfLetters(1));
  FileDescriptor fd(open(f.path().c_str(), O_RDWR));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  // MAP_SHARED_VALIDATE alone is MAP_SHARED.
  ScopedMap m(
      mmap(nullptr, PageSize(), PROT_READ, MAP_SHARED_VALIDATE, fd.get(), 0),
      PageSize());
  ASSERT_NE(m.addr(), nullptr) << strerror(errno);
  EXPECT_EQ(m.addr()[0], 'a');
  // MAP_SYNC is only for DAX files: unknown to a regular file here.
  EXPECT_EQ(mmap(nullptr, PageSize(), PROT_READ | PROT_WRITE,
                 MAP_SHARED_VALIDATE | MAP_SYNC, fd.get(), 0),
            MAP_FAILED);
  EXPECT_EQ(errno, EOPNOTSUPP);
}

TEST(MmapTest, MapsFileNamesTheMappedFile) {
  TempPath f = TempPath::CreateFile(PagesOfLetters(1));
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ScopedMap m(mmap(nullptr, PageSize(), PROT_READ, MAP_PRIVATE, fd.get(), 0),
              PageSize());
  ASSERT_NE(m.addr(), nullptr);
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  char start[32];
  snprintf(start, sizeof(start), "%lx-",
           reinterpret_cast<unsigned long>(m.addr()));
  std::string maps = ReadProcFile("/proc/self/maps");
  size_t pos = maps.find(std::string("\n") + start);
  if (pos == std::string::npos && maps.rfind(start, 0) == 0) pos = 0;
  ASSERT_NE(pos, std::string::npos) << maps;
  std::string line = maps.substr(pos + 1, maps.find('\n', pos + 1) - pos - 1);
  // "address perms offset dev inode pathname": r--p, the inode and the
  // path's last component.
  EXPECT_THAT(line, ::testing::HasSubstr(" r--p 00000000 "));
  EXPECT_THAT(line,
              ::testing::HasSubstr(" " + std::to_string(st.st_ino) + " "));
  std::string base = f.path().substr(f.path().rfind('/') + 1);
  EXPECT_THAT(line, ::testing::EndsWith(base));
}

TEST(MmapTest, MapsFileShowsTheFileOffset) {
  TempPath f = TempPath::CreateFile(PagesOfLetters(3));
  FileDescriptor fd(open(f.path().c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ScopedMap m(mmap(nullptr, PageSize(), PROT_READ, MAP_SHARED, fd.get(),
                   2 * PageSize()),
              PageSize());
  ASSERT_NE(m.addr(), nullptr);
  char start[32];
  snprintf(start, sizeof(start), "%lx-",
           reinterpret_cast<unsigned long>(m.addr()));
  std::string maps = "\n" + ReadProcFile("/proc/self/maps");
  size_t pos = maps.find(std::string("\n") + start);
  ASSERT_NE(pos, std::string::npos) << maps;
  std::string line = maps.substr(pos + 1, maps.find('\n', pos + 1) - pos - 1);
  char offset[32];
  snprintf(offset, sizeof(offset), " r--s %08lx ", 2 * PageSize());
  EXPECT_THAT(line, ::testing::HasSubstr(offset));
}

}  // namespace
}  // namespace sentry::testing
