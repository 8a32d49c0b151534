// memory: exercises brk, mmap (anonymous private and shared, hints,
// MAP_FIXED), munmap, mprotect and stack growth. Whether memory is
// accessible is probed without faulting: a syscall that reads an
// inaccessible buffer (write to stdout) or writes one (getrandom,
// clock_gettime) must fail with EFAULT. Prints "OK" and exits 0.
//
// Note: stdout must be a pipe, file or tty, not /dev/null (writes to
// /dev/null never read the buffer, so they cannot fault).
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "guest.h"

#define PAGE 4096UL
#define MiB (1024UL * 1024UL)

static uintptr_t page_up(uintptr_t x) { return (x + PAGE - 1) & ~(PAGE - 1); }

static void* map_anon(void* hint, size_t len, int prot, int flags) {
  long r = syscall(SYS_mmap, hint, len, prot, flags | MAP_ANONYMOUS, -1, 0);
  if (r == -1)
    GUEST_FAIL("mmap(%p, %zu, %d, %#x): errno %d", hint, len, prot, flags,
               errno);
  return (void*)r;
}

static void check_filled(const void* p, size_t len, unsigned char c) {
  const unsigned char* b = p;
  for (size_t i = 0; i < len; i++) {
    if (b[i] != c) GUEST_FAIL("byte %zu of %p is %#x, want %#x", i, p, b[i], c);
  }
}

// The page at p must be unreadable to the kernel: write() from it faults.
static void check_no_read(const void* p) {
  CHECK_ERRNO(syscall(SYS_write, 1, p, 1), EFAULT);
}

// The page at p must be unwritable to the kernel.
static void check_no_write(void* p) {
  CHECK_ERRNO(syscall(SYS_getrandom, p, 16, 0), EFAULT);
  CHECK_ERRNO(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, p), EFAULT);
}

static void test_brk(void) {
  uintptr_t start = (uintptr_t)syscall(SYS_brk, 0);
  CHECK(start != 0 && start != (uintptr_t)-1);
  CHECK((uintptr_t)syscall(SYS_brk, 0) == start);
  // A request below the data segment fails, which brk reports by returning
  // the unchanged break.
  CHECK((uintptr_t)syscall(SYS_brk, 1) == start);

  uintptr_t grown = start + 4 * MiB;
  CHECK((uintptr_t)syscall(SYS_brk, grown) == grown);
  CHECK((uintptr_t)syscall(SYS_brk, 0) == grown);
  unsigned char* base = (unsigned char*)page_up(start);
  size_t len = grown - (uintptr_t)base;
  check_filled(base, len, 0);
  memset(base, 0x5a, len);
  check_filled(base, len, 0x5a);

  // Shrink: the pages above the new break are gone...
  CHECK((uintptr_t)syscall(SYS_brk, start) == start);
  check_no_read(base + MiB);
  check_no_read(base + len - 1);
  // ...and come back zeroed when the break grows again.
  CHECK((uintptr_t)syscall(SYS_brk, grown) == grown);
  check_filled(base, len, 0);
  base[len - 1] = 1;
  CHECK((uintptr_t)syscall(SYS_brk, start) == start);
}

