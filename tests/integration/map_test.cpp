// remote_parallel_map and submit end to end on a local mpirun.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <burla/burla.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace {

const burla::options quiet{.spinner = false};

long long square(int x) {
  return static_cast<long long>(x) * x;
}

struct particle {
  double mass = 0;
  std::vector<double> position;
  std::string name;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& mass& position& name;
  }
};

struct summary {
  std::string name;
  double weight = 0;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& name& weight;
  }
};

summary weigh(const particle& p) {
  return {p.name, p.mass * std::accumulate(p.position.begin(), p.position.end(), 0.0)};
}

}  // namespace

TEST(Map, ReturnsResultsInInputOrder) {
  std::vector<int> in(5000);
  std::iota(in.begin(), in.end(), -2500);
  const std::vector<long long> out = burla::remote_parallel_map(square, in, quiet);
  ASSERT_EQ(out.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(out[i], square(in[i])) << i;
}

TEST(Map, AcceptsArraysSpansAndLambdas) {
  const std::array<double, 4> a{1, 2, 3, 4};
  const double k = 2.5;  // captured by copy
  const auto scaled = burla::remote_parallel_map([k](double x) { return k * x; }, a, quiet);
  EXPECT_EQ(scaled, (std::vector<double>{2.5, 5, 7.5, 10}));

  const std::vector<int> v{3, 4, 5, 6, 7};
  const auto halves =
      burla::remote_parallel_map([](int x) { return x / 2.0; }, std::span(v).subspan(1, 3), quiet);
  EXPECT_EQ(halves, (std::vector<double>{2, 2.5, 3}));
}

TEST(Map, AcceptsABracedListLikeBurlasListLiteral) {
  EXPECT_EQ(burla::remote_parallel_map(square, {1, 2, 3}, quiet), (std::vector<long long>{1, 4, 9}));
  const auto words = burla::remote_parallel_map([](const std::string& w) { return w.size(); },
                                                {std::string("a"), std::string("bcd")}, quiet);
  EXPECT_EQ(words, (std::vector<std::size_t>{1, 3}));
}

TEST(Map, StructInputsAndResults) {
  std::vector<particle> in;
  for (int i = 0; i < 300; ++i) in.push_back({0.5 * i, {1.0 * i, 2.0, -1.0}, "p" + std::to_string(i)});
  const std::vector<summary> out = burla::remote_parallel_map(weigh, in, quiet);
  ASSERT_EQ(out.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].name, in[i].name);
    EXPECT_DOUBLE_EQ(out[i].weight, weigh(in[i]).weight);
  }
}

TEST(Map, StringsInAndOutAndInTheResultsFile) {
  const std::vector<std::string> in{"alpha", "", "gamma with spaces", std::string(10000, 'z')};
  auto job =
      burla::submit([](const std::string& s) { return s + "!" + std::to_string(s.size()); }, in, quiet);
  const std::vector<std::string> out = job.results();
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0], "alpha!5");
  EXPECT_EQ(out[1], "!0");
  EXPECT_EQ(out[3], std::string(10000, 'z') + "!10000");
  EXPECT_EQ(job.results(), out) << "a second results() must give the same results";
  const std::string dump = test::h5dump(job.directory() + "/results.h5", "-d /result");
  EXPECT_NE(dump.find("\"gamma with spaces!17\""), std::string::npos) << dump.substr(0, 2000);
  EXPECT_NE(dump.find("H5T_STRING"), std::string::npos);
}

TEST(Map, VoidFunctionsRunEveryInput) {
  const std::string dir = test::jobs_dir() + "/void-marks-" + std::to_string(::getpid());
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  std::vector<std::string> marks;
  for (int i = 0; i < 40; ++i) marks.push_back(dir + "/" + std::to_string(i));
  // A void function leaves a mark per input; the test counts the marks.
  burla::remote_parallel_map([](const std::string& path) { std::ofstream{path} << "x"; }, marks, quiet);
  for (const auto& m : marks) EXPECT_EQ(::access(m.c_str(), F_OK), 0) << m;
}

