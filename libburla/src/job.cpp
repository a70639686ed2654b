// The caller's side of a job: start it, follow its journal, turn its end into results or errors.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <burla/detail/job_state.hpp>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "console.hpp"
#include "job_dir.hpp"
#include "local_backend.hpp"
#include "module.hpp"
#include "posix.hpp"
#include "protocol.hpp"
#include "runner.hpp"
#include "slurm/src/backend.hpp"
#include "slurm/src/commands.hpp"
#include "slurm/src/script.hpp"

namespace burla::detail {

void validate(const options& o) {
  if (o.func_cpu < 1)
    throw invalid_option("func_cpu", std::to_string(o.func_cpu), "it must be at least 1 (CPUs per call)");
  if (o.func_ram && !(std::isfinite(*o.func_ram) && *o.func_ram > 0))
    throw invalid_option("func_ram", std::to_string(*o.func_ram),
                         "it must be a positive number of GB per call, or left unset for no requirement");
  if (o.func_gpu < 0)
    throw invalid_option("func_gpu", std::to_string(o.func_gpu), "it must be 0 or more (GPUs per call)");
  if (o.max_parallelism && *o.max_parallelism < 1)
    throw invalid_option("max_parallelism", std::to_string(*o.max_parallelism),
                         "it must be at least 1, or left unset for as many calls at once as fit");
  if (o.func_timeout && o.func_timeout->count() <= 0)
    throw invalid_option("func_timeout", std::to_string(o.func_timeout->count()) + " ms",
                         "it must be positive (e.g. 30s), or left unset for no limit");
  if (o.max_retries < 0 || o.max_retries > 100)
    throw invalid_option("max_retries", std::to_string(o.max_retries), "it must be between 0 and 100");
  if (o.on_error != on_error::raise && o.on_error != on_error::collect)
    throw invalid_option("on_error", std::to_string(static_cast<int>(o.on_error)),
                         "use burla::on_error::raise or burla::on_error::collect");
  if (o.backend != backend::automatic && o.backend != backend::local && o.backend != backend::slurm)
    throw invalid_option("backend", std::to_string(static_cast<int>(o.backend)),
                         "use burla::backend::automatic, local or slurm");
}

std::uint64_t segment_items_for(std::uint64_t n) {
  return std::clamp<std::uint64_t>(n / 16384, 1, 64);
}

namespace {

namespace proto = protocol;
using clock = std::chrono::steady_clock;

std::string tail_of_file(const std::string& path, std::size_t lines) {
  std::string text;
  try {
    text = posix::read_file(path);
  } catch (const error&) {
    return "(no log at " + path + ")";
  }
  std::size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  for (std::size_t n = 0; pos > 0 && n < lines; ++n) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) {
      pos = 0;
      break;
    }
  }
  return text.substr(pos == 0 ? 0 : pos + 1);
}

std::string tail_of_text(const std::string& text, std::size_t max_chars) {
  return text.size() <= max_chars ? text : "..." + text.substr(text.size() - max_chars);
}

/// A job followed through its journal, whatever runs it.
class followed_job final : public job_state {
 public:
  followed_job(job_spec spec, std::string dir, std::unique_ptr<runner> run, bool spinner)
      : spec_(std::move(spec)),
        dir_(std::move(dir)),
        runner_(std::move(run)),
        console_(spec_.id, spinner),
        journal_(dir_ + "/journal"),
        status_(spec_.n_inputs, 0),
        attempts_(spec_.n_inputs, 0) {
    // On a shared filesystem, writes from other nodes may not wake inotify: the poll below
    // also has a timeout.
    inotify_ = posix::fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (inotify_ && ::inotify_add_watch(inotify_.get(), dir_.c_str(), IN_MODIFY | IN_CREATE) < 0)
      inotify_ = posix::fd();
    console_.set_status("starting " + std::to_string(spec_.workers) + " workers");
  }

  ~followed_job() override {
    try {
      runner_->release();  // a job still running is left to run
    } catch (...) {
    }
  }

  const std::string& id() const override { return spec_.id; }
  const std::string& directory() const override { return dir_; }
  std::uint64_t size() const override { return spec_.n_inputs; }

