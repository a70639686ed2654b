// expect: burla: the shared argument's type must be serializable and default-constructible
#include <burla/burla.hpp>
#include <vector>
struct table {
  const double* rows;  // no serialize: it cannot travel
};
int main() {
  table t{nullptr};
  burla::remote_parallel_map([](const table&, int x) { return x; }, std::vector<int>{1}, t);
}
