// results.h5: one row per input, written by the job's master as batches finish.
// Layout (see docs/results-file.md):
//   /status          enum uint8 {not_run, ok, failed, crashed, timed_out, out_of_memory, worker_lost}
//   /attempts        uint8, how many times each input ran
//   /result          typed (numbers, complex, arrays: native types; vectors: variable-length
//                    sequences), variable-length string, or variable-length bytes (a Boost
//                    binary archive) per input; absent for functions returning void
//   /input           typed inputs, when the input type is typed as /result is, unless bulk
//   /rank            int32, the MPI rank that ran the call (-1: not run)
//   /stdout /stderr  variable-length strings: what each call printed
//   /error_type /error_message   variable-length strings: what a failed call threw
//   attributes on /  job metadata (id, types, executable, build-id, hosts, state, counts)
#pragma once

#include <map>
#include <string>
#include <vector>

#include "h5.hpp"
#include "job_spec.hpp"
#include "journal.hpp"
#include "posix.hpp"

namespace burla::core {

inline constexpr const char* results_format = "burla-results-1";

/// Rows [first, first + n) of a dataset of `chunk` rows per chunk, cut where chunks end: the runs
/// of fixed-size results that lie end to end in the file, a place each (results_writer::places).
struct row_run {
  std::uint64_t first = 0, rows = 0;
};
std::vector<row_run> runs_by_chunk(std::uint64_t first, std::uint64_t n, std::uint64_t chunk);

class results_writer {
 public:
  /// Creates the file owner-only under a temporary name in the same directory; `input_bytes`:
  /// the size of inputs.bin (see holds_inputs).
  results_writer(const std::string& path, const job_spec& spec, const std::vector<std::string>& hosts,
                 std::uint64_t input_bytes);
  /// Gives the file its name (replacing an older one), once what must be there from the start is,
  /// and the name of its run's file (run_results_path), which outlives a replacement.
  void publish();
  /// Records one finished batch; calls skipped or to be retried are left out. `attempts`: per
  /// input, the times it ran.
  void write(const reply_view& reply, const std::uint8_t* attempts);
  /// Whether the file holds the inputs too (/input): typed ones (fixed, sequences) of under
  /// 256 kB each on average. Bulk inputs stay in inputs.bin only, written once, and the job
  /// directory keeps it.
  bool holds_inputs() const { return static_cast<bool>(input_); }
  /// Records the inputs of a dispatched batch, if the file holds them.
  void write_inputs(std::uint64_t first, std::uint64_t count, std::string_view bytes);
  /// Makes everything written so far durable.
  void flush();
  /// Whether the results of batches can be journaled as their places in this file (results_in::
  /// places): a file whose layout this writer reads.
  bool can_place() const { return can_place_; }
  /// Rows per chunk of /result: fixed-size results have a place per chunk (runs_by_chunk).
  std::uint64_t result_chunk_rows() const { return result_chunk_; }
  /// Where the results of rows [first, first + n) lie in the file (offset and size; no CRC), for
  /// rows written and flushed since. Read from the file as HDF5 laid it out. Fixed-size results:
  /// a place for each of runs_by_chunk (its chunk's address, plus the rows before it). Others:
  /// one per row; the dataset's raw chunk gives each row's global heap object, the heap
  /// collection its bytes' offset.
  std::vector<result_place> places(std::uint64_t first, std::uint32_t n);
  /// Bytes the file will have once what HDF5 holds in memory is written (its allocated end).
  std::uint64_t allocated_bytes() const;
  /// What the master measured, kept as attributes for later analysis.
  struct run_figures {
    double work_seconds = 0;  ///< first dispatch to last reply
    long long master_peak_rss_kb = 0;
    double master_cpu_seconds = 0;   ///< rank 0's CPU time, user and system
    double master_work_seconds = 0;  ///< of which on messages and dispatch (the rest: polling)
    long long replies = 0;           ///< batches answered
  };
  /// Final state, counts and figures; closes the file.
  void finish(const end_record& end, const run_figures& figures);

 private:
  /// Rows [first, first + n): results are `fixed` (end to end) or `encoded` (one per row).
  void write_rows(std::uint64_t first, std::uint32_t n, const std::uint8_t* status, const char* fixed,
                  const std::string_view* encoded, const std::uint8_t* attempts, std::int32_t rank);

  /// Offset and size of object `index` of the global heap collection at `address`.
  result_place heap_object(std::uint64_t address, std::uint32_t index);

  std::string path_, temp_path_;
  const job_spec& spec_;
  h5::handle file_;
  h5::handle status_, attempts_, result_, input_, rank_, stdout_, stderr_, error_type_, error_message_;
  h5::handle result_type_, input_type_, string_type_, status_type_;
  std::uint64_t result_element_ = 1, input_element_ = 1;  ///< bytes per element of sequences and bytes
  bool can_place_ = false;
  posix::fd raw_;                                ///< the file, read as bytes (places)
  std::uint64_t result_chunk_ = 0;               ///< rows per chunk of /result
  std::map<std::uint64_t, std::string> chunks_;  ///< raw chunks of /result by first row, since the last flush
  std::map<std::uint64_t, std::map<std::uint32_t, result_place>> heaps_;  ///< collections read
};

}  // namespace burla::core
