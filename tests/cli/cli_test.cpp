// The `burla` command on real local jobs (mpirun): cli_helper starts them, these tests read them
// back through the command as a user would, and check every value against what the function
// gives, computed here.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/integration/terminal.hpp"

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// ---- what cli_helper's functions give (tests/cli/cli_helper.cpp) ------------------------------

int square(int x) {
  return x * x;
}
std::string text_of(int x) {
  return "v" + std::to_string(x) + ", \"q\" \\ " + std::string(x % 4, 'z');
}
bool throws(int x) {
  return x % 3 == 1;
}
std::string error_of(int x) {
  return "std::runtime_error: bad input " + std::to_string(x);
}
/// The `failed` lines of `burla status` for inputs 0..n-1 of cli_helper fail: in input order.
std::vector<std::string> failed_lines(int n) {
  std::vector<std::string> lines;
  for (int x = 0; x < n; ++x)
    if (throws(x)) lines.push_back("input " + std::to_string(x) + ": " + error_of(x));
  return lines;
}

/// One row of `burla results`, as it should be.
struct row {
  std::string status, value, error;
};

std::vector<row> squares(int n) {
  std::vector<row> rows;
  for (int i = 0; i < n; ++i) rows.push_back({"ok", std::to_string(square(i)), ""});
  return rows;
}

// ---- running commands ----------------------------------------------------------------------------

const auto& quote = test::shell_quote;
const auto& read_file = test::file_text;
using test::eventually;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct output {
  int rc = -1;
  std::string out, err;
};

/// Runs a shell command; its stderr goes through a file so that stdout and stderr stay apart.
output run(const std::string& command, const std::string& err_file) {
  output o;
  FILE* p = ::popen((command + " 2>" + quote(err_file)).c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + command);
  char buf[65536];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) o.out.append(buf, n);
  const int st = ::pclose(p);
  o.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  o.err = read_file(err_file);
  return o;
}

// ---- reading what the command prints -------------------------------------------------------------

/// A JSON value, strictly parsed: the command's JSON must be valid JSON.
struct json {
  enum kind { null, boolean, number, string, array, object } type = null;
  std::string text;  // a string's value; a number's or a boolean's spelling
  std::vector<json> items;
  std::map<std::string, json> members;

  const json& operator[](const std::string& key) const {
    auto it = members.find(key);
    if (it == members.end()) throw std::runtime_error("no member " + key + " in the JSON object");
    return it->second;
  }
  bool has(const std::string& key) const { return members.count(key) > 0; }

  static json parse(std::string_view s) {
    std::size_t i = 0;
    json v = value(s, i);
    skip(s, i);
    if (i != s.size()) throw std::runtime_error("text after the JSON value at " + std::to_string(i));
    return v;
  }

 private:
  static void skip(std::string_view s, std::size_t& i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
  }
  static void expect(std::string_view s, std::size_t& i, char c) {
    skip(s, i);
    if (i >= s.size() || s[i] != c)
      throw std::runtime_error(std::string("expected '") + c + "' at " + std::to_string(i) + " in the JSON");
    ++i;
  }
  /// After an item of an array or object: true (and past the comma) if another one follows.
  static bool next_item(std::string_view s, std::size_t& i) {
    skip(s, i);
    if (i >= s.size() || s[i] != ',') return false;
    ++i;
    return true;
  }
  static std::string string_at(std::string_view s, std::size_t& i) {
    expect(s, i, '"');
    std::string out;
    while (i < s.size() && s[i] != '"') {
      char c = s[i++];
      if (static_cast<unsigned char>(c) < 0x20)
        throw std::runtime_error("raw control character in a JSON string");
      if (c == '\\') {
        if (i >= s.size()) break;
        const char e = s[i++];
        const std::string_view simple = "\"\\/bfnrt", meant = "\"\\/\b\f\n\r\t";
        if (auto k = simple.find(e); k != std::string_view::npos) {
          c = meant[k];
        } else if (e == 'u' && i + 4 <= s.size()) {
          const unsigned long code = std::stoul(std::string(s.substr(i, 4)), nullptr, 16);
          if (code >= 0x80) throw std::runtime_error("\\u escapes beyond ASCII are not needed here");
          c = static_cast<char>(code);
          i += 4;
        } else {
          throw std::runtime_error("bad escape in a JSON string");
        }
      }
      out += c;
    }
    expect(s, i, '"');
    return out;
  }
  static json value(std::string_view s, std::size_t& i) {
    skip(s, i);
    json v;
    if (i >= s.size()) throw std::runtime_error("the JSON ends early");
    if (s[i] == '{') {
      v.type = object;
      ++i;
      skip(s, i);
      for (bool more = i < s.size() && s[i] != '}'; more; more = next_item(s, i)) {
        std::string key = string_at(s, i);
        expect(s, i, ':');
        v.members[key] = value(s, i);
      }
      expect(s, i, '}');
    } else if (s[i] == '[') {
      v.type = array;
      ++i;
      skip(s, i);
      for (bool more = i < s.size() && s[i] != ']'; more; more = next_item(s, i))
        v.items.push_back(value(s, i));
      expect(s, i, ']');
    } else if (s[i] == '"') {
      v.type = string;
      v.text = string_at(s, i);
    } else {
      const std::size_t end = s.find_first_of(",]} \n", i);
      v.text = std::string(s.substr(i, end - i));
      i = end == std::string_view::npos ? s.size() : end;
      if (v.text == "null") {
        v.type = null;
      } else if (v.text == "true" || v.text == "false") {
        v.type = boolean;
      } else {
        v.type = number;
        std::size_t used = 0;
        (void)std::stod(v.text, &used);
        if (used != v.text.size()) throw std::runtime_error("bad JSON number " + v.text);
      }
    }
    return v;
  }
};

