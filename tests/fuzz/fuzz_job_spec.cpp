// job.ini as a damaged or hand-edited file: read_job_spec must accept it or throw burla::error.
// Any other exception, a crash, a sanitizer report or a huge allocation is a bug.
#include <burla/error.hpp>

#include "fuzz_support.hpp"
#include "libburla/core/job_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = fuzz::scratch_dir() + "/job.ini";
  // Made to pass the checksum, which any mutation breaks: the parser behind it is what is fuzzed.
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string body = text.substr(0, text.rfind("checksum = "));
  fuzz::write_file(path, body + burla::core::job_ini_checksum_line(body));
  try {
    const burla::core::job_spec s = burla::core::read_job_spec(path);
    // What readers of a spec rely on without checking again.
    if (s.segment_items == 0 || s.workers < 1 || s.n_inputs > (std::uint64_t{1} << 40)) __builtin_trap();
  } catch (const burla::error&) {
  }
  return 0;
}
