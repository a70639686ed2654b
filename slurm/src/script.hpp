// The sbatch script of a job, rendered from what the caller asked for: options in, text out.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace burla::slurm {

struct job_request {
  std::string id;       ///< burla's job id (the directory's name)
  std::string job_dir;  ///< absolute path, shared with the compute nodes
  std::string job_name;
  int tasks = 1;  ///< one task per worker; the master (rank 0) runs beside them, in none of its own
  int cpus_per_task = 1;
  std::optional<long> mem_per_cpu_mb;
  int gpus_per_task = 0;
  std::string partition, account, qos;
  std::optional<std::chrono::seconds> time_limit;
  int drain_seconds = 120;              ///< SIGUSR1 this long before the time limit
  std::vector<std::string> extra_args;  ///< whole #SBATCH arguments, e.g. "--constraint=avx512"
  std::vector<std::string> modules;     ///< `module load` before the job
  std::string image;                    ///< Apptainer/Singularity image the ranks run in
  bool stage_program = false;           ///< sbcast the program (command[0]) to every node first
  std::vector<std::string> command;     ///< the program and its arguments
};

/// Shell single quotes: the value comes back exactly, whatever it holds.
std::string shell_quote(std::string_view value);
/// Double quotes with \ " $ ` escaped: read the same way by sbatch's #SBATCH parser and by a shell.
std::string sbatch_quote(std::string_view value);
/// Slurm's --time format, D-HH:MM:SS.
std::string slurm_time(std::chrono::seconds t);

/// The job script. Throws invalid_option for a value that cannot be written safely (a newline in
/// an #SBATCH value, an extra argument that is not an option).
std::string render_script(const job_request& request);

}  // namespace burla::slurm
