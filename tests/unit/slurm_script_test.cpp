// The sbatch script renderer: golden scripts, quoting, and what it refuses.
#include <gtest/gtest.h>

#include <burla/error.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "slurm/src/commands.hpp"
#include "slurm/src/script.hpp"

namespace {

using namespace std::chrono_literals;
using burla::slurm::job_request;
using burla::slurm::render_script;

std::string golden(const std::string& name) {
  const std::string path = std::string(BURLA_GOLDEN_DIR) + "/" + name;
  // BURLA_UPDATE_GOLDEN=1 rewrites them; review the diff before committing.
  if (std::getenv("BURLA_UPDATE_GOLDEN")) return "";
  std::ifstream in(path);
  EXPECT_TRUE(in) << "missing golden file " << path;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void check_golden(const std::string& name, const std::string& rendered) {
  if (std::getenv("BURLA_UPDATE_GOLDEN")) {
    std::ofstream(std::string(BURLA_GOLDEN_DIR) + "/" + name) << rendered;
    return;
  }
  EXPECT_EQ(rendered, golden(name)) << "rendered script differs from tests/golden/" << name;
}

job_request minimal() {
  job_request r;
  r.id = "20261122-101500-abcdef";
  r.job_dir = "/home/ada/.burla/jobs/20261122-101500-abcdef";
  r.job_name = "burla-sweep";
  r.tasks = 5;
  r.command = {"/home/ada/sweep/build/sweep", "--grid", "fine"};
  return r;
}

TEST(SlurmScript, MinimalJob) {
  check_golden("minimal.sbatch", render_script(minimal()));
}

TEST(SlurmScript, EveryOption) {
  job_request r = minimal();
  r.cpus_per_task = 4;
  r.mem_per_cpu_mb = 2048;
  r.gpus_per_task = 1;
  r.partition = "gpu";
  r.account = "proj-42";
  r.qos = "normal";
  r.time_limit = 26h + 30min + 5s;
  r.extra_args = {"--constraint=a100&ib", "--exclusive", "--partition=gpu-long"};  // replaces partition
  r.modules = {"gcc/12.2", "openmpi/4.1"};
  r.image = "/shared/images/sweep.sif";
  r.stage_program = true;
  check_golden("every_option.sbatch", render_script(r));
}

TEST(SlurmScript, HostileValuesStayData) {
  job_request r = minimal();
  r.job_name = "it's \"$(rm -rf ~)\" `id` $HOME \\ #not a comment";
  r.job_dir = "/scratch/my jobs/it's $HOME/`id`";
  r.command = {"/opt/my app/run", "a'b", "$(reboot)", ""};
  r.modules = {"x; rm -rf /"};
  check_golden("hostile_values.sbatch", render_script(r));
}

TEST(SlurmScript, BashReadsTheQuotedValuesBack) {
  // What the shell sees for a quoted value is exactly the value.
  for (const std::string v : {"plain", "it's", "$(id) `id` $HOME", "back\\slash", "", "a\"b", "tab\there"}) {
    const std::string cmd = "bash -c 'printf %s \"$0\"' " + burla::slurm::shell_quote(v) + " > sq.out";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::ifstream in("sq.out");
    std::string back((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(back, v);
    const std::string cmd2 = "bash -c 'printf %s " + burla::slurm::sbatch_quote(v) + "' > sq.out";
    if (v.find('\'') == std::string::npos) {  // the value inside single quotes of this test's own command
      ASSERT_EQ(std::system(cmd2.c_str()), 0);
      std::ifstream in2("sq.out");
      std::string back2((std::istreambuf_iterator<char>(in2)), {});
      EXPECT_EQ(back2, v) << "sbatch_quote as read by bash";
    }
  }
}

TEST(SlurmScript, LineBreaksInSbatchValuesAreRefusedWithTheOptionNamed) {
  job_request r = minimal();
  r.job_name = "two\nlines";
  try {
    render_script(r);
    FAIL() << "a newline in job_name was accepted";
  } catch (const burla::invalid_option& e) {
    EXPECT_EQ(e.option(), "job_name");
  }
  r = minimal();
  r.account = "acct\rx";
  EXPECT_THROW(render_script(r), burla::invalid_option);
}

TEST(SlurmScript, ExtraArgumentsMustBeLongOptions) {
  for (const std::string bad : {"-C avx", "constraint=x", "--Bad", "--", "--x y"}) {
    job_request r = minimal();
    r.extra_args = {bad};
    EXPECT_THROW(render_script(r), burla::invalid_option) << bad;
  }
}

TEST(SlurmScript, TimeIsDaysHoursMinutesSeconds) {
  EXPECT_EQ(burla::slurm::slurm_time(90s), "0-00:01:30");
  EXPECT_EQ(burla::slurm::slurm_time(49h + 2min), "2-01:02:00");
}

TEST(SlurmCpus, CountsSlurmsCompressedCpusPerNode) {
  EXPECT_EQ(burla::slurm::count_cpus_per_node("2"), 2);
  EXPECT_EQ(burla::slurm::count_cpus_per_node("2(x3),1"), 7);
  EXPECT_EQ(burla::slurm::count_cpus_per_node("36(x2),72"), 144);
  EXPECT_EQ(burla::slurm::count_cpus_per_node("garbage"), 0);
  EXPECT_EQ(burla::slurm::count_cpus_per_node("4(y2)"), 0);
}

TEST(SlurmLog, TheNodeWhoseDaemonMpirunLostIsNamed) {
  // What Open MPI 4.1's mpirun wrote on the virtual cluster when node3 was killed mid-job.
  const std::string log =
      "---\nORTE has lost communication with a remote daemon.\n\n"
      "  HNP daemon   : [[7497,0],0] on node node1\n  Remote daemon: [[7497,0],2] on node node3\n\n"
      "This is usually due to either a failure of the TCP network\n";
  EXPECT_EQ(burla::slurm::lost_daemon_node(log), "node3");
  EXPECT_EQ(burla::slurm::lost_daemon_node("srun: error: node2: task 3: Killed\n"), "");
}

TEST(SlurmState, FinalStates) {
  for (const char* s :
       {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED"})
    EXPECT_TRUE(burla::slurm::is_final(s)) << s;
  for (const char* s : {"PENDING", "RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED", ""})
    EXPECT_FALSE(burla::slurm::is_final(s)) << s;
}

}  // namespace
