// The Slurm backend: a new job through sbatch, or srun inside the allocation the caller runs in.
#pragma once

#include <burla/detail/job_spec.hpp>
#include <burla/options.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "libburla/src/runner.hpp"

namespace burla::slurm {

/// Rejects options that make no sense on Slurm, or inside an allocation.
void check_options(const options& opts, bool in_allocation);

/// Worker tasks for a new job of n inputs: as many as the inputs need, at most max_parallelism,
/// within $BURLA_MAX_CPUS (default 4000) and the partition's CPUs.
int workers_for(const options& opts, std::uint64_t n_inputs);

/// Writes <dir>/job.sbatch for the job; returns its path.
std::string write_script(const detail::job_spec& spec, const std::string& dir, const options& opts);

/// Submits the script and follows the new job.
std::unique_ptr<detail::runner> submit_job(const std::string& script, const std::string& dir);

/// Follows a job submitted earlier (attach, the burla command).
std::unique_ptr<detail::runner> follow(const std::string& slurm_job_id);

/// Follows the Slurm job of a job directory, once its slurm_job_id is there (a job submitted by
/// hand records it when it starts).
std::unique_ptr<detail::runner> follow_dir(const std::string& dir);

/// Inside an allocation (SLURM_JOB_ID set): workers that fit it, and the srun that runs the job.
int allocation_workers(const options& opts, std::uint64_t n_inputs);
std::unique_ptr<detail::runner> launch_in_allocation(const detail::job_spec& spec, const std::string& dir,
                                                     const options& opts);

}  // namespace burla::slurm
