// Helpers for integration tests: job directories and reading results.h5 as a user would.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>

#include <burla/burla.hpp>
#include <cstdlib>
#include <string>
#include <vector>

namespace test {

/// The directory jobs go to (BURLA_JOBS_DIR, set by CTest).
inline std::string jobs_dir() {
  const char* d = std::getenv("BURLA_JOBS_DIR");
  return d ? d : "";
}

inline std::vector<std::string> job_dirs() {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(jobs_dir().c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') out.push_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

/// Runs the shell command and returns its stdout.
std::string shell(const std::string& command);

/// results.h5 through h5dump, the tool users have: one dataset's values or one attribute.
std::string h5dump(const std::string& file, const std::string& what);

}  // namespace test
