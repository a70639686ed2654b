// The caller's side of a job: start it, follow its journal, turn its end into results or errors.
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <burla/detail/job_state.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "backends.hpp"
#include "console.hpp"
#include "ctrl_c.hpp"
#include "job_dir.hpp"
#include "jobs.hpp"
#include "libburla/core/input_file.hpp"
#include "libburla/core/journal_fold.hpp"
#include "libburla/core/module.hpp"
#include "libburla/core/posix.hpp"
#include "libburla/core/process.hpp"
#include "libburla/core/results_reader.hpp"

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

void warn_about_changed_globals() {
  static std::set<std::string> warned;
  for (const auto& name : core::globals_changed_since_init()) {
    if (!warned.insert(name).second) continue;
    std::fprintf(stderr,
                 "burla: warning: the global variable %s changed after burla::init. A job's processes start "
                 "this program afresh and see its initial value: if your function uses it, give it the "
                 "value instead (a function object or the shared argument; docs/usage.md, \"State your "
                 "function uses\").\n",
                 name.c_str());
  }
}

namespace {

using clock = std::chrono::steady_clock;
using core::end_cause;
using core::end_state;

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

/// The end of job.log for an error message; nothing when the log is empty (a header over no
/// lines reads as if something were cut off).
std::string log_section(const std::string& log) {
  const std::string tail = tail_of_file(log, 30);
  if (tail.empty()) return "\n(" + log + " is empty)";
  return "\n--- last lines of " + log + " ---\n" + tail;
}

/// A job followed through its journal, whatever runs it.
class followed_job final : public job_state {
 public:
  /// started_here: this process started the run (submit, resume), so a Ctrl-C while it waits
  /// cancels it; one it only follows (attach) runs on. replay_output: forward what earlier runs'
  /// calls printed too (attach); a resumed run shows only its own calls' output.
  followed_job(core::job_spec spec, std::string dir, std::unique_ptr<core::launch> l, bool spinner,
               bool started_here, bool replay_output = true)
      : started_here_(started_here),
        replay_output_(replay_output),
        spec_(std::move(spec)),
        dir_(std::move(dir)),
        launch_(std::move(l)),
        console_(spec_.id, spinner),
        journal_(dir_ + "/journal"),
        fold_(spec_, dir_ + "/journal"),
        results_(dir_ + "/results.h5", spec_.types),
        compactor_(dir_ + "/journal") {
    // On a shared filesystem, writes from other nodes may not wake inotify: the poll below
    // also has a timeout.
    inotify_ = posix::fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (inotify_ && ::inotify_add_watch(inotify_.get(), dir_.c_str(), IN_MODIFY | IN_CREATE) < 0)
      inotify_ = posix::fd();
    console_.set_status("starting " + std::to_string(spec_.workers) + " workers");
  }

  ~followed_job() override {
    try {
      launch_->release();  // a job still running is left to run
    } catch (...) {
    }
  }

  const std::string& id() const override { return spec_.id; }
  const std::string& directory() const override { return dir_; }
  std::uint64_t size() const override { return spec_.n_inputs; }
  /// What the calls printed before now is not forwarded (attach with past_output::skip).
  void skip_past_output() {
    const std::string path = dir_ + "/journal";
    quiet_before_ = posix::exists(path) ? posix::file_size(posix::open_file(path, O_RDONLY).get(), path) : 0;
  }

  bool next(finished_batch& out) override {
    ctrl_c_guard waiting;
    for (;;) {
      act_on_ctrl_c();  // also between batches: a caller catching up may never wait in poll
      const bool exited = launch_->ended();  // before reading: all it wrote is then in the file
      core::record rec;
      while (journal_.next(rec)) {
        compactor_.take(rec);
        if (const auto* r = std::get_if<core::reply_view>(&rec)) {
          show(*r, fold_.apply(*r));
          out.first = r->head.first;
          out.count = r->head.done;
          out.status = r->status;
          out.results = results_.of(*r);
          if (spec_.types.result_kind == value_kind::string && holds_nul(*r)) compactor_.keep_journal();
          return true;
        }
        fold_.apply(rec);
        if (std::holds_alternative<core::start_record>(rec) && fold_.started())
          console_.set_status("running on " + std::to_string(spec_.workers) + " workers");
        if (fold_.end() && !end_seen_) end_seen_ = clock::now();
      }
      if (exited || (end_seen_ && !launch_->wait_after_end())) {
        compact_journal();
        return false;
      }
      if (end_seen_ && !terminated_ && clock::now() - *end_seen_ > std::chrono::seconds(10))
        terminate_stuck_job();
      if (!fold_.started() && !terminated_) watch_start_up();
      wait_for_news();
    }
  }

