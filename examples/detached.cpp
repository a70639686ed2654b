// Submit, exit, and come back later from another shell (Burla's background=True, on a cluster):
//   ./detached submit        # prints the job's id and returns at once; the job runs on
//   ./detached attach ID     # waits for that job (if still running) and prints its results
#include <burla/burla.hpp>
#include <cstring>
#include <iostream>
#include <string>

int my_function(int x) {
  std::cout << "I'm running on a remote computer!\n";
  return x * x;
}

int main(int argc, char** argv) {
  burla::init(argc, argv);  // in a job process this runs the job and never returns
  if (argc == 2 && std::strcmp(argv[1], "submit") == 0) {
    auto job = burla::submit(my_function, {1, 2, 3});
    std::cout << job.id() << "\n";
    return 0;
  }
  if (argc == 3 && std::strcmp(argv[1], "attach") == 0) {
    for (int r : burla::attach<int>(argv[2]).results()) std::cout << r << "\n";
    return 0;
  }
  std::cerr << "usage: detached submit | detached attach ID\n";
  return 2;
}
