// A real Task for unit tests of Sentry files: a kernel on the ptrace
// platform with a stub-backed address space and one mapped scratch page.
// The test thread plays the task (Task::Wait works from any one thread).
#ifndef SENTRY_FS_TEST_TASK_H_
#define SENTRY_FS_TEST_TASK_H_

#include <sys/mman.h>

#include <memory>

#include "gtest/gtest.h"
#include "platform/ptrace/ptrace_platform.h"
#include "sentry/fs/tmpfs.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace sentry::fs {

class TaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mf = mm::MemoryFile::Create(1ULL << 32);
    ASSERT_TRUE(mf.ok()) << mf.status();
    int memfd = (*mf)->fd();
    auto platform = platform::CreatePtracePlatform(memfd);
    ASSERT_TRUE(platform.ok()) << platform.status();
    kernel_ = std::make_unique<kernel::Kernel>(
        kernel::KernelOptions{}, std::move(*mf), std::move(*platform), nullptr);
    auto as = kernel_->platform().NewAddressSpace();
    ASSERT_TRUE(as.ok()) << as.status();
    auto mm = std::make_unique<mm::MemoryManager>(
        kernel_->memory(), **as, kernel_->platform().MinUserAddress(),
        kernel_->platform().MaxUserAddress());
    auto root = Tmpfs::Create(kernel_->memory(), TmpfsOptions{});
    kernel_->set_mounts(
        std::make_unique<vfs::MountNamespace>(std::make_shared<vfs::Mount>(
            "tmpfs", "none", std::make_shared<vfs::Dentry>(root->MakeRoot()),
            vfs::MountFlags{})));
    task_ =
        std::make_unique<kernel::Task>(*kernel_, std::move(*as), std::move(mm));
    task_->fs().root = kernel_->mounts()->root();
    task_->fs().cwd = task_->fs().root;
    mm::MmapRequest req;
    req.length = 4096;
    req.prot = PROT_READ | PROT_WRITE;
    auto addr = task_->mm().Map(req);
    ASSERT_TRUE(addr.ok());
    scratch_ = *addr;
  }
  void TearDown() override {
    task_.reset();
    kernel_.reset();
  }

  kernel::Task& task() { return *task_; }
  kernel::Kernel& kernel() { return *kernel_; }
  // A guest address with 4096 writable bytes.
  uint64_t scratch() const { return scratch_; }

 private:
  std::unique_ptr<kernel::Kernel> kernel_;
  std::unique_ptr<kernel::Task> task_;
  uint64_t scratch_ = 0;
};

}  // namespace sentry::fs

#endif  // SENTRY_FS_TEST_TASK_H_
