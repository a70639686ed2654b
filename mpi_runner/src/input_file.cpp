#include "input_file.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cstring>

namespace burla::runner {

namespace {
constexpr std::uint64_t max_batch_bytes = 4u << 20;
}

input_file::input_file(const std::string& dir, const detail::job_spec& spec) : spec_(spec) {
  fd_ = posix::open_file(dir + "/inputs.bin", O_RDONLY);
  const std::uint64_t size = posix::file_size(fd_.get(), "inputs.bin");
  if (spec.types.input_kind == detail::value_kind::fixed) {
    units_ = spec.n_inputs;
    if (size != spec.n_inputs * spec.types.input_size)
      throw error("burla: inputs.bin has " + std::to_string(size) + " bytes, expected " +
                  std::to_string(spec.n_inputs * spec.types.input_size) + "; the job directory is damaged");
  } else {
    units_ = (spec.n_inputs + spec.segment_items - 1) / spec.segment_items;
    std::string raw = posix::read_file(dir + "/inputs.index");
    if (raw.size() != (units_ + 1) * 8)
      throw error("burla: inputs.index has the wrong size; the job directory is damaged");
    offsets_.resize(units_ + 1);
    std::memcpy(offsets_.data(), raw.data(), raw.size());
    for (std::size_t i = 0; i < units_; ++i)
      if (offsets_[i] > offsets_[i + 1] || offsets_[i + 1] > size)
        throw error("burla: inputs.index does not match inputs.bin; the job directory is damaged");
  }
  avg_unit_bytes_ = units_ ? std::max<std::uint64_t>(1, size / units_) : 1;
}

std::uint64_t input_file::max_units_per_batch() const {
  return std::max<std::uint64_t>(1, max_batch_bytes / avg_unit_bytes_);
}

void input_file::read(std::uint64_t u, std::uint64_t k, std::string& out) const {
  std::uint64_t begin, end;
  if (offsets_.empty()) {
    begin = u * spec_.types.input_size;
    end = (u + k) * spec_.types.input_size;
  } else {
    begin = offsets_[u];
    end = offsets_[u + k];
  }
  const std::size_t old = out.size();
  out.resize(old + (end - begin));
  posix::pread_all(fd_.get(), out.data() + old, end - begin, begin, "inputs.bin");
}

}  // namespace burla::runner
