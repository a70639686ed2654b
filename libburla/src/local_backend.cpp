#include "local_backend.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <burla/detail/job_state.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <mutex>
#include <sstream>

extern char** environ;

namespace burla::detail {

std::vector<std::string>& program_arguments() {
  static std::vector<std::string> args;
  return args;
}

bool& init_called() {
  static bool called = false;
  return called;
}

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

int local_workers(const options& o, std::uint64_t n_inputs, const machine& m) {
  if (o.func_cpu > m.cpus)
    throw invalid_option("func_cpu", std::to_string(o.func_cpu),
                         "this machine has " + std::to_string(m.cpus) +
                             " CPUs; ask for at most that many, or run on a cluster (backend = slurm)");
  if (o.func_ram && *o.func_ram > m.ram_gb)
    throw invalid_option("func_ram", std::to_string(*o.func_ram),
                         "this machine has " + std::to_string(m.ram_gb) + " GB of memory");
  if (o.func_gpu > static_cast<int>(m.gpus.size()))
    throw invalid_option("func_gpu", std::to_string(o.func_gpu),
                         "this machine has " + std::to_string(m.gpus.size()) + " GPUs visible");
  std::uint64_t w = std::min<std::uint64_t>(n_inputs, static_cast<std::uint64_t>(m.cpus / o.func_cpu));
  if (o.max_parallelism) w = std::min<std::uint64_t>(w, static_cast<std::uint64_t>(*o.max_parallelism));
  if (o.func_ram) w = std::min<std::uint64_t>(w, static_cast<std::uint64_t>(m.ram_gb / *o.func_ram));
  if (o.func_gpu > 0) w = std::min<std::uint64_t>(w, m.gpus.size() / static_cast<std::size_t>(o.func_gpu));
  return static_cast<int>(std::max<std::uint64_t>(w, 1));
}

std::vector<std::string> local_gpus(const machine& m, int workers, int func_gpu) {
  const auto n =
      std::min<std::size_t>(m.gpus.size(), static_cast<std::size_t>(std::max(0, workers * func_gpu)));
  return {m.gpus.begin(), m.gpus.begin() + static_cast<std::ptrdiff_t>(n)};
}

bool child_process::exited() {
  if (exited_) return true;
  int st = 0;
  pid_t r = ours_ ? ::waitpid(pid_, &st, WNOHANG) : -1;
  if (!ours_) errno = ECHILD;  // not our child: only its pidfd can tell
  if (r == pid_) {
    exited_ = true;
    status_ = st;
  } else if (r < 0 && errno == ECHILD) {
    // Reaped elsewhere (SIGCHLD ignored, or a handler calling waitpid(-1)): the pidfd still
    // says whether it ended; its status is lost, the journal has the outcome.
    pollfd p{pidfd_.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) == 1) {
      exited_ = true;
      status_unknown_ = true;
    }
  } else if (r < 0 && errno != EINTR) {
    posix::fail("cannot wait for mpirun");
  }
  return exited_;
}

void child_process::signal(int sig) {
  // Through the pidfd: never a recycled pid, even when someone else reaped ours.
  if (!exited_ && pidfd_) ::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0);
}

std::string child_process::describe_end() const {
  if (!ours_) return name_ + " ended";
  if (status_unknown_)
    return name_ + " ended (its exit status was collected by another part of this program)";
  if (WIFEXITED(status_)) return name_ + " exited with code " + std::to_string(WEXITSTATUS(status_));
  if (WIFSIGNALED(status_))
    return name_ + " was killed by signal " + std::to_string(WTERMSIG(status_)) + " (" +
           strsignal(WTERMSIG(status_)) + ")";
  return name_ + " ended";
}

std::string find_mpirun() {
  const std::string wanted = posix::env("BURLA_MPIRUN").value_or("mpirun");
  const std::string mpirun = posix::find_on_path(wanted);
  if (mpirun.empty())
    throw error("burla: cannot run the job locally: " + wanted +
                " was not found on PATH. Install Open MPI (Debian: apt-get install openmpi-bin) or "
                "set BURLA_MPIRUN to its path.");
  return mpirun;
}

namespace {
std::mutex abandoned_mutex;
std::vector<child_process> abandoned;
}  // namespace

void abandon(child_process&& p) {
  std::lock_guard lock(abandoned_mutex);
  abandoned.push_back(std::move(p));
}

void reap_abandoned() {
  std::lock_guard lock(abandoned_mutex);
  std::erase_if(abandoned, [](child_process& p) {
    try {
      return p.exited();
    } catch (const error&) {
      return true;
    }
  });
}

