// Complex numbers, std::arrays and std::vectors of numbers, and structs of those (records), as
// inputs and results: exact in C++, native HDF5 types in results.h5, read back with h5py and
// h5dump as a user would.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <boost/serialization/nvp.hpp>
#include <burla/burla.hpp>
#include <complex>
#include <cstdint>
#include <filesystem>
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

/// A record with make_nvp names: a compound {x, n, alive, v} in results.h5.
struct particle {
  double x = 0;
  std::int32_t n = 0;
  bool alive = false;
  std::array<float, 2> v{};
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& BOOST_SERIALIZATION_NVP(x) & BOOST_SERIALIZATION_NVP(n);
    ar& boost::serialization::make_nvp("alive", alive) & boost::serialization::make_nvp("v", v);
  }
  bool operator==(const particle&) const = default;
};

particle step(particle p) {
  return {p.x * 2, p.n + 1, !p.alive, {p.v[1], p.v[0]}};
}

/// A record without names: members m0, m1.
struct unnamed {
  std::int64_t a = 0;
  float b = 0;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& a& b;
  }
  bool operator==(const unnamed&) const = default;
};

unnamed negate(unnamed u) {
  return {-u.a, -u.b};
}

/// No record: a std::string member. It stays a Boost archive.
struct labelled {
  std::string label;
  int n = 0;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& label& n;
  }
  bool operator==(const labelled&) const = default;
};

