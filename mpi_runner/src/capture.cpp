#include "capture.hpp"

#include "libburla/src/posix.hpp"

#include <stdio_ext.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace burla::runner {
namespace {

constexpr std::uint64_t map_size = 1u << 20;

void flush_stdio() {
  if (__fpending(stdout) > 0) std::fflush(stdout);
  if (__fpending(stderr) > 0) std::fflush(stderr);
}

}  // namespace

void output_capture::stream::open(int fd, const char* name) {
  target = fd;
  saved = ::dup(fd);
  if (saved < 0) posix::fail("cannot keep the job's own " + std::string(name));
  memfd = ::memfd_create(name, MFD_CLOEXEC);
  if (memfd < 0) posix::fail("cannot create a memory file to capture " + std::string(name));
  if (::ftruncate(memfd, map_size) != 0) posix::fail("cannot size the capture file");
  void* m = ::mmap(nullptr, map_size, PROT_READ, MAP_SHARED, memfd, 0);
  if (m == MAP_FAILED) posix::fail("cannot map the capture file");
  map = static_cast<char*>(m);
  if (::dup2(memfd, fd) < 0) posix::fail("cannot redirect " + std::string(name));
}

void output_capture::stream::close() {
  if (saved >= 0) ::dup2(saved, target), ::close(saved);
  if (map) ::munmap(map, map_size);
  if (memfd >= 0) ::close(memfd);
}

bool output_capture::stream::changed() const {
  if (pos < map_size) return map[pos] != 0;
  return static_cast<std::uint64_t>(::lseek(memfd, 0, SEEK_CUR)) > pos;
}

bool output_capture::stream::take(std::string& into, bool thorough) {
  if (!thorough && !changed()) return false;
  const off_t end = ::lseek(memfd, 0, SEEK_CUR);
  if (end < 0) posix::fail("cannot read the capture file position");
  const auto e = static_cast<std::uint64_t>(end);
  if (e <= pos) return false;
  const std::size_t old = into.size();
  into.resize(old + (e - pos));
  posix::pread_all(memfd, into.data() + old, e - pos, pos, "captured output");
  pos = e;
  if (pos >= map_size / 2) {  // start over: truncating zeroes the mapped pages
    if (::ftruncate(memfd, 0) != 0 || ::ftruncate(memfd, map_size) != 0 || ::lseek(memfd, 0, SEEK_SET) != 0)
      posix::fail("cannot reset the capture file");
    pos = 0;
  }
  return true;
}

output_capture::output_capture() {
  std::cout.flush();
  std::fflush(stdout);
  std::fflush(stderr);
  out_.open(1, "stdout");
  err_.open(2, "stderr");
}

output_capture::~output_capture() {
  std::cout.flush();
  std::fflush(stdout);
  out_.close();
  err_.close();
}

bool output_capture::collect(std::string& out, std::string& err) {
  flush_stdio();
  const bool a = out_.take(out, false);
  const bool b = err_.take(err, false);
  return a || b;
}

bool output_capture::collect_thorough(std::string& out, std::string& err) {
  std::cout.flush();
  std::clog.flush();
  flush_stdio();
  const bool a = out_.take(out, true);
  const bool b = err_.take(err, true);
  return a || b;
}

}  // namespace burla::runner