  bool next(finished_batch& out) override {
    for (;;) {
      const bool exited = runner_->ended();  // before reading: all it wrote is then in the file
      proto::record_type type;
      std::string_view payload;
      while (journal_.next(type, payload)) {
        switch (type) {
          case proto::record_type::start: {
            const auto start = proto::decode_start(payload);
            hosts_ = start.hosts;
            current_run_ = static_cast<int>(start.run) == spec_.run;
            outstanding_.clear();  // batches of an earlier run that was killed
            started_ = current_run_;
            console_.set_status("running on " + std::to_string(spec_.workers) + " workers");
            break;
          }
          case proto::record_type::dispatch: {
            const auto d = proto::decode_dispatch(payload);
            outstanding_[d.first] = d;
            break;
          }
          case proto::record_type::batch: {
            const auto r = proto::parse_reply(payload);
            if (r.head.first > spec_.n_inputs || r.head.done > spec_.n_inputs - r.head.first)
              throw error("burla: the journal " + dir_ +
                          "/journal is damaged: a batch names inputs past the last (" +
                          std::to_string(spec_.n_inputs) + "); its results.h5 has what was saved");
            outstanding_.erase(r.head.first);
            account(r);
            out.first = r.head.first;
            out.count = r.head.done;
            out.status = r.status;
            out.results = r.results;
            return true;
          }
          case proto::record_type::end: {
            auto end = proto::decode_end(payload);
            if (static_cast<int>(end.run) != spec_.run) break;  // an earlier run's
            end_ = std::move(end);
            end_seen_ = clock::now();
            break;
          }
        }
      }
      if (exited || (end_ && !runner_->wait_after_end())) return false;
      if (end_ && !terminated_ && clock::now() - end_seen_ > std::chrono::seconds(10)) terminate_stuck_job();
      wait_for_news();
    }
  }

  const std::vector<std::uint8_t>& statuses() const override { return status_; }
  const remote_error::details* failure(std::size_t index) const override {
    auto it = failures_.find(index);
    return it == failures_.end() ? nullptr : &it->second;
  }

  void finish(bool throw_call_errors) override {
    finished_batch ignored;
    while (next(ignored)) {
    }
    console_.clear();
    const std::string log = dir_ + "/job.log";
    if (!end_) {
      std::string msg = "burla: job " + spec_.id + " ended without finishing: " + runner_->describe_end();
      std::string state = runner_->end_state();
      if (!started_ && state == "CANCELLED") {
        msg += ". It was cancelled before it started";
      } else if (!started_) {
        msg +=
            ". It ended before its processes started; if the caller and the job run on different "
            "machines, the job directory must be on a filesystem both can reach";
        state = "not_started";
      }
      const auto running = running_inputs(log, msg);
      msg +=
          ". " + std::to_string(ok_) + " calls had finished; their results are in " + dir_ + "/results.h5.";
      if (const std::string h = runner_->hint(); !h.empty()) msg += "\n" + h;
      msg += "\n--- last lines of " + log + " ---\n" + tail_of_file(log, 30);
      throw job_error(msg, running, log, state);
    }
    switch (end_->state) {
      case proto::end_state::completed:
        return;
      case proto::end_state::failed:
        if (!throw_call_errors) return;
        if (spec_.collect_errors) {
          std::vector<remote_error::details> all;
          for (auto& [index, d] : failures_) all.push_back(d);
          throw calls_failed(spec_.id, dir_, spec_.n_inputs, std::move(all));
        }
        if (first_failure_) throw_call_error(*first_failure_);
        throw job_error("burla: job " + spec_.id + ": " + end_->message, {}, log, "failed");
      case proto::end_state::mismatch:
        throw build_mismatch(end_->message);
      case proto::end_state::cancelled:
        throw job_error("burla: job " + spec_.id + " was cancelled; " + std::to_string(end_->n_ok) +
                            " finished results are kept in " + dir_ + "/results.h5",
                        {}, log, "cancelled");
      case proto::end_state::interrupted: {
        // SIGTERM is a cancel (scancel), SIGUSR1 the drain before the time limit.
        const bool cancelled = end_->message.find("SIGTERM") != std::string::npos;
        std::string state = runner_->end_state();
        if (state != "CANCELLED" && state != "TIMEOUT" && state != "PREEMPTED")
          state = !cancelled ? "interrupted" : spec_.backend == "local" ? "cancelled" : "CANCELLED";
        throw job_error("burla: job " + spec_.id + " was interrupted: " + end_->message + "; " +
                            std::to_string(end_->n_ok) + " results are kept in " + dir_ +
                            "/results.h5, and burla::resume<R>(\"" + spec_.id + "\") (or `burla resume " +
                            spec_.id + "`) runs the " + std::to_string(end_->n_not_run) + " inputs not run",
                        {}, log, state);
      }
      case proto::end_state::error:
        throw job_error("burla: job " + spec_.id + " failed: " + end_->message + "\nJob directory: " + dir_ +
                            "\n--- last lines of " + log + " ---\n" + tail_of_file(log, 30),
                        {}, log, "failed");
    }
  }

