// inotify(7), inotify_init1(2), inotify_add_watch(2) and
// inotify_rm_watch(2), from the man pages.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// One event as read(2) returns it, with the name's NUL padding removed.
struct Event {
  int wd;
  uint32_t mask;
  uint32_t cookie;
  std::string name;
};

// Compact form for matchers: "mask:name".
std::string Describe(const Event& e) {
  return std::to_string(e.mask) + ":" + e.name;
}

// Every event queued on `fd` right now, which must be non-blocking. Events
// for changes made by this process are queued before the changing call
// returns, so no waiting is needed.
std::vector<Event> ReadEvents(int fd) {
  std::vector<Event> events;
  alignas(struct inotify_event) char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      EXPECT_EQ(errno, EAGAIN) << "read: " << strerror(errno);
      break;
    }
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const struct inotify_event*>(buf + off);
      Event e{ev->wd, ev->mask, ev->cookie, ""};
      if (ev->len > 0) e.name = std::string(ev->name);  // NUL-padded
      events.push_back(e);
      off += sizeof(struct inotify_event) + ev->len;
    }
  }
  return events;
}

// The "mask:name" forms of ReadEvents(fd).
std::vector<std::string> ReadDescribed(int fd) {
  std::vector<std::string> out;
  for (const Event& e : ReadEvents(fd)) out.push_back(Describe(e));
  return out;
}

std::string Ev(uint32_t mask, const std::string& name = "") {
  return std::to_string(mask) + ":" + name;
}

FileDescriptor NewInotify(int flags = IN_NONBLOCK | IN_CLOEXEC) {
  FileDescriptor fd(inotify_init1(flags));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
  return fd;
}

// Creates (or truncates) `path` holding `contents`, outside any watch mask
// of interest: callers pick masks that do not include open/close.
void WriteFile(const std::string& path, const std::string& contents) {
  FileDescriptor fd(open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ASSERT_TRUE(WriteAll(fd.get(), contents));
}

TEST(InotifyTest, Init1FlagsSetCloexecAndNonblock) {
  FileDescriptor fd = NewInotify(IN_CLOEXEC | IN_NONBLOCK);
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_TRUE(fcntl(fd.get(), F_GETFL) & O_NONBLOCK);
}

TEST(InotifyTest, Init1WithoutFlagsIsBlockingAndInherited) {
  FileDescriptor fd = NewInotify(0);
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(0));
  EXPECT_FALSE(fcntl(fd.get(), F_GETFL) & O_NONBLOCK);
}

TEST(InotifyTest, Init1UnknownFlagFailsEinval) {
  EXPECT_THAT(inotify_init1(0x1), SyscallFailsWithErrno(EINVAL));
}

TEST(InotifyTest, CreateInWatchedDirectoryNamesTheChild) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  int wd = inotify_add_watch(fd.get(), dir.path().c_str(), IN_CREATE);
  ASSERT_THAT(wd, SyscallSucceeds());
  WriteFile(dir.Child("f"), "");
  std::vector<Event> events = ReadEvents(fd.get());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].wd, wd);
  EXPECT_EQ(events[0].mask, static_cast<uint32_t>(IN_CREATE));
  EXPECT_EQ(events[0].cookie, 0u);
  EXPECT_EQ(events[0].name, "f");
}

TEST(InotifyTest, UnlinkGivesDelete) {
  TempPath dir = TempPath::CreateDir();
  WriteFile(dir.Child("f"), "");
  FileDescriptor fd = NewInotify();
  ASSERT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_DELETE),
              SyscallSucceeds());
  ASSERT_THAT(unlink(dir.Child("f").c_str()), SyscallSucceeds());
  EXPECT_THAT(ReadDescribed(fd.get()), ElementsAre(Ev(IN_DELETE, "f")));
}

