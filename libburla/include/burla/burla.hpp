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

// What f, the inputs, the shared argument and the results must be, checked where the user
// called: these messages are the compiler's first words (the rules: detail/invoke.hpp).
// clang-format off
#define BURLA_DETAIL_CHECK_MAP(F, In, S)                                                          \
  static_assert(::burla::detail::callable_travels_v<F>,                                         \
      "burla: f cannot travel to the workers. f must be a plain function, a lambda capturing "    \
      "nothing or only trivially copyable values (numbers, not std::string or std::vector), or a " \
      "function object (a struct with operator()) whose members are its state and which has a "   \
      "serialize member and a default constructor. For large read-only data (a table) use the "   \
      "shared argument: remote_parallel_map(f, inputs, shared) calls f(shared, input) and sends "  \
      "shared to each worker once. See \"State your function uses\" in docs/usage.md.");         \
  static_assert(::burla::detail::call_signature<F, In, S>::value,                               \
      "burla: f cannot be called with one element of inputs: f(const Input&) must compile, or, "  \
      "with a shared argument, f(const Shared&, const Input&).");                                 \
  static_assert(::burla::detail::is_serializable_v<In>,                                         \
      "burla: the input type is not serializable. Allowed: arithmetic and enum types, "           \
      "std::string, standard containers of allowed types, and classes with a "                    \
      "Boost.Serialization serialize(Archive&, unsigned) member or free function.");              \
  static_assert(std::is_default_constructible_v<In>,                                            \
      "burla: the input type must be default-constructible (workers construct it, then read it "  \
      "with Boost.Serialization).");                                                              \
  static_assert(std::is_void_v<S> || ::burla::detail::travels_v<S>,                             \
      "burla: the shared argument's type must be serializable and default-constructible, like "   \
      "an input's.");                                                                             \
  static_assert(std::is_void_v<::burla::detail::result_of_t<F, In, S>> ||                       \
                ::burla::detail::is_serializable_v<::burla::detail::result_of_t<F, In, S>>,     \
      "burla: the result type of f is not serializable. Allowed: void, arithmetic and enum "      \
      "types, std::string, standard containers of allowed types, and classes with a "             \
      "Boost.Serialization serialize(Archive&, unsigned) member or free function.");              \
  static_assert(std::is_void_v<::burla::detail::result_of_t<F, In, S>> ||                       \
                std::is_default_constructible_v<::burla::detail::result_of_t<F, In, S>>,        \
      "burla: the result type of f must be default-constructible.")
// clang-format on

