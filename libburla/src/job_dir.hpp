// The job directory: <jobs root>/<id>/ holding job.ini, inputs.bin (+ inputs.index), the journal,
// job.log and results.h5. Owner-only.
#pragma once

#include <burla/options.hpp>
#include <string>
#include <utility>

namespace burla::detail {

/// opts.job_dir, else $BURLA_JOBS_DIR, else ~/.burla/jobs. If it exists it must be private
/// (check_jobs_root): job.ini there decides what code a job runs.
std::string jobs_root(const options& opts);

/// Throws burla::error, saying what to do, if another user could change what the jobs root
/// holds (posix::require_private_dir).
void check_jobs_root(const std::string& root);

/// Creates the jobs root if needed (0700), checks it, and creates a new, uniquely named job
/// directory (0700) in it; returns {id, path}.
std::pair<std::string, std::string> create_job_dir(const std::string& root);

/// The job directory of a job under root, by its id or its Slurm job id; a clear error if none.
std::string find_job_dir(const std::string& root, const std::string& id);

}  // namespace burla::detail
