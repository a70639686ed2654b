// expect: burla: the input type is not serializable
#include <burla/burla.hpp>
#include <vector>
int deref(int* p) { return *p; }
int main() { burla::remote_parallel_map(deref, std::vector<int*>(3)); }
