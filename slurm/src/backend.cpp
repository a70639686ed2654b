#include "backend.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

#include "commands.hpp"
#include "libburla/src/local_backend.hpp"
#include "libburla/src/posix.hpp"
#include "script.hpp"

namespace burla::slurm {
namespace {

std::optional<long> mem_per_cpu_mb(const options& o) {
  if (!o.func_ram) return std::nullopt;
  return static_cast<long>(std::ceil(*o.func_ram * 1024.0 / o.func_cpu));  // Slurm's M is MiB
}

class slurm_runner final : public detail::runner {
 public:
  explicit slurm_runner(std::string id) : id_(std::move(id)) {}
  ~slurm_runner() override { forget(id_); }

  bool ended() override {
    last_ = status(id_);
    return last_.answered && (!last_.known || is_final(last_.state));
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
    return "Slurm job " + id_ + " ended " + last_.state + (details.empty() ? "" : " (" + details + ")");
  }
  std::string end_state() override { return last_.known ? last_.state : "ENDED"; }
  std::string hint() override {
    const std::string& s = last_.state;
    if (s == "TIMEOUT") return "It reached its time limit: ask for more with options.time_limit.";
    if (s == "OUT_OF_MEMORY")
      return "A task used more memory than it asked for: raise options.func_ram (GB per call).";
    if (s == "NODE_FAIL") return "A node of the job failed; submit the job again.";
    if (s == "CANCELLED") return "It was cancelled (scancel, or an administrator).";
    if (s == "PREEMPTED") return "A job of higher priority took its nodes; submit it again.";
    if (s == "BOOT_FAIL") return "Its nodes failed to boot; submit it again.";
    return "";
  }
  void stop() override {
    cancel(id_);
    for (int i = 0; i < 300 && !ended(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

 private:
  std::string id_;
  job_status last_;
};

void reject(const char* option, const std::string& value, bool in_allocation) {
  throw invalid_option(option, value,
                       in_allocation ? "the job runs with srun in the allocation this program runs in "
                                       "(SLURM_JOB_ID is set), where it does not apply; set backend = "
                                       "burla::backend::slurm to submit a job of its own instead"
                                     : "it applies to Slurm jobs only");
}

}  // namespace

void check_options(const options& o, bool in_allocation) {
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
  if (!o.partition.empty()) reject("partition", o.partition, true);
  if (!o.account.empty()) reject("account", o.account, true);
  if (!o.qos.empty()) reject("qos", o.qos, true);
  if (o.time_limit) reject("time_limit", std::to_string(o.time_limit->count()) + " s", true);
  if (!o.job_name.empty()) reject("job_name", o.job_name, true);
  if (!o.sbatch_args.empty()) reject("sbatch_args", o.sbatch_args.front(), true);
  if (!o.packages.empty()) reject("packages", o.packages.front(), true);
}

int workers_for(const options& o, std::uint64_t n) {
  long cpus = 4000;  // Burla's cap on one job
  if (auto cap = posix::env("BURLA_MAX_CPUS")) {
    try {
      cpus = std::stol(*cap);
    } catch (const std::exception&) {
      throw invalid_option("BURLA_MAX_CPUS", *cap, "it must be a whole number of CPUs");
    }
  }
  if (auto in_partition = partition_cpus(o.partition)) cpus = std::min(cpus, *in_partition);
  const long tasks = cpus / o.func_cpu;  // the master takes one task too
  std::uint64_t w = std::min<std::uint64_t>(n, static_cast<std::uint64_t>(std::max(tasks - 1, 1L)));
  if (o.max_parallelism) w = std::min<std::uint64_t>(w, static_cast<std::uint64_t>(*o.max_parallelism));
  return static_cast<int>(std::max<std::uint64_t>(w, 1));
}

std::string write_script(const detail::job_spec& spec, const std::string& dir, const options& o) {
  job_request r;
  r.id = spec.id;
  r.job_dir = dir;
  r.job_name =
      o.job_name.empty() ? "burla-" + spec.executable.substr(spec.executable.rfind('/') + 1) : o.job_name;
  r.tasks = spec.workers + 1;
  r.cpus_per_task = o.func_cpu;
  r.mem_per_cpu_mb = mem_per_cpu_mb(o);
  r.gpus_per_task = o.func_gpu;
  r.partition = o.partition;
  r.account = o.account;
  r.qos = o.qos;
  r.time_limit = o.time_limit;
  r.drain_seconds = spec.drain_seconds;
  r.extra_args = o.sbatch_args;
  r.modules = o.packages;
  r.image = o.image;
  r.command = detail::job_command(spec);
  const std::string path = dir + "/job.sbatch";
  posix::write_file_atomic(path, render_script(r));
  return path;
}

std::unique_ptr<detail::runner> submit_job(const std::string& script, const std::string& dir) {
  const std::string id = submit(script);
  posix::write_file_atomic(dir + "/slurm_job_id", id + "\n");
  return follow(id);
}

std::unique_ptr<detail::runner> follow(const std::string& slurm_job_id) {
  return std::make_unique<slurm_runner>(slurm_job_id);
}

namespace {

/// A job whose Slurm id is not known yet (a script to be submitted by hand): waits for the
/// job script to record it, then follows that job.
class submitted_later final : public detail::runner {
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

 private:
  detail::runner* job() {
    if (!job_) {
      try {
        std::string id = posix::read_file(dir_ + "/slurm_job_id");
        while (!id.empty() && id.back() == '\n') id.pop_back();
        if (!id.empty()) job_ = follow(id);
      } catch (const error&) {
      }
    }
    return job_.get();
  }
  std::string dir_;
  std::unique_ptr<detail::runner> job_;
};

long allocation_cpus() {
  for (const char* var : {"SLURM_JOB_CPUS_PER_NODE", "SLURM_CPUS_ON_NODE"})
    if (auto v = posix::env(var))
      if (long n = count_cpus_per_node(*v); n > 0) return n;
  return 1;
}
}  // namespace

std::unique_ptr<detail::runner> follow_dir(const std::string& dir) {
  return std::make_unique<submitted_later>(dir);
}

int allocation_workers(const options& o, std::uint64_t n) {
  const long tasks = allocation_cpus() / o.func_cpu;
  std::uint64_t w = std::min<std::uint64_t>(n, static_cast<std::uint64_t>(std::max(tasks - 1, 1L)));
  if (o.max_parallelism) w = std::min<std::uint64_t>(w, static_cast<std::uint64_t>(*o.max_parallelism));
  return static_cast<int>(std::max<std::uint64_t>(w, 1));
}

std::unique_ptr<detail::runner> launch_in_allocation(const detail::job_spec& spec, const std::string& dir,
                                                     const options& o) {
  std::vector<std::string> args;
  std::vector<detail::env_setting> env = {{"BURLA_JOB_DIR", dir, true},
                                          {"OMP_NUM_THREADS", std::to_string(o.func_cpu), true}};
  const int tasks = spec.workers + 1;
  if (srun_has_pmix()) {
    args = {command("srun"), "--mpi=pmix", "--ntasks=" + std::to_string(tasks),
            "--cpus-per-task=" + std::to_string(o.func_cpu)};
    if (auto mb = mem_per_cpu_mb(o)) args.push_back("--mem-per-cpu=" + std::to_string(*mb) + "M");
    if (o.func_gpu > 0) args.push_back("--gpus-per-task=" + std::to_string(o.func_gpu));
    // A 1-CPU allocation still runs the master beside its one worker; the master mostly waits.
    if (static_cast<long>(tasks) * o.func_cpu > allocation_cpus()) args.push_back("--overcommit");
  } else {  // Open MPI's mpirun reads the allocation from Slurm itself
    args = {detail::find_mpirun(), "-np", std::to_string(tasks), "--oversubscribe", "--bind-to", "none"};
    if (::geteuid() == 0) {
      env.push_back({"OMPI_ALLOW_RUN_AS_ROOT", "1", false});
      env.push_back({"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", false});
    }
  }
  if (!o.image.empty()) {
    const std::string container =
        !posix::find_on_path("apptainer").empty() ? "apptainer" : posix::find_on_path("singularity");
    if (container.empty())
      throw invalid_option("image", o.image, "neither apptainer nor singularity is on PATH here");
    args.insert(args.end(), {container, "exec", o.image});
  }
  for (auto& a : detail::job_command(spec)) args.push_back(std::move(a));
  return detail::process_runner_for(detail::spawn_logged(args, env, dir + "/job.log"));
}

}  // namespace burla::slurm
