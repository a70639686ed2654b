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
  std::string input_h5;           ///< HDF5 type of fixed and sequence inputs (h5_code)
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

/// The HDF5 type code of a fixed or sequence type, as job.ini records it (read by
/// core::parse_type_code): "bool", "i8".."u64", "f32", "f64", "f128" (long double); "c128" for
/// std::complex<double> (the bits of both parts); "a3:f64" for std::array<double, 3>; "v:f64"
/// for std::vector<double>. Empty for other types.
template <class T>
std::string h5_code() {
  if constexpr (is_typed_vector_v<T>) {
    return "v:" + h5_code<typename T::value_type>();
  } else if constexpr (is_typed_array_v<T>) {
    return "a" + std::to_string(std::tuple_size_v<T>) + ":" + h5_code<typename T::value_type>();
  } else if constexpr (is_complex_v<T>) {
    return "c" + std::to_string(sizeof(T) * 8);
  } else if constexpr (std::is_enum_v<T>) {
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

template <class F, class In, class R, class S>
job_types describe_job(const F& f, const S* shared) {
  job_types t;
  t.input_type = type_name<In>();
  t.result_type = type_name<R>();
  t.input_kind = kind_of<In>();
  t.result_kind = kind_of<R>();
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
