// Drives the ptrace platform directly with hand-assembled guest code in a
// MemoryFile page: no loader, no kernel, just Switch() and its events.
#include "platform/ptrace/ptrace_platform.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "platform/ptrace/stub_process.h"

namespace sentry::platform {
namespace {

constexpr uint64_t kCodeAddr = 0x400000;
constexpr uint64_t kPage = 4096;

class PtracePlatformTest : public ::testing::Test {
 protected:
  void SetUp() override {
    memfd_ = memfd_create("test-memory", MFD_CLOEXEC);
    ASSERT_GE(memfd_, 0);
    ASSERT_EQ(ftruncate(memfd_, 16 * kPage), 0);
    auto platform = CreatePtracePlatform(memfd_);
    ASSERT_TRUE(platform.ok()) << platform.status();
    platform_ = std::move(*platform);
    auto as = platform_->NewAddressSpace();
    ASSERT_TRUE(as.ok()) << as.status();
    as_ = std::move(*as);
    ctx_ = platform_->NewContext();
  }
  void TearDown() override {
    ctx_.reset();
    as_.reset();
    platform_.reset();
    close(memfd_);
  }

  // Writes `code` at file offset 0 and maps it RX at kCodeAddr.
  void LoadCode(const std::string& code) {
    ASSERT_EQ(pwrite(memfd_, code.data(), code.size(), 0),
              static_cast<ssize_t>(code.size()));
    ASSERT_TRUE(as_->MapFile(kCodeAddr, kPage, 0, PROT_READ | PROT_EXEC).ok());
    regs_ = platform_->InitialRegisters();
    regs_.rip = kCodeAddr;
  }

  int memfd_ = -1;
  std::unique_ptr<Platform> platform_;
  std::unique_ptr<AddressSpace> as_;
  std::unique_ptr<Context> ctx_;
  Registers regs_{};
};

// mov $39, %eax; syscall; mov %rax, %rdi; mov $60, %eax; syscall
const std::string kTwoSyscalls(
    "\xb8\x27\x00\x00\x00\x0f\x05\x48\x89\xc7\xb8\x3c\x00\x00\x00"
    "\x0f\x05",
    17);

TEST_F(PtracePlatformTest, SyscallsStopAndAreNotExecuted) {
  LoadCode(kTwoSyscalls);
  auto r = ctx_->Switch(*as_, regs_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->event, SwitchEvent::kSyscall);
  EXPECT_EQ(regs_.orig_rax, 39u);  // getpid
  EXPECT_EQ(regs_.rip, kCodeAddr + 7);
  regs_.rax = 12345;
  r = ctx_->Switch(*as_, regs_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->event, SwitchEvent::kSyscall);
  EXPECT_EQ(regs_.orig_rax, 60u);  // exit: emulated, so the stub lives on
  EXPECT_EQ(regs_.rdi, 12345u) << "the Sentry's result reached the guest";
}

TEST_F(PtracePlatformTest, FaultIsReportedWithAddress) {
  // movq $0, 0x1000 (absolute address, unmapped)
  LoadCode(std::string("\x48\xc7\x04\x25\x00\x10\x00\x00\x00\x00\x00\x00", 12));
  auto r = ctx_->Switch(*as_, regs_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->event, SwitchEvent::kFault);
  EXPECT_EQ(r->info.si_signo, SIGSEGV);
  EXPECT_EQ(reinterpret_cast<uint64_t>(r->info.si_addr), 0x1000u);
}

TEST_F(PtracePlatformTest, WriteToReadOnlyPageFaults) {
  // movq $1, 0x400000 (our own RX code page)
  LoadCode(std::string("\x48\xc7\x04\x25\x00\x00\x40\x00\x01\x00\x00\x00", 12));
  auto r = ctx_->Switch(*as_, regs_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->event, SwitchEvent::kFault);
  EXPECT_EQ(r->info.si_code, SEGV_ACCERR);
}

// A second guest thread in the same address space, on a host thread of its
// own: both stop at their own syscalls, a mapping made by either is seen by
// both, and ending the second leaves the first running.
TEST_F(PtracePlatformTest, ThreadsShareTheAddressSpace) {
  LoadCode(kTwoSyscalls);
  absl::StatusOr<uint64_t> token = as_->SpawnThread();
  ASSERT_TRUE(token.ok()) << token.status();
  std::thread second([&] {
    ASSERT_TRUE(as_->AdoptThread(*token).ok());
    std::unique_ptr<Context> ctx = platform_->NewContext();
    Registers regs = platform_->InitialRegisters();
    regs.rip = kCodeAddr;
    auto r = ctx->Switch(*as_, regs);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->event, SwitchEvent::kSyscall);
    EXPECT_EQ(regs.orig_rax, 39u);
    // A mapping made from this thread.
    EXPECT_TRUE(as_->MapFile(kCodeAddr + kPage, kPage, kPage, PROT_READ).ok());
    as_->ReleaseThread();
  });
  second.join();
  // mov 0x401000, %rax; syscall: the second thread's mapping is here too.
  std::string code("\x48\x8b\x04\x25\x00\x10\x40\x00\x0f\x05", 10);
  uint64_t word = 0x5eedULL;
  ASSERT_EQ(pwrite(memfd_, &word, 8, kPage), 8);
  ASSERT_EQ(pwrite(memfd_, code.data(), code.size(), 64), 10);
  regs_.rip = kCodeAddr + 64;
  auto r = ctx_->Switch(*as_, regs_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->event, SwitchEvent::kSyscall);
  EXPECT_EQ(regs_.orig_rax, word);
}

TEST_F(PtracePlatformTest, InterruptStopsABusyLoop) {
  LoadCode(std::string("\xeb\xfe", 2));  // jmp .
  std::thread kicker([this] {
    usleep(20000);
    ctx_->Interrupt();
  });
  auto r = ctx_->Switch(*as_, regs_);
  kicker.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->event, SwitchEvent::kInterrupted);
  EXPECT_EQ(regs_.rip, kCodeAddr);
}

