// What the caller's terminal shows: remote output, forwarded call by call, and a one-line status
// on stderr when it is a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace burla::detail {

class console {
 public:
  console(std::string job_id, bool spinner);
  ~console();
  console(const console&) = delete;
  console& operator=(const console&) = delete;

  /// One call's output, written whole (fd 1 or 2).
  void forward(int fd, std::string_view text);
  void set_status(std::string text);
  void progress(std::uint64_t done, std::uint64_t total, std::uint64_t running, std::uint64_t failed);
  /// Redraws the status line if enough time has passed.
  void tick();
  void clear();

 private:
  void draw();
  std::string id_;
  bool active_;
  bool shown_ = false;
  std::string status_;
  unsigned frame_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace burla::detail
