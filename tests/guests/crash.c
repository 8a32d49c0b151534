// crash MODE: announces itself on stdout with a raw write, then dies of a
// hardware exception chosen by MODE:
//   ill        ud2                       -> SIGILL  (132)
//   fpe        integer division by zero  -> SIGFPE  (136)
//   trap       int3                      -> SIGTRAP (133)
//   wild_read  load from an unmapped address (0xdead0000) -> SIGSEGV (139)
//   noncanonical  load from 0x8000000000000000 (#GP)      -> SIGSEGV (139)
//   exec_data  call into a non-executable page (mmap'd) -> SIGSEGV (139)
#include <string.h>
#include <sys/mman.h>

#include "guest.h"

int main(int argc, char** argv) {
  if (argc != 2)
    GUEST_FAIL("usage: crash ill|fpe|trap|wild_read|noncanonical|exec_data");
  const char* mode = argv[1];
  guest_dprintf(1, "crashing with %s\n", mode);
  if (strcmp(mode, "ill") == 0) {
    __asm__ volatile("ud2");
  } else if (strcmp(mode, "fpe") == 0) {
    // Both operands volatile: GCC rewrites 1 / x without a division.
    volatile int one = 1, zero = 0;
    volatile int x = one / zero;
    (void)x;
  } else if (strcmp(mode, "trap") == 0) {
    __asm__ volatile("int3");
  } else if (strcmp(mode, "wild_read") == 0) {
    volatile char* volatile p = (volatile char*)0xdead0000UL;
    char c = *p;
    (void)c;
  } else if (strcmp(mode, "noncanonical") == 0) {
    volatile char* volatile p = (volatile char*)0x8000000000000000UL;
    char c = *p;
    (void)c;
  } else if (strcmp(mode, "exec_data") == 0) {
    void* page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(page != MAP_FAILED);
    memset(page, 0xc3, 4096);  // ret
    void (*fn)(void) = (void (*)(void))page;
    fn();
  } else {
    GUEST_FAIL("unknown mode %s", mode);
  }
  GUEST_FAIL("still alive after %s", mode);
}
