// burla: run a function on every input at once, on many CPUs, through MPI (mpirun or Slurm).
//
//   int main(int argc, char** argv) {
//     burla::init(argc, argv);  // in a job process this runs the job and never returns
//     std::vector<int> r = burla::remote_parallel_map(square, std::vector<int>{1, 2, 3});
//   }
//
// See docs/ for the job directory, the results file and the options.
#pragma once

#include <algorithm>
#include <burla/detail/encode_inputs.hpp>
#include <burla/detail/job_state.hpp>
#include <burla/error.hpp>
#include <burla/job.hpp>
#include <burla/options.hpp>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <type_traits>

namespace burla {

/// Call first thing in main(). In the processes of a job (started by burla with the same
/// program) it runs the job's master or worker and exits; elsewhere it returns at once.
void init(int argc, char** argv);

/// Starts f(input) for every input and returns once the job is started (Burla's background).
/// f: a plain function, or a lambda capturing only trivially copyable values by copy.
/// inputs: any sized range (vector, array, span) of serializable values.
template <class F, std::ranges::sized_range Inputs>
auto submit(F f, const Inputs& inputs, const options& opts = {}) {
  using In = std::ranges::range_value_t<Inputs>;
  static_assert(detail::check_map_arguments<F, In>());
  using R = detail::result_of_t<F, In>;

  detail::validate(opts);
  const auto n = static_cast<std::uint64_t>(std::ranges::size(inputs));
  if (n == 0) return job<R>();
  auto state = detail::job_state::start(opts, n, detail::describe_job<F, In, R>(f),
                                        [&](detail::input_sink& sink, std::uint64_t segment_items) {
                                          detail::encode_inputs<In>(sink, inputs, segment_items);
                                        });
  return job<R>(std::move(state));
}

/// submit(f, {1, 2, 3}): a braced list of inputs.
template <class F, class T>
auto submit(F f, std::initializer_list<T> inputs, const options& opts = {}) {
  return submit(f, std::span<const T>(inputs.begin(), inputs.size()), opts);
}

/// Follows a job started earlier, by this program or another run of it: by its id (job.id(), the
/// job directory's name) or its Slurm job id. R must be what the job's function returns.
/// Options used: job_dir (where to look) and spinner.
template <class R>
job<R> attach(const std::string& id, const options& opts = {}) {
  return job<R>(detail::job_state::attach(id, opts, detail::type_name<R>(), detail::kind_of<R>()));
}

/// Finishes a job that ended early (killed, interrupted at its time limit, or stopped at a failure):
/// runs only the inputs without a result (and, with rerun::missing_and_failed, those that failed)
/// in the same job directory, completing its journal and results.h5. The job returned gives every
/// result, old and new, as if the job had never stopped. Options used: job_dir, spinner, and for
/// the new run backend and the Slurm options.
template <class R>
job<R> resume(const std::string& id, const options& opts = {}, rerun which = rerun::missing) {
  return job<R>(detail::job_state::resume(id, opts, detail::type_name<R>(), detail::kind_of<R>(),
                                          which == rerun::missing_and_failed));
}

/// Writes the job directory and its sbatch script without submitting it, for users who submit by
/// hand; prints the sbatch command. Follow the job later with attach<R>(id) or `burla status ID`.
template <class F, std::ranges::sized_range Inputs>
job_script write_job_script(F f, const Inputs& inputs, const options& opts = {}) {
  using In = std::ranges::range_value_t<Inputs>;
  static_assert(detail::check_map_arguments<F, In>());
  using R = detail::result_of_t<F, In>;
  const auto n = static_cast<std::uint64_t>(std::ranges::size(inputs));
  if (n == 0) throw error("burla: write_job_script: there are no inputs, so there is no job to write");
  auto script = detail::job_state::write_script(opts, n, detail::describe_job<F, In, R>(f),
                                                [&](detail::input_sink& sink, std::uint64_t segment_items) {
                                                  detail::encode_inputs<In>(sink, inputs, segment_items);
                                                });
  std::printf("burla: job %s is ready. Submit it with:\n  %s\n", script.id.c_str(),
              script.submit_command.c_str());
  std::fflush(stdout);
  return script;
}

/// Runs f(input) for every input in parallel and returns the results in input order.
/// Everything the calls print appears here; a call that throws makes this throw
/// burla::remote_error (the job stops at the first failure).
template <class F, std::ranges::sized_range Inputs>
auto remote_parallel_map(F f, const Inputs& inputs, const options& opts = {}) {
  return submit(f, inputs, opts).results();  // an rvalue: results are moved out
}

/// remote_parallel_map(f, {1, 2, 3}): a braced list of inputs.
template <class F, class T>
auto remote_parallel_map(F f, std::initializer_list<T> inputs, const options& opts = {}) {
  return submit(f, inputs, opts).results();
}

}  // namespace burla
