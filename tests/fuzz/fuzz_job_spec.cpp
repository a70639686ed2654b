// job.ini as a damaged or hand-edited file: read_job_spec must accept it or throw burla::error.
// Any other exception, a crash, a sanitizer report or a huge allocation is a bug.
#include <burla/detail/job_spec.hpp>
#include <burla/error.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = fuzz::scratch_dir() + "/job.ini";
  fuzz::write_file(path, {reinterpret_cast<const char*>(data), size});
  try {
    const burla::detail::job_spec s = burla::detail::read_job_spec(path);
    // What readers of a spec rely on without checking again.
    if (s.segment_items == 0 || s.workers < 1 || s.n_inputs > (std::uint64_t{1} << 40)) __builtin_trap();
  } catch (const burla::error&) {
  }
  return 0;
}
