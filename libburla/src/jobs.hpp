// The caller's operations on a job directory whatever the job's result type: what the burla
// command uses beside the typed API.
#pragma once

#include <burla/detail/job_state.hpp>
#include <memory>
#include <string>

#include "libburla/core/job_spec.hpp"
#include "libburla/core/launch.hpp"

namespace burla::detail {

/// Follows the job of a directory.
std::shared_ptr<job_state> open_job(const std::string& dir, bool spinner);
/// Starts the next run of a job that ended early (burla::resume without the type check).
std::shared_ptr<job_state> resume_job(const std::string& dir, const options& opts, bool rerun_failed);
/// Whether the job's processes still run, and how they ended.
std::unique_ptr<core::launch> follow_launch(const core::job_spec& spec, const std::string& dir);

}  // namespace burla::detail