/// RFC 4180 CSV: quoted fields may hold commas, newlines and doubled quotes.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted && c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
      field += '"';
      ++i;
    } else if (c == '"' && (quoted || field.empty())) {
      quoted = !quoted;
    } else if (!quoted && c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else if (!quoted && c == '\n') {
      fields.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(fields));
      fields.clear();
    } else {
      field += c;
    }
  }
  if (!field.empty() || !fields.empty()) throw std::runtime_error("the CSV does not end with a newline");
  return rows;
}

/// The first few of many mismatches, and how many there were: one broken row of 40,000 stays readable.
class mismatches {
 public:
  void operator()(const std::string& what) {
    if (n_++ < 10) text_ += "  " + what + "\n";
  }
  bool none() const { return n_ == 0; }
  std::string summary() const { return std::to_string(n_) + " mismatches, the first ones:\n" + text_; }

 private:
  std::size_t n_ = 0;
  std::string text_;
};

// ---- the job's processes -----------------------------------------------------------------------

/// The pid of the job's mpirun while it runs, else 0. launcher.pid holds its pid and start time
/// (field 22 of /proc/PID/stat), so a recycled pid is not taken for it; a zombie has ended.
pid_t live_launcher(const std::string& job_dir) {
  std::istringstream pid_file(read_file(job_dir + "/launcher.pid"));
  long pid = 0;
  std::string started;
  if (!(pid_file >> pid >> started) || pid <= 0) return 0;
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (stat.rfind(')') == std::string::npos) return 0;
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));  // from field 3, the state
  std::string state, field;
  fields >> state;
  for (int i = 4; i <= 22; ++i) fields >> field;
  return field == started && state != "Z" ? static_cast<pid_t>(pid) : 0;
}

// ---- the fixture ---------------------------------------------------------------------------------

/// Each test has a jobs root of its own, so that tests running in parallel don't see each
/// other's jobs, and runs cli_helper and the burla command against it.
class Cli : public testing::Test {
 protected:
  void SetUp() override {
    const auto* t = testing::UnitTest::GetInstance()->current_test_info();
    const char* jobs = std::getenv("BURLA_JOBS_DIR");
    ASSERT_NE(jobs, nullptr) << "BURLA_JOBS_DIR is set from tests/CMakeLists.txt";
    base_ = std::string(jobs) + "/cli-" + t->test_suite_name() + "." + t->name();
    root_ = base_ + "/jobs";
    fs::remove_all(base_);  // a fresh root: `burla jobs` must list only this run's jobs
    fs::create_directories(root_);
  }

  // A test that failed half-way may leave a job running: stop it, then reap its processes (this
  // process adopted them when cli_helper exited before its job; see main).
  void TearDown() override {
    if (fs::exists(root_))
      for (const auto& e : fs::directory_iterator(root_))
        if (pid_t pid = live_launcher(e.path().string())) ::kill(pid, SIGKILL);
    for (auto end = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < end;) {
      const pid_t r = ::waitpid(-1, nullptr, WNOHANG);
      if (r < 0) break;  // no child left
      if (r == 0) std::this_thread::sleep_for(50ms);
    }
  }

  /// `burla --job-dir ROOT ARGS`.
  output burla(const std::string& args) const {
    return run(quote(BURLA_TEST_CLI) + " --job-dir " + quote(root_) + " " + args, base_ + "/stderr");
  }

  /// Runs `cli_helper ARGS` with its jobs under this test's root; returns the job's id.
  std::string start(const std::string& args) const {
    const output o = run("BURLA_JOBS_DIR=" + quote(root_) + " " + quote(BURLA_TEST_HELPER) + " " + args,
                         base_ + "/stderr");
    if (o.rc != 0 || o.out.empty()) throw std::runtime_error("cli_helper " + args + " failed: " + o.err);
    return o.out.substr(0, o.out.find('\n'));
  }

  std::string dir_of(const std::string& id) const { return root_ + "/" + id; }

  /// `burla status ID` as field -> values ("failed" has one line per failure).
  std::multimap<std::string, std::string> status(const std::string& id) const {
    const output o = burla("status " + id);
    EXPECT_EQ(o.rc, 0) << o.err;
    std::multimap<std::string, std::string> fields;
    for (const auto& line : lines_of(o.out)) {
      const std::size_t space = line.find(' ');
      const std::size_t value = line.find_first_not_of(' ', space);
      if (space != std::string::npos && value != std::string::npos)
        fields.emplace(line.substr(0, space), line.substr(value));
    }
    return fields;
  }
  /// The `failed` lines of a status, in the order printed.
  static std::vector<std::string> listed_failures(const std::multimap<std::string, std::string>& status) {
    std::vector<std::string> lines;
    for (auto [it, end] = status.equal_range("failed"); it != end; ++it) lines.push_back(it->second);
    return lines;
  }
  std::string state(const std::string& id) const {
    const auto s = status(id);
    return s.count("state") ? s.find("state")->second : "";
  }
  /// The N of `progress N/M done, K failed`.
  std::size_t done(const std::string& id) const {
    const auto s = status(id);
    return s.count("progress") ? std::stoul(s.find("progress")->second) : 0;
  }

