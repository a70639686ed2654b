// expect: burla: f cannot travel to the workers
#include <burla/burla.hpp>
#include <string>
#include <vector>
struct prefixer {
  explicit prefixer(std::string p) : prefix(std::move(p)) {}  // workers could not construct it
  std::string prefix;
  template <class A>
  void serialize(A& a, unsigned) {
    a & prefix;
  }
  std::string operator()(int x) const { return prefix + std::to_string(x); }
};
int main() { burla::remote_parallel_map(prefixer("x"), std::vector<int>{1}); }
