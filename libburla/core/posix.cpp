#include "posix.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>

extern char** environ;

namespace burla::posix {

void fail(const std::string& what) {
  fail_with(errno, what);
}

void fail_with(int err, const std::string& what) {
  throw error("burla: " + what + ": " + std::strerror(err));
}

std::optional<fd> try_lock(const std::string& path) {
  fd f = open_file(path, O_RDWR | O_CREAT, 0600);
  int r;
  do r = ::flock(f.get(), LOCK_EX | LOCK_NB);
  while (r < 0 && errno == EINTR);
  if (r < 0 && errno == EWOULDBLOCK) return std::nullopt;
  if (r < 0) fail("cannot lock " + path);
  return f;
}

std::optional<fd> open_pidfd(pid_t pid) {
  const long raw = ::syscall(SYS_pidfd_open, pid, 0);
  if (raw < 0 && errno == ESRCH) return std::nullopt;
  if (raw < 0) fail("cannot follow process " + std::to_string(pid) + " (pidfd_open)");
  return fd(static_cast<int>(raw));
}

pid_t spawn(const std::vector<std::string>& argv, char* const* envp, int out, int err) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  if (const int rc = posix_spawn_file_actions_init(&actions); rc != 0)
    fail_with(rc, "cannot start " + argv.at(0));
  posix_spawnattr_t attr;
  if (const int rc = posix_spawnattr_init(&attr); rc != 0) {
    posix_spawn_file_actions_destroy(&actions);
    fail_with(rc, "cannot start " + argv.at(0));
  }
  // Each step returns its error instead of setting errno; the first that fails is the cause.
  int rc = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, out, 1);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, err, 2);
  // Set in the child before it runs: no signal to the terminal's group can reach it first.
  if (rc == 0) rc = posix_spawnattr_setpgroup(&attr, 0);
  if (rc == 0) rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  if (rc == 0) rc = ::posix_spawn(&pid, argv.at(0).c_str(), &actions, &attr, args.data(), envp);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) fail_with(rc, "cannot start " + argv[0]);
  return pid;
}

fd& fd::operator=(fd&& o) noexcept {
  if (this != &o) {
    if (raw_ >= 0) ::close(raw_);
    raw_ = o.release();
  }
  return *this;
}

fd::~fd() {
  if (raw_ >= 0) ::close(raw_);
}

fd open_file(const std::string& path, int flags, mode_t mode) {
  int raw = ::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, mode);
  if (raw < 0) fail("cannot open " + path);
  return fd(raw);
}

fd create_file(const std::string& path, int flags, mode_t mode) {
  // O_EXCL also refuses a dangling symlink, which O_CREAT alone would follow.
  int raw = ::open(path.c_str(), flags | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (raw < 0) fail("cannot create " + path);
  fd f(raw);
  // The umask may have taken bits away; the file is ours and new, so set exactly `mode`.
  if (::fchmod(f.get(), mode) != 0) fail("cannot set the permissions of " + path);
  return f;
}

void write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write " + what);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void pread_all(int fd, char* out, std::size_t size, std::uint64_t offset, const std::string& what) {
  while (size > 0) {
    ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot read " + what);
    }
    if (n == 0) throw error("burla: cannot read " + what + ": the file ends early (truncated?)");
    out += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
}

std::size_t read_some(int fd, char* out, std::size_t size, const std::string& what) {
  for (;;) {
    ssize_t n = ::read(fd, out, size);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) fail("cannot read " + what);
  }
}

void truncate_file(int fd, std::uint64_t size, const std::string& what) {
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0)
    fail("cannot cut " + what + " to " + std::to_string(size) + " bytes");
}

allocation allocate_blocks(int fd, std::uint64_t offset, std::uint64_t length, const std::string& what) {
  int rc;
  do rc = ::fallocate(fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset), static_cast<off_t>(length));
  while (rc != 0 && errno == EINTR);
  if (rc == 0) return allocation::done;
  if (errno == ENOSPC || errno == EDQUOT) return allocation::no_space;
  if (errno == EOPNOTSUPP || errno == ENOSYS) return allocation::unsupported;
  fail("cannot allocate disk space for " + what);
}