  /// `burla results ID` in all three formats gives exactly these rows; the JSON also this state.
  void expect_results(const std::string& id, const std::vector<row>& want, bool strings,
                      const std::string& state) const {
    const std::size_t n = want.size();
    {
      SCOPED_TRACE("--format table");
      const output o = burla("results " + id);
      ASSERT_EQ(o.rc, 0) << o.err;
      EXPECT_EQ(o.err, "");
      const auto lines = lines_of(o.out);
      ASSERT_EQ(lines.size(), n);
      mismatches bad;
      for (std::size_t i = 0; i < n; ++i) {
        const std::string third = want[i].status == "ok" ? want[i].value : want[i].error;
        const std::string expected = std::to_string(i) + "\t" + want[i].status + "\t" + third;
        if (lines[i] != expected)
          bad("row " + std::to_string(i) + ": '" + lines[i] + "', not '" + expected + "'");
      }
      EXPECT_TRUE(bad.none()) << bad.summary();
    }
    {
      SCOPED_TRACE("--format csv");
      const output o = burla("results " + id + " --format csv");
      ASSERT_EQ(o.rc, 0) << o.err;
      EXPECT_EQ(o.err, "");
      const auto rows = parse_csv(o.out);
      const auto lines = lines_of(o.out);  // for the messages: no value here spans lines
      ASSERT_EQ(rows.size(), n + 1);
      EXPECT_EQ(rows[0], (std::vector<std::string>{"index", "status", "result", "error"}));
      mismatches bad;
      for (std::size_t i = 0; i < n; ++i) {
        const std::vector<std::string> expected{std::to_string(i), want[i].status, want[i].value,
                                                want[i].error};
        if (rows[i + 1] != expected) bad("row " + std::to_string(i) + ": '" + lines[i + 1] + "'");
      }
      EXPECT_TRUE(bad.none()) << bad.summary();
    }
    {
      SCOPED_TRACE("--format json");
      const output o = burla("results " + id + " --format json");
      ASSERT_EQ(o.rc, 0) << o.err;
      EXPECT_EQ(o.err, "");
      const json doc = json::parse(o.out);
      EXPECT_EQ(doc["job"].text, id);
      EXPECT_EQ(doc["state"].text, state);
      const auto& results = doc["results"].items;
      ASSERT_EQ(results.size(), n);
      mismatches bad;
      for (std::size_t i = 0; i < n; ++i) {
        const json& r = results[i];
        const bool ok = want[i].status == "ok";
        const json::kind value_type = !ok ? json::null : strings ? json::string : json::number;
        const bool error_right =
            want[i].status == "failed" ? r.has("error") && r["error"].text == want[i].error : !r.has("error");
        if (r["index"].text != std::to_string(i) || r["status"].text != want[i].status ||
            r["result"].type != value_type || (ok && r["result"].text != want[i].value) || !error_right)
          bad("row " + std::to_string(i) + ": status '" + r["status"].text + "', result '" +
              r["result"].text + "'");
      }
      EXPECT_TRUE(bad.none()) << bad.summary();
    }
  }

  /// `burla results ID` of a typed job (complex numbers, arrays, vectors): the table's and the CSV's
  /// third field is `text(x)`, and the JSON's result passes `json_right(result, x)`.
  template <class Text, class JsonRight>
  void expect_typed_results(const std::string& id, int n, Text text, JsonRight json_right) const {
    const output table = burla("results " + id);
    ASSERT_EQ(table.rc, 0) << table.err;
    const auto lines = lines_of(table.out);
    ASSERT_EQ(lines.size(), static_cast<std::size_t>(n));
    for (int x = 0; x < n; ++x) EXPECT_EQ(lines[x], std::to_string(x) + "\tok\t" + text(x));
    const output csv = burla("results " + id + " --format csv");
    ASSERT_EQ(csv.rc, 0) << csv.err;
    const auto rows = parse_csv(csv.out);
    ASSERT_EQ(rows.size(), static_cast<std::size_t>(n) + 1);
    for (int x = 0; x < n; ++x)
      EXPECT_EQ(rows[x + 1], (std::vector<std::string>{std::to_string(x), "ok", text(x), ""}));
    const output o = burla("results " + id + " --format json");
    ASSERT_EQ(o.rc, 0) << o.err;
    const json doc = json::parse(o.out);
    ASSERT_EQ(doc["results"].items.size(), static_cast<std::size_t>(n));
    for (int x = 0; x < n; ++x) EXPECT_TRUE(json_right(doc["results"].items[x]["result"], x)) << o.out;
  }

  /// `burla jobs` as id -> backend, Slurm id, done/total, state (the rest of the line).
  std::map<std::string, std::vector<std::string>> jobs() const {
    const output o = burla("jobs");
    EXPECT_EQ(o.rc, 0) << o.err;
    const auto lines = lines_of(o.out);
    EXPECT_FALSE(lines.empty() || lines[0].rfind("ID ", 0) != 0) << "no header: " << o.out;
    std::map<std::string, std::vector<std::string>> rows;
    for (std::size_t i = 1; i < lines.size(); ++i) {
      std::istringstream in(lines[i]);
      std::string id, backend, slurm_id, done_total, state_words;
      in >> id >> backend >> slurm_id >> done_total >> std::ws;
      std::getline(in, state_words);
      rows[id] = {backend, slurm_id, done_total, state_words};
    }
    return rows;
  }

  /// Kills the job's mpirun with SIGKILL, as an out-of-memory killer or a lost login would.
  void kill_mpirun(const std::string& id) const {
    const pid_t pid = live_launcher(dir_of(id));
    ASSERT_GT(pid, 0) << "mpirun of " << id << " is not running";
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
  }

  /// Makes a file look `age` old: gc reads a job's age from its journal's time (job.ini's for a
  /// job that never started).
  static void age(const std::string& path, std::chrono::hours by) {
    fs::last_write_time(path, fs::file_time_type::clock::now() - by);
  }
  /// What the jobs root holds, hidden names too: what a removal left behind.
  std::set<std::string> root_entries() const {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(root_)) names.insert(e.path().filename().string());
    return names;
  }
  /// Starts a job that runs on for a minute, and waits until it does.
  std::string start_running() const {
    const std::string id = start("slow 4 60000");
    EXPECT_TRUE(eventually([&] { return done(id) >= 2; }));
    return id;
  }

  std::string base_, root_;
};

// ---- burla status --------------------------------------------------------------------------------

