// The fault suite: crashes of every kind, kills at several points of a job followed by resume,
// and damaged job files, through the public API on the backend the environment picks (local
// mpirun, or Slurm). At the end it prints what was tried and how many results were lost, which
// must be none beyond the calls that failed by design.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <burla/burla.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../integration/support.hpp"

// As a library that initializes MPI itself would call them (the test does not need mpi.h).
extern "C" int MPI_Init(int* argc, char*** argv);
extern "C" int MPI_Init_thread(int* argc, char*** argv, int required, int* provided);

namespace {

struct tally {
  int crash_kinds = 0, kill_points = 0, damaged_files = 0;
  int master_kills = 0, start_kills = 0, descendants = 0, duplicate_replies = 0, concurrent_resumes = 0;
  int corrupted_records = 0, random_kills = 0, terminations = 0, full_disks = 0, mpi_inits = 0,
      node_failures = 0;
  long long results_expected = 0, results_lost = 0;
} suite;

/// Counts into the summary the results that should exist (`want`) and those missing or different
/// in `got`, and fails the test on any.
template <class T>
void expect_all_results(const std::vector<T>& got, const std::vector<T>& want) {
  suite.results_expected += static_cast<long long>(want.size());
  for (std::size_t i = 0; i < want.size(); ++i)
    if (i >= got.size() || got[i] != want[i]) ++suite.results_lost;
  EXPECT_EQ(got.size(), want.size());
}

/// f of each input: what an uninterrupted run returns.
template <class F>
auto each(const std::vector<int>& in, F f) {
  std::vector<decltype(f(0))> out;
  for (int x : in) out.push_back(f(x));
  return out;
}

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

/// The results a job streams until it is killed, once `kill_after` have come; the error it
/// then ends with ("" if it finished first).
template <class R>
std::map<std::size_t, R> stream_until_killed(burla::job<R>& job, std::size_t kill_after, std::string& error) {
  std::map<std::size_t, R> seen;
  try {
    for (const auto& [index, value] : job.stream()) {
      seen[index] = value;
      if (seen.size() == kill_after) kill_job(job.directory());
    }
  } catch (const burla::job_error& e) {
    error = e.what();
  }
  return seen;
}

/// Whether a process is gone: no /proc entry, or a zombie nobody reaped (this VM's init is slow to).
bool gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

/// Waits up to 10 s for a process to be gone.
bool ends(pid_t pid) {
  for (int i = 0; i < 100 && !gone(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return gone(pid);
}

/// The job's rank 0 (its master): the process whose environment names the job and rank 0.
pid_t master_of(const std::string& dir) {
  for (const auto& entry : test::job_dirs("/proc")) {
    if (entry.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in("/proc/" + entry + "/environ", std::ios::binary);
    std::string env((std::istreambuf_iterator<char>(in)), {});
    auto has = [&](const std::string& var) {
      return env.find(std::string(1, '\0') + var + '\0') != std::string::npos;
    };
    if (env.find("BURLA_JOB_DIR=" + dir + '\0') != std::string::npos &&
        (has("OMPI_COMM_WORLD_RANK=0") || has("PMIX_RANK=0")))
      return static_cast<pid_t>(std::stol(entry));
  }
  return -1;
}

/// The job's master, once it runs (up to 5 s); -1 if it did not appear.
pid_t await_master(const std::string& dir) {
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (const pid_t p = master_of(dir); p > 0) return p;
  }
  return -1;
}

/// A process of a job: found by the job directory in its environment.
struct job_process {
  pid_t pid;
  std::string kind;  ///< master, worker (a worker rank), call (a worker's call process)
};

std::vector<job_process> processes_of(const std::string& dir) {
  std::map<pid_t, int> rank;  // of each process of the job
  std::map<pid_t, pid_t> parent;
  for (const auto& entry : test::job_dirs("/proc")) {
    if (entry.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in("/proc/" + entry + "/environ", std::ios::binary);
    std::string env((std::istreambuf_iterator<char>(in)), {});
    if (env.find("BURLA_JOB_DIR=" + dir + '\0') == std::string::npos) continue;
    for (const char* var : {"OMPI_COMM_WORLD_RANK=", "PMIX_RANK="})
      if (const auto at = env.find(std::string(1, '\0') + var); at != std::string::npos) {
        rank[std::atoi(entry.c_str())] = std::atoi(env.c_str() + at + 1 + std::strlen(var));
        break;
      }
    std::ifstream stat("/proc/" + entry + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto paren = line.rfind(')');
    if (paren != std::string::npos) parent[std::atoi(entry.c_str())] = std::atoi(line.c_str() + paren + 4);
  }
  std::vector<job_process> out;
  for (const auto& [pid, r] : rank)
    out.push_back({pid, rank.count(parent[pid]) ? "call" : r == 0 ? "master" : "worker"});
  return out;
}

/// Reads a pid a call wrote to a file.
pid_t pid_in(const std::string& path) {
  for (int i = 0; i < 100; ++i) {
    if (const std::string s = read_text(path); !s.empty()) return static_cast<pid_t>(std::stol(s));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
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
                            // input 27 touches 400 MB before its func_ram check: time
                            // for that on a loaded 2-core machine
                            .func_timeout = std::chrono::milliseconds(3000),
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

// Local only (CMake filters it out on Slurm): there mpirun runs without --enable-recovery (with
// it, mpirun outlived a job whose ranks had all ended), so a rank that dies ends the job and
// resume finishes it.
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
  expect_all_results(results, each(in, [](int x) { return x * 10; }));
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
  std::string error;
  const auto seen = stream_until_killed(job, kill_after, error);
  if (!error.empty()) {
    EXPECT_NE(error.find("results.h5"), std::string::npos) << error;
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

// Large results are journaled as their places in results.h5 (written there once): a job killed
// while they are written, then resumed, still gives each result exactly, from the killed run's
// file or its own.
TEST(Faults, KilledWhileLargeResultsAreWrittenOnceThenResumedGivesThemExactly) {
  ++suite.kill_points;
  std::vector<int> in(80);
  for (int i = 0; i < 80; ++i) in[i] = i;
  auto f = [](int x) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::string v(300000 + static_cast<std::size_t>(x) * 1000, static_cast<char>('a' + x % 26));
    v[static_cast<std::size_t>(x)] = '#';
    return v;
  };
  auto job = burla::submit(f, in, {.spinner = false});
  std::string error;
  const auto seen = stream_until_killed(job, 40, error);
  ASSERT_GE(seen.size(), 40u);
  const auto resumed = burla::resume<std::string>(job.id(), {.spinner = false}).results();
  expect_all_results(resumed, each(in, f));
  for (const auto& [index, value] : seen) EXPECT_EQ(resumed[index], value) << "input " << index;
}

// Fixed-size results of batches of 64 kB or more are journaled as their places too (a place
// per chunk of /result): the same kill, the same exact results.
TEST(Faults, KilledWhileFixedSizeResultsAreWrittenOnceThenResumedGivesThemExactly) {
  ++suite.kill_points;
  using row = std::array<double, 512>;  // 4 kB, the largest raw array: batches of 16 are placed
  // Batches aim at 10 ms. Sleeps of 500 us took 535-580 us here (the kernel oversleeps), which
  // made batches of 18 to 15 calls: placed or not by a host's timer. Sleeps of 100 us (107-160
  // us) make batches of 60 and more. 8,000 calls outlast the master's first flushes.
  const int n = 8000;
  std::vector<int> in(n);
  for (int i = 0; i < n; ++i) in[i] = i;
  auto f = [](int x) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
    row v;
    for (std::size_t k = 0; k < v.size(); ++k) v[k] = x + 1e-5 * static_cast<double>(k);
    return v;
  };
  auto job = burla::submit(f, in, {.spinner = false});
  std::string error;
  const auto seen = stream_until_killed(job, n / 2, error);
  ASSERT_GE(seen.size(), static_cast<std::size_t>(n / 2));
  // Two local workers get batches of 16 calls and more; the many workers of a cluster may get
  // smaller ones, journaled whole.
  if (!on_slurm()) {
    EXPECT_LT(std::filesystem::file_size(job.directory() + "/journal"), seen.size() * sizeof(row) / 10)
        << "the journal holds the results it saw";
  }
  const auto resumed = burla::resume<row>(job.id(), {.spinner = false}).results();
  expect_all_results(resumed, each(in, f));
  for (const auto& [index, value] : seen) EXPECT_EQ(resumed[index], value) << "input " << index;
}

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
  expect_all_results(resumed, first);
  EXPECT_EQ(resumed, first);
}

TEST(Faults, DamagedInputsOrJobDescriptionGiveAClearErrorNotACrash) {
  // Cut short, or (job.ini) one digit of the code offset changed: the job would call the wrong code.
  // Or (inputs.bin byte) one bit of an input changed: before, the call ran on it.
  for (const std::string damaged : {"inputs.bin", "inputs.bin byte", "job.ini", "job.ini offset"}) {
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
    } else if (damaged == "inputs.bin byte") {
      std::ifstream in(path, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), {});
      bytes[5] ^= 1;  // input 1, the one resume runs again
      std::ofstream(path, std::ios::trunc | std::ios::binary) << bytes;
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
      if (damaged == "inputs.bin byte") {
        EXPECT_NE(what.find("checksum"), std::string::npos) << what;
      }
    }
  }
}

namespace {
// n bulk inputs of `bytes` each, input i all 'a' + i; bulk_value is what the tests' calls return.
std::vector<std::vector<char>> bulk_inputs(std::size_t n, std::size_t bytes) {
  std::vector<std::vector<char>> in(n);
  for (std::size_t i = 0; i < n; ++i) in[i].assign(bytes, static_cast<char>('a' + i));
  return in;
}
long long bulk_value(std::size_t i, std::size_t bytes) {
  return static_cast<long long>(bytes) * ('a' + static_cast<int>(i));
}
}  // namespace

// Bulk inputs (here 512 kB each) are read from inputs.bin by the call processes themselves, not
// through rank 0: a changed byte must stop the job there as clearly, keeping what ran.
TEST(Faults, ADamagedBulkInputStopsTheJobNamingItAndKeepsTheResultsSoFar) {
  ++suite.damaged_files;
  constexpr std::size_t bytes = 512 << 10;
  const auto in = bulk_inputs(6, bytes);
  auto f = [](const std::vector<char>& v) {
    if (v.at(0) == 'd') throw std::runtime_error("fails, so that resume has input 3 to run again");
    return static_cast<long long>(v.size()) * v.back();
  };
  auto job = burla::submit(f, in, {.on_error = burla::on_error::collect, .spinner = false});
  ASSERT_EQ(job.outcomes()[3].status, burla::call_status::failed);
  const std::string path = job.directory() + "/inputs.bin";
  ASSERT_EQ(std::filesystem::file_size(path), in.size() * (8 + bytes));  // a length, then the bytes
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(3 * (8 + bytes) + 100000));  // a block within input 3
    file.put('x');
  }
  try {
    burla::resume<long long>(job.id(), {.spinner = false}, burla::rerun::missing_and_failed).results();
    ADD_FAILURE() << "no error for a damaged bulk input";
  } catch (const burla::error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("inputs.bin is damaged"), std::string::npos) << what;
    EXPECT_NE(what.find("checksum"), std::string::npos) << what;
    EXPECT_NE(what.find("inputs 3 to 3"), std::string::npos) << what;
  }
  // The job ended in an error, so its results are read from results.h5, as a user would.
  const std::string file = job.directory() + "/results.h5";
  EXPECT_NE(test::h5dump(file, "-y -d /status").find("ok, ok, ok, failed, ok, ok"), std::string::npos)
      << test::h5dump(file, "-y -d /status");
  std::string values;
  for (std::size_t i = 0; i < in.size(); ++i)
    values += (i ? ", " : "") + std::to_string(i == 3 ? 0 : bulk_value(i, bytes));
  EXPECT_NE(test::h5dump(file, "-y -d /result").find(values), std::string::npos)
      << test::h5dump(file, "-y -d /result");
}