TEST(Map, EmptyInputsStartNothing) {
  const std::string root = test::own_jobs_root("empty-inputs");
  const std::vector<long long> out =
      burla::remote_parallel_map(square, std::vector<int>{}, {.spinner = false, .job_dir = root});
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(test::job_dirs(root).empty());
}

TEST(Map, InvalidOptionsAreRejectedBeforeAnythingStarts) {
  const std::string root = test::own_jobs_root("invalid-options");
  const std::vector<int> in{1, 2, 3};
  try {
    burla::remote_parallel_map(square, in, {.func_cpu = 0, .job_dir = root});
    FAIL() << "func_cpu = 0 was accepted";
  } catch (const burla::invalid_option& e) {
    EXPECT_EQ(e.option(), "func_cpu");
    EXPECT_NE(std::string(e.what()).find("at least 1"), std::string::npos);
  }
  EXPECT_THROW(burla::remote_parallel_map(square, in, {.func_ram = -2, .job_dir = root}),
               burla::invalid_option);
  EXPECT_THROW(burla::remote_parallel_map(square, in, {.max_parallelism = 0, .job_dir = root}),
               burla::invalid_option);
  EXPECT_THROW(burla::remote_parallel_map(square, in, {.func_gpu = -1, .job_dir = root}),
               burla::invalid_option);
  // Valid in general, but more than this machine has: still rejected before starting.
  EXPECT_THROW(burla::remote_parallel_map(square, in, {.func_cpu = 100000, .job_dir = root}),
               burla::invalid_option);
  EXPECT_THROW(burla::remote_parallel_map(square, in, {.func_ram = 1e9, .job_dir = root}),
               burla::invalid_option);
  EXPECT_TRUE(test::job_dirs(root).empty());
}

TEST(Map, MaxParallelismLimitsWorkersAndFuncCpuSetsThreads) {
  std::vector<int> in(20, 0);
  auto job = burla::submit([](int) { return std::string(std::getenv("OMP_NUM_THREADS")); }, in,
                           {.func_cpu = 2, .max_parallelism = 1, .spinner = false});
  for (const auto& threads : job.results()) EXPECT_EQ(threads, "2");
  const std::string ranks = test::h5dump(job.directory() + "/results.h5", "-y -d /rank");
  const std::string data = ranks.substr(ranks.find("DATA {"));
  EXPECT_NE(data.find("1, 1"), std::string::npos) << ranks;
  EXPECT_EQ(data.find('2'), std::string::npos) << "a second worker ran calls:\n" << ranks;
}

