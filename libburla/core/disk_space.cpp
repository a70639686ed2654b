#include "disk_space.hpp"

#include <fcntl.h>

#include <algorithm>

namespace burla::core {
namespace {
constexpr std::uint64_t end_room = std::uint64_t{256} << 10;  // results.h5's last attributes, the end record
}  // namespace

space_reserve::space_reserve(const std::string& path) : fd_(posix::open_file(path, O_WRONLY)), path_(path) {}

bool space_reserve::keep(std::uint64_t end, std::uint64_t ahead) {
  if (unsupported_) return true;
  const std::uint64_t size = posix::file_size(fd_.get(), path_);
  end = std::max(end, size);
  if (reserved_to_ >= end + ahead) return true;
  const std::uint64_t to = end + 2 * ahead;
  // Only what is not kept yet: tmpfs undoes a failed fallocate over its whole range, blocks kept
  // by an earlier call included, which the writes that end the job need.
  const std::uint64_t from = std::max(size, reserved_to_);
  switch (posix::allocate_blocks(fd_.get(), from, to - from, path_)) {
    case posix::allocation::done:
      reserved_to_ = to;
      return true;
    case posix::allocation::unsupported:
      unsupported_ = true;
      return true;
    case posix::allocation::no_space:
      // At least what the writer holds already, and room for the writes that end the job; tmpfs
      // undid the failed allocation, other file systems may have kept part (release() frees it).
      reserved_to_ = std::max(reserved_to_, to);
      if (const std::uint64_t need = end + std::min(ahead, end_room); need > from)
        (void)posix::allocate_blocks(fd_.get(), from, need - from, path_);
      return false;
  }
  return false;
}

void space_reserve::release() {
  if (unsupported_) return;
  const std::uint64_t end = posix::file_size(fd_.get(), path_);
  if (reserved_to_ > end) posix::free_blocks(fd_.get(), end, reserved_to_ - end);
  reserved_to_ = 0;
}

std::string no_space_left(const std::string& file) {
  const posix::file_system fs = posix::file_system_of(file);
  return "no space left on the file system at " + fs.mount_point + " (only " +
         std::to_string(fs.free_bytes / 1024) + " KiB free) while writing " + file;
}

}  // namespace burla::core