TEST_F(Cli, StatusOfACompletedJob) {
  const std::string id = start("ok 5");
  const auto s = status(id);
  auto field = [&](const std::string& k) { return s.count(k) ? s.find(k)->second : "(missing)"; };
  EXPECT_EQ(field("job"), id);
  EXPECT_EQ(field("state"), "completed");
  EXPECT_EQ(field("progress"), "5/5 done, 0 failed");
  EXPECT_EQ(field("backend").rfind("local, ", 0), 0u) << field("backend");
  EXPECT_EQ(field("function"), "int -> int");
  EXPECT_EQ(field("program"), BURLA_TEST_HELPER);
  EXPECT_EQ(field("directory"), dir_of(id));
  EXPECT_EQ(s.count("failed"), 0u);
}

TEST_F(Cli, StatusCountsAndListsFailedCalls) {
  const int n = 10;
  const std::string id = start("fail " + std::to_string(n));
  const auto s = status(id);
  const std::vector<std::string> want = failed_lines(n);
  EXPECT_EQ(listed_failures(s), want);
  ASSERT_EQ(s.count("state"), 1u);
  EXPECT_EQ(s.find("state")->second, "failed");
  ASSERT_EQ(s.count("progress"), 1u);
  EXPECT_EQ(s.find("progress")->second, std::to_string(n) + "/" + std::to_string(n) + " done, " +
                                            std::to_string(want.size()) + " failed");
}

// Failures are listed by input, with the exception's type, whatever order the calls failed in:
// input 1 fails last here (`burla logs` gives the order calls finished).
TEST_F(Cli, StatusListsFailuresInInputOrderWithTheirType) {
  const int n = 9;
  const std::string id = start("fail_late " + std::to_string(n));
  std::vector<int> finished;
  for (const auto& line : lines_of(burla("logs " + id).out))
    if (line.rfind("finished ", 0) == 0) finished.push_back(std::stoi(line.substr(9)));
  ASSERT_EQ(finished.size(), static_cast<std::size_t>(n));
  auto when = [&](int x) { return std::find(finished.begin(), finished.end(), x) - finished.begin(); };
  ASSERT_GT(when(1), when(4)) << "input 1 should fail after input 4, or this test proves nothing";
  EXPECT_EQ(listed_failures(status(id)), failed_lines(n));
}

// A call that failed once and then succeeded on its retry is not a failure of the job.
TEST_F(Cli, StatusDoesNotListARetriedCallThatSucceeded) {
  const std::string id = start("retry");
  const auto s = status(id);
  ASSERT_EQ(s.count("state"), 1u);
  EXPECT_EQ(s.find("state")->second, "completed");
  EXPECT_EQ(s.find("progress")->second, "40000/40000 done, 0 failed");
  for (auto [it, end] = s.equal_range("failed"); it != end; ++it)
    ADD_FAILURE() << "listed as failed: " << it->second;
}

// ---- burla results -------------------------------------------------------------------------------

TEST_F(Cli, ResultsOfIntegersInEveryFormat) {
  const std::string id = start("ok 7");
  expect_results(id, squares(7), false, "completed");
}

TEST_F(Cli, ResultsOfStringsInEveryFormatAreExactThroughQuotesCommasAndBackslashes) {
  const int n = 6;
  const std::string id = start("strings " + std::to_string(n));
  std::vector<row> want;
  for (int x = 0; x < n; ++x) want.push_back({"ok", text_of(x), ""});
  expect_results(id, want, true, "completed");
}

TEST_F(Cli, ResultsOfFailedCallsGiveTheirErrorInEveryFormat) {
  const int n = 8;
  const std::string id = start("fail " + std::to_string(n));
  std::vector<row> want;
  for (int x = 0; x < n; ++x)
    want.push_back(throws(x) ? row{"failed", "", error_of(x)} : row{"ok", std::to_string(square(x)), ""});
  expect_results(id, want, false, "failed");
}

/// A number as the test spells it: the values here are short decimals.
std::string num(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}
bool is_number(const json& j, double v) {
  return j.type == json::number && std::stod(j.text) == v;
}

TEST_F(Cli, ResultsOfComplexNumbersInEveryFormat) {
  const int n = 4;  // (x + 0.5) + (1 - x)i: imaginary parts 1, 0, -1, -2
  expect_typed_results(
      start("complex " + std::to_string(n)), n,
      [](int x) { return num(x + 0.5) + (x > 1 ? "" : "+") + num(1.0 - x) + "i"; },
      [](const json& r, int x) {
        return r.type == json::object && r.members.size() == 2 && is_number(r["r"], x + 0.5) &&
               is_number(r["i"], 1.0 - x);
      });
}

TEST_F(Cli, ResultsOfStdArraysInEveryFormat) {
  const int n = 4;
  expect_typed_results(
      start("arrays " + std::to_string(n)), n,
      [](int x) { return "[" + num(x) + ", " + num(-x) + ", " + num(x * x) + "]"; },
      [](const json& r, int x) {
        return r.type == json::array && r.items.size() == 3 && is_number(r.items[0], x) &&
               is_number(r.items[1], -x) && is_number(r.items[2], x * x);
      });
}

TEST_F(Cli, ResultsOfVectorsInEveryFormatEmptyOnesToo) {
  const int n = 4;  // x values x + 0.5k
  expect_typed_results(
      start("vectors " + std::to_string(n)), n,
      [](int x) {
        std::string out = "[";
        for (int k = 0; k < x; ++k) out += (k ? ", " : "") + num(x + 0.5 * k);
        return out + "]";
      },
      [](const json& r, int x) {
        if (r.type != json::array || r.items.size() != static_cast<std::size_t>(x)) return false;
        for (int k = 0; k < x; ++k)
          if (!is_number(r.items[k], x + 0.5 * k)) return false;
        return true;
      });
}

TEST_F(Cli, ResultsOfStructsInEveryFormatWithTheirMemberNames) {
  const int n = 4;
  expect_typed_results(
      start("records " + std::to_string(n)), n,
      [](int x) {
        return "{x: " + num(x + 0.25) + ", n: " + std::to_string(-x) +
               ", ok: " + (x % 2 == 0 ? "true" : "false") + ", w: [" + std::to_string(x) + ", " +
               std::to_string(2 * x) + "]}";
      },
      [](const json& r, int x) {
        return r.type == json::object && r.members.size() == 4 && is_number(r["x"], x + 0.25) &&
               is_number(r["n"], -x) && r["ok"].text == (x % 2 == 0 ? "true" : "false") &&
               r["w"].type == json::array && r["w"].items.size() == 2 && is_number(r["w"].items[0], x) &&
               is_number(r["w"].items[1], 2 * x);
      });
}

