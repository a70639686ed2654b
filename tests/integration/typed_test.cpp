// Complex numbers, std::arrays and std::vectors of numbers as inputs and results: exact in C++,
// native HDF5 types in results.h5, read back with h5py and h5dump as a user would.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <burla/burla.hpp>
#include <complex>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

namespace {

using cplx = std::complex<double>;
using triple = std::array<int, 3>;

const burla::options quiet{.spinner = false};

cplx square_plus_one(cplx z) {
  return z * z + 1.0;
}

triple shuffle(triple a) {
  return {a[2], a[0] * 10, -a[1]};
}

std::vector<double> partial_sums(const std::vector<double>& v) {
  std::vector<double> out;
  double sum = 0;
  for (double x : v) out.push_back(sum += x);
  return out;
}

/// Runs a Python program on results.h5 with h5py; it prints "ok" once every check held.
std::string python(const std::string& file, const std::string& checks) {
  const std::string script =
      "import h5py, numpy as np\nf = h5py.File('" + file + "', 'r')\n" + checks + "\nprint('ok')\n";
  const std::string path = test::jobs_dir() + "/check-" + std::to_string(::getpid()) + ".py";
  std::ofstream(path) << script;
  // The system Python: Debian's python3-h5py (scripts/setup.sh) is installed for it, not for
  // another python3 that PATH may find first.
  const std::string out = test::shell("/usr/bin/python3 '" + path + "' 2>&1");
  ::unlink(path.c_str());
  return out;
}

}  // namespace

TEST(Typed, ComplexNumbersAreExactAndH5pyReadsThemAsComplex128) {
  const std::vector<cplx> in = {{1, 2}, {-3, 0.5}, {0, -4}};
  // (a+bi)^2 + 1 = (a^2 - b^2 + 1) + 2abi, worked out by hand.
  const std::vector<cplx> want = {{-2, 4}, {9.75, -3}, {-15, 0}};
  auto job = burla::submit(square_plus_one, in, quiet);
  EXPECT_EQ(job.results(), want);
  EXPECT_EQ(burla::attach<cplx>(job.id(), quiet).results(), want);
  std::map<std::size_t, cplx> streamed;
  for (const auto& [index, value] : burla::attach<cplx>(job.id(), quiet).stream()) streamed[index] = value;
  EXPECT_EQ(streamed, (std::map<std::size_t, cplx>{{0, want[0]}, {1, want[1]}, {2, want[2]}}));

  const std::string file = job.directory() + "/results.h5";
  EXPECT_EQ(python(file, R"(
assert f['result'].dtype == np.complex128, f['result'].dtype
assert f['input'].dtype == np.complex128, f['input'].dtype
assert (f['result'][:] == np.array([-2+4j, 9.75-3j, -15+0j])).all(), f['result'][:]
assert (f['input'][:] == np.array([1+2j, -3+0.5j, -4j])).all(), f['input'][:]
assert f.attrs['result_encoding'] == 'native', f.attrs['result_encoding'])"),
            "ok\n");
  const std::string dump = test::h5dump(file, "-d /result");
  for (const char* word : {"H5T_COMPOUND", "H5T_IEEE_F64LE \"r\"", "H5T_IEEE_F64LE \"i\"", "9.75"})
    EXPECT_NE(dump.find(word), std::string::npos) << word << " in\n" << dump;
}

TEST(Typed, StdArraysAreExactAndH5pyReadsThemAsFixedShapes) {
  const std::vector<triple> in = {{1, 2, 3}, {-4, 5, 600000}};
  const std::vector<triple> want = {{3, 10, -2}, {600000, -40, -5}};
  EXPECT_EQ(burla::remote_parallel_map(shuffle, in, quiet), want);
  auto job = burla::submit(shuffle, in, quiet);
  EXPECT_EQ(job.results(), want);

  const std::string file = job.directory() + "/results.h5";
  EXPECT_EQ(python(file, R"(
assert f['result'].dtype == np.dtype(('<i4', (3,))), f['result'].dtype
assert f['input'].dtype == np.dtype(('<i4', (3,))), f['input'].dtype
assert f['result'][:].tolist() == [[3, 10, -2], [600000, -40, -5]], f['result'][:]
assert f['input'][:].tolist() == [[1, 2, 3], [-4, 5, 600000]], f['input'][:])"),
            "ok\n");
  const std::string dump = test::h5dump(file, "-d /result");
  for (const char* word : {"H5T_ARRAY { [3] H5T_STD_I32LE }", "[ 3, 10, -2 ]", "[ 600000, -40, -5 ]"})
    EXPECT_NE(dump.find(word), std::string::npos) << word << " in\n" << dump;
}

