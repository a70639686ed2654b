// expect: burla: f cannot be called with one element of inputs
#include <burla/burla.hpp>
#include <vector>
int add(int a, int b) { return a + b; }
int main() { burla::remote_parallel_map(add, std::vector<int>{1}); }
