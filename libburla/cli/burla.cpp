// The `burla` command: a user's jobs from the shell. jobs, status, logs, cancel, results, resume,
// rm, gc.
#include <boost/program_options.hpp>
#include <burla/detail/job_state.hpp>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <optional>

#include "libburla/core/journal_fold.hpp"
#include "libburla/core/posix.hpp"
#include "libburla/core/results_reader.hpp"
#include "libburla/core/type_code.hpp"
#include "libburla/src/job_dir.hpp"
#include "libburla/src/jobs.hpp"

namespace po = boost::program_options;
namespace core = burla::core;
namespace posix = burla::posix;
using burla::call_status;
using burla::detail::follow_launch;
using burla::detail::list_jobs;
using burla::detail::removing_dir;
using core::job_spec;

namespace {

constexpr const char* usage_text =
    "usage: burla [--job-dir DIR] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  jobs                 list jobs, newest last, with state and progress\n"
    "  status ID            one job: state, progress, failures, files\n"
    "  logs ID [--follow]   what the job's calls printed, then the job's own log\n"
    "  cancel ID            stop a job; finished results are kept\n"
    "  results ID [--format table|json|csv]   results of arithmetic or string type\n"
    "  resume ID [--failed] run what a killed or stopped job did not (and, with --failed, what failed)\n"
    "  rm ID...             remove ended jobs' directories\n"
    "  gc [--older-than AGE] [--keep-failed] [--dry-run]\n"
    "                       remove the ended jobs older than AGE (default 7d)\n"
    "\n"
    "ID is a job's id (its directory's name) or its Slurm job id.\n"
    "`burla COMMAND --help` describes a command.\n";

/// Thrown for a wrong command line: the message and what to do, exit code 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string describe(const po::options_description& d) {
  std::ostringstream o;
  o << d;
  return o.str();
}

/// Parses a command's arguments; --help prints usage and the options. The job ID (or IDs: a
/// vector), when the command takes one, is positional and stays out of the option list.
template <class Id = std::string>
po::variables_map parse(const std::vector<std::string>& args, const po::options_description& d,
                        const po::positional_options_description& pos, const std::string& usage,
                        Id* id = nullptr) {
  po::variables_map vm;
  po::options_description all;
  all.add(d);
  if (id) all.add_options()("id", po::value(id)->required(), "");
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    if (vm.count("help")) {
      std::cout << usage << "\n" << describe(d);
      std::exit(0);
    }
    po::notify(vm);
  } catch (const po::required_option&) {
    throw usage_error("burla: give the job's ID (see `burla jobs`)\n" + usage + "\n");
  } catch (const po::error& e) {
    throw usage_error(std::string("burla: ") + e.what() + "\n" + usage + "\nValid options:\n" + describe(d));
  }
  return vm;
}

/// A job directory: its description and what its journal says so far (the one fold).
struct job_view {
  std::string dir;
  job_spec spec;
  core::journal_fold fold;
  std::string damage;  ///< why the journal could not be read past some record, if it could not
};

/// Folds the whole journal; on_batch(reply) sees each batch after the fold has taken it in.
template <class OnBatch>
job_view read_job(const std::string& dir, OnBatch&& on_batch) {
  job_spec spec = core::read_job_spec(dir + "/job.ini");
  job_view v{dir, spec, core::journal_fold(spec, dir + "/journal"), {}};
  core::journal_reader journal(dir + "/journal");
  try {
    for (core::record r; journal.next(r);) {
      v.fold.apply(r);
      if (const auto* reply = std::get_if<core::reply_view>(&r)) on_batch(*reply);
    }
  } catch (const burla::error& e) {  // what comes before the damage is still shown
    v.damage = e.what();
  }
  return v;
}
job_view read_job(const std::string& dir) {
  return read_job(dir, [](const core::reply_view&) {});
}

std::string slurm_id_of(const std::string& dir) {
  try {
    std::string id = posix::read_file(dir + "/slurm_job_id");
    while (!id.empty() && id.back() == '\n') id.pop_back();
    return id;
  } catch (const burla::error&) {
    return "";
  }
}