void free_blocks(int fd, std::uint64_t offset, std::uint64_t length) {
  // Best effort: where holes cannot be punched the blocks go when the file does.
  (void)::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                    static_cast<off_t>(length));
}

file_system file_system_of(const std::string& path) {
  file_system fs;
  struct statvfs v {};
  if (::statvfs(path.c_str(), &v) == 0) fs.free_bytes = static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
  // The mount point: the highest directory above path on the same device.
  std::string at = absolute(path);
  struct stat st {};
  if (::stat(at.c_str(), &st) != 0) return {at, fs.free_bytes};
  const dev_t dev = st.st_dev;
  while (at.size() > 1) {
    const auto slash = at.find_last_of('/');
    const std::string up = slash == 0 ? "/" : at.substr(0, slash);
    if (::stat(up.c_str(), &st) != 0 || st.st_dev != dev) break;
    at = up;
  }
  fs.mount_point = at;
  return fs;
}

std::uint64_t file_size(int fd, const std::string& what) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail("cannot stat " + what);
  return static_cast<std::uint64_t>(st.st_size);
}

std::string read_file(const std::string& path) {
  // O_NONBLOCK: opening a planted FIFO must not hang; it is refused below.
  fd f = open_file(path, O_RDONLY | O_NONBLOCK);
  struct stat st {};
  if (::fstat(f.get(), &st) != 0) fail("cannot stat " + path);
  if (!S_ISREG(st.st_mode)) throw error("burla: cannot read " + path + ": not a regular file");
  std::string out;
  char buf[65536];
  while (std::size_t n = read_some(f.get(), buf, sizeof buf, path)) out.append(buf, n);
  return out;
}

temp_file create_temp_file(const std::string& path) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  for (int attempt = 0;; ++attempt) {
    char suffix[24];
    std::snprintf(suffix, sizeof suffix, ".tmp-%012llx",
                  static_cast<unsigned long long>(rng() & 0xffffffffffffULL));
    std::string tmp = path + suffix;
    // A random name, yet created exclusively: a name taken (or guessed and planted) means another.
    int raw = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (raw >= 0) {
      fd f(raw);
      if (::fchmod(f.get(), 0600) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        errno = e;
        fail("cannot set the permissions of " + tmp);
      }
      return {std::move(f), std::move(tmp)};
    }
    if (errno != EEXIST || attempt == 100) fail("cannot create a temporary file for " + path);
  }
}

void rename_file(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) fail("cannot rename " + from + " to " + to);
}

bool link_file(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) == 0) return true;
  if (errno == EPERM || errno == EOPNOTSUPP || errno == EXDEV) return false;
  fail("cannot link " + from + " as " + to);
}

void write_file_atomic(const std::string& path, std::string_view contents) {
  // Replacing a file (job.ini on resume): its data reaches the disk before the name does, so a
  // crash cannot leave `path` naming a short file. A new file is not synced: the files written
  // with it (inputs.bin) are not either, and on ext4 the sync would flush them too (40 ms for a
  // job of 8 MB). The directory is not synced: losing the new name only loses the whole file.
  const bool replacing = exists(path);
  temp_file t = create_temp_file(path);
  try {
    write_all(t.file.get(), contents, t.path);
    if (replacing && ::fsync(t.file.get()) != 0) fail("cannot write " + t.path + " to disk (fsync)");
    if (::close(t.file.release()) != 0) fail("cannot write " + t.path + " (close)");
    rename_file(t.path, path);
  } catch (...) {
    ::unlink(t.path.c_str());
    throw;
  }
}

bool make_dir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0) {
    if (errno == EEXIST) return false;
    fail("cannot create directory " + path);
  }
  // The umask may have taken bits away (0700 & ~0200 would lock us out); set exactly `mode`.
  fd d = open_file(path, O_RDONLY | O_DIRECTORY);
  if (::fchmod(d.get(), mode) != 0) fail("cannot set the permissions of " + path);
  return true;
}

