// A completed job keeps each result once: results.h5 holds them, and the journal, compacted by
// the caller once it has seen the end, keeps statuses and output. Everything that reads a job
// afterwards (attach, stream, resume, `burla results`) gets the same results as before.
#include <gtest/gtest.h>

#include <boost/serialization/string.hpp>
#include <burla/burla.hpp>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

namespace {

const burla::options quiet{.spinner = false};

std::uintmax_t bytes_of(const std::string& path) {
  return std::filesystem::file_size(path);
}

std::vector<double> ramp(int n) {
  std::printf("ramp %d\n", n);
  std::vector<double> v(static_cast<std::size_t>(n) * 1000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = n + static_cast<double>(i) * 0.5;
  return v;
}

struct labelled {
  std::string label;
  int n = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& label& n;
  }
  bool operator==(const labelled&) const = default;
};

labelled label(int n) {
  return {"input " + std::to_string(n), n * n};
}

/// n * 100 kB telling the input apart; input 4 fails while the file fail-input-4 is in the jobs
/// directory.
std::vector<char> block(int n) {
  if (n == 4 && std::filesystem::exists(test::jobs_dir() + "/fail-input-4"))
    throw std::runtime_error("input 4 fails this time");
  std::printf("block %d\n", n);
  return std::vector<char>(static_cast<std::size_t>(n) * 100000, static_cast<char>('a' + n));
}

}  // namespace

TEST(Journal, ACompletedJobKeepsEachResultOnceAndEveryReaderStillGetsIt) {
  std::vector<int> in;
  for (int i = 1; i <= 20; ++i) in.push_back(i);
  std::vector<std::vector<double>> expected;
  for (int i : in) expected.push_back(ramp(i));
  auto job = burla::submit(ramp, in, quiet);
  EXPECT_EQ(job.results(), expected);
  const std::string dir = job.directory();
  std::uintmax_t result_bytes = 0;
  for (const auto& r : expected) result_bytes += r.size() * sizeof(double);
  // 1.68 MB of results: in results.h5, not in the journal too.
  EXPECT_GE(bytes_of(dir + "/results.h5"), result_bytes);
  EXPECT_LT(bytes_of(dir + "/journal"), result_bytes / 20) << "the journal still holds the results";
  // The typed inputs are in results.h5's /input: inputs.bin went too.
  EXPECT_FALSE(std::filesystem::exists(dir + "/inputs.bin"));
  EXPECT_NE(test::h5dump(dir + "/results.h5", "-y -d /input").find("20"), std::string::npos);

  // Each reader of the finished job: values from results.h5, output from the journal.
  std::string printed;
  {
    test::captured_stdout out;
    EXPECT_EQ(burla::attach<std::vector<double>>(job.id(), quiet).results(), expected);
    printed = out.take();
  }
  for (int i : in) EXPECT_NE(printed.find("ramp " + std::to_string(i) + "\n"), std::string::npos) << printed;
  std::size_t streamed = 0;
  for (const auto& [i, r] : burla::attach<std::vector<double>>(job.id(), quiet).stream()) {
    EXPECT_EQ(r, expected[i]);
    ++streamed;
  }
  EXPECT_EQ(streamed, in.size());
  EXPECT_EQ(burla::resume<std::vector<double>>(job.id(), quiet).results(), expected);
  // The CLI prints the values results.h5 holds.
  const std::string table =
      test::shell(std::string(BURLA_TEST_CLI) + " results " + job.id() + " --format csv");
  EXPECT_NE(table.find("\n19,ok,\"[20, 20.5, 21, 21.5,"), std::string::npos) << table.substr(0, 300);
}

TEST(Journal, StringsAndArchivedResultsComeBackExactFromACompactedJournal) {
  const std::vector<int> in{1, 2, 3, 4, 5};
  auto strings = burla::submit(
      [](int x) { return std::string(static_cast<std::size_t>(x) * 100, static_cast<char>('a' + x)); }, in,
      quiet);
  const auto s = strings.results();
  ASSERT_EQ(s.size(), 5u);
  EXPECT_LT(bytes_of(strings.directory() + "/journal"), 1500u);
  EXPECT_EQ(burla::attach<std::string>(strings.id(), quiet).results(), s);

  auto archived = burla::submit(label, in, quiet);
  const auto a = archived.results();
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[2], label(3));
  EXPECT_EQ(burla::attach<labelled>(archived.id(), quiet).results(), a);
}

TEST(Journal, AStringWithANulByteKeepsTheJournalWhole) {
  // results.h5's strings end at a NUL: the journal is then the only exact copy, and stays.
  auto job = burla::submit([](int x) { return std::string("a\0b", 3) + std::to_string(x); },
                           std::vector<int>{1, 2}, quiet);
  const auto first = job.results();
  ASSERT_EQ(first[0], std::string("a\0b1", 4));
  EXPECT_EQ(burla::attach<std::string>(job.id(), quiet).results(), first);
}

