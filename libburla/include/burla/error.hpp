// Errors thrown by burla. Every one derives from burla::error, itself a std::runtime_error.
#pragma once

#include <cstddef>
#include <cstdint>
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

/// How one call ended (the /status column of results.h5).
enum class call_status : std::uint8_t {
  not_run = 0,        ///< never ran (the job stopped first, or was killed)
  ok = 1,             ///< returned a result
  failed = 2,         ///< threw an exception
  crashed = 3,        ///< its process died: a signal (segfault, abort, std::terminate) or std::exit
  timed_out = 4,      ///< ran longer than func_timeout and was killed
  out_of_memory = 5,  ///< used more than func_ram and was killed
  worker_lost = 6,    ///< the worker rank running it died (twice: a lost call is re-run once)
};
const char* to_string(call_status s) noexcept;

/// One call failed: it threw (remote_error itself), or one of the subtypes below.
/// Catch remote_error for all of them.
class remote_error : public error {
 public:
  struct details {
    std::size_t index = 0;  ///< the input's position
    call_status status = call_status::failed;
    std::string type;         ///< demangled type of the exception; for other failures, the status
    std::string what;         ///< its what(), or what happened (e.g. "killed by signal 11 (SIGSEGV)")
    std::string host;         ///< where it ran
    int rank = -1;            ///< MPI rank of the worker
    std::string output_tail;  ///< the end of what the call printed
    int attempts = 1;         ///< times it ran (more than 1 with max_retries)
  };
  explicit remote_error(details d);
  const details& info() const noexcept { return d_; }
  call_status status() const noexcept { return d_.status; }
  int attempts() const noexcept { return d_.attempts; }
  std::size_t index() const noexcept { return d_.index; }
  const std::string& type_name() const noexcept { return d_.type; }
  const std::string& remote_what() const noexcept { return d_.what; }
  const std::string& host() const noexcept { return d_.host; }
  int rank() const noexcept { return d_.rank; }
  const std::string& output_tail() const noexcept { return d_.output_tail; }

 private:
  details d_;
};

/// The call's process died: a signal (SIGSEGV, SIGABRT from abort() or std::terminate, ...) or
/// std::exit. The worker and every other call carry on.
class call_crashed : public remote_error {
 public:
  using remote_error::remote_error;
};

/// The call ran longer than options::func_timeout and was killed.
class call_timed_out : public remote_error {
 public:
  using remote_error::remote_error;
};

/// The call used more memory than options::func_ram and was killed.
class call_out_of_memory : public remote_error {
 public:
  using remote_error::remote_error;
};

/// The worker rank running the call died (a node failure, or its process was killed), twice.
class worker_lost : public remote_error {
 public:
  using remote_error::remote_error;
};

/// Throws the remote_error subtype that matches d.status.
[[noreturn]] void throw_call_error(remote_error::details d);

/// With on_error = collect: the job ran every input and some calls failed. Thrown after the job
/// ended; every result that exists is in the job's results.h5 (job<R>::outcomes() has them all).
class calls_failed : public error {
 public:
  calls_failed(std::string job_id, std::string directory, std::size_t n_inputs,
               std::vector<remote_error::details> failures);
  const std::vector<remote_error::details>& failures() const noexcept { return failures_; }
  const std::string& job_id() const noexcept { return job_id_; }
  const std::string& directory() const noexcept { return directory_; }

 private:
  std::string job_id_;
  std::string directory_;
  std::vector<remote_error::details> failures_;
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
