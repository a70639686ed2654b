// A launch: what runs a job's processes for the caller (an mpirun or srun child of this process,
// or a Slurm batch job). The caller follows the job's journal either way; the launch says
// whether the job's processes are still there, and how they ended.
#pragma once

#include <string>

namespace burla::core {

class launch {
 public:
  virtual ~launch() = default;
  /// True once the job's processes are gone: nothing more will be written.
  virtual bool ended() = 0;
  /// A descriptor that becomes readable when the job ends; -1 if there is none (poll instead).
  virtual int end_fd() const { return -1; }
  /// Whether the caller waits for the processes to exit after the job reported its end
  /// (a child process must be reaped; a Slurm job cleans up on its own).
  virtual bool wait_after_end() const { return true; }
  /// Still waiting to start (queued in Slurm).
  virtual bool pending() { return false; }
  /// What the status line shows while the job has not started ("PENDING (Resources)").
  virtual std::string waiting_status() { return {}; }
  /// How it ended, in words ("mpirun was killed by signal 9", "Slurm job 12 ended TIMEOUT").
  virtual std::string describe_end() = 0;
  /// A short name for that end (job_error::state()): "crashed", "TIMEOUT", "CANCELLED", ...
  virtual std::string end_state() = 0;
  /// What the inputs that were running at the end should be blamed on, if anything.
  virtual std::string hint() { return {}; }
  /// The MPI rank whose death ended the job, when the launcher said so; -1 if unknown.
  virtual int dead_rank() { return -1; }
  /// Stops the job's processes (the master did not stop on request, or had not started).
  virtual void stop() = 0;
  /// Kills the job's processes now, without waiting for them (a second Ctrl-C): SIGKILL to
  /// mpirun, whose ranks die with it; scancel for a Slurm job.
  virtual void kill() = 0;
  /// The job object is gone while the job may still run: let it run on.
  virtual void release() {}
};

}  // namespace burla::core
