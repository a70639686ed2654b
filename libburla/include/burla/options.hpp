// Options of a job, filled with designated initializers like Burla's keyword arguments:
//   burla::remote_parallel_map(f, inputs, {.func_cpu = 2, .max_parallelism = 8, .spinner = false});
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace burla {

/// What a failed call does to the job.
enum class on_error {
  raise,    ///< the first failure stops the job and is thrown (Burla's behaviour)
  collect,  ///< every input runs; one burla::calls_failed summarizes the failures at the end
};

/// What burla::resume runs again.
enum class rerun {
  missing,             ///< inputs without a result (not run: the job was killed or stopped)
  missing_and_failed,  ///< those, and the inputs whose call failed
};

/// What burla::attach does with what the job's calls printed before it attached.
enum class past_output {
  replay,  ///< print it first, then what comes (a job followed from its start)
  skip,    ///< print only what calls print from now on
};

enum class backend {
  automatic,  ///< srun inside a Slurm allocation; else Slurm when it is configured here; else local
  local,      ///< mpirun on this machine
  slurm,      ///< a new Slurm job through sbatch
};

struct options {
  int func_cpu = 1;                         ///< CPUs per call (> 0); exported as OMP_NUM_THREADS
  std::optional<double> func_ram = {};      ///< GB of memory per call (> 0); unset: no requirement
  int func_gpu = 0;                         ///< GPUs per call (>= 0)
  std::optional<int> max_parallelism = {};  ///< most calls at once (> 0); unset: as many as fit
  std::optional<std::chrono::milliseconds> func_timeout = {};  ///< a call running longer is killed
  int max_retries = 0;                          ///< failed calls run again up to this many times
  burla::on_error on_error = on_error::raise;   ///< stop at the first failure, or run everything
  bool spinner = true;                          ///< one-line status on stderr when it is a terminal
  burla::backend backend = backend::automatic;  ///< default: $BURLA_BACKEND (local, slurm) or automatic
  std::string job_dir = {};  ///< where job directories go; default $BURLA_JOBS_DIR or ~/.burla/jobs

  // Slurm only (an error with the local backend):
  std::string partition = {};  ///< --partition; default: the cluster's default partition
  std::string account = {};    ///< --account: who pays (Burla's api_key)
  std::string qos = {};        ///< --qos
  std::optional<std::chrono::seconds> time_limit = {};  ///< --time, e.g. 2h; default: the partition's
  std::string job_name = {};                            ///< --job-name; default: burla-<program>
  std::vector<std::string> sbatch_args = {};  ///< more #SBATCH options, e.g. "--constraint=avx512"; win
                                              ///< over burla's own for the same option
  std::vector<std::string> packages = {};     ///< environment modules: `module load` before the job
  std::string image = {};                     ///< run the ranks in this Apptainer/Singularity image
  /// Copy the program and its libraries to each node's /tmp with sbcast before the ranks start,
  /// so that thousands of ranks do not all read it from the shared filesystem.
  bool stage_program = false;
};

}  // namespace burla