  void cancel() override {
    posix::write_file_atomic(dir_ + "/cancel", "cancelled by the caller\n");
    if (runner_->pending()) {  // still queued: nothing would read the cancel file
      runner_->stop();
      return;
    }
    // The master stops at the cancel file and keeps what is done; stop the job if it does not.
    const auto deadline = clock::now() + std::chrono::seconds(10);
    while (!runner_->ended() && clock::now() < deadline) wait_for_news();
    if (!runner_->ended()) runner_->stop();
  }

 private:
  // The job has reported its end but its processes did not exit: stop them, and say so.
  void terminate_stuck_job() {
    terminated_ = true;
    try {
      posix::fd log = posix::open_file(dir_ + "/job.log", O_WRONLY | O_APPEND | O_CREAT);
      posix::write_all(
          log.get(), "burla: the job had not exited 10 s after it ended; the caller stopped it\n", "job.log");
    } catch (const error&) {
    }
    runner_->stop();
  }

  void wait_for_news() {
    pollfd fds[2] = {{inotify_ ? inotify_.get() : -1, POLLIN, 0}, {runner_->end_fd(), POLLIN, 0}};
    ::poll(fds, 2, inotify_ ? 200 : 20);
    if (inotify_ && (fds[0].revents & POLLIN)) {
      char buf[4096];
      while (::read(inotify_.get(), buf, sizeof buf) > 0) {
      }
    }
    if (!started_)
      if (std::string waiting = runner_->waiting_status(); !waiting.empty()) console_.set_status(waiting);
    console_.tick();
  }

  void account(const proto::reply_view& r) {
    for (const auto& n : r.notes) {
      if (n.kind == proto::note_kind::out) console_.forward(1, n.text);
      if (n.kind == proto::note_kind::err) console_.forward(2, n.text);
    }
    constexpr auto ok = static_cast<std::uint8_t>(call_status::ok);
    for (std::uint32_t i = 0; i < r.head.done; ++i) {  // next() checked the range
      const std::uint8_t st = r.status[i];
      if (st == status_skipped) continue;
      const std::size_t index = r.head.first + i;
      ++attempts_[index];
      if (st == ok) {  // the hot path: a million trivial calls come through here
        if (status_[index] == ok) continue;
        if (status_[index] != 0) --failed_, failures_.erase(index);  // a failure that a later run fixed
        ++ok_;
        status_[index] = ok;
        continue;
      }
      remote_error::details d = failure_details(r, i);
      if (st == status_retrying) {
        if (current_run_)
          console_.forward(
              2, "burla: " +
                     std::string(d.status == call_status::failed
                                     ? "input " + std::to_string(index) + " threw " + d.type
                                     : "input " + std::to_string(index) + " " + to_string(d.status)) +
                     ": " + d.what + "; running it again (attempt " + std::to_string(attempts_[index] + 1) +
                     " of " + std::to_string(spec_.max_retries + 1) + ")\n");
        continue;
      }
      if (status_[index] == 0) ++failed_;
      if (status_[index] == static_cast<std::uint8_t>(call_status::ok)) --ok_, ++failed_;
      status_[index] = st;
      if (current_run_ && !first_failure_) first_failure_ = d;
      failures_[index] = std::move(d);
    }
    // A worker runs one call at a time; the rest of what it holds is queued.
    std::set<std::int32_t> busy;
    for (const auto& [first, d] : outstanding_) busy.insert(d.rank);
    console_.progress(ok_ + failed_, spec_.n_inputs, busy.size(), failed_);
  }

