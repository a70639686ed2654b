// A real terminal for the Ctrl-C tests: a program run in a tmux session (a tmux server of the
// test's own), keys typed into it, and the processes of a job left on this machine.
#pragma once

#include <dirent.h>
#include <sys/types.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace test {

using namespace std::chrono_literals;

/// Polls until pred() holds. The limit is only there so that a broken job fails the test
/// instead of hanging it; nothing is asserted about how long it takes.
template <class Pred>
bool eventually(Pred pred) {
  for (auto end = std::chrono::steady_clock::now() + 90s; std::chrono::steady_clock::now() < end;) {
    if (pred()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return pred();
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

inline std::string file_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// `command` (shell words) run in a detached tmux session, in the foreground of its terminal as
/// when a user types it: the terminal's Ctrl-C reaches its process group. Its stdout and stderr
/// go to files in `dir`, its pid and, once it has ended, its exit status ($?: 130 for SIGINT)
/// too. The shell around it traps SIGINT to outlive the Ctrl-C; the program starts with
/// SIGINT's default disposition all the same (a trap is not inherited, an ignore would be).
class terminal {
 public:
  terminal(std::string dir, const std::string& command) : dir_(std::move(dir)) {
    for (const char* stale : {"/pid", "/rc", "/rc.tmp"}) std::remove((dir_ + stale).c_str());
    std::ofstream script(dir_ + "/run.sh");
    script << "trap : INT\n"
           << "bash -c 'echo $$ > \"$0\"; exec \"$@\"' " << shell_quote(dir_ + "/pid") << " " << command
           << " > " << shell_quote(dir_ + "/out") << " 2> " << shell_quote(dir_ + "/err") << "\n"
           << "echo $? > " << shell_quote(dir_ + "/rc.tmp") << " && mv " << shell_quote(dir_ + "/rc.tmp")
           << " " << shell_quote(dir_ + "/rc") << "\n";
    script.close();
    tmux("new-session -d -s burla -x 200 -y 50 " + shell_quote("exec bash " + shell_quote(dir_ + "/run.sh")));
  }
  ~terminal() {
    (void)std::system((tmux_command() + " kill-server 2>/dev/null").c_str());
    std::remove(socket().c_str());  // left behind by the server
  }
  terminal(const terminal&) = delete;
  terminal& operator=(const terminal&) = delete;

  /// Types Ctrl-C: the terminal sends SIGINT to its foreground process group.
  void ctrl_c() const { tmux("send-keys -t burla C-c"); }
  /// The program's pid, once it has started; 0 before.
  pid_t pid() const { return static_cast<pid_t>(std::atol(file_text(dir_ + "/pid").c_str())); }
  bool ended() const { return std::ifstream(dir_ + "/rc").good(); }
  int exit_code() const { return std::atoi(file_text(dir_ + "/rc").c_str()); }
  std::string out() const { return file_text(dir_ + "/out"); }
  std::string err() const { return file_text(dir_ + "/err"); }

 private:
  // A server of its own (not the user's), on a short path: a socket's path has at most 107 bytes.
  static std::string socket() { return "/tmp/burla-test-tmux-" + std::to_string(::getpid()) + ".sock"; }
  std::string tmux_command() const { return "tmux -S " + shell_quote(socket()); }
  void tmux(const std::string& args) const {
    if (std::system((tmux_command() + " " + args).c_str()) != 0)
      throw std::runtime_error("tmux " + args + " failed (is tmux installed? scripts/setup.sh installs it)");
  }
  std::string dir_;
};

/// The number in the first group of `pattern` (a regex) where it matches the last line of `text`.
inline std::optional<std::size_t> count_in_last_line(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(pattern + "\n$")) || m.size() < 2) return std::nullopt;
  return std::stoul(m[1]);
}

/// The names in a directory, but for . and its hidden files.
inline std::vector<std::string> file_names(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') out.emplace_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

/// Whether the process catches SIGINT now (SigCgt in /proc/PID/status): burla does while it waits.
inline bool catches_sigint(pid_t pid) {
  if (pid <= 0) return false;
  std::istringstream status(file_text("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);)
    if (line.rfind("SigCgt:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> (SIGINT - 1)) & 1;
  return false;
}

/// Field `n` (from 3, the state) of /proc/PID/stat: 5 is its process group, 8 the foreground
/// process group of its terminal; -1 if there is no such process.
inline long stat_field(pid_t pid, int n) {
  const std::string stat = file_text("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  for (int i = 3; i <= n && fields >> field; ++i) {
  }
  return field.empty() || !std::isdigit(static_cast<unsigned char>(field.back())) ? -1
                                                                                  : std::atol(field.c_str());
}

/// The live processes of this machine that belong to the job in `dir`: mpirun, its ranks and
/// their call processes have BURLA_JOB_DIR=dir in their environment; zombies have ended.
/// rank: only the one of that MPI rank (OMPI_COMM_WORLD_RANK), -1 for all of them.
inline std::vector<pid_t> job_processes(const std::string& dir, int rank = -1) {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  if (!proc) return out;
  const std::string want = "BURLA_JOB_DIR=" + dir, want_rank = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
  while (dirent* e = ::readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
    if (pid <= 0) continue;
    const std::string base = "/proc/" + std::to_string(pid);
    const std::string stat = file_text(base + "/stat");
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos || stat.compare(paren + 2, 1, "Z") == 0) continue;
    bool mine = false, rank_matches = rank < 0;
    std::istringstream env(file_text(base + "/environ"));
    for (std::string var; std::getline(env, var, '\0');) {
      mine = mine || var == want;
      rank_matches = rank_matches || var == want_rank;
    }
    if (mine && rank_matches) out.push_back(pid);
  }
  ::closedir(proc);
  return out;
}

}  // namespace test
