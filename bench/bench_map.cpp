// Workloads for bench/run.sh. Each prints one line of key=value figures.
//   bench_map square N           squares N doubles (trivial calls)
//   bench_map sleep N SEED       N calls sleeping 0-2 ms (uniform, fixed seed)
//   bench_map large N MB         N calls each returning MB megabytes
//   bench_map capacity N MS W    N calls sleeping MS ms on W workers (max_parallelism): how busy
//                                one master keeps them (bench/capacity.sh, on the virtual cluster)
//   bench_map lengths W MS,MS,.. calls sleeping the given lengths on W workers: how evenly a few
//                                long calls spread (bench/balance.sh)
#include <burla/burla.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

double square(double x) {
  return x * x;
}

int sleep_for_us(int us) {
  std::this_thread::sleep_for(std::chrono::microseconds(us));
  return us;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  burla::init(argc, argv);
  if (argc < 3) {
    std::fprintf(
        stderr,
        "usage: bench_map square N | sleep N SEED | large N MB | capacity N MS WORKERS | lengths W MS,..\n");
    return 2;
  }
  const std::string what = argv[1];
  const std::size_t n = std::stoul(argv[2]);
  const burla::options opts{.spinner = false};

  if (what == "square") {
    std::vector<double> in(n);
    std::iota(in.begin(), in.end(), 0.0);
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<double> out = burla::remote_parallel_map(square, in, opts);
    const double t = seconds_since(t0);
    for (std::size_t i = 0; i < n; ++i)
      if (out[i] != in[i] * in[i]) return std::fprintf(stderr, "wrong result at %zu\n", i), 1;
    std::printf("map_seconds=%.4f\n", t);
  } else if (what == "sleep") {
    std::mt19937 rng(argc > 3 ? std::stoul(argv[3]) : 42);
    std::uniform_int_distribution<int> us(0, 2000);
    std::vector<int> in(n);
    for (auto& x : in) x = us(rng);
    const auto t0 = std::chrono::steady_clock::now();
    auto job = burla::submit(sleep_for_us, in, opts);
    const auto out = job.results();
    const double t = seconds_since(t0);
    const double total = std::accumulate(in.begin(), in.end(), 0.0) * 1e-6;
    std::printf("map_seconds=%.4f sum_seconds=%.4f\n", t, total);
  } else if (what == "large") {
    const std::size_t mb = argc > 3 ? std::stoul(argv[3]) : 1;
    std::vector<std::size_t> in(n, mb);
    auto f = [](std::size_t megabytes) { return std::vector<char>(megabytes << 20, 'x'); };
    const auto t0 = std::chrono::steady_clock::now();
    auto job = burla::submit(f, in, opts);
    std::size_t bytes = 0;
    for (const auto& [i, r] : job.stream()) bytes += r.size();
    std::printf("map_seconds=%.4f bytes=%zu job_dir=%s\n", seconds_since(t0), bytes, job.directory().c_str());
  } else if (what == "capacity") {
    const int ms = argc > 3 ? std::stoi(argv[3]) : 10;
    const int workers = argc > 4 ? std::stoi(argv[4]) : 8;
    std::vector<int> in(n, ms * 1000);
    const auto t0 = std::chrono::steady_clock::now();
    auto job = burla::submit(sleep_for_us, in, {.max_parallelism = workers, .spinner = false});
    const auto out = job.results();
    std::printf("map_seconds=%.4f job_dir=%s\n", seconds_since(t0), job.directory().c_str());
  } else if (what == "lengths") {
    const int workers = static_cast<int>(n);
    std::vector<int> in;
    std::stringstream list(argc > 3 ? argv[3] : "");
    for (std::string ms; std::getline(list, ms, ',');) in.push_back(std::stoi(ms) * 1000);
    auto job = burla::submit(sleep_for_us, in, {.max_parallelism = workers, .spinner = false});
    const auto out = job.results();
    std::printf("job_dir=%s\n", job.directory().c_str());
  } else {
    return 2;
  }
  return 0;
}
