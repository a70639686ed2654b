// Writes a seed corpus for each fuzz target: files as burla writes them (through its own
// writers, so the seeds follow the formats as they change), and the files of any job
// directories given, e.g. one left by running examples/hello.
//   make_seeds OUT_DIR [JOB_DIR...]   ->   OUT_DIR/{job_spec,input_file,journal,decode_value}/
#include <sys/stat.h>

#include <burla/detail/codec.hpp>
#include <cstring>
#include <iostream>
#include <stdexcept>

#include "fuzz_support.hpp"
#include "libburla/core/checksum.hpp"
#include "libburla/core/job_spec.hpp"
#include "libburla/core/journal.hpp"
#include "libburla/core/posix.hpp"

namespace proto = burla::core;
using burla::detail::value_kind;

namespace {

std::string out_dir;
int written = 0;

void seed(const std::string& target, const std::string& name, std::string_view bytes) {
  const std::string dir = out_dir + "/" + target;
  ::mkdir(dir.c_str(), 0700);
  fuzz::write_file(dir + "/" + name, bytes);
  ++written;
}

template <class T>
std::string raw(const T& v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}

// ---- job.ini ----------------------------------------------------------------------------------

burla::core::job_spec sample_spec(value_kind in, value_kind out, bool function) {
  burla::core::job_spec s;
  s.id = "20260101-120000-0a1b2c";
  s.created = "2026-01-01T12:00:00Z";
  s.caller_host = "login1";
  s.executable = "/home/user/build/my prog";
  s.build_id = "5f0c3a9e11d2b7c4a8e6f0d1c2b3a4958677e6f1";
  s.n_inputs = 1000;
  s.segment_items = in == value_kind::fixed ? 1 : 6;
  s.workers = 4;
  s.func_ram = 2.5;
  auto& t = s.types;
  t.input_kind = in;
  t.result_kind = out;
  t.input_type = in == value_kind::fixed ? "int" : in == value_kind::string ? "std::string" : "point";
  t.result_type = out == value_kind::fixed ? "double" : out == value_kind::none ? "void" : "std::string";
  t.input_size = in == value_kind::fixed ? 4 : 0;
  t.input_h5 = in == value_kind::fixed ? "i32" : "";
  t.result_size = out == value_kind::fixed ? 8 : 0;
  t.result_h5 = out == value_kind::fixed ? "f64" : "";
  t.batch_function = {s.build_id, "/home/user/build/my prog", 0x4a2f0};
  t.callable_is_function = function;
  if (function)
    t.function = {s.build_id, "/home/user/build/my prog", 0x4a100};
  else
    t.callable_state = std::string("\x01\0\0\0\xff\x7f", 6);
  return s;
}

void job_spec_seeds(const std::string& tmp) {
  int i = 0;
  for (auto [in, out, fn] : {std::tuple{value_kind::fixed, value_kind::fixed, true},
                             std::tuple{value_kind::serialized, value_kind::string, false},
                             std::tuple{value_kind::string, value_kind::none, true},
                             std::tuple{value_kind::serialized, value_kind::serialized, false}}) {
    burla::core::write_job_spec(tmp + "/job.ini", sample_spec(in, out, fn));
    seed("job_spec", "written-" + std::to_string(i++), burla::posix::read_file(tmp + "/job.ini"));
  }
  // Records (a struct's layout in the type code): as an input and in a sequence of results.
  auto s = sample_spec(value_kind::fixed, value_kind::sequence, true);
  s.types.input_size = 16;
  s.types.input_h5 = "s16{x@0:f64,n@8:i32,ok@12:bool}";
  s.types.result_size = 0;
  s.types.result_h5 = "v:s24{x@0:f64,n@8:i32,ok@12:bool,w@14:a2:i16}";
  burla::core::write_job_spec(tmp + "/job.ini", s);
  seed("job_spec", "written-records", burla::posix::read_file(tmp + "/job.ini"));
}

// ---- inputs.bin + inputs.index ------------------------------------------------------------------

std::string input_file_seed(std::uint64_t n, std::uint64_t segment, value_kind kind, std::uint64_t size,
                            bool with_index, const std::string& index, const std::string& bin) {
  // Flag bit 1: the target writes inputs.crc of the bytes, so that seeds reach the reading.
  return raw(n) + raw(segment) + raw(static_cast<std::uint8_t>(kind)) + raw(size) +
         raw(static_cast<std::uint8_t>((with_index ? 1 : 0) | 2)) +
         raw(static_cast<std::uint32_t>(index.size())) + index + raw(std::uint32_t{0}) + bin;
}

void input_file_seeds() {
  std::string ints;
  for (int v = 0; v < 10; ++v) ints += raw(v * v);
  seed("input_file", "fixed", input_file_seed(10, 1, value_kind::fixed, 4, false, "", ints));
  seed("input_file", "empty", input_file_seed(0, 1, value_kind::fixed, 8, false, "", ""));
  // Seven strings in segments of three: units of 3, 3 and 1 inputs.
  std::string bin, index;
  std::vector<std::uint64_t> offsets;
  for (int v = 0; v < 7; ++v) {
    if (v % 3 == 0) offsets.push_back(bin.size());
    burla::detail::encode_value(bin, std::string(static_cast<std::size_t>(v), 'a'));
  }
  offsets.push_back(bin.size());
  for (auto o : offsets) index += raw(o);
  seed("input_file", "strings", input_file_seed(7, 3, value_kind::string, 0, true, index, bin));
  // Archives, one per input.
  bin.clear(), index.clear();
  for (int v = 0; v < 4; ++v) {
    index += raw(static_cast<std::uint64_t>(bin.size()));
    burla::detail::encode_value(bin, std::vector<int>(static_cast<std::size_t>(v), v));
  }
  index += raw(static_cast<std::uint64_t>(bin.size()));
  seed("input_file", "archives", input_file_seed(4, 1, value_kind::serialized, 0, true, index, bin));
}

// ---- the journal ------------------------------------------------------------------------------

std::string reply(std::uint64_t first, const std::string& status, const std::string& results,
                  const std::vector<proto::note>& notes) {
  std::string out;
  const auto n = static_cast<std::uint32_t>(status.size());
  proto::build_reply(out, {first, n, n, 1, 123456}, status, results, notes);
  return out;
}

void journal_seeds(const std::string& tmp) {
  const std::string ok(1, 1), failed(1, 2);  // call_status ok and failed
  int i = 0;
  auto journal = [&](auto&& write) {
    const std::string path = tmp + "/journal-" + std::to_string(i);
    {
      auto w = proto::journal_writer::create(path);
      write(w);
    }
    seed("journal", "written-" + std::to_string(i++), burla::posix::read_file(path));
  };
  // A job of three doubles that completed (odd-sized batch payloads decode as double).
  journal([&](proto::journal_writer& w) {
    w.append(proto::start_record{{"node0", "node0", "node1"}});
    w.append(proto::dispatch_record{0, 2, 1});
    w.append(proto::dispatch_record{2, 1, 2});
    std::string results;
    burla::detail::encode_value(results, 1.0);
    burla::detail::encode_value(results, 4.0);
    w.append_batch(reply(0, ok + ok, results, {{0, proto::note_kind::out, "hi\n"}}));
    results.clear();
    burla::detail::encode_value(results, 9.0);
    w.append_batch(reply(2, ok, results, {}));
    proto::end_record end;
    end.n_ok = 3;
    w.append(end);
  });
  // A job of strings whose second call threw.
  journal([&](proto::journal_writer& w) {
    w.append(proto::start_record{{"node0", "node1"}});
    w.append(proto::dispatch_record{0, 2, 1});
    std::string results;
    burla::detail::encode_value(results, std::string("first"));
    burla::detail::encode_missing<std::string>(results);
    w.append_batch(reply(0, ok + failed, results,
                         {{1, proto::note_kind::err, "warning\n"},
                          {1, proto::note_kind::error_type, "std::runtime_error"},
                          {1, proto::note_kind::error_what, "bad input"}}));
    proto::end_record end;
    end.state = proto::end_state::failed;
    end.n_ok = 1;
    end.n_failed = 1;
    end.message = "input 1 failed; the job stopped";
    w.append(end);
  });
  // The first job's journal compacted (its results in results.h5).
  journal([&](proto::journal_writer& w) {
    w.append(proto::start_record{{"node0", "node1"}});
    std::string whole = reply(0, ok + ok, std::string(16, '\0'), {{1, proto::note_kind::out, "hi\n"}});
    w.append_stored(proto::parse_reply(whole));
    proto::end_record end;
    end.n_ok = 2;
    w.append(end);
  });
  // Large results journaled as their places in run 1's results file (fuzz_journal writes one).
  journal([&](proto::journal_writer& w) {
    w.append(proto::start_record{{"node0", "node1"}});
    std::string whole = reply(0, ok + ok, {}, {{1, proto::note_kind::out, "hi\n"}});
    w.append_placed(proto::parse_reply(whole), 1,
                    {{2, 5, burla::core::crc32c("HELLO")}, {9, 5, burla::core::crc32c("WORLD")}});
    proto::end_record end;
    end.n_ok = 2;
    w.append(end);
  });
  journal([&](proto::journal_writer&) {});
  // A bare reply, as a worker sends it to the master.
  std::string results;
  burla::detail::encode_value(results, 2.0);
  seed("journal", "reply", reply(5, ok, results, {{0, proto::note_kind::out, "x"}}));
}

// ---- result values ------------------------------------------------------------------------------

template <class T>
void values_seed(std::uint8_t selector, const std::string& name, const std::vector<T>& values) {
  std::string bytes(1, static_cast<char>(selector));
  for (const T& v : values) burla::detail::encode_value(bytes, v);
  burla::detail::encode_missing<T>(bytes);
  seed("decode_value", name, bytes);
}

using fuzz::point;

void decode_value_seeds() {
  values_seed<int>(0, "int", {1, -7, 1 << 30});
  values_seed<std::string>(1, "string", {"", "hello", std::string(40, 'x')});
  values_seed<std::vector<double>>(2, "vector_double", {{}, {1.5, 2.5}, std::vector<double>(20, 3.0)});
  values_seed<std::vector<std::string>>(3, "vector_string", {{"a", "bc"}, {}});
  values_seed<std::map<std::string, std::vector<int>>>(4, "map", {{{"a", {1, 2}}, {"b", {}}}});
  values_seed<point>(5, "point", {{1, 2, "p", {3, 4}}, {}});
  values_seed<std::pair<std::set<long>, std::list<std::string>>>(6, "pair", {{{1, 5, 9}, {"x", "yz"}}});
  values_seed<std::vector<point>>(7, "vector_point", {{{1, 2, "p", {3}}, {0, 0, "", {}}}});
  values_seed<bool>(8, "bool", {true, false});
  values_seed<fuzz::sample>(9, "record", {{1.5, -2, true}, {}});
  values_seed<std::vector<fuzz::sample>>(10, "vector_record", {{{1.5, -2, true}}, {}});
}

// ---- what the fuzzers found: each fixed, replayed on every run ---------------------------------

/// `bytes` with the first 8-byte word equal to `from` (at or after `at`) set to `to`.
std::string patched(std::string bytes, std::uint64_t from, std::uint64_t to, std::size_t at = 0) {
  for (; at + 8 <= bytes.size(); ++at)
    if (std::memcmp(bytes.data() + at, &from, 8) == 0) {
      std::memcpy(bytes.data() + at, &to, 8);
      return bytes;
    }
  throw std::runtime_error("make_seeds: no word to patch");
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  return text.replace(text.find(from), from.size(), to);
}

void regression_seeds(const std::string& tmp) {
  // Boost.Program_options expanded %value% in its error message forever.
  burla::core::write_job_spec(tmp + "/job.ini", sample_spec(value_kind::fixed, value_kind::fixed, true));
  const std::string ini = burla::posix::read_file(tmp + "/job.ini");
  seed("job_spec", "regression-placeholder", replaced(ini, "workers = 4", "workers = argument ('%value%')"));
  seed("job_spec", "regression-wrapped-count", replaced(ini, "n_inputs = 1000", "n_inputs = -1"));
  // segment_items = 0 divided by zero; n_inputs x input_size and (units + 1) x 8 wrapped around.
  seed("input_file", "regression-zero-segment",
       input_file_seed(3, 0, value_kind::serialized, 0, true, raw(std::uint64_t{0}), ""));
  seed("input_file", "regression-wrapped-bytes",
       input_file_seed((std::uint64_t{1} << 62) + 2, 1, value_kind::fixed, 4, false, "", "12345678"));
  seed("input_file", "regression-wrapped-index",
       input_file_seed(~std::uint64_t{0} / 8, 1, value_kind::serialized, 0, true, "", ""));
  // Boost built a list of 2^60 nodes, and sized vectors and strings by damaged counts.
  std::string bytes(1, 6);
  burla::detail::encode_value(bytes, std::pair<std::set<long>, std::list<std::string>>{{1}, {"a", "b", "c"}});
  seed("decode_value", "regression-list-count", patched(bytes, 3, std::uint64_t{1} << 60));
  bytes.assign(1, 4);  // a std::vector inside an archive: std::vector<double> itself is a sequence
  burla::detail::encode_value(bytes, std::map<std::string, std::vector<int>>{{"a", {1, 2}}});
  seed("decode_value", "regression-vector-count", patched(bytes, 2, std::uint64_t{1} << 40, 9));
  bytes.assign(1, 2);
  burla::detail::encode_value(bytes, std::vector<double>{1, 2});
  seed("decode_value", "sequence-length", patched(bytes, 16, std::uint64_t{1} << 40, 1));
  bytes.assign(1, 3);
  burla::detail::encode_value(bytes, std::vector<std::string>{"xxxxx"});
  seed("decode_value", "regression-string-length", patched(bytes, 5, std::uint64_t{1} << 50, 9));
  seed("decode_value", "regression-bool", std::string("\x08\x07", 2));
  // Not crashes before, but errors without the file's name, or a wait for a record that never ends.
  auto record = [](std::uint32_t type, std::string_view payload, std::uint64_t size) {
    return proto::record_head(static_cast<proto::record_type>(type), payload, size) + std::string(payload);
  };
  const std::string magic(proto::journal_magic);
  seed("journal", "damaged-record-size", magic + record(3, "", std::uint64_t{1} << 60));
  const std::string start = proto::encode(proto::start_record{{"node0", "node1"}});
  seed("journal", "damaged-cut-record",
       magic + record(1, start.substr(0, start.size() - 3), start.size() - 3));
}

// ---- files of real job directories ---------------------------------------------------------------

void job_dir_seeds(const std::string& dir, int n) {
  const std::string tag = "job" + std::to_string(n);
  seed("job_spec", tag, burla::posix::read_file(dir + "/job.ini"));
  if (burla::posix::exists(dir + "/journal")) seed("journal", tag, burla::posix::read_file(dir + "/journal"));
  const auto spec = burla::core::read_job_spec(dir + "/job.ini");
  const bool indexed = burla::posix::exists(dir + "/inputs.index");
  seed("input_file", tag,
       input_file_seed(spec.n_inputs, spec.segment_items, spec.types.input_kind, spec.types.input_size,
                       indexed, indexed ? burla::posix::read_file(dir + "/inputs.index") : "",
                       burla::posix::read_file(dir + "/inputs.bin")));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: make_seeds OUT_DIR [JOB_DIR...]\n";
    return 2;
  }
  out_dir = argv[1];
  burla::posix::make_dirs(out_dir);
  try {
    const std::string tmp = fuzz::scratch_dir();
    job_spec_seeds(tmp);
    input_file_seeds();
    journal_seeds(tmp);
    decode_value_seeds();
    regression_seeds(tmp);
    for (int i = 2; i < argc; ++i) job_dir_seeds(argv[i], i - 1);
  } catch (const std::exception& e) {
    std::cerr << "make_seeds: " << e.what() << "\n";
    return 1;
  }
  std::cout << "make_seeds: " << written << " seeds in " << out_dir << "\n";
  return 0;
}
