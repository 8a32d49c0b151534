// hello: prints a greeting and its arguments to stdout (through stdio, so the
// libc's buffering and flush-at-exit path is exercised), one line to stderr,
// and exits 0.
#include <stdio.h>

int main(int argc, char** argv) {
  printf("hello, world\n");
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  fprintf(stderr, "hello, stderr\n");
  return 0;
}
