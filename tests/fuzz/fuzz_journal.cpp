// The journal file as the caller and `burla` read it: journal_reader (which decodes each
// record), the journal fold, then the results of each batch as job<R> decodes them. The file arrives in two
// pieces (as from a job still writing), so the reader also resumes after a partial record.
// Each step must succeed or throw burla::error.
#include <burla/detail/codec.hpp>
#include <burla/error.hpp>

#include "fuzz_support.hpp"
#include "libburla/core/journal_fold.hpp"
#include "libburla/core/results_reader.hpp"

namespace proto = burla::core;

namespace {

template <class R>
void decode_results(const proto::reply_view& r) {
  burla::detail::byte_reader in(r.results, "the results of a batch");
  for (std::uint32_t k = 0; k < r.head.done; ++k) (void)burla::detail::decode_value<R>(in);
}

void read_all(proto::journal_reader& reader, proto::journal_fold& fold) {
  for (proto::record rec; reader.next(rec);) {
    try {
      (void)fold.apply(rec);
    } catch (const burla::error&) {
    }
    const auto* r = std::get_if<proto::reply_view>(&rec);
    if (!r) continue;
    if (r->head.done > r->head.requested) __builtin_trap();
    for (const auto& n : r->notes)
      if (n.item >= r->head.done) __builtin_trap();
    // A placed batch's results, at its places in a results file of arbitrary bytes.
    if (r->where == proto::results_in::places) {
      static const proto::job_types types = [] {
        proto::job_types t;
        t.result_kind = burla::detail::value_kind::serialized;
        return t;
      }();
      try {
        proto::batch_results placed(fuzz::scratch_dir() + "/results.h5", types);
        (void)placed.of(*r);
      } catch (const burla::error&) {
      }
      continue;
    }
    // Results of one type per journal; which one depends on the reply's size.
    try {
      if (r->results.size() % 2)
        decode_results<double>(*r);
      else
        decode_results<std::string>(*r);
    } catch (const burla::error&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = fuzz::scratch_dir() + "/journal";
  static const bool results_file = [] {  // what placed batches point into
    fuzz::write_file(fuzz::scratch_dir() + "/.results.run1.h5", "..HELLO..WORLD........");
    return true;
  }();
  (void)results_file;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = size / 2;
  fuzz::write_file(path, bytes.substr(0, cut));
  try {
    proto::journal_reader reader(path);
    // The fold as the caller and the burla command apply it, for a job of 64 inputs.
    proto::job_spec spec;
    spec.n_inputs = 64;
    proto::journal_fold fold(spec, path);
    read_all(reader, fold);
    fuzz::write_file(path, bytes.substr(cut), /*append=*/true);
    read_all(reader, fold);
  } catch (const burla::error&) {
  }
  // Records pass their checksums only as burla writes them, which the fuzzer rarely finds: the
  // decoders and the fold also get the bytes straight (first byte: the record type).
  if (size > 0) {
    try {
      proto::job_spec spec;
      spec.n_inputs = 64;
      proto::journal_fold fold(spec, path);
      (void)fold.apply(proto::decode(static_cast<proto::record_type>(1 + data[0] % 4), bytes.substr(1)));
    } catch (const burla::error&) {
    }
  }
  // The same bytes as a batch reply straight from a worker (the master parses those).
  try {
    (void)proto::parse_reply(bytes);
  } catch (const burla::error&) {
  }
  return 0;
}
