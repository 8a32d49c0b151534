// brk(2) and sbrk(2) from the man page: the program break moves up and
// down, new heap memory is zero-filled, memory above the break is unmapped,
// and requests that cannot be met (below the heap's start, into another
// mapping, beyond RLIMIT_DATA) leave the break where it was.
//
// The raw syscall returns the new break on success and the current one on
// failure; glibc's brk() turns the latter into -1 with ENOMEM.
//
// Every case moves the break in a forked child: malloc in this process
// uses the same heap, and must not see its memory change under it.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

uintptr_t PageSize() { return sysconf(_SC_PAGESIZE); }
uintptr_t PageUp(uintptr_t a) {
  return (a + PageSize() - 1) & ~(PageSize() - 1);
}

// The raw brk(2) syscall.
uintptr_t Brk(uintptr_t addr) { return syscall(SYS_brk, addr); }

// A child that is about to fault must not leave a core file behind.
void NoCoreDump() {
  struct rlimit rl = {0, 0};
  setrlimit(RLIMIT_CORE, &rl);
}

TEST(BrkTest, QueryReturnsTheCurrentBreak) {
  auto child = [] {
    uintptr_t a = Brk(0);
    CHILD_EXPECT(a != 0);
    CHILD_EXPECT(Brk(0) == a);
    CHILD_EXPECT(reinterpret_cast<uintptr_t>(sbrk(0)) == a);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(BrkTest, GrowthIsZeroFilledAndKeepsItsContents) {
  auto child = [] {
    const uintptr_t start = Brk(0);
    const uintptr_t top = start + 64 * PageSize();
    CHILD_EXPECT(Brk(top) == top);
    char* p = reinterpret_cast<char*>(start);
    for (uintptr_t i = 0; i < top - start; i += 512) {
      CHILD_EXPECT(p[i] == 0);
    }
    memset(p, 'h', top - start);
    // Growing further keeps what is there.
    CHILD_EXPECT(Brk(top + 64 * PageSize()) == top + 64 * PageSize());
    CHILD_EXPECT(p[0] == 'h' && p[top - start - 1] == 'h');
    CHILD_EXPECT(p[top - start] == 0);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(BrkTest, UnalignedBreakIsKeptExactly) {
  auto child = [] {
    const uintptr_t start = Brk(0);
    const uintptr_t want = PageUp(start) + 5;
    // The break itself is byte-granular; the memory behind it
    // is mapped in whole pages.
    CHILD_EXPECT(Brk(want) == want);
    CHILD_EXPECT(Brk(0) == want);
    char* last = reinterpret_cast<char*>(want - 1);
    *last = 'u';
    CHILD_EXPECT(*last == 'u');
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(BrkTest, SbrkReturnsThePreviousBreak) {
  auto child = [] {
    const uintptr_t start = Brk(0);
    void* old = sbrk(3 * PageSize());
    CHILD_EXPECT(reinterpret_cast<uintptr_t>(old) == start);
    CHILD_EXPECT(Brk(0) == start + 3 * PageSize());
    old = sbrk(-static_cast<intptr_t>(PageSize()));
    CHILD_EXPECT(reinterpret_cast<uintptr_t>(old) == start + 3 * PageSize());
    CHILD_EXPECT(Brk(0) == start + 2 * PageSize());
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(BrkTest, ShrinkingUnmapsThePagesAboveTheBreak) {
  auto child = [] {
    NoCoreDump();
    const uintptr_t base = PageUp(Brk(0));
    CHILD_EXPECT(Brk(base + 4 * PageSize()) == base + 4 * PageSize());
    volatile char* p = reinterpret_cast<char*>(base);
    p[2 * PageSize()] = 1;
    CHILD_EXPECT(Brk(base) == base);
    p[2 * PageSize()] = 2;  // SIGSEGV
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), KilledBySignal(SIGSEGV));
}

TEST(BrkTest, RegrowthAfterShrinkingIsZeroFilled) {
  auto child = [] {
    const uintptr_t base = PageUp(Brk(0));
    const uintptr_t top = base + 4 * PageSize();
    CHILD_EXPECT(Brk(top) == top);
    memset(reinterpret_cast<char*>(base), 'x', top - base);
    CHILD_EXPECT(Brk(base) == base);
    CHILD_EXPECT(Brk(top) == top);
    const char* p = reinterpret_cast<const char*>(base);
    CHILD_EXPECT(p[0] == 0);
    CHILD_EXPECT(p[3 * PageSize() + 7] == 0);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(BrkTest, BreakBelowTheHeapStartIsRefused) {
  auto child = [] {
    const uintptr_t cur = Brk(0);
    CHILD_EXPECT(Brk(PageSize()) == cur);
    CHILD_EXPECT(Brk(0) == cur);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(BrkTest, HugeBreakIsRefusedWithEnomem) {
  auto child = [] {
    const uintptr_t cur = Brk(0);
    const uintptr_t huge = cur + (uintptr_t{1} << 46);
    CHILD_EXPECT(Brk(huge) == cur);
    errno = 0;
    CHILD_EXPECT(brk(reinterpret_cast<void*>(huge)) == -1);
    CHILD_EXPECT(errno == ENOMEM);
    CHILD_EXPECT(Brk(0) == cur);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(BrkTest, HeapCannotGrowIntoAnotherMapping) {
  auto child = [] {
    const uintptr_t cur = Brk(0);
    const uintptr_t blocker = PageUp(cur) + 2 * PageSize();
    void* p = mmap(reinterpret_cast<void*>(blocker), PageSize(), PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHILD_EXPECT(p == reinterpret_cast<void*>(blocker));
    CHILD_EXPECT(Brk(blocker + PageSize()) == cur);
    CHILD_EXPECT(Brk(blocker + 8 * PageSize()) == cur);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(BrkTest, RlimitDataLimitsTheHeap) {
  // setrlimit(2): RLIMIT_DATA "affects calls to brk(2), sbrk(2)".
  auto child = [] {
    const uintptr_t cur = Brk(0);
    struct rlimit rl = {1 << 20, 1 << 20};
    CHILD_EXPECT(setrlimit(RLIMIT_DATA, &rl) == 0);
    CHILD_EXPECT(Brk(cur + (64 << 20)) == cur);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(BrkTest, HeapIsNamedInProcMaps) {
  auto child = [] {
    const uintptr_t base = PageUp(Brk(0));
    const uintptr_t top = base + 2 * PageSize();
    CHILD_EXPECT(Brk(top) == top);
    // Read without malloc, which would move the break.
    static char maps[1 << 16];
    int fd = open("/proc/self/maps", O_RDONLY);
    CHILD_EXPECT(fd >= 0);
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd, maps + len, sizeof(maps) - 1 - len)) > 0) len += n;
    close(fd);
    maps[len] = '\0';
    // Some [heap] line ends at the page-rounded break.
    unsigned long hi = 0;
    for (char* line = maps; line != nullptr && *line != '\0';) {
      char* next = strchr(line, '\n');
      if (next != nullptr) *next++ = '\0';
      unsigned long lo, end;
      if (strstr(line, "[heap]") != nullptr &&
          sscanf(line, "%lx-%lx", &lo, &end) == 2 && end > hi) {
        hi = end;
      }
      line = next;
    }
    CHILD_EXPECT(hi == top);
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

TEST(BrkTest, ForkChildInheritsTheBreakAndTheHeap) {
  auto child = [] {
    const uintptr_t base = PageUp(Brk(0));
    const uintptr_t top = base + 2 * PageSize();
    CHILD_EXPECT(Brk(top) == top);
    char* p = reinterpret_cast<char*>(base);
    p[0] = 'i';
    pid_t pid = fork();
    CHILD_EXPECT(pid >= 0);
    if (pid == 0) {
      bool ok = Brk(0) == top && p[0] == 'i';
      p[0] = 'c';  // the parent's heap is a separate copy
      _exit(ok ? 0 : 1);
    }
    int status;
    CHILD_EXPECT(waitpid(pid, &status, 0) == pid);
    CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHILD_EXPECT(p[0] == 'i');
    return 0;
  };
  EXPECT_THAT(ForkAndWait(child), ExitedWithCode(0));
}

}  // namespace
}  // namespace sentry::testing
