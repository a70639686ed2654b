// A plugin that the test program opens with dlopen: its function is not in the job's process.
#include <burla/burla.hpp>
#include <string>
#include <vector>

namespace {
std::string shout(const std::string& s) {
  return s + "!";
}
}  // namespace

extern "C" std::size_t plugin_run(std::size_t input_bytes) {
  // Inputs above MPI's eager limit, so the job's batches stay queued when it stops.
  const std::vector<std::string> in(20, std::string(input_bytes, 'x'));
  return burla::remote_parallel_map(shout, in, {.spinner = false}).size();
}
