// Damaged job files give burla::error naming the file, never a crash, a hang or a huge
// allocation: one test per bug the fuzz targets (tests/fuzz) found or guard against.
#include <gtest/gtest.h>
#include <unistd.h>

#include <burla/detail/codec.hpp>
#include <burla/detail/invoke.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <list>
#include <string>
#include <utility>
#include <vector>

#include "libburla/core/input_file.hpp"
#include "libburla/core/job_spec.hpp"
#include "libburla/core/journal.hpp"
#include "libburla/core/posix.hpp"

namespace proto = burla::core;
using burla::detail::value_kind;

namespace {

std::string temp_dir() {
  std::string tmpl = "/tmp/burla-unit-XXXXXX";
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

template <class T>
std::string raw(const T& v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}

std::string offsets(std::initializer_list<std::uint64_t> values) {
  std::string out;
  for (auto v : values) out += raw(v);
  return out;
}

/// Runs f, which must throw burla::error mentioning every one of `words`.
template <class F>
void expect_error(F&& f, std::initializer_list<std::string> words) {
  try {
    f();
    ADD_FAILURE() << "no error; wanted one mentioning " << *words.begin();
  } catch (const burla::error& e) {
    for (const auto& w : words) EXPECT_NE(std::string(e.what()).find(w), std::string::npos) << e.what();
  }
}

burla::core::job_spec fixed_spec(std::uint64_t n) {
  burla::core::job_spec s;
  s.id = "20260101-000000-abcdef";
  s.created = "2026-01-01T00:00:00Z";
  s.caller_host = "login1";
  s.executable = "/bin/prog";
  s.build_id = "beef";
  s.n_inputs = n;
  s.types.input_type = s.types.result_type = "int";
  s.types.input_size = s.types.result_size = 4;
  s.types.input_h5 = s.types.result_h5 = "i32";
  s.types.batch_function = {"beef", "/bin/prog", 4096};
  return s;
}

burla::core::job_spec segmented_spec(std::uint64_t n, std::uint64_t segment_items) {
  auto s = fixed_spec(n);
  s.segment_items = segment_items;
  s.types.input_kind = value_kind::serialized;
  s.types.input_size = 0;
  s.types.input_h5.clear();
  return s;
}

}  // namespace

// ---- job.ini ---------------------------------------------------------------------------------

TEST(DamagedJobIni, AbsurdInputCountDisagreesWithInputsBin) {
  const std::string dir = temp_dir();
  burla::posix::write_file_atomic(dir + "/inputs.bin", std::string(12, '\0'));  // 3 ints
  burla::core::write_job_spec(dir + "/job.ini", fixed_spec(3));
  EXPECT_EQ(burla::core::read_job_spec(dir + "/job.ini").n_inputs, 3u);
  // A wrapped "-1", and a count whose bytes (n x 4) wrap around to 12: absurd on their own.
  for (std::uint64_t n : {std::numeric_limits<std::uint64_t>::max(), (std::uint64_t{1} << 62) + 3}) {
    burla::core::write_job_spec(dir + "/job.ini", fixed_spec(n));
    expect_error([&] { burla::core::read_job_spec(dir + "/job.ini"); }, {dir + "/job.ini", "n_inputs"});
  }
  // A plausible count, but not what inputs.bin holds.
  burla::core::write_job_spec(dir + "/job.ini", fixed_spec(1'000'000));
  expect_error([&] { burla::core::read_job_spec(dir + "/job.ini"); }, {"n_inputs", "inputs.bin"});
}

TEST(DamagedJobIni, InputCountDisagreesWithInputsIndex) {
  const std::string dir = temp_dir();
  burla::posix::write_file_atomic(dir + "/inputs.bin", "abcdefg");
  burla::posix::write_file_atomic(dir + "/inputs.index", offsets({0, 3, 7}));  // 2 segments
  burla::core::write_job_spec(dir + "/job.ini", segmented_spec(7, 4));
  EXPECT_EQ(burla::core::read_job_spec(dir + "/job.ini").n_inputs, 7u);
  burla::core::write_job_spec(dir + "/job.ini", segmented_spec(7'000'000'000, 4));
  expect_error([&] { burla::core::read_job_spec(dir + "/job.ini"); }, {"n_inputs", "inputs.index"});
}

TEST(DamagedJobIni, SizeThatDoesNotFitTheTypeIsAnError) {
  const std::string dir = temp_dir();
  auto s = fixed_spec(3);
  s.types.result_size = 2;  // but f64: the results file would read 8 bytes per result
  s.types.result_h5 = "f64";
  burla::core::write_job_spec(dir + "/job.ini", s);
  expect_error([&] { burla::core::read_job_spec(dir + "/job.ini"); }, {"result_size", "f64"});
}

// Boost.Program_options expands %value% in its messages, forever when the value holds it.
TEST(DamagedJobIni, PlaceholderInAValueIsAnErrorNotAHang) {
  const std::string dir = temp_dir();
  burla::core::write_job_spec(dir + "/job.ini", fixed_spec(3));
  std::string text = burla::posix::read_file(dir + "/job.ini");
  text.replace(text.find("workers = 1"), 11, "workers = x%value%");
  burla::posix::write_file_atomic(dir + "/job.ini", text);
  expect_error([&] { burla::core::read_job_spec(dir + "/job.ini"); }, {dir + "/job.ini", "line"});
}

TEST(DamagedJobIni, HugeFileIsNotRead) {
  const std::string dir = temp_dir();
  burla::posix::write_file_atomic(dir + "/job.ini", "format_version = 1\n");
  ASSERT_EQ(::truncate((dir + "/job.ini").c_str(), std::int64_t{1} << 40), 0);  // sparse
  expect_error([&] { burla::core::read_job_spec(dir + "/job.ini"); }, {dir + "/job.ini", "bytes"});
}

// ---- inputs.bin and inputs.index ------------------------------------------------------------------

namespace {
void write_checksums(const std::string& dir, std::string_view bytes) {
  burla::core::block_checksums c;
  c.add(bytes);
  burla::posix::write_file_atomic(dir + "/inputs.crc", c.finish());
}
}  // namespace

TEST(DamagedInputs, FixedSizeCountThatWrapsAroundIsAnError) {
  const std::string dir = temp_dir();
  burla::posix::write_file_atomic(dir + "/inputs.bin", std::string(8, 'x'));
  auto s = fixed_spec((std::uint64_t{1} << 62) + 2);  // x 4 bytes wraps to 8
  expect_error([&] { burla::core::input_file f(dir, s); }, {dir, "inputs.bin", "damaged"});
}

TEST(DamagedInputs, HugeCountIsAnErrorBeforeAnyAllocation) {
  const std::string dir = temp_dir();
  burla::posix::write_file_atomic(dir + "/inputs.bin", "");
  burla::posix::write_file_atomic(dir + "/inputs.index", offsets({0}));
  // (n + 1) x 8 bytes of index wrap around to 8 here; the index was sized by n before.
  auto s = segmented_spec(std::numeric_limits<std::uint64_t>::max() / 8, 1);
  expect_error([&] { burla::core::input_file f(dir, s); }, {"inputs.index", "damaged"});
  s = segmented_spec(std::numeric_limits<std::uint64_t>::max(), 1);
  burla::posix::write_file_atomic(dir + "/inputs.index", "");
  expect_error([&] { burla::core::input_file f(dir, s); }, {"inputs.index", "damaged"});
}

TEST(DamagedInputs, IndexOffsetsOutOfOrderOrShortOfTheFileAreErrors) {
  const std::string dir = temp_dir();
  burla::posix::write_file_atomic(dir + "/inputs.bin", "abcdefgh");
  const auto s = segmented_spec(3, 1);
  burla::posix::write_file_atomic(dir + "/inputs.index", offsets({0, 5, 2, 8}));
  expect_error([&] { burla::core::input_file f(dir, s); }, {"inputs.index", "out of order"});
  burla::posix::write_file_atomic(dir + "/inputs.index", offsets({0, 2, 5, 6}));  // the end unread
  expect_error([&] { burla::core::input_file f(dir, s); }, {"inputs.index", "inputs.bin"});
  burla::posix::write_file_atomic(dir + "/inputs.index", offsets({0, 2, 5, 8}));
  write_checksums(dir, "abcdefgh");
  const burla::core::input_file f(dir, s);
  std::string out;
  f.read(0, 3, out);
  EXPECT_EQ(out, "abcdefgh");
  EXPECT_EQ(f.first_item(3), 3u);
}

TEST(DamagedInputs, ChecksumsAreCrc32cOfEachBlock) {
  burla::core::block_checksums c;
  c.add("1234");
  c.add("56789");  // CRC-32C's check value, in two writes
  EXPECT_EQ(c.finish(), std::string("\x83\x92\x06\xe3", 4));
  burla::core::block_checksums two;
  two.add(std::string(burla::core::block_checksums::block, 'a') + "123456789");
  EXPECT_EQ(two.finish().size(), 8u);
  EXPECT_EQ(two.finish().substr(4), std::string("\x83\x92\x06\xe3", 4));
}

TEST(DamagedInputs, AChangedByteIsAnErrorNamingWhereAndWhichInputs) {
  const std::string dir = temp_dir();
  std::string bytes(200'000, '\0');  // 50,000 ints
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  burla::posix::write_file_atomic(dir + "/inputs.bin", bytes);
  const auto s = fixed_spec(50'000);
  expect_error([&] { burla::core::input_file f(dir, s); }, {"inputs.crc"});  // none
  write_checksums(dir, bytes);
  bytes[70'000] ^= 1;  // in the second block of 64 KiB: inputs 16384 to 32767
  burla::posix::write_file_atomic(dir + "/inputs.bin", bytes);
  const burla::core::input_file f(dir, s);
  std::string out;
  f.read(0, 16384, out);  // the first block is intact
  EXPECT_EQ(out, bytes.substr(0, 65536));
  expect_error([&] { f.read(16000, 1000, out); },
               {dir + "/inputs.bin", "bytes 65536 to 131072", "inputs 16384 to 32767", "burla results"});
  // Cut short: its size no longer matches the checksums.
  burla::posix::write_file_atomic(dir + "/inputs.bin", bytes.substr(0, 100'000));
  expect_error([&] { burla::core::input_file g(dir, fixed_spec(25'000)); }, {"inputs.crc", "blocks"});
}

TEST(DamagedInputs, EachBlockIsCheckedAgainstTheBytesReadAndTheRestOfTheBlockAroundThem) {
  const std::string dir = temp_dir();
  std::string bytes(200'000, '\0');  // 50,000 ints in four blocks of 64 KiB, the last one short
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 13 + i / 300);
  burla::posix::write_file_atomic(dir + "/inputs.bin", bytes);
  write_checksums(dir, bytes);
  const auto s = fixed_spec(50'000);
  {
    // Ranges that begin and end inside blocks read back exactly, each block checked once whole.
    const burla::core::input_file f(dir, s);
    std::string out;
    f.read(25, 7500, out);      // bytes 100 to 30100: inside block 0
    f.read(7525, 10000, out);   // to 70100: the rest of block 0, into block 1
    f.read(17525, 32475, out);  // to the end
    EXPECT_EQ(out, bytes.substr(100));
  }
  bytes[140'000] ^= 0x40;  // in block 2 (bytes 131072 to 196608), inside the range read next
  burla::posix::write_file_atomic(dir + "/inputs.bin", bytes);
  const burla::core::input_file f(dir, s);
  std::string out;
  expect_error([&] { f.read(34'000, 2'000, out); }, {"bytes 131072 to 196608", "inputs 32768 to 49151"});
  EXPECT_EQ(out, "") << "the damaged bytes were kept";
  f.read(0, 32'768, out);  // blocks 0 and 1 are intact
  EXPECT_EQ(out, bytes.substr(0, 131072));
}

TEST(DamagedInputs, ZeroSegmentItemsIsAnErrorNotADivisionByZero) {
  const std::string dir = temp_dir();
  burla::posix::write_file_atomic(dir + "/inputs.bin", "");
  burla::posix::write_file_atomic(dir + "/inputs.index", offsets({0}));
  expect_error([&] { burla::core::input_file f(dir, segmented_spec(0, 0)); }, {"segment_items"});
}

// ---- the journal ------------------------------------------------------------------------------

namespace {

std::string record(proto::record_type type, std::string_view payload, std::uint64_t size) {
  return proto::record_head(type, payload, size) + std::string(payload);
}

/// Reads every record of a journal holding `records`.
void read_journal(const std::string& path, const std::string& records) {
  burla::posix::write_file_atomic(path, std::string(proto::journal_magic) + records);
  proto::journal_reader reader(path);
  for (proto::record r; reader.next(r);) {
  }
}

}  // namespace

TEST(DamagedJournal, TruncatedRecordPayloadNamesTheFile) {
  const std::string path = temp_dir() + "/journal";
  // A start record cut short, its header rewritten to match: a complete record, wrong inside.
  const std::string start = proto::encode(proto::start_record{{"node0", "node1"}});
  const std::string cut = start.substr(0, start.size() - 3);
  expect_error([&] { read_journal(path, record(proto::record_type::start, cut, cut.size())); },
               {path, "damaged", "start record"});
  // The same for a dispatch record and a batch.
  expect_error([&] { read_journal(path, record(proto::record_type::dispatch, "1234", 4)); },
               {path, "dispatch"});
  expect_error([&] { read_journal(path, record(proto::record_type::batch, "123456789", 9)); },
               {path, "batch"});
  // A compacted journal's batch that holds results after all.
  std::string reply;
  proto::build_reply(reply, {0, 1, 1, 1, 0}, std::string(1, '\1'), "12345678", {});
  expect_error([&] { read_journal(path, record(proto::record_type::stored_batch, reply, reply.size())); },
               {path, "stored batch"});
}

TEST(DamagedJournal, AbsurdRecordSizeIsAnErrorNotAWait) {
  const std::string path = temp_dir() + "/journal";
  expect_error([&] { read_journal(path, record(proto::record_type::batch, "", ~std::uint64_t{0} / 3)); },
               {path, "damaged", "bytes"});
  expect_error([&] { read_journal(path, record(static_cast<proto::record_type>(77), "", 0)); },
               {path, "type 77"});
}

TEST(DamagedJournal, ReplyWhoseInputsPassTheLastIndexIsAnError) {
  std::string bytes;
  const std::uint64_t first = std::numeric_limits<std::uint64_t>::max() - 1;
  proto::build_reply(bytes, {first, 5, 0, 1, 0}, "", "", {});
  expect_error([&] { proto::parse_reply(bytes); }, {"first input"});
}

// ---- serialized results -------------------------------------------------------------------------

namespace {

/// Overwrites the first 8-byte word of bytes at or after `start` equal to `from` with `to`.
std::string patched(std::string bytes, std::uint64_t from, std::uint64_t to, std::size_t start = 0) {
  for (std::size_t at = start; at + 8 <= bytes.size(); ++at)
    if (std::memcmp(bytes.data() + at, &from, 8) == 0) {
      std::memcpy(bytes.data() + at, &to, 8);
      return bytes;
    }
  ADD_FAILURE() << "no word " << from << " in the bytes";
  return bytes;
}

/// Encodes v, then overwrites the first 8-byte word of its archive (past the length) equal to
/// `from` with `to`.
template <class T>
std::string encode_patched(const T& v, std::uint64_t from, std::uint64_t to) {
  std::string bytes;
  burla::detail::encode_value(bytes, v);
  return patched(std::move(bytes), from, to, 8);
}

template <class T>
void expect_decode_error(const std::string& bytes, const std::string& mention) {
  burla::detail::byte_reader in(bytes, "test");
  expect_error([&] { burla::detail::decode_value<T>(in); }, {"damaged", mention});
}

struct nothing {
  template <class A>
  void serialize(A&, unsigned) {}
};

}  // namespace

// Boost builds a list node by node from the count it reads: 2^60 nodes never finished.
TEST(DamagedResults, BogusListCountIsAnErrorNotAHang) {
  const std::list<std::string> l{"a", "b", "c"};
  expect_decode_error<std::list<std::string>>(encode_patched(l, 3, std::uint64_t{1} << 60),
                                              "container count");
}

TEST(DamagedResults, BogusCountsAndLengthsAllocateNothingLarge) {
  const std::deque<double> v{1, 2};  // std::vector<double> is a sequence, not an archive
  expect_decode_error<std::deque<double>>(encode_patched(v, 2, std::uint64_t{1} << 40), "container count");
  const std::vector<std::string> s{std::string(5, 'x')};
  expect_decode_error<std::vector<std::string>>(encode_patched(s, 5, std::uint64_t{1} << 50),
                                                "string length");
}

TEST(DamagedResults, BoolOtherThanZeroOrOneIsAnError) {
  expect_decode_error<bool>(std::string(1, '\x07'), "bool");
  std::string archive;
  burla::detail::encode_value(archive, std::pair<bool, int>{true, 0x0a0b0c0d});
  const auto at = archive.find("\x01\x0d\x0c\x0b\x0a");  // the bool, then the int
  ASSERT_NE(at, std::string::npos);
  archive[at] = 7;
  expect_decode_error<std::pair<bool, int>>(archive, "bool");
}

TEST(DamagedResults, ChecksLetValidValuesThrough) {
  // Elements that serialize to nothing: a count beyond the archive's bytes, within the allowance.
  const std::vector<nothing> empties(4000);
  std::string bytes;
  burla::detail::encode_value(bytes, empties);
  burla::detail::byte_reader in(bytes, "test");
  EXPECT_EQ(burla::detail::decode_value<std::vector<nothing>>(in).size(), 4000u);
  const std::list<std::string> l{"a", std::string(100'000, 'b'), ""};
  bytes.clear();
  burla::detail::encode_value(bytes, l);
  burla::detail::byte_reader in2(bytes, "test");
  EXPECT_EQ(burla::detail::decode_value<std::list<std::string>>(in2), l);
}

// ---- serialized inputs, as a worker reads them --------------------------------------------------

namespace {

/// One segment of inputs as the caller writes it: one archive holding the values one after another.
template <class T>
std::string segment_of(const std::vector<T>& values) {
  std::string bytes;
  burla::detail::append_buf buf(bytes);
  boost::archive::binary_oarchive ar(buf, burla::detail::archive_flags);
  for (const auto& v : values) ar << v;
  return bytes;
}

/// A batch of `n` inputs starting at input 0, all in one segment (a view of `bytes`).
struct input_batch final : burla::detail::batch_context {
  input_batch(const std::string& bytes, std::uint32_t n) {
    input = bytes;
    count = n;
    segment_items = n;
  }
  void call_succeeded(std::uint32_t) override {}
  void call_failed(std::uint32_t, std::exception_ptr) override {}
  void call_skipped(std::uint32_t) override {}
};

}  // namespace

// Workers read inputs through the checked archive too: a damaged count fails that call only.
TEST(DamagedInputs, HugeCountInASerializedInputIsAnErrorNotAnAllocation) {
  const std::string bytes =
      patched(segment_of<std::deque<double>>({{1, 2, 3}, {4}}), 3, std::uint64_t{1} << 40);
  input_batch batch(bytes, 2);
  burla::detail::input_cursor<std::deque<double>> inputs(batch);
  expect_error([&] { inputs.next(0); }, {"cannot decode input 0", "container count", "damaged"});
}

// Vectors of numbers travel as a byte count and raw elements: a count past the batch, or no whole
// number of elements, fails that input.
TEST(DamagedInputs, BadLengthsInASequenceInputAreErrorsNotAllocations) {
  std::string bytes;
  burla::detail::encode_value(bytes, std::vector<double>{1, 2, 3});
  burla::detail::encode_value(bytes, std::vector<double>{4});
  {
    const std::string huge = patched(bytes, 24, std::uint64_t{1} << 40);
    input_batch batch(huge, 2);
    burla::detail::input_cursor<std::vector<double>> inputs(batch);
    expect_error([&] { inputs.next(0); }, {"cannot decode input 0", "damaged"});
  }
  const std::string odd = patched(bytes, 8, 7, 32);  // the second input's length
  input_batch batch(odd, 2);
  burla::detail::input_cursor<std::vector<double>> inputs(batch);
  EXPECT_EQ(inputs.next(0), (std::vector<double>{1, 2, 3}));
  expect_error([&] { inputs.next(1); }, {"cannot decode input 1", "whole number", "damaged"});
}

TEST(DamagedInputs, BogusListCountInASerializedInputIsAnErrorNotAHang) {
  const std::string bytes =
      patched(segment_of<std::list<std::string>>({{"a", "b", "c"}}), 3, std::uint64_t{1} << 60);
  input_batch batch(bytes, 1);
  burla::detail::input_cursor<std::list<std::string>> inputs(batch);
  expect_error([&] { inputs.next(0); }, {"cannot decode input 0", "damaged"});
}

TEST(DamagedInputs, CheckedReadingLetsValidInputsThrough) {
  const std::vector<std::list<std::string>> values{{"a", std::string(100'000, 'b')}, {}, {"", "c"}};
  const std::string bytes = segment_of(values);
  input_batch batch(bytes, 3);
  burla::detail::input_cursor<std::list<std::string>> inputs(batch);
  for (std::uint64_t i = 0; i < values.size(); ++i) EXPECT_EQ(inputs.next(i), values[i]);
}
