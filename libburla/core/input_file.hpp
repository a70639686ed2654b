// The job's encoded inputs: inputs.bin, plus inputs.index for serialized inputs (the offset of
// each segment, and the end), and inputs.crc (the CRC-32C of each 64 KiB block of inputs.bin);
// and state.bin, what every call process reads once (the shared argument, a function object).
// Written once by the caller, read range by range by the master. All are checked against
// job.ini when opened, and each block against its checksum when first read: a damaged job
// directory gives an error naming the file and where, never a crash, a huge allocation or a
// call run on changed bytes.
#pragma once

#include <burla/detail/job_state.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "job_spec.hpp"
#include "posix.hpp"

namespace burla::core {

/// Items per segment for n serialized inputs: few archives for many tiny inputs, one per input
/// for small jobs, so that dispatch stays fine-grained where it matters.
std::uint64_t segment_items_for(std::uint64_t n_inputs);

/// Writes inputs.bin (and inputs.index for serialized inputs) into dir through `write`, the
/// typed layer's encoder; checks that it wrote as many segments as n_inputs need.
void write_inputs(const std::string& dir, const job_spec& spec, const detail::job_state::input_writer& write);

/// Writes types.state to state.bin (if there is one), keeps its size and CRC-32C in types for
/// job.ini, and frees the bytes: a large shared argument is not carried along in memory.
void write_state(const std::string& dir, detail::job_types& types);
/// state.bin, checked against job.ini's size and CRC-32C; empty if the job has none.
std::string read_state(const std::string& dir, const detail::job_types& types);

/// The checksums inputs.crc holds, of bytes written in order: one CRC-32C (uint32, little
/// endian) per block of `block` bytes, the last one of what remains.
class block_checksums {
 public:
  static constexpr std::uint64_t block = 64 * 1024;
  void add(std::string_view bytes);
  /// The file's content.
  std::string finish() const;

 private:
  std::vector<std::uint32_t> done_;
  std::uint32_t crc_ = 0;
  std::uint64_t in_block_ = 0;
};

class input_file {
 public:
  input_file(const std::string& dir, const job_spec& spec);

  std::uint64_t units() const { return units_; }
  /// inputs.bin's, open for reading.
  int descriptor() const { return fd_.get(); }
  std::uint64_t bytes() const { return size_; }
  std::uint64_t items_per_unit() const { return offsets_.empty() ? 1 : spec_.segment_items; }
  std::uint64_t max_units_per_batch() const;
  std::uint64_t first_item(std::uint64_t unit) const {
    return unit < units_ ? unit * items_per_unit() : spec_.n_inputs;
  }
  /// The unit holding input `item`.
  std::uint64_t unit_of(std::uint64_t item) const { return item / items_per_unit(); }
  /// How many bytes units [u, u + k) take in inputs.bin.
  std::uint64_t bytes_of(std::uint64_t u, std::uint64_t k) const;
  /// Appends the bytes of units [u, u + k); throws naming the damaged bytes and inputs, and
  /// appends nothing, if a block they are in does not match its checksum.
  void read(std::uint64_t u, std::uint64_t k, std::string& out) const;
  /// The bytes of units [u, u + k), checked as read() checks them, read into `buffer`, which
  /// only grows: a reader of megabyte batches does not zero-fill each one.
  std::string_view read_into(std::uint64_t u, std::uint64_t k, std::string& buffer) const;

 private:
  /// Where units [u, u + k) lie in inputs.bin: [begin, end).
  std::pair<std::uint64_t, std::uint64_t> range(std::uint64_t u, std::uint64_t k) const;
  /// Reads bytes [begin, end) to `to` and checks them.
  void read_checked(std::uint64_t begin, std::uint64_t end, char* to) const;
  /// Checks the blocks that `read`, the file's bytes from `begin` on, touches.
  void verify(std::uint64_t begin, std::string_view read) const;
  std::uint64_t first_item_at(std::uint64_t byte) const;

  const job_spec& spec_;
  std::string dir_;
  posix::fd fd_;
  std::uint64_t size_ = 0;
  std::vector<std::uint32_t> checksums_;
  mutable std::vector<bool> verified_;  // blocks checked once: the master reads most once
  std::uint64_t units_ = 0;
  std::vector<std::uint64_t> offsets_;
  std::uint64_t avg_unit_bytes_ = 1;
};

}  // namespace burla::core
