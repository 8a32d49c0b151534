// abort_prog: announces itself on stdout with a raw write, then calls
// abort(), which must kill it with SIGABRT (a shell reports 134).
//
// abort() uses rt_sigprocmask and raise(), i.e. getpid/gettid + tgkill in
// glibc and musl; if signal delivery is missing the libc falls back to
// other ways of dying (glibc: SIGSEGV/hlt), which the test reports.
#include <stdlib.h>

#include "guest.h"

int main(void) {
  static const char kMsg[] = "about to abort\n";
  guest_write_all(1, kMsg, sizeof(kMsg) - 1);
  abort();
}
