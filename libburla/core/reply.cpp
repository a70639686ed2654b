#include "reply.hpp"

#include <cstddef>
#include <cstring>

namespace burla::core {

reply_frame frame_reply(const reply_header& h, std::string_view status, std::size_t results_size,
                        const std::vector<note>& notes) {
  reply_frame f;
  detail::byte_writer w(f.before);
  w.put(h.first);
  w.put(h.requested);
  w.put(h.done);
  w.put(h.rank);
  w.put(h.elapsed_ns);
  w.put_raw(status);
  w.put<std::uint64_t>(results_size);  // byte_writer::put_bytes' length
  detail::byte_writer a(f.after);
  a.put<std::uint32_t>(static_cast<std::uint32_t>(notes.size()));
  for (const note& n : notes) {
    a.put(n.item);
    a.put(n.kind);
    a.put_bytes(n.text);
  }
  return f;
}

void build_reply(std::string& out, const reply_header& h, std::string_view status, std::string_view results,
                 const std::vector<note>& notes) {
  const reply_frame f = frame_reply(h, status, results.size(), notes);
  out.reserve(out.size() + f.before.size() + results.size() + f.after.size());
  out += f.before;
  out += results;
  out += f.after;
}

void set_reply_rank(std::string& reply, std::int32_t rank) {
  constexpr std::size_t at = offsetof(reply_header, rank);  // first, requested and done come before it
  static_assert(at == sizeof(std::uint64_t) + 2 * sizeof(std::uint32_t));
  if (reply.size() < at + sizeof rank) throw error("burla: a batch reply too short for its header");
  std::memcpy(reply.data() + at, &rank, sizeof rank);
}

void append_missing_result(std::string& results, const job_types& t) {
  if (t.result_kind == value_kind::fixed)
    results.append(t.result_size, '\0');
  else if (t.result_kind != value_kind::none)
    results.append(sizeof(std::uint64_t), '\0');  // an empty length-prefixed value
}

std::string encode_places(const std::vector<result_place>& places) {
  std::string out;
  out.reserve(places.size() * place_bytes);
  detail::byte_writer w(out);
  for (const result_place& p : places) {
    w.put(p.offset);
    w.put(p.size);
    w.put(p.crc);
  }
  return out;
}

std::vector<result_place> decode_places(std::string_view bytes) {
  if (bytes.size() % place_bytes != 0)
    throw error("burla: corrupted placed batch (" + std::to_string(bytes.size()) +
                " bytes of places, not a multiple of " + std::to_string(place_bytes) + ")");
  detail::byte_reader r(bytes, "the places of a batch's results");
  std::vector<result_place> out(bytes.size() / place_bytes);
  for (result_place& p : out) {
    p.offset = r.get<std::uint64_t>();
    p.size = r.get<std::uint64_t>();
    p.crc = r.get<std::uint32_t>();
    if (p.offset > UINT64_MAX - p.size) throw error("burla: corrupted placed batch (a place past 2^64)");
  }
  return out;
}

reply_view parse_reply(std::string_view bytes) {
  detail::byte_reader r(bytes, "a batch reply");
  reply_view v;
  v.head.first = r.get<std::uint64_t>();
  v.head.requested = r.get<std::uint32_t>();
  v.head.done = r.get<std::uint32_t>();
  v.head.rank = r.get<std::int32_t>();
  v.head.elapsed_ns = r.get<std::uint64_t>();
  if (v.head.done > v.head.requested) throw error("burla: corrupted batch reply (done > requested)");
  if (v.head.first > UINT64_MAX - v.head.requested)  // readers index inputs first + i
    throw error("burla: corrupted batch reply (first input " + std::to_string(v.head.first) + ")");
  v.status = reinterpret_cast<const std::uint8_t*>(r.take(v.head.done).data());
  v.results = r.get_bytes();
  const auto n_notes = r.get<std::uint32_t>();
  if (n_notes > r.left()) throw error("burla: corrupted batch reply (note count)");
  v.notes.reserve(n_notes);
  for (std::uint32_t i = 0; i < n_notes; ++i) {
    note n;
    n.item = r.get<std::uint32_t>();
    n.kind = r.get<note_kind>();
    n.text = r.get_bytes();
    if (n.item >= v.head.done) throw error("burla: corrupted batch reply (note index)");
    v.notes.push_back(n);
  }
  return v;
}

}  // namespace burla::core
