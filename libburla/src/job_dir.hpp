// The job directory: <jobs root>/<id>/ holding job.ini, inputs.bin (+ inputs.index), the journal,
// job.log and results.h5. Owner-only.
#pragma once

#include <burla/options.hpp>
#include <string>
#include <utility>
#include <vector>

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

/// The names (ids) of the job directories under root, oldest first: ids start with their
/// creation time.
std::vector<std::string> list_jobs(const std::string& root);

/// Where `burla rm` moves a job's directory while it removes it: a name no id finds, so that a
/// removal cut short by a crash is finished by the next `burla rm ID` or `burla gc`.
std::string removing_dir(const std::string& root, const std::string& id);
/// The ids whose removal was cut short: their removing_dir is there.
std::vector<std::string> cut_short_removals(const std::string& root);

/// The job directory of a job under root, by its id or its Slurm job id; a clear error if none.
std::string find_job_dir(const std::string& root, const std::string& id);

}  // namespace burla::detail
