// The composition root of the caller's side: the one place that knows every backend.
#pragma once

#include <burla/options.hpp>
#include <string>

#include "libburla/core/backend.hpp"

namespace burla::detail {

const core::backend& backend_of(core::backend_kind kind);

/// Where a job with these options runs: options::backend, else $BURLA_BACKEND, else srun inside
/// the Slurm allocation this program runs in, else Slurm when it is configured here, else local.
core::backend_kind choose_backend(const options& opts);

/// The command that submits a batch script by hand.
std::string submit_command(const std::string& script);

}  // namespace burla::detail