  remote_error::details failure_details(const proto::reply_view& r, std::uint32_t i) const {
    remote_error::details d;
    d.index = r.head.first + i;
    const std::uint8_t st = r.status[i];
    d.status = st <= static_cast<std::uint8_t>(call_status::worker_lost) ? static_cast<call_status>(st)
                                                                         : call_status::failed;
    d.attempts = attempts_[d.index];
    d.rank = r.head.rank;
    if (r.head.rank >= 0 && static_cast<std::size_t>(r.head.rank) < hosts_.size())
      d.host = hosts_[r.head.rank];
    std::string output;
    for (const auto& n : r.notes) {
      if (n.item != i) continue;
      if (n.kind == proto::note_kind::error_type) d.type = n.text;
      if (n.kind == proto::note_kind::error_what) d.what = n.text;
      if (n.kind == proto::note_kind::out || n.kind == proto::note_kind::err) output += n.text;
    }
    d.output_tail = tail_of_text(output, 2000);
    return d;
  }

  /// The inputs whose batches were out when the job died; narrowed to the rank mpirun names.
  std::vector<std::size_t> running_inputs(const std::string& log, std::string& msg) {
    int dead_rank = -1;
    std::smatch m;
    const std::string text = tail_of_file(log, 200);
    if (std::regex_search(text, m, std::regex("process rank ([0-9]+)"))) dead_rank = std::stoi(m[1]);
    std::vector<std::size_t> out;
    std::map<int, const proto::dispatch_record*> oldest;  // a worker runs its batches in order
    for (const auto& [first, d] : outstanding_)
      if (!oldest.count(d.rank)) oldest[d.rank] = &d;
    for (const auto& [rank, d] : oldest) {
      if (dead_rank >= 0 && rank != dead_rank) continue;
      for (std::uint32_t k = 0; k < d->count; ++k) out.push_back(d->first + k);
    }
    if (!out.empty()) {
      msg += dead_rank >= 0 ? "; rank " + std::to_string(dead_rank) + " died" : "";
      msg += " while running input" + std::string(out.size() > 1 ? "s " : " ");
      msg += out.size() > 1 ? std::to_string(out.front()) + ".." + std::to_string(out.back())
                            : std::to_string(out[0]);
    }
    return out;
  }

  job_spec spec_;
  std::string dir_;
  std::unique_ptr<runner> runner_;
  console console_;
  proto::journal_reader journal_;
  posix::fd inotify_;
  std::vector<std::string> hosts_;
  std::map<std::uint64_t, proto::dispatch_record> outstanding_;
  std::optional<proto::end_record> end_;
  clock::time_point end_seen_{};
  std::optional<remote_error::details> first_failure_;     // of this run: what stopped it
  std::map<std::size_t, remote_error::details> failures_;  // inputs whose last attempt failed
  std::vector<std::uint8_t> status_, attempts_;            // per input
  std::uint64_t ok_ = 0, failed_ = 0;
  bool current_run_ = false;
  bool terminated_ = false;
  bool started_ = false;  ///< the master has written its start record
};

}  // namespace

std::string resolve_backend(const options& opts) {
  backend b = opts.backend;
  if (b == backend::automatic) {
    if (auto chosen = posix::env("BURLA_BACKEND")) {
      if (*chosen == "local") return "local";
      if (*chosen == "slurm") return "slurm";
      if (*chosen != "automatic")
        throw invalid_option("BURLA_BACKEND", *chosen, "set it to local, slurm or automatic");
    }
    if (posix::env("SLURM_JOB_ID") && !posix::find_on_path("srun").empty()) return "allocation";
    return slurm::configured() ? "slurm" : "local";
  }
  return b == backend::local ? "local" : "slurm";
}

