// A second program for the Slurm tests: `helper submit` submits a job and exits at once, printing
// its id; `helper map` runs a map with the automatic backend (inside salloc: srun in the
// allocation) and prints the results and where it ran.
#include <burla/burla.hpp>
#include <cstdio>
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
  std::cerr << "usage: helper submit|map\n";
  return 2;
}