TEST(Journal, AJobThatDidNotCompleteKeepsItsJournalWhole) {
  auto job = burla::submit(
      [](int x) {
        if (x == 2) throw std::runtime_error("so that resume has work to do");
        return ramp(x);
      },
      std::vector<int>{1, 2, 3}, {.on_error = burla::on_error::collect, .spinner = false});
  ASSERT_EQ(job.outcomes()[1].status, burla::call_status::failed);
  // Resume rebuilds results.h5 from the journal, which must still hold these small results, and
  // runs input 2 from inputs.bin.
  EXPECT_GT(bytes_of(job.directory() + "/journal"), (1000 + 3000) * sizeof(double));
  EXPECT_TRUE(std::filesystem::exists(job.directory() + "/inputs.bin"));
}

TEST(Journal, ACompactedJournalWhoseResultsFileIsGoneIsAClearError) {
  auto job = burla::submit(ramp, std::vector<int>{1, 2}, quiet);
  ASSERT_EQ(job.results().size(), 2u);
  const std::string h5 = job.directory() + "/results.h5";
  std::filesystem::rename(h5, h5 + ".moved");
  try {
    burla::attach<std::vector<double>>(job.id(), quiet).results();
    ADD_FAILURE() << "no error without results.h5";
  } catch (const burla::error& e) {
    EXPECT_NE(std::string(e.what()).find(h5), std::string::npos) << e.what();
  }
  std::filesystem::rename(h5 + ".moved", h5);
  EXPECT_EQ(burla::attach<std::vector<double>>(job.id(), quiet).results().size(), 2u);
}

TEST(Journal, BoolResultsComeBackWhileRunningAndFromACompactedJournal) {
  const std::vector<int> in{1, 2, 3, 4, 5};
  auto job = burla::submit([](int x) { return x % 2 == 1; }, in, quiet);
  std::vector<bool> streamed(in.size());
  for (const auto& [i, odd] : job.stream()) streamed[i] = odd;
  const std::vector<bool> expected{true, false, true, false, true};
  EXPECT_EQ(streamed, expected);
  EXPECT_EQ(burla::attach<bool>(job.id(), quiet).results(), expected);
  EXPECT_EQ(burla::remote_parallel_map([](int x) { return x > 2; }, in, quiet),
            (std::vector<bool>{false, false, true, true, true}));
}

