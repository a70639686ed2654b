#include "console.hpp"

#include <unistd.h>

#include <cstdio>

#include "libburla/core/posix.hpp"

namespace burla::detail {

console::console(std::string job_id, bool spinner)
    : id_(std::move(job_id)), active_(spinner && posix::is_terminal(2)) {}

console::~console() {
  clear();
}

void console::forward(int fd, std::string_view text) {
  if (text.empty()) return;
  clear();
  FILE* f = fd == 2 ? stderr : stdout;
  std::fwrite(text.data(), 1, text.size(), f);
  if (text.back() != '\n') std::fputc('\n', f);  // the next call's output starts on its own line
  std::fflush(f);
}

void console::set_status(std::string text) {
  status_ = std::move(text);
  draw();
}

void console::progress(std::uint64_t done, std::uint64_t total, std::uint64_t running, std::uint64_t failed) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  char line[160];
  std::snprintf(line, sizeof line, "%llu/%llu done, %llu running, %llu failed, %.0f calls/s",
                static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                static_cast<unsigned long long>(running), static_cast<unsigned long long>(failed),
                seconds > 0 ? static_cast<double>(done) / seconds : 0.0);
  status_ = line;
}

void console::tick() {
  if (active_ && std::chrono::steady_clock::now() - last_draw_ > std::chrono::milliseconds(100)) draw();
}

void console::draw() {
  if (!active_) return;
  static const char* frames[] = {"|", "/", "-", "\\"};
  std::fprintf(stderr, "\r\033[K%s burla %s: %s", frames[frame_++ % 4], id_.c_str(), status_.c_str());
  std::fflush(stderr);
  shown_ = true;
  last_draw_ = std::chrono::steady_clock::now();
}

void console::clear() {
  if (!shown_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace burla::detail
