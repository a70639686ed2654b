// job.ini: `key = value` lines, read with Boost.Program_options so that a damaged file gives an
// error naming the key. Values are %-escaped where INI syntax would misread them.
#include <fcntl.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <burla/detail/job_spec.hpp>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "posix.hpp"

namespace burla::detail {
namespace {

namespace po = boost::program_options;

std::string escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '%' || c == '#' || c == ';' || c == '\n' || c == '\r' || c == ' ' || c == '\t' ||
        static_cast<unsigned char>(c) < 32) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string unescape(const std::string& v, const std::string& key) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '%') {
      out += v[i];
      continue;
    }
    if (i + 2 >= v.size() || !std::isxdigit(static_cast<unsigned char>(v[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(v[i + 2])))
      throw error("burla: job.ini: bad %-escape in '" + key + "'");
    out += static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return out;
}

std::string hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string unhex(const std::string& text, const std::string& key) {
  if (text.size() % 2 != 0) throw error("burla: job.ini: '" + key + "' is not hex bytes");
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    auto digit = [&](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      throw error("burla: job.ini: '" + key + "' is not hex bytes");
    };
    out += static_cast<char>(digit(text[i]) * 16 + digit(text[i + 1]));
  }
  return out;
}

// job.ini holds a few hundred bytes and a closure's state: anything near this is not one.
constexpr std::uint64_t max_job_ini_bytes = 64u << 20;

std::string read_bounded(const std::string& path) {
  posix::fd f = posix::open_file(path, O_RDONLY);
  const std::uint64_t size = posix::file_size(f.get(), path);
  if (size > max_job_ini_bytes)
    throw error("burla: the job description " + path + " has " + std::to_string(size) +
                " bytes, far more than any job.ini; it is damaged or not a job description");
  std::string out(size, '\0');
  posix::pread_all(f.get(), out.data(), size, 0, path);
  // escape() writes '%' only as %XX (uppercase hex). Any other '%' is damage, and must not reach
  // Boost: its error messages expand %value% and the like, and loop forever on a value that
  // holds its own placeholder.
  auto is_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); };
  for (std::size_t i = out.find('%'); i != std::string::npos; i = out.find('%', i + 1))
    if (i + 2 >= out.size() || !is_hex(out[i + 1]) || !is_hex(out[i + 2]))
      throw error(
          "burla: the job description " + path + " is damaged: a '%' not followed by two hex digits (line " +
          std::to_string(1 + std::count(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(i), '\n')) +
          "). It is written once when the job is created; submit the job again");
  return out;
}

/// Bytes of a fixed-size value with this HDF5 element code (as h5_code writes them); 0 if none.
std::uint64_t code_size(const std::string& code) {
  static const std::pair<const char*, std::uint64_t> codes[] = {
      {"bool", 1}, {"i8", 1},  {"u8", 1},  {"i16", 2}, {"u16", 2}, {"i32", 4},
      {"u32", 4},  {"f32", 4}, {"i64", 8}, {"u64", 8}, {"f64", 8}};
  for (const auto& [name, size] : codes)
    if (code == name) return size;
  return code == h5_code<long double>() ? sizeof(long double) : 0;
}