TEST(Journal, LargeResultsAreWrittenOnceAndEveryRunAndReaderFindsThemThere) {
  const std::string flag = test::jobs_dir() + "/fail-input-4";
  std::ofstream(flag) << "input 4 fails while this is here\n";
  std::vector<int> in;
  std::vector<std::vector<char>> expected;
  std::uintmax_t result_bytes = 0;
  for (int i = 1; i <= 12; ++i) {
    in.push_back(i);
    expected.push_back(std::vector<char>(static_cast<std::size_t>(i) * 100000, static_cast<char>('a' + i)));
    result_bytes += expected.back().size();
  }
  auto job = burla::submit(block, in, {.on_error = burla::on_error::collect, .spinner = false});
  const auto first = job.outcomes();
  ASSERT_EQ(first[3].status, burla::call_status::failed);
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (i != 3) {
      EXPECT_EQ(first[i].value, expected[i]) << "input " << in[i];
    }
  }
  // A failed job keeps its journal, but with large results that is only where they are in results.h5.
  const std::string dir = job.directory();
  EXPECT_LT(bytes_of(dir + "/journal"), result_bytes / 20) << "the journal holds the large results";
  EXPECT_TRUE(std::filesystem::exists(dir + "/.results.run1.h5"));
  std::string printed;
  {
    test::captured_stdout out;
    const auto again = burla::attach<std::vector<char>>(job.id(), quiet).outcomes();
    printed = out.take();
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (i != 3) {
        EXPECT_EQ(again[i].value, expected[i]) << "attached, input " << in[i];
      }
    }
  }
  EXPECT_NE(printed.find("block 12\n"), std::string::npos) << printed;

  // The resumed run rebuilds results.h5 from run 1's file (kept under its own name once results.h5
  // is replaced) and runs input 4; every result then comes back, and the completed job keeps each once.
  std::filesystem::remove(flag);
  auto resumed = burla::resume<std::vector<char>>(job.id(), quiet, burla::rerun::missing_and_failed);
  EXPECT_EQ(resumed.results(), expected);
  EXPECT_FALSE(std::filesystem::exists(dir + "/.results.run1.h5"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/.results.run2.h5"));
  EXPECT_LT(bytes_of(dir + "/journal"), result_bytes / 20);
  EXPECT_EQ(burla::attach<std::vector<char>>(job.id(), quiet).results(), expected);
  // results.h5 alone holds them: h5dump, as users read it, sees input 12's bytes.
  EXPECT_NE(test::h5dump(dir + "/results.h5", "-d /result -s 11 -c 1").find("109, 109, 109"),
            std::string::npos);
}

// Fixed-size results of batches of 64 kB or more are written once too: the journal has a place
// for each chunk of /result a batch's rows are in, and batches cross chunks (131072 doubles).
TEST(Journal, FixedSizeResultsOfLargeBatchesComeBackExactFromTheirPlacesAcrossChunks) {
  const std::string flag = test::jobs_dir() + "/fail-input-7";
  std::ofstream(flag) << "input 7 fails while this is here\n";
  std::vector<int> in(300000);
  for (int i = 0; i < 300000; ++i) in[i] = i;
  auto f = [](int x) {
    if (x == 7 && std::filesystem::exists(test::jobs_dir() + "/fail-input-7"))
      throw std::runtime_error("7 fails");
    return 1.5 * x + 0.25;
  };
  // One worker: the last batches shrink (guided) below 64 kB, journaled whole, by the measured
  // call time; on one worker at most the last 6 x 8192 calls (0.45 MB), on two twice that.
  auto job =
      burla::submit(f, in, {.max_parallelism = 1, .on_error = burla::on_error::collect, .spinner = false});
  const auto first = job.outcomes();
  ASSERT_EQ(first.size(), in.size());
  EXPECT_EQ(first[7].status, burla::call_status::failed);
  for (std::size_t i = 0; i < in.size(); ++i)
    if (i != 7 && first[i].value != 1.5 * in[i] + 0.25) {
      ADD_FAILURE() << "input " << i;
      break;
    }
  // A failed job keeps its journal: statuses (a byte a call) and places, not the 8-byte results
  // (2.7 MB with them, 0.75 MB at most without).
  const std::string dir = job.directory();
  EXPECT_LT(bytes_of(dir + "/journal"), in.size() * sizeof(double) / 2) << "the journal holds the results";
  const auto again = burla::attach<double>(job.id(), quiet).outcomes();
  for (std::size_t i = 0; i < in.size(); ++i)
    if (i != 7 && again[i].value != first[i].value) {
      ADD_FAILURE() << "attached, input " << i;
      break;
    }
  const std::string csv = test::shell(std::string(BURLA_TEST_CLI) + " results " + job.id() + " --format csv");
  EXPECT_NE(csv.find("\n262145,ok,393217.75,\n"), std::string::npos) << csv.substr(0, 300);
  // The resumed run rebuilds results.h5 from run 1's places and runs input 7.
  std::filesystem::remove(flag);
  const auto all = burla::resume<double>(job.id(), quiet, burla::rerun::missing_and_failed).results();
  ASSERT_EQ(all.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i)
    if (all[i] != 1.5 * in[i] + 0.25) {
      ADD_FAILURE() << "resumed, input " << i;
      break;
    }
  EXPECT_FALSE(std::filesystem::exists(dir + "/.results.run1.h5"));
}

TEST(Journal, LargeStringsAndArchivesComeBackExactFromTheirPlaces) {
  // 300 kB and more each: a batch is placed. Input 4 fails, so that the journal is not compacted.
  const std::vector<int> in{1, 2, 3, 4};
  const burla::options collect{.on_error = burla::on_error::collect, .spinner = false};
  auto strings = burla::submit(
      [](int x) {
        if (x == 4) throw std::runtime_error("no string for 4");
        return std::string(static_cast<std::size_t>(x) * 300000, static_cast<char>('a' + x));
      },
      in, collect);
  const auto s = strings.outcomes();
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[2].value, std::string(900000, 'd'));
  EXPECT_LT(bytes_of(strings.directory() + "/journal"), 20000u) << "the journal holds the strings";
  const auto s2 = burla::attach<std::string>(strings.id(), quiet).outcomes();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(s2[i].value, s[i].value);
  // The CLI reads them from their places too.
  const std::string csv =
      test::shell(std::string(BURLA_TEST_CLI) + " results " + strings.id() + " --format csv");
  const auto row = csv.find("\n2,ok,");
  ASSERT_NE(row, std::string::npos) << csv.substr(0, 300);
  EXPECT_EQ(csv.substr(row + 6, 900002), std::string(900000, 'd') + ",\n") << csv.substr(row, 40);

  auto archived = burla::submit(
      [](int x) {
        if (x == 4) throw std::runtime_error("no archive for 4");
        return labelled{std::string(static_cast<std::size_t>(x) * 300000, 'z'), x};
      },
      in, collect);
  const auto a = archived.outcomes();
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[1].value->label.size(), 600000u);
  EXPECT_EQ(a[1].value->n, 2);
  EXPECT_LT(bytes_of(archived.directory() + "/journal"), 20000u) << "the journal holds the archives";
  const auto a2 = burla::attach<labelled>(archived.id(), quiet).outcomes();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(a2[i].value, a[i].value);
}
