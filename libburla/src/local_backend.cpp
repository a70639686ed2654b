#include "local_backend.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "libburla/core/posix.hpp"
#include "libburla/core/process.hpp"

namespace burla::detail {

machine this_machine() {
  machine m;
  m.cpus = static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  m.ram_gb =
      static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1e9;
  if (auto visible = posix::env("CUDA_VISIBLE_DEVICES")) {
    std::stringstream ss(*visible);
    for (std::string id; std::getline(ss, id, ',');)
      if (!id.empty() && id != "-1") m.gpus.push_back(id);
  } else if (DIR* d = ::opendir("/proc/driver/nvidia/gpus")) {
    int n = 0;
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    for (int i = 0; i < n; ++i) m.gpus.push_back(std::to_string(i));
  }
  return m;
}

std::vector<std::string> local_gpus(const machine& m, int workers, int func_gpu) {
  const auto n =
      std::min<std::size_t>(m.gpus.size(), static_cast<std::size_t>(std::max(0, workers * func_gpu)));
  return {m.gpus.begin(), m.gpus.begin() + static_cast<std::ptrdiff_t>(n)};
}

namespace {

core::child_process launch_local(const std::string& mpirun, const core::job_spec& spec,
                                 const std::string& dir, const std::vector<std::string>& gpus) {
  // --enable-recovery: a worker rank that dies (kill -9) does not take the job down; the master
  // notices its silence and gives its work to the others.
  std::vector<std::string> args = {mpirun,
                                   "-np",
                                   std::to_string(spec.workers + 1),
                                   "--oversubscribe",
                                   "--bind-to",
                                   "none",
                                   "--enable-recovery"};
  for (const char* var : {"BURLA_JOB_DIR", "OMP_NUM_THREADS", "BURLA_GPU_IDS"}) {
    args.push_back("-x");
    args.push_back(var);
  }
  for (auto& a : core::job_command(spec.executable)) args.push_back(std::move(a));

  // A single node needs no network transport, and probing for them costs Open MPI 0.2 s;
  // a user's own settings win.
  std::string gpu_ids;
  for (const auto& g : gpus) gpu_ids += (gpu_ids.empty() ? "" : ",") + g;
  std::vector<core::env_setting> env = {{"BURLA_JOB_DIR", dir, true},
                                        {"OMP_NUM_THREADS", std::to_string(spec.func_cpu), true},
                                        {"BURLA_GPU_IDS", gpu_ids, true},
                                        {"OMPI_MCA_pml", "ob1", false},
                                        {"OMPI_MCA_btl", "self,vader", false},
                                        // PMIx's shared-memory store costs 20 ms per job to set up
                                        {"PMIX_MCA_gds", "hash", false},
                                        // with a dead rank, MPI_Finalize's barrier would never end
                                        {"OMPI_MCA_async_mpi_finalize", "1", false},
                                        // SIGTERM to mpirun: time for the master to save its
                                        // outcome before mpirun's SIGKILL (default 1 s)
                                        {"OMPI_MCA_odls_base_sigkill_timeout", "5", false}};
  if (::geteuid() == 0) {  // mpirun refuses root unless told; running as root was the user's choice
    env.push_back({"OMPI_ALLOW_RUN_AS_ROOT", "1", false});
    env.push_back({"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", false});
  }
  return core::spawn_logged(args, env, dir + "/job.log");
}

class local final : public core::backend {
 public:
  core::backend_kind kind() const override { return core::backend_kind::local; }
  void check(const options& o) const override {
    for (const auto& set : core::slurm_options_set(o))
      throw invalid_option(set.name, set.value,
                           "it applies to Slurm jobs only, and this job runs locally with mpirun "
                           "(backend = local, or automatic where Slurm is not configured)");
    core::find_mpirun();  // before anything is written
  }
  /// Throws when one call cannot fit this machine.
  int workers(const core::job_spec& spec, std::uint64_t n) const override {
    const machine m = this_machine();
    if (spec.func_cpu > m.cpus)
      throw invalid_option("func_cpu", std::to_string(spec.func_cpu),
                           "this machine has " + std::to_string(m.cpus) +
                               " CPUs; ask for at most that many, or run on a cluster (backend = slurm)");
    if (spec.func_ram > m.ram_gb)
      throw invalid_option("func_ram", std::to_string(spec.func_ram),
                           "this machine has " + std::to_string(m.ram_gb) + " GB of memory");
    if (spec.func_gpu > static_cast<int>(m.gpus.size()))
      throw invalid_option("func_gpu", std::to_string(spec.func_gpu),
                           "this machine has " + std::to_string(m.gpus.size()) + " GPUs visible");
    return core::workers_that_fit(
        spec, n, {.cpus = m.cpus, .ram_gb = m.ram_gb, .gpus = static_cast<long>(m.gpus.size())});
  }
  /// Each call gets its CPUs (OMP_NUM_THREADS) and its own GPUs, as job.ini says.
  std::unique_ptr<core::launch> start(const core::job_spec& spec, const std::string& dir) const override {
    const auto gpus = local_gpus(this_machine(), spec.workers, spec.func_gpu);
    return core::launch_of(launch_local(core::find_mpirun(), spec, dir, gpus), dir + "/job.log");
  }
  std::unique_ptr<core::launch> follow(const core::job_spec&, const std::string& dir) const override {
    return core::follow_launcher(dir);
  }
};

}  // namespace

const core::backend& local_backend() {
  static const local b;
  return b;
}

}  // namespace burla::detail
