// The one reading of the journal: folds its records, in order, into what they mean for each
// input (its final status, its attempts, why it failed) and for the job (progress, the batches
// out, the current run's start and end). The caller following a job, the master rebuilding a
// resumed run, `burla status` and `burla results` all fold the same way.
//
// The rules: a skipped call (status_skipped) says nothing; a failed attempt that runs again
// (status_retrying) counts as an attempt, not an outcome; any other status is the input's outcome
// until a later record gives another (a resumed run with --failed can turn a failure into ok).
#pragma once

#include <burla/error.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "journal.hpp"

namespace burla::core {

class journal_fold {
 public:
  /// keep_failures: keep why each input failed (the master needs only statuses and attempts).
  journal_fold(const job_spec& spec, std::string journal_path, bool keep_failures = true);

  /// What one batch changed.
  struct batch_change {
    std::uint64_t settled = 0;                   ///< calls given an outcome
    std::optional<std::uint64_t> first_failed;   ///< the first of them that did not succeed
    std::vector<remote_error::details> retried;  ///< the current run's failed attempts that run again
  };
  void apply(const start_record& r);
  void apply(const dispatch_record& r);
  /// Throws (naming the journal) for a batch past the last input or with an unknown status.
  batch_change apply(const reply_view& r);
  void apply(const end_record& r);
  batch_change apply(const record& r);

  /// Per input: its call_status so far (not_run until it has an outcome).
  const std::vector<std::uint8_t>& status() const { return status_; }
  /// Per input: the times it ran, over every run (at most 255).
  const std::vector<std::uint8_t>& attempts() const { return attempts_; }
  /// The inputs whose outcome is a failure, and why.
  const std::map<std::size_t, remote_error::details>& failures() const { return failures_; }
  /// The current run's first failure: what stopped it (on_error raise).
  const std::optional<remote_error::details>& first_failure() const { return first_failure_; }
  std::uint64_t ok() const { return ok_; }
  std::uint64_t failed() const { return failed_; }
  /// The current run's master has written its start record.
  bool started() const { return started_; }
  /// The current run's end record, once written.
  const std::optional<end_record>& end() const { return end_; }
  /// The current run's batches dispatched and not answered, by first input.
  const std::map<std::uint64_t, dispatch_record>& outstanding() const { return outstanding_; }
  /// Workers holding a batch: each runs one call at a time, the rest of what it holds is queued.
  std::size_t busy_workers() const;

 private:
  void fail(const reply_view& r, std::uint32_t i, batch_change& out);
  remote_error::details details(const reply_view& r, std::uint32_t i) const;

  std::uint64_t n_inputs_;
  std::uint32_t run_;
  std::string path_;
  bool keep_failures_;
  std::vector<std::uint8_t> status_, attempts_;
  std::map<std::size_t, remote_error::details> failures_;
  std::optional<remote_error::details> first_failure_;
  std::uint64_t ok_ = 0, failed_ = 0;
  bool current_run_ = false, started_ = false;
  std::optional<end_record> end_;
  std::vector<std::string> hosts_;
  std::map<std::uint64_t, dispatch_record> outstanding_;
};

}  // namespace burla::core
