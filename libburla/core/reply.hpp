// A batch reply: what a worker says about one batch of calls. Built by the call process (or by
// the master, for calls it gives up on), sent to the master, and kept verbatim in the journal.
// Layout: u64 first, u32 requested, u32 done, i32 rank, u64 elapsed_ns, `done` status bytes,
// the encoded results (length-prefixed), u32 note count, then each note (u32 item, u8 kind,
// length-prefixed text).
#pragma once

#include <burla/detail/wire.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "job_spec.hpp"

namespace burla::core {

using burla::call_status;

/// Status bytes that travel in replies and the journal but never reach results.h5: a call a
/// batch was told to skip (run elsewhere, or already done), and a failed attempt that runs again.
inline constexpr std::uint8_t status_skipped = 254;
inline constexpr std::uint8_t status_retrying = 253;

inline bool is_call_status(std::uint8_t st) {
  return st <= static_cast<std::uint8_t>(call_status::worker_lost);
}

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

/// Where a batch record's results are (journal.hpp; read them with batch_results).
enum class results_in : std::uint8_t {
  record,  ///< `results` holds them, encoded as the worker sent them
  rows,    ///< a compacted journal's batch: `results` is empty, a completed results.h5 has the rows
  places,  ///< many result bytes: `results` holds where they lie in the results file of run `run`
};

/// A parsed reply; its views point into the bytes it was parsed from.
struct reply_view {
  reply_header head;
  const std::uint8_t* status = nullptr;  ///< `done` call_status values (or the two above)
  std::string_view results;
  std::vector<note> notes;
  results_in where = results_in::record;
  std::uint32_t run = 0;  ///< for results_in::places: the run that wrote them
};

/// Where results lie in a results file: `size` bytes at `offset`, their CRC-32C. A variable-length
/// result has a place of its own (size 0: an empty value, or none: a call skipped or to be
/// retried); fixed-size results have one for each run of them that lies end to end (a chunk's).
struct result_place {
  std::uint64_t offset = 0, size = 0;
  std::uint32_t crc = 0;
};
/// The `results` of a results_in::places batch: its places, place_bytes each. How many there are
/// is checked against the batch where the results' types are known (batch_results).
inline constexpr std::size_t place_bytes = 8 + 8 + 4;
std::string encode_places(const std::vector<result_place>& places);
std::vector<result_place> decode_places(std::string_view bytes);

void build_reply(std::string& out, const reply_header& head, std::string_view status,
                 std::string_view results, const std::vector<note>& notes);
/// build_reply's bytes before and after the results, for a writer that sends megabytes of
/// results from where they are: before + results + after is the reply.
struct reply_frame {
  std::string before, after;
};
reply_frame frame_reply(const reply_header& head, std::string_view status, std::size_t results_size,
                        const std::vector<note>& notes);
/// Checks every length and count against the bytes there: damage is an error, never a read past.
reply_view parse_reply(std::string_view bytes);
/// Sets the rank in an encoded reply (the worker rank, for a reply its call process built).
void set_reply_rank(std::string& reply, std::int32_t rank);
/// Appends the placeholder of a result that does not exist (see detail::encode_missing).
void append_missing_result(std::string& results, const job_types& types);

}  // namespace burla::core
