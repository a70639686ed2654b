// The fault suite: crashes of every kind, kills at several points of a job followed by resume,
// and damaged job files, through the public API on the backend the environment picks (local
// mpirun, or Slurm). At the end it prints what was tried and how many results were lost, which
// must be none beyond the calls that failed by design.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <burla/burla.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../integration/support.hpp"

namespace {

struct tally {
  int crash_kinds = 0, kill_points = 0, damaged_files = 0;
  long long results_expected = 0, results_lost = 0;
} suite;

bool on_slurm() {
  const char* b = std::getenv("BURLA_BACKEND");
  return !b || std::string(b) != "local";
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

/// The numbers h5dump prints for a 1-D dataset.
std::vector<long long> dataset_values(const std::string& file, const std::string& name) {
  const std::string text = test::h5dump(file, "-y -d " + name);
  std::vector<long long> out;
  const auto data = text.find("DATA {");
  if (data == std::string::npos) return out;
  std::istringstream in(text.substr(data + 6));
  for (std::string word; in >> word && word != "}";) out.push_back(std::stoll(word));
  return out;
}

/// Kills a running job: locally the hard way (SIGKILL to mpirun: no chance to save anything),
/// on Slurm as its users do (scancel).
void kill_job(const std::string& dir) {
  if (on_slurm()) {
    test::shell("scancel " + read_text(dir + "/slurm_job_id"));
  } else {
    const pid_t launcher = std::atoi(read_text(dir + "/launcher.pid").c_str());
    ASSERT_GT(launcher, 0);
    ::kill(launcher, SIGKILL);
  }
}

int crash_kind(int x) {
  switch (x) {
    case 3:
      ::raise(SIGSEGV);
      break;
    case 7:
      std::printf("input 7 aborts\n");
      std::abort();
    case 11:
      std::exit(3);
    case 15:
      std::terminate();
    case 19:
      ::raise(SIGKILL);
      break;
    case 23:
      std::this_thread::sleep_for(std::chrono::seconds(30));  // past func_timeout
      break;
    case 27: {
      std::vector<char> big(std::size_t(800) << 20, 1);  // past func_ram, and touched
      return big[x] + x;
    }
    default:
      break;
  }
  return 2 * x;
}

}  // namespace

TEST(Faults, EachCrashKindCostsOnlyItsCall) {
  const std::map<std::size_t, burla::call_status> expected = {
      {3, burla::call_status::crashed},       {7, burla::call_status::crashed},
      {11, burla::call_status::crashed},      {15, burla::call_status::crashed},
      {19, burla::call_status::crashed},      {23, burla::call_status::timed_out},
      {27, burla::call_status::out_of_memory}};
  suite.crash_kinds += static_cast<int>(expected.size());
  std::vector<int> in(40);
  for (int i = 0; i < 40; ++i) in[i] = i;
  auto job = burla::submit(crash_kind, in,
                           {.func_ram = 0.4,
                            .max_parallelism = 2,
                            .func_timeout = std::chrono::milliseconds(1500),
                            .on_error = burla::on_error::collect,
                            .spinner = false});
  const auto outcomes = job.outcomes();
  ASSERT_EQ(outcomes.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    auto e = expected.find(i);
    if (e == expected.end()) {
      ++suite.results_expected;
      if (!outcomes[i].ok() || *outcomes[i].value != 2 * in[i]) ++suite.results_lost;
      EXPECT_TRUE(outcomes[i].ok()) << "input " << i << " has status "
                                    << burla::to_string(outcomes[i].status);
      continue;
    }
    EXPECT_EQ(outcomes[i].status, e->second) << "input " << i;
    ASSERT_TRUE(outcomes[i].error) << "input " << i;
    EXPECT_EQ(outcomes[i].error->index, i);
  }
  EXPECT_NE(outcomes[7].error->output_tail.find("input 7 aborts"), std::string::npos);
  EXPECT_NE(outcomes[3].error->what.find("SIGSEGV"), std::string::npos) << outcomes[3].error->what;
  EXPECT_NE(outcomes[11].error->what.find("code 3"), std::string::npos) << outcomes[11].error->what;
  try {
    job.wait();
    FAIL() << "no calls_failed";
  } catch (const burla::calls_failed& e) {
    EXPECT_EQ(e.failures().size(), expected.size()) << e.what();
  }
}

TEST(Faults, AFailedCallRunsAgainAndItsAttemptsAreRecorded) {
  const std::string marker = test::jobs_dir() + "/retry-marker-" + std::to_string(::getpid());
  ::unlink(marker.c_str());
  struct first_attempt_fails {
    char path[256];
    int operator()(int x) const {
      if (x == 5 && ::access(path, F_OK) != 0) {
        std::ofstream(path) << "tried";
        throw std::runtime_error("first attempt");
      }
      return x + 1;
    }
  } f{};
  std::snprintf(f.path, sizeof f.path, "%s", marker.c_str());
  auto job = burla::submit(f, std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}, {.max_retries = 2, .spinner = false});
  const auto results = job.results();
  EXPECT_EQ(results, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));
  const std::string attempts = test::h5dump(job.directory() + "/results.h5", "-y -d /attempts");
  EXPECT_NE(attempts.find("1, 1, 1, 1, 1, 2, 1, 1"), std::string::npos) << attempts;
  ::unlink(marker.c_str());
}