// Known bug: 40,000 string inputs travel in segments of two, and the retry of input 1 leaves input
// 0, of the same segment, shown as `unknown` without its value (and the CSV row of input 1 with the
// error of its first attempt).
TEST_F(Cli, ResultsOfAJobWithARetriedCallShowEveryInputOk) {
  const std::string id = start("retry");
  std::vector<row> want;
  for (int i = 0; i < 40000; ++i) want.push_back({"ok", "r" + std::to_string(i), ""});
  expect_results(id, want, true, "completed");
}

// Known bug: with mpirun killed nothing writes the journal's end, and `burla results` takes that
// for a job still running, while `burla status` sees that mpirun is gone: `ended early (...)`.
TEST_F(Cli, ResultsOfAJobWhoseMpirunWasKilledAgreeWithStatus) {
  const std::string id = start("slow 4 60000");  // inputs 2 and 3 run for a minute
  ASSERT_TRUE(eventually([&] { return done(id) >= 2; }));
  kill_mpirun(id);
  ASSERT_TRUE(eventually([&] { return state(id).rfind("ended early (", 0) == 0; })) << state(id);
  const std::string ended = state(id);

  const output o = burla("results " + id + " --format json");
  ASSERT_EQ(o.rc, 0) << o.err;
  const json doc = json::parse(o.out);
  EXPECT_NE(doc["state"].text, "running");
  EXPECT_EQ(doc["state"].text, ended);
  // What finished before the kill is there.
  ASSERT_EQ(doc["results"].items.size(), 4u);
  for (int x : {0, 1}) {
    EXPECT_EQ(doc["results"].items[x]["status"].text, "ok");
    EXPECT_EQ(doc["results"].items[x]["result"].text, std::to_string(square(x)));
  }
}

// ---- burla logs ----------------------------------------------------------------------------------

TEST_F(Cli, LogsGiveWhatEveryCallPrintedOnceOnItsOwnStream) {
  const int n = 6;
  const std::string id = start("ok " + std::to_string(n));
  const output o = burla("logs " + id);
  ASSERT_EQ(o.rc, 0) << o.err;
  std::multiset<std::string> want_out, want_err, err_notes;
  for (int x = 0; x < n; ++x) {
    want_out.insert("squaring " + std::to_string(x));
    want_err.insert("note from " + std::to_string(x));
  }
  const auto out_lines = lines_of(o.out);
  // In the order calls finished, which is not input order: compare as sets.
  EXPECT_EQ(std::multiset<std::string>(out_lines.begin(), out_lines.end()), want_out) << o.out;
  for (const auto& line : lines_of(o.err))
    if (line.rfind("note from ", 0) == 0) err_notes.insert(line);
  EXPECT_EQ(err_notes, want_err) << o.err;
}

// ---- burla jobs ----------------------------------------------------------------------------------

TEST_F(Cli, JobsListsEachJobWithItsProgressAndState) {
  const int n = 6;
  const std::string completed = start("ok 3"), failed = start("fail " + std::to_string(n));
  int n_failed = 0;
  for (int x = 0; x < n; ++x) n_failed += throws(x);
  const std::string all = std::to_string(n) + "/" + std::to_string(n);
  const auto rows = jobs();
  EXPECT_EQ(rows.size(), 2u);
  ASSERT_EQ(rows.count(completed), 1u);
  ASSERT_EQ(rows.count(failed), 1u);
  EXPECT_EQ(rows.at(completed), (std::vector<std::string>{"local", "-", "3/3", "completed"}));
  EXPECT_EQ(rows.at(failed),
            (std::vector<std::string>{"local", "-", all, "failed, " + std::to_string(n_failed) + " failed"}));
}

// ---- burla cancel --------------------------------------------------------------------------------

TEST_F(Cli, CancelStopsARunningJobAndKeepsItsFinishedResults) {
  const int n = 40;
  const std::string id = start("slow " + std::to_string(n) + " 1000");  // about 20 s of calls
  ASSERT_TRUE(eventually([&] { return done(id) >= 2; }));
  {
    // While it runs: the results so far, and a note on stderr saying so.
    const output o = burla("results " + id + " --format json");
    ASSERT_EQ(o.rc, 0) << o.err;
    EXPECT_EQ(json::parse(o.out)["state"].text, "running");
    EXPECT_NE(o.err.find("job " + id), std::string::npos) << o.err;
  }
  const output cancel = burla("cancel " + id);
  ASSERT_EQ(cancel.rc, 0) << cancel.err;
  EXPECT_NE(cancel.out.find("cancelled"), std::string::npos) << cancel.out;
  EXPECT_EQ(live_launcher(dir_of(id)), 0) << "mpirun still runs after burla cancel";
  EXPECT_EQ(state(id), "cancelled");

  // Every call that finished kept its exact result; the others did not run.
  const output o = burla("results " + id + " --format csv");
  ASSERT_EQ(o.rc, 0) << o.err;
  const auto rows = parse_csv(o.out);
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(n) + 1);
  std::size_t ok = 0;
  for (int x = 0; x < n; ++x) {
    const auto& r = rows[static_cast<std::size_t>(x) + 1];
    ASSERT_EQ(r.size(), 4u) << o.out;
    if (r[1] == "ok") {
      ++ok;
      EXPECT_EQ(r, (std::vector<std::string>{std::to_string(x), "ok", std::to_string(square(x)), ""}));
    } else {
      EXPECT_EQ(r, (std::vector<std::string>{std::to_string(x), "not_run", "", ""}));
    }
  }
  EXPECT_GE(ok, 2u);
  EXPECT_LT(ok, static_cast<std::size_t>(n));
  EXPECT_EQ(done(id), ok);
  const output again = burla("cancel " + id);
  EXPECT_EQ(again.rc, 0) << again.err;
  EXPECT_NE(again.out.find("already ended (cancelled)"), std::string::npos) << again.out;
}