namespace {

void reject_slurm_options_locally(const options& o) {
  auto reject = [](const char* option, const std::string& value) {
    throw invalid_option(option, value,
                         "it applies to Slurm jobs only, and this job runs locally with mpirun "
                         "(backend = local, or automatic where Slurm is not configured)");
  };
  if (!o.partition.empty()) reject("partition", o.partition);
  if (!o.account.empty()) reject("account", o.account);
  if (!o.qos.empty()) reject("qos", o.qos);
  if (o.time_limit) reject("time_limit", std::to_string(o.time_limit->count()) + " s");
  if (!o.job_name.empty()) reject("job_name", o.job_name);
  if (!o.sbatch_args.empty()) reject("sbatch_args", o.sbatch_args.front());
  if (!o.packages.empty()) reject("packages", o.packages.front());
  if (!o.image.empty()) reject("image", o.image);
}

void refuse_nested_or_uninitialized() {
  if (posix::env("BURLA_JOB_DIR"))
    throw error(
        init_called()
            ? "burla: remote_parallel_map was called inside a job's function; nested jobs are not "
              "supported. Pass all the work to one remote_parallel_map call instead."
            : "burla: remote_parallel_map was called in a process of a burla job, before burla::init. "
              "Call burla::init(argc, argv) first thing in main(): in a job process it runs the job.");
  if (!init_called())
    throw error(
        "burla: call burla::init(argc, argv) first thing in main() before remote_parallel_map: "
        "the job runs this same program, and burla::init is what turns it into the job.");
}

/// A job whose launcher is gone (attached after it ended): its journal says the rest.
class ended_runner final : public runner {
 public:
  bool ended() override { return true; }
  std::string describe_end() override { return "its processes are no longer running"; }
  std::string end_state() override { return "crashed"; }
  void stop() override {}
};

struct prepared {
  job_spec spec;
  std::string dir;
  std::string where;  ///< local, slurm, allocation
};

// Everything before the launch: checks, the job directory, the inputs and job.ini.
prepared prepare_job(const options& opts, std::uint64_t n_inputs, job_types types,
                     const job_state::input_writer& write, const std::string& where) {
  validate(opts);
  refuse_nested_or_uninitialized();
  reap_abandoned();
  job_spec spec;
  if (where == "local") {
    reject_slurm_options_locally(opts);
    find_mpirun();  // before anything is written
    spec.workers = local_workers(opts, n_inputs, this_machine());
  } else if (where == "allocation") {
    slurm::check_options(opts, true);
    spec.workers = slurm::allocation_workers(opts, n_inputs);
  } else {
    slurm::check_options(opts, false);
    slurm::command("sbatch");
    spec.workers = slurm::workers_for(opts, n_inputs);
  }
  spec.backend = where;
  spec.n_inputs = n_inputs;
  spec.types = std::move(types);
  spec.segment_items = spec.types.input_kind == value_kind::fixed ? 1 : segment_items_for(n_inputs);
  spec.func_cpu = opts.func_cpu;
  spec.func_ram = opts.func_ram.value_or(0);
  spec.func_gpu = opts.func_gpu;
  spec.func_timeout_ms = opts.func_timeout ? static_cast<std::uint64_t>(opts.func_timeout->count()) : 0;
  spec.max_retries = opts.max_retries;
  spec.collect_errors = opts.on_error == on_error::collect;
  // Time to let calls in flight finish before the time limit: a fifth of it, 10 s to 2 min.
  spec.drain_seconds =
      opts.time_limit ? static_cast<int>(std::clamp<long long>(opts.time_limit->count() / 5, 10, 120)) : 120;
  spec.build_id = main_build_id();
  spec.executable = posix::env("BURLA_EXECUTABLE").value_or(posix::self_executable());
  spec.caller_host = posix::hostname();
  spec.created = posix::utc_timestamp();

  auto [id, dir] = create_job_dir(posix::absolute(jobs_root(opts)));
  spec.id = id;
  write_inputs(dir, spec.types.input_kind != value_kind::fixed, write, spec.segment_items, n_inputs);
  write_job_spec(dir + "/job.ini", spec);
  return {std::move(spec), std::move(dir), where};
}

}  // namespace

