// auxv: checks the initial process stack that the loader builds: the
// argv/envp/auxv layout and the auxiliary vector entries a static program
// (glibc, musl, static-pie) relies on. Prints "OK" and exits 0.
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <sys/auxv.h>

#include "guest.h"

// Provided by the linker: the ELF header of this program, and its entry
// point (both glibc's and musl's crt1 define _start).
extern const ElfW(Ehdr) __ehdr_start;
extern char _start[];

static unsigned long aux(unsigned long type) {
  errno = 0;
  unsigned long v = getauxval(type);
  if (v == 0 && errno == ENOENT) GUEST_FAIL("auxv entry %lu missing", type);
  return v;
}

int main(int argc, char** argv, char** envp) {
  // Stack layout: argv[argc] == NULL, envp follows it, auxv follows envp.
  CHECK(argc >= 1);
  CHECK(argv[argc] == NULL);
  CHECK(envp == argv + argc + 1);
  char** e = envp;
  while (*e != NULL) e++;
  const ElfW(auxv_t)* av = (const ElfW(auxv_t)*)(e + 1);
  int seen_pagesz = 0, n = 0;
  for (; av->a_type != AT_NULL; av++, n++) {
    CHECK(n < 100);
    if (av->a_type == AT_PAGESZ) {
      CHECK(av->a_un.a_val == 4096);
      seen_pagesz = 1;
    }
    // The libc's getauxval reads the same vector (glibc substitutes its own
    // value for AT_HWCAP and AT_HWCAP2 on x86).
    if (av->a_type != AT_IGNORE && av->a_type != AT_HWCAP &&
        av->a_type != AT_HWCAP2) {
      CHECK(getauxval(av->a_type) == av->a_un.a_val);
    }
  }
  CHECK(seen_pagesz);

  CHECK(aux(AT_PAGESZ) == 4096);
  CHECK(aux(AT_CLKTCK) == 100);

  // AT_RANDOM: 16 readable bytes, not all zero.
  const unsigned char* rnd = (const unsigned char*)aux(AT_RANDOM);
  CHECK(rnd != NULL);
  int nonzero = 0;
  for (int i = 0; i < 16; i++) nonzero |= rnd[i];
  CHECK(nonzero != 0);

  // AT_PHDR/AT_PHENT/AT_PHNUM describe this program's own headers.
  CHECK(memcmp(__ehdr_start.e_ident, ELFMAG, SELFMAG) == 0);
  CHECK(aux(AT_PHENT) == sizeof(ElfW(Phdr)));
  CHECK(aux(AT_PHNUM) == __ehdr_start.e_phnum);
  const ElfW(Phdr)* phdr = (const ElfW(Phdr)*)aux(AT_PHDR);
  if ((uintptr_t)phdr != (uintptr_t)&__ehdr_start + __ehdr_start.e_phoff) {
    GUEST_FAIL("AT_PHDR %p, want %p + %#lx", (void*)phdr, (void*)&__ehdr_start,
               (unsigned long)__ehdr_start.e_phoff);
  }
  // The load bias: 0 for ET_EXEC, the load address for static-pie.
  uintptr_t bias = 0;
  int loads = 0, found_first_load = 0;
  for (size_t i = 0; i < aux(AT_PHNUM); i++) {
    if (phdr[i].p_type != PT_LOAD) continue;
    loads++;
    if (!found_first_load) {
      bias = (uintptr_t)&__ehdr_start - (phdr[i].p_vaddr - phdr[i].p_offset);
      found_first_load = 1;
    }
  }
  CHECK(loads >= 1);
  if (__ehdr_start.e_type == ET_EXEC) CHECK(bias == 0);
  CHECK((bias & 4095) == 0);
  // AT_ENTRY is the program's entry point, i.e. _start, and lies in an
  // executable PT_LOAD segment.
  CHECK(aux(AT_ENTRY) == (uintptr_t)_start);
  CHECK(aux(AT_ENTRY) == __ehdr_start.e_entry + bias);
  int entry_in_text = 0;
  for (size_t i = 0; i < aux(AT_PHNUM); i++) {
    if (phdr[i].p_type != PT_LOAD || !(phdr[i].p_flags & PF_X)) continue;
    uintptr_t lo = phdr[i].p_vaddr + bias, hi = lo + phdr[i].p_memsz;
    if ((uintptr_t)_start >= lo && (uintptr_t)_start < hi) entry_in_text = 1;
  }
  CHECK(entry_in_text);
  // No interpreter: AT_BASE is 0.
  CHECK(getauxval(AT_BASE) == 0);

  // AT_EXECFN: a NUL-terminated path naming this program (it ends with the
  // basename of argv[0]).
  const char* execfn = (const char*)aux(AT_EXECFN);
  CHECK(execfn != NULL);
  size_t len = strnlen(execfn, 4096);
  CHECK(len > 0 && len < 4096);
  const char* base = strrchr(argv[0], '/');
  base = base ? base + 1 : argv[0];
  size_t blen = strlen(base);
  if (len < blen || strcmp(execfn + len - blen, base) != 0) {
    GUEST_FAIL("AT_EXECFN \"%s\" does not end with \"%s\"", execfn, base);
  }

  // Credentials.
  CHECK(aux(AT_UID) == (unsigned long)getuid());
  CHECK(aux(AT_EUID) == (unsigned long)geteuid());
  CHECK(aux(AT_GID) == (unsigned long)getgid());
  CHECK(aux(AT_EGID) == (unsigned long)getegid());
  CHECK(aux(AT_SECURE) == 0);

  guest_dprintf(1, "OK\n");
  return 0;
}
