// job.ini: `key = value` lines, read with Boost.Program_options so that a damaged file gives an
// error naming the key. Values are %-escaped where INI syntax would misread them.
#include <boost/program_options.hpp>
#include <burla/detail/job_spec.hpp>
#include <cctype>
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
  posix::write_file_atomic(path, o.str());
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

  std::istringstream in(posix::read_file(path));
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
  if (input_kind < 0 || input_kind > 2 || result_kind < 0 || result_kind > 3 || s.segment_items == 0 ||
      s.workers < 1)
    throw error("burla: the job description " + path + " has out-of-range values; it is damaged");
  t.input_kind = static_cast<value_kind>(input_kind);
  t.result_kind = static_cast<value_kind>(result_kind);
  t.callable_is_function = is_function != 0;
  t.callable_state = unhex(state_hex, "callable_state");
  return s;
}

}  // namespace burla::detail
