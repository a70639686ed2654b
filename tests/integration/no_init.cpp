// A program that forgets burla::init: it must get an error that says to call it, and no job.
#include <burla/burla.hpp>
#include <cstdio>
#include <string>
#include <vector>

int twice(int x) {
  return 2 * x;
}

int main() {
  try {
    burla::remote_parallel_map(twice, std::vector<int>{1, 2, 3}, {.spinner = false});
  } catch (const burla::error& e) {
    std::printf("%s\n", e.what());
    return std::string(e.what()).find("burla::init") != std::string::npos ? 0 : 1;
  }
  std::printf("no error\n");
  return 1;
}
