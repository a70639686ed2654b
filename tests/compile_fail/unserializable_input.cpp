// expect: burla: the input type is not serializable
#include <burla/burla.hpp>
#include <vector>
struct opaque {
  int a = 0;
};
int use(const opaque& o) { return o.a; }
int main() { burla::remote_parallel_map(use, std::vector<opaque>(3)); }