  const std::vector<std::uint8_t>& statuses() const override { return fold_.status(); }
  const remote_error::details* failure(std::size_t index) const override {
    auto it = fold_.failures().find(index);
    return it == fold_.failures().end() ? nullptr : &it->second;
  }

  void finish(bool throw_call_errors) override {
    ctrl_c_guard waiting;
    finished_batch ignored;
    while (next(ignored)) {
    }
    console_.clear();
    const std::string log = dir_ + "/job.log";
    const auto& end = fold_.end();
    if (!end) {
      std::string msg = "burla: job " + spec_.id + " ended without finishing: " + launch_->describe_end();
      std::string state = launch_->end_state();
      if (start_timed_out_) {
        msg += ". Its processes had not all started " + std::to_string(start_timeout().count()) +
               " s after it was launched (a rank died or hangs in MPI start-up; see the log below), so the "
               "caller stopped it; resume it (burla::resume, `burla resume " +
               spec_.id + "`) once the cause is gone";
        state = "not_started";
      } else if (!fold_.started() && state == "CANCELLED") {
        msg += ". It was cancelled before it started";
      } else if (!fold_.started()) {
        msg +=
            ". It ended before its processes started; if the caller and the job run on different "
            "machines, the job directory must be on a filesystem both can reach";
        state = "not_started";
      }
      const auto running = running_inputs(msg);
      // How to go on, whichever way it ended (a killed mpirun as much as a failed Slurm job).
      const std::string resume = "burla::resume, or `burla resume " + spec_.id + "`";
      msg += fold_.ok() == 0
                 ? ". No call had finished; resume the job (" + resume + ") once the cause is gone."
                 : ". " + std::to_string(fold_.ok()) + " calls had finished; their results are in " + dir_ +
                       "/journal, and resuming the job (" + resume +
                       ") rebuilds results.h5 from it and runs the rest.";
      if (const std::string h = launch_->hint(); !h.empty()) msg += "\n" + h;
      // Where the job could not even say why (the master keeps room for that where it can).
      if (const auto fs = posix::file_system_of(dir_); fs.free_bytes < (std::uint64_t{1} << 20))
        msg += "\nThe job directory's file system (" + fs.mount_point + ") has " +
               std::to_string(fs.free_bytes / 1024) +
               " KiB free: a full disk may have stopped the job and kept job.log empty. Free space there, "
               "then resume the job (`burla resume " +
               spec_.id + "`).";
      msg += log_section(log);
      throw job_error(msg, running, log, state);
    }
    switch (end->state) {
      case end_state::completed:
        return;
      case end_state::failed:
        if (!throw_call_errors) return;
        if (spec_.collect_errors) {
          std::vector<remote_error::details> all;
          for (const auto& [index, d] : fold_.failures()) all.push_back(d);
          throw calls_failed(spec_.id, dir_, spec_.n_inputs, std::move(all));
        }
        if (fold_.first_failure()) throw_call_error(*fold_.first_failure());
        throw job_error("burla: job " + spec_.id + ": " + end->message, {}, log, "failed");
      case end_state::mismatch:
        throw build_mismatch(end->message);
      case end_state::cancelled:
        throw job_error("burla: job " + spec_.id + " was cancelled; " + std::to_string(end->n_ok) +
                            " finished results are kept in " + dir_ + "/results.h5",
                        {}, log, "cancelled");
      case end_state::interrupted: {
        // SIGTERM is a cancel (scancel), SIGUSR1 the drain before the time limit.
        const bool cancelled = end->cause == end_cause::terminated;
        // Who sent the SIGTERM: Slurm's final state says (CANCELLED, TIMEOUT, NODE_FAIL...) once
        // the job has left the queue, a few seconds (KillWait) after the ranks got it.
        if (cancelled && spec_.backend != core::backend_kind::local)
          for (int i = 0; i < 150 && !launch_->ended(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::string state = launch_->end_state();
        const std::string kept = std::to_string(end->n_ok) + " results are kept in " + dir_ +
                                 "/results.h5, and burla::resume<R>(\"" + spec_.id +
                                 "\") (or `burla resume " + spec_.id + "`) runs the " +
                                 std::to_string(end->n_not_run) + " inputs not run";
        // Slurm ended it because a node failed (the master's SIGTERM says only that it was told to stop).
        if (state == "NODE_FAIL")
          throw job_error("burla: job " + spec_.id + " lost a node: " + launch_->describe_end() + ". " +
                              kept + ", on the nodes left",
                          {}, log, state);
        if (state != "CANCELLED" && state != "TIMEOUT" && state != "PREEMPTED")
          state = !cancelled                                   ? "interrupted"
                  : spec_.backend == core::backend_kind::local ? "cancelled"
                                                               : "CANCELLED";
        throw job_error("burla: job " + spec_.id + " was interrupted: " + end->message + "; " + kept, {}, log,
                        state);
      }
      case end_state::error:
        throw job_error("burla: job " + spec_.id + " failed: " + end->message + "\nJob directory: " + dir_ +
                            log_section(log),
                        {}, log, "failed");
    }
  }

  void cancel() override {
    ctrl_c_guard waiting;
    cancelling_ = true;  // a Ctrl-C now kills the job at once
    posix::write_file_atomic(dir_ + "/cancel", "cancelled by the caller\n");
    if (launch_->pending()) {  // still queued: nothing would read the cancel file
      launch_->stop();
      return;
    }
    // The master stops at the cancel file and keeps what is done; stop the job if it does not.
    const auto deadline = clock::now() + std::chrono::seconds(10);
    while (!launch_->ended() && clock::now() < deadline) wait_for_news();
    if (!launch_->ended()) launch_->stop();
  }

 private:
  /// Once the job has completed, its results.h5 holds every result: the journal keeps the rest
  /// (statuses, output, errors) and drops its copy of them (docs/failure-model.md).
  void compact_journal() {
    if (!fold_.end() || fold_.end()->state != end_state::completed ||
        !core::results_reader::completed(dir_ + "/results.h5"))
      return compactor_.keep_journal();
    // Inputs in results.h5's /input too (not bulk ones) are not needed again: a completed job
    // runs nothing again.
    if (!compactor_.commit()) return;
    if (core::results_reader::holds_inputs(dir_ + "/results.h5"))
      for (const char* name : {"inputs.bin", "inputs.index", "inputs.crc"})
        ::unlink((dir_ + "/" + name).c_str());
    // No batch points into the runs' own files any more (names of results.h5, or of files replaced).
    for (std::uint32_t run = 1; run <= static_cast<std::uint32_t>(spec_.run); ++run)
      ::unlink(core::run_results_path(dir_ + "/results.h5", run).c_str());
  }

  /// A string result with a NUL byte, which results.h5's strings would cut there.
  bool holds_nul(const core::reply_view& r) const {
    if (r.where != core::results_in::record) return false;  // placed ones have none
    byte_reader in(r.results, "the results of a batch");
    for (std::uint32_t i = 0; i < r.head.done; ++i)
      if (in.get_bytes().find('\0') != std::string_view::npos) return true;
    return false;
  }

  // The job has reported its end but its processes did not exit: stop them, and say so.
  void terminate_stuck_job() {
    terminated_ = true;
    note_in_log("burla: the job had not exited 10 s after it ended; the caller stopped it\n");
    launch_->stop();
  }

  /// Start-up has a deadline: a rank that died or hangs in MPI's start-up leaves the others
  /// waiting in MPI_Init forever. From when the job left Slurm's queue (or was launched here).
  void watch_start_up() {
    if (launch_->pending()) {
      running_since_.reset();
      return;
    }
    const auto now = clock::now();
    if (!running_since_) running_since_ = now;
    if (now - *running_since_ < start_timeout()) return;
    start_timed_out_ = terminated_ = true;
    note_in_log("burla: the job's processes had not all started " + std::to_string(start_timeout().count()) +
                " s after it was launched; the caller stopped it\n");
    launch_->stop();
  }

  /// BURLA_START_TIMEOUT seconds (default 300): MPI start-up takes seconds even on many nodes.
  static std::chrono::seconds start_timeout() {
    const auto v = posix::env("BURLA_START_TIMEOUT");
    const long s = v ? std::atol(v->c_str()) : 0;
    return std::chrono::seconds(s > 0 ? s : 300);
  }

  void note_in_log(const std::string& text) {
    try {
      posix::fd log = posix::open_file(dir_ + "/job.log", O_WRONLY | O_APPEND | O_CREAT);
      posix::write_all(log.get(), text, "job.log");
    } catch (const error&) {
    }
  }

  void wait_for_news() {
    pollfd fds[3] = {{inotify_ ? inotify_.get() : -1, POLLIN, 0},
                     {launch_->end_fd(), POLLIN, 0},
                     {ctrl_c::wake_fd(), POLLIN, 0}};
    ::poll(fds, 3, inotify_ ? 200 : 20);
    if (inotify_ && (fds[0].revents & POLLIN)) {
      char buf[4096];
      while (::read(inotify_.get(), buf, sizeof buf) > 0) {
      }
    }
    if (fds[2].revents & POLLIN) ctrl_c::drain();
    act_on_ctrl_c();
    if (!fold_.started())
      if (std::string waiting = launch_->waiting_status(); !waiting.empty()) console_.set_status(waiting);
    console_.tick();
  }

  /// A Ctrl-C caught while waiting (docs/usage.md, "Ctrl-C"): the first cancels a job started
  /// here through cancel(), the path of job.cancel() and `burla cancel`; one during a cancel
  /// kills the job at once; a job only followed runs on. The program then ends as Ctrl-C would.
  void act_on_ctrl_c() {
    if (ctrl_c::caught() == ctrl_c_seen_) return;
    ctrl_c_seen_ = ctrl_c::caught();
    const std::string resume = "; resume with `burla resume " + spec_.id + "`";
    if (cancelling_) {
      try {
        launch_->kill();
      } catch (const error& e) {  // scancel failed: say so, and still end as Ctrl-C asks
        say(e.what());
      }
      say("burla: job " + spec_.id + " killed (Ctrl-C during its cancel): " + finished() + resume);
      ctrl_c::end_program();
    }
    if (!started_here_) {
      say("burla: stopped following job " + spec_.id + " (Ctrl-C); it runs on: `burla status " + spec_.id +
          "`, `burla cancel " + spec_.id + "`");
      ctrl_c::end_program();
    }
    console_.set_status("cancelling (Ctrl-C again to kill it at once)");
    cancel();
    for (core::record rec; journal_.next(rec);) {  // what finished meanwhile, and the end record
      if (const auto* r = std::get_if<core::reply_view>(&rec))
        show(*r, fold_.apply(*r));
      else
        fold_.apply(rec);
    }
    const auto& end = fold_.end();
    if (end && end->state == end_state::completed)
      say("burla: job " + spec_.id + " completed before Ctrl-C could cancel it; its results are in " + dir_ +
          "/results.h5");
    else if ((end && end->state == end_state::cancelled) || !fold_.started())
      say("burla: job " + spec_.id + " cancelled (Ctrl-C): " + finished() + resume);
    else
      say("burla: job " + spec_.id + " stopped (Ctrl-C): " +
          (end ? "it ended " + std::string(core::to_string(end->state))
               : std::string("it did not stop on request, so the caller killed it")) +
          "; " + finished() + resume);
    ctrl_c::end_program();
  }

  std::string finished() const {
    return std::to_string(fold_.ok() + fold_.failed()) + " of " + std::to_string(spec_.n_inputs) +
           " calls finished";
  }

  void say(const std::string& line) { console_.forward(2, line + "\n"); }

  /// What a batch means on the terminal: the calls' output, the attempts that run again, progress.
  void show(const core::reply_view& r, const core::journal_fold::batch_change& change) {
    // Not for batches of an earlier run, nor those journaled before an attach that skips them.
    const bool past = (!replay_output_ && !fold_.started()) || journal_.complete_bytes() <= quiet_before_;
    if (!past) {
      for (const auto& n : r.notes) {
        if (n.kind == core::note_kind::out) console_.forward(1, n.text);
        if (n.kind == core::note_kind::err) console_.forward(2, n.text);
      }
      for (const auto& d : change.retried)
        console_.forward(2, "burla: input " + std::to_string(d.index) + " " +
                                (d.status == call_status::failed ? "threw " + d.type : to_string(d.status)) +
                                ": " + d.what + "; running it again (attempt " +
                                std::to_string(d.attempts + 1) + " of " +
                                std::to_string(spec_.max_retries + 1) + ")\n");
    }
    console_.progress(fold_.ok() + fold_.failed(), spec_.n_inputs, fold_.busy_workers(), fold_.failed());
  }

  /// The inputs whose batches were out when the job died; narrowed to the rank the launch names.
  std::vector<std::size_t> running_inputs(std::string& msg) {
    const int dead_rank = launch_->dead_rank();
    std::vector<std::size_t> out;
    std::map<int, const core::dispatch_record*> oldest;  // a worker runs its batches in order
    for (const auto& [first, d] : fold_.outstanding())
      if (!oldest.count(d.rank)) oldest[d.rank] = &d;
    for (const auto& [rank, d] : oldest) {
      if (dead_rank >= 0 && rank != dead_rank) continue;
      for (std::uint32_t k = 0; k < d->count; ++k) out.push_back(d->first + k);
    }
    std::sort(out.begin(), out.end());
    if (!out.empty()) {
      msg += dead_rank >= 0 ? "; rank " + std::to_string(dead_rank) + " died" : "";
      msg += " while running input" + std::string(out.size() > 1 ? "s " : " ");
      // Runs of consecutive inputs, one per batch: "3..9, 40..47".
      for (std::size_t i = 0; i < out.size();) {
        std::size_t j = i;
        while (j + 1 < out.size() && out[j + 1] == out[j] + 1) ++j;
        msg += (i > 0 ? ", " : "") + std::to_string(out[i]) + (j > i ? ".." + std::to_string(out[j]) : "");
        i = j + 1;
      }
    }
    return out;
  }

  bool started_here_, replay_output_;
  bool cancelling_ = false;
  std::uint64_t ctrl_c_seen_ = ctrl_c::caught();
  std::uint64_t quiet_before_ = 0;  // journal bytes whose output is not forwarded
  core::job_spec spec_;
  std::string dir_;
  std::unique_ptr<core::launch> launch_;
  console console_;
  core::journal_reader journal_;
  core::journal_fold fold_;
  core::batch_results results_;
  core::journal_compactor compactor_;
  posix::fd inotify_;
  std::optional<clock::time_point> end_seen_;       // when this run's end record was read
  std::optional<clock::time_point> running_since_;  // when the job left the queue, before it started
  bool terminated_ = false, start_timed_out_ = false;
};

void refuse_nested_or_uninitialized() {
  if (posix::env("BURLA_JOB_DIR"))
    throw error(
        core::init_called()
            ? "burla: remote_parallel_map was called inside a job's function; nested jobs are not "
              "supported. Pass all the work to one remote_parallel_map call instead."
            : "burla: remote_parallel_map was called in a process of a burla job, before burla::init. "
              "Call burla::init(argc, argv) first thing in main(): in a job process it runs the job.");
  if (!core::init_called())
    throw error(
        "burla: call burla::init(argc, argv) first thing in main() before remote_parallel_map: "
        "the job runs this same program, and burla::init is what turns it into the job.");
}

/// Time to let calls in flight finish before the time limit: a fifth of it, 10 s to 2 min.
int drain_seconds_for(const core::slurm_request& r) {
  return r.time_limit_s > 0 ? static_cast<int>(std::clamp<std::uint64_t>(r.time_limit_s / 5, 10, 120)) : 120;
}

struct prepared {
  core::job_spec spec;
  std::string dir;
};

// Everything before the launch: checks, the job directory, the inputs and job.ini.
prepared prepare_job(const options& opts, std::uint64_t n_inputs, job_types types,
                     const job_state::input_writer& write, core::backend_kind kind) {
  validate(opts);
  refuse_nested_or_uninitialized();
  core::reap_abandoned();
  const core::backend& where = backend_of(kind);
  where.check(opts);
  core::job_spec spec;
  spec.backend = kind;
  spec.n_inputs = n_inputs;
  spec.types = std::move(types);
  spec.segment_items = spec.types.input_kind == value_kind::fixed ? 1 : core::segment_items_for(n_inputs);
  spec.func_cpu = opts.func_cpu;
  spec.func_ram = opts.func_ram.value_or(0);
  spec.func_gpu = opts.func_gpu;
  spec.max_parallelism = opts.max_parallelism.value_or(0);
  spec.func_timeout_ms = opts.func_timeout ? static_cast<std::uint64_t>(opts.func_timeout->count()) : 0;
  spec.max_retries = opts.max_retries;
  spec.collect_errors = opts.on_error == on_error::collect;
  spec.slurm = core::slurm_request_of(opts);
  spec.drain_seconds = drain_seconds_for(spec.slurm);
  spec.workers = where.workers(spec, n_inputs);
  spec.build_id = core::main_build_id();
  spec.executable = posix::env("BURLA_EXECUTABLE").value_or(posix::self_executable());
  spec.caller_host = posix::hostname();
  spec.created = posix::utc_timestamp();

  auto [id, dir] = create_job_dir(posix::absolute(jobs_root(opts)));
  spec.id = id;
  try {
    core::write_inputs(dir, spec, write);
    core::write_state(dir, spec.types);
    core::write_job_spec(dir + "/job.ini", spec);
  } catch (...) {
    // A full disk, or inputs that could not be encoded: no half-written job is left behind
    // (nothing ran, nothing is lost).
    for (const char* name : {"inputs.bin", "inputs.index", "inputs.crc", "state.bin", "job.ini"})
      ::unlink((dir + "/" + name).c_str());
    ::rmdir(dir.c_str());
    throw;
  }
  return {std::move(spec), std::move(dir)};
}

void check_result_type(const core::job_spec& spec, const std::string& id, const std::string& result_type,
                       value_kind result_kind, const char* how) {
  // Same type, other encoding: a job of a burla that archived complex numbers, arrays and vectors.
  if (spec.types.result_type == result_type && spec.types.result_kind != result_kind)
    throw error("burla: job " + spec.id + " stores its " + result_type +
                " results in an encoding of another version of burla; read them with that version");
  if (spec.types.result_type != result_type)
    throw error("burla: job " + spec.id + " returns " + spec.types.result_type + ", not " + result_type +
                "; use burla::" + how + "<" + spec.types.result_type + ">(\"" + id + "\")");
}

std::string find_job(const options& opts, const std::string& id) {
  return find_job_dir(posix::absolute(jobs_root(opts)), id);
}

}  // namespace

std::shared_ptr<job_state> job_state::start(const options& opts, std::uint64_t n_inputs, job_types types,
                                            const input_writer& write) {
  validate(opts);
  auto p = prepare_job(opts, n_inputs, std::move(types), write, choose_backend(opts));
  auto launch = backend_of(p.spec.backend).start(p.spec, p.dir);
  return std::make_shared<followed_job>(std::move(p.spec), p.dir, std::move(launch), opts.spinner,
                                        /*started_here=*/true);
}

job_script job_state::write_script(const options& opts, std::uint64_t n_inputs, job_types types,
                                   const input_writer& write) {
  validate(opts);
  if (opts.backend == backend::local)
    throw invalid_option("backend", "local", "write_job_script writes a Slurm batch script; use slurm");
  auto p = prepare_job(opts, n_inputs, std::move(types), write, core::backend_kind::slurm);
  job_script out;
  out.id = p.spec.id;
  out.directory = p.dir;
  out.script = backend_of(core::backend_kind::slurm).write_script(p.spec, p.dir);
  out.submit_command = submit_command(out.script);
  return out;
}

std::unique_ptr<core::launch> follow_launch(const core::job_spec& spec, const std::string& dir) {
  return backend_of(spec.backend).follow(spec, dir);
}

std::shared_ptr<job_state> open_job(const std::string& dir, bool spinner) {
  core::job_spec spec = core::read_job_spec(dir + "/job.ini");
  auto launch = follow_launch(spec, dir);
  return std::make_shared<followed_job>(std::move(spec), dir, std::move(launch), spinner,
                                        /*started_here=*/false);
}

std::shared_ptr<job_state> resume_job(const std::string& dir, const options& opts, bool rerun_failed) {
  validate(opts);
  core::job_spec spec = core::read_job_spec(dir + "/job.ini");
  // One resume at a time, from the check that the old run is gone until the new one's launcher
  // is recorded: a second resume then finds the new run running. flock: a crashed caller's lock
  // goes with its process.
  const auto lock = posix::try_lock(dir + "/resume.lock");
  if (!lock)
    throw error("burla: job " + spec.id + " is being resumed by another process right now; follow it with " +
                "burla::attach or `burla status " + spec.id + "`");
  auto previous = follow_launch(spec, dir);
  // A job being cancelled, or one whose processes are finishing (a Slurm job COMPLETING), takes
  // a moment to be gone.
  for (int i = 0; i < 60 && !previous->ended(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  if (!previous->ended())
    throw error("burla: job " + spec.id + " is still running; wait for it (burla::attach, `burla status " +
                spec.id + "`) or stop it (`burla cancel " + spec.id + "`) before resuming it");
  core::journal_reader journal(dir + "/journal");
  core::journal_fold fold(spec, journal.path(), /*keep_failures=*/false);
  bool compacted = false;
  for (core::record r; journal.next(r);) {
    if (const auto* b = std::get_if<core::reply_view>(&r))
      compacted = compacted || b->where == core::results_in::rows;
    fold.apply(r);
  }
  const auto todo = std::count_if(fold.status().begin(), fold.status().end(), [&](std::uint8_t st) {
    return st == 0 || (rerun_failed && st != static_cast<std::uint8_t>(call_status::ok));
  });
  if (todo == 0 && fold.end()) return open_job(dir, opts.spinner);  // nothing to run: replay it
  // A run killed while writing leaves a torn last record; the new run appends after whole ones.
  // Through an fd opened without following a symlink: a planted link must not aim the cut elsewhere.
  // A job killed before its master wrote anything has no journal: the new run starts one.
  if (posix::exists(dir + "/journal"))
    posix::truncate_file(posix::open_file(dir + "/journal", O_WRONLY).get(), journal.complete_bytes(),
                         dir + "/journal");
  // Only a completed job's journal is compacted: one that lost its end record (damage) gets it
  // back, since results.h5 holds every result and its inputs may be gone.
  if (compacted && todo == 0 && core::results_reader::completed(dir + "/results.h5")) {
    core::end_record end;
    end.n_ok = fold.ok();
    end.run = spec.run;
    end.message = "completed (its end record restored by resume)";
    core::journal_writer::reopen(dir + "/journal").append(end);
    return open_job(dir, opts.spinner);
  }
  for (const char* stale : {"cancel", "launcher.pid"}) ::unlink((dir + "/" + stale).c_str());
  const std::string log = dir + "/job.log";
  if (posix::exists(log)) posix::rename_file(log, log + "." + std::to_string(spec.run));
  ++spec.run;
  spec.rerun_failed = rerun_failed;
  // The new run gets what the job was submitted with (job.ini); a backend or Slurm options given
  // to resume win over the old ones.
  if (opts.backend != backend::automatic || posix::env("BURLA_BACKEND")) spec.backend = choose_backend(opts);
  const core::backend& where = backend_of(spec.backend);
  where.check(opts);
  spec.slurm = core::resumed_request(std::move(spec.slurm), opts);
  spec.drain_seconds = drain_seconds_for(spec.slurm);
  spec.workers = where.workers(spec, static_cast<std::uint64_t>(std::max<std::ptrdiff_t>(todo, 1)));
  core::write_job_spec(dir + "/job.ini", spec);
  auto launch = where.start(spec, dir);
  return std::make_shared<followed_job>(std::move(spec), dir, std::move(launch), opts.spinner,
                                        /*started_here=*/true, /*replay_output=*/false);
}

std::shared_ptr<job_state> job_state::resume(const std::string& id, const options& opts,
                                             const std::string& result_type, value_kind result_kind,
                                             bool rerun_failed) {
  const std::string dir = find_job(opts, id);
  check_result_type(core::read_job_spec(dir + "/job.ini"), id, result_type, result_kind, "resume");
  return resume_job(dir, opts, rerun_failed);
}

std::shared_ptr<job_state> job_state::attach(const std::string& id, const options& opts,
                                             const std::string& result_type, value_kind result_kind,
                                             bool replay_output) {
  const std::string dir = find_job(opts, id);
  core::job_spec spec = core::read_job_spec(dir + "/job.ini");
  check_result_type(spec, id, result_type, result_kind, "attach");
  auto launch = follow_launch(spec, dir);
  auto job = std::make_shared<followed_job>(std::move(spec), dir, std::move(launch), opts.spinner,
                                            /*started_here=*/false);
  if (!replay_output) job->skip_past_output();
  return job;
}

}  // namespace burla::detail
