// job.ini: `key = value` lines, read with Boost.Program_options so that a damaged file gives an
// error naming the key. Values are %-escaped where INI syntax would misread them.
#include "job_spec.hpp"

#include <fcntl.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <deque>
#include <functional>
#include <sstream>

#include "posix.hpp"
#include "type_code.hpp"

namespace burla::core {

const char* to_string(backend_kind kind) {
  switch (kind) {
    case backend_kind::local:
      return "local";
    case backend_kind::slurm:
      return "slurm";
    case backend_kind::allocation:
      return "allocation";
  }
  return "unknown";
}

std::optional<backend_kind> parse_backend_kind(std::string_view text) {
  for (backend_kind k : {backend_kind::local, backend_kind::slurm, backend_kind::allocation})
    if (text == to_string(k)) return k;
  return std::nullopt;
}

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

/// What readers of a job_spec rely on: values in range, sizes that match their types, and as
/// many inputs as the input files next to job.ini hold (so that nothing sized by n_inputs can
/// be absurd). Inputs already removed are not checked.
void check_values(const std::string& path, const job_spec& s) {
  const int input_kind = static_cast<int>(s.types.input_kind);
  auto damaged = [&](const std::string& what) {
    throw error("burla: the job description " + path + " is damaged: " + what +
                ". It is written once when the job is created; submit the job again");
  };
  if (s.types.input_kind == value_kind::none) damaged("input_kind " + std::to_string(input_kind));
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
  // Fixed values have the size their code gives; sequences a code of one (older job.ini files
  // have neither: their values are archives).
  auto check_code = [&](value_kind kind, const std::string& code, std::uint64_t size, const char* side) {
    if (kind != value_kind::fixed && kind != value_kind::sequence) return;
    const auto parsed = parse_type_code(code);
    const bool fits = parsed && parsed->sequence == (kind == value_kind::sequence) &&
                      (kind == value_kind::sequence || (size != 0 && parsed->fixed_size() == size));
    if (!fits)
      damaged(std::string(side) + "_size " + std::to_string(size) + " does not fit " + side + "_h5 '" + code +
              "'");
  };
  check_code(t.input_kind, t.input_h5, t.input_size, "input");
  check_code(t.result_kind, t.result_h5, t.result_size, "result");

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

/// Marks a field that may be absent or empty.
constexpr bool optional = false;

/// Every field of job.ini, once: `v` is the writer or the reader. Optional fields may be absent
/// or empty; the rest must be there.
template <class Spec, class Visitor>
void fields(Spec& s, Visitor& v) {
  auto& t = s.types;
  v.number("format_version", s.format_version);
  v.text("id", s.id);
  v.text("created", s.created);
  v.text("caller_host", s.caller_host);
  v.backend("backend", s.backend);
  v.text("executable", s.executable);
  v.text("build_id", s.build_id);
  v.number("n_inputs", s.n_inputs);
  v.number("segment_items", s.segment_items);
  v.number("workers", s.workers);
  v.number("func_cpu", s.func_cpu);
  v.number("func_ram", s.func_ram);
  v.number("func_gpu", s.func_gpu);
  v.number("max_parallelism", s.max_parallelism);
  v.number("func_timeout_ms", s.func_timeout_ms);
  v.number("max_retries", s.max_retries);
  v.flag("collect_errors", s.collect_errors);
  v.number("run", s.run);
  v.flag("rerun_failed", s.rerun_failed);
  v.number("drain_seconds", s.drain_seconds);
  v.text("slurm.partition", s.slurm.partition, optional);
  v.text("slurm.account", s.slurm.account, optional);
  v.text("slurm.qos", s.slurm.qos, optional);
  v.text("slurm.job_name", s.slurm.job_name, optional);
  v.text("slurm.image", s.slurm.image, optional);
  v.number("slurm.time_limit_s", s.slurm.time_limit_s);
  v.list("slurm.sbatch_args", s.slurm.sbatch_args);
  v.list("slurm.packages", s.slurm.packages);
  v.flag("slurm.stage_program", s.slurm.stage_program, optional);
  v.text("input_type", t.input_type);
  v.text("result_type", t.result_type);
  v.kind("input_kind", t.input_kind);
  v.kind("result_kind", t.result_kind);
  v.number("input_size", t.input_size);
  v.number("result_size", t.result_size);
  v.text("input_h5", t.input_h5, optional);
  v.text("result_h5", t.result_h5, optional);
  v.text("batch_function.build_id", t.batch_function.build_id);
  v.text("batch_function.module", t.batch_function.module);
  v.number("batch_function.offset", t.batch_function.offset);
  v.flag("callable_is_function", t.callable_is_function);
  v.text("function.build_id", t.function.build_id, optional);
  v.text("function.module", t.function.module, optional);
  v.number("function.offset", t.function.offset, optional);
  v.hex("callable_state", t.callable_state);
  v.number("state_size", t.state_size, optional);
  v.number("state_crc", t.state_crc, optional);
}

class ini_writer {
 public:
  ini_writer() { out_.precision(17); }
  template <class T>
  void number(const char* key, const T& value, bool = true) {
    out_ << key << " = " << value << '\n';
  }
  void text(const char* key, const std::string& value, bool = true) { number(key, escape(value)); }
  void flag(const char* key, bool value, bool = true) { number(key, value ? 1 : 0); }
  void kind(const char* key, value_kind value) { number(key, static_cast<int>(value)); }
  void backend(const char* key, backend_kind value) { number(key, to_string(value)); }
  void hex(const char* key, const std::string& bytes) { number(key, core::hex(bytes)); }
  void list(const char* key, const std::vector<std::string>& values) {
    std::string joined;
    for (const auto& x : values) joined += (joined.empty() ? "" : "\n") + x;
    text(key, joined);
  }
  std::string body() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

/// Binds every field to Boost.Program_options; finish() converts what needs converting.
class ini_reader {
 public:
  template <class T>
  void number(const char* key, T& target, bool required = true) {
    auto* v = po::value(&target);
    if (required) v->required();
    d_.add_options()(key, v);
  }
  void text(const char* key, std::string& target, bool required = true) {
    number(key, target, required);
    then_.push_back([key, &target] { target = unescape(target, key); });
  }
  void flag(const char* key, bool& target, bool required = true) {
    auto& raw = ints_.emplace_back();
    number(key, raw, required);
    then_.push_back([this, key, &raw, &target] {
      if (raw != 0 && raw != 1) damaged(std::string(key) + " " + std::to_string(raw));
      target = raw != 0;
    });
  }
  void kind(const char* key, value_kind& target) {
    auto& raw = ints_.emplace_back();
    number(key, raw);
    then_.push_back([this, key, &raw, &target] {
      if (raw < 0 || raw > static_cast<int>(value_kind::sequence))
        damaged(std::string(key) + " " + std::to_string(raw));
      target = static_cast<value_kind>(raw);
    });
  }
  void backend(const char* key, backend_kind& target) {
    auto& raw = texts_.emplace_back();
    text(key, raw);
    then_.push_back([this, key, &raw, &target] {
      const auto k = parse_backend_kind(raw);
      if (!k) damaged(std::string(key) + " '" + raw + "'");
      target = *k;
    });
  }
  void hex(const char* key, std::string& target) {
    auto& raw = texts_.emplace_back();
    number(key, raw, false);
    then_.push_back([key, &raw, &target] { target = unhex(raw, key); });
  }
  void list(const char* key, std::vector<std::string>& target) {
    auto& raw = texts_.emplace_back();
    text(key, raw, false);
    then_.push_back([&raw, &target] {
      std::stringstream in(raw);
      for (std::string x; std::getline(in, x);) target.push_back(x);
    });
  }

  explicit ini_reader(std::string path) : path_(std::move(path)) {}
  void parse(std::istream& in) {
    try {
      po::variables_map vm;
      po::store(po::parse_config_file(in, d_, /*allow_unregistered=*/true), vm);
      po::notify(vm);
    } catch (const po::error& e) {
      throw error("burla: the job description " + path_ + " is damaged or from another version: " + e.what());
    }
    for (auto& f : then_) f();
  }

 private:
  [[noreturn]] void damaged(const std::string& what) const {
    throw error("burla: the job description " + path_ + " is damaged: " + what +
                " is out of range. It is written when the job is created or resumed; submit the job again");
  }
  std::string path_;
  po::options_description d_;
  std::deque<int> ints_;  // deques: what the bindings point to never moves
  std::deque<std::string> texts_;
  std::vector<std::function<void()>> then_;
};

}  // namespace

void write_job_spec(const std::string& path, const job_spec& s) {
  ini_writer w;
  fields(s, w);
  const std::string body =
      "# burla job description; written by the caller, read by the job. Do not edit.\n" + w.body();
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
  // The version first: a file of another version is named as such, not as damaged.
  static constexpr std::string_view version_key = "format_version = ";
  const auto at = contents.find(version_key);
  const int version = at == std::string::npos ? 0 : std::atoi(contents.c_str() + at + version_key.size());
  if (version != job_spec{}.format_version)
    throw error(
        "burla: " + path + " has format_version " + std::to_string(version) +
        "; this build of burla reads version " + std::to_string(job_spec{}.format_version) +
        " (the job was created by another version of burla: use that version, or submit the job again)");
  job_spec s;
  ini_reader r(path);
  fields(s, r);
  std::istringstream in(std::move(contents));
  r.parse(in);
  // Older builds wrote libstdc++'s long spelling: attach<std::string> must still match them.
  s.types.input_type = detail::readable_type_name(std::move(s.types.input_type));
  s.types.result_type = detail::readable_type_name(std::move(s.types.result_type));
  check_values(path, s);
  if (s.func_timeout_ms > (std::uint64_t{1} << 40) || s.max_retries < 0 || s.max_retries > 100 || s.run < 1 ||
      s.run > 1000000 || s.drain_seconds < 0 || s.drain_seconds > 86400 || s.max_parallelism < 0 ||
      s.slurm.time_limit_s > (std::uint64_t{1} << 32))
    throw error("burla: the job description " + path +
                " is damaged: func_timeout_ms, max_retries, run, drain_seconds, max_parallelism or "
                "slurm.time_limit_s "
                "out of range. It is written when the job is created or resumed; submit the job again");
  return s;
}

}  // namespace burla::core
