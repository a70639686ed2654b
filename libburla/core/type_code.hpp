// The HDF5 type codes job.ini records for fixed and sequence values (written by
// detail::h5_code): the one reader, used by job.ini's checks, results.h5's types and `burla
// results`. Grammar: [v:][aN:]element, element = bool | iB | uB | fB (a scalar of B bits) | cB
// (a complex number of B bits, {r, i} of f(B/2)) | sS{field,...} (a record, a struct of S
// bytes), field = name@offset:[aN:](bool | iB | uB | fB | cB).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace burla::core {

struct type_field;

struct type_code {
  std::string
      scalar;  ///< the scalar code: "f64", "i32", "bool", ...; of each part for complex; a record's "sS{...}"
  bool complex = false;            ///< {r, i} pairs of `scalar`
  std::vector<type_field> fields;  ///< a record's members, in the order its serialize visits them
  std::uint64_t array = 0;         ///< > 0: a std::array of this many elements
  bool sequence = false;           ///< a std::vector of elements (or of arrays)
  std::uint64_t scalar_size = 0;   ///< bytes of one scalar (a record's size)
  std::uint64_t element_size = 0;  ///< bytes of one sequence element (an array, or one number)
  /// Bytes of one fixed value; 0 for sequences.
  std::uint64_t fixed_size() const { return sequence ? 0 : element_size; }
  bool record() const { return !fields.empty(); }
};

/// A member of a record: no sequence, no record.
struct type_field {
  std::string name;  ///< an identifier: [A-Za-z_][A-Za-z0-9_]*, at most 64 characters
  std::uint64_t offset = 0;
  type_code type;
};

/// The code parsed, or nothing if it is no code burla writes.
std::optional<type_code> parse_type_code(std::string_view code);

}  // namespace burla::core
