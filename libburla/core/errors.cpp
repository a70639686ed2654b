#include <burla/error.hpp>

namespace burla {

invalid_option::invalid_option(std::string option, std::string value, const std::string& allowed)
    : error("burla: invalid option " + option + " = " + value + ": " + allowed),
      option_(std::move(option)),
      value_(std::move(value)) {}

const char* to_string(call_status s) noexcept {
  switch (s) {
    case call_status::not_run:
      return "not_run";
    case call_status::ok:
      return "ok";
    case call_status::failed:
      return "failed";
    case call_status::crashed:
      return "crashed";
    case call_status::timed_out:
      return "timed_out";
    case call_status::out_of_memory:
      return "out_of_memory";
    case call_status::worker_lost:
      return "worker_lost";
  }
  return "unknown";
}

namespace {

/// "input 7 threw std::runtime_error: boom" or "input 7 crashed: killed by signal 11 (SIGSEGV)".
std::string summary(const remote_error::details& d) {
  std::string s = "input " + std::to_string(d.index);
  if (d.status == call_status::failed)
    s += " threw " + d.type + ": " + d.what;
  else
    s += std::string(" ") +
         (d.status == call_status::timed_out       ? "timed out"
          : d.status == call_status::out_of_memory ? "ran out of memory"
          : d.status == call_status::worker_lost   ? "lost its worker"
                                                   : "crashed") +
         ": " + d.what;
  if (d.attempts > 1) s += " (after " + std::to_string(d.attempts) + " attempts)";
  return s;
}

std::string describe(const remote_error::details& d) {
  std::string s = "burla: " + summary(d);
  if (!d.host.empty()) s += " (on " + d.host + ", rank " + std::to_string(d.rank) + ")";
  if (!d.output_tail.empty()) s += "\n--- end of that call's output ---\n" + d.output_tail;
  return s;
}

std::string describe_all(const std::string& id, const std::string& dir, std::size_t n,
                         const std::vector<remote_error::details>& failures) {
  std::string s = "burla: job " + id + ": " + std::to_string(failures.size()) + " of " + std::to_string(n) +
                  " calls failed";
  constexpr std::size_t shown = 10;
  for (std::size_t i = 0; i < failures.size() && i < shown; ++i) s += "\n  " + summary(failures[i]);
  if (failures.size() > shown) s += "\n  ... and " + std::to_string(failures.size() - shown) + " more";
  s += "\nEvery other result is in " + dir +
       "/results.h5; job<R>::outcomes() gives each input's status and result, and "
       "burla::resume<R>(\"" +
       id + "\", {}, burla::rerun::missing_and_failed) runs the failed ones again.";
  return s;
}

}  // namespace

remote_error::remote_error(details d) : error(describe(d)), d_(std::move(d)) {}

void throw_call_error(remote_error::details d) {
  switch (d.status) {
    case call_status::crashed:
      throw call_crashed(std::move(d));
    case call_status::timed_out:
      throw call_timed_out(std::move(d));
    case call_status::out_of_memory:
      throw call_out_of_memory(std::move(d));
    case call_status::worker_lost:
      throw worker_lost(std::move(d));
    default:
      throw remote_error(std::move(d));
  }
}

calls_failed::calls_failed(std::string job_id, std::string directory, std::size_t n_inputs,
                           std::vector<remote_error::details> failures)
    : error(describe_all(job_id, directory, n_inputs, failures)),
      job_id_(std::move(job_id)),
      directory_(std::move(directory)),
      failures_(std::move(failures)) {}

job_error::job_error(const std::string& message, std::vector<std::size_t> running, std::string log_path,
                     std::string state)
    : error(message),
      running_(std::move(running)),
      log_path_(std::move(log_path)),
      state_(std::move(state)) {}

}  // namespace burla
