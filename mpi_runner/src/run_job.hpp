// The job's side: what burla::init runs in a process that mpirun (or srun) started.
#pragma once

#include <string>

#include "libburla/core/job_spec.hpp"

namespace burla::mpi_runner {

/// Runs rank 0's master or a worker for the job in `job_dir`; returns the process exit code.
int run_job(int argc, char** argv, const std::string& job_dir);

int run_master(const core::job_spec& spec, const std::string& job_dir, const std::vector<std::string>& hosts);
class call_process;
/// Where rank 0 runs, for workers to notice when it is gone.
struct master_address {
  std::string host;
  int pid = -1;
};
int run_worker(const core::job_spec& spec, int rank, call_process& calls, const master_address& master);

}  // namespace burla::mpi_runner
