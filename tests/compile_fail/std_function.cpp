// expect: burla::remote_parallel_map: f must be a plain function
#include <burla/burla.hpp>
#include <functional>
#include <vector>
int main() {
  std::function<int(int)> f = [](int x) { return x; };
  burla::remote_parallel_map(f, std::vector<int>{1});
}
