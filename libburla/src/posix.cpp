#include "posix.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <sstream>

extern char** environ;

namespace burla::posix {

void fail(const std::string& what) {
  throw error("burla: " + what + ": " + std::strerror(errno));
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

std::uint64_t file_size(int fd, const std::string& what) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail("cannot stat " + what);
  return static_cast<std::uint64_t>(st.st_size);
}

std::string read_file(const std::string& path) {
  fd f = open_file(path, O_RDONLY);
  std::string out;
  char buf[65536];
  while (std::size_t n = read_some(f.get(), buf, sizeof buf, path)) out.append(buf, n);
  return out;
}

void write_file_atomic(const std::string& path, std::string_view contents) {
  const std::string tmp = path + ".tmp";
  {
    fd f = open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    write_all(f.get(), contents, tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename " + tmp + " to " + path);
}

void make_dirs(const std::string& path, mode_t mode) {
  if (path.empty()) return;
  for (std::size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1)) {
    const std::string parent = path.substr(0, pos);
    if (::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) fail("cannot create directory " + parent);
  }
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) fail("cannot create directory " + path);
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

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
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

command_result run(const std::vector<std::string>& argv, int timeout_seconds) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) fail("cannot create a pipe for " + argv.at(0));
  fd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) fail("cannot create a pipe for " + argv.at(0));
  fd err_r(err_pipe[0]), err_w(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.get(), 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    errno = rc;
    fail("cannot run " + argv[0]);
  }
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

}  // namespace burla::posix
