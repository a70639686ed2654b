#include "posix.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

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

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
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
