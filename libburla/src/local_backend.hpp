// The local backend: the job runs under mpirun on this machine.
#pragma once

#include <string>
#include <vector>

#include "libburla/core/backend.hpp"

namespace burla::detail {

struct machine {
  int cpus = 1;
  double ram_gb = 0;
  std::vector<std::string> gpus;  ///< device ids usable here
};
machine this_machine();

/// The GPUs that `workers` workers of func_gpu devices each use here, in order.
std::vector<std::string> local_gpus(const machine& m, int workers, int func_gpu);

const core::backend& local_backend();

}  // namespace burla::detail