TEST(InotifyTest, WriteGivesModify) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor file(open(dir.Child("f").c_str(), O_CREAT | O_WRONLY, 0644));
  ASSERT_THAT(file.get(), SyscallSucceeds());
  FileDescriptor fd = NewInotify();
  ASSERT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_MODIFY),
              SyscallSucceeds());
  ASSERT_THAT(write(file.get(), "x", 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(ReadDescribed(fd.get()), ElementsAre(Ev(IN_MODIFY, "f")));
}

TEST(InotifyTest, ChmodGivesAttrib) {
  TempPath dir = TempPath::CreateDir();
  WriteFile(dir.Child("f"), "");
  FileDescriptor fd = NewInotify();
  ASSERT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_ATTRIB),
              SyscallSucceeds());
  ASSERT_THAT(chmod(dir.Child("f").c_str(), 0600), SyscallSucceeds());
  EXPECT_THAT(ReadDescribed(fd.get()), ElementsAre(Ev(IN_ATTRIB, "f")));
}

TEST(InotifyTest, RenameGivesMovedFromAndMovedToWithOneCookie) {
  TempPath dir = TempPath::CreateDir();
  WriteFile(dir.Child("a"), "");
  FileDescriptor fd = NewInotify();
  ASSERT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_MOVE),
              SyscallSucceeds());
  ASSERT_THAT(rename(dir.Child("a").c_str(), dir.Child("b").c_str()),
              SyscallSucceeds());
  std::vector<Event> events = ReadEvents(fd.get());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].mask, static_cast<uint32_t>(IN_MOVED_FROM));
  EXPECT_EQ(events[0].name, "a");
  EXPECT_EQ(events[1].mask, static_cast<uint32_t>(IN_MOVED_TO));
  EXPECT_EQ(events[1].name, "b");
  // "The cookie is a unique integer that connects related events."
  EXPECT_NE(events[0].cookie, 0u);
  EXPECT_EQ(events[0].cookie, events[1].cookie);
}

TEST(InotifyTest, RenameBetweenWatchedDirectoriesSharesTheCookie) {
  TempPath from = TempPath::CreateDir();
  TempPath to = TempPath::CreateDir();
  WriteFile(from.Child("a"), "");
  FileDescriptor fd = NewInotify();
  int wd_from = inotify_add_watch(fd.get(), from.path().c_str(), IN_MOVE);
  int wd_to = inotify_add_watch(fd.get(), to.path().c_str(), IN_MOVE);
  ASSERT_THAT(wd_from, SyscallSucceeds());
  ASSERT_THAT(wd_to, SyscallSucceeds());
  EXPECT_NE(wd_from, wd_to);
  ASSERT_THAT(rename(from.Child("a").c_str(), to.Child("b").c_str()),
              SyscallSucceeds());
  std::vector<Event> events = ReadEvents(fd.get());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].wd, wd_from);
  EXPECT_EQ(events[0].mask, static_cast<uint32_t>(IN_MOVED_FROM));
  EXPECT_EQ(events[1].wd, wd_to);
  EXPECT_EQ(events[1].mask, static_cast<uint32_t>(IN_MOVED_TO));
  EXPECT_NE(events[0].cookie, 0u);
  EXPECT_EQ(events[0].cookie, events[1].cookie);
}

TEST(InotifyTest, OpenForWritingAndCloseGiveOpenAndCloseWrite) {
  TempPath dir = TempPath::CreateDir();
  WriteFile(dir.Child("f"), "");
  FileDescriptor fd = NewInotify();
  ASSERT_THAT(
      inotify_add_watch(fd.get(), dir.path().c_str(), IN_OPEN | IN_CLOSE),
      SyscallSucceeds());
  FileDescriptor file(open(dir.Child("f").c_str(), O_WRONLY));
  ASSERT_THAT(file.get(), SyscallSucceeds());
  file.reset();
  EXPECT_THAT(ReadDescribed(fd.get()),
              ElementsAre(Ev(IN_OPEN, "f"), Ev(IN_CLOSE_WRITE, "f")));
}

