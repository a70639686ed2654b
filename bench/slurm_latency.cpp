// Slurm latency: time from burla::submit to the first and the last result of 10,000 trivial
// calls through sbatch, next to an empty job's time from sbatch to done (polling squeue every
// 20 ms), alternating in one run. Needs a running Slurm (see slurm/scripts/start-local-slurm.sh).
//   slurm_latency [RUNS=5] [CALLS=10000]
#include <algorithm>
#include <burla/burla.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  ::pclose(p);
  return out;
}

/// sbatch of a job that does nothing, until squeue no longer shows it pending, running or completing.
double empty_job() {
  const auto t0 = clock_type::now();
  std::string id = run("sbatch --parsable --output=/dev/null --ntasks=2 --wrap true");
  id = id.substr(0, id.find_first_of(";\n"));
  for (;;) {
    const std::string state = run("squeue -h -j " + id + " -o %T 2>/dev/null");
    if (state.find("PENDING") == std::string::npos && state.find("RUNNING") == std::string::npos &&
        state.find("COMPLETING") == std::string::npos && state.find("CONFIGURING") == std::string::npos)
      return seconds_since(t0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

double square(double x) {
  return x * x;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  burla::init(argc, argv);
  const int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  const std::size_t calls = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 10000;
  std::vector<double> inputs(calls);
  for (std::size_t i = 0; i < calls; ++i) inputs[i] = static_cast<double>(i);
  std::vector<double> empty, first, last;
  for (int r = 0; r < runs; ++r) {
    empty.push_back(empty_job());
    const auto t0 = clock_type::now();
    auto job = burla::submit(square, inputs, {.spinner = false, .backend = burla::backend::slurm});
    double t_first = -1;
    std::size_t n = 0;
    for (const auto& item : job.stream()) {
      (void)item;
      if (n++ == 0) t_first = seconds_since(t0);
    }
    first.push_back(t_first);
    last.push_back(seconds_since(t0));
    if (n != calls) std::fprintf(stderr, "slurm_latency: got %zu of %zu results\n", n, calls);
    std::fprintf(stderr, "run %d: empty job %.3f s, first result %.3f s, last result %.3f s\n", r + 1,
                 empty.back(), first.back(), last.back());
  }
  std::printf("empty_job_s=%.3f first_result_s=%.3f last_result_s=%.3f over_empty_s=%.3f runs=%d calls=%zu\n",
              median(empty), median(first), median(last), median(last) - median(empty), runs, calls);
}
