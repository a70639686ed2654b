// State a function uses: function objects whose members travel with them, and the shared
// argument, sent to each worker once rather than with every call.
#undef NDEBUG  // a debug build: submit warns about globals changed after burla::init
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <burla/burla.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "support.hpp"

namespace {

const burla::options quiet{.spinner = false};

/// A value chosen at run time, as a parsed argument would be: the job cannot have it unless it
/// travels.
double runtime_scale() {
  return 2.5 + static_cast<double>(::getpid() % 7);
}

struct scaler {
  double scale = 1;
  std::string unit;  // not trivially copyable: only its serialize member can carry it
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& scale& unit;
  }
  std::string operator()(double x) const { return std::to_string(x * scale) + " " + unit; }
};

/// A large read-only table; says when a worker reads it, so that the test can count the reads.
struct table {
  std::vector<double> rows;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& rows;
    if constexpr (A::is_loading::value) std::printf("table of %zu rows loaded\n", rows.size());
  }
};

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

struct offset_by {
  int offset = 0;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& offset;
  }
  int operator()(const std::vector<int>& shared, int x) const { return shared[x] + offset; }
};

double g_scale = 1;      // set by a test after burla::init, as a parsed argument would be
double g_untouched = 3;  // never changed

}  // namespace

// External linkage, and exported (the test program links with -rdynamic): still the program's own.
extern double g_exported_offset;
double g_exported_offset = 0;

namespace {

double scaled(double x) {
  return x * g_scale * g_untouched + g_exported_offset;
}

}  // namespace

TEST(State, ADebugBuildWarnsAboutAGlobalChangedAfterInitByName) {
  g_scale = runtime_scale();
  g_exported_offset = 0.5;
  testing::internal::CaptureStderr();
  const auto out = burla::remote_parallel_map(scaled, std::vector<double>{1, 2}, quiet);
  (void)burla::remote_parallel_map(scaled, std::vector<double>{1}, quiet);
  const std::string err = testing::internal::GetCapturedStderr();
  // The job's processes still have g_scale == 1: that is what the warning is about.
  EXPECT_EQ(out, (std::vector<double>{3, 6}));
  EXPECT_NE(err.find("the global variable g_exported_offset changed"), std::string::npos) << err;
  const std::string warning = "the global variable (anonymous namespace)::g_scale changed after burla::init";
  EXPECT_NE(err.find(warning), std::string::npos) << err;
  EXPECT_EQ(err.find(warning), err.rfind(warning)) << "warned more than once: " << err;
  EXPECT_EQ(err.find("g_untouched"), std::string::npos) << err;
  g_scale = 1;
  g_exported_offset = 0;
}

TEST(State, AFunctionObjectsMembersTravelWithIt) {
  const scaler f{runtime_scale(), "m"};
  const std::vector<std::string> out = burla::remote_parallel_map(f, std::vector<double>{1, 2, 4}, quiet);
  ASSERT_EQ(out.size(), 3u);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], f(std::vector<double>{1, 2, 4}[i])) << i;
}

TEST(State, ASharedArgumentReachesEveryCallAndIsReadOncePerWorker) {
  table t;
  t.rows.resize(1 << 20);  // 8 MB
  for (std::size_t i = 0; i < t.rows.size(); ++i) t.rows[i] = runtime_scale() * static_cast<double>(i);
  std::vector<int> in(400);
  for (int i = 0; i < 400; ++i) in[i] = i * 2000;
  test::captured_stdout output;
  auto job =
      burla::submit([](const table& shared, int i) { return shared.rows[static_cast<std::size_t>(i)]; }, in,
                    t, {.max_parallelism = 2, .spinner = false});
  // Written once, beside the inputs, not into them (inputs.bin goes once the caller has seen the
  // job complete: its typed inputs are in results.h5 then).
  EXPECT_EQ(file_size(job.directory() + "/inputs.bin"), in.size() * sizeof(int));
  const std::vector<double> out = job.results();
  const std::string printed = output.take();
  ASSERT_EQ(out.size(), in.size());
  for (std::size_t k = 0; k < in.size(); ++k) EXPECT_EQ(out[k], t.rows[static_cast<std::size_t>(in[k])]) << k;
  // Read once by each of the (at most 2) call processes, not once per call or per batch.
  const std::size_t reads = count(printed, "table of 1048576 rows loaded");
  EXPECT_GE(reads, 1u) << printed.substr(0, 2000);
  EXPECT_LE(reads, 2u) << printed.substr(0, 2000);
  EXPECT_GT(file_size(job.directory() + "/state.bin"), 8u << 20);
}

TEST(State, AFunctionObjectCanTakeASharedArgumentToo) {
  const int k = static_cast<int>(runtime_scale() * 10);
  const std::vector<int> shared{k, 2 * k, 3 * k};
  const auto out = burla::remote_parallel_map(offset_by{k}, {0, 1, 2}, shared, quiet);
  EXPECT_EQ(out, (std::vector<int>{2 * k, 3 * k, 4 * k}));
}

TEST(State, AResumedJobReadsItsSharedArgumentAgainAndADamagedOneIsNamed) {
  const std::vector<std::string> words{"alpha", "beta", "gamma", "delta", "epsilon", "zeta"};
  const std::vector<int> in{0, 1, 2, 3, 4, 5};
  ::setenv("BURLA_TEST_FAIL_AT", "3", 1);  // the first run's calls fail at input 3; the resumed run's do not
  auto first = burla::submit(
      [](const std::vector<std::string>& w, int i) {
        if (const char* at = std::getenv("BURLA_TEST_FAIL_AT"); at && std::atoi(at) == i)
          throw std::runtime_error("failing as told");
        return w[static_cast<std::size_t>(i)];
      },
      in, words, {.max_parallelism = 1, .spinner = false});
  EXPECT_THROW(first.wait(), burla::remote_error);
  ::unsetenv("BURLA_TEST_FAIL_AT");
  const std::string state = first.directory() + "/state.bin";
  std::string saved;
  {
    std::ifstream f(state, std::ios::binary);
    saved.assign(std::istreambuf_iterator<char>(f), {});
  }
  ASSERT_FALSE(saved.empty());
  {
    std::string damaged = saved;
    damaged[damaged.size() / 2] ^= 0x5a;
    std::ofstream(state, std::ios::binary | std::ios::trunc) << damaged;
  }
  try {
    burla::resume<std::string>(first.id(), quiet, burla::rerun::missing_and_failed).wait();
    FAIL() << "a damaged state.bin was used";
  } catch (const burla::error& e) {
    EXPECT_NE(std::string(e.what()).find("state.bin"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("damaged"), std::string::npos) << e.what();
  }
  std::ofstream(state, std::ios::binary | std::ios::trunc) << saved;
  const auto out = burla::resume<std::string>(first.id(), quiet, burla::rerun::missing_and_failed).results();
  EXPECT_EQ(out, words);
}

TEST(State, AStringResultIsNamedStdString) {
  auto job = burla::submit([](int x) { return std::to_string(x); }, {1}, quiet);
  job.wait();
  const std::string ini = test::shell("grep '^result_type' '" + job.directory() + "/job.ini'");
  EXPECT_EQ(ini, "result_type = std::string\n");
}