TEST(InotifyTest, OpenForReadingAndCloseGiveOpenAndCloseNowrite) {
  TempPath dir = TempPath::CreateDir();
  WriteFile(dir.Child("f"), "");
  FileDescriptor fd = NewInotify();
  ASSERT_THAT(
      inotify_add_watch(fd.get(), dir.path().c_str(), IN_OPEN | IN_CLOSE),
      SyscallSucceeds());
  FileDescriptor file(open(dir.Child("f").c_str(), O_RDONLY));
  ASSERT_THAT(file.get(), SyscallSucceeds());
  file.reset();
  EXPECT_THAT(ReadDescribed(fd.get()),
              ElementsAre(Ev(IN_OPEN, "f"), Ev(IN_CLOSE_NOWRITE, "f")));
}

TEST(InotifyTest, ReadGivesAccess) {
  TempPath dir = TempPath::CreateDir();
  WriteFile(dir.Child("f"), "data");
  FileDescriptor file(open(dir.Child("f").c_str(), O_RDONLY));
  ASSERT_THAT(file.get(), SyscallSucceeds());
  FileDescriptor fd = NewInotify();
  ASSERT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_ACCESS),
              SyscallSucceeds());
  char buf[8];
  ASSERT_THAT(read(file.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(4));
  EXPECT_THAT(ReadDescribed(fd.get()), ElementsAre(Ev(IN_ACCESS, "f")));
}

TEST(InotifyTest, MkdirGivesCreateWithIsdir) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  ASSERT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_CREATE),
              SyscallSucceeds());
  ASSERT_THAT(mkdir(dir.Child("sub").c_str(), 0755), SyscallSucceeds());
  EXPECT_THAT(ReadDescribed(fd.get()),
              ElementsAre(Ev(IN_CREATE | IN_ISDIR, "sub")));
}

TEST(InotifyTest, SymlinkGivesCreate) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  ASSERT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_CREATE),
              SyscallSucceeds());
  ASSERT_THAT(symlink("target", dir.Child("link").c_str()), SyscallSucceeds());
  EXPECT_THAT(ReadDescribed(fd.get()), ElementsAre(Ev(IN_CREATE, "link")));
}

TEST(InotifyTest, WatchOnFileItselfHasNoName) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd = NewInotify();
  int wd = inotify_add_watch(fd.get(), f.path().c_str(), IN_MODIFY);
  ASSERT_THAT(wd, SyscallSucceeds());
  FileDescriptor file(open(f.path().c_str(), O_WRONLY));
  ASSERT_THAT(file.get(), SyscallSucceeds());
  ASSERT_THAT(write(file.get(), "x", 1), SyscallSucceedsWithValue(1));
  std::vector<Event> events = ReadEvents(fd.get());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].wd, wd);
  EXPECT_EQ(events[0].mask, static_cast<uint32_t>(IN_MODIFY));
  EXPECT_EQ(events[0].name, "");
}

TEST(InotifyTest, RemovingWatchedDirectoryGivesDeleteSelfThenIgnored) {
  TempPath dir = TempPath::CreateDir();
  std::string sub = dir.Child("sub");
  ASSERT_THAT(mkdir(sub.c_str(), 0755), SyscallSucceeds());
  FileDescriptor fd = NewInotify();
  int wd = inotify_add_watch(fd.get(), sub.c_str(), IN_DELETE_SELF);
  ASSERT_THAT(wd, SyscallSucceeds());
  ASSERT_THAT(rmdir(sub.c_str()), SyscallSucceeds());
  std::vector<Event> events = ReadEvents(fd.get());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].wd, wd);
  EXPECT_EQ(events[0].mask, static_cast<uint32_t>(IN_DELETE_SELF));
  EXPECT_EQ(events[1].wd, wd);
  EXPECT_EQ(events[1].mask, static_cast<uint32_t>(IN_IGNORED));
  // The watch is gone: removing it again fails.
  EXPECT_THAT(inotify_rm_watch(fd.get(), wd), SyscallFailsWithErrno(EINVAL));
}

TEST(InotifyTest, OneshotReportsOneEventThenIgnored) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  int wd =
      inotify_add_watch(fd.get(), dir.path().c_str(), IN_CREATE | IN_ONESHOT);
  ASSERT_THAT(wd, SyscallSucceeds());
  WriteFile(dir.Child("a"), "");
  WriteFile(dir.Child("b"), "");
  EXPECT_THAT(ReadDescribed(fd.get()),
              ElementsAre(Ev(IN_CREATE, "a"), Ev(IN_IGNORED)));
}

