// Integration tests run real jobs: the job re-runs this same test program, so burla::init must
// come before anything else in main.
#include <gtest/gtest.h>

#include <burla/burla.hpp>

#include "support.hpp"
int main(int argc, char** argv) {
  burla::init(argc, argv);
  test::set_environment();
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