labelled relabel(labelled l) {
  return {l.label + "!", l.n * 3};
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

TEST(Typed, BulkInputsStayInInputsBinOnlyAndComeExactToEveryRun) {
  // A fingerprint of every element and of the length; the input of 5 fails the first time.
  struct fingerprint {
    char path[256];
    long long operator()(const std::vector<std::int16_t>& v) const {
      if (v.size() == 5 && ::access(path, F_OK) != 0) {
        std::ofstream(path) << "tried";
        throw std::runtime_error("first attempt");
      }
      long long sum = static_cast<long long>(v.size()) << 40;
      for (std::size_t k = 0; k < v.size(); ++k) sum += static_cast<long long>(k % 1000 + 1) * v[k];
      return sum;
    }
  } f{};
  const std::string marker = test::jobs_dir() + "/bulk-inputs-" + std::to_string(::getpid());
  std::snprintf(f.path, sizeof f.path, "%s", marker.c_str());
  // 300 kB each on average: bulk. Sizes on both sides of 64 KiB, what the caller writes from
  // where the vector is rather than through its buffer.
  std::vector<std::vector<std::int16_t>> in;
  for (std::size_t n : {500'000, 5, 35'000, 32'767, 32'768, 450'000, 0}) {
    in.emplace_back(n);
    for (std::size_t k = 0; k < n; ++k) in.back()[k] = static_cast<std::int16_t>(k * 31 + n);
  }
  std::ofstream(marker) << "computed here, so no failure";
  std::vector<long long> want;
  for (const auto& v : in) want.push_back(f(v));
  ::unlink(marker.c_str());

  auto job = burla::submit(f, in, {.on_error = burla::on_error::collect, .spinner = false});
  EXPECT_EQ(job.outcomes()[1].status, burla::call_status::failed);
  auto resumed = burla::resume<long long>(job.id(), quiet, burla::rerun::missing_and_failed);
  EXPECT_EQ(resumed.results(), want);
  ::unlink(marker.c_str());
  EXPECT_EQ(burla::attach<long long>(job.id(), quiet).results(), want);
  // Written once, by the caller: results.h5 has no copy, and the completed job keeps inputs.bin.
  const std::string dir = job.directory();
  EXPECT_TRUE(std::filesystem::exists(dir + "/inputs.bin"));
  EXPECT_EQ(python(dir + "/results.h5", R"(
assert 'input' not in f and f.attrs['state'] == 'completed', (list(f), dict(f.attrs))
assert f['status'][:].tolist() == [1] * 7, f['status'][:])"),
            "ok\n");
}

TEST(Typed, StructsWithNamesAreCompoundsThatH5pyReadsAsStructuredArrays) {
  const std::vector<particle> in = {
      {1.5, 7, true, {0.5f, -1}}, {-2, -3, false, {4, 8}}, {0, 0, true, {0, 1e30f}}};
  const std::vector<particle> want = {
      {3, 8, false, {-1, 0.5f}}, {-4, -2, true, {8, 4}}, {0, 1, false, {1e30f, 0}}};
  auto job = burla::submit(step, in, quiet);
  EXPECT_EQ(job.results(), want);
  EXPECT_EQ(burla::remote_parallel_map(step, in, quiet), want);
  EXPECT_EQ(burla::attach<particle>(job.id(), quiet).results(), want);
  std::map<std::size_t, particle> streamed;
  for (const auto& [index, value] : burla::attach<particle>(job.id(), quiet).stream())
    streamed[index] = value;
  EXPECT_EQ(streamed, (std::map<std::size_t, particle>{{0, want[0]}, {1, want[1]}, {2, want[2]}}));

  const std::string file = job.directory() + "/results.h5";
  EXPECT_EQ(python(file, R"(
want = np.dtype({'names': ['x', 'n', 'alive', 'v'], 'formats': ['<f8', '<i4', '?', ('<f4', (2,))],
                 'offsets': [0, 8, 12, 16], 'itemsize': 24})
for name in ('result', 'input'):
    assert f[name].dtype == want, (name, f[name].dtype)
r, x = f['result'][:], f['input'][:]
assert r['x'].tolist() == [3, -4, 0] and r['n'].tolist() == [8, -2, 1], r
assert r['alive'].tolist() == [False, True, False], r
assert (r['v'] == np.array([[-1, 0.5], [8, 4], [1e30, 0]], dtype='<f4')).all(), r
assert x['x'].tolist() == [1.5, -2, 0] and x['n'].tolist() == [7, -3, 0] and x['alive'].tolist() == [True, False, True], x
assert f.attrs['result_encoding'] == 'native' and f.attrs['input_encoding'] == 'native')"),
            "ok\n");
  const std::string dump = test::h5dump(file, "-d /result");
  for (const char* word : {"H5T_COMPOUND", "H5T_IEEE_F64LE \"x\"", "H5T_STD_I32LE \"n\"", "\"alive\"",
                           "H5T_ARRAY { [2] H5T_IEEE_F32LE } \"v\""})
    EXPECT_NE(dump.find(word), std::string::npos) << word << " in\n" << dump;
}

TEST(Typed, StructsWithoutNamesGetMembersM0M1AndResumeDecodesThem) {
  struct fails_once {
    char path[256];
    unnamed operator()(unnamed u) const {
      if (u.a == 2 && ::access(path, F_OK) != 0) {
        std::ofstream(path) << "tried";
        throw std::runtime_error("first attempt");
      }
      return negate(u);
    }
  } f{};
  const std::string marker = test::jobs_dir() + "/record-resume-" + std::to_string(::getpid());
  std::snprintf(f.path, sizeof f.path, "%s", marker.c_str());
  const std::vector<unnamed> in = {{1, 0.5f}, {2, -8}, {-(std::int64_t{1} << 40), 3}};
  const std::vector<unnamed> want = {{-1, -0.5f}, {-2, 8}, {std::int64_t{1} << 40, -3}};
  auto job = burla::submit(f, in, {.on_error = burla::on_error::collect, .spinner = false});
  EXPECT_EQ(job.outcomes()[1].status, burla::call_status::failed);
  auto resumed = burla::resume<unnamed>(job.id(), quiet, burla::rerun::missing_and_failed);
  EXPECT_EQ(resumed.results(), want);
  ::unlink(marker.c_str());
  EXPECT_EQ(python(job.directory() + "/results.h5", R"(
for name in ('result', 'input'):
    assert f[name].dtype.names == ('m0', 'm1'), f[name].dtype
    assert f[name].dtype['m0'] == np.int64 and f[name].dtype['m1'] == np.float32, f[name].dtype
assert f['result'][:].tolist() == [(-1, -0.5), (-2, 8), (2**40, -3)], f['result'][:]
assert f['input'][:].tolist() == [(1, 0.5), (2, -8), (-2**40, 3)], f['input'][:])"),
            "ok\n");
}

TEST(Typed, VectorsAndArraysOfStructsAreCompoundsToo) {
  auto repeat = [](unnamed u) { return std::vector<unnamed>(static_cast<std::size_t>(u.a), u); };
  auto pair = [](unnamed u) { return std::array<unnamed, 2>{u, negate(u)}; };
  const std::vector<unnamed> in = {{0, 1}, {2, 2.5f}, {1, -1}};
  auto vectors = burla::submit(repeat, in, quiet);
  EXPECT_EQ(vectors.results(), (std::vector<std::vector<unnamed>>{{}, {{2, 2.5f}, {2, 2.5f}}, {{1, -1}}}));
  auto arrays = burla::submit(pair, in, quiet);
  EXPECT_EQ(arrays.results()[1], (std::array<unnamed, 2>{unnamed{2, 2.5f}, unnamed{-2, -2.5f}}));
  // h5py 3.7 (Debian 12) cannot read an empty row of a vector of compounds ("Cannot create
  // cython.array from NULL pointer", its own files too): h5dump shows row 0.
  EXPECT_EQ(python(vectors.directory() + "/results.h5", R"(
assert h5py.check_vlen_dtype(f['result'].dtype).names == ('m0', 'm1'), f['result'].dtype
assert [v.tolist() for v in f['result'][1:]] == [[(2, 2.5), (2, 2.5)], [(1, -1)]], f['result'][1:])"),
            "ok\n");
  const std::string dump = test::h5dump(vectors.directory() + "/results.h5", "-d /result");
  for (const char* word : {"H5T_VLEN { H5T_COMPOUND {", "H5T_STD_I64LE \"m0\"", "(0): ()"})
    EXPECT_NE(dump.find(word), std::string::npos) << word << " in\n" << dump;
  EXPECT_EQ(python(arrays.directory() + "/results.h5", R"(
assert f['result'].dtype.subdtype[1] == (2,) and f['result'].dtype.subdtype[0].names == ('m0', 'm1'), f['result'].dtype
assert f['result'][1].tolist() == [(2, 2.5), (-2, -2.5)], f['result'][1])"),
            "ok\n");
}

TEST(Typed, AStructWithAStringMemberStaysABoostArchive) {
  const std::vector<labelled> in = {{"a", 1}, {"", -2}};
  const std::vector<labelled> want = {{"a!", 3}, {"!", -6}};
  auto job = burla::submit(relabel, in, quiet);
  EXPECT_EQ(job.results(), want);
  EXPECT_EQ(burla::attach<labelled>(job.id(), quiet).results(), want);
  // The documented bytes: preamble (5), the string's length (8) and bytes, the int (4).
  EXPECT_EQ(python(job.directory() + "/results.h5", R"(
assert f.attrs['result_encoding'] == 'boost_binary_archive' and 'input' not in f, dict(f.attrs)
assert h5py.check_vlen_dtype(f['result'].dtype) == np.uint8, f['result'].dtype
b = bytes(f['result'][0])
assert b == bytes(5) + (2).to_bytes(8, 'little') + b'a!' + (3).to_bytes(4, 'little'), b)"),
            "ok\n");
}