/// How the job ended, if it has: its journal's end, or, without one, its launch gone ("ended
/// early"); nullopt while it runs or is queued. The one rule for "still running" in every command.
std::optional<std::string> end_of(const job_view& v, core::launch& launch) {
  if (v.fold.end()) return core::to_string(v.fold.end()->state);
  if (launch.ended()) return "ended early (" + launch.end_state() + ")";
  return std::nullopt;
}
bool has_ended(const job_view& v) {
  return end_of(v, *follow_launch(v.spec, v.dir)).has_value();
}

/// One word for where a job stands, and Slurm's view if it has one: the same in every command.
std::string state_of(const job_view& v) {
  if (!v.damage.empty()) return "journal damaged";
  auto launch = follow_launch(v.spec, v.dir);
  if (auto end = end_of(v, *launch)) return *end;
  if (launch->pending()) {
    const std::string w = launch->waiting_status();
    return w.empty() ? "pending" : w;
  }
  return v.fold.started() ? "running" : "starting";
}

/// A failed input's error as every command shows it: the exception's type (or the status), its message.
std::string failure_text(const burla::remote_error::details& f) {
  return f.type + ": " + f.what;
}

struct context {
  std::string root;
  std::string dir_of(const std::string& id) const { return burla::detail::find_job_dir(root, id); }
};

int cmd_jobs(const context& c, const std::vector<std::string>& args) {
  po::options_description d("burla jobs");
  d.add_options()("help,h", "show this help");
  parse(args, d, {}, "usage: burla jobs\nLists the jobs under " + c.root + ", oldest first.");
  std::printf("%-24s %-10s %-9s %-12s %s\n", "ID", "BACKEND", "SLURM_ID", "DONE", "STATE");
  for (const auto& name : list_jobs(c.root)) {
    const std::string dir = c.root + "/" + name;
    try {
      const job_view v = read_job(dir);
      std::string done =
          std::to_string(v.fold.ok() + v.fold.failed()) + "/" + std::to_string(v.spec.n_inputs);
      std::string state = state_of(v);
      if (v.fold.failed()) state += ", " + std::to_string(v.fold.failed()) + " failed";
      const std::string slurm_id = slurm_id_of(dir);
      std::printf("%-24s %-10s %-9s %-12s %s\n", name.c_str(), core::to_string(v.spec.backend),
                  slurm_id.empty() ? "-" : slurm_id.c_str(), done.c_str(), state.c_str());
    } catch (const burla::error& e) {
      std::printf("%-24s %s\n", name.c_str(), e.what());
    }
  }
  return 0;
}

po::positional_options_description one_id() {
  po::positional_options_description pos;
  pos.add("id", 1);
  return pos;
}

int cmd_status(const context& c, const std::vector<std::string>& args) {
  po::options_description d("burla status");
  std::string id;
  d.add_options()("help,h", "show this help");
  parse(args, d, one_id(), "usage: burla status ID", &id);
  const std::string dir = c.dir_of(id);
  const job_view v = read_job(dir);
  const job_spec& spec = v.spec;
  std::printf("job        %s\n", spec.id.c_str());
  std::printf("state      %s\n", state_of(v).c_str());
  std::printf("progress   %" PRIu64 "/%" PRIu64 " done, %" PRIu64 " failed\n", v.fold.ok() + v.fold.failed(),
              spec.n_inputs, v.fold.failed());
  std::printf("backend    %s, %d workers of %d CPU(s)\n", core::to_string(spec.backend), spec.workers,
              spec.func_cpu);
  if (const std::string s = slurm_id_of(dir); !s.empty()) std::printf("slurm job  %s\n", s.c_str());
  std::printf("function   %s -> %s\n", spec.types.input_type.c_str(), spec.types.result_type.c_str());
  std::printf("created    %s on %s\n", spec.created.c_str(), spec.caller_host.c_str());
  std::printf("program    %s\n", spec.executable.c_str());
  std::printf("directory  %s\n", dir.c_str());
  if (!v.damage.empty()) std::printf("damage     %s\n", v.damage.c_str());
  if (const auto& end = v.fold.end(); end && !end->message.empty())
    std::printf("message    %s\n", end->message.c_str());
  int listed = 0;
  for (const auto& [index, f] : v.fold.failures()) {  // keyed by input: in input order
    if (++listed > 10) {
      std::printf("failed     ... and %zu more\n", v.fold.failures().size() - 10);
      break;
    }
    std::printf("failed     input %zu: %s\n", index, failure_text(f).c_str());
  }
  return 0;
}

