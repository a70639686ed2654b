// A backend: how a job is started and followed (local: mpirun here; slurm: a batch job through
// sbatch; allocation: srun inside the allocation the caller runs in). Everything a backend needs
// to start a job is in its job_spec, so that a resumed run gets exactly what the job was
// submitted with. The composition root (libburla/src/backends.cpp) picks a backend by kind.
#pragma once

#include <burla/options.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "job_spec.hpp"
#include "launch.hpp"

namespace burla::core {

class backend {
 public:
  virtual ~backend() = default;
  virtual backend_kind kind() const = 0;
  /// Rejects options that do not apply here (invalid_option), before anything is written.
  virtual void check(const options& opts) const = 0;
  /// Worker ranks for n inputs, sized by the job's per-call resources (spec.func_cpu, func_ram,
  /// func_gpu, max_parallelism); invalid_option when one call cannot fit at all.
  virtual int workers(const job_spec& spec, std::uint64_t n_inputs) const = 0;
  /// Starts the job of a written job directory.
  virtual std::unique_ptr<launch> start(const job_spec& spec, const std::string& dir) const = 0;
  /// Follows a job started earlier, by this process or another.
  virtual std::unique_ptr<launch> follow(const job_spec& spec, const std::string& dir) const = 0;
  /// Writes the job's batch script, for submission by hand; returns its path. Slurm only.
  virtual std::string write_script(const job_spec& spec, const std::string& dir) const;
};

/// What a place offers the calls of a job.
struct capacity {
  long cpus = 1;
  std::optional<double> ram_gb;  ///< unset: not a limit here
  std::optional<long> gpus;      ///< unset: not a limit here
};

/// Worker ranks for n inputs: as many as the inputs need and the capacity holds, at most
/// spec.max_parallelism, at least one.
int workers_that_fit(const job_spec& spec, std::uint64_t n_inputs, const capacity& c);

/// A Slurm-only option that is set.
struct slurm_option {
  const char* name;
  std::string value;
  bool applies_in_allocation;  ///< srun inside an allocation uses it too
};
/// The Slurm-only options set in opts, in the order options declares them.
std::vector<slurm_option> slurm_options_set(const options& opts);
/// What sbatch is asked for, from the options of the same names.
slurm_request slurm_request_of(const options& opts);
/// A resumed job's request: what it was submitted with, with what the resume call sets instead.
slurm_request resumed_request(slurm_request submitted, const options& opts);

}  // namespace burla::core
