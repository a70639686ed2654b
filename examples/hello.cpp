// Burla's hello example: three calls run remotely; what they print appears here.
#include <burla/burla.hpp>
#include <iostream>
#include <vector>

int my_function(int x) {
  std::cout << "I'm running on a remote computer!\n";
  return x * x;
}

int main(int argc, char** argv) {
  burla::init(argc, argv);  // in a job process this runs the job and never returns
  std::vector<int> results = burla::remote_parallel_map(my_function, std::vector<int>{1, 2, 3});
  for (int r : results) std::cout << r << '\n';
  return results == std::vector<int>{1, 4, 9} ? 0 : 1;
}
