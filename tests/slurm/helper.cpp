// A second program for the Slurm tests: `helper submit` submits a job and exits at once, printing
// its id; `helper map` runs a map with the automatic backend (inside salloc: srun in the
// allocation) and prints the results and where it ran; `helper map_slow N MS` maps 0..N-1 -> x*x
// on Slurm, each call sleeping MS ms, and prints the results.
#include <burla/burla.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

long long cube(int x) {
  std::printf("cubing %d\n", x);
  return static_cast<long long>(x) * x * x;
}

int main(int argc, char** argv) {
  burla::init(argc, argv);
  if (argc > 1 && std::strcmp(argv[1], "submit") == 0) {
    std::vector<int> in{1, 2, 3, 4, 5, 6};
    auto job = burla::submit(cube, in, {.spinner = false, .backend = burla::backend::slurm});
    std::cout << job.id() << std::endl;
    return 0;  // the job goes on without us
  }
  if (argc > 1 && std::strcmp(argv[1], "map") == 0) {
    auto job = burla::submit(cube, std::vector<int>{1, 2, 3}, {.spinner = false});
    const std::string dir = job.directory();
    for (long long r : std::move(job).results()) std::cout << "result " << r << "\n";
    std::ifstream ini(dir + "/job.ini");
    for (std::string line; std::getline(ini, line);)
      if (line.rfind("backend", 0) == 0) std::cout << line << "\n";
    std::cout << "directory = " << dir << "\n";
    return 0;
  }
  if (argc > 3 && std::strcmp(argv[1], "map_slow") == 0) {  // what the Ctrl-C test interrupts
    std::vector<int> in(static_cast<std::size_t>(std::atoi(argv[2])));
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<int>(i);
    const int ms = std::atoi(argv[3]);
    const auto squares = burla::remote_parallel_map(
        [ms](int x) {
          std::this_thread::sleep_for(std::chrono::milliseconds(ms));
          return x * x;
        },
        in, {.backend = burla::backend::slurm});
    for (int r : squares) std::cout << r << "\n";
    return 0;
  }
  std::cerr << "usage: helper submit|map|map_slow N MS\n";
  return 2;
}
