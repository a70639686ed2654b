// Workloads for bench/run.sh. Each prints one line of key=value figures.
//   bench_map square N           squares N doubles (trivial calls)
//   bench_map sleep N SEED       N calls sleeping 0-2 ms (uniform, fixed seed)
//   bench_map large N MB         N calls each returning MB megabytes
//   bench_map large_in N MB      N calls each taking MB megabytes (returning their sum); also
//                                prints inputs_seconds=, the time spent building the inputs
// Every workload also prints caller_peak_rss_kb=, the peak memory of this process alone.
//   bench_map capacity N MS W    N calls sleeping MS ms on W workers (max_parallelism): how busy
//                                one master keeps them (bench/capacity.sh, on the virtual cluster)
//   bench_map lengths W MS,MS,.. calls sleeping the given lengths on W workers: how evenly a few
//                                long calls spread (bench/balance.sh)
//   bench_map shared N MB        N trivial calls f(table, i) with a shared table of MB megabytes:
//                                the table is written once and read once per worker
//   bench_map roundtrip N        N calls of 25 ms (one per batch, none queued behind another): per
//                                host, the median time a worker waits between the end of a call
//                                and the start of its next, i.e. a round trip through the master
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <burla/burla.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
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
    std::fprintf(stderr,
                 "usage: bench_map square N | sleep N SEED | large N MB | large_in N MB | capacity N MS "
                 "WORKERS | lengths W "
                 "MS,.. | shared N MB | roundtrip N\n");
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
  } else if (what == "large_in") {
    const std::size_t mb = argc > 3 ? std::stoul(argv[3]) : 1;
    const auto t_build = std::chrono::steady_clock::now();
    std::vector<std::vector<char>> in(n);
    for (std::size_t i = 0; i < n; ++i) in[i].assign(mb << 20, static_cast<char>(i % 100));
    const double inputs_seconds = seconds_since(t_build);  // the program's own, before the map
    // The sum of bytes that are all alike, as the peer computes it: the data path, not the work.
    auto sum = [](const std::vector<char>& v) { return static_cast<long long>(v.size()) * v.at(0); };
    const auto t0 = std::chrono::steady_clock::now();
    auto job = burla::submit(sum, in, opts);
    const auto out = job.results();
    const double t = seconds_since(t0);
    for (std::size_t i = 0; i < n; ++i)
      if (out[i] != static_cast<long long>(i % 100) * static_cast<long long>(mb << 20))
        return std::fprintf(stderr, "wrong result at %zu\n", i), 1;
    std::printf("map_seconds=%.4f inputs_seconds=%.4f job_dir=%s\n", t, inputs_seconds,
                job.directory().c_str());
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
  } else if (what == "shared") {
    const std::size_t mb = argc > 3 ? std::stoul(argv[3]) : 100;
    std::vector<double> table((mb << 20) / sizeof(double));
    std::iota(table.begin(), table.end(), 0.0);
    std::vector<std::size_t> in(n);
    for (std::size_t i = 0; i < n; ++i) in[i] = i * 7919 % table.size();
    const auto t0 = std::chrono::steady_clock::now();
    auto job =
        burla::submit([](const std::vector<double>& t, std::size_t i) { return t[i]; }, in, table, opts);
    const auto out = job.results();
    const double t = seconds_since(t0);
    for (std::size_t i = 0; i < n; ++i)
      if (out[i] != table[in[i]]) return std::fprintf(stderr, "wrong result at %zu\n", i), 1;
    std::printf("map_seconds=%.4f table_bytes=%zu job_dir=%s\n", t, table.size() * sizeof(double),
                job.directory().c_str());
  } else if (what == "roundtrip") {
    // Calls long enough to go one per batch with none queued: the gap between one call's end and
    // the next call's start on a worker is its reply's trip to the master and the next batch's
    // trip back. The ranks of one machine (or of the virtual cluster) share one monotonic clock.
    auto timed = [](int) {
      using clock = std::chrono::steady_clock;
      char host[256] = {};
      ::gethostname(host, sizeof host - 1);
      const auto start = clock::now();
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      const auto end = clock::now();
      return std::string(host) + " " + std::to_string(::getppid()) + " " +
             std::to_string(start.time_since_epoch().count()) + " " +
             std::to_string(end.time_since_epoch().count());
    };
    const auto out = burla::remote_parallel_map(timed, std::vector<int>(n), opts);
    std::map<std::string, std::vector<std::pair<long long, long long>>> by_worker;  // "host rank-pid"
    for (const auto& line : out) {
      std::stringstream ss(line);
      std::string host, rank;
      long long a = 0, b = 0;
      ss >> host >> rank >> a >> b;
      by_worker[host + " " + rank].emplace_back(a, b);
    }
    std::map<std::string, std::vector<double>> gaps;  // by host
    for (auto& [worker, calls] : by_worker) {
      std::sort(calls.begin(), calls.end());
      for (std::size_t k = 1; k < calls.size(); ++k)
        gaps[worker.substr(0, worker.find(' '))].push_back(
            static_cast<double>(calls[k].first - calls[k - 1].second));
    }
    for (auto& [host, g] : gaps) {
      std::sort(g.begin(), g.end());
      std::printf("host=%s gaps=%zu median_us=%.0f p90_us=%.0f\n", host.c_str(), g.size(),
                  g[g.size() / 2] * 1e-3, g[g.size() * 9 / 10] * 1e-3);
    }
  } else {
    return 2;
  }
  rusage self{};
  ::getrusage(RUSAGE_SELF, &self);
  std::printf("caller_peak_rss_kb=%ld\n", self.ru_maxrss);
  return 0;
}
