// flags: -std=gnu++20
// expect: burla: the result type of f is not serializable
#include <burla/burla.hpp>
#include <vector>
__int128 widen(int x) { return x; }
int main() { burla::remote_parallel_map(widen, std::vector<int>{1}); }