TEST_F(PtracePlatformTest, MappingsAreVisibleThroughTheMemoryFile) {
  // mov 0x401000, %rax; syscall  -- reads a word the Sentry wrote.
  LoadCode(std::string("\x48\x8b\x04\x25\x00\x10\x40\x00\x0f\x05", 10));
  uint64_t value = 0x1122334455667788;
  ASSERT_EQ(pwrite(memfd_, &value, 8, kPage), 8);
  ASSERT_TRUE(as_->MapFile(kCodeAddr + kPage, kPage, kPage, PROT_READ).ok());
  auto r = ctx_->Switch(*as_, regs_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->event, SwitchEvent::kSyscall);
  EXPECT_EQ(regs_.orig_rax, value);
}

TEST_F(PtracePlatformTest, UnmapRemovesAccess) {
  LoadCode(std::string("\x48\x8b\x04\x25\x00\x10\x40\x00\x0f\x05", 10));
  ASSERT_TRUE(as_->MapFile(kCodeAddr + kPage, kPage, kPage, PROT_READ).ok());
  ASSERT_TRUE(as_->Unmap(kCodeAddr + kPage, kPage).ok());
  auto r = ctx_->Switch(*as_, regs_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->event, SwitchEvent::kFault);
}

std::string ReadProcFile(pid_t pid, const char* name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(StubProcessTest, StubIsConfined) {
  int memfd = memfd_create("test-memory", MFD_CLOEXEC);
  ASSERT_GE(memfd, 0);
  auto stub = StubProcess::Start(memfd);
  ASSERT_TRUE(stub.ok()) << stub.status();
  pid_t pid = (*stub)->pid();
  // Only the stub's own text is mapped, and the vsyscall page, which lies
  // above every process's reach for munmap.
  std::string maps = ReadProcFile(pid, "maps");
  EXPECT_EQ(std::count(maps.begin(), maps.end(), '\n'), 2) << maps;
  EXPECT_EQ(maps.rfind("7ff000000000-7ff000001000 r-xp", 0), 0u) << maps;
  EXPECT_NE(maps.find("[vsyscall]"), std::string::npos) << maps;
  // Seccomp filter mode, no_new_privs.
  std::string status = ReadProcFile(pid, "status");
  EXPECT_NE(status.find("Seccomp:\t2"), std::string::npos) << status;
  EXPECT_NE(status.find("NoNewPrivs:\t1"), std::string::npos) << status;
  // FD table: the MemoryFile only.
  std::string fd_link = "/proc/" + std::to_string(pid) + "/fd/";
  for (int fd = 0; fd < 64; ++fd) {
    bool exists = access((fd_link + std::to_string(fd)).c_str(), F_OK) == 0;
    EXPECT_EQ(exists, fd == kStubMemoryFd) << "fd " << fd;
  }
  close(memfd);
}

TEST(StubProcessTest, FilterKillsOnForbiddenSyscall) {
  int memfd = memfd_create("test-memory", MFD_CLOEXEC);
  ASSERT_GE(memfd, 0);
  auto stub = StubProcess::Start(memfd);
  ASSERT_TRUE(stub.ok()) << stub.status();
  // getpid is not on the stub's allowlist: the filter kills the stub.
  auto rc = (*stub)->InjectSyscall(SYS_getpid, {});
  EXPECT_FALSE(rc.ok());
  // An mmap of anything but the MemoryFile is refused the same way.
  auto stub2 = StubProcess::Start(memfd);
  ASSERT_TRUE(stub2.ok()) << stub2.status();
  rc = (*stub2)->InjectSyscall(
      SYS_mmap, {0x400000, 4096, PROT_READ,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, ~0ULL, 0});
  EXPECT_FALSE(rc.ok());
  close(memfd);
}

TEST(StubProcessTest, StubDiesWithItsTracer) {
  // A child process starts a stub, then exits: PDEATHSIG/EXITKILL must take
  // the stub down with it.
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int memfd = memfd_create("m", 0);
    auto stub = StubProcess::Start(memfd);
    pid_t pid = stub.ok() ? (*stub)->pid() : -1;
    (void)!write(pipefd[1], &pid, sizeof(pid));
    _exit(0);  // No destructor: the stub is left behind.
  }
  close(pipefd[1]);
  pid_t stub_pid = -1;
  ASSERT_EQ(read(pipefd[0], &stub_pid, sizeof(stub_pid)),
            static_cast<ssize_t>(sizeof(stub_pid)));
  ASSERT_GT(stub_pid, 0);
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  // The stub was reparented and killed; give the kernel a moment.
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    std::string st = ReadProcFile(stub_pid, "status");
    gone = st.empty() || st.find("State:\tZ") != std::string::npos;
    if (!gone) usleep(10000);
  }
  EXPECT_TRUE(gone);
  close(pipefd[0]);
}

}  // namespace
}  // namespace sentry::platform