int cmd_logs(const context& c, const std::vector<std::string>& args) {
  po::options_description d("burla logs");
  std::string id;
  d.add_options()("help,h", "show this help")("follow,f", "keep printing until the job ends");
  auto vm = parse(args, d, one_id(),
                  "usage: burla logs ID [--follow]\nPrints what the calls printed (stdout and stderr, "
                  "each call's output whole, in the order calls finished), then the job's own log.",
                  &id);
  const std::string dir = c.dir_of(id);
  if (vm.count("follow")) {
    // Follow it as the caller would: output is forwarded as calls finish.
    auto job = burla::detail::open_job(dir, false);
    burla::detail::finished_batch b;
    while (job->next(b)) {
    }
  } else {
    read_job(dir, [](const core::reply_view& r) {
      for (const auto& n : r.notes) {
        if (n.kind == core::note_kind::out) std::cout << n.text;
        if (n.kind == core::note_kind::err) std::cerr << n.text;
      }
    });
  }
  std::cout.flush();
  std::string log;
  try {
    log = posix::read_file(dir + "/job.log");
  } catch (const burla::error&) {
  }
  if (!log.empty()) std::cerr << "--- " << dir << "/job.log ---\n" << log;
  return 0;
}

int cmd_cancel(const context& c, const std::vector<std::string>& args) {
  po::options_description d("burla cancel");
  std::string id;
  d.add_options()("help,h", "show this help");
  parse(args, d, one_id(), "usage: burla cancel ID\nStops the job; results already computed are kept.", &id);
  const std::string dir = c.dir_of(id);
  if (const job_view v = read_job(dir); has_ended(v)) {
    std::printf("job %s has already ended (%s)\n", id.c_str(), state_of(v).c_str());
    return 0;
  }
  burla::detail::open_job(dir, false)->cancel();
  std::printf("job %s cancelled; finished results are kept in %s/results.h5\n", id.c_str(), dir.c_str());
  return 0;
}

// ---- resume ----------------------------------------------------------------------------------

int cmd_resume(const context& c, const std::vector<std::string>& args) {
  po::options_description d("burla resume");
  std::string id;
  d.add_options()("help,h", "show this help")("failed", "also run the inputs whose call failed");
  const auto vm =
      parse(args, d, one_id(),
            "usage: burla resume ID [--failed]\nRuns the inputs of an ended job that have no result "
            "(with --failed, also those that failed), in the same job directory, and waits for them.",
            &id);
  burla::options o;
  o.job_dir = c.root;
  o.spinner = posix::is_terminal(2);
  auto job = burla::detail::resume_job(c.dir_of(id), o, vm.count("failed") > 0);
  burla::detail::ctrl_c_guard waiting;  // Ctrl-C cancels this run, as in a program (docs/usage.md)
  burla::detail::finished_batch b;
  while (job->next(b)) {
  }
  int rc = 0;
  try {
    job->finish(false);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    rc = 1;
  }
  std::printf("job %s: %s\n", job->id().c_str(), state_of(read_job(job->directory())).c_str());
  return rc;
}

// ---- rm, gc ----------------------------------------------------------------------------------

std::string format_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  std::size_t u = 0;
  for (; v >= 1024 && u + 1 < std::size(units); ++u) v /= 1024;
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", v, units[u]);
  return buf;
}

