#include "capture.hpp"

#include <signal.h>
#include <stdio_ext.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>

#include "libburla/core/posix.hpp"

namespace burla::mpi_runner {
namespace {

constexpr std::uint64_t map_size = output_capture::map_size;

// A call may truncate its own stdout: a child opening /dev/stdout with O_TRUNC reopens our
// memory file and empties it. Reading the mapping past the new end then raises SIGBUS; this
// handler puts a zero page there instead (so the cheap check sees "nothing new") and flags the
// truncation, which the next collect repairs.
char* windows[2] = {nullptr, nullptr};
long page_size = 4096;
struct sigaction previous_sigbus;

void on_sigbus(int sig, siginfo_t* info, void* context) {
  const auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  if (info->si_code > 0) {  // a fault (not kill or raise): is it a read of ours?
    for (char* w : windows) {
      const auto begin = reinterpret_cast<std::uintptr_t>(w);
      if (!w || addr < begin || addr >= begin + map_size) continue;
      void* page = reinterpret_cast<void*>(addr & ~static_cast<std::uintptr_t>(page_size - 1));
      if (::mmap(page, static_cast<std::size_t>(page_size), PROT_READ,
                 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
        break;  // cannot repair: fail as without us
      output_capture::truncated = 1;
      return;
    }
  }
  // Not ours: what would have happened without us.
  if (previous_sigbus.sa_flags & SA_SIGINFO) {
    previous_sigbus.sa_sigaction(sig, info, context);
  } else if (previous_sigbus.sa_handler == SIG_DFL) {
    ::signal(SIGBUS, SIG_DFL);  // a fault repeats on return, a sent signal is raised again
    if (info->si_code <= 0) ::raise(SIGBUS);
  } else if (previous_sigbus.sa_handler != SIG_IGN) {
    previous_sigbus.sa_handler(sig);
  }
}

void flush_stdio() {
  if (__fpending(stdout) > 0) std::fflush(stdout);
  if (__fpending(stderr) > 0) std::fflush(stderr);
}

}  // namespace

int output_capture::make_memfd(const char* name) {
  const int fd = ::memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) posix::fail("cannot create a memory file to capture " + std::string(name));
  return fd;
}

void output_capture::stream::open(int fd, int file, const char* name) {
  target = fd;
  saved = ::dup(fd);
  if (saved < 0) posix::fail("cannot keep the job's own " + std::string(name));
  memfd = file;
  if (::ftruncate(memfd, map_size) != 0) posix::fail("cannot size the capture file");
  map = nullptr;
  remap();
  if (::dup2(memfd, fd) < 0) posix::fail("cannot redirect " + std::string(name));
}

void output_capture::stream::remap() {
  void* m = ::mmap(map, map_size, PROT_READ, MAP_SHARED | (map ? MAP_FIXED : 0), memfd, 0);
  if (m == MAP_FAILED) posix::fail("cannot map the capture file");
  map = static_cast<char*>(m);
}

void output_capture::stream::start_over() {
  if (::ftruncate(memfd, 0) != 0 || ::ftruncate(memfd, map_size) != 0 || ::lseek(memfd, 0, SEEK_SET) != 0)
    posix::fail("cannot reset the capture file");
  pos = 0;
}

bool output_capture::stream::rewritten() const {
  return posix::file_size(memfd, "the capture file") < map_size ||
         (pos > 0 && pos <= map_size && map[pos - 1] != last);
}

bool output_capture::stream::recover_if_truncated(std::string& into) {
  if (!rewritten()) return false;
  // Something reopened the file with O_TRUNC and wrote from offset 0; our own writes, if any,
  // went on at our offset. Keep what is there, without the zeros in between, and start over.
  const std::uint64_t size = posix::file_size(memfd, "the capture file");
  std::string all(size, '\0');
  posix::pread_all(memfd, all.data(), size, 0, "captured output");
  std::erase(all, '\0');
  into += all;
  start_over();
  remap();  // replaces the zero pages the SIGBUS handler put in
  return !all.empty();
}

void output_capture::stream::close() {
  if (saved >= 0) ::dup2(saved, target), ::close(saved);
  if (map) ::munmap(map, map_size);
  if (memfd >= 0) ::close(memfd);
}

bool output_capture::stream::grown() const {
  return static_cast<std::uint64_t>(::lseek(memfd, 0, SEEK_CUR)) > pos;
}

bool output_capture::stream::take(std::string& into, bool thorough) {
  if (!thorough && !changed()) return false;
  if (rewritten()) return recover_if_truncated(into);
  const off_t end = ::lseek(memfd, 0, SEEK_CUR);
  if (end < 0) posix::fail("cannot read the capture file position");
  const auto e = static_cast<std::uint64_t>(end);
  bool got = false;
  if (e > pos) {
    const std::size_t old = into.size();
    into.resize(old + (e - pos));
    posix::pread_all(memfd, into.data() + old, e - pos, pos, "captured output");
    pos = e;
    last = into.back();
    got = true;
  }
  // Writes through another open of the file with O_APPEND (`>> /dev/stdout`) land at its end.
  const std::uint64_t ours = std::max(map_size, e);
  const std::uint64_t size = posix::file_size(memfd, "the capture file");
  if (size > ours) {
    const std::size_t old = into.size();
    into.resize(old + (size - ours));
    posix::pread_all(memfd, into.data() + old, size - ours, ours, "captured output");
    if (::ftruncate(memfd, static_cast<off_t>(ours)) != 0) posix::fail("cannot trim the capture file");
    got = true;
  }
  if (pos >= map_size / 2) start_over();  // truncating zeroes the mapped pages
  return got;
}

void output_capture::reattach() {
  for (stream* s : {&out_, &err_}) {
    struct stat now {
    }, ours{};
    if (::fstat(s->memfd, &ours) != 0) continue;  // the memory file itself was closed: nothing to do
    if (::fstat(s->target, &now) == 0 && now.st_ino == ours.st_ino && now.st_dev == ours.st_dev) continue;
    posix::redirect(s->memfd, s->target, s->target == 1 ? "stdout to burla again" : "stderr to burla again");
  }
}

output_capture::output_capture(int out_memfd, int err_memfd) {
  std::cout.flush();
  std::fflush(stdout);
  std::fflush(stderr);
  out_.open(1, out_memfd, "stdout");
  err_.open(2, err_memfd, "stderr");
  page_size = ::sysconf(_SC_PAGESIZE);
  windows[0] = out_.map;
  windows[1] = err_.map;
  struct sigaction sa {};
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGBUS, &sa, &previous_sigbus);
}

output_capture::~output_capture() {
  std::cout.flush();
  std::fflush(stdout);
  ::sigaction(SIGBUS, &previous_sigbus, nullptr);
  windows[0] = windows[1] = nullptr;
  out_.close();
  err_.close();
}

volatile sig_atomic_t output_capture::truncated = 0;

bool output_capture::collect_printed(std::string& out, std::string& err) {
  flush_stdio();
  bool a = out_.take(out, false);
  bool b = err_.take(err, false);
  if (truncated) {  // a page faulted in a cheap check: repair both streams
    truncated = 0;
    a = out_.recover_if_truncated(out) || a;
    b = err_.recover_if_truncated(err) || b;
  }
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

}  // namespace burla::mpi_runner
