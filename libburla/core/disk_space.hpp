// Room kept on disk past the end of a file that grows (the journal, results.h5), so that when
// the file system fills up the job still has space to say so: its end record, results.h5's last
// attributes. A full disk is then seen while there is room left, and ends the job with an error
// that names it, with everything written so far readable.
#pragma once

#include <cstdint>
#include <string>

#include "posix.hpp"

namespace burla::core {

class space_reserve {
 public:
  explicit space_reserve(const std::string& path);
  /// Keeps disk blocks allocated up to `ahead` bytes past `end`, where the file will end once
  /// what its writer holds is written (at least its size now); allocates twice that when less is
  /// left. False when the file system has no room for it: it then still keeps, where it can, the
  /// blocks up to `end` and a little past, for the writes that end the job. Always true where the
  /// file system cannot allocate ahead: there a full disk shows as a failed write.
  bool keep(std::uint64_t end, std::uint64_t ahead);
  /// Frees what is allocated past the end (the file is complete).
  void release();
  const std::string& path() const { return path_; }

 private:
  posix::fd fd_;
  std::string path_;
  std::uint64_t reserved_to_ = 0;
  bool unsupported_ = false;
};

/// "no space left on the file system at MOUNT (N bytes free) while writing FILE", for messages.
std::string no_space_left(const std::string& file);

}  // namespace burla::core