/// Removes the directory of a job that has ended (has_ended) and returns the bytes freed; throws,
/// saying what to do, for a job still running or queued. It holds resume.lock from the check to
/// the rename out of the ids' way, so that no resume starts the job meanwhile; once renamed,
/// nothing finds the job by its id.
std::uint64_t remove_job(const context& c, const std::string& dir) {
  const std::string id = dir.substr(dir.rfind('/') + 1);
  const auto lock = posix::try_lock(dir + "/resume.lock");
  if (!lock)
    throw burla::error("burla: job " + id + " is being resumed right now; let it start, then stop it with " +
                       "`burla cancel " + id + "` before `burla rm " + id + "`");
  std::optional<job_view> read;
  try {
    read = read_job(dir);
  } catch (const burla::error& e) {
    throw burla::error(std::string(e.what()) + "\nburla: cannot tell whether job " + id +
                       " has ended, so it is kept; if nothing runs it any more, remove " + dir + " by hand");
  }
  const job_view& v = *read;
  if (!has_ended(v))
    throw burla::error(
        "burla: job " + id + " has not ended (" + state_of(v) + "): stop it with `burla cancel " + id +
        "` first (its finished results are kept until you remove it), then `burla rm " + id + "`");
  const std::string away = removing_dir(c.root, id);
  posix::remove_tree(away);  // what a crash left of an earlier job of that id, already decided
  posix::rename_file(dir, away);
  return posix::remove_tree(away);
}

int cmd_rm(const context& c, const std::vector<std::string>& args) {
  po::options_description d("burla rm");
  std::vector<std::string> ids;
  d.add_options()("help,h", "show this help");
  po::positional_options_description pos;
  pos.add("id", -1);
  parse(args, d, pos,
        "usage: burla rm ID...\nRemoves the directories of jobs that have ended, results and all. A job "
        "still running or queued is refused: `burla cancel ID` it first.",
        &ids);
  int rc = 0;
  std::uint64_t freed = 0;
  for (const auto& id : ids) {
    try {
      std::string dir;
      try {
        dir = c.dir_of(id);
      } catch (const burla::error&) {
        if (id.find('/') != std::string::npos || !posix::exists(removing_dir(c.root, id))) throw;
        const std::uint64_t bytes = posix::remove_tree(removing_dir(c.root, id));
        std::printf("removed %s (the rest of an earlier removal, %s)\n", id.c_str(),
                    format_bytes(bytes).c_str());
        freed += bytes;
        continue;
      }
      const std::uint64_t bytes = remove_job(c, dir);
      std::printf("removed %s (%s)\n", dir.substr(dir.rfind('/') + 1).c_str(), format_bytes(bytes).c_str());
      freed += bytes;
    } catch (const burla::error& e) {
      std::fprintf(stderr, "%s\n", e.what());
      rc = 1;
    }
  }
  if (ids.size() > 1) std::printf("%s freed\n", format_bytes(freed).c_str());
  return rc;
}

/// An age such as 7d, 12h, 30m or 45s, in seconds; a usage error naming the option otherwise.
std::int64_t parse_age(const std::string& text) {
  const std::string units = "smhd";
  const std::int64_t seconds[] = {1, 60, 3600, 86400};
  const std::size_t digits = text.find_first_not_of("0123456789");
  const std::size_t unit = digits == std::string::npos ? std::string::npos : units.find(text[digits]);
  if (digits == 0 || unit == std::string::npos || digits + 1 != text.size() || digits > 9)
    throw usage_error(
        "burla gc: --older-than takes a whole number and a unit, s, m, h or d (such as 7d, 12h "
        "or 30m), not '" +
        text + "'\n");
  return std::stoll(text.substr(0, digits)) * seconds[unit];
}

/// When the job last changed: its journal's last record (its end, for an ended job), or, for a
/// job that never started (no journal), its creation (job.ini).
std::int64_t changed_at(const std::string& dir) {
  const std::string journal = dir + "/journal";
  return posix::modified_time(posix::exists(journal) ? journal : dir + "/job.ini");
}

