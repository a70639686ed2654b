// MPI tags between the master (rank 0) and the workers, and the batch message.
#pragma once

#include <burla/detail/wire.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace burla::mpi_runner {

enum tag : int {
  tag_batch = 1,      ///< master -> worker: a batch (below)
  tag_stop = 2,       ///< master -> worker: skip queued batches and end
  tag_reply = 3,      ///< worker -> master: a batch reply (libburla/core/reply.hpp)
  tag_fatal = 4,      ///< worker -> master: text of an error that ends the job
  tag_stopped = 5,    ///< worker -> master: acknowledged stop
  tag_heartbeat = 6,  ///< worker -> master: still alive, while a batch runs
  tag_alive = 7,      ///< master -> worker: still alive (workers stop when it is gone)
};

/// Units [first, first + count) of inputs.bin.
struct unit_range {
  std::uint64_t first = 0, count = 0;
};

/// A batch: u64 first, u32 count, u8 flags (has_skip, inputs_in_file), [count skip bytes], then
/// the encoded inputs, or (inputs_in_file) a unit_range: the call process reads those units of
/// inputs.bin itself. Skip bytes mark calls not to make: a retry runs one input of a serialized
/// segment, a resumed job skips what is done.
struct batch_view {
  std::uint64_t first = 0;
  std::uint32_t count = 0;
  std::string_view skip;    ///< empty: run all
  std::string_view inputs;  ///< empty when in_file
  std::optional<unit_range> in_file;
};

enum batch_flag : std::uint8_t { has_skip = 1, inputs_in_file = 2 };

/// The batch's head. The encoded inputs are appended after it, unless `in_file` says where in
/// inputs.bin they are.
inline void begin_batch(std::string& out, std::uint64_t first, std::uint32_t count, std::string_view skip,
                        std::optional<unit_range> in_file = std::nullopt) {
  detail::byte_writer w(out);
  w.put(first);
  w.put(count);
  w.put<std::uint8_t>((skip.empty() ? 0 : has_skip) | (in_file ? inputs_in_file : 0));
  w.put_raw(skip);
  if (in_file) w.put(*in_file);
}

inline batch_view parse_batch(std::string_view bytes) {
  detail::byte_reader in(bytes, "a batch message");
  batch_view b;
  b.first = in.get<std::uint64_t>();
  b.count = in.get<std::uint32_t>();
  const auto flags = in.get<std::uint8_t>();
  if (flags & has_skip) b.skip = in.take(b.count);
  if (flags & inputs_in_file) b.in_file = in.get<unit_range>();
  b.inputs = in.take(in.left());
  return b;
}

}  // namespace burla::mpi_runner