void make_dirs(const std::string& path, mode_t mode) {
  if (path.empty()) return;
  for (std::size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1))
    if (path[pos - 1] != '/') make_dir(path.substr(0, pos), mode);
  make_dir(path, mode);
}

namespace {

/// The user's name, or the uid as a number when it has none.
std::string user_name(uid_t uid) {
  passwd pw{}, *found = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found) return found->pw_name;
  return std::to_string(uid);
}

std::string describe_user(uid_t uid) {
  return "user " + user_name(uid) + " (uid " + std::to_string(uid) + ")";
}

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string who_can_write(mode_t mode) {
  if ((mode & S_IWGRP) && (mode & S_IWOTH)) return "its group and others";
  return (mode & S_IWGRP) ? "its group" : "others";
}

std::vector<std::string> path_components(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream in(path);
  for (std::string c; std::getline(in, c, '/');)
    if (!c.empty() && c != ".") out.push_back(c);
  return out;
}

}  // namespace

void require_private_dir(const std::string& path, const std::string& what, const std::string& advice) {
  const uid_t me = ::geteuid();
  auto refuse = [&](const std::string& why) -> void {
    throw error("burla: " + what + " is not safe to use: " + why + "; " + advice);
  };
  // Above the directory: owned by us or root, and nobody else may rename what it holds.
  auto check_above = [&](const std::string& dir, const struct stat& st) {
    if (st.st_uid != me && st.st_uid != 0)
      refuse(dir + " belongs to " + describe_user(st.st_uid) + ", who could replace what it holds");
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
      refuse(dir + " is writable by " + who_can_write(st.st_mode) + " (mode " + octal_mode(st.st_mode) +
             ") without the sticky bit, so they could replace what it holds");
  };
  // Resolve the path by hand, from /, so that every directory and symlink on the way is seen,
  // including those that symlinks lead to (a site's /home -> /gpfs/home is fine).
  const auto parts = path_components(absolute(path));
  std::deque<std::string> todo(parts.begin(), parts.end());
  std::string cur;  // "" is /
  struct stat st {};
  if (::lstat("/", &st) != 0) fail("cannot check /");
  check_above("/", st);
  for (int links = 0; !todo.empty();) {
    const std::string c = todo.front();
    todo.pop_front();
    if (c == "..") {
      cur = cur.substr(0, cur.rfind('/'));
      continue;
    }
    const std::string next = cur + "/" + c;
    if (::lstat(next.c_str(), &st) != 0) fail("cannot check " + next);
    if (S_ISLNK(st.st_mode)) {
      // Whoever owns a symlink decides where it leads.
      if (st.st_uid != me && st.st_uid != 0)
        refuse(next + " is a symbolic link that belongs to " + describe_user(st.st_uid));
      if (++links > 40) {
        errno = ELOOP;
        fail("cannot check " + path);
      }
      char buf[PATH_MAX + 1];
      const ssize_t n = ::readlink(next.c_str(), buf, PATH_MAX);
      if (n < 0) fail("cannot read the symbolic link " + next);
      const std::string target(buf, static_cast<std::size_t>(n));
      const auto more = path_components(target);
      todo.insert(todo.begin(), more.begin(), more.end());
      if (!target.empty() && target[0] == '/') cur.clear();
      continue;
    }
    if (!S_ISDIR(st.st_mode)) refuse(next + " is not a directory");
    if (!todo.empty()) check_above(next, st);  // the last one is checked below, more strictly
    cur = next;
  }
  // The directory itself: ours, and writable by us alone (sticky or not: it holds our entries).
  const std::string dir = cur.empty() ? "/" : cur;
  if (::lstat(dir.c_str(), &st) != 0) fail("cannot check " + dir);
  if (st.st_uid != me)
    refuse(dir + " belongs to " + describe_user(st.st_uid) + ", not to you (" + describe_user(me) + ")");
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    const std::string mode = " (mode " + octal_mode(st.st_mode) + ")";
    if (st.st_mode & S_ISVTX)  // /tmp and the like: shared by design
      refuse(dir + " is shared: writable by " + who_can_write(st.st_mode) + mode +
             "; use a private directory inside it, such as " + dir + (dir == "/" ? "" : "/") + "burla-" +
             user_name(me));
    refuse(dir + " is writable by " + who_can_write(st.st_mode) + mode + "; chmod go-w " + dir +
           " fixes that");
  }
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char buf[PATH_MAX + 1] = {};
  if (!::getcwd(buf, PATH_MAX)) fail("cannot read the current directory");
  return std::string(buf) + "/" + path;
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(path.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) out.emplace_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

