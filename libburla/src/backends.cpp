#include "backends.hpp"

#include "libburla/core/posix.hpp"
#include "local_backend.hpp"
#include "slurm/src/backend.hpp"
#include "slurm/src/commands.hpp"
#include "slurm/src/script.hpp"

namespace burla::detail {

const core::backend& backend_of(core::backend_kind kind) {
  switch (kind) {
    case core::backend_kind::slurm:
      return slurm::batch_backend();
    case core::backend_kind::allocation:
      return slurm::allocation_backend();
    case core::backend_kind::local:
      break;
  }
  return local_backend();
}

core::backend_kind choose_backend(const options& opts) {
  if (opts.backend == backend::local) return core::backend_kind::local;
  if (opts.backend == backend::slurm) return core::backend_kind::slurm;
  if (auto chosen = posix::env("BURLA_BACKEND")) {
    if (*chosen == "local") return core::backend_kind::local;
    if (*chosen == "slurm") return core::backend_kind::slurm;
    if (*chosen != "automatic")
      throw invalid_option("BURLA_BACKEND", *chosen, "set it to local, slurm or automatic");
  }
  if (posix::env("SLURM_JOB_ID") && !posix::find_on_path("srun").empty())
    return core::backend_kind::allocation;
  return slurm::configured() ? core::backend_kind::slurm : core::backend_kind::local;
}

std::string submit_command(const std::string& script) {
  return "sbatch " + slurm::shell_quote(script);
}

}  // namespace burla::detail