std::string format_age(std::int64_t seconds) {
  if (seconds >= 86400) return std::to_string(seconds / 86400) + "d";
  if (seconds >= 3600) return std::to_string(seconds / 3600) + "h";
  if (seconds >= 60) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

/// Completed with every call ok: nothing there to resume or to look into.
bool completed_in_full(const job_view& v) {
  return v.damage.empty() && v.fold.end() && v.fold.end()->state == core::end_state::completed &&
         v.fold.failed() == 0;
}

int cmd_gc(const context& c, const std::vector<std::string>& args) {
  po::options_description d("burla gc");
  std::string older_than = "7d";
  d.add_options()("help,h", "show this help")(
      "older-than", po::value(&older_than)->value_name("AGE"),
      "remove jobs that ended longer ago than this: 45s, 30m, 12h, 7d (default 7d)")(
      "keep-failed",
      "keep jobs that did not complete in full (failed calls, failed, cancelled, ended early)")(
      "dry-run", "list what would be removed, and its size, removing nothing");
  const auto vm =
      parse(args, d, {},
            "usage: burla gc [--older-than AGE] [--keep-failed] [--dry-run]\nRemoves the jobs under " +
                c.root + " that ended longer ago than AGE. Jobs running or queued are never removed.");
  const std::int64_t limit = parse_age(older_than);
  const bool keep_failed = vm.count("keep-failed") > 0, dry_run = vm.count("dry-run") > 0;
  const std::int64_t now = std::time(nullptr);
  int rc = 0, removed = 0;
  std::uint64_t freed = 0;
  auto removing = [&](const std::string& id, const std::string& why, auto remove) {
    try {
      const std::uint64_t bytes = remove();
      std::printf("%s %s (%s, %s)\n", dry_run ? "would remove" : "removed", id.c_str(), why.c_str(),
                  format_bytes(bytes).c_str());
      freed += bytes;
      ++removed;
    } catch (const burla::error& e) {
      std::fprintf(stderr, "%s\n", e.what());
      rc = 1;
    }
  };
  for (const auto& id : list_jobs(c.root)) {
    const std::string dir = c.root + "/" + id;
    std::string why;
    try {
      const job_view v = read_job(dir);
      const std::int64_t age = now - changed_at(dir);
      if (age < limit || !has_ended(v) || (keep_failed && !completed_in_full(v))) continue;
      why = state_of(v) + ", " + format_age(age) + " old";
    } catch (const burla::error& e) {
      std::fprintf(
          stderr,
          "burla gc: keeping %s, which cannot be read (remove it by hand if you do not need it): %s\n",
          id.c_str(), e.what());
      continue;
    }
    removing(id, why, [&] { return dry_run ? posix::disk_usage(dir) : remove_job(c, dir); });
  }
  // What crashed removals left: already decided.
  for (const auto& id : burla::detail::cut_short_removals(c.root)) {
    const std::string path = removing_dir(c.root, id);
    removing(id, "the rest of an earlier removal",
             [&] { return dry_run ? posix::disk_usage(path) : posix::remove_tree(path); });
  }
  if (dry_run)
    std::printf("would remove %d job(s), %s%s\n", removed, format_bytes(freed).c_str(),
                removed ? "; run without --dry-run to remove them" : "");
  else
    std::printf("removed %d job(s), %s freed\n", removed, format_bytes(freed).c_str());
  return rc;
}

// ---- results ---------------------------------------------------------------------------------

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += static_cast<char>(ch);
    } else if (ch < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", ch);
      out += buf;
    } else {
      out += static_cast<char>(ch);
    }
  }
  return out + "\"";
}

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

/// One number as text, from its scalar code. In JSON, NaN and infinities are strings: JSON has
/// no such numbers.
std::string format_scalar(const std::string& code, const char* raw, bool json) {
  auto get = [&](auto v) {
    std::memcpy(&v, raw, sizeof v);
    return v;
  };
  char buf[64];
  std::string out;
  if (code == "bool") return get(std::uint8_t{}) ? "true" : "false";
  if (code == "f32")
    out = (std::snprintf(buf, sizeof buf, "%.9g", get(float{})), buf);
  else if (code == "f64")
    out = (std::snprintf(buf, sizeof buf, "%.17g", get(double{})), buf);
  else if (code == "i8")
    return std::to_string(get(std::int8_t{}));
  else if (code == "i16")
    return std::to_string(get(std::int16_t{}));
  else if (code == "i32")
    return std::to_string(get(std::int32_t{}));
  else if (code == "i64")
    return std::to_string(get(std::int64_t{}));
  else if (code == "u8")
    return std::to_string(get(std::uint8_t{}));
  else if (code == "u16")
    return std::to_string(get(std::uint16_t{}));
  else if (code == "u32")
    return std::to_string(get(std::uint32_t{}));
  else if (code == "u64")
    return std::to_string(get(std::uint64_t{}));
  else  // the one other scalar code: long double
    out = (std::snprintf(buf, sizeof buf, "%.21Lg", get(static_cast<long double>(0))), buf);
  return json && (out == "nan" || out == "-nan" || out == "inf" || out == "-inf") ? json_string(out) : out;
}

