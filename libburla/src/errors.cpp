#include <burla/error.hpp>

namespace burla {

invalid_option::invalid_option(std::string option, std::string value, const std::string& allowed)
    : error("burla: invalid option " + option + " = " + value + ": " + allowed),
      option_(std::move(option)),
      value_(std::move(value)) {}

namespace {
std::string describe(const remote_error::details& d) {
  std::string s = "burla: input " + std::to_string(d.index) + " threw " + d.type + ": " + d.what;
  if (!d.host.empty()) s += " (on " + d.host + ", rank " + std::to_string(d.rank) + ")";
  if (!d.output_tail.empty()) s += "\n--- end of that call's output ---\n" + d.output_tail;
  return s;
}
}  // namespace

remote_error::remote_error(details d) : error(describe(d)), d_(std::move(d)) {}

job_error::job_error(const std::string& message, std::vector<std::size_t> running, std::string log_path,
                     std::string state)
    : error(message),
      running_(std::move(running)),
      log_path_(std::move(log_path)),
      state_(std::move(state)) {}

}  // namespace burla