std::shared_ptr<job_state> job_state::start(const options& opts, std::uint64_t n_inputs, job_types types,
                                            const input_writer& write) {
  validate(opts);
  auto p = prepare_job(opts, n_inputs, std::move(types), write, resolve_backend(opts));
  std::unique_ptr<runner> run;
  if (p.where == "local") {
    const auto gpus = opts.func_gpu > 0 ? local_gpus(this_machine(), p.spec.workers, opts.func_gpu)
                                        : std::vector<std::string>{};
    run = process_runner_for(launch_local(find_mpirun(), p.spec, p.dir, opts, gpus));
  } else if (p.where == "allocation") {
    run = slurm::launch_in_allocation(p.spec, p.dir, opts);
  } else {
    run = slurm::submit_job(slurm::write_script(p.spec, p.dir, opts), p.dir);
  }
  return std::make_shared<followed_job>(std::move(p.spec), p.dir, std::move(run), opts.spinner);
}

job_script job_state::write_script(const options& opts, std::uint64_t n_inputs, job_types types,
                                   const input_writer& write) {
  validate(opts);
  if (opts.backend == backend::local)
    throw invalid_option("backend", "local", "write_job_script writes a Slurm batch script; use slurm");
  auto p = prepare_job(opts, n_inputs, std::move(types), write, "slurm");
  job_script out;
  out.id = p.spec.id;
  out.directory = p.dir;
  out.script = slurm::write_script(p.spec, p.dir, opts);
  out.submit_command = "sbatch " + slurm::shell_quote(out.script);
  return out;
}

std::string find_job_dir(const std::string& root, const std::string& id) {
  if (!id.empty() && id.find('/') == std::string::npos && posix::exists(root + "/" + id + "/job.ini"))
    return root + "/" + id;
  // A Slurm job id: the job directory that recorded it.
  if (!id.empty() && std::all_of(id.begin(), id.end(), ::isdigit))
    for (const auto& name : posix::list_dir(root)) {
      try {
        std::string recorded = posix::read_file(root + "/" + name + "/slurm_job_id");
        while (!recorded.empty() && recorded.back() == '\n') recorded.pop_back();
        if (recorded == id) return root + "/" + name;
      } catch (const error&) {
      }
    }
  throw error("burla: no job " + id + " under " + root +
              " (give the job's id, its directory's name, or its Slurm job id; if it was created "
              "elsewhere, set options.job_dir or BURLA_JOBS_DIR to where it is)");
}

std::shared_ptr<job_state> open_job(const std::string& dir, bool spinner) {
  job_spec spec = read_job_spec(dir + "/job.ini");
  auto run = runner_for_existing(spec, dir);
  return std::make_shared<followed_job>(std::move(spec), dir, std::move(run), spinner);
}

std::unique_ptr<runner> runner_for_existing(const job_spec& spec, const std::string& dir) {
  if (spec.backend == "slurm") return slurm::follow_dir(dir);
  if (auto p = find_launcher(dir)) return process_runner_for(std::move(*p));
  return std::make_unique<ended_runner>();
}

namespace {

void check_result_type(const job_spec& spec, const std::string& id, const std::string& result_type,
                       value_kind result_kind, const char* how) {
  if (spec.types.result_type != result_type || spec.types.result_kind != result_kind)
    throw error("burla: job " + spec.id + " returns " + spec.types.result_type + ", not " + result_type +
                "; use burla::" + how + "<" + spec.types.result_type + ">(\"" + id + "\")");
}

/// What the journal of an ended job says: each input's last status, and how many records are whole.
struct journal_summary {
  std::vector<std::uint8_t> status;
  std::uint64_t whole_bytes = 0;
  bool ended = false;  ///< the last run wrote its end record
};

journal_summary summarize_journal(const std::string& dir, const job_spec& spec) {
  journal_summary out;
  out.status.assign(spec.n_inputs, 0);
  proto::journal_reader reader(dir + "/journal");
  proto::record_type type;
  std::string_view payload;
  while (reader.next(type, payload)) {
    if (type == proto::record_type::end)
      out.ended = static_cast<int>(proto::decode_end(payload).run) == spec.run;
    if (type != proto::record_type::batch) continue;
    const auto r = proto::parse_reply(payload);
    for (std::uint32_t i = 0; i < r.head.done; ++i) {
      const std::uint8_t st = r.status[i];
      if (r.head.first + i >= spec.n_inputs)
        throw error("burla: the journal in " + dir + " names an input past the last");
      if (st != status_skipped && st != status_retrying) out.status[r.head.first + i] = st;
    }
  }
  out.whole_bytes = reader.complete_bytes();
  return out;
}

}  // namespace

