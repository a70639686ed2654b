#include "input_file.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "checksum.hpp"

namespace burla::core {

namespace {
constexpr std::uint64_t max_batch_bytes = 4u << 20;
// Small enough that products with them cannot overflow 64 bits.
constexpr std::uint64_t max_fixed_size = detail::max_fixed_bytes;
constexpr std::uint64_t max_segment_items = 1u << 20;

[[noreturn]] void damaged(const std::string& dir, const std::string& what) {
  throw error("burla: the job directory " + dir + " is damaged: " + what +
              ". Its inputs no longer match job.ini; submit the job again");
}
}  // namespace

void block_checksums::add(std::string_view bytes) {
  while (!bytes.empty()) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), block - in_block_));
    crc_ = crc32c(bytes.substr(0, n), crc_);
    in_block_ += n;
    bytes.remove_prefix(n);
    if (in_block_ == block) {
      done_.push_back(crc_);
      crc_ = 0;
      in_block_ = 0;
    }
  }
}

std::string block_checksums::finish() const {
  std::vector<std::uint32_t> all = done_;
  if (in_block_ > 0) all.push_back(crc_);
  return {reinterpret_cast<const char*>(all.data()), all.size() * sizeof(std::uint32_t)};
}

input_file::input_file(const std::string& dir, const job_spec& spec) : spec_(spec), dir_(dir) {
  const auto kind = spec.types.input_kind;
  if (kind == value_kind::none)
    damaged(dir, "job.ini gives input_kind " + std::to_string(static_cast<int>(kind)));
  fd_ = posix::open_file(dir + "/inputs.bin", O_RDONLY);
  const std::uint64_t size = posix::file_size(fd_.get(), dir + "/inputs.bin");
  const std::uint64_t n = spec.n_inputs;
  if (kind == value_kind::fixed) {
    const std::uint64_t item = spec.types.input_size;
    if (item == 0 || item > max_fixed_size)
      damaged(dir, "job.ini gives input_size " + std::to_string(item) + " for inputs of a fixed size");
    // Divides rather than multiplies: a huge n_inputs must not wrap around to the file's size.
    if (size % item != 0 || size / item != n)
      damaged(dir, "inputs.bin has " + std::to_string(size) + " bytes, job.ini gives " + std::to_string(n) +
                       " inputs of " + std::to_string(item) + " bytes");
    units_ = n;
  } else {
    const std::uint64_t per = spec.segment_items;
    if (per == 0 || per > max_segment_items)
      damaged(dir, "job.ini gives segment_items " + std::to_string(per));
    units_ = n / per + (n % per != 0);
    // The index's size is checked before it is read: it holds units + 1 offsets, and a huge
    // n_inputs must not size an allocation.
    const std::string index_path = dir + "/inputs.index";
    posix::fd index = posix::open_file(index_path, O_RDONLY);
    const std::uint64_t index_size = posix::file_size(index.get(), index_path);
    if (index_size % 8 != 0 || index_size < 8 || index_size / 8 - 1 != units_)
      damaged(dir, "inputs.index has " + std::to_string(index_size) + " bytes, job.ini gives " +
                       std::to_string(n) + " inputs in segments of " + std::to_string(per) +
                       ", which need 8 bytes for each of " + std::to_string(units_) + " segments and 8 more");
    offsets_.resize(units_ + 1);
    posix::pread_all(index.get(), reinterpret_cast<char*>(offsets_.data()), index_size, 0, index_path);
    if (offsets_.front() != 0 || offsets_.back() != size)
      damaged(dir, "inputs.index covers bytes " + std::to_string(offsets_.front()) + " to " +
                       std::to_string(offsets_.back()) + " of inputs.bin, which has " + std::to_string(size));
    for (std::size_t i = 0; i < units_; ++i)
      if (offsets_[i] > offsets_[i + 1])
        damaged(dir, "inputs.index has offsets out of order (entry " + std::to_string(i + 1) + ")");
  }
  avg_unit_bytes_ = units_ ? std::max<std::uint64_t>(1, size / units_) : 1;
  size_ = size;
  const std::string crc_path = dir + "/inputs.crc";
  posix::fd crc = posix::open_file(crc_path, O_RDONLY);
  const std::uint64_t blocks = size / block_checksums::block + (size % block_checksums::block != 0);
  if (const std::uint64_t crc_size = posix::file_size(crc.get(), crc_path); crc_size != blocks * 4)
    damaged(dir, "inputs.crc has " + std::to_string(crc_size) + " bytes, inputs.bin's " +
                     std::to_string(size) + " bytes need 4 for each of " + std::to_string(blocks) +
                     " blocks");
  checksums_.resize(blocks);
  posix::pread_all(crc.get(), reinterpret_cast<char*>(checksums_.data()), blocks * 4, 0, crc_path);
  verified_.assign(blocks, false);
}

