// The Slurm backends: a new job through sbatch (batch), or srun inside the allocation the caller
// runs in (allocation).
#pragma once

#include "libburla/core/backend.hpp"

namespace burla::slurm {

const core::backend& batch_backend();
const core::backend& allocation_backend();

}  // namespace burla::slurm
