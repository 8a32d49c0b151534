// A static program for loader_test: it is loaded, never run.
#include <stdio.h>
int main(void) {
  puts("hello");
  return 0;
}
