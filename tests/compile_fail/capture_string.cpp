// expect: burla: f cannot travel to the workers. f must be a plain function, a lambda capturing nothing or only trivially copyable values (numbers, not std::string or std::vector), or a function object
#include <burla/burla.hpp>
#include <string>
#include <vector>
int main() {
  std::string prefix = "x";
  burla::remote_parallel_map([prefix](int x) { return prefix + std::to_string(x); }, std::vector<int>{1});
}