// ---- burla resume --------------------------------------------------------------------------------

TEST_F(Cli, ResumeFinishesAJobWhoseMpirunWasKilledWithExactResults) {
  const int n = 6;
  const std::string id = start("slow " + std::to_string(n) + " 2000");
  ASSERT_TRUE(eventually([&] { return done(id) >= 2; }));
  kill_mpirun(id);
  ASSERT_TRUE(eventually([&] { return state(id).rfind("ended early (", 0) == 0; })) << state(id);
  const std::size_t before = done(id);
  EXPECT_LT(before, static_cast<std::size_t>(n));

  const output o = burla("resume " + id);
  ASSERT_EQ(o.rc, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("job " + id + ": completed"), std::string::npos) << o.out;
  EXPECT_EQ(live_launcher(dir_of(id)), 0) << "mpirun still runs after burla resume";
  const auto s = status(id);
  ASSERT_EQ(s.count("state"), 1u);
  EXPECT_EQ(s.find("state")->second, "completed");
  EXPECT_EQ(s.find("progress")->second, std::to_string(n) + "/" + std::to_string(n) + " done, 0 failed");
  expect_results(id, squares(n), false, "completed");

  const auto rows = jobs();
  ASSERT_EQ(rows.count(id), 1u);
  EXPECT_EQ(rows.at(id), (std::vector<std::string>{"local", "-", std::to_string(n) + "/" + std::to_string(n),
                                                   "completed"}));
}

// ---- burla rm ------------------------------------------------------------------------------------

TEST_F(Cli, RmRemovesAnEndedJobAndRefusesARunningOne) {
  const std::string finished = start("ok 3"), running = start_running();
  const output refused = burla("rm " + running);
  EXPECT_EQ(refused.rc, 1);
  EXPECT_NE(refused.err.find("burla cancel " + running), std::string::npos) << refused.err;
  EXPECT_TRUE(fs::exists(dir_of(running) + "/journal"));
  EXPECT_GT(live_launcher(dir_of(running)), 0) << "rm touched a running job";

  const output removed = burla("rm " + finished);
  ASSERT_EQ(removed.rc, 0) << removed.err;
  EXPECT_NE(removed.out.find("removed " + finished), std::string::npos) << removed.out;
  EXPECT_EQ(root_entries(), std::set<std::string>{running});

  // Cancelled, it has ended: now it goes.
  ASSERT_EQ(burla("cancel " + running).rc, 0);
  const output after = burla("rm " + running);
  EXPECT_EQ(after.rc, 0) << after.err;
  EXPECT_EQ(root_entries(), std::set<std::string>{});
}

TEST_F(Cli, RmOfSeveralJobsRemovesEachItCanAndNamesTheOthers) {
  const std::string a = start("ok 2"), b = start("fail 3");
  const output o = burla("rm " + a + " no-such-job " + b);
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("no-such-job"), std::string::npos) << o.err;
  EXPECT_EQ(root_entries(), std::set<std::string>{});
  EXPECT_EQ(burla("rm").rc, 2) << "no ID is a wrong command line";
}

// The jobs root and what a job directory links to are not the job's: only the link goes.
TEST_F(Cli, RmNeverFollowsASymlinkOutOfTheJobDirectory) {
  const std::string id = start("ok 2");
  const std::string outside = base_ + "/outside";
  fs::create_directories(outside + "/sub");
  std::ofstream(outside + "/sub/keep") << "not the job's";
  fs::create_directory_symlink(outside, dir_of(id) + "/link");
  fs::create_directory(dir_of(id) + "/nested");
  fs::create_directory_symlink(outside + "/sub", dir_of(id) + "/nested/link");
  ASSERT_EQ(burla("rm " + id).rc, 0);
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir_of(id))));
  EXPECT_EQ(read_file(outside + "/sub/keep"), "not the job's");
  EXPECT_EQ(burla("rm ..").rc, 1) << "the root's parent is no job";
  EXPECT_TRUE(fs::exists(root_));
}

// A removal cut short (a crash, a kill, a full quota) leaves what the next rm finishes: a job with
// files missing, or what rm itself leaves half-way, the directory moved to .removing.ID.
TEST_F(Cli, RmFinishesAJobDirectoryLeftHalfRemoved) {
  const std::string missing = start("ok 2"), moved = start("ok 2");
  for (const char* name : {"journal", "results.h5", "inputs.bin"}) fs::remove(dir_of(missing) + "/" + name);
  const std::string away = root_ + "/.removing." + moved;
  fs::rename(dir_of(moved), away);
  fs::remove(away + "/job.ini");
  EXPECT_EQ(jobs().count(moved), 0u) << "a job being removed is no longer listed";
  const output o = burla("rm " + missing + " " + moved);
  EXPECT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(root_entries(), std::set<std::string>{});
}

// ---- burla gc ------------------------------------------------------------------------------------