TEST(InotifyTest, SecondAddWatchReplacesTheMask) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  int wd = inotify_add_watch(fd.get(), dir.path().c_str(), IN_CREATE);
  ASSERT_THAT(wd, SyscallSucceeds());
  // The same inode gives the same watch descriptor.
  EXPECT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_DELETE),
              SyscallSucceedsWithValue(wd));
  WriteFile(dir.Child("f"), "");
  ASSERT_THAT(unlink(dir.Child("f").c_str()), SyscallSucceeds());
  EXPECT_THAT(ReadDescribed(fd.get()), ElementsAre(Ev(IN_DELETE, "f")));
}

TEST(InotifyTest, MaskAddKeepsTheOldEvents) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  int wd = inotify_add_watch(fd.get(), dir.path().c_str(), IN_CREATE);
  ASSERT_THAT(wd, SyscallSucceeds());
  EXPECT_THAT(
      inotify_add_watch(fd.get(), dir.path().c_str(), IN_DELETE | IN_MASK_ADD),
      SyscallSucceedsWithValue(wd));
  WriteFile(dir.Child("f"), "");
  ASSERT_THAT(unlink(dir.Child("f").c_str()), SyscallSucceeds());
  EXPECT_THAT(ReadDescribed(fd.get()),
              ElementsAre(Ev(IN_CREATE, "f"), Ev(IN_DELETE, "f")));
}

TEST(InotifyTest, MaskCreateOnWatchedInodeFailsEexist) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  ASSERT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_CREATE),
              SyscallSucceeds());
  EXPECT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(),
                                IN_DELETE | IN_MASK_CREATE),
              SyscallFailsWithErrno(EEXIST));
}

TEST(InotifyTest, MaskCreateOnNewInodeSucceeds) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  EXPECT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(),
                                IN_CREATE | IN_MASK_CREATE),
              SyscallSucceeds());
}

TEST(InotifyTest, MaskCreateWithMaskAddFailsEinval) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  EXPECT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(),
                                IN_CREATE | IN_MASK_CREATE | IN_MASK_ADD),
              SyscallFailsWithErrno(EINVAL));
}

TEST(InotifyTest, OnlydirOnFileFailsEnotdir) {
  TempPath f = TempPath::CreateFile();
  FileDescriptor fd = NewInotify();
  EXPECT_THAT(
      inotify_add_watch(fd.get(), f.path().c_str(), IN_MODIFY | IN_ONLYDIR),
      SyscallFailsWithErrno(ENOTDIR));
}

TEST(InotifyTest, MaskWithoutEventsFailsEinval) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  EXPECT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), 0),
              SyscallFailsWithErrno(EINVAL));
}

TEST(InotifyTest, AddWatchOnMissingPathFailsEnoent) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  EXPECT_THAT(
      inotify_add_watch(fd.get(), dir.Child("nope").c_str(), IN_ALL_EVENTS),
      SyscallFailsWithErrno(ENOENT));
}

TEST(InotifyTest, AddWatchOnNonInotifyFdFailsEinval) {
  TempPath dir = TempPath::CreateDir();
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  EXPECT_THAT(inotify_add_watch(r.get(), dir.path().c_str(), IN_CREATE),
              SyscallFailsWithErrno(EINVAL));
}

TEST(InotifyTest, RmWatchQueuesIgnored) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  int wd = inotify_add_watch(fd.get(), dir.path().c_str(), IN_CREATE);
  ASSERT_THAT(wd, SyscallSucceeds());
  ASSERT_THAT(inotify_rm_watch(fd.get(), wd), SyscallSucceeds());
  std::vector<Event> events = ReadEvents(fd.get());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].wd, wd);
  EXPECT_EQ(events[0].mask, static_cast<uint32_t>(IN_IGNORED));
  // No more events after the watch is gone.
  WriteFile(dir.Child("f"), "");
  EXPECT_THAT(ReadEvents(fd.get()), IsEmpty());
}

