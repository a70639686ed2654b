#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <burla/burla.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "tests/integration/support.hpp"

namespace {

using namespace std::chrono_literals;

const burla::options on_slurm{.spinner = false, .backend = burla::backend::slurm};

std::string read(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::string slurm_id(const std::string& dir) {
  std::string id = read(dir + "/slurm_job_id");
  while (!id.empty() && id.back() == '\n') id.pop_back();
  return id;
}

long long square(int x) {
  std::printf("squaring %d on Slurm\n", x);
  return static_cast<long long>(x) * x;
}

TEST(Slurm, ResultsInOrderAndOutputReachesTheCaller) {
  std::vector<int> in(40);
  for (int i = 0; i < 40; ++i) in[i] = i;
  test::captured_stdout output;
  auto job = burla::submit(square, in, on_slurm);
  const auto out = std::move(job).results();
  const std::string printed = output.take();
  ASSERT_EQ(out.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(out[i], static_cast<long long>(i) * i);
  for (int i = 0; i < 40; ++i)
    EXPECT_NE(printed.find("squaring " + std::to_string(i) + " on Slurm\n"), std::string::npos) << i;
  // It really went through Slurm: a job script and a Slurm job id in the job directory.
  EXPECT_NE(read(job.directory() + "/job.sbatch").find("#SBATCH --ntasks="), std::string::npos);
  EXPECT_FALSE(slurm_id(job.directory()).empty());
  EXPECT_NE(test::h5dump(job.directory() + "/results.h5", "-a /state").find("\"completed\""),
            std::string::npos);
  // What the batch script writes is the user's only, whatever the batch shell's umask.
  for (const char* name : {"job.log", "slurm_job_id"}) {
    struct stat st {};
    ASSERT_EQ(::stat((job.directory() + "/" + name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 0077, 0u) << name << " has mode " << std::oct << (st.st_mode & 0777);
  }
}

TEST(Slurm, ARemoteExceptionIsThrownHere) {
  const std::string marker = test::jobs_dir() + "/threw-on-" + std::to_string(::getpid());
  struct throws_at_3 {
    char marker[300];
    int operator()(int x) const {
      if (x != 3) return x;
      char host[256] = {};
      ::gethostname(host, sizeof host - 1);
      std::ofstream(marker) << host;  // where it really ran, to compare with what the error says
      throw std::invalid_argument("three is not allowed");
    }
  } f{};
  std::snprintf(f.marker, sizeof f.marker, "%s", marker.c_str());
  try {
    burla::remote_parallel_map(f, std::vector<int>{1, 2, 3, 4}, on_slurm);
    FAIL() << "no exception";
  } catch (const burla::remote_error& e) {
    EXPECT_EQ(e.index(), 2u);
    EXPECT_EQ(e.type_name(), "std::invalid_argument");
    EXPECT_EQ(e.remote_what(), "three is not allowed");
    EXPECT_EQ(e.host(), read(marker)) << "the error names another host than the one the call ran on";
    EXPECT_NE(std::string(e.what()).find(e.host()), std::string::npos) << e.what();
  }
}

// Where the cluster has several nodes (BURLA_TEST_NODES: 3 on the virtual cluster, else 1), the
// workers run on every one of them, and what each call prints reaches the caller.
TEST(Slurm, WorkersRunOnEveryNodeAndTheirOutputReachesTheCaller) {
  const char* nodes_env = std::getenv("BURLA_TEST_NODES");
  const std::size_t nodes = nodes_env ? static_cast<std::size_t>(std::atoi(nodes_env)) : 1;
  std::vector<int> in(60);
  for (int i = 0; i < 60; ++i) in[i] = i;
  test::captured_stdout output2;
  const auto hosts = burla::remote_parallel_map(
      [](int x) {
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        std::printf("input %d on %s\n", x, host);
        std::this_thread::sleep_for(50ms);  // long enough for every worker to get some
        return std::string(host);
      },
      in, on_slurm);
  const std::string printed = output2.take();
  ASSERT_EQ(hosts.size(), in.size());
  const std::set<std::string> distinct(hosts.begin(), hosts.end());
  EXPECT_EQ(distinct.size(), nodes) << "the workers ran on " << distinct.size() << " hosts";
  for (int i = 0; i < 60; ++i)
    EXPECT_NE(printed.find("input " + std::to_string(i) + " on " + hosts[i] + "\n"), std::string::npos) << i;
}

TEST(Slurm, AJobCancelledWithScancelIsReportedAsCancelled) {
  auto job = burla::submit(
      [](int x) {
        std::this_thread::sleep_for(std::chrono::milliseconds(x == 0 ? 1 : 100000));
        return x;
      },
      std::vector<int>{0, 1}, on_slurm);
  // Wait until the first call has finished, then cancel from outside as a user would.
  auto stream = job.stream();
  auto it = stream.begin();
  ASSERT_FALSE(it == stream.end());
  EXPECT_EQ(it->first, 0u);
  ASSERT_EQ(std::system(("scancel " + slurm_id(job.directory())).c_str()), 0);
  try {
    ++it;
    FAIL() << "the stream went on after scancel";
  } catch (const burla::job_error& e) {
    // The master saw SIGTERM and saved what was done: the job can be resumed.
    EXPECT_EQ(e.state(), "CANCELLED") << e.what();
    EXPECT_NE(std::string(e.what()).find("cancelled"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("resume"), std::string::npos) << e.what();
  }
}

TEST(Slurm, AResumedJobAsksSlurmForWhatItWasSubmittedWith) {
  // Submitted with 1.5 GB per call and a job name, cancelled after one result, then resumed with
  // no options at all: the new run must ask for the same memory (and keep the name), not for the
  // resume call's defaults.
  auto job = burla::submit(
      [](int x) {
        std::this_thread::sleep_for(std::chrono::milliseconds(x == 0 ? 1 : 100000));
        return x;
      },
      std::vector<int>{0, 1},
      {.func_ram = 1.5, .spinner = false, .backend = burla::backend::slurm, .job_name = "burla-resources"});
  const std::string script = job.directory() + "/job.sbatch";
  ASSERT_NE(read(script).find("#SBATCH --mem-per-cpu=\"1536M\""), std::string::npos) << read(script);
  auto stream = job.stream();
  auto it = stream.begin();
  ASSERT_FALSE(it == stream.end());
  ASSERT_EQ(std::system(("scancel " + slurm_id(job.directory())).c_str()), 0);
  EXPECT_THROW(++it, burla::job_error);
  std::remove(script.c_str());  // the resumed run writes its own

  auto resumed = burla::resume<int>(job.id(), {.spinner = false});
  const std::string again = read(script);
  EXPECT_NE(again.find("#SBATCH --mem-per-cpu=\"1536M\""), std::string::npos) << again;
  EXPECT_NE(again.find("#SBATCH --job-name=\"burla-resources\""), std::string::npos) << again;
  EXPECT_NE(slurm_id(job.directory()), "");
  resumed.cancel();  // input 1 sleeps for 100 s
  EXPECT_THROW(resumed.wait(), burla::job_error);
}

TEST(Slurm, AJobNearItsTimeLimitStopsStartingCallsSavesWhatIsDoneAndResumes) {
  // Slurm's smallest time limit is one minute.
  auto job = burla::submit(
      [](int x) {
        std::this_thread::sleep_for(std::chrono::seconds(x == 0 ? 0 : 600));
        return x;
      },
      std::vector<int>{0, 1}, {.spinner = false, .backend = burla::backend::slurm, .time_limit = 1min});
  EXPECT_NE(read(job.directory() + "/job.sbatch").find("#SBATCH --time=\"0-00:01:00\""), std::string::npos);
  try {
    job.wait();
    FAIL() << "the job outlived its time limit";
  } catch (const burla::job_error& e) {
    // SIGUSR1 came 12 s before the limit (a fifth of it, at least 10 s): the master drained.
    EXPECT_NE(std::string(e.what()).find("time_limit"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("resume"), std::string::npos) << e.what();
  }
  EXPECT_NE(read(job.directory() + "/job.sbatch").find("#SBATCH --signal=\"B:USR1@12\""), std::string::npos);
  const std::string state = test::h5dump(job.directory() + "/results.h5", "-a /state");
  EXPECT_NE(state.find("\"interrupted\""), std::string::npos) << state;
}

TEST(Slurm, SubmitExitAndAttachFromAnotherProcess) {
  const std::string id = test::shell(std::string(BURLA_TEST_HELPER) + " submit");
  ASSERT_FALSE(id.empty());
  const std::string job_id = id.substr(0, id.find('\n'));
  auto job = burla::attach<long long>(job_id, {.spinner = false});
  const auto out = std::move(job).results();
  EXPECT_EQ(out, (std::vector<long long>{1, 8, 27, 64, 125, 216}));
  // The wrong result type is refused, naming the right one.
  try {
    burla::attach<std::string>(job_id);
    FAIL() << "attach with the wrong type";
  } catch (const burla::error& e) {
    EXPECT_NE(std::string(e.what()).find("returns long long"), std::string::npos) << e.what();
  }
  // The same job by its Slurm job id, and through the burla command.
  const std::string dir = test::jobs_dir() + "/" + job_id;
  EXPECT_EQ(burla::attach<long long>(slurm_id(dir), {.spinner = false}).results().size(), 6u);
  const std::string csv = test::shell(std::string(BURLA_TEST_CLI) + " results " + job_id + " --format csv");
  EXPECT_EQ(csv, "index,status,result,error\n0,ok,1,\n1,ok,8,\n2,ok,27,\n3,ok,64,\n4,ok,125,\n5,ok,216,\n");
  const std::string status = test::shell(std::string(BURLA_TEST_CLI) + " status " + job_id);
  EXPECT_NE(status.find("completed"), std::string::npos) << status;
  EXPECT_NE(status.find("slurm job  " + slurm_id(dir)), std::string::npos) << status;
}

TEST(Slurm, AScriptWrittenForSubmissionByHandRunsWithSbatch) {
  test::captured_stdout output3;
  const burla::job_script s = burla::write_job_script(square, std::vector<int>{7, 8}, on_slurm);
  const std::string printed = output3.take();
  EXPECT_NE(printed.find(s.submit_command), std::string::npos) << printed;
  EXPECT_FALSE(burla::attach<long long>(s.id, {.spinner = false}).id().empty());
  // Nothing was submitted: the user does that.
  EXPECT_FALSE(std::ifstream(s.directory + "/slurm_job_id"));
  ASSERT_EQ(std::system((s.submit_command + " > /dev/null").c_str()), 0);
  EXPECT_EQ(burla::attach<long long>(s.id, {.spinner = false}).results(), (std::vector<long long>{49, 64}));
}

TEST(Slurm, TheJobScriptNeverWritesThroughALinkPlantedInTheJobDirectory) {
  // As on the local backend: before, the script's `>` followed slurm_job_id.tmp to its target.
  const std::string target = test::jobs_dir() + "/precious-" + std::to_string(::getpid());
  std::ofstream(target) << "precious\n";
  test::captured_stdout output4;
  const burla::job_script s = burla::write_job_script(square, std::vector<int>{3}, on_slurm);
  (void)output4.take();
  ASSERT_EQ(::symlink(target.c_str(), (s.directory + "/slurm_job_id.tmp").c_str()), 0);
  ASSERT_EQ(std::system((s.submit_command + " > /dev/null").c_str()), 0);
  EXPECT_EQ(burla::attach<long long>(s.id, {.spinner = false}).results(), (std::vector<long long>{9}));
  EXPECT_EQ(read(target), "precious\n");

  // A planted job.log ends the job before it writes anything, the target untouched.
  test::captured_stdout output5;
  const burla::job_script t = burla::write_job_script(square, std::vector<int>{4}, on_slurm);
  (void)output5.take();
  ASSERT_EQ(::symlink(target.c_str(), (t.directory + "/job.log").c_str()), 0);
  ASSERT_EQ(std::system((t.submit_command + " > /dev/null").c_str()), 0);
  EXPECT_THROW(burla::attach<long long>(t.id, {.spinner = false}).results(), burla::job_error);
  EXPECT_EQ(read(target), "precious\n");
}

// Inside `salloc -N <nodes>` (3 on the virtual cluster), the job's ranks run on every node of it.
TEST(Slurm, InsideAnAllocationTheJobRunsInIt) {
  const char* nodes_env = std::getenv("BURLA_TEST_NODES");
  const std::string nodes = nodes_env ? nodes_env : "1";
  const std::string tasks = std::to_string(std::max(2, std::stoi(nodes)));  // a master and a worker at least
  const std::string out = test::shell("salloc -N " + nodes + " -n " + tasks + " --quiet " +
                                      std::string(BURLA_TEST_HELPER) + " map 2>&1");
  EXPECT_NE(out.find("result 1\nresult 8\nresult 27\n"), std::string::npos) << out;
  EXPECT_NE(out.find("backend = allocation"), std::string::npos) << out;
  const std::size_t at = out.find("directory = ");
  ASSERT_NE(at, std::string::npos) << out;
  const std::string dir = out.substr(at + 12, out.find('\n', at) - at - 12);
  const std::string dump = test::h5dump(dir + "/results.h5", "-a /hosts");
  std::set<std::string> hosts;
  for (std::size_t q = dump.find("DATA"); (q = dump.find('"', q)) != std::string::npos;) {
    const std::size_t end = dump.find('"', q + 1);
    hosts.insert(dump.substr(q + 1, end - q - 1));
    q = end + 1;
  }
  EXPECT_EQ(hosts.size(), static_cast<std::size_t>(std::stoi(nodes))) << dump;
}

TEST(Slurm, ARequestSlurmCannotMeetGivesSlurmsOwnMessage) {
  try {
    burla::remote_parallel_map(square, std::vector<int>{1},
                               {.func_ram = 100000, .spinner = false, .backend = burla::backend::slurm});
    FAIL() << "Slurm accepted 100 TB per call";
  } catch (const burla::error& e) {
    EXPECT_NE(std::string(e.what()).find("Slurm refused the job"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sbatch: error"), std::string::npos) << e.what();
  }
  try {
    burla::remote_parallel_map(square, std::vector<int>{1},
                               {.spinner = false, .backend = burla::backend::slurm, .partition = "nosuch"});
    FAIL() << "Slurm accepted an unknown partition";
  } catch (const burla::error& e) {
    EXPECT_NE(std::string(e.what()).find("invalid partition"), std::string::npos) << e.what();
  }
}

TEST(Slurm, HostileNamesAndPathsAreDataNotCode) {
  const std::string root = test::jobs_dir() + "/it's a $HOME `touch pwned1` $(touch pwned2)";
  const std::string name = "n'a\"me $(touch pwned3) `touch pwned4`";
  const auto out = burla::remote_parallel_map(
      square, std::vector<int>{3},
      {.spinner = false, .backend = burla::backend::slurm, .job_dir = root, .job_name = name});
  EXPECT_EQ(out, std::vector<long long>{9});
  for (const char* f : {"pwned1", "pwned2", "pwned3", "pwned4"}) {
    EXPECT_FALSE(std::ifstream(std::string(f))) << f;
    EXPECT_FALSE(std::ifstream(root + "/" + f)) << f;
  }
}

/// Sets an environment variable for one test.
class scoped_env {
 public:
  scoped_env(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~scoped_env() { ::setenv(name_, old_.c_str(), 1); }

 private:
  const char* name_;
  std::string old_;
};

TEST(Slurm, NoSbatchOnPathIsAClearError) {
  scoped_env path("PATH", "/nonexistent");
  try {
    burla::remote_parallel_map(square, std::vector<int>{1}, on_slurm);
    FAIL() << "no error";
  } catch (const burla::error& e) {
    EXPECT_NE(std::string(e.what()).find("sbatch is not on PATH"), std::string::npos) << e.what();
  }
}

TEST(Slurm, AnUnreachableControllerIsAClearError) {
  // A copy of the configuration that points at a port where no slurmctld listens.
  const std::string conf = test::jobs_dir() + "/unreachable.conf";
  ASSERT_EQ(
      std::system(("sed '/^SlurmctldPort=/d; s/^SlurmctldHost=.*/&\\nSlurmctldPort=1/' \"$SLURM_CONF\" > '" +
                   conf + "'")
                      .c_str()),
      0);
  scoped_env slurm_conf("SLURM_CONF", conf);
  try {
    burla::remote_parallel_map(square, std::vector<int>{1}, on_slurm);
    FAIL() << "no error";
  } catch (const burla::error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be reached"), std::string::npos) << e.what();
  }
}

TEST(Slurm, OptionsForSlurmAreRefusedLocally) {
  try {
    burla::remote_parallel_map(square, std::vector<int>{1},
                               {.spinner = false, .backend = burla::backend::local, .partition = "debug"});
    FAIL() << "partition accepted for a local job";
  } catch (const burla::invalid_option& e) {
    EXPECT_EQ(e.option(), "partition");
  }
}

TEST(Slurm, TheBurlaCommandCancelsAJob) {
  auto job = burla::submit(
      [](int x) {
        std::this_thread::sleep_for(std::chrono::seconds(600));
        return x;
      },
      std::vector<int>{0}, on_slurm);
  const std::string out = test::shell(std::string(BURLA_TEST_CLI) + " cancel " + job.id());
  EXPECT_NE(out.find("cancelled"), std::string::npos) << out;
  try {
    job.wait();
    FAIL() << "still running after burla cancel";
  } catch (const burla::job_error& e) {
    EXPECT_TRUE(e.state() == "cancelled" || e.state() == "CANCELLED") << e.what();
  }
  EXPECT_NE(test::shell(std::string(BURLA_TEST_CLI) + " jobs").find(job.id()), std::string::npos);
}

// Ctrl-C typed into a real terminal (tmux) while remote_parallel_map waits for its Slurm job: as
// on the local backend (tests/cli), the job is cancelled cleanly and the program ends by SIGINT.
class slurm_map_in_terminal {
 public:
  static constexpr int n = 40;

  /// `helper map_slow` in a terminal, once it waits for its Slurm job and two calls finished.
  explicit slurm_map_in_terminal(const std::string& name)
      : base_(test::own_jobs_root(name)),
        root_(base_ + "/jobs"),
        cli_(test::shell_quote(BURLA_TEST_CLI) + " --job-dir " + test::shell_quote(root_) + " ") {
    (void)test::shell("rm -rf " + test::shell_quote(base_) + "/* && mkdir " + test::shell_quote(root_));
    term.emplace(base_, "env BURLA_JOBS_DIR=" + test::shell_quote(root_) + " " +
                            test::shell_quote(BURLA_TEST_HELPER) + " map_slow " + std::to_string(n) + " 500");
    const bool waiting = test::eventually([&] {
      const auto ids = test::file_names(root_);
      if (ids.size() != 1) return false;
      id = ids[0];
      return test::catches_sigint(term->pid()) && done() >= 2;
    });
    if (!waiting) throw std::runtime_error("the program never waited for its job:\n" + term->err());
    dir = root_ + "/" + id;
    slurm_job = slurm_id(dir);
  }

  std::string command(const std::string& args) const { return test::shell(cli_ + args); }
  /// N of `burla status`'s `progress N/M done`.
  std::size_t done() const {
    const std::string s = command("status " + id);
    const auto at = s.find("progress");
    return at == std::string::npos ? 0
                                   : std::strtoul(s.c_str() + s.find_first_not_of(' ', at + 8), nullptr, 10);
  }
  /// The program ended by SIGINT, its last line matched `pattern` (a count in its first group).
  std::size_t ended_by_ctrl_c_saying(const std::string& pattern) const {
    if (!test::eventually([&] { return term->ended(); }))
      throw std::runtime_error("still running after Ctrl-C:\n" + term->err());
    EXPECT_EQ(term->exit_code(), 130) << term->err();
    const auto count = test::count_in_last_line(term->err(), pattern);
    if (!count) throw std::runtime_error("stderr does not end with /" + pattern + "/:\n" + term->err());
    return *count;
  }
  /// Slurm no longer lists the job, none of its processes is left, and resume finishes it exactly.
  void expect_gone_then_resumed() const {
    EXPECT_TRUE(test::eventually([&] {
      return test::shell("squeue -h -j " + slurm_job + " 2>/dev/null").empty();
    })) << "Slurm still lists job "
        << slurm_job;
    EXPECT_TRUE(test::eventually([&] { return test::job_processes(dir).empty(); }));
    const std::string resumed = command("resume " + id + " 2>&1");
    EXPECT_NE(resumed.find("job " + id + ": completed"), std::string::npos) << resumed;
    std::istringstream rows(command("results " + id));
    int x = 0;
    for (std::string line; std::getline(rows, line); ++x)
      EXPECT_EQ(line, std::to_string(x) + "\tok\t" + std::to_string(x * x));
    EXPECT_EQ(x, n);
  }

  std::optional<test::terminal> term;
  std::string id, dir, slurm_job;

 private:
  std::string base_, root_, cli_;
};

TEST(Slurm, CtrlCInATerminalCancelsTheJobAndResumeFinishesIt) {
  slurm_map_in_terminal t("ctrl-c");
  t.term->ctrl_c();
  const std::size_t finished = t.ended_by_ctrl_c_saying(
      "burla: job " + t.id + " cancelled \\(Ctrl-C\\): ([0-9]+) of " + std::to_string(t.n) +
      " calls finished; resume with `burla resume " + t.id + "`");
  EXPECT_GE(finished, 2u);
  // The master ended the run: the journal's end record and results.h5's summary say cancelled.
  EXPECT_NE(t.command("status " + t.id).find("cancelled"), std::string::npos);
  EXPECT_EQ(t.done(), finished);
  EXPECT_NE(test::h5dump(t.dir + "/results.h5", "-a /state").find("\"cancelled\""), std::string::npos);
  t.expect_gone_then_resumed();
}

TEST(Slurm, ASecondCtrlCDuringTheCancelScancelsTheJobAtOnce) {
  slurm_map_in_terminal t("ctrl-c-twice");
  // With its master stopped (SIGSTOP), the job cannot end on request, nor by itself: the second
  // Ctrl-C comes during the cancel, and only its scancel ends the job.
  const auto master = test::job_processes(t.dir, 0);
  ASSERT_EQ(master.size(), 1u);
  ASSERT_EQ(::kill(master[0], SIGSTOP), 0);
  t.term->ctrl_c();
  ASSERT_TRUE(test::eventually([&] { return std::ifstream(t.dir + "/cancel").good(); })) << "no cancel began";
  t.term->ctrl_c();
  const std::size_t finished = t.ended_by_ctrl_c_saying(
      "burla: job " + t.id + " killed \\(Ctrl-C during its cancel\\): ([0-9]+) of " + std::to_string(t.n) +
      " calls finished; resume with `burla resume " + t.id + "`");
  EXPECT_GE(finished, 2u);
  t.expect_gone_then_resumed();
}

}  // namespace