// The batch after a crash runs again in a new call process, which reads its bulk inputs anew.
TEST(Faults, ACrashOnABulkInputCostsOnlyThatCall) {
  ++suite.crash_kinds;
  constexpr std::size_t bytes = 300 << 10;
  const auto in = bulk_inputs(12, bytes);
  auto f = [](const std::vector<char>& v) {
    if (v.front() == 'c') ::raise(SIGSEGV);
    return static_cast<long long>(v.size()) * v.back();
  };
  const auto outcomes =
      burla::submit(f, in, {.on_error = burla::on_error::collect, .spinner = false}).outcomes();
  ASSERT_EQ(outcomes.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (i == 2) {
      EXPECT_EQ(outcomes[i].status, burla::call_status::crashed);
      continue;
    }
    ASSERT_EQ(outcomes[i].status, burla::call_status::ok) << i;
    EXPECT_EQ(*outcomes[i].value, bulk_value(i, bytes)) << i;
  }
}

TEST(Faults, TheMasterKilledMidJobEndsTheJobResumablyNotAHang) {
  ++suite.master_kills;
  std::vector<int> in(3000);
  for (int i = 0; i < 3000; ++i) in[i] = i;
  auto f = [](int x) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + x % 3));
    return 3 * x;
  };
  auto job = burla::submit(f, in, {.spinner = false});
  const pid_t master = await_master(job.directory());
  ASSERT_GT(master, 0) << "no rank 0 found for " << job.directory();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ::kill(master, SIGKILL);
  // The workers notice that the master is gone and end the job (before: the caller waited forever).
  EXPECT_THROW(job.wait(), burla::job_error);
  const auto resumed = burla::resume<int>(job.id(), {.spinner = false}).results();
  expect_all_results(resumed, each(in, [](int x) { return 3 * x; }));
}

