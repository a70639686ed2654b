// results.h5 as the master writes it, read back with the plain HDF5 C API as a user would.
#include "libburla/core/results_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <burla/detail/job_state.hpp>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "libburla/core/h5.hpp"

namespace proto = burla::core;
namespace h5 = burla::h5;

namespace {

std::string temp_dir() {
  std::string tmpl = "/tmp/burla-unit-XXXXXX";
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

std::vector<std::string> read_strings(hid_t file, const char* name, std::size_t n) {
  h5::handle d = h5::open_dataset(file, name);
  h5::handle t = h5::vlen_string_type();
  std::vector<char*> raw(n);
  h5::read_range(d.get(), t.get(), 0, n, raw.data(), name);
  std::vector<std::string> out;
  for (char* p : raw) out.emplace_back(p ? p : "");
  h5::handle space(H5Dget_space(d.get()), "space");
  H5Dvlen_reclaim(t.get(), space.get(), H5P_DEFAULT, raw.data());
  return out;
}

}  // namespace

TEST(H5, TheFirstFailingCallPrintsNoErrorStackOfItsOwn) {
  // The first HDF5 call of this process (each test runs in its own): HDF5 would print an
  // HDF5-DIAG block to stderr, which fails the test; burla's error carries what went wrong.
  try {
    h5::open_file("/nonexistent/dir/results.h5");
    FAIL() << "a missing file was opened";
  } catch (const burla::error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/results.h5"), std::string::npos) << e.what();
  }
}

TEST(ResultsFile, WritesTypedResultsStatusOutputAndMetadata) {
  const std::string path = temp_dir() + "/results.h5";
  burla::core::job_spec spec;
  spec.id = "job-1";
  spec.n_inputs = 4;
  spec.types.input_kind = burla::detail::value_kind::fixed;
  spec.types.input_size = 4;
  spec.types.input_h5 = "i32";
  spec.types.result_kind = burla::detail::value_kind::fixed;
  spec.types.result_size = 8;
  spec.types.result_h5 = "f64";
  spec.types.result_type = "double";
  {
    burla::core::results_writer w(path, spec, {"host0", "host1"}, 4 * 4);
    w.publish();
    const std::int32_t inputs[2] = {5, 6};
    w.write_inputs(1, 2, {reinterpret_cast<const char*>(inputs), sizeof inputs});
    const double results[2] = {25.0, 0.0};
    std::string bytes;
    proto::build_reply(bytes, {1, 2, 2, 1, 10}, std::string{1, 2},
                       {reinterpret_cast<const char*>(results), sizeof results},
                       {{0, proto::note_kind::out, "printed by input 1\n"},
                        {1, proto::note_kind::error_type, "std::runtime_error"},
                        {1, proto::note_kind::error_what, "boom"}});
    const std::uint8_t attempts[4] = {0, 1, 1, 0};
    w.write(proto::parse_reply(bytes), attempts);
    w.finish({proto::end_state::failed, 1, 1, 2, "input 2 failed"},
             {.work_seconds = 0.5, .master_peak_rss_kb = 1});
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  h5::handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "open");
  EXPECT_EQ(h5::string_attribute(f.get(), "state"), "failed");
  EXPECT_EQ(h5::string_attribute(f.get(), "job_id"), "job-1");
  EXPECT_EQ(h5::string_attribute(f.get(), "result_type"), "double");

  std::uint8_t status[4];
  h5::handle ds = h5::open_dataset(f.get(), "status");
  h5::read_range(ds.get(), H5T_NATIVE_UINT8, 0, 4, status, "status");
  EXPECT_EQ(status[0], 0);  // not run
  EXPECT_EQ(status[1], 1);  // ok
  EXPECT_EQ(status[2], 2);  // failed
  double result[4];
  h5::handle dr = h5::open_dataset(f.get(), "result");
  EXPECT_EQ(H5Tget_class(h5::handle(H5Dget_type(dr.get()), "type").get()), H5T_FLOAT);
  h5::read_range(dr.get(), H5T_NATIVE_DOUBLE, 0, 4, result, "result");
  EXPECT_EQ(result[1], 25.0);
  std::int32_t rank[4], input[4];
  h5::read_range(h5::open_dataset(f.get(), "rank").get(), H5T_NATIVE_INT32, 0, 4, rank, "rank");
  EXPECT_EQ(rank[0], -1);
  EXPECT_EQ(rank[2], 1);
  h5::read_range(h5::open_dataset(f.get(), "input").get(), H5T_NATIVE_INT32, 0, 4, input, "input");
  EXPECT_EQ(input[2], 6);
  EXPECT_EQ(read_strings(f.get(), "stdout", 4)[1], "printed by input 1\n");
  EXPECT_EQ(read_strings(f.get(), "error_type", 4)[2], "std::runtime_error");
  EXPECT_EQ(read_strings(f.get(), "error_message", 4)[2], "boom");
  EXPECT_EQ(read_strings(f.get(), "stdout", 4)[0], "");
}

TEST(ResultsFile, ReplacesAPlantedSymlinkWithoutWritingThroughIt) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/results.h5", target = dir + "/victim";
  { std::ofstream(target) << "precious"; }
  ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0);
  burla::core::job_spec spec;
  spec.n_inputs = 1;
  spec.types.result_kind = burla::detail::value_kind::none;
  spec.types.input_kind = burla::detail::value_kind::serialized;
  {
    burla::core::results_writer w(path, spec, {"h"}, 0);
    w.publish();
  }
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  std::ifstream in(target);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "precious");
}

