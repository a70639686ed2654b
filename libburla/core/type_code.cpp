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

bool identifier(std::string_view n) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (n.empty() || n.size() > 64 || !letter(n[0])) return false;
  return std::all_of(n.begin(), n.end(), [&](char c) { return letter(c) || (c >= '0' && c <= '9'); });
}

/// A number >= 0 without leading zeros, or nothing.
std::optional<std::uint64_t> offset(std::string_view text) {
  if (text == "0") return 0;
  return count(text);
}

/// The members of a record of `size` bytes, "name@offset:code,..." (without the braces): inside
/// it, apart, and named apart.
std::optional<std::vector<type_field>> record_fields(std::string_view text, std::uint64_t size) {
  std::vector<type_field> fields;
  while (true) {
    const auto comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    const auto at = part.find('@'), colon = part.find(':');
    if (at == std::string_view::npos || colon == std::string_view::npos || colon < at) return std::nullopt;
    type_field f;
    f.name = std::string(part.substr(0, at));
    const auto off = offset(part.substr(at + 1, colon - at - 1));
    auto type = parse_type_code(part.substr(colon + 1));
    if (!identifier(f.name) || !off || !type || type->sequence || type->record()) return std::nullopt;
    if (*off > size || type->fixed_size() > size - *off) return std::nullopt;
    f.offset = *off;
    f.type = std::move(*type);
    for (const auto& g : fields)
      if (g.name == f.name ||
          (f.offset < g.offset + g.type.fixed_size() && g.offset < f.offset + f.type.fixed_size()))
        return std::nullopt;
    fields.push_back(std::move(f));
    if (comma == std::string_view::npos) return fields;
    text.remove_prefix(comma + 1);
  }
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
  if (code.starts_with("s")) {
    const auto open = code.find('{');
    if (open == std::string_view::npos || !code.ends_with('}')) return std::nullopt;
    const auto size = count(code.substr(1, open - 1));
    if (!size || *size > detail::max_fixed_bytes) return std::nullopt;
    auto fields = record_fields(code.substr(open + 1, code.size() - open - 2), *size);
    if (!fields) return std::nullopt;
    t.scalar = std::string(code);
    t.fields = std::move(*fields);
    t.scalar_size = *size;
  } else if (code.starts_with("c")) {
    const auto bits = count(code.substr(1));
    if (!bits || *bits % 2 != 0) return std::nullopt;
    t.complex = true;
    t.scalar = "f" + std::to_string(*bits / 2);
    if (!scalar_size(t.scalar)) return std::nullopt;
  } else {
    t.scalar = std::string(code);
  }
  if (!t.record()) t.scalar_size = scalar_size(t.scalar);
  if (t.scalar_size == 0) return std::nullopt;
  // Arrays and vectors hold no bools (codec.hpp: is_typed_element_v).
  if ((t.array || t.sequence) && t.scalar == "bool") return std::nullopt;
  if (t.array > detail::max_fixed_bytes) return std::nullopt;  // before it multiplies
  t.element_size = t.scalar_size * (t.complex ? 2 : 1) * std::max<std::uint64_t>(t.array, 1);
  if (t.array && t.element_size > detail::max_fixed_bytes) return std::nullopt;
  return t;
}

}  // namespace burla::core