std::string format_typed(const core::type_code& t, std::string_view raw, bool json);

/// A number, a complex number ("1+2i" as text, {"r": 1, "i": 2} in JSON) or a record
/// ({x: 1.5, n: 7} as text, {"x": 1.5, "n": 7} in JSON).
std::string format_element(const core::type_code& t, const char* raw, bool json) {
  if (t.record()) {
    std::string out = "{";
    for (const auto& f : t.fields) {
      out += out.size() > 1 ? ", " : "";
      out += (json ? json_string(f.name) : f.name) + ": ";
      out += format_typed(f.type, {raw + f.offset, f.type.fixed_size()}, json);
    }
    return out + "}";
  }
  if (!t.complex) return format_scalar(t.scalar, raw, json);
  const std::string r = format_scalar(t.scalar, raw, json),
                    i = format_scalar(t.scalar, raw + t.scalar_size, json);
  if (json) return "{\"r\": " + r + ", \"i\": " + i + "}";
  return r + (i.starts_with('-') || i.starts_with('+') ? "" : "+") + i + "i";
}

/// One typed value (fixed or sequence) as text, from its type code; arrays and vectors as
/// [a, b, ...] in every format.
std::string format_typed(const core::type_code& t, std::string_view raw, bool json) {
  const std::uint64_t n = t.sequence ? raw.size() / t.element_size : 1;
  const std::uint64_t per = t.array ? t.array : 1, size = t.element_size / per;
  std::string out = t.sequence ? "[" : "";
  for (std::uint64_t k = 0; k < n; ++k) {
    out += k ? ", " : "";
    out += t.array ? "[" : "";
    for (std::uint64_t j = 0; j < per; ++j)
      out += (j ? ", " : "") + format_element(t, raw.data() + k * t.element_size + j * size, json);
    out += t.array ? "]" : "";
  }
  return out + (t.sequence ? "]" : "");
}