namespace {

/// The blocks allocated to what lstat describes, in bytes (st_blocks counts 512-byte units).
std::uint64_t allocated_bytes(const struct stat& st) {
  return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

/// The disk space of everything in the directory open as dir (named path, for messages),
/// removing each entry once counted when `remove` is set. Entries are reached through the
/// directory's descriptor, so a symlink swapped in for a directory is never followed.
std::uint64_t walk_tree(fd dir, const std::string& path, bool remove) {
  DIR* d = ::fdopendir(dir.get());
  if (!d) fail("cannot read the directory " + path);
  dir.release();  // closedir closes it
  const std::unique_ptr<DIR, int (*)(DIR*)> owned(d, ::closedir);
  std::uint64_t bytes = 0;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(d);
    if (!e) {
      if (errno != 0) fail("cannot read the directory " + path);
      return bytes;
    }
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string sub = path + "/" + name;
    struct stat st {};
    if (::fstatat(::dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      fail("cannot check " + sub);
    }
    bytes += allocated_bytes(st);
    const bool is_dir = S_ISDIR(st.st_mode);
    if (is_dir) {
      const int raw = ::openat(::dirfd(d), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (raw < 0 && errno == ENOENT) continue;
      if (raw < 0) fail("cannot open the directory " + sub);
      bytes += walk_tree(fd(raw), sub, remove);
    }
    if (remove && ::unlinkat(::dirfd(d), name.c_str(), is_dir ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT)
      fail("cannot remove " + sub);
  }
}

/// What lstat says of path; nullopt if nothing is there.
std::optional<struct stat> lstat_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return st;
  if (errno != ENOENT) fail("cannot check " + path);
  return std::nullopt;
}

/// The directory at path, opened without following a symlink put there meanwhile.
fd open_dir(const std::string& path) {
  const int raw = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (raw < 0) fail("cannot open the directory " + path);
  return fd(raw);
}

}  // namespace

std::uint64_t remove_tree(const std::string& path) {
  const auto st = lstat_of(path);
  if (!st) return 0;
  std::uint64_t bytes = allocated_bytes(*st);
  if (!S_ISDIR(st->st_mode)) {  // a symlink (or a file) at path goes, not what it names
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail("cannot remove " + path);
    return bytes;
  }
  bytes += walk_tree(open_dir(path), path, true);
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) fail("cannot remove " + path);
  return bytes;
}

std::uint64_t disk_usage(const std::string& path) {
  const auto st = lstat_of(path);
  if (!st) fail_with(ENOENT, "cannot measure " + path);
  return allocated_bytes(*st) + (S_ISDIR(st->st_mode) ? walk_tree(open_dir(path), path, false) : 0);
}

std::int64_t modified_time(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) fail("cannot check " + path);
  return static_cast<std::int64_t>(st.st_mtim.tv_sec);
}

void set_modified_time(const std::string& path, std::int64_t seconds) {
  const timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(seconds), 0}};
  if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
    fail("cannot set the time of " + path);
}

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

void set_env(const std::string& name, const std::string& value) {
  if (::setenv(name.c_str(), value.c_str(), 1) != 0) fail("cannot set the environment variable " + name);
}

void set_signal_handler(int sig, void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (::sigaction(sig, &sa, nullptr) != 0) fail("cannot set the handler of signal " + std::to_string(sig));
}

saved_signals::saved_signals(std::initializer_list<int> signals) {
  for (int sig : signals) {
    struct sigaction sa {};
    if (::sigaction(sig, nullptr, &sa) != 0) fail("cannot read the handler of signal " + std::to_string(sig));
    saved_.emplace_back(sig, sa);
  }
}

