// What the job's ranks say to each other and to the caller.
//  - A batch reply (worker -> master) lists the calls of one batch: status, encoded results and
//    sparse notes (what a call printed, what it threw).
//  - The journal (master -> caller, a file in the job directory, append-only) is a sequence of
//    records: start, dispatch, batch (a reply, verbatim), end. The caller follows it to forward
//    output, show progress and stream results; the shared filesystem is the only channel needed.
#pragma once

#include <burla/detail/job_spec.hpp>
#include <burla/detail/wire.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace burla::detail::protocol {

inline constexpr std::string_view journal_magic = "BURLAJ02";

enum class record_type : std::uint32_t { start = 1, dispatch = 2, batch = 3, end = 4 };

enum class note_kind : std::uint8_t { out = 1, err = 2, error_type = 3, error_what = 4 };

struct note {
  std::uint32_t item = 0;  ///< position in the batch
  note_kind kind = note_kind::out;
  std::string_view text;
};

struct reply_header {
  std::uint64_t first = 0;
  std::uint32_t requested = 0;  ///< calls in the batch
  std::uint32_t done = 0;       ///< calls made (fewer when it stopped at a failure)
  std::int32_t rank = -1;
  std::uint64_t elapsed_ns = 0;
};

struct reply_view {
  reply_header head;
  const std::uint8_t* status = nullptr;  ///< `done` call_status values
  std::string_view results;
  std::vector<note> notes;
};

void build_reply(std::string& out, const reply_header& head, std::string_view status,
                 std::string_view results, const std::vector<note>& notes);
reply_view parse_reply(std::string_view bytes);
/// Appends the placeholder of a result that does not exist (see detail::encode_missing).
void append_missing_result(std::string& results, const job_types& types);
/// Sets the rank in an encoded reply (the worker rank, for a reply its call process built).
void set_reply_rank(std::string& reply, std::int32_t rank);

enum class end_state : std::uint8_t {
  completed = 0,    ///< every call succeeded
  failed = 1,       ///< a call threw; the job stopped
  error = 2,        ///< the job itself failed (see the message)
  cancelled = 3,    ///< stopped on request
  mismatch = 4,     ///< a rank runs another build than the caller's
  interrupted = 5,  ///< stopped early by a signal (time limit, scancel); resume finishes it
};
const char* to_string(end_state s);

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
};

std::string encode(const start_record& r);
std::string encode(const dispatch_record& r);
std::string encode(const end_record& r);
start_record decode_start(std::string_view payload);
dispatch_record decode_dispatch(std::string_view payload);
end_record decode_end(std::string_view payload);

/// Appends records to the journal, one write(2) each so a reader never sees a torn record
/// except at the very end.
class journal_writer {
 public:
  /// Creates the journal; an existing one is an error (a job directory runs once).
  explicit journal_writer(const std::string& path);
  journal_writer(const std::string& path, bool reopen);
  ~journal_writer();
  journal_writer(const journal_writer&) = delete;
  journal_writer& operator=(const journal_writer&) = delete;
  void append(record_type type, std::string_view payload);

 private:
  int fd_ = -1;
  std::string path_;
};

/// Appends one record to a journal that may not exist yet (used when the master itself fails).
void append_record(const std::string& path, record_type type, std::string_view payload);

/// Follows a journal that may still be growing.
class journal_reader {
 public:
  explicit journal_reader(std::string path) : path_(std::move(path)) {}
  ~journal_reader();
  journal_reader(const journal_reader&) = delete;
  journal_reader& operator=(const journal_reader&) = delete;
  /// The next complete record, if one is there; its payload stays valid until the next call.
  bool next(record_type& type, std::string_view& payload);
  /// Bytes of the file read as complete records (and the magic) so far.
  std::uint64_t complete_bytes() const { return consumed_; }

 private:
  bool fill();
  std::string path_;
  int fd_ = -1;
  std::string buf_;
  std::size_t pos_ = 0;
  std::uint64_t consumed_ = 0;
  bool header_checked_ = false;
};

}  // namespace burla::detail::protocol
