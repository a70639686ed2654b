// Slurm's commands, each run in one place with a clear error: sbatch, squeue, scontrol, scancel,
// sinfo, srun. The caller and the compute nodes share only the filesystem; these are how the
// caller talks to Slurm.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace burla::slurm {

/// The path of a Slurm command; throws burla::error saying what to do if it is not on PATH.
std::string command(const std::string& name);

/// True when Slurm looks configured here: sbatch on PATH and a slurm.conf it would read.
bool configured();

/// Submits the script; returns Slurm's job id. Slurm's own message if it refuses.
std::string submit(const std::string& script_path);

/// scancel; quiet if the job has already ended.
void cancel(const std::string& job_id);

/// CPUs in the partition (the default partition if empty); nullopt if sinfo cannot tell.
std::optional<long> partition_cpus(const std::string& partition);

/// Total CPUs of SLURM_JOB_CPUS_PER_NODE, e.g. "2(x3),1" -> 7; 0 if unreadable.
long count_cpus_per_node(std::string_view spec);

/// A job as squeue sees it.
struct job_status {
  bool answered = false;  ///< squeue has answered since this process began following the job
  bool known = false;     ///< squeue lists the job (an answer without it: Slurm has forgotten it)
  std::string state;      ///< PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, CANCELLED, ...
  std::string reason;     ///< why it pends, or why it ended
};
bool is_final(const std::string& state);

/// Slurm's view of a job, refreshed gently: one squeue for all the jobs this process follows,
/// every 0.5 s for a job's first 10 s, then every 2 s, then every 5 s after a minute.
job_status status(const std::string& job_id);
/// Stop following the job (its object is gone).
void forget(const std::string& job_id);
/// More about an ended job, for its error: exit code and reason lines of `scontrol show job`.
std::string end_details(const std::string& job_id);
/// The nodes of a node list (node[1-3]) that are down, failed, drained or not responding, with
/// their states: "node3 (down*)"; empty if none or unknown.
std::string failed_nodes(const std::string& node_list);

/// The node whose Open MPI daemon mpirun lost, from the job's log ("ORTE has lost communication
/// with a remote daemon ... Remote daemon: [[j,0],v] on node node3"); empty if it lost none. A
/// node that fails is seen so by mpirun within seconds, long before Slurm marks it NODE_FAIL.
std::string lost_daemon_node(const std::string& job_log);

}  // namespace burla::slurm