std::uint64_t input_file::first_item_at(std::uint64_t byte) const {
  if (offsets_.empty()) return std::min(byte / spec_.types.input_size, spec_.n_inputs);
  const auto unit = std::upper_bound(offsets_.begin(), offsets_.end(), byte) - offsets_.begin() - 1;
  return std::min(first_item(static_cast<std::uint64_t>(std::max<std::ptrdiff_t>(unit, 0))), spec_.n_inputs);
}

void input_file::verify(std::uint64_t begin, std::string_view read) const {
  const std::uint64_t B = block_checksums::block, end = begin + read.size();
  std::string outside;  // the parts of a block beyond what was read
  auto crc_of_file = [&](std::uint64_t from, std::uint64_t to, std::uint32_t crc) {
    if (from >= to) return crc;
    outside.resize(to - from);
    posix::pread_all(fd_.get(), outside.data(), outside.size(), from, "inputs.bin");
    return crc32c(outside, crc);
  };
  for (std::uint64_t b = begin / B; b * B < end; ++b) {
    if (verified_[b]) continue;
    const std::uint64_t from = b * B, to = std::min(size_, from + B);
    const std::uint64_t in_from = std::max(from, begin), in_to = std::min(to, end);
    std::uint32_t crc = crc_of_file(from, in_from, 0);
    crc = crc32c(read.substr(in_from - begin, in_to - in_from), crc);
    crc = crc_of_file(in_to, to, crc);
    if (crc != checksums_[b]) {
      const std::uint64_t first = first_item_at(from), last = first_item_at(to - 1);
      const std::uint64_t next = std::max(last + 1, first_item(unit_of(last) + 1));
      throw error("burla: " + dir_ + "/inputs.bin is damaged: bytes " + std::to_string(from) + " to " +
                  std::to_string(to) + " do not match their checksum in inputs.crc, so inputs " +
                  std::to_string(first) + " to " + std::to_string(std::min(next, spec_.n_inputs) - 1) +
                  " cannot be trusted and were not run. The results of the calls that ran are kept "
                  "(`burla results`); submit these inputs again in a new job");
    }
    verified_[b] = true;
  }
}

std::uint64_t input_file::max_units_per_batch() const {
  // A batch's input count travels as 32 bits.
  const std::uint64_t max_items = std::numeric_limits<std::uint32_t>::max();
  return std::clamp<std::uint64_t>(max_batch_bytes / avg_unit_bytes_, 1, max_items / items_per_unit());
}

std::pair<std::uint64_t, std::uint64_t> input_file::range(std::uint64_t u, std::uint64_t k) const {
  if (u > units_ || k > units_ - u)
    throw error("burla: inputs " + std::to_string(u) + " + " + std::to_string(k) + " past the " +
                std::to_string(units_) + " units of inputs.bin");
  if (offsets_.empty()) return {u * spec_.types.input_size, (u + k) * spec_.types.input_size};
  return {offsets_[u], offsets_[u + k]};
}