TEST_F(Cli, GcRemovesEndedJobsOlderThanTheLimitAndNeverARunningOne) {
  const std::string old = start("ok 2"), recent = start("ok 2"), hours_old = start("ok 2");
  const std::string never_started = start("ok 2"), running = start_running();
  age(dir_of(old) + "/journal", 10 * 24h);
  age(dir_of(recent) + "/job.ini", 10 * 24h);  // created long ago, but it ended just now
  age(dir_of(hours_old) + "/journal", 3h);
  fs::remove(dir_of(never_started) + "/journal");  // killed before its master wrote anything
  age(dir_of(never_started) + "/job.ini", 10 * 24h);
  age(dir_of(running) + "/journal", 10 * 24h);
  age(dir_of(running) + "/job.ini", 10 * 24h);

  const output o = burla("gc");  // 7 days by default
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(root_entries(), (std::set<std::string>{recent, hours_old, running}));
  EXPECT_GT(live_launcher(dir_of(running)), 0) << "gc touched a running job";

  ASSERT_EQ(burla("gc --older-than 4h").rc, 0);
  EXPECT_EQ(root_entries(), (std::set<std::string>{recent, hours_old, running}));
  ASSERT_EQ(burla("gc --older-than 170m").rc, 0);
  EXPECT_EQ(root_entries(), (std::set<std::string>{recent, running}));
  ASSERT_EQ(burla("gc --older-than 0s").rc, 0);
  EXPECT_EQ(root_entries(), (std::set<std::string>{running}));
}

// Kept with --keep-failed: what can be resumed or looked into (failed calls, a killed mpirun).
TEST_F(Cli, GcKeepFailedKeepsJobsThatDidNotCompleteInFull) {
  const std::string ok = start("ok 2"), failed = start("fail 3"), killed = start_running();
  kill_mpirun(killed);
  ASSERT_TRUE(eventually([&] { return state(killed).rfind("ended early (", 0) == 0; })) << state(killed);
  for (const auto& id : {ok, failed, killed}) age(dir_of(id) + "/journal", 2 * 24h);

  ASSERT_EQ(burla("gc --older-than 1d --keep-failed").rc, 0);
  EXPECT_EQ(root_entries(), (std::set<std::string>{failed, killed}));
  ASSERT_EQ(burla("gc --older-than 1d").rc, 0);
  EXPECT_EQ(root_entries(), std::set<std::string>{});
}

TEST_F(Cli, GcDryRunListsWhatWouldGoAndRemovesNothing) {
  const std::string old = start("ok 2"), recent = start("ok 2");
  age(dir_of(old) + "/journal", 10 * 24h);
  fs::create_directory(root_ + "/.removing.cut-short");
  std::set<std::string> files_before, files_after;
  for (const auto& e : fs::recursive_directory_iterator(root_)) files_before.insert(e.path().string());

  const output o = burla("gc --dry-run");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find(old), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find(recent), std::string::npos) << o.out;
  for (const auto& e : fs::recursive_directory_iterator(root_)) files_after.insert(e.path().string());
  EXPECT_EQ(files_after, files_before);

  ASSERT_EQ(burla("gc").rc, 0);  // the real one takes the cut-short removal too
  EXPECT_EQ(root_entries(), std::set<std::string>{recent});
}

TEST_F(Cli, GcRefusesABadAgeAndRemovesNothing) {
  const std::string old = start("ok 2");
  age(dir_of(old) + "/journal", 10 * 24h);
  for (const std::string bad : {"7", "7x", "d", "1.5d", "7dd", "7 d", "", "-1d", "7D"}) {
    SCOPED_TRACE("--older-than '" + bad + "'");
    const output o = burla("gc --older-than=" + quote(bad));
    EXPECT_EQ(o.rc, 2);
    EXPECT_NE(o.err.find("--older-than"), std::string::npos) << o.err;
    EXPECT_EQ(root_entries(), std::set<std::string>{old});
  }
}

// ---- Ctrl-C in a terminal -------------------------------------------------------------------------

/// `cli_helper map N MS` (remote_parallel_map) typed into a terminal (tmux), as a user would.
class CtrlC : public Cli {
 protected:
  static constexpr int n = 40;

  /// Starts it and waits until the program waits for its job (burla catches SIGINT then) and at
  /// least `done_first` calls have finished; returns the job's id.
  std::string start_in_terminal(std::size_t done_first, const std::string& command = "map") {
    term_.emplace(base_, "env BURLA_JOBS_DIR=" + quote(root_) + " " + quote(BURLA_TEST_HELPER) + " " +
                             command + " " + std::to_string(n) + " 500");
    std::string id;
    const bool waiting = eventually([&] {
      const auto ids = test::file_names(root_);
      if (ids.size() != 1) return false;
      id = ids[0];
      return test::catches_sigint(term_->pid()) && done(id) >= done_first;
    });
    if (!waiting) throw std::runtime_error("the program never waited for its job: " + term_->err());
    // The terminal's Ctrl-C goes to its foreground process group: the program's alone.
    const long foreground = test::stat_field(term_->pid(), 8);
    EXPECT_EQ(test::stat_field(term_->pid(), 5), foreground);
    for (pid_t p : test::job_processes(dir_of(id)))
      EXPECT_NE(test::stat_field(p, 5), foreground)
          << "process " << p << " of the job gets the terminal's Ctrl-C";
    return id;
  }

  /// The line the program printed last, on stderr, matching `pattern`; its first group, a count.
  std::size_t count_in_last_line(const std::string& pattern) const {
    const auto count = test::count_in_last_line(term_->err(), pattern);
    if (!count) throw std::runtime_error("stderr does not end with /" + pattern + "/:\n" + term_->err());
    return *count;
  }

  /// Nothing of the job is left running, and resume finishes it with every result exact.
  void expect_stopped_then_resumed(const std::string& id) const {
    EXPECT_TRUE(eventually([&] { return test::job_processes(dir_of(id)).empty(); }))
        << test::job_processes(dir_of(id)).size() << " processes of the job still run";
    const output o = burla("resume " + id);
    ASSERT_EQ(o.rc, 0) << o.out << o.err;
    EXPECT_NE(o.out.find("job " + id + ": completed"), std::string::npos) << o.out;
    expect_results(id, squares(n), false, "completed");
  }

  std::optional<test::terminal> term_;
};

