// expect: burla: the result type of f is not serializable
#include <burla/burla.hpp>
#include <vector>
struct opaque {
  int a = 0;
};
opaque make(int x) { return {x}; }
int main() { burla::remote_parallel_map(make, std::vector<int>{1}); }