/// What readers of a job_spec rely on: values in range, sizes that match their types, and as
/// many inputs as the input files next to job.ini hold (so that nothing sized by n_inputs can
/// be absurd). Inputs already removed are not checked.
void check_values(const std::string& path, const job_spec& s, int input_kind, int result_kind) {
  auto damaged = [&](const std::string& what) {
    throw error("burla: the job description " + path + " is damaged: " + what +
                ". It is written once when the job is created; submit the job again");
  };
  if (input_kind < 0 || input_kind > 2) damaged("input_kind " + std::to_string(input_kind));
  if (result_kind < 0 || result_kind > 3) damaged("result_kind " + std::to_string(result_kind));
  // Segments of up to 64 inputs are written; the limit keeps n_inputs arithmetic in range.
  if (s.segment_items < 1 || s.segment_items > (1u << 20))
    damaged("segment_items " + std::to_string(s.segment_items));
  if (s.workers < 1 || s.workers > (1 << 24)) damaged("workers " + std::to_string(s.workers));
  // The caller holds every input and result in memory: a trillion is past any job (and catches
  // a wrapped "-1" where no inputs.bin is left to compare with).
  if (s.n_inputs > (std::uint64_t{1} << 40)) damaged("n_inputs " + std::to_string(s.n_inputs));
  if (s.func_cpu < 1 || s.func_gpu < 0 || !std::isfinite(s.func_ram) || s.func_ram < 0)
    damaged("func_cpu, func_ram or func_gpu out of range");
  const job_types& t = s.types;
  if (input_kind == 0 && (t.input_size == 0 || code_size(t.input_h5) != t.input_size))
    damaged("input_size " + std::to_string(t.input_size) + " does not fit input_h5 '" + t.input_h5 + "'");
  if (result_kind == 0 && (t.result_size == 0 || code_size(t.result_h5) != t.result_size))
    damaged("result_size " + std::to_string(t.result_size) + " does not fit result_h5 '" + t.result_h5 + "'");

  const std::string dir = path.substr(0, path.rfind('/') + 1);
  if (!posix::exists(dir + "inputs.bin")) return;
  const std::uint64_t n = s.n_inputs;
  auto size_of = [](const std::string& file) {
    return posix::file_size(posix::open_file(file, O_RDONLY).get(), file);
  };
  if (input_kind == 0) {
    const std::uint64_t bytes = size_of(dir + "inputs.bin");
    if (bytes % t.input_size != 0 || bytes / t.input_size != n)
      damaged("n_inputs " + std::to_string(n) + " does not match inputs.bin (" + std::to_string(bytes) +
              " bytes of " + std::to_string(t.input_size) + "-byte inputs)");
  } else if (posix::exists(dir + "inputs.index")) {
    // One offset per segment of segment_items inputs, and one for the end.
    const std::uint64_t offsets = size_of(dir + "inputs.index") / 8;
    if (offsets == 0 || offsets - 1 != n / s.segment_items + (n % s.segment_items != 0))
      damaged("n_inputs " + std::to_string(n) + " does not match inputs.index (" + std::to_string(offsets) +
              " offsets)");
  }
}

}  // namespace

void write_job_spec(const std::string& path, const job_spec& s) {
  std::ostringstream o;
  o.precision(17);
  auto line = [&](const char* key, const auto& value) { o << key << " = " << value << '\n'; };
  auto text = [&](const char* key, const std::string& value) { line(key, escape(value)); };
  auto address = [&](const char* prefix, const module_address& a) {
    text((std::string(prefix) + ".build_id").c_str(), a.build_id);
    text((std::string(prefix) + ".module").c_str(), a.module);
    line((std::string(prefix) + ".offset").c_str(), a.offset);
  };
  o << "# burla job description; written by the caller, read by the job. Do not edit.\n";
  line("format_version", s.format_version);
  text("id", s.id);
  text("created", s.created);
  text("caller_host", s.caller_host);
  text("backend", s.backend);
  text("executable", s.executable);
  text("build_id", s.build_id);
  line("n_inputs", s.n_inputs);
  line("segment_items", s.segment_items);
  line("workers", s.workers);
  line("func_cpu", s.func_cpu);
  line("func_ram", s.func_ram);
  line("func_gpu", s.func_gpu);
  line("func_timeout_ms", s.func_timeout_ms);
  line("max_retries", s.max_retries);
  line("collect_errors", s.collect_errors ? 1 : 0);
  line("run", s.run);
  line("rerun_failed", s.rerun_failed ? 1 : 0);
  line("drain_seconds", s.drain_seconds);
  const job_types& t = s.types;
  text("input_type", t.input_type);
  text("result_type", t.result_type);
  line("input_kind", static_cast<int>(t.input_kind));
  line("result_kind", static_cast<int>(t.result_kind));
  line("input_size", t.input_size);
  line("result_size", t.result_size);
  text("input_h5", t.input_h5);
  text("result_h5", t.result_h5);
  address("batch_function", t.batch_function);
  line("callable_is_function", t.callable_is_function ? 1 : 0);
  if (t.callable_is_function) address("function", t.function);
  text("callable_state", hex(t.callable_state));
  std::string body = o.str();
  posix::write_file_atomic(path, body + job_ini_checksum_line(body));
}

std::string job_ini_checksum_line(std::string_view body) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : body) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  char line[48];
  std::snprintf(line, sizeof line, "checksum = %016llx\n", static_cast<unsigned long long>(h));
  return line;
}