TEST(Files, JobDirectoryIsOwnerOnlyAndResultsAreReadableByH5dump) {
  auto job = burla::submit(square, std::vector<int>{1, 2, 3}, quiet);
  EXPECT_EQ(job.results(), (std::vector<long long>{1, 4, 9}));
  struct stat st {};
  ASSERT_EQ(::stat(job.directory().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  const std::string file = job.directory() + "/results.h5";
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string result = test::h5dump(file, "-d /result");
  EXPECT_NE(result.find("H5T_STD_I64LE"), std::string::npos) << result;
  EXPECT_NE(result.find("1, 4, 9"), std::string::npos) << result;
  EXPECT_NE(test::h5dump(file, "-d /input").find("1, 2, 3"), std::string::npos);
  const std::string status = test::h5dump(file, "-d /status");
  EXPECT_NE(status.find("H5T_ENUM"), std::string::npos) << status;
  EXPECT_NE(status.find("\"not_run\""), std::string::npos) << status;
  EXPECT_NE(status.find("DATA {\n   (0): ok, ok, ok"), std::string::npos) << status;
  EXPECT_NE(test::h5dump(file, "-a /state").find("\"completed\""), std::string::npos);
  EXPECT_NE(test::h5dump(file, "-a /n_ok").find("(0): 3"), std::string::npos);
}

TEST(Output, ACallThatClosesItsStdoutDoesNotSilenceTheCallsAfterIt) {
  // Before: every later call of that call process printed nowhere, without a word.
  test::captured_stdout output;
  const auto r = burla::remote_parallel_map(
      [](int x) {
        std::printf("line %d\n", x);
        std::fflush(stdout);
        if (x == 1) ::close(1), ::close(2);
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
        return x;
      },
      std::vector<int>{0, 1, 2, 3, 4, 5}, {.max_parallelism = 1, .spinner = false});
  const std::string printed = output.take();
  EXPECT_EQ(r, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  // Calls of 25 ms go one to a batch (the rest of a batch would print nowhere): every later
  // call prints again.
  for (int x : {0, 1, 2, 3, 4, 5})
    EXPECT_NE(printed.find("line " + std::to_string(x) + "\n"), std::string::npos) << x << ": " << printed;
}

TEST(Output, PrintedTextReachesTheCallerWholeAndIsKeptPerInput) {
  std::vector<int> in(60);
  std::iota(in.begin(), in.end(), 0);
  test::captured_stdout output2;
  testing::internal::CaptureStderr();
  auto job = burla::submit(
      [](int x) {
        // Several writes per call, through printf and iostreams: they must stay together.
        std::printf("begin %d;", x);
        std::cout << " middle " << x << ";";
        std::fflush(stdout);
        std::printf(" end %d\n", x);
        if (x % 10 == 0) std::cerr << "warning from " << x << "\n";
        return x;
      },
      in, quiet);
  job.wait();
  const std::string out = output2.take();
  const std::string err = testing::internal::GetCapturedStderr();
  for (int x : in) {
    const std::string line =
        "begin " + std::to_string(x) + "; middle " + std::to_string(x) + "; end " + std::to_string(x) + "\n";
    EXPECT_NE(out.find(line), std::string::npos) << "missing or broken: " << line;
  }
  for (int x = 0; x < 60; x += 10)
    EXPECT_NE(err.find("warning from " + std::to_string(x) + "\n"), std::string::npos);
  EXPECT_EQ(err.find("begin"), std::string::npos);
  const std::string kept = test::h5dump(job.directory() + "/results.h5", "-d /stdout");
  EXPECT_NE(kept.find("\"begin 42; middle 42; end 42\n"), std::string::npos) << kept.substr(0, 1500);
}

TEST(Errors, ARemoteExceptionIsThrownHereWithItsIndexTypeAndMessage) {
  std::vector<int> in(200);
  std::iota(in.begin(), in.end(), 0);
  auto job = burla::submit(
      [](int x) {
        if (x == 137) {
          std::printf("about to fail on %d\n", x);
          throw std::invalid_argument("bad input " + std::to_string(x));
        }
        return x;
      },
      in, quiet);
  try {
    job.results();
    FAIL() << "no exception";
  } catch (const burla::remote_error& e) {
    EXPECT_EQ(e.index(), 137u);
    EXPECT_EQ(e.type_name(), "std::invalid_argument");
    EXPECT_EQ(e.remote_what(), "bad input 137");
    EXPECT_FALSE(e.host().empty());
    EXPECT_GE(e.rank(), 1);
    EXPECT_NE(e.output_tail().find("about to fail on 137"), std::string::npos);
    const std::string what = e.what();
    EXPECT_NE(what.find("input 137"), std::string::npos) << what;
    EXPECT_NE(what.find("bad input 137"), std::string::npos) << what;
  }
  // The results that were computed are in the file, each correct and marked ok.
  const std::string file = job.directory() + "/results.h5";
  EXPECT_NE(test::h5dump(file, "-a /state").find("\"failed\""), std::string::npos);
  const std::string status = test::h5dump(file, "-d /status");
  EXPECT_NE(status.find("failed"), std::string::npos);
  EXPECT_NE(test::h5dump(file, "-d /error_message").find("\"bad input 137\""), std::string::npos);
}

TEST(Errors, ADamagedResultInTheJournalNamesTheFileAndTheInput) {
  // A call fails, so the journal keeps its results (a completed job's journal drops them).
  auto job = burla::submit(
      [](int x) {
        if (x == 3) throw std::runtime_error("keeps the journal whole");
        return std::vector<double>(3, x);
      },
      std::vector<int>{1, 2, 3}, {.on_error = burla::on_error::collect, .spinner = false});
  ASSERT_EQ(job.outcomes().size(), 3u);
  // The first result's length (24 bytes: three doubles), just before its three 1.0s, becomes 2^40.
  const std::string path = job.directory() + "/journal";
  std::stringstream whole;
  whole << std::ifstream(path, std::ios::binary).rdbuf();
  std::string bytes = whole.str();
  const double one[3] = {1, 1, 1};
  const auto values = bytes.find(std::string(reinterpret_cast<const char*>(one), sizeof one));
  ASSERT_NE(values, std::string::npos);
  const std::uint64_t length = sizeof one, huge = std::uint64_t{1} << 40;
  const auto count = bytes.rfind(std::string(reinterpret_cast<const char*>(&length), 8), values);
  ASSERT_TRUE(count != std::string::npos && values - count == 8);
  bytes.replace(count, 8, reinterpret_cast<const char*>(&huge), 8);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  try {
    burla::attach<std::vector<double>>(job.id(), {.spinner = false}).results();
    ADD_FAILURE() << "no error for a damaged result";
  } catch (const burla::error& e) {
    const std::string what = e.what();
    // The record's checksum catches it before its results are decoded, and says where it is.
    for (const std::string& word : {path, std::string("damaged"), std::string("at byte")})
      EXPECT_NE(what.find(word), std::string::npos) << what;
  }
}

TEST(Errors, AnExceptionNotDerivedFromStdExceptionIsReportedByType) {
  try {
    burla::remote_parallel_map([](int x) -> int { throw x * 2; }, std::vector<int>{21}, quiet);
    FAIL() << "no exception";
  } catch (const burla::remote_error& e) {
    EXPECT_EQ(e.index(), 0u);
    EXPECT_EQ(e.type_name(), "int");
  }
}

TEST(Errors, ACrashIsThatCallsErrorNamingTheInputAndWhatItPrinted) {
  std::vector<int> in(8);
  std::iota(in.begin(), in.end(), 0);
  try {
    burla::remote_parallel_map(
        [](int x) {
          if (x == 5) {
            std::printf("about to abort\n");
            std::abort();
          }
          return x;
        },
        in, {.max_parallelism = 1, .spinner = false});
    FAIL() << "no exception";
  } catch (const burla::call_crashed& e) {
    EXPECT_EQ(e.index(), 5u) << e.what();
    EXPECT_EQ(e.status(), burla::call_status::crashed);
    EXPECT_NE(std::string(e.what()).find("SIGABRT"), std::string::npos) << e.what();
    EXPECT_NE(e.output_tail().find("about to abort"), std::string::npos) << e.what();
  }
}

TEST(Errors, NestedCallsInsideAJobAreRefused) {
  try {
    burla::remote_parallel_map(
        [](int x) { return burla::remote_parallel_map(square, std::vector<int>{x}, {.spinner = false})[0]; },
        std::vector<int>{1}, quiet);
    FAIL() << "no exception";
  } catch (const burla::remote_error& e) {
    EXPECT_NE(e.remote_what().find("nested"), std::string::npos) << e.what();
  }
}

TEST(Errors, AJobRunningAnotherBuildFailsBeforeRunningAnything) {
  ::setenv("BURLA_EXECUTABLE", BURLA_TEST_OTHER_PROGRAM, 1);
  try {
    burla::remote_parallel_map(square, std::vector<int>{1, 2}, quiet);
    ::unsetenv("BURLA_EXECUTABLE");
    FAIL() << "no exception";
  } catch (const burla::build_mismatch& e) {
    ::unsetenv("BURLA_EXECUTABLE");
    const std::string what = e.what();
    EXPECT_NE(what.find("build-id"), std::string::npos) << what;
    EXPECT_NE(what.find("submit the job again"), std::string::npos) << what;
  }
}

TEST(Stream, YieldsResultsBeforeTheJobEnds) {
  // Input 0 blocks until the caller has received another result through stream(): if stream()
  // only yielded at the end, input 0 would give up and fail the test.
  const std::string go = test::jobs_dir() + "/go-" + std::to_string(::getpid());
  std::vector<std::string> in{go};
  for (int i = 1; i < 50; ++i) in.push_back("");
  auto job = burla::submit(
      [](const std::string& go_file) {
        if (go_file.empty()) return 1;
        for (int waited = 0; waited < 60'000; waited += 10) {
          if (::access(go_file.c_str(), F_OK) == 0) return 0;
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        throw std::runtime_error("stream() did not yield before the job ended");
      },
      in, {.max_parallelism = 2, .spinner = false});
  std::set<std::size_t> seen;
  for (const auto& [index, value] : job.stream()) {
    if (seen.empty()) {
      EXPECT_NE(index, 0u);
      std::ofstream(go) << "go";
    }
    EXPECT_EQ(value, index == 0 ? 0 : 1);
    seen.insert(index);
  }
  EXPECT_EQ(seen.size(), in.size());
}

TEST(Stream, VoidFunctionsStreamIndices) {
  auto job = burla::submit([](int) {}, std::vector<int>(30, 1), quiet);
  std::set<std::size_t> seen;
  for (std::size_t index : job.stream()) seen.insert(index);
  EXPECT_EQ(seen.size(), 30u);
}

TEST(Jobs, CancelStopsAndKeepsFinishedResults) {
  std::vector<int> in(400, 20);
  auto job = burla::submit(
      [](int ms) {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        return ms;
      },
      in, quiet);
  EXPECT_FALSE(job.id().empty());
  for ([[maybe_unused]] const auto& first : job.stream()) break;  // some results exist
  job.cancel();
  EXPECT_THROW(job.wait(), burla::job_error);
  const std::string file = job.directory() + "/results.h5";
  EXPECT_NE(test::h5dump(file, "-a /state").find("\"cancelled\""), std::string::npos);
  const std::string n_ok = test::h5dump(file, "-a /n_ok");
  EXPECT_EQ(n_ok.find("(0): 0\n"), std::string::npos) << n_ok;    // some finished...
  EXPECT_EQ(n_ok.find("(0): 400\n"), std::string::npos) << n_ok;  // ...not all
}

TEST(Resources, FuncGpuGivesEachWorkerItsOwnDevices) {
  // No GPU is needed to check the assignment: the caller's visible devices are split between
  // workers through CUDA_VISIBLE_DEVICES.
  ::setenv("CUDA_VISIBLE_DEVICES", "3,5", 1);
  const auto visible = [](int) { return std::string(std::getenv("CUDA_VISIBLE_DEVICES")); };
  const std::vector<int> in(40, 0);
  const auto one_each = burla::remote_parallel_map(visible, in, {.func_gpu = 1, .spinner = false});
  const auto two = burla::remote_parallel_map(visible, in, {.func_gpu = 2, .spinner = false});
  EXPECT_THROW(burla::remote_parallel_map(visible, in, {.func_gpu = 3}), burla::invalid_option);
  ::unsetenv("CUDA_VISIBLE_DEVICES");
  const std::set<std::string> seen(one_each.begin(), one_each.end());
  EXPECT_TRUE(seen.count("3") || seen.count("5"));
  for (const auto& v : seen) EXPECT_TRUE(v == "3" || v == "5") << v;
  for (const auto& v : two) EXPECT_EQ(v, "3,5");
}

TEST(Resources, AResumedJobKeepsItsDevices) {
  ::setenv("CUDA_VISIBLE_DEVICES", "3,5", 1);
  const std::string marker = test::jobs_dir() + "/gpu-resume-marker-" + std::to_string(::getpid());
  ::unlink(marker.c_str());
  struct fails_once_then_says_its_devices {
    char path[256];
    std::string operator()(int x) const {
      if (x == 1 && ::access(path, F_OK) != 0) {
        std::ofstream(path) << "tried";
        throw std::runtime_error("first attempt: leaves work for resume");
      }
      const char* v = std::getenv("CUDA_VISIBLE_DEVICES");
      return v ? v : "(unset)";
    }
  } f{};
  std::snprintf(f.path, sizeof f.path, "%s", marker.c_str());
  auto job = burla::submit(f, std::vector<int>{0, 1, 2, 3},
                           {.func_gpu = 1, .on_error = burla::on_error::collect, .spinner = false});
  ASSERT_EQ(job.outcomes()[1].status, burla::call_status::failed);
  const auto resumed =
      burla::resume<std::string>(job.id(), {.spinner = false}, burla::rerun::missing_and_failed).results();
  ::unsetenv("CUDA_VISIBLE_DEVICES");
  ::unlink(marker.c_str());
  ASSERT_EQ(resumed.size(), 4u);
  for (const auto& v : resumed) EXPECT_TRUE(v == "3" || v == "5") << v;
}

TEST(Errors, StoppingWithLargeQueuedBatchesDoesNotHang) {
  // Trivial calls travel in batches far above MPI's eager limit; the failure leaves some of
  // them queued, unreceived, when the job stops.
  std::vector<double> in(400'000);
  std::iota(in.begin(), in.end(), 0.0);
  try {
    burla::remote_parallel_map(
        [](double x) {
          if (x == 150'000) throw std::runtime_error("stop here");
          return x;
        },
        in, quiet);
    FAIL() << "no exception";
  } catch (const burla::remote_error& e) {
    EXPECT_EQ(e.index(), 150'000u);
  }
  // The job's processes exited by themselves: the caller did not have to stop them.
  const std::string dirs =
      test::shell("grep -l 'caller terminated mpirun' " + test::jobs_dir() + "/*/job.log");
  EXPECT_EQ(dirs, "") << "a job did not exit after it ended";
}

namespace {

// Reading it fails for v == 7, as a damaged or invalid input would. Its string keeps it an
// archive: a record (a struct of numbers only) travels as its bytes, without serialize.
struct picky {
  int v = 0;
  std::string unused;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& v;
    if (A::is_loading::value && v == 7) throw std::invalid_argument("v must not be 7");
  }
};

std::vector<pid_t> zombie_children() {
  std::vector<pid_t> out;
  for (const auto& line : std::vector<std::string>{test::shell("ps -o pid=,ppid=,stat= -e")}) {
    std::istringstream in(line);
    long pid, ppid;
    std::string stat;
    while (in >> pid >> ppid >> stat)
      if (ppid == ::getpid() && stat[0] == 'Z') out.push_back(static_cast<pid_t>(pid));
  }
  return out;
}

}  // namespace

TEST(Stream, StreamingATemporaryJobIsSafe) {
  std::set<std::size_t> seen;
  for (const auto& [index, value] : burla::submit(square, std::vector<int>{1, 2, 3, 4}, quiet).stream()) {
    EXPECT_EQ(value, square(static_cast<int>(index) + 1));
    seen.insert(index);
  }
  EXPECT_EQ(seen.size(), 4u);
}

TEST(Errors, AnInputThatCannotBeReadFailsThatCallWithItsIndex) {
  std::vector<picky> in(20);
  for (int i = 0; i < 20; ++i) in[i].v = i;
  try {
    burla::remote_parallel_map([](const picky& p) { return p.v; }, in, quiet);
    FAIL() << "no exception";
  } catch (const burla::remote_error& e) {
    EXPECT_EQ(e.index(), 7u);
    EXPECT_EQ(e.type_name(), "std::invalid_argument");
    EXPECT_EQ(e.remote_what(), "v must not be 7");
  }
}

TEST(Files, EveryRowHasItsInputEvenWhenTheJobStoppedEarly) {
  std::vector<int> in(5000);
  std::iota(in.begin(), in.end(), 1);
  auto job = burla::submit(
      [](int x) {
        if (x == 10) throw std::runtime_error("early stop");
        return x;
      },
      in, quiet);
  EXPECT_THROW(job.wait(), burla::remote_error);
  const std::string dump = test::h5dump(job.directory() + "/results.h5", "-d /input -s 4998 -c 2");
  EXPECT_NE(dump.find("4999, 5000"), std::string::npos) << dump;
}

TEST(Output, AChildThatTruncatesItsStdoutBreaksNothing) {
  // `> /dev/stdout` reopens the worker's capture file with O_TRUNC.
  std::vector<int> in{0, 1, 2, 3};
  test::captured_stdout output3;
  const auto out = burla::remote_parallel_map(
      [](int x) {
        if (x % 2 == 0)
          std::printf("%s\n", std::string(5000, 'a' + static_cast<char>(x)).c_str());
        else if (std::system("echo via-dev-stdout > /dev/stdout") != 0)
          throw std::runtime_error("system failed");
        return x;
      },
      in, {.max_parallelism = 1, .spinner = false});
  const std::string printed = output3.take();
  EXPECT_EQ(out, in);
  EXPECT_NE(printed.find("via-dev-stdout"), std::string::npos) << printed.substr(0, 300);
  EXPECT_NE(printed.find(std::string(5000, 'c')), std::string::npos);
}

TEST(Jobs, WorksWhenTheCallerIgnoresSigchld) {
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGCHLD, &ignore, &old);
  std::vector<long long> out;
  EXPECT_NO_THROW(out = burla::remote_parallel_map(square, std::vector<int>{5, 6}, quiet));
  ::sigaction(SIGCHLD, &old, nullptr);
  EXPECT_EQ(out, (std::vector<long long>{25, 36}));
}

TEST(Jobs, DroppedJobsRunOnAndLeaveNoZombies) {
  std::string dir;
  {
    auto dropped = burla::submit(square, std::vector<int>{1, 2, 3}, quiet);
    dir = dropped.directory();
  }
  // It runs to the end without its job object; its mpirun, once it exits, waits to be reaped...
  for (int i = 0; i < 600 && zombie_children().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_NE(test::h5dump(dir + "/results.h5", "-a /state").find("\"completed\""), std::string::npos);
  ASSERT_FALSE(zombie_children().empty()) << "the dropped job's mpirun never exited";
  // ...and the next job reaps it.
  burla::remote_parallel_map(square, std::vector<int>{1}, quiet);
  EXPECT_TRUE(zombie_children().empty());
}

TEST(Errors, AFunctionInALibraryOpenedWithDlopenIsABuildMismatchThatEndsPromptly) {
  void* plugin = ::dlopen(BURLA_TEST_PLUGIN, RTLD_NOW);
  ASSERT_NE(plugin, nullptr) << ::dlerror();
  auto run = reinterpret_cast<std::size_t (*)(std::size_t)>(::dlsym(plugin, "plugin_run"));
  ASSERT_NE(run, nullptr);
  try {
    run(200'000);
    FAIL() << "no exception";
  } catch (const burla::build_mismatch& e) {
    EXPECT_NE(std::string(e.what()).find("dlopen"), std::string::npos) << e.what();
  }
  const std::string stuck =
      test::shell("grep -l 'caller terminated mpirun' " + test::jobs_dir() + "/*/job.log");
  EXPECT_EQ(stuck, "") << "a job did not exit after it ended";
}

TEST(Errors, ASigbusRaisedByACallIsNotSwallowed) {
  try {
    burla::remote_parallel_map(
        [](int x) {
          if (x == 2) ::raise(SIGBUS);
          return x;
        },
        std::vector<int>{0, 1, 2, 3}, {.max_parallelism = 1, .spinner = false});
    FAIL() << "the SIGBUS was swallowed";
  } catch (const burla::call_crashed& e) {
    EXPECT_EQ(e.index(), 2u);
    EXPECT_NE(std::string(e.what()).find("signal 7"), std::string::npos) << e.what();
  }
}

TEST(Errors, CrashesAfterTheFirstAreReportedByBurlaAloneWithoutOpenMpisBacktrace) {
  // Only the first call process is forked before MPI_Init; the ones replacing crashed calls
  // come from the running rank, where Open MPI's SIGSEGV handler printed a stack dump.
  testing::internal::CaptureStderr();
  auto job = burla::submit(
      [](int x) {
        if (x % 2 == 0) ::raise(SIGSEGV);
        return x;
      },
      std::vector<int>{0, 1, 2, 3, 4, 5},
      {.max_parallelism = 1, .on_error = burla::on_error::collect, .spinner = false});
  const auto outcomes = job.outcomes();
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_EQ(outcomes.size(), 6u);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (i % 2 == 1) {
      EXPECT_TRUE(outcomes[i].ok()) << i;
      continue;
    }
    ASSERT_TRUE(outcomes[i].error) << i;
    EXPECT_EQ(outcomes[i].status, burla::call_status::crashed) << i;
    EXPECT_EQ(outcomes[i].error->output_tail.find("Process received signal"), std::string::npos)
        << i << ": " << outcomes[i].error->output_tail;
  }
  EXPECT_EQ(err.find("Process received signal"), std::string::npos) << err;
}

TEST(Output, AnAttachChoosesWhetherItReplaysWhatCallsPrintedBefore) {
  // Input 0 ends at once; the others wait for a file the test creates once it has attached, so
  // which output came before the attach is certain.
  const std::string go = test::jobs_dir() + "/attach-go-" + std::to_string(::getpid());
  ::unlink(go.c_str());
  ::setenv("BURLA_TEST_GO", go.c_str(), 1);
  auto job = burla::submit(
      [](int x) {
        if (x > 0)
          while (::access(std::getenv("BURLA_TEST_GO"), F_OK) != 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        std::printf("printed by %d\n", x);
        return x;
      },
      std::vector<int>{0, 1, 2, 3}, {.max_parallelism = 1, .spinner = false});
  std::string first_out;
  {
    test::captured_stdout output;
    for ([[maybe_unused]] const auto& first : job.stream()) break;  // input 0 is in the journal
    first_out = output.take();
  }
  EXPECT_NE(first_out.find("printed by 0\n"), std::string::npos) << first_out;
  auto late = burla::attach<int>(job.id(), quiet, burla::past_output::skip);
  std::ofstream(go).put('\n');
  std::string skipped;
  {
    test::captured_stdout output;
    EXPECT_EQ(late.results(), (std::vector<int>{0, 1, 2, 3}));
    skipped = output.take();
  }
  EXPECT_EQ(skipped.find("printed by 0"), std::string::npos) << skipped;
  for (int x : {1, 2, 3})
    EXPECT_NE(skipped.find("printed by " + std::to_string(x)), std::string::npos) << skipped;
  test::captured_stdout output;
  EXPECT_EQ(burla::attach<int>(job.id(), quiet).results(), (std::vector<int>{0, 1, 2, 3}));
  const std::string replayed = output.take();
  for (int x : {0, 1, 2, 3})
    EXPECT_NE(replayed.find("printed by " + std::to_string(x)), std::string::npos) << replayed;
  ::unlink(go.c_str());
}

TEST(Output, AppendsAndRewritesOfStdoutByChildrenGoToTheirCall) {
  auto job = burla::submit(
      [](int x) {
        if (x == 1 && std::system("echo appended-by-1 >> /dev/stdout") != 0)
          throw std::runtime_error("system");
        if (x == 3 && std::system("echo rewritten-by-3 > /dev/stdout") != 0)
          throw std::runtime_error("system");
        std::printf("from %d\n", x);
        return x;
      },
      std::vector<int>{0, 1, 2, 3, 4}, {.max_parallelism = 1, .spinner = false});
  test::captured_stdout output4;
  job.wait();
  const std::string printed = output4.take();
  EXPECT_NE(printed.find("appended-by-1"), std::string::npos) << printed;
  EXPECT_NE(printed.find("rewritten-by-3"), std::string::npos) << printed;
  const std::string file = job.directory() + "/results.h5";
  const std::string row3 = test::h5dump(file, "-d /stdout -s 3 -c 1");
  const std::string row4 = test::h5dump(file, "-d /stdout -s 4 -c 1");
  EXPECT_NE(row3.find("rewritten-by-3"), std::string::npos) << row3;
  EXPECT_NE(row3.find("from 3"), std::string::npos) << row3;
  EXPECT_EQ(row4.find("rewritten"), std::string::npos) << row4;
  EXPECT_NE(test::h5dump(file, "-d /stdout -s 1 -c 1").find("appended-by-1"), std::string::npos);
}
