// Pipe semantics (pipe(7)) against a real Task.
#include "sentry/fs/pipe.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>

#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "sentry/fs/test_task.h"
#include "sentry/vfs/special.h"

namespace sentry::fs {
namespace {

using PipeTest = TaskTest;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST_F(PipeTest, ReadWriteEofAndHangup) {
  auto [r, w] = Pipe::Create(0, 0, 0);
  uint8_t buf[16];
  EXPECT_EQ(r->Readiness(POLLIN), 0u);
  ASSERT_EQ(*w->Write(task(), Bytes("hello")), 5u);
  EXPECT_EQ(r->Readiness(POLLIN), uint32_t{POLLIN});
  ASSERT_EQ(*r->Read(task(), buf), 5u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 5), "hello");
  // The write end of a fresh pipe is writable; the read end not readable.
  EXPECT_EQ(w->Readiness(POLLOUT), uint32_t{POLLOUT});
  w.reset();
  EXPECT_EQ(r->Readiness(POLLIN), uint32_t{POLLHUP});
  EXPECT_EQ(*r->Read(task(), buf), 0u);  // EOF
}

TEST_F(PipeTest, NonblockingEmptyAndFull) {
  auto [r, w] = Pipe::Create(0, 0, O_NONBLOCK);
  uint8_t buf[16];
  EXPECT_EQ(r->Read(task(), buf).error(), Errno(EAGAIN));
  std::vector<uint8_t> big(kDefaultPipeCapacity + 100, 'x');
  // A large write takes what fits, then EAGAIN.
  EXPECT_EQ(*w->Write(task(), big), kDefaultPipeCapacity);
  EXPECT_EQ(w->Write(task(), Bytes("y")).error(), Errno(EAGAIN));
  EXPECT_EQ(w->Readiness(POLLOUT), 0u);
}

TEST_F(PipeTest, SmallWritesAreAtomic) {
  auto [r, w] = Pipe::Create(0, 0, O_NONBLOCK);
  std::vector<uint8_t> fill(kDefaultPipeCapacity - 100, 'a');
  ASSERT_EQ(*w->Write(task(), fill), fill.size());
  // 200 bytes <= PIPE_BUF do not fit in the 100 left: nothing is written.
  std::vector<uint8_t> small(200, 'b');
  EXPECT_EQ(w->Write(task(), small).error(), Errno(EAGAIN));
  EXPECT_EQ(r->pipe().size(), fill.size());
}

TEST_F(PipeTest, NoReadersIsEpipeAndSigpipe) {
  auto [r, w] = Pipe::Create(0, 0, 0);
  r.reset();
  // Linux reports POLLERR alongside POLLOUT (pipe_poll).
  EXPECT_EQ(w->Readiness(POLLOUT), uint32_t{POLLOUT | POLLERR});
  EXPECT_EQ(w->Write(task(), Bytes("x")).error(), Errno(EPIPE));
  EXPECT_TRUE(task().pending_signals() & (1ULL << (SIGPIPE - 1)));
}

TEST_F(PipeTest, BlockingReadWokenByWriter) {
  auto [r, w] = Pipe::Create(0, 0, 0);
  std::thread writer([&w = w, this] {
    absl::SleepFor(absl::Milliseconds(50));
    // Another thread writes; the task (this thread) is blocked in Read.
    ASSERT_EQ(*w->Write(task(), Bytes("late")), 4u);
  });
  uint8_t buf[16];
  ErrnoOr<size_t> n = r->Read(task(), buf);
  writer.join();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 4u);
}

TEST_F(PipeTest, BlockingWriteLargerThanCapacityCompletes) {
  auto [r, w] = Pipe::Create(0, 0, 0);
  std::vector<uint8_t> big(3 * kDefaultPipeCapacity, 'z');
  size_t got = 0;
  std::thread reader([&r = r, &got, this] {
    std::vector<uint8_t> buf(10000);
    while (got < 3 * kDefaultPipeCapacity) {
      ErrnoOr<size_t> n = r->pipe().Read(task(), r->queue(), buf, true);
      if (n.ok()) {
        got += *n;
      } else {
        absl::SleepFor(absl::Milliseconds(1));
      }
    }
  });
  EXPECT_EQ(*w->Write(task(), big), big.size());
  reader.join();
  EXPECT_EQ(got, big.size());
}

TEST_F(PipeTest, SetPipeSize) {
  auto [r, w] = Pipe::Create(0, 0, 0);
  EXPECT_EQ(*r->pipe().SetCapacity(5000, false), 8192u);
  EXPECT_EQ(*r->pipe().SetCapacity(0, false), 4096u);
  EXPECT_EQ(r->pipe().SetCapacity(kPipeMaxSize * 2, false).error(),
            Errno(EPERM));
  std::vector<uint8_t> data(4000, 'q');
  ASSERT_EQ(*w->Write(task(), data), data.size());
  // Shrinking below the data is EBUSY; the data survives resizing.
  EXPECT_EQ(*r->pipe().SetCapacity(65536, false), 65536u);
  std::vector<uint8_t> out(5000);
  EXPECT_EQ(*r->Read(task(), out), 4000u);
  EXPECT_EQ(out[3999], 'q');
}

TEST_F(PipeTest, PeekConsumeAndFionread) {
  auto [r, w] = Pipe::Create(0, 0, O_NONBLOCK);
  ASSERT_EQ(*w->Write(task(), Bytes("abcdef")), 6u);
  uint8_t buf[4];
  EXPECT_EQ(*r->pipe().Peek(task(), r->queue(), buf, 2, true), 4u);
  EXPECT_EQ(buf[0], 'c');
  r->pipe().Consume(3);
  ASSERT_TRUE(r->Ioctl(task(), FIONREAD, scratch()).ok());
  int n = 0;
  ASSERT_TRUE(task().mm().CopyIn(scratch(), &n, sizeof(n)).ok());
  EXPECT_EQ(n, 3);
}

TEST_F(PipeTest, FifoOpenRules) {
  RegisterFifos();
  std::shared_ptr<void> state;
  // No reader: O_WRONLY|O_NONBLOCK is ENXIO; O_RDONLY|O_NONBLOCK succeeds.
  EXPECT_EQ(vfs::OpenFifo(state, O_WRONLY | O_NONBLOCK).error(), Errno(ENXIO));
  auto rd = vfs::OpenFifo(state, O_RDONLY | O_NONBLOCK);
  ASSERT_TRUE(rd.ok());
  // A reader alone sees no hang-up until a writer came and went.
  EXPECT_EQ((*rd)->Readiness(POLLIN), 0u);
  {
    auto wr = vfs::OpenFifo(state, O_WRONLY | O_NONBLOCK);
    ASSERT_TRUE(wr.ok());
  }  // the writer came and went
  EXPECT_EQ((*rd)->Readiness(POLLIN), uint32_t{POLLHUP});
}

}  // namespace
}  // namespace sentry::fs
