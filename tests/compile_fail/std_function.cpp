// expect: burla: f cannot travel to the workers
#include <burla/burla.hpp>
#include <functional>
#include <vector>
int main() {
  std::function<int(int)> f = [](int x) { return x; };
  burla::remote_parallel_map(f, std::vector<int>{1});
}
