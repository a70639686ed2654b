// Processes the caller starts and follows: the launcher of a job (mpirun, srun) with its output
// in job.log, found again later through launcher.pid; the command line a job's ranks run.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "launch.hpp"
#include "posix.hpp"

namespace burla::core {

/// A started mpirun, followed through a pidfd.
class child_process {
 public:
  child_process() = default;
  /// name: what the messages call it ("mpirun"); ours: a child of this process (else only followed).
  child_process(pid_t pid, posix::fd pidfd, std::string name, bool ours = true)
      : pid_(pid), pidfd_(std::move(pidfd)), name_(std::move(name)), ours_(ours) {}
  child_process(child_process&&) = default;
  child_process& operator=(child_process&&) = default;
  /// Readable when the process has exited.
  int pidfd() const { return pidfd_.get(); }
  /// Reaps the process if it has exited; true once it has.
  bool exited();
  void signal(int sig);
  /// How it ended, in words ("mpirun exited with code 3", "mpirun was killed by signal 9 (Killed)").
  std::string describe_end() const;

 private:
  pid_t pid_ = -1;
  posix::fd pidfd_;
  std::string name_;
  bool ours_ = true;
  bool exited_ = false;
  bool status_unknown_ = false;
  int status_ = 0;
};

/// The mpirun to use (BURLA_MPIRUN, else mpirun on PATH); throws a clear error if there is none.
std::string find_mpirun();

struct env_setting {
  std::string name, value;
  bool override_user;  ///< false: a value the user set wins
};

/// Starts args[0] (a path) with this environment plus `env`, stdout and stderr appended to log,
/// and records its pid in launcher.pid next to the log.
child_process spawn_logged(const std::vector<std::string>& args, const std::vector<env_setting>& env,
                           const std::string& log);
/// The job's processes run this: `executable` with the caller's arguments.
std::vector<std::string> job_command(const std::string& executable);

/// The launcher recorded in a job directory, if that very process still runs (for attach).
std::optional<child_process> find_launcher(const std::string& dir);
/// A process's start time (/proc/PID/stat field 22): with the pid, it names one process.
std::string process_start_time(pid_t pid);

/// Follows a job run by that process, whose output goes to `log`.
std::unique_ptr<launch> launch_of(child_process p, std::string log);
/// Follows the launcher a job directory records (launch_of), or says the job has ended.
std::unique_ptr<launch> follow_launcher(const std::string& dir);

/// Keeps a job's mpirun whose job object is gone while it still runs (the job goes on);
/// reap_abandoned() collects those that have ended, so dropped jobs leave no zombies.
void abandon(child_process&& p);
void reap_abandoned();

/// The caller's arguments, remembered by burla::init so that the job sees the same ones.
std::vector<std::string>& program_arguments();
bool& init_called();

}  // namespace burla::core
