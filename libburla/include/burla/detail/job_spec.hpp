// The description of a job: written by the caller into the job directory (job.ini), read by
// every rank of the job and by later readers of the job directory.
#pragma once

#include <burla/detail/codec.hpp>
#include <burla/detail/invoke.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>

namespace burla::detail {

/// A code address as (module build-id, module path, offset from the module's load address):
/// the same in every process that loaded the same build, whatever address randomization did.
struct module_address {
  std::string build_id;
  std::string module;
  std::uint64_t offset = 0;
};

/// Finds the module holding `address` (main program or shared library).
module_address locate_code(const void* address);
/// The inverse in this process; throws build_mismatch when no loaded module has that build-id.
const void* resolve_code(const module_address& where);
/// Demangled C++ type name.
std::string demangle(const char* mangled);

/// What the typed layer knows about a job: types, encodings and the function.
struct job_types {
  std::string input_type;
  std::string result_type;
  value_kind input_kind = value_kind::fixed;
  value_kind result_kind = value_kind::fixed;
  std::uint64_t input_size = 0;   ///< fixed encodings only
  std::uint64_t result_size = 0;  ///< fixed encodings only
  std::string input_h5;           ///< HDF5 element type of fixed inputs ("i32", "f64", "bool", ...)
  std::string result_h5;          ///< same for results
  module_address batch_function;  ///< run_batch<F, In, R>
  bool callable_is_function = false;
  module_address function;     ///< when f is a plain function
  std::string callable_state;  ///< otherwise: the bytes of the closure
};

struct job_spec {
  int format_version = 1;
  std::string id;
  std::string created;  ///< ISO 8601, UTC
  std::string caller_host;
  std::string backend = "local";  ///< local (mpirun), slurm (sbatch) or allocation (srun in one)
  std::string executable;         ///< what the job runs
  std::string build_id;           ///< of the caller's main program
  std::uint64_t n_inputs = 0;
  std::uint64_t segment_items = 1;  ///< serialized inputs: items per archive
  int workers = 1;
  int func_cpu = 1;
  double func_ram = 0;  ///< GB, 0: no requirement
  int func_gpu = 0;
  std::uint64_t func_timeout_ms = 0;  ///< 0: no limit
  int max_retries = 0;
  bool collect_errors = false;  ///< on_error = collect: run every input
  int run = 1;                  ///< 1, then 2, 3... for each burla::resume of the job
  bool rerun_failed = false;    ///< a resumed run also runs the inputs that failed
  int drain_seconds = 120;      ///< Slurm: SIGUSR1 this long before the time limit
  job_types types;
};

void write_job_spec(const std::string& path, const job_spec& spec);
job_spec read_job_spec(const std::string& path);
/// The line that ends job.ini: a checksum (FNV-1a) of everything before it. A damaged byte
/// elsewhere (a code offset, the callable's bytes) would send the job to the wrong code; the
/// reader refuses the file instead.
std::string job_ini_checksum_line(std::string_view body);

template <class T>
std::string h5_code() {
  if constexpr (std::is_enum_v<T>) {
    return h5_code<std::underlying_type_t<T>>();
  } else if constexpr (std::is_same_v<T, bool>) {
    return "bool";
  } else if constexpr (std::is_floating_point_v<T>) {
    return "f" + std::to_string(sizeof(T) * 8);
  } else if constexpr (std::is_integral_v<T>) {
    return (std::is_signed_v<T> ? "i" : "u") + std::to_string(sizeof(T) * 8);
  } else {
    return "";
  }
}

template <class T>
std::string type_name() {
  if constexpr (std::is_void_v<T>)
    return "void";
  else
    return demangle(typeid(T).name());
}

template <class F, class In, class R>
job_types describe_job(const F& f) {
  job_types t;
  t.input_type = type_name<In>();
  t.result_type = type_name<R>();
  t.input_kind = kind_of<In>();
  t.result_kind = kind_of<R>();
  t.input_size = fixed_size<In>();
  if constexpr (!std::is_void_v<R>) t.result_size = fixed_size<R>();
  t.input_h5 = h5_code<In>();
  if constexpr (!std::is_void_v<R>) t.result_h5 = h5_code<R>();
  t.batch_function = locate_code(reinterpret_cast<const void*>(&run_batch<F, In, R>));
  if constexpr (is_plain_function_v<F>) {
    t.callable_is_function = true;
    t.function = locate_code(reinterpret_cast<const void*>(f));
  } else {
    t.callable_state.assign(reinterpret_cast<const char*>(&f), sizeof(F));
  }
  return t;
}

}  // namespace burla::detail