// Replies of 4 MB are sent in MPI's rendezvous protocol: a worker's send completes only when the
// master takes it. Before, a worker sending to a master that had died waited in MPI_Send for ever.
TEST(Faults, TheMasterKilledWhileWorkersSendLargeResultsEndsTheJobNotAHang) {
  ++suite.master_kills;
  std::vector<int> in(300);
  for (int i = 0; i < 300; ++i) in[i] = i;
  auto f = [](int x) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return std::string(4 << 20, static_cast<char>('a' + x % 26));
  };
  auto job = burla::submit(f, in, {.spinner = false});
  const pid_t master = await_master(job.directory());
  ASSERT_GT(master, 0) << "no rank 0 found for " << job.directory();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ::kill(master, SIGSTOP);  // it stops taking replies, so the workers' sends wait on it...
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ::kill(master, SIGKILL);  // ...and it dies with them waiting
  EXPECT_THROW(job.wait(), burla::job_error);
  const auto resumed = burla::resume<std::string>(job.id(), {.spinner = false}).results();
  expect_all_results(resumed, each(in, f));
}

// Local only (CMake filters it out on Slurm): it kills the local launcher.
TEST(Faults, AJobKilledBeforeItsJournalExistsIsResumable) {
  ++suite.start_kills;
  auto job =
      burla::submit([](int x) { return x + 100; }, std::vector<int>{1, 2, 3, 4, 5}, {.spinner = false});
  // submit returns once mpirun has started: kill it before the master can write anything.
  ::kill(std::atoi(read_text(job.directory() + "/launcher.pid").c_str()), SIGKILL);
  EXPECT_THROW(job.wait(), burla::job_error);
  const auto resumed = burla::resume<int>(job.id(), {.spinner = false}).results();
  expect_all_results(resumed, {101, 102, 103, 104, 105});
}

