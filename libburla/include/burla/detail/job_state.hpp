// The caller's side of a running job, independent of the input and result types: starting it,
// following its journal (progress, output, errors), waiting for it, cancelling it.
#pragma once

#include <burla/detail/job_types.hpp>
#include <burla/error.hpp>
#include <burla/options.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace burla {

/// A job written for submission by hand (burla::write_job_script).
struct job_script {
  std::string id;              ///< burla's job id: attach<R>(id) follows it once submitted
  std::string directory;       ///< the job directory
  std::string script;          ///< its sbatch script
  std::string submit_command;  ///< "sbatch '<script>'"
};

}  // namespace burla

namespace burla::detail {

using burla::call_status;
/// A batch of finished calls as the master reported it. Views stay valid until the next call
/// to job_state::next().
struct finished_batch {
  std::uint64_t first = 0;
  std::uint32_t count = 0;
  const std::uint8_t* status = nullptr;  ///< call_status of each call
  std::string_view results;              ///< one encoded result per call
};

/// Where the typed layer writes the encoded inputs.
class input_sink {
 public:
  virtual ~input_sink() = default;
  virtual void write(std::string_view bytes) = 0;
  /// A new archive starts here (serialized inputs only).
  virtual void mark_segment() = 0;
};

/// Rejects invalid options with burla::invalid_option.
void validate(const options& opts);
/// Warns on stderr, once per name, about global variables of the program changed since
/// burla::init: the job's processes would not see the change (submit calls it in debug builds).
void warn_about_changed_globals();

/// While one exists (burla is waiting for a job), Ctrl-C is caught and the job being waited for
/// decides what it means, instead of the program ending at once (docs/usage.md, "Ctrl-C");
/// nested ones share the first. Only where the program left SIGINT at its default: a handler of
/// its own, or SIG_IGN, is left alone. The last one gone puts the program's disposition back.
class ctrl_c_guard {
 public:
  ctrl_c_guard();
  ~ctrl_c_guard();
  ctrl_c_guard(const ctrl_c_guard&) = delete;
  ctrl_c_guard& operator=(const ctrl_c_guard&) = delete;
};

class job_state {
 public:
  using input_writer = std::function<void(input_sink&, std::uint64_t segment_items)>;

  /// Creates the job directory, writes the inputs and starts the job.
  static std::shared_ptr<job_state> start(const options& opts, std::uint64_t n_inputs, job_types types,
                                          const input_writer& write_inputs);
  /// The same up to the submission: writes the job directory and its sbatch script.
  static job_script write_script(const options& opts, std::uint64_t n_inputs, job_types types,
                                 const input_writer& write_inputs);
  /// Follows a job started earlier, by id or Slurm job id; its results must be result_type.
  /// Without replay_output, what its calls printed before now is not printed.
  static std::shared_ptr<job_state> attach(const std::string& id, const options& opts,
                                           const std::string& result_type, value_kind result_kind,
                                           bool replay_output);
  /// Runs again what a job that ended early did not finish (burla::resume).
  static std::shared_ptr<job_state> resume(const std::string& id, const options& opts,
                                           const std::string& result_type, value_kind result_kind,
                                           bool rerun_failed);
  virtual ~job_state() = default;

  virtual const std::string& id() const = 0;
  virtual const std::string& directory() const = 0;
  virtual std::uint64_t size() const = 0;
  /// Blocks until more calls have finished; false once the job has ended and all were delivered.
  virtual bool next(finished_batch& out) = 0;
  /// Waits for the end of the job; throws its error (remote_error, calls_failed, job_error...)
  /// if it failed. Without throw_call_errors, failed calls are not an error (outcomes()).
  virtual void finish(bool throw_call_errors = true) = 0;
  /// Per input: its call_status so far.
  virtual const std::vector<std::uint8_t>& statuses() const = 0;
  /// Why an input failed (nullptr if it did not).
  virtual const remote_error::details* failure(std::size_t index) const = 0;
  /// Stops the job; calls already finished stay in its results file.
  virtual void cancel() = 0;
};

}  // namespace burla::detail
