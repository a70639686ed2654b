// inputs.bin and inputs.index against the values job.ini gives: input_file must open them or
// throw burla::error, and once open, reading every unit as the master does must stay inside
// inputs.bin. The spec comes straight from the fuzz input (not through read_job_spec), so that
// input_file is checked on its own.
//
// Input layout: n_inputs u64, segment_items u64, input_kind u8, input_size u64, flags u8
// (bit 0: write inputs.index; bit 1: inputs.crc of the bytes, else from the input), index_len
// u32, the index, crc_len u32, inputs.crc, then inputs.bin.
#include <burla/error.hpp>
#include <limits>

#include "fuzz_support.hpp"
#include "libburla/core/input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string dir = fuzz::scratch_dir();
  fuzz::input in(data, size);
  burla::core::job_spec spec;
  spec.n_inputs = in.get<std::uint64_t>();
  spec.segment_items = in.get<std::uint64_t>();
  spec.types.input_kind = static_cast<burla::detail::value_kind>(in.get<std::uint8_t>() % 4);
  spec.types.input_size = in.get<std::uint64_t>();
  const auto flags = in.get<std::uint8_t>();
  const std::string_view index = in.take(in.get<std::uint32_t>());
  const std::string_view crc = in.take(in.get<std::uint32_t>());
  const std::string_view bin = in.rest();
  if (flags & 2) {  // past the checksums, so that the reading below is reached
    burla::core::block_checksums c;
    c.add(bin);
    fuzz::write_file(dir + "/inputs.crc", c.finish());
  } else {
    fuzz::write_file(dir + "/inputs.crc", crc);
  }
  fuzz::write_file(dir + "/inputs.bin", bin);
  if (flags & 1)
    fuzz::write_file(dir + "/inputs.index", index);
  else
    ::unlink((dir + "/inputs.index").c_str());

  try {
    const burla::core::input_file f(dir, spec);
    // As the master does: batches of up to max_units_per_batch() units, in order.
    const std::uint64_t per_batch = f.max_units_per_batch();
    if (per_batch == 0 || f.units() > bin.size() + index.size() + 1) __builtin_trap();
    std::uint64_t bytes = 0;
    std::string out;
    for (std::uint64_t u = 0; u < f.units();) {
      const std::uint64_t k = std::min(per_batch, f.units() - u);
      const std::uint64_t first = f.first_item(u), next = f.first_item(u + k);
      if (next < first || next - first > std::numeric_limits<std::uint32_t>::max()) __builtin_trap();
      if (f.unit_of(first) != u) __builtin_trap();
      out.clear();
      f.read(u, k, out);
      bytes += out.size();
      u += k;
    }
    if (f.first_item(f.units()) != spec.n_inputs || bytes != bin.size()) __builtin_trap();
  } catch (const burla::error&) {
  }
  return 0;
}
