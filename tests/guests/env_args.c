// env_args [--all] [NAME...]: prints argc/argv, then for each NAME either
// "NAME=value" or "NAME is unset". With --all it also prints every entry of
// the environment in order, so a comparison with a native run proves the
// guest received exactly the caller's environment.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv, char** envp) {
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++) printf("argv[%d]=<%s>\n", i, argv[i]);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--all") == 0) {
      int n = 0;
      for (char** e = envp; *e != NULL; e++, n++) printf("env: <%s>\n", *e);
      printf("envc=%d\n", n);
      continue;
    }
    const char* value = getenv(argv[i]);
    if (value == NULL) {
      printf("%s is unset\n", argv[i]);
    } else {
      printf("%s=<%s>\n", argv[i], value);
    }
  }
  return 0;
}
