#include <burla/burla.hpp>
#include <cstdio>
#include <vector>

int cube(int x) {
  return x * x * x;
}

int main(int argc, char** argv) {
  burla::init(argc, argv);
  const auto r = burla::remote_parallel_map(cube, std::vector<int>{1, 2, 3}, {.spinner = false});
  std::printf("consumer results: %d %d %d\n", r[0], r[1], r[2]);
  return r == std::vector<int>{1, 8, 27} ? 0 : 1;
}
