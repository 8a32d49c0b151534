// procfs_dev: /proc, /dev and /sys as a program sees them. Values that
// differ between runs (pids, times, sizes) are checked against what the
// program knows (getpid, uname, argv), not printed; what is printed must
// match a native run exactly. Ends with "OK", exits 0.
#include <dirent.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#include "guest.h"

extern char** environ;

static void say(const char* what) { guest_dprintf(1, "%s\n", what); }

// Reads a whole file (at most 64 KiB) into a static buffer.
static const char* slurp(const char* path, long* len) {
  static char buf[65536];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) GUEST_FAIL("open(%s): %s", path, strerror(errno));
  long total = 0, n;
  while ((n = read(fd, buf + total, sizeof(buf) - 1 - total)) > 0) total += n;
  CHECK(n == 0);
  close(fd);
  buf[total] = 0;
  if (len) *len = total;
  return buf;
}

static void read_link(const char* path, char* out, size_t size) {
  long n = readlink(path, out, size - 1);
  if (n < 0) GUEST_FAIL("readlink(%s): %s", path, strerror(errno));
  out[n] = 0;
}

static int starts_with(const char* s, const char* prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void check_self(int argc, char** argv) {
  char link[256], want[256];
  read_link("/proc/self", link, sizeof(link));
  snprintf(want, sizeof(want), "%d", (int)getpid());
  CHECK(strcmp(link, want) == 0);
  read_link("/proc/thread-self", link, sizeof(link));
  snprintf(want, sizeof(want), "%d/task/%d", (int)getpid(),
           (int)syscall(SYS_gettid));
  CHECK(strcmp(link, want) == 0);
  say("self, thread-self: the caller's pid and tid");

  long len;
  const char* cmd = slurp("/proc/self/cmdline", &len);
  long off = 0;
  for (int i = 0; i < argc; i++) {
    CHECK(strcmp(cmd + off, argv[i]) == 0);
    off += strlen(argv[i]) + 1;
  }
  CHECK(off == len);
  const char* base =
      strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
  char comm[32];
  snprintf(comm, sizeof(comm), "%.15s\n", base);
  CHECK(strcmp(slurp("/proc/self/comm", NULL), comm) == 0);
  comm[strlen(comm) - 1] = 0;
  snprintf(want, sizeof(want), "%d (%s) R ", (int)getpid(), comm);
  CHECK(starts_with(slurp("/proc/self/stat", NULL), want));
  const char* status = slurp("/proc/self/status", NULL);
  snprintf(want, sizeof(want), "Name:\t%s\n", comm);
  CHECK(starts_with(status, want));
  snprintf(want, sizeof(want), "\nPid:\t%d\n", (int)getpid());
  CHECK(strstr(status, want) != NULL);
  CHECK(strstr(status, "\nSigBlk:\t") != NULL);
  const char* statm = slurp("/proc/self/statm", NULL);
  CHECK(statm[0] >= '1' && statm[0] <= '9');
  say("cmdline, comm, stat, status, statm: match argv and getpid");

  const char* env = slurp("/proc/self/environ", &len);
  CHECK(environ[0] == NULL || strcmp(env, environ[0]) == 0);
  const char* maps = slurp("/proc/self/maps", NULL);
  CHECK(strstr(maps, "[stack]\n") != NULL);
  CHECK(strstr(maps, " r-xp ") != NULL);
  CHECK(starts_with(slurp("/proc/self/limits", NULL), "Limit "));
  CHECK(strstr(slurp("/proc/self/limits", NULL), "\nMax open files ") != NULL);
  const char* mounts = slurp("/proc/self/mounts", NULL);
  CHECK(strstr(mounts, "proc /proc proc ") != NULL);
  CHECK(strstr(slurp("/proc/mounts", NULL), " /proc proc ") != NULL);
  CHECK(strstr(slurp("/proc/self/mountinfo", NULL), " /proc ") != NULL);
  char cwd[256];
  CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
  read_link("/proc/self/cwd", link, sizeof(link));
  CHECK(strcmp(link, cwd) == 0);
  read_link("/proc/self/root", link, sizeof(link));
  CHECK(strcmp(link, "/") == 0);
  say("environ, maps, limits, mounts, mountinfo, cwd, root");
}

static void check_fds(void) {
  DIR* d = opendir("/proc/self/fd");
  CHECK(d != NULL);
  int seen = 0;
  for (struct dirent* e; (e = readdir(d)) != NULL;) {
    if (strcmp(e->d_name, "0") == 0 || strcmp(e->d_name, "1") == 0 ||
        strcmp(e->d_name, "2") == 0) {
      seen++;
      CHECK(e->d_type == DT_LNK);
    }
  }
  closedir(d);
  CHECK(seen == 3);
  CHECK(starts_with(slurp("/proc/self/fdinfo/1", NULL), "pos:\t"));

  int p[2];
  CHECK_OK(pipe(p));
  char path[64], buf[8];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
  struct stat st;
  CHECK_OK(stat(path, &st));
  CHECK(S_ISFIFO(st.st_mode));
  // Re-opening a pipe through /proc gives another end of the same pipe.
  int w = open(path, O_WRONLY);
  CHECK_OK(w);
  CHECK(write(w, "via", 3) == 3);
  CHECK(read(p[0], buf, sizeof(buf)) == 3 && memcmp(buf, "via", 3) == 0);
  close(w);
  close(p[0]);
  close(p[1]);
  int e = eventfd(0, 0);
  CHECK_OK(e);
  snprintf(path, sizeof(path), "/proc/self/fd/%d", e);
  char link[64];
  read_link(path, link, sizeof(link));
  guest_dprintf(1, "fd link of an eventfd: %s\n", link);
  close(e);
  say("fd/, fdinfo/: stdio listed, pipes re-openable");
}

static void check_system(void) {
  struct utsname u;
  CHECK_OK(uname(&u));
  char want[128];
  CHECK(strcmp(slurp("/proc/sys/kernel/ostype", NULL), "Linux\n") == 0);
  snprintf(want, sizeof(want), "%s\n", u.release);
  CHECK(strcmp(slurp("/proc/sys/kernel/osrelease", NULL), want) == 0);
  snprintf(want, sizeof(want), "%s\n", u.nodename);
  CHECK(strcmp(slurp("/proc/sys/kernel/hostname", NULL), want) == 0);
  snprintf(want, sizeof(want), "Linux version %s ", u.release);
  CHECK(starts_with(slurp("/proc/version", NULL), want));
  char id[64];
  snprintf(id, sizeof(id), "%s",
           slurp("/proc/sys/kernel/random/boot_id", NULL));
  CHECK(strlen(id) == 37 && id[8] == '-' && id[36] == '\n');
  CHECK(strcmp(id, slurp("/proc/sys/kernel/random/boot_id", NULL)) == 0);
  snprintf(id, sizeof(id), "%s", slurp("/proc/sys/kernel/random/uuid", NULL));
  CHECK(strlen(id) == 37);
  CHECK(strcmp(id, slurp("/proc/sys/kernel/random/uuid", NULL)) != 0);
  guest_dprintf(1, "pipe-max-size: %s",
                slurp("/proc/sys/fs/pipe-max-size", NULL));
  say("sys/kernel: ostype, osrelease and hostname match uname; ids");

  double up = 0;
  CHECK(sscanf(slurp("/proc/uptime", NULL), "%lf", &up) == 1 && up > 0);
  double l1, l5, l15;
  int running, total;
  CHECK(sscanf(slurp("/proc/loadavg", NULL), "%lf %lf %lf %d/%d", &l1, &l5,
               &l15, &running, &total) == 5);
  CHECK(strstr(slurp("/proc/cpuinfo", NULL), "processor\t: 0\n") != NULL);
  CHECK(strstr(slurp("/proc/cpuinfo", NULL), "\nflags\t\t: ") != NULL);
  CHECK(starts_with(slurp("/proc/meminfo", NULL), "MemTotal:"));
  CHECK(starts_with(slurp("/proc/stat", NULL), "cpu "));
  CHECK(strstr(slurp("/proc/stat", NULL), "\nbtime ") != NULL);
  CHECK(strstr(slurp("/proc/filesystems", NULL), "\tproc\n") != NULL);
  CHECK(starts_with(slurp("/sys/devices/system/cpu/online", NULL), "0"));
  CHECK(starts_with(slurp("/sys/devices/system/cpu/possible", NULL), "0"));
  say("uptime, loadavg, cpuinfo, meminfo, stat, filesystems, /sys cpus");
}

static void check_dev(void) {
  char buf[64];
  struct stat st;
  const struct {
    const char* path;
    unsigned major, minor;
  } nodes[] = {{"/dev/null", 1, 3},    {"/dev/zero", 1, 5},
               {"/dev/full", 1, 7},    {"/dev/random", 1, 8},
               {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
  for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
    CHECK_OK(stat(nodes[i].path, &st));
    CHECK(S_ISCHR(st.st_mode) && (st.st_mode & 0777) == 0666);
    CHECK(major(st.st_rdev) == nodes[i].major &&
          minor(st.st_rdev) == nodes[i].minor);
  }
  int fd = open("/dev/null", O_RDWR);
  CHECK_OK(fd);
  CHECK(read(fd, buf, sizeof(buf)) == 0 && write(fd, "x", 1) == 1);
  close(fd);
  fd = open("/dev/zero", O_RDONLY);
  memset(buf, 1, sizeof(buf));
  CHECK(read(fd, buf, sizeof(buf)) == sizeof(buf) && buf[0] == 0 &&
        buf[63] == 0);
  char* z = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  CHECK(z != MAP_FAILED && z[100] == 0);
  munmap(z, 4096);
  close(fd);
  fd = open("/dev/full", O_WRONLY);
  CHECK_ERRNO(write(fd, "x", 1), ENOSPC);
  close(fd);
  fd = open("/dev/urandom", O_RDONLY);
  CHECK(read(fd, buf, 32) == 32);
  close(fd);
  char link[64];
  read_link("/dev/stdin", link, sizeof(link));
  guest_dprintf(1, "/dev/stdin -> %s\n", link);
  read_link("/dev/fd", link, sizeof(link));
  guest_dprintf(1, "/dev/fd -> %s\n", link);
  CHECK_OK(stat("/dev/shm", &st));
  CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 01777) == 01777);
  say("dev: nodes, null, zero (read and mmap), full, urandom, links, shm");
}

int main(int argc, char** argv) {
  check_self(argc, argv);
  check_fds();
  check_system();
  check_dev();
  say("OK");
  return 0;
}
