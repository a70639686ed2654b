#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <string_view>

extern char** environ;

namespace burla::core {

std::vector<std::string>& program_arguments() {
  static std::vector<std::string> args;
  return args;
}

bool& init_called() {
  static bool called = false;
  return called;
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
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t pid = posix::spawn(args, envp.data(), log_fd.get(), log_fd.get());
  auto pidfd = posix::open_pidfd(pid);  // our child: not reaped yet, so it is there
  // Another process (burla attach, the burla command) may follow or stop the job later.
  const std::string dir = log.substr(0, log.rfind('/'));
  posix::write_file_atomic(dir + "/launcher.pid", std::to_string(pid) + " " + process_start_time(pid) + "\n");
  return child_process(pid, std::move(pidfd).value(), args[0].substr(args[0].rfind('/') + 1));
}

std::vector<std::string> job_command(const std::string& executable) {
  std::vector<std::string> cmd = {executable};
  const auto& caller_args = program_arguments();
  if (caller_args.size() > 1) cmd.insert(cmd.end(), caller_args.begin() + 1, caller_args.end());
  return cmd;
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
  // ESRCH: it has just ended. Any other failure (no pidfd_open in this kernel, out of
  // descriptors) says nothing about the job and is an error: taking it for "the job ended"
  // would let a resume race the job still running.
  auto pidfd = posix::open_pidfd(static_cast<pid_t>(pid));
  if (!pidfd) return std::nullopt;
  return child_process(static_cast<pid_t>(pid), std::move(*pidfd), "the job's launcher", /*ours=*/false);
}

namespace {

class process_launch final : public launch {
 public:
  process_launch(child_process p, std::string log) : p_(std::move(p)), log_(std::move(log)) {}
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
  void kill() override { p_.signal(SIGKILL); }
  void release() override {
    if (!p_.exited()) abandon(std::move(p_));
  }
  /// mpirun names the rank whose death ended the job ("... process rank 3 with PID ...").
  int dead_rank() override {
    std::string text;
    try {
      text = posix::read_file(log_);
    } catch (const error&) {
      return -1;
    }
    constexpr std::string_view said = "process rank ";
    for (auto at = text.find(said); at != std::string::npos; at = text.find(said, at + 1)) {
      const char* digits = text.c_str() + at + said.size();
      if (std::isdigit(static_cast<unsigned char>(*digits))) return std::atoi(digits);
    }
    return -1;
  }

 private:
  child_process p_;
  std::string log_;
};

/// A job followed after its launcher had gone.
class gone final : public launch {
 public:
  bool ended() override { return true; }
  std::string describe_end() override { return "its processes are no longer running"; }
  std::string end_state() override { return "crashed"; }
  void stop() override {}
  void kill() override {}
};

}  // namespace

std::unique_ptr<launch> launch_of(child_process p, std::string log) {
  return std::make_unique<process_launch>(std::move(p), std::move(log));
}

std::unique_ptr<launch> follow_launcher(const std::string& dir) {
  if (auto p = find_launcher(dir)) return launch_of(std::move(*p), dir + "/job.log");
  return std::make_unique<gone>();  // its journal says the rest
}

}  // namespace burla::core
