// Reading a completed job's results.h5 back: the rows a compacted journal's batches point to
// (journal.hpp). Used by the caller following a job and by `burla results`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "reply.hpp"

namespace burla::core {

/// results.h5 of a job that has completed, read back: what a compacted journal's batches point to.
class results_reader {
 public:
  /// Anything but a completed job's results.h5 of these types is an error naming the file.
  results_reader(const std::string& path, const job_types& types);
  /// Rows [first, first + n) of /result in the encoding of a reply's results; where `status` is
  /// not ok, the placeholder of a missing result.
  void read(std::uint64_t first, std::uint32_t n, const std::uint8_t* status, std::string& out);
  /// Whether the file at path is a completed job's results.h5 (so that the journal may drop results).
  static bool completed(const std::string& path);
  ~results_reader();
  results_reader(const results_reader&) = delete;
  results_reader& operator=(const results_reader&) = delete;

 private:
  struct impl;  // HDF5's handles: only core sees HDF5
  std::unique_ptr<impl> impl_;
};

/// The results of a batch record: its own bytes, or, for a batch of a compacted journal, the rows
/// of results.h5 (opened the first time one is needed). The views stay valid until the next call.
class batch_results {
 public:
  /// `types` must outlive this.
  batch_results(std::string results_path, const job_types& types)
      : path_(std::move(results_path)), types_(types) {}
  std::string_view of(const reply_view& r);

 private:
  std::string path_;
  const job_types& types_;
  std::optional<results_reader> reader_;
  std::string buf_;
};

}  // namespace burla::core