TEST(Typed, VectorsAreExactAndH5pyReadsThemAsVariableLengthFloat64) {
  // Several segments of inputs (64 each), an empty vector among them.
  std::vector<std::vector<double>> in(150);
  std::vector<std::vector<double>> want(150);
  for (std::size_t i = 0; i < in.size(); ++i)
    for (std::size_t k = 0; k < i % 4; ++k) {
      in[i].push_back(0.5 * static_cast<double>(i) + static_cast<double>(k));
      want[i].push_back((want[i].empty() ? 0 : want[i].back()) + in[i].back());
    }
  auto job = burla::submit(partial_sums, in, quiet);
  EXPECT_EQ(job.results(), want);
  EXPECT_EQ(burla::attach<std::vector<double>>(job.id(), quiet).results(), want);

  const std::string file = job.directory() + "/results.h5";
  EXPECT_EQ(python(file, R"(
for name in ('result', 'input'):
    assert h5py.check_vlen_dtype(f[name].dtype) == np.float64, f[name].dtype
r, x = f['result'][:], f['input'][:]
assert r.dtype == object and len(r) == 150
for i in range(150):
    xs = [0.5 * i + k for k in range(i % 4)]
    assert x[i].tolist() == xs, (i, x[i])
    assert r[i].tolist() == [sum(xs[:k + 1]) for k in range(len(xs))], (i, r[i])
assert len(r[4]) == 0 and r[3].tolist() == [1.5, 4.0, 7.5], (r[3], r[4]))"),
            "ok\n");
  const std::string dump = test::h5dump(file, "-d /result -s 3 -c 2");
  for (const char* word : {"H5T_VLEN { H5T_IEEE_F64LE}", "(1.5, 4, 7.5), ()"})
    EXPECT_NE(dump.find(word), std::string::npos) << word << " in\n" << dump;
}

TEST(Typed, AResumedJobOfVectorsDecodesEveryResult) {
  struct fails_once {
    char path[256];
    std::vector<double> operator()(const std::vector<double>& v) const {
      if (v.size() == 2 && ::access(path, F_OK) != 0) {
        std::ofstream(path) << "tried";
        throw std::runtime_error("first attempt");
      }
      return {v.empty() ? -1.0 : v.back(), static_cast<double>(v.size())};
    }
  } f{};
  const std::string marker = test::jobs_dir() + "/typed-resume-" + std::to_string(::getpid());
  std::snprintf(f.path, sizeof f.path, "%s", marker.c_str());
  const std::vector<std::vector<double>> in = {{}, {2.5}, {3, 4}};
  auto job = burla::submit(f, in, {.on_error = burla::on_error::collect, .spinner = false});
  EXPECT_EQ(job.outcomes()[2].status, burla::call_status::failed);
  auto resumed = burla::resume<std::vector<double>>(job.id(), quiet, burla::rerun::missing_and_failed);
  EXPECT_EQ(resumed.results(), (std::vector<std::vector<double>>{{-1, 0}, {2.5, 1}, {4, 2}}));
  ::unlink(marker.c_str());  // once the resumed run has ended: it looks for the marker
  EXPECT_EQ(
      python(job.directory() + "/results.h5",
             "assert [v.tolist() for v in f['result'][:]] == [[-1, 0], [2.5, 1], [4, 2]], f['result'][:]"),
      "ok\n");
}
