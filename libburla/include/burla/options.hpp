// Options of a job, filled with designated initializers like Burla's keyword arguments:
//   burla::remote_parallel_map(f, inputs, {.func_cpu = 2, .max_parallelism = 8, .spinner = false});
#pragma once

#include <optional>
#include <string>

namespace burla {

enum class backend {
  automatic,  ///< the best one available here (this version: local)
  local,      ///< mpirun on this machine
  slurm,      ///< sbatch; not in this version yet (rejected as an invalid option)
};

struct options {
  int func_cpu = 1;                         ///< CPUs per call (> 0); exported as OMP_NUM_THREADS
  std::optional<double> func_ram = {};      ///< GB of memory per call (> 0); unset: no requirement
  int func_gpu = 0;                         ///< GPUs per call (>= 0)
  std::optional<int> max_parallelism = {};  ///< most calls at once (> 0); unset: as many as fit
  bool spinner = true;                      ///< one-line status on stderr when it is a terminal
  burla::backend backend = backend::automatic;
  std::string job_dir = {};  ///< where job directories go; default $BURLA_JOBS_DIR or ~/.burla/jobs
};

}  // namespace burla
