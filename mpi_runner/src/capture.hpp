// Captures what calls print to stdout and stderr, call by call, without a system call per call.
// fd 1 and fd 2 point at memory files that are also mapped here: a call printed something when
// the byte after the last one collected is no longer zero. The C stdio buffers are checked with
// __fpending, which costs nothing when empty.
#pragma once

#include <cstdint>
#include <string>

namespace burla::runner {

class output_capture {
 public:
  output_capture();
  ~output_capture();
  output_capture(const output_capture&) = delete;
  output_capture& operator=(const output_capture&) = delete;

  /// Flushes stdio, then moves what was printed since the last collect into out/err.
  /// Returns false (cheaply) when nothing was printed.
  bool collect(std::string& out, std::string& err);
  /// Like collect, but also catches output that begins with NUL bytes (one lseek per stream).
  bool collect_thorough(std::string& out, std::string& err);

 private:
  struct stream {
    int target = -1;  // 1 or 2
    int saved = -1;   // the original fd
    int memfd = -1;
    char* map = nullptr;
    std::uint64_t pos = 0;  // bytes collected so far
    char last = 0;          // the last byte collected, to notice a rewritten file
    void open(int fd, const char* name);
    void close();
    void remap();
    void start_over();
    bool changed() const;
    bool rewritten() const;
    bool take(std::string& into, bool thorough);
    /// After something truncated the file (see capture.cpp): collects what is there.
    bool recover_if_truncated(std::string& into);
  };
  stream out_, err_;
};

}  // namespace burla::runner
