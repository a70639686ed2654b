// The local backend: the job runs under mpirun on this machine.
#pragma once

#include <sys/types.h>

#include <burla/detail/job_spec.hpp>
#include <burla/options.hpp>
#include <optional>
#include <string>
#include <vector>

#include "posix.hpp"

namespace burla::detail {

struct machine {
  int cpus = 1;
  double ram_gb = 0;
  std::vector<std::string> gpus;  ///< device ids usable here
};
machine this_machine();

/// Worker ranks for a job of n inputs here; throws when one call cannot fit this machine.
int local_workers(const options& opts, std::uint64_t n_inputs, const machine& m);

/// A started mpirun, followed through a pidfd.
class child_process {
 public:
  child_process() = default;
  child_process(pid_t pid, posix::fd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
  child_process(child_process&&) = default;
  child_process& operator=(child_process&&) = default;
  /// Readable when the process has exited.
  int pidfd() const { return pidfd_.get(); }
  /// Reaps the process if it has exited; true once it has.
  bool exited();
  void signal(int sig);
  /// How it ended, in words ("exited with code 3", "killed by signal 9 (Killed)").
  std::string describe_end() const;

 private:
  pid_t pid_ = -1;
  posix::fd pidfd_;
  bool exited_ = false;
  bool status_unknown_ = false;
  int status_ = 0;
};

/// The mpirun to use (BURLA_MPIRUN, else mpirun on PATH); throws a clear error if there is none.
std::string find_mpirun();

/// Starts `mpirun` for the job; its stdout and stderr go to <dir>/job.log.
child_process launch_local(const std::string& mpirun, const job_spec& spec, const std::string& dir,
                           const options& opts, const std::vector<std::string>& gpus);

/// Keeps a job's mpirun whose job object is gone while it still runs (the job goes on);
/// reap_abandoned() collects those that have ended, so dropped jobs leave no zombies.
void abandon(child_process&& p);
void reap_abandoned();

/// The caller's arguments, remembered by burla::init so that the job sees the same ones.
std::vector<std::string>& program_arguments();
bool& init_called();

}  // namespace burla::detail