std::shared_ptr<job_state> job_state::resume(const std::string& id, const options& opts,
                                             const std::string& result_type, value_kind result_kind,
                                             bool rerun_failed) {
  validate(opts);
  const std::string dir = find_job_dir(posix::absolute(jobs_root(opts)), id);
  job_spec spec = read_job_spec(dir + "/job.ini");
  if (!result_type.empty()) check_result_type(spec, id, result_type, result_kind, "resume");
  auto previous = runner_for_existing(spec, dir);
  for (int i = 0; i < 60 && !previous->ended(); ++i)  // a job being cancelled takes a moment to end
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  if (!previous->ended())
    throw error("burla: job " + spec.id + " is still running; wait for it (burla::attach, `burla status " +
                spec.id + "`) or stop it (`burla cancel " + spec.id + "`) before resuming it");
  const journal_summary j = summarize_journal(dir, spec);
  const auto todo = std::count_if(j.status.begin(), j.status.end(), [&](std::uint8_t st) {
    return st == 0 || (rerun_failed && st != static_cast<std::uint8_t>(call_status::ok));
  });
  if (todo == 0 && j.ended) return open_job(dir, opts.spinner);  // nothing to run: replay it
  // A run killed while writing leaves a torn last record; the new run appends after whole ones.
  // Through an fd opened without following a symlink: a planted link must not aim the cut elsewhere.
  if (::ftruncate(posix::open_file(dir + "/journal", O_WRONLY).get(), static_cast<off_t>(j.whole_bytes)) != 0)
    posix::fail("cannot cut the torn end off " + dir + "/journal");
  for (const char* stale : {"cancel", "launcher.pid"}) ::unlink((dir + "/" + stale).c_str());
  const std::string log = dir + "/job.log";
  if (posix::exists(log) && ::rename(log.c_str(), (log + "." + std::to_string(spec.run)).c_str()) != 0)
    posix::fail("cannot keep the log of run " + std::to_string(spec.run) + " of " + dir);
  ++spec.run;
  spec.rerun_failed = rerun_failed;
  std::string where = spec.backend;
  if (opts.backend != backend::automatic || posix::env("BURLA_BACKEND")) where = resolve_backend(opts);
  spec.backend = where;
  const auto n = static_cast<std::uint64_t>(std::max<std::ptrdiff_t>(todo, 1));
  std::unique_ptr<runner> run;
  if (where == "local") {
    reject_slurm_options_locally(opts);
    // Each call gets what the job asked for when it was submitted: CPUs (OMP_NUM_THREADS),
    // memory and its own GPUs.
    options sized = opts;
    sized.func_cpu = spec.func_cpu;
    sized.func_gpu = spec.func_gpu;
    sized.func_ram = spec.func_ram > 0 ? std::optional<double>(spec.func_ram) : std::nullopt;
    const machine here = this_machine();
    spec.workers = local_workers(sized, n, here);
    write_job_spec(dir + "/job.ini", spec);
    run = process_runner_for(
        launch_local(find_mpirun(), spec, dir, sized, local_gpus(here, spec.workers, spec.func_gpu)));
  } else if (where == "allocation") {
    spec.workers = slurm::allocation_workers(opts, n);
    write_job_spec(dir + "/job.ini", spec);
    run = slurm::launch_in_allocation(spec, dir, opts);
  } else {
    spec.workers = slurm::workers_for(opts, n);
    write_job_spec(dir + "/job.ini", spec);
    run = slurm::submit_job(slurm::write_script(spec, dir, opts), dir);
  }
  return std::make_shared<followed_job>(std::move(spec), dir, std::move(run), opts.spinner);
}

std::shared_ptr<job_state> job_state::attach(const std::string& id, const options& opts,
                                             const std::string& result_type, value_kind result_kind) {
  const std::string dir = find_job_dir(posix::absolute(jobs_root(opts)), id);
  job_spec spec = read_job_spec(dir + "/job.ini");
  check_result_type(spec, id, result_type, result_kind, "attach");
  auto run = runner_for_existing(spec, dir);
  return std::make_shared<followed_job>(std::move(spec), dir, std::move(run), opts.spinner);
}

}  // namespace burla::detail
