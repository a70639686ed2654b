// Reading results back from results files: the rows a compacted journal's batches point to and
// the places of large results (journal.hpp). Used by the caller following a job, `burla
// results`, and a resumed run's master.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "posix.hpp"
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
  /// Whether the file at path holds the job's inputs (/input; results_writer::holds_inputs).
  static bool holds_inputs(const std::string& path);
  ~results_reader();
  results_reader(const results_reader&) = delete;
  results_reader& operator=(const results_reader&) = delete;

 private:
  struct impl;  // HDF5's handles: only core sees HDF5
  std::unique_ptr<impl> impl_;
};

/// The file run `run` wrote as results.h5 (`results_path`), by a name of its own (a hard link,
/// .results.run<run>.h5) that keeps it when a resumed run replaces results.h5: the places that run
/// journaled are in it. Removed once the journal is compacted.
std::string run_results_path(const std::string& results_path, std::uint32_t run);

/// The results of a batch record: its own bytes; for a batch of a compacted journal, the rows of
/// results.h5 (opened the first time one is needed); for a placed batch, the bytes at its places
/// in its run's file, checked against their CRC. The views stay valid until the next call.
class batch_results {
 public:
  /// `types` must outlive this.
  batch_results(std::string results_path, const job_types& types)
      : path_(std::move(results_path)), types_(types) {}
  std::string_view of(const reply_view& r);

 private:
  /// False if a place's bytes are not there or fail their CRC.
  bool read_places(const reply_view& r, const std::vector<result_place>& places);
  std::string path_;
  const job_types& types_;
  std::optional<results_reader> reader_;
  std::map<std::uint32_t, posix::fd> run_files_;  ///< by run, opened once
  std::string buf_;
  std::size_t used_ = 0;  ///< of buf_, by placed results
};

}  // namespace burla::core