namespace burla {

/// Call first thing in main(). In the processes of a job (started by burla with the same
/// program) it runs the job's master or worker and exits; elsewhere it returns at once.
void init(int argc, char** argv);

namespace detail {

/// submit, once its arguments passed the rules (shared: nullptr when there is none).
template <class F, class In, class S, class Inputs>
auto start_map(const F& f, const Inputs& inputs, const S* shared, const options& opts) {
  using R = result_of_t<F, In, S>;
  validate(opts);
#ifndef NDEBUG
  warn_about_changed_globals();  // the silent mistake of "State your function uses" (docs/usage.md)
#endif
  const auto n = static_cast<std::uint64_t>(std::ranges::size(inputs));
  if (n == 0) return job<R>();
  auto state = job_state::start(
      opts, n, describe_job<F, In, R, S>(f, shared),
      [&](input_sink& sink, std::uint64_t segment_items) { encode_inputs<In>(sink, inputs, segment_items); });
  return job<R>(std::move(state));
}

/// write_job_script, once its arguments passed the rules.
template <class F, class In, class S, class Inputs>
job_script write_map_script(const F& f, const Inputs& inputs, const S* shared, const options& opts) {
  using R = result_of_t<F, In, S>;
  const auto n = static_cast<std::uint64_t>(std::ranges::size(inputs));
  if (n == 0) throw error("burla: write_job_script: there are no inputs, so there is no job to write");
  auto script = job_state::write_script(
      opts, n, describe_job<F, In, R, S>(f, shared),
      [&](input_sink& sink, std::uint64_t segment_items) { encode_inputs<In>(sink, inputs, segment_items); });
  std::printf("burla: job %s is ready. Submit it with:\n  %s\n", script.id.c_str(),
              script.submit_command.c_str());
  std::fflush(stdout);
  return script;
}

template <class T>
concept shared_argument = !std::is_same_v<T, options>;

}  // namespace detail

/// Starts f(input) for every input and returns once the job is started (Burla's background).
/// f: a plain function, a lambda capturing only trivially copyable values by copy, or a function
/// object with a serialize member (its members travel with it).
/// inputs: any sized range (vector, array, span) of serializable values.
template <class F, std::ranges::sized_range Inputs>
auto submit(F f, const Inputs& inputs, const options& opts = {}) {
  using In = std::ranges::range_value_t<Inputs>;
  BURLA_DETAIL_CHECK_MAP(F, In, void);
  if constexpr (detail::map_arguments_ok_v<F, In, void>)
    return detail::start_map<F, In, void>(f, inputs, nullptr, opts);
}

/// Starts f(shared, input) for every input. `shared` (a table, a configuration: anything
/// serializable) is written once and read once by each worker, however many calls there are.
template <class F, std::ranges::sized_range Inputs, detail::shared_argument Shared>
auto submit(F f, const Inputs& inputs, const Shared& shared, const options& opts = {}) {
  using In = std::ranges::range_value_t<Inputs>;
  BURLA_DETAIL_CHECK_MAP(F, In, Shared);
  if constexpr (detail::map_arguments_ok_v<F, In, Shared>)
    return detail::start_map<F, In, Shared>(f, inputs, &shared, opts);
}

/// submit(f, {1, 2, 3}): a braced list of inputs.
template <class F, class T>
auto submit(F f, std::initializer_list<T> inputs, const options& opts = {}) {
  return submit(f, std::span<const T>(inputs.begin(), inputs.size()), opts);
}
template <class F, class T, detail::shared_argument Shared>
auto submit(F f, std::initializer_list<T> inputs, const Shared& shared, const options& opts = {}) {
  return submit(f, std::span<const T>(inputs.begin(), inputs.size()), shared, opts);
}

/// Follows a job started earlier, by this program or another run of it: by its id (job.id(), the
/// job directory's name) or its Slurm job id. R must be what the job's function returns.
/// Options used: job_dir (where to look) and spinner. `output`: whether what the calls printed
/// before now is printed again.
template <class R>
job<R> attach(const std::string& id, const options& opts = {}, past_output output = past_output::replay) {
  return job<R>(detail::job_state::attach(id, opts, detail::type_name<R>(), detail::encoding_of<R>(),
                                          output == past_output::replay));
}

/// Finishes a job that ended early (killed, interrupted at its time limit, or stopped at a failure):
/// runs only the inputs without a result (and, with rerun::missing_and_failed, those that failed)
/// in the same job directory, completing its journal and results.h5. The job returned gives every
/// result, old and new, as if the job had never stopped. Options used: job_dir, spinner, and for
/// the new run backend and the Slurm options.
template <class R>
job<R> resume(const std::string& id, const options& opts = {}, rerun which = rerun::missing) {
  return job<R>(detail::job_state::resume(id, opts, detail::type_name<R>(), detail::encoding_of<R>(),
                                          which == rerun::missing_and_failed));
}

/// Writes the job directory and its sbatch script without submitting it, for users who submit by
/// hand; prints the sbatch command. Follow the job later with attach<R>(id) or `burla status ID`.
template <class F, std::ranges::sized_range Inputs>
job_script write_job_script(F f, const Inputs& inputs, const options& opts = {}) {
  using In = std::ranges::range_value_t<Inputs>;
  BURLA_DETAIL_CHECK_MAP(F, In, void);
  if constexpr (detail::map_arguments_ok_v<F, In, void>)
    return detail::write_map_script<F, In, void>(f, inputs, nullptr, opts);
  else
    return job_script{};
}
template <class F, std::ranges::sized_range Inputs, detail::shared_argument Shared>
job_script write_job_script(F f, const Inputs& inputs, const Shared& shared, const options& opts = {}) {
  using In = std::ranges::range_value_t<Inputs>;
  BURLA_DETAIL_CHECK_MAP(F, In, Shared);
  if constexpr (detail::map_arguments_ok_v<F, In, Shared>)
    return detail::write_map_script<F, In, Shared>(f, inputs, &shared, opts);
  else
    return job_script{};
}

/// Runs f(input) for every input in parallel and returns the results in input order.
/// Everything the calls print appears here; a call that throws makes this throw
/// burla::remote_error (the job stops at the first failure).
template <class F, std::ranges::sized_range Inputs>
auto remote_parallel_map(F f, const Inputs& inputs, const options& opts = {}) {
  using In = std::ranges::range_value_t<Inputs>;
  BURLA_DETAIL_CHECK_MAP(F, In, void);
  if constexpr (detail::map_arguments_ok_v<F, In, void>)
    return detail::start_map<F, In, void>(f, inputs, nullptr, opts).results();  // an rvalue: moved out
}

/// remote_parallel_map(f, inputs, shared): f(shared, input) for every input, `shared` sent to
/// each worker once (see submit).
template <class F, std::ranges::sized_range Inputs, detail::shared_argument Shared>
auto remote_parallel_map(F f, const Inputs& inputs, const Shared& shared, const options& opts = {}) {
  using In = std::ranges::range_value_t<Inputs>;
  BURLA_DETAIL_CHECK_MAP(F, In, Shared);
  if constexpr (detail::map_arguments_ok_v<F, In, Shared>)
    return detail::start_map<F, In, Shared>(f, inputs, &shared, opts).results();
}

/// remote_parallel_map(f, {1, 2, 3}): a braced list of inputs.
template <class F, class T>
auto remote_parallel_map(F f, std::initializer_list<T> inputs, const options& opts = {}) {
  return remote_parallel_map(f, std::span<const T>(inputs.begin(), inputs.size()), opts);
}
template <class F, class T, detail::shared_argument Shared>
auto remote_parallel_map(F f, std::initializer_list<T> inputs, const Shared& shared,
                         const options& opts = {}) {
  return remote_parallel_map(f, std::span<const T>(inputs.begin(), inputs.size()), shared, opts);
}

}  // namespace burla
