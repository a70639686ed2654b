// Slurm integration tests: real jobs through sbatch/srun on the single-node Slurm that
// slurm/scripts/start-local-slurm.sh brings up. Like every burla program, burla::init comes first.
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