TEST(InotifyTest, RmWatchOfUnknownWdFailsEinval) {
  FileDescriptor fd = NewInotify();
  EXPECT_THAT(inotify_rm_watch(fd.get(), 12345), SyscallFailsWithErrno(EINVAL));
}

TEST(InotifyTest, ReadIntoTooSmallBufferFailsEinval) {
  // inotify(7): "a read with a buffer too small to return the next event
  // fails with EINVAL".
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  ASSERT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_CREATE),
              SyscallSucceeds());
  WriteFile(dir.Child("a_name_that_needs_room"), "");
  alignas(struct inotify_event) char buf[sizeof(struct inotify_event)];
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EINVAL));
  // The event stays queued.
  EXPECT_THAT(ReadDescribed(fd.get()),
              ElementsAre(Ev(IN_CREATE, "a_name_that_needs_room")));
}

TEST(InotifyTest, NonblockingReadWithNothingQueuedFailsEagain) {
  FileDescriptor fd = NewInotify(IN_NONBLOCK);
  alignas(struct inotify_event) char buf[4096];
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EAGAIN));
}

TEST(InotifyTest, PollIsReadableOnlyWithEventsQueued) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  ASSERT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_CREATE),
              SyscallSucceeds());
  struct pollfd pfd = {fd.get(), POLLIN, 0};
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(0));
  WriteFile(dir.Child("f"), "");
  pfd.revents = 0;
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pfd.revents, POLLIN);
  ReadEvents(fd.get());
  pfd.revents = 0;
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(0));
}

TEST(InotifyTest, FionreadGivesQueuedBytes) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  ASSERT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_CREATE),
              SyscallSucceeds());
  int n = -1;
  ASSERT_THAT(ioctl(fd.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 0);
  WriteFile(dir.Child("f"), "");
  ASSERT_THAT(ioctl(fd.get(), FIONREAD, &n), SyscallSucceeds());
  // One event with the name "f", NUL-padded to some len >= 2.
  EXPECT_GE(n, static_cast<int>(sizeof(struct inotify_event) + 2));
  alignas(struct inotify_event) char buf[4096];
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(n));
}

TEST(InotifyTest, IdenticalConsecutiveEventsAreMerged) {
  // inotify(7): "If successive output inotify events produced on the
  // inotify file descriptor are identical (same wd, mask, cookie, and
  // name), then they are coalesced into a single event if the older event
  // has not yet been read".
  TempPath dir = TempPath::CreateDir();
  FileDescriptor file(open(dir.Child("f").c_str(), O_CREAT | O_WRONLY, 0644));
  ASSERT_THAT(file.get(), SyscallSucceeds());
  FileDescriptor fd = NewInotify();
  ASSERT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_MODIFY),
              SyscallSucceeds());
  ASSERT_THAT(write(file.get(), "a", 1), SyscallSucceedsWithValue(1));
  ASSERT_THAT(write(file.get(), "b", 1), SyscallSucceedsWithValue(1));
  ASSERT_THAT(write(file.get(), "c", 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(ReadDescribed(fd.get()), ElementsAre(Ev(IN_MODIFY, "f")));
}

TEST(InotifyTest, DifferentNamesAreNotMerged) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  ASSERT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_CREATE),
              SyscallSucceeds());
  WriteFile(dir.Child("a"), "");
  WriteFile(dir.Child("b"), "");
  EXPECT_THAT(ReadDescribed(fd.get()),
              ElementsAre(Ev(IN_CREATE, "a"), Ev(IN_CREATE, "b")));
}

TEST(InotifyTest, EventsOutsideTheMaskAreNotReported) {
  TempPath dir = TempPath::CreateDir();
  FileDescriptor fd = NewInotify();
  ASSERT_THAT(inotify_add_watch(fd.get(), dir.path().c_str(), IN_DELETE),
              SyscallSucceeds());
  WriteFile(dir.Child("f"), "x");
  ASSERT_THAT(chmod(dir.Child("f").c_str(), 0600), SyscallSucceeds());
  EXPECT_THAT(ReadEvents(fd.get()), IsEmpty());
}

}  // namespace
}  // namespace sentry::testing
