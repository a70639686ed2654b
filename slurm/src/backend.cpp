#include "backend.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "commands.hpp"
#include "libburla/core/posix.hpp"
#include "libburla/core/process.hpp"
#include "script.hpp"

namespace burla::slurm {
namespace {

std::optional<long> mem_per_cpu_mb(const core::job_spec& spec) {
  if (spec.func_ram <= 0) return std::nullopt;
  return static_cast<long>(std::ceil(spec.func_ram * 1024.0 / spec.func_cpu));  // Slurm's M is MiB
}

/// A Slurm job, followed through squeue.
class slurm_launch final : public core::launch {
 public:
  slurm_launch(std::string id, std::string dir) : id_(std::move(id)), dir_(std::move(dir)) {}
  ~slurm_launch() override { forget(id_); }

  bool ended() override {
    last_ = status(id_);
    const bool ended = last_.answered && (!last_.known || is_final(last_.state));
    if (ended && !log_read_ && last_.state != "NODE_FAIL") try {
        log_read_ = true;  // once: the job has ended, its log no longer changes
        lost_node_ = lost_daemon_node(posix::read_file(dir_ + "/job.log"));
      } catch (const error&) {  // no log: nothing to add
      }
    return ended;
  }
  bool wait_after_end() const override { return false; }
  bool pending() override {
    last_ = status(id_);
    return last_.known && last_.state == "PENDING";
  }
  std::string waiting_status() override {
    last_ = status(id_);
    if (!last_.known) return "Slurm job " + id_ + " submitted";
    std::string s = "Slurm job " + id_ + ": " + last_.state;
    if (!last_.reason.empty() && last_.reason != "None") s += " (" + last_.reason + ")";
    return s;
  }
  std::string describe_end() override {
    if (!last_.known) return "Slurm job " + id_ + " ended (Slurm no longer lists it)";
    const std::string details = end_details(id_);
    std::string text =
        "Slurm job " + id_ + " ended " + last_.state + (details.empty() ? "" : " (" + details + ")");
    if (last_.state == "NODE_FAIL")
      if (const auto at = details.find("NodeList="); at != std::string::npos)
        if (const std::string lost = failed_nodes(details.substr(at + 9, details.find(' ', at) - at - 9));
            !lost.empty())
          text += "; the node that failed: " + lost;
    if (!lost_node_.empty())
      text += "; it lost node " + lost_node_ +
              " (NODE_FAIL: Open MPI lost its daemon there, so that node failed or its link was cut; "
              "Slurm marks it so once it notices)";
    return text;
  }
  std::string end_state() override {
    if (!lost_node_.empty()) return "NODE_FAIL";
    return last_.known ? last_.state : "ENDED";
  }
  std::string hint() override {
    const std::string s = end_state();
    if (s == "TIMEOUT") return "It reached its time limit: ask for more with options.time_limit.";
    if (s == "OUT_OF_MEMORY")
      return "A task used more memory than it asked for: raise options.func_ram (GB per call).";
    if (s == "NODE_FAIL")
      return "A node of the job failed. What had finished is kept: resume the job to finish it on the nodes "
             "left (burla::resume, or `burla resume` with the job's id).";
    if (s == "CANCELLED") return "It was cancelled (scancel, or an administrator).";
    if (s == "PREEMPTED") return "A job of higher priority took its nodes; submit it again.";
    if (s == "BOOT_FAIL") return "Its nodes failed to boot; submit it again.";
    return "";
  }
  void stop() override {
    cancel(id_);
    for (int i = 0; i < 300 && !ended(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  void kill() override { cancel(id_); }

 private:
  std::string id_, dir_;
  job_status last_;
  std::string lost_node_;  // whose daemon mpirun lost (job.log)
  bool log_read_ = false;
};

/// A job whose Slurm id is not known yet (a script to be submitted by hand): waits for the
/// job script to record it, then follows that job.
class submitted_later final : public core::launch {
 public:
  explicit submitted_later(std::string dir) : dir_(std::move(dir)) {}
  bool ended() override { return job() && job()->ended(); }
  bool wait_after_end() const override { return false; }
  bool pending() override { return !job() || job()->pending(); }
  std::string waiting_status() override {
    return job() ? job()->waiting_status() : "waiting to be submitted: sbatch " + dir_ + "/job.sbatch";
  }
  std::string describe_end() override { return job() ? job()->describe_end() : "not submitted"; }
  std::string end_state() override { return job() ? job()->end_state() : "not_started"; }
  std::string hint() override { return job() ? job()->hint() : ""; }
  void stop() override {
    if (job()) job()->stop();
  }
  void kill() override {
    if (job()) job()->kill();
  }

 private:
  core::launch* job() {
    if (!job_) {
      try {
        std::string id = posix::read_file(dir_ + "/slurm_job_id");
        while (!id.empty() && id.back() == '\n') id.pop_back();
        if (!id.empty()) job_ = std::make_unique<slurm_launch>(id, dir_);
      } catch (const error&) {
      }
    }
    return job_.get();
  }
  std::string dir_;
  std::unique_ptr<core::launch> job_;
};

/// Checks what both Slurm backends share; in_allocation: the options sbatch alone uses are refused.
void check_slurm_options(const options& o, bool in_allocation) {
  if (o.time_limit && o.time_limit->count() <= 0)
    throw invalid_option("time_limit", std::to_string(o.time_limit->count()) + " s",
                         "it must be positive (e.g. 2h, 30min), or left unset for the partition's limit");
  for (const auto& p : o.packages)
    if (p.empty() || p.find_first_of("\n\r") != std::string::npos)
      throw invalid_option("packages", p, "each entry is one environment module name, e.g. \"gcc/12\"");
  if (!o.image.empty() && o.image.find("://") == std::string::npos && !posix::exists(o.image))
    throw invalid_option("image", o.image,
                         "no such file; give the path of an Apptainer/Singularity image (.sif) that the "
                         "compute nodes can read, or a URI such as docker://ubuntu:24.04");
  if (!in_allocation) return;
  for (const auto& set : core::slurm_options_set(o))
    if (!set.applies_in_allocation)
      throw invalid_option(set.name, set.value,
                           "the job runs with mpirun in the allocation this program runs in (SLURM_JOB_ID is "
                           "set), where it does not apply; set backend = burla::backend::slurm to submit a "
                           "job of its own instead");
}

class batch final : public core::backend {
 public:
  core::backend_kind kind() const override { return core::backend_kind::slurm; }
  void check(const options& o) const override {
    check_slurm_options(o, false);
    command("sbatch");  // before anything is written
  }
  /// As many as the inputs need, within $BURLA_MAX_CPUS (default 4000) and the partition's CPUs.
  int workers(const core::job_spec& spec, std::uint64_t n) const override {
    long cpus = 4000;  // Burla's cap on one job
    if (auto cap = posix::env("BURLA_MAX_CPUS")) {
      try {
        cpus = std::stol(*cap);
      } catch (const std::exception&) {
        throw invalid_option("BURLA_MAX_CPUS", *cap, "it must be a whole number of CPUs");
      }
    }
    if (auto in_partition = partition_cpus(spec.slurm.partition)) cpus = std::min(cpus, *in_partition);
    core::capacity c;
    c.cpus = cpus;
    return core::workers_that_fit(spec, n, c);
  }
  std::unique_ptr<core::launch> start(const core::job_spec& spec, const std::string& dir) const override {
    const std::string id = submit(write_script(spec, dir));
    posix::write_file_atomic(dir + "/slurm_job_id", id + "\n");
    return std::make_unique<slurm_launch>(id, dir);
  }
  std::unique_ptr<core::launch> follow(const core::job_spec&, const std::string& dir) const override {
    return std::make_unique<submitted_later>(dir);
  }
  std::string write_script(const core::job_spec& spec, const std::string& dir) const override {
    const core::slurm_request& o = spec.slurm;
    job_request r;
    r.id = spec.id;
    r.job_dir = dir;
    r.job_name =
        o.job_name.empty() ? "burla-" + spec.executable.substr(spec.executable.rfind('/') + 1) : o.job_name;
    r.tasks = spec.workers;  // the master runs beside them, in no task of its own
    r.cpus_per_task = spec.func_cpu;
    r.mem_per_cpu_mb = mem_per_cpu_mb(spec);
    r.gpus_per_task = spec.func_gpu;
    r.partition = o.partition;
    r.account = o.account;
    r.qos = o.qos;
    if (o.time_limit_s > 0) r.time_limit = std::chrono::seconds(o.time_limit_s);
    r.drain_seconds = spec.drain_seconds;
    r.extra_args = o.sbatch_args;
    r.modules = o.packages;
    r.image = o.image;
    r.stage_program = o.stage_program;
    r.command = core::job_command(spec.executable);
    const std::string path = dir + "/job.sbatch";
    posix::write_file_atomic(path, render_script(r));
    return path;
  }
};

long allocation_cpus() {
  for (const char* var : {"SLURM_JOB_CPUS_PER_NODE", "SLURM_CPUS_ON_NODE"})
    if (auto v = posix::env(var))
      if (long n = count_cpus_per_node(*v); n > 0) return n;
  return 1;
}

class allocation final : public core::backend {
 public:
  core::backend_kind kind() const override { return core::backend_kind::allocation; }
  void check(const options& o) const override { check_slurm_options(o, true); }
  int workers(const core::job_spec& spec, std::uint64_t n) const override {
    core::capacity c;
    c.cpus = allocation_cpus();
    return core::workers_that_fit(spec, n, c);
  }
  std::unique_ptr<core::launch> start(const core::job_spec& spec, const std::string& dir) const override {
    std::vector<std::string> args;
    std::vector<core::env_setting> env = {{"BURLA_JOB_DIR", dir, true},
                                          {"OMP_NUM_THREADS", std::to_string(spec.func_cpu), true}};
    const int ranks = spec.workers + 1;  // the master beside the workers' tasks
    // Open MPI's mpirun reads the allocation from Slurm itself (why not srun: docs/cluster.md).
    args = {core::find_mpirun(), "-np", std::to_string(ranks), "--oversubscribe", "--bind-to", "none"};
    env.push_back({"OMPI_MCA_async_mpi_finalize", "1", false});  // as in the batch script
    if (::geteuid() == 0) {
      env.push_back({"OMPI_ALLOW_RUN_AS_ROOT", "1", false});
      env.push_back({"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", false});
    }
    if (const std::string& image = spec.slurm.image; !image.empty()) {
      const std::string container =
          !posix::find_on_path("apptainer").empty() ? "apptainer" : posix::find_on_path("singularity");
      if (container.empty())
        throw invalid_option("image", image, "neither apptainer nor singularity is on PATH here");
      args.insert(args.end(), {container, "exec", image});
    }
    for (auto& a : core::job_command(spec.executable)) args.push_back(std::move(a));
    const std::string log = dir + "/job.log";
    return core::launch_of(core::spawn_logged(args, env, log), log);
  }
  std::unique_ptr<core::launch> follow(const core::job_spec&, const std::string& dir) const override {
    return core::follow_launcher(dir);
  }
};

}  // namespace

const core::backend& batch_backend() {
  static const batch b;
  return b;
}

const core::backend& allocation_backend() {
  static const allocation b;
  return b;
}

}  // namespace burla::slurm