TEST_F(CtrlC, TheFirstCancelsTheJobKeepsWhatFinishedAndEndsTheProgramBySigint) {
  const std::string id = start_in_terminal(2);
  term_->ctrl_c();
  ASSERT_TRUE(eventually([&] { return term_->ended(); })) << "still running after Ctrl-C:\n" << term_->err();
  EXPECT_EQ(term_->exit_code(), 130) << term_->err();
  EXPECT_EQ(term_->out(), "");  // it never returned its results
  const std::size_t finished =
      count_in_last_line("burla: job " + id + " cancelled \\(Ctrl-C\\): ([0-9]+) of " + std::to_string(n) +
                         " calls finished; "
                         "resume with `burla resume " +
                         id + "`");
  EXPECT_GE(finished, 2u);
  EXPECT_LT(finished, static_cast<std::size_t>(n));
  // The journal ends with the master's end record, and results.h5 has its summary.
  EXPECT_EQ(state(id), "cancelled");
  EXPECT_EQ(done(id), finished);
  const std::string h5 = quote(dir_of(id) + "/results.h5");
  EXPECT_NE(run("h5dump -a /state " + h5, base_ + "/h5err").out.find("\"cancelled\""), std::string::npos);
  EXPECT_NE(
      run("h5dump -a /n_ok " + h5, base_ + "/h5err").out.find("(0): " + std::to_string(finished) + "\n"),
      std::string::npos);
  // Every call that finished kept its exact result; the others did not run.
  std::vector<row> want = squares(n);
  std::size_t ok = 0;
  const auto rows = parse_csv(burla("results " + id + " --format csv").out);
  for (std::size_t i = 1; i < rows.size() && i <= want.size(); ++i)
    if (rows[i].size() > 1 && rows[i][1] == "ok")
      ++ok;
    else
      want[i - 1] = {"not_run", "", ""};
  EXPECT_EQ(ok, finished);
  expect_results(id, want, false, "cancelled");
  expect_stopped_then_resumed(id);
}

TEST_F(CtrlC, ASecondDuringTheCancelKillsTheJobAtOnce) {
  const std::string id = start_in_terminal(2);
  // With its master stopped (SIGSTOP), the job cannot end on request: the cancel the first
  // Ctrl-C starts waits, and the second comes during it.
  const auto master = test::job_processes(dir_of(id), 0);
  ASSERT_EQ(master.size(), 1u);
  ASSERT_EQ(::kill(master[0], SIGSTOP), 0);
  term_->ctrl_c();
  ASSERT_TRUE(eventually([&] { return fs::exists(dir_of(id) + "/cancel"); })) << "no cancel began";
  term_->ctrl_c();
  ASSERT_TRUE(eventually([&] { return term_->ended(); })) << "still running after two Ctrl-C:\n"
                                                          << term_->err();
  EXPECT_EQ(term_->exit_code(), 130) << term_->err();
  const std::size_t finished =
      count_in_last_line("burla: job " + id + " killed \\(Ctrl-C during its cancel\\): ([0-9]+) of " +
                         std::to_string(n) + " calls finished; resume with `burla resume " + id + "`");
  EXPECT_EQ(term_->err().find("cancelled (Ctrl-C)"), std::string::npos) << term_->err();
  EXPECT_GE(finished, 2u);
  EXPECT_EQ(state(id).rfind("ended early (", 0), 0u) << state(id);  // killed: no end record
  expect_stopped_then_resumed(id);
}

TEST_F(CtrlC, AProgramsOwnSigintHandlerIsLeftAloneAndTheJobRunsToItsEnd) {
  const std::string id = start_in_terminal(2, "own_handler");
  term_->ctrl_c();
  ASSERT_TRUE(eventually([&] { return term_->ended(); })) << term_->err();
  EXPECT_EQ(term_->exit_code(), 0) << term_->err();
  EXPECT_NE(term_->err().find("the program's own SIGINT handler ran\n"), std::string::npos) << term_->err();
  EXPECT_EQ(term_->err().find("(Ctrl-C)"), std::string::npos) << term_->err();
  std::string want;
  for (int x = 0; x < n; ++x) want += std::to_string(square(x)) + "\n";
  EXPECT_EQ(term_->out(), want);
  EXPECT_EQ(state(id), "completed");
}

// A job the program only follows (attach, `burla logs --follow`) is not its to cancel.
TEST_F(CtrlC, StopsFollowingAJobItDidNotStartWhichRunsOn) {
  const std::string id = start("slow 4 60000");  // cli_helper exits; inputs 2 and 3 run for a minute
  ASSERT_TRUE(eventually([&] { return state(id) == "running"; })) << state(id);
  term_.emplace(base_, quote(BURLA_TEST_CLI) + " --job-dir " + quote(root_) + " logs " + id + " --follow");
  ASSERT_TRUE(eventually([&] { return test::catches_sigint(term_->pid()); })) << term_->err();
  term_->ctrl_c();
  ASSERT_TRUE(eventually([&] { return term_->ended(); })) << "still following after Ctrl-C:\n"
                                                          << term_->err();
  EXPECT_EQ(term_->exit_code(), 130) << term_->err();
  const std::string line = "burla: stopped following job " + id + " (Ctrl-C); it runs on: `burla status " +
                           id + "`, `burla cancel " + id + "`\n";
  const std::string err = term_->err();
  EXPECT_TRUE(err.size() >= line.size() && err.compare(err.size() - line.size(), line.size(), line) == 0)
      << err;
  EXPECT_NE(live_launcher(dir_of(id)), 0) << "the job was stopped";
  EXPECT_EQ(state(id), "running");
  EXPECT_FALSE(fs::exists(dir_of(id) + "/cancel"));
}

}  // namespace

int main(int argc, char** argv) {
  // What CTest would set, were gtest_discover_tests able to pass a list-valued ENVIRONMENT
  // (tests/CMakeLists.txt).
  for (const char* setting : {
#include BURLA_TEST_ENV_INC
       })
    ::putenv(const_cast<char*>(setting));
  // cli_helper slow exits before its job ends: its mpirun and ranks become this process's
  // children instead of init's, and TearDown reaps them.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
