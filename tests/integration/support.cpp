#include "support.hpp"

#include <cstdio>
#include <cstdlib>

namespace test {

void set_environment() {
  for (const char* setting : {
#include BURLA_TEST_ENV_INC
       })
    ::putenv(const_cast<char*>(setting));
  // The jobs root may be a test's own (a virtual cluster's): tests write beside their jobs.
  if (const std::string root = jobs_dir(); !root.empty()) (void)shell("mkdir -p '" + root + "'");
}

std::string shell(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  return out;
}

std::string h5dump(const std::string& file, const std::string& what) {
  return shell("h5dump " + what + " '" + file + "' 2>&1");
}

}  // namespace test
