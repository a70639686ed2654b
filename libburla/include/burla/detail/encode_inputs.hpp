// How submit writes a job's inputs (encoding_of): fixed-size values as raw bytes (one write for
// a contiguous range), sequences as their encoding (encode_value), others as Boost binary
// archives, one per segment of segment_items inputs.
#pragma once

#include <burla/detail/codec.hpp>
#include <burla/detail/job_state.hpp>
#include <cstdint>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>

namespace burla {

namespace detail {

template <class In, class Inputs>
void encode_fixed(input_sink& sink, const Inputs& inputs, std::string& buf) {
  if constexpr (std::ranges::contiguous_range<Inputs> &&
                std::is_same_v<std::ranges::range_value_t<Inputs>, In>) {
    sink.write(
        {reinterpret_cast<const char*>(std::ranges::data(inputs)), std::ranges::size(inputs) * sizeof(In)});
    return;
  }
  for (const auto& element : inputs) {
    const In x = element;
    buf.append(reinterpret_cast<const char*>(&x), sizeof(In));
    if (buf.size() >= (1u << 20)) {
      sink.write(buf);
      buf.clear();
    }
  }
}

template <class In, class Inputs>
void encode_sequences(input_sink& sink, const Inputs& inputs, std::uint64_t segment_items, std::string& buf) {
  std::uint64_t i = 0;
  for (const auto& element : inputs) {
    if (i++ % segment_items == 0) {
      sink.write(buf);
      buf.clear();
      sink.mark_segment();
    }
    const In& x = element;
    if constexpr (!has_record_v<In> && typed_kind<In>() == value_kind::sequence) {
      // A large vector is written from where it is, as encode_value would encode it.
      if (const std::string_view bytes = sequence_bytes(x); bytes.size() >= (64u << 10)) {
        byte_writer(buf).put<std::uint64_t>(bytes.size());
        sink.write(buf);
        buf.clear();
        sink.write(bytes);
        continue;
      }
    }
    encode_value(buf, x);
    if (buf.size() >= (1u << 20)) {
      sink.write(buf);
      buf.clear();
    }
  }
}

template <class In, class Inputs>
void encode_archives(input_sink& sink, const Inputs& inputs, std::uint64_t segment_items, std::string& buf) {
  append_buf out(buf);
  std::optional<boost::archive::binary_oarchive> archive;
  std::uint64_t i = 0;
  for (const auto& element : inputs) {
    if (i++ % segment_items == 0) {
      archive.reset();
      sink.write(buf);
      buf.clear();
      sink.mark_segment();
      archive.emplace(out, archive_flags);
    }
    const In& x = element;
    *archive << x;
    if (buf.size() >= (1u << 20)) {  // the archive keeps no pointers into buf
      sink.write(buf);
      buf.clear();
    }
  }
  archive.reset();
}

template <class In, class Inputs>
void encode_inputs(input_sink& sink, const Inputs& inputs, std::uint64_t segment_items) {
  std::string buf;
  const value_kind kind = encoding_of<In>();
  if constexpr (typed_kind<In>() == value_kind::fixed)
    if (kind == value_kind::fixed) encode_fixed<In>(sink, inputs, buf);
  if constexpr (typed_kind<In>() == value_kind::sequence)
    if (kind == value_kind::sequence) encode_sequences<In>(sink, inputs, segment_items, buf);
  // Strings, serialized values and records without a schema.
  if constexpr (kind_of<In>() == value_kind::string || kind_of<In>() == value_kind::serialized)
    if (kind == value_kind::string || kind == value_kind::serialized)
      encode_archives<In>(sink, inputs, segment_items, buf);
  sink.write(buf);
}

}  // namespace detail

}  // namespace burla
