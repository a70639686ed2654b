#include "type_code.hpp"

#include <algorithm>
#include <burla/detail/codec.hpp>
#include <charconv>

namespace burla::core {
namespace {

/// Bytes of a scalar code, 0 if none. Long double has the one code its size gives here.
std::uint64_t scalar_size(std::string_view code) {
  if (code == "bool") return 1;
  if (code == "f" + std::to_string(sizeof(long double) * 8)) return sizeof(long double);
  for (const char* c : {"i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64"})
    if (code == c) return std::stoul(c + 1) / 8;
  return 0;
}

/// A decimal number > 0 without leading zeros, or nothing.
std::optional<std::uint64_t> count(std::string_view text) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n == 0 || text[0] == '0') return std::nullopt;
  return n;
}

}  // namespace

std::optional<type_code> parse_type_code(std::string_view code) {
  type_code t;
  if (code.starts_with("v:")) {
    t.sequence = true;
    code.remove_prefix(2);
  }
  if (code.starts_with("a")) {
    const auto colon = code.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const auto n = count(code.substr(1, colon - 1));
    if (!n) return std::nullopt;
    t.array = *n;
    code.remove_prefix(colon + 1);
  }
  if (code.starts_with("c")) {
    const auto bits = count(code.substr(1));
    if (!bits || *bits % 2 != 0) return std::nullopt;
    t.complex = true;
    t.scalar = "f" + std::to_string(*bits / 2);
    if (!scalar_size(t.scalar)) return std::nullopt;
  } else {
    t.scalar = std::string(code);
  }
  t.scalar_size = scalar_size(t.scalar);
  if (t.scalar_size == 0) return std::nullopt;
  // Arrays and vectors hold no bools (codec.hpp: is_typed_element_v).
  if ((t.array || t.sequence) && t.scalar == "bool") return std::nullopt;
  if (t.array > detail::max_fixed_bytes) return std::nullopt;  // before it multiplies
  t.element_size = t.scalar_size * (t.complex ? 2 : 1) * std::max<std::uint64_t>(t.array, 1);
  if (t.array && t.element_size > detail::max_fixed_bytes) return std::nullopt;
  return t;
}

}  // namespace burla::core
