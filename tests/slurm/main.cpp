// Slurm integration tests: real jobs through sbatch/srun on the single-node Slurm that
// slurm/scripts/start-local-slurm.sh brings up. Like every burla program, burla::init comes first.
#include <gtest/gtest.h>

#include <burla/burla.hpp>

#include "tests/integration/support.hpp"
int main(int argc, char** argv) {
  burla::init(argc, argv);
  test::set_environment();
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