child_process spawn_logged(const std::vector<std::string>& args, const std::vector<env_setting>& settings,
                           const std::string& log) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  for (const auto& [k, v, override_user] : settings) {
    auto it =
        std::find_if(env.begin(), env.end(), [&](const std::string& s) { return s.rfind(k + "=", 0) == 0; });
    if (it == env.end())
      env.push_back(k + "=" + v);
    else if (override_user)
      *it = k + "=" + v;
  }
  // A fresh job directory has no job.log: anything already there is refused, not appended to.
  posix::fd log_fd = posix::create_file(log, O_WRONLY | O_APPEND, 0600);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_fd.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, log_fd.get(), 2);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    errno = rc;
    posix::fail("cannot start " + args[0]);
  }
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) posix::fail("cannot watch " + args[0] + " (pidfd_open)");
  // Another process (burla attach, the burla command) may follow or stop the job later.
  const std::string dir = log.substr(0, log.rfind('/'));
  posix::write_file_atomic(dir + "/launcher.pid", std::to_string(pid) + " " + process_start_time(pid) + "\n");
  return child_process(pid, posix::fd(pidfd), args[0].substr(args[0].rfind('/') + 1));
}

std::vector<std::string> job_command(const job_spec& spec) {
  std::vector<std::string> cmd = {spec.executable};
  const auto& caller_args = program_arguments();
  if (caller_args.size() > 1) cmd.insert(cmd.end(), caller_args.begin() + 1, caller_args.end());
  return cmd;
}

child_process launch_local(const std::string& mpirun, const job_spec& spec, const std::string& dir,
                           const options& opts, const std::vector<std::string>& gpus) {
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
  for (auto& a : job_command(spec)) args.push_back(std::move(a));

  // A single node needs no network transport, and probing for them costs Open MPI 0.2 s;
  // a user's own settings win.
  std::string gpu_ids;
  for (const auto& g : gpus) gpu_ids += (gpu_ids.empty() ? "" : ",") + g;
  std::vector<env_setting> env = {{"BURLA_JOB_DIR", dir, true},
                                  {"OMP_NUM_THREADS", std::to_string(opts.func_cpu), true},
                                  {"BURLA_GPU_IDS", gpu_ids, true},
                                  {"OMPI_MCA_pml", "ob1", false},
                                  {"OMPI_MCA_btl", "self,vader", false},
                                  // PMIx's shared-memory store costs 20 ms per job to set up
                                  {"PMIX_MCA_gds", "hash", false},
                                  // with a dead rank, MPI_Finalize's barrier would never end
                                  {"OMPI_MCA_async_mpi_finalize", "1", false}};
  if (::geteuid() == 0) {  // mpirun refuses root unless told; running as root was the user's choice
    env.push_back({"OMPI_ALLOW_RUN_AS_ROOT", "1", false});
    env.push_back({"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", false});
  }
  return spawn_logged(args, env, dir + "/job.log");
}

std::string process_start_time(pid_t pid) {
  std::string stat;
  try {
    stat = posix::read_file("/proc/" + std::to_string(pid) + "/stat");
  } catch (const error&) {
    return "";
  }
  // Field 22, counted after the command name, which may hold spaces and parentheses.
  std::stringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
  }
  return field;
}

std::optional<child_process> find_launcher(const std::string& dir) {
  std::string text;
  try {
    text = posix::read_file(dir + "/launcher.pid");
  } catch (const error&) {
    return std::nullopt;
  }
  std::stringstream in(text);
  long pid = 0;
  std::string started;
  if (!(in >> pid >> started) || pid <= 0) return std::nullopt;
  // The same pid with another start time is another process: the job's is gone.
  if (process_start_time(static_cast<pid_t>(pid)) != started) return std::nullopt;
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
  if (pidfd < 0) return std::nullopt;
  return child_process(static_cast<pid_t>(pid), posix::fd(pidfd), "the job's launcher", /*ours=*/false);
}

namespace {

class process_runner final : public runner {
 public:
  explicit process_runner(child_process p) : p_(std::move(p)) {}
  bool ended() override { return p_.exited(); }
  int end_fd() const override { return p_.pidfd(); }
  std::string describe_end() override { return p_.describe_end(); }
  std::string end_state() override { return "crashed"; }
  /// SIGTERM (mpirun and srun pass it to the ranks), then SIGKILL if it is still there 5 s later.
  /// (A BURLA_MPIRUN wrapper script must exec mpirun for this to reach it.)
  void stop() override {
    for (int sig : {SIGTERM, SIGKILL}) {
      p_.signal(sig);
      for (int i = 0; i < 50 && !p_.exited(); ++i) {
        pollfd fd{p_.pidfd(), POLLIN, 0};
        ::poll(&fd, 1, 100);
      }
      if (p_.exited()) return;
    }
  }
  void release() override {
    if (!p_.exited()) abandon(std::move(p_));
  }

 private:
  child_process p_;
};

}  // namespace

std::unique_ptr<runner> process_runner_for(child_process p) {
  return std::make_unique<process_runner>(std::move(p));
}

}  // namespace burla::detail
