#include "backend.hpp"

#include <algorithm>

namespace burla::core {

std::string backend::write_script(const job_spec&, const std::string&) const {
  throw invalid_option("backend", to_string(kind()),
                       "a batch script is for Slurm jobs; use backend = burla::backend::slurm");
}

int workers_that_fit(const job_spec& spec, std::uint64_t n, const capacity& c) {
  const long tasks = c.cpus / std::max(spec.func_cpu, 1);
  std::uint64_t w = std::min<std::uint64_t>(n, static_cast<std::uint64_t>(std::max(tasks, 1L)));
  if (spec.max_parallelism > 0)
    w = std::min<std::uint64_t>(w, static_cast<std::uint64_t>(spec.max_parallelism));
  if (c.ram_gb && spec.func_ram > 0)
    w = std::min<std::uint64_t>(w, static_cast<std::uint64_t>(*c.ram_gb / spec.func_ram));
  if (c.gpus && spec.func_gpu > 0)
    w = std::min<std::uint64_t>(w, static_cast<std::uint64_t>(*c.gpus / spec.func_gpu));
  return static_cast<int>(std::max<std::uint64_t>(w, 1));
}

std::vector<slurm_option> slurm_options_set(const options& o) {
  std::vector<slurm_option> set;
  auto add = [&](const char* name, const std::string& value, bool in_allocation) {
    if (!value.empty()) set.push_back({name, value, in_allocation});
  };
  add("partition", o.partition, false);
  add("account", o.account, false);
  add("qos", o.qos, false);
  add("time_limit", o.time_limit ? std::to_string(o.time_limit->count()) + " s" : "", false);
  add("job_name", o.job_name, false);
  add("sbatch_args", o.sbatch_args.empty() ? "" : o.sbatch_args.front(), false);
  add("packages", o.packages.empty() ? "" : o.packages.front(), false);
  add("image", o.image, true);
  add("stage_program", o.stage_program ? "true" : "", false);
  return set;
}

slurm_request slurm_request_of(const options& o) {
  return resumed_request({}, o);
}

slurm_request resumed_request(slurm_request r, const options& o) {
  auto take = [](std::string& to, const std::string& from) {
    if (!from.empty()) to = from;
  };
  take(r.partition, o.partition);
  take(r.account, o.account);
  take(r.qos, o.qos);
  take(r.job_name, o.job_name);
  take(r.image, o.image);
  if (o.time_limit)
    r.time_limit_s = static_cast<std::uint64_t>(std::max<long long>(o.time_limit->count(), 0));
  if (!o.sbatch_args.empty()) r.sbatch_args = o.sbatch_args;
  if (!o.packages.empty()) r.packages = o.packages;
  if (o.stage_program) r.stage_program = true;
  return r;
}

}  // namespace burla::core
