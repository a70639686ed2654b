// Errors thrown by burla. Every one derives from burla::error, itself a std::runtime_error.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace burla {

/// Base of every error burla throws.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An option had a value that is not allowed; thrown before anything starts.
class invalid_option : public error {
 public:
  invalid_option(std::string option, std::string value, const std::string& allowed);
  const std::string& option() const noexcept { return option_; }
  const std::string& value() const noexcept { return value_; }

 private:
  std::string option_;
  std::string value_;
};

/// The job runs a different build of the program than the caller's.
class build_mismatch : public error {
 public:
  using error::error;
};

/// The function threw while processing one input.
class remote_error : public error {
 public:
  struct details {
    std::size_t index = 0;    ///< the input's position
    std::string type;         ///< demangled type of the exception
    std::string what;         ///< its what()
    std::string host;         ///< where it ran
    int rank = -1;            ///< MPI rank of the worker
    std::string output_tail;  ///< the end of what the call printed
  };
  explicit remote_error(details d);
  std::size_t index() const noexcept { return d_.index; }
  const std::string& type_name() const noexcept { return d_.type; }
  const std::string& remote_what() const noexcept { return d_.what; }
  const std::string& host() const noexcept { return d_.host; }
  int rank() const noexcept { return d_.rank; }
  const std::string& output_tail() const noexcept { return d_.output_tail; }

 private:
  details d_;
};

/// The job ended without finishing (it crashed, was cancelled or killed, hit its time limit, or
/// could not start). Carries how it ended, the inputs that were running and the job's log.
class job_error : public error {
 public:
  job_error(const std::string& message, std::vector<std::size_t> running, std::string log_path,
            std::string state = "failed");
  /// How the job ended: "crashed", "cancelled", "failed", "not_started", or Slurm's end state
  /// for a Slurm job ("TIMEOUT", "CANCELLED", "FAILED", "NODE_FAIL", "OUT_OF_MEMORY", ...).
  const std::string& state() const noexcept { return state_; }
  const std::vector<std::size_t>& running_inputs() const noexcept { return running_; }
  const std::string& log_path() const noexcept { return log_path_; }

 private:
  std::vector<std::size_t> running_;
  std::string log_path_;
  std::string state_;
};

}  // namespace burla