// Local only (CMake filters it out on Slurm, where scancel is the kill_job above).
TEST(Faults, SigtermToTheLauncherEndsTheJobInterruptedAndResumable) {
  ++suite.terminations;
  // Long enough to outlast mpirun's wait (odls_base_sigkill_timeout) before it passes SIGTERM on.
  std::vector<int> in(200);
  for (int i = 0; i < 200; ++i) in[i] = i;
  auto f = [](int x) {
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    return x + 7;
  };
  auto job = burla::submit(f, in, {.max_parallelism = 1, .spinner = false});
  std::size_t seen = 0;
  try {
    for (const auto& r : job.stream()) {
      (void)r;
      if (++seen == 20) ::kill(std::atoi(read_text(job.directory() + "/launcher.pid").c_str()), SIGTERM);
    }
    ADD_FAILURE() << "a job whose mpirun got SIGTERM completed";
  } catch (const burla::job_error& e) {
    // Before: "crashed", no end record, results.h5 left "running".
    EXPECT_NE(std::string(e.what()).find("interrupted"), std::string::npos) << e.what();
  }
  EXPECT_NE(test::h5dump(job.directory() + "/results.h5", "-a /state").find("\"interrupted\""),
            std::string::npos);
  const auto resumed = burla::resume<int>(job.id(), {.spinner = false}).results();
  expect_all_results(resumed, each(in, [](int x) { return x + 7; }));
}

