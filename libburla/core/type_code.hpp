// The HDF5 type codes job.ini records for fixed and sequence values (written by
// detail::h5_code): the one reader, used by job.ini's checks, results.h5's types and `burla
// results`. Grammar: [v:][aN:]element, element = bool | iB | uB | fB (a scalar of B bits) | cB
// (a complex number of B bits, {r, i} of f(B/2)).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace burla::core {

struct type_code {
  std::string scalar;              ///< the scalar code: "f64", "i32", "bool", ...; of each part for complex
  bool complex = false;            ///< {r, i} pairs of `scalar`
  std::uint64_t array = 0;         ///< > 0: a std::array of this many elements
  bool sequence = false;           ///< a std::vector of elements (or of arrays)
  std::uint64_t scalar_size = 0;   ///< bytes of one scalar
  std::uint64_t element_size = 0;  ///< bytes of one sequence element (an array, or one number)
  /// Bytes of one fixed value; 0 for sequences.
  std::uint64_t fixed_size() const { return sequence ? 0 : element_size; }
};

/// The code parsed, or nothing if it is no code burla writes.
std::optional<type_code> parse_type_code(std::string_view code);

}  // namespace burla::core