TEST(ResultsFile, LeavesOutSkippedCallsAndAttemptsThatRunAgain) {
  const std::string path = temp_dir() + "/results.h5";
  burla::core::job_spec spec;
  spec.n_inputs = 3;
  spec.types.input_kind = burla::detail::value_kind::serialized;
  spec.types.result_kind = burla::detail::value_kind::fixed;
  spec.types.result_size = 8;
  spec.types.result_h5 = "f64";
  {
    burla::core::results_writer w(path, spec, {"h0", "h1"}, 0);
    w.publish();
    const double results[3] = {1.0, 2.0, 3.0};
    std::string bytes;
    const std::string status{static_cast<char>(burla::core::status_skipped), 1,
                             static_cast<char>(burla::core::status_retrying)};
    proto::build_reply(bytes, {0, 3, 3, 1, 10}, status,
                       {reinterpret_cast<const char*>(results), sizeof results},
                       {{2, proto::note_kind::error_what, "first attempt"}});
    const std::uint8_t attempts[3] = {0, 1, 1};
    w.write(proto::parse_reply(bytes), attempts);
    w.finish({proto::end_state::completed, 1, 0, 2, ""}, {});
  }
  h5::handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "open");
  std::uint8_t status[3], attempts[3];
  double result[3];
  h5::read_range(h5::open_dataset(f.get(), "status").get(), H5T_NATIVE_UINT8, 0, 3, status, "status");
  h5::read_range(h5::open_dataset(f.get(), "attempts").get(), H5T_NATIVE_UINT8, 0, 3, attempts, "attempts");
  h5::read_range(h5::open_dataset(f.get(), "result").get(), H5T_NATIVE_DOUBLE, 0, 3, result, "result");
  EXPECT_EQ(status[0], 0);
  EXPECT_EQ(status[1], 1);
  EXPECT_EQ(status[2], 0);  // runs again: not a result yet
  EXPECT_EQ(attempts[1], 1);
  EXPECT_EQ(attempts[2], 0);
  EXPECT_EQ(result[1], 2.0);
  EXPECT_EQ(result[0], 0.0);
  EXPECT_EQ(read_strings(f.get(), "error_message", 3)[2], "");
}