int cmd_results(const context& c, const std::vector<std::string>& args) {
  po::options_description d("burla results");
  std::string id, format = "table";
  d.add_options()("help,h", "show this help")("format", po::value(&format), "table (default), json or csv");
  parse(args, d, one_id(),
        "usage: burla results ID [--format table|json|csv]\nOne row per input: index, status (ok, "
        "failed, not_run), result; for a running job, the results so far.",
        &id);
  if (format != "table" && format != "json" && format != "csv")
    throw usage_error("burla results: --format must be table, json or csv, not '" + format + "'\n");
  const std::string dir = c.dir_of(id);
  const job_spec spec = core::read_job_spec(dir + "/job.ini");
  const auto& t = spec.types;
  if (t.result_kind == core::value_kind::serialized)
    throw burla::error("burla: job " + spec.id + " returns " + t.result_type +
                       ", stored as Boost archives: read them in C++ with burla::attach<" + t.result_type +
                       ">(\"" + spec.id + "\").results(), or from " + dir + "/results.h5");

  // The fold decides each input's status; a batch gives a value only where it says ok. Values
  // are kept encoded until the format is known.
  const std::size_t n = spec.n_inputs;
  const bool typed = t.result_kind == core::value_kind::fixed || t.result_kind == core::value_kind::sequence;
  const auto code = typed ? core::parse_type_code(t.result_h5) : std::nullopt;
  std::vector<std::string> values(n);
  core::batch_results results(dir + "/results.h5", t);
  const job_view v = read_job(dir, [&](const core::reply_view& r) {
    burla::detail::byte_reader in(results.of(r), "the results of a batch");
    for (std::uint32_t k = 0; k < r.head.done; ++k) {
      std::string_view value;
      if (t.result_kind == core::value_kind::fixed)
        value = in.take(t.result_size);
      else if (t.result_kind != core::value_kind::none)
        value = in.get_bytes();
      if (r.status[k] == static_cast<std::uint8_t>(call_status::ok)) values[r.head.first + k] = value;
    }
  });
  auto shown = [&](std::size_t i, bool json) {
    if (code) return format_typed(*code, values[i], json);
    return json ? json_string(values[i]) : values[i];
  };
  const auto& status = v.fold.status();
  std::vector<std::string> errors(n);
  for (const auto& [index, f] : v.fold.failures()) errors[index] = failure_text(f);
  const std::string state = state_of(v);
  const bool has_value = t.result_kind != core::value_kind::none;
  auto status_name = [&](std::size_t i) { return burla::to_string(static_cast<call_status>(status[i])); };
  if (format == "json") {
    std::printf("{\"job\": %s, \"state\": %s, \"result_type\": %s, \"results\": [",
                json_string(spec.id).c_str(), json_string(state).c_str(), json_string(t.result_type).c_str());
    for (std::size_t i = 0; i < n; ++i) {
      const std::string value = status[i] == 1 && has_value ? shown(i, true) : "null";
      std::printf("%s\n  {\"index\": %zu, \"status\": \"%s\", \"result\": %s", i ? "," : "", i,
                  status_name(i), value.c_str());
      if (!errors[i].empty()) std::printf(", \"error\": %s", json_string(errors[i]).c_str());
      std::printf("}");
    }
    std::printf("\n]}\n");
  } else if (format == "csv") {
    std::printf("index,status,result,error\n");
    for (std::size_t i = 0; i < n; ++i)
      std::printf("%zu,%s,%s,%s\n", i, status_name(i),
                  status[i] == 1 ? csv_field(shown(i, false)).c_str() : "", csv_field(errors[i]).c_str());
  } else {
    for (std::size_t i = 0; i < n; ++i)
      std::printf("%zu\t%s\t%s\n", i, status_name(i),
                  status[i] == 1 ? shown(i, false).c_str() : errors[i].c_str());
  }
  if (!v.damage.empty()) {
    std::fprintf(stderr, "%s\nburla: the rows above are what the journal holds before the damage\n",
                 v.damage.c_str());
    return 1;
  }
  if (!v.fold.end())
    std::fprintf(stderr, "burla: job %s %s: results so far\n", spec.id.c_str(),
                 state == "running" || state == "starting" ? "is still running"
                                                           : ("has not finished: " + state).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string job_dir, command;
  po::options_description global("Options");
  global.add_options()("help,h", "show this help")(
      "job-dir", po::value(&job_dir), "where jobs are (default: $BURLA_JOBS_DIR, else ~/.burla/jobs)")(
      "command", po::value(&command), "")("args", po::value<std::vector<std::string>>(), "");
  po::positional_options_description pos;
  pos.add("command", 1).add("args", -1);
  try {
    po::variables_map vm;
    auto parsed =
        po::command_line_parser(argc, argv).options(global).positional(pos).allow_unregistered().run();
    po::store(parsed, vm);
    po::notify(vm);
    if (command.empty()) {
      if (vm.count("help")) {
        std::cout << usage_text;
        return 0;
      }
      throw usage_error(std::string("burla: no command given\n") + usage_text);
    }
    std::vector<std::string> rest = po::collect_unrecognized(parsed.options, po::include_positional);
    rest.erase(rest.begin());  // the command itself
    if (vm.count("help")) rest.push_back("--help");
    burla::options o;
    o.job_dir = job_dir;
    const context c{posix::absolute(burla::detail::jobs_root(o))};
    const std::map<std::string, int (*)(const context&, const std::vector<std::string>&)> commands = {
        {"jobs", cmd_jobs},       {"status", cmd_status}, {"logs", cmd_logs}, {"cancel", cmd_cancel},
        {"results", cmd_results}, {"resume", cmd_resume}, {"rm", cmd_rm},     {"gc", cmd_gc}};
    auto it = commands.find(command);
    if (it == commands.end()) throw usage_error("burla: unknown command '" + command + "'\n" + usage_text);
    return it->second(c, rest);
  } catch (const usage_error& e) {
    std::cerr << e.what();
    return 2;
  } catch (const po::error& e) {
    std::cerr << "burla: " << e.what() << "\n" << usage_text << "\n" << describe(global);
    return 2;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
