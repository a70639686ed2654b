#include "commands.hpp"

#include <algorithm>
#include <burla/error.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "libburla/core/posix.hpp"

namespace burla::slurm {
namespace {

using clock = std::chrono::steady_clock;

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  return s.substr(b);
}

// Short commands answer within seconds; Slurm's own timeouts (MessageTimeout) are shorter.
constexpr int query_timeout_s = 60;

posix::command_result run_slurm(const std::vector<std::string>& args) {
  std::vector<std::string> argv = args;
  argv[0] = command(args[0]);
  return posix::run(argv, query_timeout_s);
}

}  // namespace

std::string command(const std::string& name) {
  const std::string path = posix::find_on_path(name);
  if (path.empty())
    throw error("burla: " + name +
                " is not on PATH, so Slurm cannot be used from here. Run on a login node of your "
                "cluster (or load its Slurm module), or use backend = burla::backend::local.");
  return path;
}

bool configured() {
  if (posix::find_on_path("sbatch").empty()) return false;
  if (auto conf = posix::env("SLURM_CONF")) return posix::exists(*conf);
  for (const char* conf :
       {"/etc/slurm/slurm.conf", "/etc/slurm-llnl/slurm.conf", "/run/slurm/conf/slurm.conf"})
    if (posix::exists(conf)) return true;
  return false;
}

std::string submit(const std::string& script_path) {
  const auto r = run_slurm({"sbatch", "--parsable", script_path});
  const std::string out = trim(r.out), err = trim(r.err);
  if (r.timed_out)
    throw error("burla: sbatch did not answer within " + std::to_string(query_timeout_s) +
                " s; Slurm's controller may be down or overloaded (try `sinfo`). The job script is " +
                script_path + (err.empty() ? "" : "\nsbatch said: " + err));
  const std::string id = out.substr(0, out.find(';'));  // "12345" or "12345;cluster"
  const bool numeric = !id.empty() && std::all_of(id.begin(), id.end(), ::isdigit);
  if ((r.exit_code == 0 || r.exit_code == -1) && numeric) return id;
  std::string hint;
  if (err.find("Unable to contact slurm controller") != std::string::npos ||
      err.find("Connection refused") != std::string::npos)
    hint = "\nSlurm's controller cannot be reached from this machine: check `sinfo`, or run on a login node.";
  else if (err.find("partition") != std::string::npos)
    hint = "\nCheck options.partition against `sinfo -s`.";
  else if (err.find("node configuration") != std::string::npos || err.find("memory") != std::string::npos)
    hint = "\nNo node can hold one task as asked: lower func_cpu, func_ram or func_gpu (see `sinfo -N -l`).";
  throw error("burla: Slurm refused the job: " + (err.empty() ? out : err) + hint + "\nThe job script is " +
              script_path);
}

void cancel(const std::string& job_id) {
  const auto r = run_slurm({"scancel", job_id});
  if (r.exit_code != 0 && r.err.find("already completing or completed") == std::string::npos &&
      r.err.find("Invalid job id") == std::string::npos)
    throw error("burla: scancel " + job_id + " failed: " + trim(r.err));
}

std::optional<long> partition_cpus(const std::string& partition) {
  std::vector<std::string> args = {"sinfo", "-h", "-o", "%P %C"};
  if (!partition.empty()) args.insert(args.end(), {"-p", partition});
  posix::command_result r;
  try {
    r = run_slurm(args);
  } catch (const error&) {
    return std::nullopt;
  }
  if (r.exit_code != 0) return std::nullopt;
  std::stringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::stringstream fields(line);
    std::string name, cpus;  // "debug* 0/2/0/2": allocated/idle/other/total
    if (!(fields >> name >> cpus)) continue;
    if (partition.empty() && name.back() != '*') continue;
    // Those of nodes that can run jobs: a down or drained node's ("other") would leave the job
    // waiting for it (a job resumed after a node failure runs on the nodes left).
    long allocated = 0, idle = 0, other = 0, total = 0;
    if (std::sscanf(cpus.c_str(), "%ld/%ld/%ld/%ld", &allocated, &idle, &other, &total) != 4)
      return std::nullopt;
    return total - other > 0 ? total - other : total;
  }
  return std::nullopt;
}

long count_cpus_per_node(std::string_view spec) {
  long total = 0;
  std::stringstream groups{std::string(spec)};
  for (std::string g; std::getline(groups, g, ',');) {
    try {
      std::size_t used = 0;
      const long cpus = std::stol(g, &used);
      long times = 1;
      if (used < g.size()) {
        if (g.compare(used, 2, "(x") != 0 || g.back() != ')') return 0;
        times = std::stol(g.substr(used + 2));
      }
      total += cpus * times;
    } catch (const std::exception&) {
      return 0;
    }
  }
  return total;
}

