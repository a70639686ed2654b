// Integration tests run real jobs: the job re-runs this same test program, so burla::init must
// come before anything else in main.
#include <gtest/gtest.h>

#include <burla/burla.hpp>
#include <cstdlib>

int main(int argc, char** argv) {
  burla::init(argc, argv);
  // What CTest would set, were gtest_discover_tests able to pass it (see tests/CMakeLists.txt).
  for (const char* setting : {
#include BURLA_TEST_ENV_INC
       })
    ::putenv(const_cast<char*>(setting));
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
