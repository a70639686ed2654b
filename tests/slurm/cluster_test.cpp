// Tests that need several Slurm nodes: built into vcluster_tests only (the virtual cluster of
// slurm/scripts/start-vcluster.sh), never into the single-node Slurm's tests.
#include <unistd.h>

#include <burla/burla.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/support.hpp"

namespace {

std::string slurm_id(const std::string& dir) {
  std::ifstream in(dir + "/slurm_job_id");
  std::string id;
  std::getline(in, id);
  return id;
}

/// The quoted strings of an h5dump of a string array attribute, in order.
std::vector<std::string> quoted(const std::string& dump) {
  std::vector<std::string> out;
  for (std::size_t at = dump.find("DATA"); (at = dump.find('"', at)) != std::string::npos;) {
    const std::size_t end = dump.find('"', at + 1);
    out.push_back(dump.substr(at + 1, end - at - 1));
    at = end + 1;
  }
  return out;
}

/// CPUs in a Slurm CPU list such as "0-1,4".
int cpu_count(const std::string& list) {
  int n = 0;
  std::stringstream ss(list);
  for (std::string part; std::getline(ss, part, ',');) {
    const std::size_t dash = part.find('-');
    n += dash == std::string::npos ? 1
                                   : std::stoi(part.substr(dash + 1)) - std::stoi(part.substr(0, dash)) + 1;
  }
  return n;
}

}  // namespace

// func_cpu is Slurm's CPUs per task: every worker's task holds that many CPUs of its own on its
// node, so no two calls are given the same core; the master (rank 0) runs beside the first
// node's worker in no task of its own, and asks for no CPUs. (Slurm allocates them; binding
// processes to them is the cluster's TaskPlugin, task/none on the virtual cluster: docs/cluster.md.)
TEST(Cluster, FuncCpuGivesEveryWorkerCpusOfItsOwnAndTheMasterNone) {
  std::vector<int> in(30);
  auto job = burla::submit(
      [](int) {
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        ::usleep(50'000);  // long enough for every worker to get some
        return std::string(host);
      },
      in, {.func_cpu = 2, .max_parallelism = 3, .spinner = false, .backend = burla::backend::slurm});
  const auto ran_on = job.results();
  ASSERT_EQ(ran_on.size(), in.size());
  EXPECT_EQ(std::set<std::string>(ran_on.begin(), ran_on.end()).size(), 3u)
      << "calls ran on every node: the workers there share one MPI world with the master";
  const std::vector<std::string> hosts = quoted(test::h5dump(job.directory() + "/results.h5", "-a /hosts"));
  ASSERT_EQ(hosts.size(), 4u) << "the master and 3 workers";
  std::map<std::string, int> workers_on;
  for (std::size_t r = 1; r < hosts.size(); ++r) ++workers_on[hosts[r]];
  EXPECT_EQ(workers_on.size(), 3u) << "3 nodes of 2 CPUs: one worker task of 2 CPUs fits on each";

  // Slurm's record of the job: a line per set of nodes with the same CPUs of each, as in
  // "Nodes=node[1-3] CPU_IDs=0-1 Mem=...".
  const std::string detail = test::shell("scontrol show job -d " + slurm_id(job.directory()));
  std::map<std::string, int> cpus_on;
  std::stringstream lines(detail);
  for (std::string line; std::getline(lines, line);) {
    const std::size_t nodes = line.find(" Nodes="), ids = line.find(" CPU_IDs=");
    if (nodes == std::string::npos || ids == std::string::npos) continue;
    const std::string list = line.substr(nodes + 7, line.find(' ', nodes + 7) - nodes - 7);
    std::stringstream names(test::shell("scontrol show hostnames '" + list + "'"));
    for (std::string node; names >> node;)
      cpus_on[node] = cpu_count(line.substr(ids + 9, line.find(' ', ids + 9) - ids - 9));
  }
  ASSERT_FALSE(cpus_on.empty()) << detail;
  for (const auto& [node, workers] : workers_on)
    EXPECT_EQ(cpus_on[node], 2 * workers) << node << "\n" << detail;
  EXPECT_EQ(cpus_on[hosts[0]], 2 * workers_on[hosts[0]]) << "the master's node holds no CPUs for it\n"
                                                         << detail;
}

// options.stage_program: the ranks run a copy sbcast put on each node's local disk
// (BURLA_STAGE_DIR: on the virtual cluster a directory each node has its own of), not the program
// on the shared filesystem; the build-id check passes on the copy; the copies are gone afterwards.
TEST(Cluster, AStagedProgramRunsFromEachNodesLocalDiskAndIsRemovedAfter) {
  const char* vc = std::getenv("BURLA_VCLUSTER_DIR");
  const char* stage = std::getenv("BURLA_STAGE_DIR");
  ASSERT_TRUE(vc && stage);
  std::vector<int> in(30);
  const auto where = burla::remote_parallel_map(
      [](int) {
        char exe[4096] = {}, host[256] = {};
        if (::readlink("/proc/self/exe", exe, sizeof exe - 1) < 0) return std::string("?");
        ::gethostname(host, sizeof host - 1);
        return std::string(host) + " " + exe;
      },
      in, {.spinner = false, .backend = burla::backend::slurm, .stage_program = true});
  std::map<std::string, int> hosts;
  std::string exe;
  for (const auto& w : where) {
    ++hosts[w.substr(0, w.find(' '))];
    exe = w.substr(w.find(' ') + 1);
    EXPECT_EQ(exe.rfind(std::string(stage) + "/burla-", 0), 0u) << w;
  }
  EXPECT_EQ(hosts.size(), 3u) << "ranks on every node";
  // Node K's local disk is $BURLA_VCLUSTER_DIR/node/nodeK/local (slurm/scripts/vcnode.sh). The
  // script removes the copies once the ranks are done, after the results were recorded.
  for (const auto& [host, calls] : hosts) {
    const std::string copy =
        std::string(vc) + "/node/" + host + "/local" + exe.substr(std::string(stage).size());
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i, ::usleep(100'000)) gone = ::access(copy.c_str(), F_OK) != 0;
    EXPECT_TRUE(gone) << copy << " is still there";
  }
}