bool is_final(const std::string& s) {
  return !s.empty() && s != "PENDING" && s != "RUNNING" && s != "CONFIGURING" && s != "COMPLETING" &&
         s != "SUSPENDED" && s != "REQUEUED" && s != "RESIZING" && s != "SIGNALING" && s != "STAGE_OUT" &&
         s != "REQUEUE_HOLD" && s != "REQUEUE_FED" && s != "RESV_DEL_HOLD" && s != "STOPPED";
}

namespace {

struct followed {
  clock::time_point since = clock::now();
  job_status last;
};

std::mutex monitor_mutex;
std::map<std::string, followed> jobs;
clock::time_point last_query{};

clock::duration interval_for(clock::duration age) {
  using namespace std::chrono_literals;
  if (age < 10s) return 500ms;
  if (age < 60s) return 2s;
  return 5s;
}

// One squeue for the given jobs; false if Slurm did not answer.
bool query(const std::vector<std::string>& ids, std::map<std::string, job_status>& seen) {
  std::string list;
  for (const auto& id : ids) list += (list.empty() ? "" : ",") + id;
  posix::command_result r;
  try {
    r = run_slurm({"squeue", "-h", "--states=all", "-j", list, "-o", "%i|%T|%r"});
  } catch (const error&) {
    return false;
  }
  if (r.exit_code != 0) {
    if (r.err.find("Invalid job id") == std::string::npos) return false;
    if (ids.size() == 1) return true;  // that one job is gone
    for (const auto& id : ids)         // one forgotten job fails the whole query: ask one by one
      if (!query({id}, seen)) return false;
    return true;
  }
  std::stringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const std::size_t a = line.find('|'), b = line.find('|', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    seen[line.substr(0, a)] = {true, true, line.substr(a + 1, b - a - 1), trim(line.substr(b + 1))};
  }
  return true;
}

void query_all() {
  std::vector<std::string> ids;
  for (const auto& [id, f] : jobs) ids.push_back(id);
  std::map<std::string, job_status> seen;
  if (!query(ids, seen)) return;  // no answer this time; the jobs keep their last known state
  for (auto& [id, f] : jobs) {
    auto it = seen.find(id);
    if (it != seen.end())
      f.last = it->second;
    else
      f.last = {true, false, f.last.state, f.last.reason};  // ended and purged (MinJobAge)
  }
}

}  // namespace

job_status status(const std::string& job_id) {
  std::lock_guard lock(monitor_mutex);
  auto [it, added] = jobs.try_emplace(job_id);
  const auto now = clock::now();
  auto wanted = interval_for(now - it->second.since);
  for (const auto& [id, f] : jobs) wanted = std::min(wanted, interval_for(now - f.since));
  if (added || now - last_query >= wanted) {
    query_all();
    last_query = clock::now();
  }
  return it->second.last;
}

void forget(const std::string& job_id) {
  std::lock_guard lock(monitor_mutex);
  jobs.erase(job_id);
}

std::string lost_daemon_node(const std::string& job_log) {
  const std::size_t lost = job_log.find("has lost communication with a remote daemon");
  if (lost == std::string::npos) return "";
  const std::size_t remote = job_log.find("Remote daemon:", lost);
  const std::size_t on = remote == std::string::npos ? remote : job_log.find(" on node ", remote);
  if (on == std::string::npos) return "";
  const std::size_t start = on + 9;
  return job_log.substr(start, job_log.find_first_of(" \n", start) - start);
}

std::string failed_nodes(const std::string& node_list) {
  posix::command_result r;
  try {
    r = run_slurm({"sinfo", "-h", "-N", "-n", node_list, "-o", "%N %T"});
  } catch (const error&) {
    return "";
  }
  std::string out;
  std::stringstream lines(r.out);
  for (std::string node, state; lines >> node >> state;) {
    // down, fail, drained, or not responding (a trailing '*'): not a node that simply finished
    const bool failed = state.rfind("down", 0) == 0 || state.rfind("fail", 0) == 0 ||
                        state.rfind("drain", 0) == 0 || state.back() == '*';
    if (failed && out.find(node + " ") == std::string::npos) out += node + " (" + state + ") ";
  }
  if (!out.empty()) out.pop_back();
  return out;
}

std::string end_details(const std::string& job_id) {
  posix::command_result r;
  try {
    r = run_slurm({"scontrol", "show", "job", job_id});
  } catch (const error&) {
    return "";
  }
  if (r.exit_code != 0) return "";
  std::string out;
  std::stringstream words(r.out);
  for (std::string w; words >> w;)
    if (w.rfind("ExitCode=", 0) == 0 || w.rfind("Reason=", 0) == 0 || w.rfind("TimeLimit=", 0) == 0 ||
        w.rfind("RunTime=", 0) == 0 || w.rfind("NodeList=", 0) == 0)
      out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace burla::slurm