std::uint64_t input_file::bytes_of(std::uint64_t u, std::uint64_t k) const {
  const auto [begin, end] = range(u, k);
  return end - begin;
}

void input_file::read_checked(std::uint64_t begin, std::uint64_t end, char* to) const {
  posix::pread_all(fd_.get(), to, end - begin, begin, "inputs.bin");
  // The bytes checked are the bytes returned, read once.
  if (end > begin) verify(begin, std::string_view(to, end - begin));
}

void input_file::read(std::uint64_t u, std::uint64_t k, std::string& out) const {
  const auto [begin, end] = range(u, k);
  const std::size_t old = out.size();
  out.resize(old + (end - begin));
  try {
    read_checked(begin, end, out.data() + old);
  } catch (...) {
    out.resize(old);  // as it was
    throw;
  }
}

std::string_view input_file::read_into(std::uint64_t u, std::uint64_t k, std::string& buffer) const {
  const auto [begin, end] = range(u, k);
  if (buffer.size() < end - begin) buffer.resize(end - begin);
  read_checked(begin, end, buffer.data());
  return {buffer.data(), end - begin};
}

namespace {

class file_sink final : public detail::input_sink {
 public:
  explicit file_sink(const std::string& path) : fd_(posix::create_file(path, O_WRONLY, 0600)), path_(path) {}
  void write(std::string_view bytes) override {
    posix::write_all(fd_.get(), bytes, path_);
    checksums.add(bytes);
    written_ += bytes.size();
  }
  void mark_segment() override { index.push_back(written_); }
  std::uint64_t written() const { return written_; }
  std::vector<std::uint64_t> index;
  block_checksums checksums;

 private:
  posix::fd fd_;
  std::string path_;
  std::uint64_t written_ = 0;
};

}  // namespace

std::uint64_t segment_items_for(std::uint64_t n) {
  return std::clamp<std::uint64_t>(n / 16384, 1, 64);
}

void write_inputs(const std::string& dir, const job_spec& spec,
                  const detail::job_state::input_writer& writer) {
  const std::uint64_t segment_items = spec.segment_items, n_inputs = spec.n_inputs;
  file_sink sink(dir + "/inputs.bin");
  writer(sink, segment_items);
  posix::write_file_atomic(dir + "/inputs.crc", sink.checksums.finish());
  if (spec.types.input_kind == value_kind::fixed) return;
  const std::uint64_t expected = (n_inputs + segment_items - 1) / segment_items;
  if (sink.index.size() != expected)
    throw error("burla: the inputs range yielded " + std::to_string(sink.index.size()) +
                " segments, expected " + std::to_string(expected) +
                " (its size() does not match its elements)");
  sink.index.push_back(sink.written());
  posix::write_file_atomic(dir + "/inputs.index",
                           {reinterpret_cast<const char*>(sink.index.data()), sink.index.size() * 8});
}

void write_state(const std::string& dir, detail::job_types& types) {
  if (types.state.empty()) return;
  posix::write_file_atomic(dir + "/state.bin", types.state);
  types.state_size = types.state.size();
  types.state_crc = crc32c(types.state);
  std::string().swap(types.state);
}

std::string read_state(const std::string& dir, const detail::job_types& types) {
  if (types.state_size == 0) return {};
  const std::string path = dir + "/state.bin";
  std::string bytes = posix::read_file(path);
  if (bytes.size() != types.state_size || crc32c(bytes) != types.state_crc)
    throw error("burla: " + path +
                " (the function's state: its function object or shared argument) is damaged: " +
                std::to_string(bytes.size()) + " bytes with CRC-32C " + std::to_string(crc32c(bytes)) +
                ", job.ini expects " + std::to_string(types.state_size) + " with " +
                std::to_string(types.state_crc) + "; submit the job again");
  return bytes;
}

}  // namespace burla::core