static void test_private_and_shared(void) {
  unsigned char* p =
      map_anon(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  CHECK(((uintptr_t)p & (PAGE - 1)) == 0);
  check_filled(p, 16 * PAGE, 0);
  for (size_t i = 0; i < 16 * PAGE; i++) p[i] = (unsigned char)(i * 7);
  for (size_t i = 0; i < 16 * PAGE; i++) CHECK(p[i] == (unsigned char)(i * 7));
  CHECK_OK(syscall(SYS_munmap, p, 16 * PAGE));
  check_no_read(p);
  check_no_read(p + 15 * PAGE);

  unsigned char* s =
      map_anon(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED);
  check_filled(s, 4 * PAGE, 0);
  memset(s, 0x11, 4 * PAGE);
  check_filled(s, 4 * PAGE, 0x11);
  CHECK_OK(syscall(SYS_munmap, s, 4 * PAGE));
  check_no_read(s);

  // A read-only anonymous mapping reads as zeroes.
  unsigned char* r = map_anon(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE);
  check_filled(r, 2 * PAGE, 0);
  check_no_write(r);
  CHECK_OK(syscall(SYS_munmap, r, 2 * PAGE));
}

static void test_hint_and_fixed(void) {
  // Find a free range, then ask for it as a hint: Linux uses a free hint.
  unsigned char* probe = map_anon(NULL, 8 * PAGE, PROT_NONE, MAP_PRIVATE);
  CHECK_OK(syscall(SYS_munmap, probe, 8 * PAGE));
  unsigned char* h =
      map_anon(probe, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  if (h != probe) GUEST_FAIL("hint %p not honoured, got %p", probe, h);

  // MAP_FIXED over the middle of an existing mapping replaces those pages
  // (zeroed) and leaves the rest alone.
  memset(h, 0x77, 8 * PAGE);
  unsigned char* f = map_anon(h + 2 * PAGE, 2 * PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_FIXED);
  CHECK(f == h + 2 * PAGE);
  check_filled(h, 2 * PAGE, 0x77);
  check_filled(h + 2 * PAGE, 2 * PAGE, 0);
  check_filled(h + 4 * PAGE, 4 * PAGE, 0x77);

  // MAP_FIXED shared over private.
  unsigned char* fs = map_anon(h + 6 * PAGE, PAGE, PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_FIXED);
  CHECK(fs == h + 6 * PAGE);
  check_filled(fs, PAGE, 0);
  check_filled(h + 7 * PAGE, PAGE, 0x77);

  // Unmapping a hole in the middle splits the mapping.
  CHECK_OK(syscall(SYS_munmap, h + 3 * PAGE, 2 * PAGE));
  check_filled(h, 2 * PAGE, 0x77);
  check_filled(h + 2 * PAGE, PAGE, 0);
  check_no_read(h + 3 * PAGE);
  check_no_read(h + 4 * PAGE);
  check_filled(h + 5 * PAGE, PAGE, 0x77);
  // munmap of a range that is partly unmapped already is fine.
  CHECK_OK(syscall(SYS_munmap, h, 8 * PAGE));
  for (int i = 0; i < 8; i++) check_no_read(h + i * PAGE);
  // ...and so is munmap of a range with nothing mapped at all.
  CHECK_OK(syscall(SYS_munmap, h, 8 * PAGE));
}

static void test_mprotect(void) {
  unsigned char* p =
      map_anon(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  memset(p, 'A', 3 * PAGE);

  // Read-only in the middle page: still readable, no longer writable, and
  // its neighbours keep their protection.
  CHECK_OK(syscall(SYS_mprotect, p + PAGE, PAGE, PROT_READ));
  check_filled(p + PAGE, PAGE, 'A');
  check_no_write(p + PAGE);
  check_filled(p + PAGE, PAGE, 'A');
  CHECK_OK(syscall(SYS_getrandom, p + PAGE - 16, 16, 0));
  CHECK_OK(syscall(SYS_getrandom, p + 2 * PAGE, 16, 0));

  // No access at all.
  CHECK_OK(syscall(SYS_mprotect, p + PAGE, PAGE, PROT_NONE));
  check_no_read(p + PAGE);
  check_no_read(p + 2 * PAGE - 1);
  check_no_write(p + PAGE);

  // Back to read-write: the contents survived.
  CHECK_OK(syscall(SYS_mprotect, p + PAGE, PAGE, PROT_READ | PROT_WRITE));
  check_filled(p + PAGE, PAGE, 'A');
  CHECK_OK(syscall(SYS_getrandom, p + PAGE, 16, 0));
  p[PAGE] = 'B';
  CHECK(p[PAGE] == 'B');
  CHECK_OK(syscall(SYS_munmap, p, 3 * PAGE));

  // mprotect of a range that is not (entirely) mapped fails with ENOMEM.
  CHECK_ERRNO(syscall(SYS_mprotect, p, PAGE, PROT_READ), ENOMEM);
}

static void test_invalid_arguments(void) {
  unsigned char* p =
      map_anon(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  CHECK_ERRNO(
      syscall(SYS_mmap, NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
      EINVAL);
  // Neither MAP_PRIVATE nor MAP_SHARED.
  CHECK_ERRNO(syscall(SYS_mmap, NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0),
              EINVAL);
  // MAP_FIXED at an unaligned address.
  CHECK_ERRNO(syscall(SYS_mmap, p + 1, PAGE, PROT_READ,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
              EINVAL);
  // Unaligned offset.
  CHECK_ERRNO(syscall(SYS_mmap, NULL, PAGE, PROT_READ,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 1),
              EINVAL);
  CHECK_ERRNO(syscall(SYS_munmap, p + 1, PAGE), EINVAL);
  CHECK_ERRNO(syscall(SYS_munmap, p, 0), EINVAL);
  CHECK_ERRNO(syscall(SYS_mprotect, p + 1, PAGE, PROT_READ), EINVAL);
  // None of that disturbed the mapping.
  check_filled(p, 2 * PAGE, 0);
  CHECK_OK(syscall(SYS_munmap, p, 2 * PAGE));
}

static void test_large_sparse(void) {
  const size_t len = 256 * MiB;
  unsigned char* p = map_anon(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  for (size_t off = 0; off < len; off += MiB) {
    CHECK(p[off] == 0);
    p[off] = (unsigned char)(off / MiB + 1);
  }
  p[len - 1] = 0xee;
  for (size_t off = 0; off < len; off += MiB) {
    CHECK(p[off] == (unsigned char)(off / MiB + 1));
    CHECK(p[off + 1] == 0);
  }
  CHECK(p[len - 1] == 0xee);
  CHECK_OK(syscall(SYS_munmap, p, len));
  check_no_read(p);
  check_no_read(p + len - 1);
}

// Recurses `depth` times with a 16 KiB frame, touching every page on the
// way down so the stack grows one page at a time.
static __attribute__((noinline)) unsigned long grow_stack(int depth) {
  volatile unsigned char frame[16 * 1024];
  for (size_t i = sizeof(frame); i > 0; i -= PAGE)
    frame[i - 1] = (unsigned char)depth;
  frame[0] = (unsigned char)depth;
  if (depth == 0) return frame[0];
  unsigned long below = grow_stack(depth - 1);
  return below + frame[0] + frame[sizeof(frame) - 1];  // not a tail call
}

static void test_stack_growth(void) {
  struct rlimit lim;
  CHECK_OK(syscall(SYS_prlimit64, 0, RLIMIT_STACK, NULL, &lim));
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < 4 * MiB) return;
  // 128 frames of 16 KiB: 2 MiB of stack, far beyond the initial mapping.
  unsigned long sum = grow_stack(128);
  unsigned long want = 0;
  for (int d = 1; d <= 128; d++) want += 2UL * (unsigned char)d;
  CHECK(sum == want);
}

int main(void) {
  // brk first, before stdio or malloc have touched the heap.
  test_brk();
  test_private_and_shared();
  test_hint_and_fixed();
  test_mprotect();
  test_invalid_arguments();
  test_large_sparse();
  test_stack_growth();
  guest_dprintf(1, "OK\n");
  return 0;
}