bool saved_signals::is_default(int sig) const {
  for (const auto& [s, sa] : saved_)
    if (s == sig) return !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL;
  return false;
}

void saved_signals::restore() const {
  for (const auto& [sig, sa] : saved_)
    if (::sigaction(sig, &sa, nullptr) != 0)
      fail("cannot restore the handler of signal " + std::to_string(sig));
}

namespace {

std::atomic<std::uint64_t> counted[NSIG];
std::atomic<int> counted_wake_read{-1}, counted_wake_write{-1};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "a signal handler may only use lock-free atomics");

void on_counted_signal(int sig) {
  const int saved = errno;
  counted[sig].fetch_add(1);
  // A full pipe already holds a wake-up.
  if (const int w = counted_wake_write.load(); w >= 0 && ::write(w, "", 1) < 0) {
  }
  errno = saved;
}

}  // namespace

void count_signal(int sig) {
  static std::once_flag once;
  std::call_once(once, [] {
    pipe_ends p = make_pipe("to wake up for signals",
                            O_NONBLOCK);  // kept for the process's life: a handler may write any time
    counted_wake_read = p.read.release();
    counted_wake_write = p.write.release();
  });
  struct sigaction sa {};
  sa.sa_handler = on_counted_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (::sigaction(sig, &sa, nullptr) != 0) fail("cannot set the handler of signal " + std::to_string(sig));
}

std::uint64_t signals_counted(int sig) {
  return counted[sig].load();
}

int counted_signal_fd() {
  return counted_wake_read.load();
}

void drain_counted_signals() {
  char buf[64];
  if (const int r = counted_wake_read.load(); r >= 0)
    while (::read(r, buf, sizeof buf) > 0) {
    }
}

void die_by_signal(int sig) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  ::raise(sig);
  ::_exit(128 + sig);  // a signal whose default action is not to end the process
}

void redirect(int from, int to, const std::string& what) {
  int r;
  do r = ::dup2(from, to);
  while (r < 0 && errno == EINTR);
  if (r < 0) fail("cannot redirect " + what);
}

std::string find_on_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  std::stringstream path(env("PATH").value_or("/usr/bin:/bin"));
  for (std::string dir; std::getline(path, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

pipe_ends make_pipe(const std::string& what, int flags) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC | flags) != 0) fail("cannot create a pipe " + what);
  return {fd(ends[0]), fd(ends[1])};
}

command_result run(const std::vector<std::string>& argv, int timeout_seconds) {
  auto [out_r, out_w] = make_pipe("for the output of " + argv.at(0));
  auto [err_r, err_w] = make_pipe("for the errors of " + argv.at(0));

  const pid_t pid = spawn(argv, environ, out_w.get(), err_w.get());
  out_w = fd();
  err_w = fd();

  command_result r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd fds[2] = {{out_open ? out_r.get() : -1, POLLIN, 0}, {err_open ? err_r.get() : -1, POLLIN, 0}};
    if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR)
      fail("cannot wait for " + argv[0]);
    char buf[4096];
    for (int k = 0; k < 2; ++k) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const std::size_t n = read_some(fds[k].fd, buf, sizeof buf, "the output of " + argv[0]);
      if (n == 0) (k == 0 ? out_open : err_open) = false;
      (k == 0 ? r.out : r.err).append(buf, n);
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      if (errno == ECHILD) return r;  // reaped elsewhere (SIGCHLD ignored): the output tells
      fail("cannot wait for " + argv[0]);
    }
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  return r;
}

std::string hostname() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) fail("cannot read the host name");
  return buf;
}

std::string self_executable() {
  char buf[PATH_MAX + 1] = {};
  ssize_t n = ::readlink("/proc/self/exe", buf, PATH_MAX);
  if (n < 0) fail("cannot find this program's path (/proc/self/exe)");
  return std::string(buf, static_cast<std::size_t>(n));
}

bool is_terminal(int fd) {
  return ::isatty(fd) == 1;
}

std::string utc_timestamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

double thread_cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

}  // namespace burla::posix
