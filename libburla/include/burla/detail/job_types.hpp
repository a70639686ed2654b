// What a job's templates know about it: the input and result types, their encodings and where
// the function is, as code addresses every process of the same build can resolve.
#pragma once

#include <burla/detail/codec.hpp>
#include <burla/detail/invoke.hpp>
#include <cstdint>
#include <string>
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
/// Demangled C++ type name, std::string for libstdc++'s std::__cxx11::basic_string<char, ...>.
std::string demangle(const char* mangled);
/// The same spelling for a name demangled earlier (job.ini of an older build).
std::string readable_type_name(std::string name);

/// What the typed layer knows about a job: types, encodings and the function.
struct job_types {
  std::string input_type;
  std::string result_type;
  value_kind input_kind = value_kind::fixed;
  value_kind result_kind = value_kind::fixed;
  std::uint64_t input_size = 0;   ///< fixed encodings only
  std::uint64_t result_size = 0;  ///< fixed encodings only
  std::string input_h5;           ///< HDF5 type of fixed and sequence inputs (h5_code, codec.hpp)
  std::string result_h5;          ///< same for results
  module_address batch_function;  ///< run_batch<F, In, R>
  bool callable_is_function = false;
  module_address function;     ///< when f is a plain function
  std::string callable_state;  ///< a trivially copyable closure: its bytes
  /// call_state's archive (a function object with serialize, the shared argument): written to
  /// state.bin, whose size and CRC-32C job.ini keeps; empty if the job has none.
  std::string state;
  std::uint64_t state_size = 0;
  std::uint32_t state_crc = 0;
};

template <class T>
std::string type_name() {
  if constexpr (std::is_void_v<T>)
    return "void";
  else
    return demangle(typeid(T).name());
}

template <class F, class In, class R, class S>
job_types describe_job(const F& f, const S* shared) {
  job_types t;
  t.input_type = type_name<In>();
  t.result_type = type_name<R>();
  t.input_kind = encoding_of<In>();
  t.result_kind = encoding_of<R>();
  t.input_size = fixed_size<In>();
  if constexpr (!std::is_void_v<R>) t.result_size = fixed_size<R>();
  t.input_h5 = h5_code<In>();
  if constexpr (!std::is_void_v<R>) t.result_h5 = h5_code<R>();
  t.batch_function = locate_code(reinterpret_cast<const void*>(&run_batch<F, In, R, S>));
  if constexpr (is_plain_function_v<F>) {
    t.callable_is_function = true;
    t.function = locate_code(reinterpret_cast<const void*>(f));
  } else if constexpr (!is_serialized_callable_v<F>) {
    t.callable_state.assign(reinterpret_cast<const char*>(&f), sizeof(F));
  }
  if constexpr (has_call_state_v<F, S>) encode_call_state(t.state, f, shared);
  return t;
}

}  // namespace burla::detail
