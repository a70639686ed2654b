// expect: burla::remote_parallel_map: f must be a plain function, a lambda without captures, or a lambda capturing only trivially copyable values
#include <burla/burla.hpp>
#include <string>
#include <vector>
int main() {
  std::string prefix = "x";
  burla::remote_parallel_map([prefix](int x) { return prefix + std::to_string(x); }, std::vector<int>{1});
}
