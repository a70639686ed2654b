// Captures what calls print to stdout and stderr, call by call, without a system call per call.
// fd 1 and fd 2 point at memory files that are also mapped here: a call printed something when
// the byte after the last one collected is no longer zero. The C stdio buffers are checked with
// __fpending, which costs nothing when empty.
#pragma once

#include <signal.h>
#include <stdio_ext.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace burla::mpi_runner {

class output_capture {
 public:
  /// Redirects fd 1 and 2 to the given memory files (memfd_create), which stay open elsewhere
  /// too: whoever holds them can read what a call printed even if this process dies.
  output_capture(int out_memfd, int err_memfd);
  output_capture() : output_capture(make_memfd("stdout"), make_memfd("stderr")) {}
  ~output_capture();
  output_capture(const output_capture&) = delete;
  output_capture& operator=(const output_capture&) = delete;

  /// Flushes stdio, then moves what was printed since the last collect into out/err.
  /// Returns false (cheaply: it runs after every call) when nothing was printed.
  bool collect(std::string& out, std::string& err) {
    if (__fpending(stdout) == 0 && __fpending(stderr) == 0 && !out_.changed() && !err_.changed() &&
        !truncated)
      return false;
    return collect_printed(out, err);
  }
  /// Like collect, but also catches output that begins with NUL bytes (one lseek per stream).
  bool collect_thorough(std::string& out, std::string& err);
  /// Points fd 1 and 2 at the memory files again if a call closed or replaced them (once per
  /// batch: the calls after it in its own batch print nowhere).
  void reattach();
  /// Bytes of each memory file collected so far (what a crash tail starts after).
  std::uint64_t collected_out() const { return out_.pos; }
  std::uint64_t collected_err() const { return err_.pos; }
  /// Creates a memory file for one stream.
  static int make_memfd(const char* name);

  /// Set by the SIGBUS handler when a cheap check read a page of a file that a call truncated.
  static volatile sig_atomic_t truncated;
  /// Bytes of each memory file mapped for the cheap check.
  static constexpr std::uint64_t map_size = 1u << 20;

 private:
  bool collect_printed(std::string& out, std::string& err);

  struct stream {
    int target = -1;  // 1 or 2
    int saved = -1;   // the original fd
    int memfd = -1;
    char* map = nullptr;
    std::uint64_t pos = 0;  // bytes collected so far
    char last = 0;          // the last byte collected, to notice a rewritten file
    void open(int fd, int file, const char* name);
    void close();
    void remap();
    void start_over();
    /// New bytes after ours, or our last byte no longer there (the file was rewritten).
    bool changed() const {
      if (pos < map_size) return map[pos] != 0 || (pos > 0 && map[pos - 1] != last);
      return grown();
    }
    bool grown() const;
    bool rewritten() const;
    bool take(std::string& into, bool thorough);
    /// After something truncated the file (see capture.cpp): collects what is there.
    bool recover_if_truncated(std::string& into);
  };
  stream out_, err_;
};

}  // namespace burla::mpi_runner
