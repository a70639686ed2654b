// Helpers for integration tests: job directories and reading results.h5 as a user would.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <burla/burla.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "terminal.hpp"

namespace test {

/// The directory jobs go to (BURLA_JOBS_DIR, set by CTest).
inline std::string jobs_dir() {
  const char* d = std::getenv("BURLA_JOBS_DIR");
  return d ? d : "";
}

/// The job directories under root (default: jobs_dir()).
inline std::vector<std::string> job_dirs(const std::string& root = jobs_dir()) {
  return file_names(root);
}

/// A jobs root of the test's own, so that jobs of tests running in parallel don't show up in it.
inline std::string own_jobs_root(const std::string& name) {
  const std::string root = jobs_dir() + "/own-" + name;
  ::mkdir(root.c_str(), 0700);
  return root;
}

/// Sets what CTest would, were gtest_discover_tests able to pass a list-valued ENVIRONMENT
/// (see tests/CMakeLists.txt); call it after burla::init.
void set_environment();

/// What the test prints to stdout, for a scope (testing::internal::CaptureStdout): released however
/// the scope ends, so that a test that throws still reports its failure instead of printing it,
/// and everything after it, into a capture nobody reads.
class captured_stdout {
 public:
  captured_stdout() { testing::internal::CaptureStdout(); }
  ~captured_stdout() {
    if (!taken_) (void)testing::internal::GetCapturedStdout();
  }
  captured_stdout(const captured_stdout&) = delete;
  captured_stdout& operator=(const captured_stdout&) = delete;
  std::string take() {
    taken_ = true;
    return testing::internal::GetCapturedStdout();
  }

 private:
  bool taken_ = false;
};

/// Runs the shell command and returns its stdout.
std::string shell(const std::string& command);

/// results.h5 through h5dump, the tool users have: one dataset's values or one attribute.
std::string h5dump(const std::string& file, const std::string& what);

}  // namespace test