TEST(Faults, ACallsDescendantsEndWithItAndHoldNothingOpen) {
  suite.descendants += 3;
  const std::string dir = test::jobs_dir() + "/descendants-" + std::to_string(::getpid());
  ::mkdir(dir.c_str(), 0700);
  struct starts_children {
    char dir[200];
    int operator()(int x) const {
      const std::string pidfile = std::string(dir) + "/" + std::to_string(x);
      if (x == 1 || x == 2) {
        if (const pid_t child = ::fork(); child == 0) {
          if (x == 1)  // a daemon-like child that closes what it inherited
            for (int fd = 3; fd < 1024; ++fd) ::close(fd);
          std::ofstream(pidfile) << ::getpid();
          ::sleep(100);
          ::_exit(0);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        if (x == 1) std::abort();  // the call dies; its child must go with it
      }
      if (x == 3) (void)std::system("sh -c 'kill 0'");  // a script's `trap 'kill 0' EXIT`
      return x;
    }
  } f{};
  std::snprintf(f.dir, sizeof f.dir, "%s", dir.c_str());
  auto job = burla::submit(f, std::vector<int>{0, 1, 2, 3, 4, 5},
                           {.max_parallelism = 2, .on_error = burla::on_error::collect, .spinner = false});
  const auto outcomes = job.outcomes();
  ASSERT_EQ(outcomes.size(), 6u);
  EXPECT_EQ(outcomes[1].status, burla::call_status::crashed);
  // `kill 0` reaches the call's own process group, not its worker rank: only that call fails.
  EXPECT_EQ(outcomes[3].status, burla::call_status::crashed);
  for (int i : {0, 2, 4, 5}) {
    ++suite.results_expected;
    if (!outcomes[i].ok()) ++suite.results_lost;
    EXPECT_TRUE(outcomes[i].ok()) << "input " << i << ": " << burla::to_string(outcomes[i].status);
  }
  // The children of the crashed call and of the call that returned are gone with the job.
  for (int x : {1, 2}) {
    const pid_t child = pid_in(dir + "/" + std::to_string(x));
    ASSERT_GT(child, 0) << "input " << x << " wrote no pid";
    EXPECT_TRUE(ends(child)) << "the child of input " << x << " (pid " << child << ") outlived the job";
  }
}

TEST(Faults, ACallThatCallsMpiInitFailsClearlyNotAHang) {
  ++suite.mpi_inits;
  // Before: the call waited in MPI start-up until func_timeout, and forever without one.
  auto job = burla::submit(
      [](int x) {
        if (x == 1) {
          int argc = 0;
          char** argv = nullptr;
          (void)MPI_Init(&argc, &argv);
        }
        if (x == 2) {
          int argc = 0, provided = 0;
          char** argv = nullptr;
          (void)MPI_Init_thread(&argc, &argv, 0, &provided);
        }
        return x;
      },
      std::vector<int>{0, 1, 2, 3}, {.on_error = burla::on_error::collect, .spinner = false});
  const auto outcomes = job.outcomes();
  ASSERT_EQ(outcomes.size(), 4u);
  for (int i : {1, 2}) {
    EXPECT_EQ(outcomes[i].status, burla::call_status::failed) << "input " << i;
    ASSERT_TRUE(outcomes[i].error) << "input " << i;
    EXPECT_NE(outcomes[i].error->what.find("MPI_Init"), std::string::npos) << outcomes[i].error->what;
  }
  for (int i : {0, 3}) {
    ++suite.results_expected;
    if (!outcomes[i].ok()) ++suite.results_lost;
    EXPECT_TRUE(outcomes[i].ok()) << "input " << i << ": " << burla::to_string(outcomes[i].status);
  }
}

TEST(Faults, ACallThatClosesEveryDescriptorCostsOnlyItself) {
  ++suite.crash_kinds;
  // Before: closefrom(3) in the last call of a batch failed the whole job ("the call process
  // died outside of a call").
  std::vector<int> in(300);
  for (int i = 0; i < 300; ++i) in[i] = i;
  auto job = burla::submit(
      [](int x) {
        if (x == 57 || x == 299) ::closefrom(3);
        std::printf("input %d\n", x);
        return x * 3;
      },
      in, {.max_parallelism = 2, .on_error = burla::on_error::collect, .spinner = false});
  const auto outcomes = job.outcomes();
  ASSERT_EQ(outcomes.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (i == 57 || i == 299) {
      EXPECT_EQ(outcomes[i].status, burla::call_status::crashed) << "input " << i;
      if (outcomes[i].error) {
        EXPECT_NE(outcomes[i].error->what.find("closefrom"), std::string::npos) << outcomes[i].error->what;
      }
      continue;
    }
    ++suite.results_expected;
    if (!outcomes[i].ok() || *outcomes[i].value != 3 * in[i]) ++suite.results_lost;
    EXPECT_TRUE(outcomes[i].ok()) << "input " << i << ": " << burla::to_string(outcomes[i].status);
  }
}

// A jobs root on a small tmpfs that the job's results fill (root only: it mounts one, as CI runs).
TEST(Faults, AFullDiskIsNamedKeepsWhatWasWrittenAndResumeFinishes) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small file system needs root";
  ++suite.full_disks;
  const std::string root = test::jobs_dir() + "/full-disk-" + std::to_string(::getpid());
  ::mkdir(root.c_str(), 0700);
  ASSERT_EQ(test::shell("mount -t tmpfs -o size=4m,mode=0700 burla-full-disk " + root + " && echo ok"),
            "ok\n");
  struct unmount {
    std::string at;
    ~unmount() { test::shell("umount -l " + at); }
  } unmount_at_end{root};
  // Inputs that do not fit: an error at once, naming the file system, and no job left behind.
  try {
    (void)burla::submit([](const std::string& s) { return s.size(); },
                        std::vector<std::string>(400, std::string(20'000, 'x')),
                        {.spinner = false, .job_dir = root});
    ADD_FAILURE() << "8 MB of inputs were written to a 4 MB file system";
  } catch (const burla::error& e) {
    EXPECT_NE(std::string(e.what()).find("No space left"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(root), std::string::npos) << e.what();
  }
  EXPECT_EQ(test::job_dirs(root).size(), 0u) << "a job directory was left behind";
  std::vector<int> in(400);
  for (int i = 0; i < 400; ++i) in[i] = i;
  // 400 results of 20 KB: 8 MB, far more than the 4 MB there are.
  auto f = [](int x) { return std::string(20'000, static_cast<char>('a' + x % 26)); };
  auto job = burla::submit(f, in, {.max_parallelism = 1, .spinner = false, .job_dir = root});
  try {
    job.wait();
    ADD_FAILURE() << "a job that filled its disk completed";
  } catch (const burla::job_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("no space left"), std::string::npos) << what;
    EXPECT_NE(what.find(root), std::string::npos) << what;
    EXPECT_NE(what.find("resume"), std::string::npos) << what;
    // The full disk kept job.log empty here: said so, not a header over no lines.
    if (std::filesystem::file_size(job.directory() + "/job.log") == 0) {
      EXPECT_NE(what.find("job.log is empty"), std::string::npos) << what;
      EXPECT_EQ(what.find("--- last lines"), std::string::npos) << what;
    }
    std::printf("full disk: %s\n", what.c_str());
  }
  // What was written stays readable: results.h5 opens, says why the job stopped, and holds the
  // results that were done.
  const std::string file = job.directory() + "/results.h5";
  EXPECT_NE(test::h5dump(file, "-a /state").find("\"error\""), std::string::npos)
      << test::h5dump(file, "-a /state");
  EXPECT_NE(test::h5dump(file, "-a /message").find("no space left"), std::string::npos);
  const std::string n_ok = test::h5dump(file, "-a /n_ok");
  const auto at = n_ok.find("(0): ");
  ASSERT_NE(at, std::string::npos) << n_ok;
  EXPECT_GT(std::atoll(n_ok.c_str() + at + 5), 0) << "no result kept: " << n_ok;
  // Space freed (a larger file system here), resume finishes the job exactly.
  ASSERT_EQ(test::shell("mount -o remount,size=64m " + root + " && echo ok"), "ok\n");
  const auto resumed = burla::resume<std::string>(job.id(), {.spinner = false, .job_dir = root}).results();
  expect_all_results(resumed, each(in, f));
}

TEST(Faults, CallProcessesKilledBetweenCallsCostOnlyTheirCalls) {
  ++suite.crash_kinds;
  // Before: four SIGKILLs of call processes 0.2 s apart failed the whole job ("the call process
  // died outside of a call"). Now each is replaced; a call it was running is retried.
  std::vector<int> in(64);
  for (int i = 0; i < 64; ++i) in[i] = i;
  auto job = burla::submit(
      [](int x) {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        return x + 1;
      },
      // Two workers whatever the cluster: the job lasts about a second, time for four kills.
      in, {.max_parallelism = 2, .max_retries = 3, .on_error = burla::on_error::collect, .spinner = false});
  int kills = 0;
  for (int round = 0; round < 40 && kills < 4; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (const auto& p : processes_of(job.directory()))
      if (p.kind == "call" && ::kill(p.pid, SIGKILL) == 0) {
        ++kills;
        break;
      }
  }
  EXPECT_GE(kills, 3) << "the job ended before the call processes could be killed";
  const auto outcomes = job.outcomes();
  ASSERT_EQ(outcomes.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    ++suite.results_expected;
    if (!outcomes[i].ok() || *outcomes[i].value != in[i] + 1) ++suite.results_lost;
    EXPECT_TRUE(outcomes[i].ok()) << "input " << i << ": " << burla::to_string(outcomes[i].status);
  }
}

TEST(Faults, AResumeOfARebuiltProgramIsABuildMismatch) {
  // The job runs a copy of this program, which is then "rebuilt" (replaced by another program).
  char self[4096] = {};
  ASSERT_GT(::readlink("/proc/self/exe", self, sizeof self - 1), 0);
  const std::string copy = test::jobs_dir() + "/rebuilt-" + std::to_string(::getpid());
  ASSERT_EQ(test::shell("cp '" + std::string(self) + "' '" + copy + "' && echo ok"), "ok\n");
  ::setenv("BURLA_EXECUTABLE", copy.c_str(), 1);
  auto job = burla::submit(
      [](int x) {
        if (x == 2) throw std::runtime_error("fails, so that resume has work to do");
        return x;
      },
      std::vector<int>{1, 2, 3}, {.on_error = burla::on_error::collect, .spinner = false});
  ::unsetenv("BURLA_EXECUTABLE");
  ASSERT_EQ(job.outcomes()[1].status, burla::call_status::failed);
  // As a linker does: a new file in its place (the old one may still be running on Slurm).
  ASSERT_EQ(test::shell("cp '" BURLA_TEST_OTHER_PROGRAM "' '" + copy + ".new' && mv -f '" + copy + ".new' '" +
                        copy + "' && echo ok"),
            "ok\n");
  try {
    burla::resume<int>(job.id(), {.spinner = false}, burla::rerun::missing_and_failed).results();
    ADD_FAILURE() << "a rebuilt program resumed the job";
  } catch (const burla::build_mismatch& e) {
    // Before: "mpirun exited with code 0 ... ended before its processes started".
    EXPECT_NE(std::string(e.what()).find("build-id"), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a build_mismatch: " << e.what();
  }
  ::unlink(copy.c_str());
}

// The virtual cluster only (CMake filters it out elsewhere): node 3's slurmd and every process on
// it are SIGKILLed mid-job, as when a node dies; then the job is resumed on the nodes left.
TEST(Faults, ANodeLostMidJobCostsOnlyItsCallsAndResumeFinishesOnTheNodesLeft) {
  ++suite.node_failures;
  const std::string vcnode = std::string(BURLA_SOURCE_DIR) + "/slurm/scripts/vcnode.sh";
  // Long enough that Slurm ends the job (NODE_FAIL, 10-12 s after the node stops answering)
  // before the workers left finish it: 400 calls of 100 ms on 3 workers.
  std::vector<int> in(400);
  for (int i = 0; i < 400; ++i) in[i] = i;
  auto f = [](int x) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return 5 * x;
  };
  auto job = burla::submit(f, in, {.spinner = false});
  struct restart_node {
    std::string vcnode;
    ~restart_node() { test::shell(vcnode + " start 3 2>&1"); }  // for the tests after this one
  } restart{vcnode};
  std::size_t seen = 0;
  try {
    for (const auto& r : job.stream()) {
      (void)r;
      if (++seen == 20) test::shell(vcnode + " crash 3 2>&1");
    }
    ADD_FAILURE() << "a job that lost a node completed";
  } catch (const burla::job_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("NODE_FAIL"), std::string::npos) << what;
    EXPECT_NE(what.find("node3"), std::string::npos) << what;
    EXPECT_NE(what.find("resume"), std::string::npos) << what;
    std::printf("node lost: %s\n", what.substr(0, what.find("\n---")).c_str());
  }
  // Node 3 is down: the resumed job runs on nodes 1 and 2, and its results are exact.
  const auto resumed = burla::resume<int>(job.id(), {.spinner = false}).results();
  expect_all_results(resumed, each(in, [](int x) { return 5 * x; }));
}

TEST(Faults, ACallWhoseForkedCopyReturnsIsCountedOnce) {
  ++suite.duplicate_replies;
  // The copy returns from the call instead of exiting: before, it went on with the rest of the
  // batch and replied a second time, and the job ended "completed" with inputs not run.
  std::vector<int> in(3000);
  for (int i = 0; i < 3000; ++i) in[i] = i;
  auto job = burla::submit(
      [](int x) {
        if (x == 2500) (void)::fork();
        return x * 2;
      },
      in, {.max_parallelism = 1, .spinner = false});
  const auto outcomes = job.outcomes();
  ASSERT_EQ(outcomes.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    ++suite.results_expected;
    if (!outcomes[i].ok() || *outcomes[i].value != 2 * in[i]) ++suite.results_lost;
    EXPECT_TRUE(outcomes[i].ok()) << "input " << i << ": " << burla::to_string(outcomes[i].status);
  }
  EXPECT_NE(test::h5dump(job.directory() + "/results.h5", "-a /n_not_run").find("(0): 0"), std::string::npos);
}

TEST(Faults, TwoResumesAtOnceRunTheJobOnce) {
  ++suite.concurrent_resumes;
  std::vector<int> in(400);
  for (int i = 0; i < 400; ++i) in[i] = i;
  auto slow = [](int x) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return x - 1;
  };
  auto job = burla::submit(slow, in, {.spinner = false});
  {
    auto stream = job.stream();
    auto it = stream.begin();
    ASSERT_FALSE(it == stream.end());
    kill_job(job.directory());
    try {
      while (it != stream.end()) ++it;
    } catch (const burla::job_error&) {
    }
  }
  std::vector<std::vector<int>> got(2);
  std::vector<std::string> refused(2);
  std::vector<std::thread> resumes;
  for (int k = 0; k < 2; ++k)
    resumes.emplace_back([&, k] {
      try {
        got[k] = burla::resume<int>(job.id(), {.spinner = false}).results();
      } catch (const burla::error& e) {
        refused[k] = e.what();
      }
    });
  for (auto& t : resumes) t.join();
  std::vector<int> want(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) want[i] = in[i] - 1;
  int ran = 0;
  for (int k = 0; k < 2; ++k) {
    if (!refused[k].empty()) {
      EXPECT_TRUE(refused[k].find("being resumed") != std::string::npos ||
                  refused[k].find("still running") != std::string::npos)
          << refused[k];
      continue;
    }
    ++ran;
    EXPECT_EQ(got[k], want);
  }
  EXPECT_GE(ran, 1);
  // One more run, not two: job.ini says run 2, and no input ran twice in it.
  std::ifstream ini(job.directory() + "/job.ini");
  std::string text((std::istreambuf_iterator<char>(ini)), {});
  EXPECT_NE(text.find("\nrun = 2\n"), std::string::npos);
  suite.results_expected += static_cast<long long>(in.size());
  if (ran == 0 || (got[0] != want && got[1] != want)) suite.results_lost += static_cast<long long>(in.size());
}

TEST(Faults, ACorruptedJournalRecordIsAnErrorNotASilentLoss) {
  std::vector<int> in(300);
  for (int i = 0; i < 300; ++i) in[i] = i;
  auto job = burla::submit([](int x) { return x * 7; }, in, {.spinner = false});
  (void)job.results();
  const std::string journal = job.directory() + "/journal";
  std::string bytes;
  {
    std::ifstream f(journal, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  // Records: 24-byte heads (u64 payload size at +8) after the 8-byte magic. Damage the 4th.
  std::size_t at = 8;
  for (int k = 0; k < 3; ++k) {
    std::uint64_t size = 0;
    std::memcpy(&size, bytes.data() + at + 8, 8);
    at += 24 + size;
  }
  ASSERT_LT(at + 24, bytes.size());
  for (const std::string how : {"size", "payload"}) {
    ++suite.corrupted_records;
    std::string damaged = bytes;
    if (how == "size") {
      const std::uint64_t huge = std::uint64_t{1} << 39;
      std::memcpy(damaged.data() + at + 8, &huge, 8);
    } else {
      damaged[at + 24] = static_cast<char>(damaged[at + 24] ^ 0x5a);
    }
    std::ofstream(journal, std::ios::binary | std::ios::trunc) << damaged;
    // Before: resume cut the journal at a damaged size and ran again what it held, in silence.
    for (const char* reader : {"resume", "attach"}) {
      try {
        if (std::string(reader) == "resume")
          (void)burla::resume<int>(job.id(), {.spinner = false}).results();
        else
          (void)burla::attach<int>(job.id(), {.spinner = false}).results();
        ADD_FAILURE() << reader << " took a journal with a damaged record " << how;
      } catch (const burla::error& e) {
        EXPECT_NE(std::string(e.what()).find("at byte " + std::to_string(at)), std::string::npos)
            << reader << ", damaged " << how << ": " << e.what();
      }
    }
  }
}

TEST(Faults, ARankKilledAtStartUpEndsTheJobNotAHang) {
  ++suite.start_kills;
  // The job runs this program through a script that kills rank 1 as it starts: before, rank 0
  // waited in MPI start-up and the caller waited forever.
  char self[4096] = {};
  ASSERT_GT(::readlink("/proc/self/exe", self, sizeof self - 1), 0);
  const std::string script = test::jobs_dir() + "/kills-rank-1-" + std::to_string(::getpid()) + ".sh";
  std::ofstream(script) << "#!/bin/sh\n"
                        << "if [ \"${OMPI_COMM_WORLD_RANK:-$PMIX_RANK}\" = 1 ]; then kill -9 $$; fi\n"
                        << "exec '" << self << "' \"$@\"\n";
  ASSERT_EQ(::chmod(script.c_str(), 0700), 0);
  ::setenv("BURLA_EXECUTABLE", script.c_str(), 1);
  ::setenv("BURLA_START_TIMEOUT", "10", 1);
  auto job = burla::submit([](int x) { return x + 1; }, std::vector<int>{1, 2, 3}, {.spinner = false});
  ::unsetenv("BURLA_EXECUTABLE");
  try {
    job.wait();
    ADD_FAILURE() << "a job whose rank 1 died at start-up completed";
  } catch (const burla::job_error& e) {
    EXPECT_NE(std::string(e.what()).find("resume"), std::string::npos) << e.what();
  }
  ::unsetenv("BURLA_START_TIMEOUT");
  const std::string ini = job.directory() + "/job.ini";
  // The job runs the script named in job.ini: resume it with the program itself.
  std::ifstream in(ini);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("kills-rank-1"), std::string::npos);
}

TEST(Faults, AResumedRunPrintsOnlyWhatItsOwnCallsPrint) {
  ++suite.kill_points;
  std::vector<int> in(300);
  for (int i = 0; i < 300; ++i) in[i] = i;
  auto f = [](int x) {
    std::printf("call %d\n", x);
    std::this_thread::sleep_for(std::chrono::milliseconds(4));
    return x;
  };
  test::captured_stdout output;
  auto job = burla::submit(f, in, {.spinner = false});
  std::set<std::size_t> before;
  try {
    for (const auto& [index, value] : job.stream()) {
      before.insert(index);
      if (before.size() == 100) kill_job(job.directory());
    }
  } catch (const burla::job_error&) {
  }
  (void)output.take();
  test::captured_stdout output2;
  const auto resumed = burla::resume<int>(job.id(), {.spinner = false}).results();
  const std::string printed = output2.take();
  EXPECT_EQ(resumed, in);
  // Before: every earlier call's output was printed again.
  for (std::size_t i : before)
    EXPECT_EQ(printed.find("call " + std::to_string(i) + "\n"), std::string::npos) << "input " << i;
  EXPECT_NE(printed.find("call 299\n"), std::string::npos);
  expect_all_results(resumed, in);
}

// Every kind of process of a job, SIGKILLed at a random moment, then resumed until done: the
// results must be exactly those of an uninterrupted run, and nothing may hang (CTest's timeout).
// BURLA_FAULT_ROUNDS (default 4 here; more by hand) and BURLA_FAULT_SEED (printed) repeat it.
TEST(Faults, RandomKillsAtRandomMomentsLoseNothing) {
  const char* rounds_env = std::getenv("BURLA_FAULT_ROUNDS");
  const int rounds = rounds_env ? std::atoi(rounds_env) : 4;
  const char* seed_env = std::getenv("BURLA_FAULT_SEED");
  const unsigned seed = seed_env ? static_cast<unsigned>(std::atol(seed_env)) : std::random_device{}();
  std::printf("random kills: %d rounds, BURLA_FAULT_SEED=%u\n", rounds, seed);
  std::fflush(stdout);  // seen even if the test is killed for a hang
  std::mt19937 rng(seed);
  // A rank killed while MPI starts leaves the others waiting there until the start-up deadline
  // (300 s by default): shorter here, so that such a round costs 20 s.
  ::setenv("BURLA_START_TIMEOUT", "20", 1);
  struct unset_at_end {
    ~unset_at_end() { ::unsetenv("BURLA_START_TIMEOUT"); }
  } unset;
  std::vector<int> in(400);
  std::vector<double> want(in.size());
  for (int i = 0; i < 400; ++i) in[i] = i, want[i] = 0.5 * i + std::sin(i);
  std::vector<std::string> kinds = {"master", "worker", "call"};
  if (!on_slurm()) kinds.push_back("launcher");
  std::map<std::string, int> killed;
  for (int round = 0; round < rounds; ++round) {
    auto job = burla::submit(slow_value, in, {.max_parallelism = 2, .spinner = false});
    const std::string kind = kinds[rng() % kinds.size()];
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 1200));
    pid_t target = -1;
    if (kind == "launcher") {
      target = std::atoi(read_text(job.directory() + "/launcher.pid").c_str());
    } else {
      std::vector<job_process> of_kind;
      for (const auto& p : processes_of(job.directory()))
        if (p.kind == kind) of_kind.push_back(p);
      if (!of_kind.empty()) target = of_kind[rng() % of_kind.size()].pid;
    }
    if (target > 0 && ::kill(target, SIGKILL) == 0) ++killed[kind], ++suite.random_kills;
    std::vector<double> got;
    std::string last_error;
    for (int attempt = 0; attempt < 6 && got.empty(); ++attempt) {
      try {
        got = attempt == 0
                  ? job.results()
                  : burla::resume<double>(job.id(), {.spinner = false}, burla::rerun::missing_and_failed)
                        .results();
      } catch (const burla::error& e) {
        last_error = e.what();
      }
    }
    expect_all_results(got, want);
    EXPECT_EQ(got, want) << "round " << round << ": " << kind << " killed; last error: " << last_error;
  }
  for (const auto& [kind, n] : killed) std::printf("random kills: %d of kind %s\n", n, kind.c_str());
}

int main(int argc, char** argv) {
  burla::init(argc, argv);
  test::set_environment();
  testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  std::printf(
      "fault suite (%s): %d crash kinds, %d kill points, %d damaged files, %d corrupted journal records, "
      "%d master kills, %d kills at start-up, %d calls with descendants, %d duplicate replies, %d "
      "concurrent resumes, %d SIGTERMs, %d calls of MPI_Init, %d full disks, %d node failures survived, %d "
      "random "
      "kills tried; "
      "%lld of %lld results that should exist were lost\n",
      on_slurm() ? "slurm" : "local", suite.crash_kinds, suite.kill_points, suite.damaged_files,
      suite.corrupted_records, suite.master_kills, suite.start_kills, suite.descendants,
      suite.duplicate_replies, suite.concurrent_resumes, suite.terminations, suite.mpi_inits,
      suite.full_disks, suite.node_failures, suite.random_kills, suite.results_lost, suite.results_expected);
  return rc != 0 || suite.results_lost != 0 ? 1 : 0;
}
