// The journal: the job directory's append-only file of records, written by the master and read
// by everyone else (the caller following the job, the burla command, a resumed run's master).
// The shared filesystem is the only channel it needs. Layout: the magic, then records of a
// 24-byte head (u32 type, u32 CRC-32C of the payload, u64 payload size, u32 CRC-32C of the head's
// first 16 bytes, u32 zero) and the payload. A record cut short at the end of the file is one
// still being written (or torn by a kill); any other damaged byte fails a checksum and is an
// error naming the byte. Each record is decoded once, as it is read, into a typed value;
// journal_fold.hpp says what the records mean. Once a job has completed and results.h5 holds
// every result, the caller replaces the journal with a compacted copy whose batches keep their
// statuses and output but not their results (journal_compactor). A batch of many result bytes
// is in the journal only with their places in results.h5 (placed_batch): they are written once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "posix.hpp"
#include "reply.hpp"

namespace burla::core {

inline constexpr std::string_view journal_magic = "BURLAJ03";

enum class end_state : std::uint8_t {
  completed = 0,    ///< every call succeeded
  failed = 1,       ///< a call failed: the job stopped (raise), or ran everything (collect)
  error = 2,        ///< the job itself failed (see the message)
  cancelled = 3,    ///< stopped on request (the cancel file: the caller, `burla cancel`)
  mismatch = 4,     ///< a rank runs another build than the caller's
  interrupted = 5,  ///< stopped early by a signal (time limit, scancel); resume finishes it
};
const char* to_string(end_state s);

/// Why a job that did not complete stopped, for readers that act on it (not the message).
enum class end_cause : std::uint8_t {
  none = 0,
  cancel_request = 1,  ///< the cancel file
  terminated = 2,      ///< SIGTERM: scancel, or past the time limit
  time_limit = 3,      ///< SIGUSR1: the time limit was near, the calls in flight drained
  workers_lost = 4,    ///< every worker rank died
};

struct start_record {
  std::vector<std::string> hosts;  ///< by rank
  std::uint32_t run = 1;           ///< job_spec::run: 2 and more for resumed runs
};
struct dispatch_record {
  std::uint64_t first = 0;
  std::uint32_t count = 0;
  std::int32_t rank = -1;
};
struct end_record {
  end_state state = end_state::completed;
  std::uint64_t n_ok = 0, n_failed = 0, n_not_run = 0;  ///< over the whole job, every run
  std::string message;
  std::uint32_t run = 1;  ///< the run that ended
  end_cause cause = end_cause::none;
};
/// One record, decoded; a batch is the reply as the worker sent it.
using record = std::variant<start_record, dispatch_record, reply_view, end_record>;

/// The record layout, for writers and for tests that build or damage a journal by hand.
/// stored_batch: a batch of a compacted journal, its results left out (results.h5 has them).
/// placed_batch: u32 run, then a batch whose results are their places in that run's results
/// file (many result bytes: they are written once, there).
enum class record_type : std::uint32_t {
  start = 1,
  dispatch = 2,
  batch = 3,
  end = 4,
  stored_batch = 5,
  placed_batch = 6,
};
std::string encode(const start_record& r);
std::string encode(const dispatch_record& r);
std::string encode(const end_record& r);
/// Throws burla::error for a payload that does not hold a whole record of that type.
record decode(record_type type, std::string_view payload);
/// The head of a record whose payload is `payload`, declaring `size` bytes (its size but in
/// tests of damage): what precedes the payload in the file.
std::string record_head(record_type type, std::string_view payload, std::uint64_t size);
inline constexpr std::size_t record_head_size = 24;

/// Appends records, one write(2) each, so that a reader never sees a torn record except at the
/// very end (a writer killed mid-write).
class journal_writer {
 public:
  /// A new journal; anything already at path is an error (a job directory's first run).
  static journal_writer create(const std::string& path);
  /// An existing journal, or a new one if there is none (a resumed run, or a failure report).
  static journal_writer reopen(const std::string& path);
  void append(const start_record& r);
  void append(const dispatch_record& r);
  /// A batch reply, verbatim.
  void append_batch(std::string_view reply);
  /// A batch without its results (a compacted journal's).
  void append_stored(const reply_view& r);
  /// A batch whose results are in the results file of `run`, at `places`.
  void append_placed(const reply_view& r, std::uint32_t run, const std::vector<result_place>& places);
  /// A record read from another journal, as it was there.
  void append(const record& r);
  void append(const end_record& r);
  /// A new journal under a temporary name next to `path` (see path()).
  static journal_writer create_next_to(const std::string& path);
  const std::string& path() const { return path_; }

 private:
  journal_writer(posix::fd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  void append(record_type type, std::string_view payload);
  posix::fd fd_;
  std::string path_;
};

/// The compacted copy of a journal, written next to it while its records are read: the same
/// records, each batch without its result bytes. It replaces the journal (commit) once the job
/// has completed and results.h5 holds every result; otherwise it is removed. Writing it is
/// best effort: a failure (a full disk) drops the copy and leaves the journal as it is.
class journal_compactor {
 public:
  explicit journal_compactor(std::string journal_path);
  ~journal_compactor();
  journal_compactor(const journal_compactor&) = delete;
  journal_compactor& operator=(const journal_compactor&) = delete;
  /// The next record of the journal, in order.
  void take(const record& r);
  /// Results that results.h5 cannot hold as they are (a string with a NUL byte) keep the journal.
  void keep_journal() { drop(); }
  /// Replaces the journal with the copy; false if there is no copy (dropped, or already compact).
  bool commit();

 private:
  void drop();
  std::string path_;
  std::optional<journal_writer> copy_;
};

/// Follows a journal that may still be growing.
class journal_reader {
 public:
  explicit journal_reader(std::string path) : path_(std::move(path)) {}
  /// The next complete record, if one is there; its views stay valid until the next call.
  /// Damage is an error naming the file.
  bool next(record& out);
  /// Bytes of the file read as complete records (and the magic) so far: where a torn last
  /// record starts.
  std::uint64_t complete_bytes() const { return consumed_; }
  const std::string& path() const { return path_; }

 private:
  bool fill();
  std::string path_;
  posix::fd fd_;
  std::string buf_;  ///< bytes read are [pos_, end_); it only grows, so reads fill it without zeroing
  std::size_t pos_ = 0, end_ = 0;
  std::uint64_t consumed_ = 0;
  std::uint64_t records_ = 0;
  bool header_checked_ = false;
};

}  // namespace burla::core
