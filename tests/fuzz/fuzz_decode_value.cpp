// Results as the caller decodes them from a batch in the journal: decode_value<R> over a byte
// range, value after value, for a few result types (raw, string, sequence, Boost archives, records). Each
// value must decode or throw burla::error. Input: a type selector byte, then the encoded values.
#include <burla/detail/codec.hpp>
#include <burla/error.hpp>

#include "fuzz_support.hpp"

namespace {

using fuzz::point;
using fuzz::sample;

template <class R>
void decode_all(std::string_view bytes) {
  burla::detail::byte_reader in(bytes, "the results of a batch");
  try {
    while (!in.empty()) (void)burla::detail::decode_value<R>(in);
  } catch (const burla::error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 11) {
    case 0:
      decode_all<int>(bytes);
      break;
    case 1:
      decode_all<std::string>(bytes);
      break;
    case 2:
      decode_all<std::vector<double>>(bytes);
      break;
    case 3:
      decode_all<std::vector<std::string>>(bytes);
      break;
    case 4:
      decode_all<std::map<std::string, std::vector<int>>>(bytes);
      break;
    case 5:
      decode_all<point>(bytes);
      break;
    case 6:
      decode_all<std::pair<std::set<long>, std::list<std::string>>>(bytes);
      break;
    case 7:
      decode_all<std::vector<point>>(bytes);
      break;
    case 8:
      decode_all<bool>(bytes);
      break;
    case 9:
      decode_all<sample>(bytes);
      break;
    case 10:
      decode_all<std::vector<sample>>(bytes);
      break;
  }
  return 0;
}