// Local only (CMake filters it out on Slurm): srun --mpi=pmix ends the whole step when a task
// dies, whatever its options; there the job ends and resume finishes it.
TEST(Faults, AWorkerRankKilledMidJobDoesNotHangTheJob) {
  ++suite.kill_points;
  const std::string marker = test::jobs_dir() + "/rank-kill-marker-" + std::to_string(::getpid());
  ::unlink(marker.c_str());
  struct kills_its_rank_once {
    char path[256];
    int operator()(int x) const {
      if (x == 5 && ::access(path, F_OK) != 0) {
        std::ofstream(path) << "killed";
        ::kill(::getppid(), SIGKILL);  // the call's parent is its worker rank
        std::this_thread::sleep_for(std::chrono::seconds(5));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return x * 10;
    }
  } f{};
  std::snprintf(f.path, sizeof f.path, "%s", marker.c_str());
  std::vector<int> in(40);
  for (int i = 0; i < 40; ++i) in[i] = i;
  const auto results = burla::remote_parallel_map(f, in, {.max_parallelism = 2, .spinner = false});
  suite.results_expected += static_cast<long long>(in.size());
  for (int i = 0; i < 40; ++i)
    if (results[i] != i * 10) ++suite.results_lost;
  EXPECT_EQ(results.size(), in.size());
  ::unlink(marker.c_str());
}

namespace {
double slow_value(int x) {
  std::this_thread::sleep_for(std::chrono::milliseconds(4));
  return 0.5 * x + std::sin(x);
}
}  // namespace

class KillPoint : public testing::TestWithParam<double> {};

TEST_P(KillPoint, KilledThenResumedGivesExactlyTheUninterruptedResults) {
  ++suite.kill_points;
  std::vector<int> in(600);
  for (int i = 0; i < 600; ++i) in[i] = i;
  const std::vector<double> clean = burla::remote_parallel_map(slow_value, in, {.spinner = false});
  auto job = burla::submit(slow_value, in, {.spinner = false});
  const auto kill_after = static_cast<std::size_t>(GetParam() * static_cast<double>(in.size()));
  std::map<std::size_t, double> seen;
  try {
    for (const auto& [index, value] : job.stream()) {
      seen[index] = value;
      if (seen.size() == kill_after) kill_job(job.directory());
    }
  } catch (const burla::job_error& e) {
    EXPECT_NE(std::string(e.what()).find("results.h5"), std::string::npos) << e.what();
  }
  ASSERT_GE(seen.size(), kill_after);
  const std::vector<double> resumed = burla::resume<double>(job.id(), {.spinner = false}).results();
  ASSERT_EQ(resumed.size(), clean.size());
  suite.results_expected += static_cast<long long>(clean.size());
  for (std::size_t i = 0; i < clean.size(); ++i)
    if (resumed[i] != clean[i]) ++suite.results_lost;
  EXPECT_EQ(resumed, clean);
  for (const auto& [index, value] : seen) EXPECT_EQ(resumed[index], value) << "input " << index;
  // results.h5 says the same, for h5py and h5dump users.
  const std::string status = test::h5dump(job.directory() + "/results.h5", "-d /status");
  const auto data = status.find("DATA {");
  ASSERT_NE(data, std::string::npos) << status;
  EXPECT_EQ(status.find("not_run", data), std::string::npos) << status.substr(data, 400);
  const std::string state = test::h5dump(job.directory() + "/results.h5", "-a /state");
  EXPECT_NE(state.find("\"completed\""), std::string::npos) << state;
  // Every input has its row, those of the run that was killed too.
  EXPECT_EQ(dataset_values(job.directory() + "/results.h5", "/input"),
            std::vector<long long>(in.begin(), in.end()));
}

INSTANTIATE_TEST_SUITE_P(Faults, KillPoint, testing::Values(0.01, 0.5, 0.95));

TEST(Faults, ATornJournalEndIsCutOffByResume) {
  ++suite.damaged_files;
  std::vector<int> in(50);
  for (int i = 0; i < 50; ++i) in[i] = i;
  auto job = burla::submit([](int x) { return x * 3; }, in, {.spinner = false});
  const auto first = job.results();
  // As if the job had been killed in the middle of writing its last record.
  const std::string journal = job.directory() + "/journal";
  std::ifstream f(journal, std::ios::binary | std::ios::ate);
  const auto size = static_cast<long long>(f.tellg());
  ASSERT_EQ(::truncate(journal.c_str(), size - 5), 0);
  const auto resumed = burla::resume<int>(job.id(), {.spinner = false}).results();
  suite.results_expected += static_cast<long long>(first.size());
  for (std::size_t i = 0; i < first.size(); ++i)
    if (i >= resumed.size() || resumed[i] != first[i]) ++suite.results_lost;
  EXPECT_EQ(resumed, first);
}

TEST(Faults, DamagedInputsOrJobDescriptionGiveAClearErrorNotACrash) {
  // Cut short, or (job.ini) one digit of the code offset changed: the job would call the wrong code.
  for (const std::string damaged : {"inputs.bin", "job.ini", "job.ini offset"}) {
    ++suite.damaged_files;
    auto job = burla::submit(
        [](int x) {
          if (x == 2) throw std::runtime_error("fails, so that resume has work to do");
          return x;
        },
        std::vector<int>{1, 2, 3, 4}, {.on_error = burla::on_error::collect, .spinner = false});
    ASSERT_EQ(job.outcomes()[1].status, burla::call_status::failed);
    const std::string path = job.directory() + "/" + damaged.substr(0, damaged.find(' '));
    if (damaged == "job.ini offset") {
      std::stringstream whole;
      whole << std::ifstream(path).rdbuf();
      std::string text = whole.str();
      const auto at = text.find("batch_function.offset = ");
      ASSERT_NE(at, std::string::npos);
      char& digit = text[at + std::strlen("batch_function.offset = ")];
      digit = digit == '1' ? '2' : '1';
      std::ofstream(path, std::ios::trunc) << text;
    } else {
      ASSERT_EQ(::truncate(path.c_str(), 5), 0);
    }
    try {
      burla::resume<int>(job.id(), {.spinner = false}, burla::rerun::missing_and_failed).results();
      ADD_FAILURE() << "no error for a damaged " << damaged;
    } catch (const burla::error& e) {
      const std::string what = e.what();
      EXPECT_TRUE(what.find("damaged") != std::string::npos || what.find("truncated") != std::string::npos)
          << what;
    }
  }
}

int main(int argc, char** argv) {
  burla::init(argc, argv);
  test::set_environment();
  testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  std::printf(
      "fault suite (%s): %d crash kinds, %d kill points, %d damaged files tried; %lld of %lld results that "
      "should "
      "exist were lost\n",
      on_slurm() ? "slurm" : "local", suite.crash_kinds, suite.kill_points, suite.damaged_files,
      suite.results_lost, suite.results_expected);
  return rc != 0 || suite.results_lost != 0 ? 1 : 0;
}
