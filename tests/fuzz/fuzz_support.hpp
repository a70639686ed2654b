// What the fuzz targets share: a private scratch directory and whole-file writes, since the
// readers under test take paths (and refuse symlinks, so /proc/self/fd/N cannot stand in).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

/// A directory of this process's own, removed at exit.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/burla-fuzz-XXXXXX";
    if (!::mkdtemp(tmpl.data())) std::abort();
    static std::string removed;
    removed = tmpl;
    std::atexit([] {
      const std::string cmd = "rm -rf '" + removed + "'";
      if (std::system(cmd.c_str()) != 0) std::fputs("could not remove the fuzz scratch directory\n", stderr);
    });
    return tmpl;
  }();
  return dir;
}

inline void write_file(const std::string& path, std::string_view bytes, bool append = false) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0600);
  if (fd < 0) std::abort();
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n <= 0) std::abort();
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  ::close(fd);
}

/// Consumes fixed-size fields from the front of a fuzz input; zeros once it runs out.
class input {
 public:
  input(const std::uint8_t* data, std::size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}
  template <class T>
  T get() {
    T value{};
    const std::size_t n = std::min(sizeof(T), rest_.size());
    std::copy_n(rest_.data(), n, reinterpret_cast<char*>(&value));
    rest_.remove_prefix(n);
    return value;
  }
  std::string_view take(std::size_t n) {
    n = std::min(n, rest_.size());
    std::string_view head = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return head;
  }
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

/// A user type serialized with Boost: the decode_value target and its seeds share it.
struct point {
  double x = 0, y = 0;
  std::string name;
  std::vector<int> tags;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& x& y& name& tags;
  }
};

/// A record (codec.hpp): raw bytes with a compound type code.
struct sample {
  double x = 0;
  int n = 0;
  bool ok = false;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& x& n& ok;
  }
};

}  // namespace fuzz