job_spec read_job_spec(const std::string& path) {
  job_spec s;
  job_types& t = s.types;
  int input_kind = 0, result_kind = 0, is_function = 0;
  std::string state_hex;
  std::vector<std::pair<std::string, std::string*>> texts;

  po::options_description d;
  auto num = [&](const char* key, auto* target) { d.add_options()(key, po::value(target)->required()); };
  auto text = [&](const char* key, std::string* target, bool required = true) {
    auto* v = po::value(target);
    if (required) v->required();
    d.add_options()(key, v);
    texts.emplace_back(key, target);
  };
  num("format_version", &s.format_version);
  text("id", &s.id);
  text("created", &s.created);
  text("caller_host", &s.caller_host);
  text("backend", &s.backend, false);
  text("executable", &s.executable);
  text("build_id", &s.build_id);
  num("n_inputs", &s.n_inputs);
  num("segment_items", &s.segment_items);
  num("workers", &s.workers);
  num("func_cpu", &s.func_cpu);
  num("func_ram", &s.func_ram);
  num("func_gpu", &s.func_gpu);
  int collect_errors = 0;
  num("func_timeout_ms", &s.func_timeout_ms);
  num("max_retries", &s.max_retries);
  num("collect_errors", &collect_errors);
  num("run", &s.run);
  int rerun_failed = 0;
  num("rerun_failed", &rerun_failed);
  num("drain_seconds", &s.drain_seconds);
  text("input_type", &t.input_type);
  text("result_type", &t.result_type);
  num("input_kind", &input_kind);
  num("result_kind", &result_kind);
  num("input_size", &t.input_size);
  num("result_size", &t.result_size);
  text("input_h5", &t.input_h5, false);
  text("result_h5", &t.result_h5, false);
  text("batch_function.build_id", &t.batch_function.build_id);
  text("batch_function.module", &t.batch_function.module);
  num("batch_function.offset", &t.batch_function.offset);
  num("callable_is_function", &is_function);
  text("function.build_id", &t.function.build_id, false);
  text("function.module", &t.function.module, false);
  d.add_options()("function.offset", po::value(&t.function.offset));
  text("callable_state", &state_hex, false);

  std::string contents = read_bounded(path);
  const auto last = contents.rfind("checksum = ", contents.size() < 2 ? 0 : contents.size() - 2);
  if (last == std::string::npos || (last > 0 && contents[last - 1] != '\n'))
    throw error("burla: the job description " + path +
                " has no checksum line: it is cut short, damaged, or from another version. It is written "
                "when the job is created or resumed; submit the job again");
  if (contents.compare(last, std::string::npos,
                       job_ini_checksum_line(std::string_view(contents).substr(0, last))) != 0)
    throw error("burla: the job description " + path +
                " is damaged: its checksum does not match what it holds (it must not be edited). It is "
                "written when the job is created or resumed; submit the job again");
  std::istringstream in(std::move(contents));
  try {
    po::variables_map vm;
    po::store(po::parse_config_file(in, d, /*allow_unregistered=*/true), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw error("burla: the job description " + path + " is damaged or from another version: " + e.what());
  }
  for (auto& [key, target] : texts) *target = unescape(*target, key);
  if (s.format_version != 1)
    throw error("burla: " + path + " has format_version " + std::to_string(s.format_version) +
                "; this build of burla reads version 1");
  check_values(path, s, input_kind, result_kind);
  t.input_kind = static_cast<value_kind>(input_kind);
  t.result_kind = static_cast<value_kind>(result_kind);
  t.callable_is_function = is_function != 0;
  s.collect_errors = collect_errors != 0;
  if (s.func_timeout_ms > (std::uint64_t{1} << 40) || s.max_retries < 0 || s.max_retries > 100 || s.run < 1 ||
      s.run > 1000000 || s.drain_seconds < 0 || s.drain_seconds > 86400 || collect_errors < 0 ||
      collect_errors > 1 || rerun_failed < 0 || rerun_failed > 1)
    throw error(
        "burla: the job description " + path +
        " is damaged: func_timeout_ms, max_retries, run, drain_seconds, collect_errors or rerun_failed "
        "out of range. It is written when the job is created or resumed; submit the job again");
  s.rerun_failed = rerun_failed != 0;
  t.callable_state = unhex(state_hex, "callable_state");
  return s;
}

}  // namespace burla::detail
