// exit_code CODE: exits with status CODE (via exit(), i.e. exit_group).
// Prints nothing. Without an argument it exits 2.
#include <stdlib.h>

#include "guest.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    guest_dprintf(2, "usage: exit_code CODE\n");
    return 2;
  }
  exit(atoi(argv[1]));
}
