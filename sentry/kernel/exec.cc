#include "sentry/kernel/exec.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace sentry::kernel {
namespace {

constexpr int kMaxInterpreterDepth = 4;  // Linux's BINPRM_MAX_RECURSION
constexpr size_t kMaxShebangLine = 256;  // BINPRM_BUF_SIZE
// Executables larger than this are refused rather than read into memory.
constexpr uint64_t kMaxExecutableSize = uint64_t{1} << 30;

ExecFailure Fail(int err, const std::string& what) {
  return ExecFailure{err, absl::StrCat(what, ": ", strerrordesc_np(err))};
}

// Resolves and checks an executable: a regular file with an x bit the
// caller may use, on a mount that allows exec.
std::variant<vfs::Path, ExecFailure> FindExecutable(Task& task,
                                                    const std::string& path) {
  vfs::Resolver r = task.resolver();
  ErrnoOr<vfs::Path> p = vfs::Lookup(r, task.fs().cwd, path, vfs::kFollow);
  if (!p.ok()) return Fail(p.error().value(), path);
  ErrnoOr<struct stat> st = p->inode().Stat();
  if (!st.ok()) return Fail(st.error().value(), path);
  if (S_ISDIR(st->st_mode)) return Fail(EACCES, path + " is a directory");
  if (!S_ISREG(st->st_mode))
    return Fail(EACCES, path + " is not a regular file");
  if (p->mount->flags().noexec) return Fail(EACCES, path + " (noexec mount)");
  if (!vfs::CheckPermission(r.creds, *st, vfs::kMayExec).ok()) {
    return Fail(EACCES, path);
  }
  return *p;
}

std::variant<std::vector<uint8_t>, ExecFailure> ReadWhole(
    const vfs::Path& p, const std::string& name) {
  ErrnoOr<struct stat> st = p.inode().Stat();
  if (!st.ok()) return Fail(st.error().value(), name);
  if (static_cast<uint64_t>(st->st_size) > kMaxExecutableSize) {
    return Fail(ENOMEM, name + " is too large");
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(st->st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    ErrnoOr<size_t> n = p.inode().ReadData(
        std::span<uint8_t>(bytes.data() + done, bytes.size() - done), done);
    if (!n.ok()) return Fail(n.error().value(), name);
    if (*n == 0) break;
    done += *n;
  }
  bytes.resize(done);
  return bytes;
}

// Parses "#!interpreter [arg]" from the first line.
bool ParseShebang(const std::vector<uint8_t>& bytes, std::string& interp,
                  std::string& arg) {
  if (bytes.size() < 2 || bytes[0] != '#' || bytes[1] != '!') return false;
  std::string line(bytes.begin() + 2,
                   bytes.begin() + std::min(bytes.size(), kMaxShebangLine));
  line = line.substr(0, line.find('\n'));
  absl::string_view rest = absl::StripAsciiWhitespace(line);
  size_t space = rest.find_first_of(" \t");
  interp = std::string(rest.substr(0, space));
  if (space != absl::string_view::npos) {
    arg = std::string(absl::StripAsciiWhitespace(rest.substr(space)));
  }
  return true;
}

}  // namespace

std::variant<ExecResult, ExecFailure> LoadExecutable(
    Task& task, const std::string& path, std::vector<std::string> argv,
    const std::vector<std::string>& envp) {
  std::string current = path;
  for (int depth = 0;; ++depth) {
    std::variant<vfs::Path, ExecFailure> found = FindExecutable(task, current);
    if (auto* f = std::get_if<ExecFailure>(&found)) return *f;
    vfs::Path exe = std::get<vfs::Path>(found);
    std::variant<std::vector<uint8_t>, ExecFailure> read =
        ReadWhole(exe, current);
    if (auto* f = std::get_if<ExecFailure>(&read)) return *f;
    std::vector<uint8_t>& bytes = std::get<std::vector<uint8_t>>(read);

    std::string interp, interp_arg;
    if (ParseShebang(bytes, interp, interp_arg)) {
      if (depth + 1 >= kMaxInterpreterDepth) {
        return Fail(ELOOP,
                    current + ": too many levels of script interpreters");
      }
      if (interp.empty()) return Fail(ENOEXEC, current + ": empty #! line");
      std::vector<std::string> next = {interp};
      if (!interp_arg.empty()) next.push_back(interp_arg);
      next.push_back(current);
      if (argv.size() > 1)
        next.insert(next.end(), argv.begin() + 1, argv.end());
      argv = std::move(next);
      current = interp;
      continue;
    }

    loader::ExecArgs args;
    args.argv = argv;
    args.envp = envp;
    args.execfn = path;
    if (Vdso* vdso = task.kernel().vdso()) args.vdso = vdso->Pages();
    args.path = vfs::PathName(exe, task.fs().root);
    args.uid = task.creds().ruid;
    args.euid = task.creds().euid;
    args.gid = task.creds().rgid;
    args.egid = task.creds().egid;
    const struct rlimit& stack = task.rlimits()[RLIMIT_STACK];
    if (stack.rlim_cur != RLIM_INFINITY) args.stack_size = stack.rlim_cur;
    args.read_interpreter =
        [&task](
            const std::string& name) -> absl::StatusOr<std::vector<uint8_t>> {
      std::variant<vfs::Path, ExecFailure> p = FindExecutable(task, name);
      if (auto* f = std::get_if<ExecFailure>(&p)) {
        // ld.so need not be executable by the caller, only readable.
        ErrnoOr<vfs::Path> any =
            vfs::Lookup(task.resolver(), task.fs().cwd, name, vfs::kFollow);
        if (!any.ok()) return absl::NotFoundError(f->message);
        p = *any;
      }
      std::variant<std::vector<uint8_t>, ExecFailure> b =
          ReadWhole(std::get<vfs::Path>(p), name);
      if (auto* f = std::get_if<ExecFailure>(&b)) {
        return absl::FailedPreconditionError(f->message);
      }
      return std::move(std::get<std::vector<uint8_t>>(b));
    };
    absl::StatusOr<loader::LoadedProgram> loaded =
        loader::LoadProgram(task.mm(), bytes, args);
    if (!loaded.ok()) {
      int err = absl::IsResourceExhausted(loaded.status()) ? ENOMEM
                : absl::IsNotFound(loaded.status())        ? ENOENT
                                                           : ENOEXEC;
      if (loaded.status().message() == "argument list too long") err = E2BIG;
      return ExecFailure{
          err, absl::StrCat(current, ": ", loaded.status().message())};
    }
    task.argv() = argv;
    task.envp() = envp;
    return ExecResult{std::move(*loaded), exe};
  }
}

}  // namespace sentry::kernel
