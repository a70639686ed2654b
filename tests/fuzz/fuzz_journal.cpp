// The journal file as the caller and `burla` read it: journal_reader, then each record's
// decoder, then the results of each batch as job<R> decodes them. The file arrives in two
// pieces (as from a job still writing), so the reader also resumes after a partial record.
// Each step must succeed or throw burla::error.
#include <burla/detail/codec.hpp>
#include <burla/error.hpp>

#include "fuzz_support.hpp"
#include "libburla/src/protocol.hpp"

namespace proto = burla::detail::protocol;

namespace {

template <class R>
void decode_results(const proto::reply_view& r) {
  burla::detail::byte_reader in(r.results, "the results of a batch");
  for (std::uint32_t k = 0; k < r.head.done; ++k) (void)burla::detail::decode_value<R>(in);
}

void read_all(proto::journal_reader& reader) {
  proto::record_type type;
  std::string_view payload;
  while (reader.next(type, payload)) {
    switch (type) {
      case proto::record_type::start:
        (void)proto::decode_start(payload);
        break;
      case proto::record_type::dispatch:
        (void)proto::decode_dispatch(payload);
        break;
      case proto::record_type::batch: {
        const proto::reply_view r = proto::parse_reply(payload);
        if (r.head.done > r.head.requested) __builtin_trap();
        for (const auto& n : r.notes)
          if (n.item >= r.head.done) __builtin_trap();
        // Results of one type per journal; which one depends on the record's size.
        try {
          if (payload.size() % 2)
            decode_results<double>(r);
          else
            decode_results<std::string>(r);
        } catch (const burla::error&) {
        }
        break;
      }
      case proto::record_type::end:
        (void)proto::decode_end(payload);
        break;
      default:
        break;  // record types added later: the reader passes them on
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = fuzz::scratch_dir() + "/journal";
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = size / 2;
  fuzz::write_file(path, bytes.substr(0, cut));
  try {
    proto::journal_reader reader(path);
    read_all(reader);
    fuzz::write_file(path, bytes.substr(cut), /*append=*/true);
    read_all(reader);
  } catch (const burla::error&) {
  }
  // The same bytes as a batch reply straight from a worker (the master parses those).
  try {
    (void)proto::parse_reply(bytes);
  } catch (const burla::error&) {
  }
  return 0;
}
