// Rank 0: a dynamic work queue. Reads inputs from the job directory batch by batch, keeps a few
// batches in flight per worker, writes every reply to the journal (for the caller) and to
// results.h5 as it arrives. A failed call runs again (max_retries), stops the job (on_error
// raise) or is recorded (collect); a worker that goes silent has its batches given to others;
// SIGUSR1 (the time limit is near) lets the calls in flight finish, then ends the job.
#include <fcntl.h>

#include <algorithm>
#include <burla/detail/job_state.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <deque>
#include <optional>
#include <unordered_map>

#include "input_file.hpp"
#include "libburla/src/posix.hpp"
#include "libburla/src/protocol.hpp"
#include "libburla/src/results_file.hpp"
#include "messages.hpp"
#include "mpi.hpp"
#include "run_job.hpp"
#include "scheduler.hpp"

namespace burla::runner {
namespace {

using clock = std::chrono::steady_clock;
namespace proto = detail::protocol;

constexpr auto flush_every = std::chrono::seconds(1);
constexpr auto check_every = std::chrono::milliseconds(100);
constexpr auto stop_grace = std::chrono::seconds(3);
constexpr auto dead_after = std::chrono::seconds(10);  // workers send a heartbeat every second

/// VmHWM of this process, in kB (0 if unknown).
long long peak_rss_kb() {
  try {
    const std::string status = posix::read_file("/proc/self/status");
    const auto pos = status.find("VmHWM:");
    if (pos != std::string::npos) return std::atoll(status.c_str() + pos + 6);
  } catch (const error&) {
  }
  return 0;
}

/// Set by the signal handlers: SIGUSR1 (the time limit is near: drain), SIGTERM (stop now).
volatile sig_atomic_t signal_seen = 0;
void on_signal(int sig) {
  signal_seen = sig;
}

/// A range of units to dispatch; `skip` (one byte per input of the range, or empty) marks
/// inputs not to run: done before a resume, or the rest of a segment around a retried input.
struct work_item {
  std::uint64_t unit = 0, units = 0;
  std::string skip;
};

/// A batch a worker holds: what to give another worker if this one dies.
struct held_batch {
  std::uint64_t first = 0;
  work_item w;
};

class master {
 public:
  master(const detail::job_spec& spec, const std::string& dir, const std::vector<std::string>& hosts)
      : spec_(spec),
        dir_(dir),
        inputs_(dir, spec),
        status_(spec.n_inputs, static_cast<std::uint8_t>(call_status::not_run)),
        attempts_(spec.n_inputs, 0),
        tries_(spec.n_inputs, 0),
        workers_(hosts.size()) {
    ::signal(SIGUSR1, on_signal);
    ::signal(SIGTERM, on_signal);
    // A resumed run first rebuilds results.h5 from the journal: the file of a killed run may be
    // damaged, the journal is not (a torn last record was cut off by resume).
    results_.emplace(dir + "/results.h5", spec, hosts);
    if (spec.run > 1) replay_journal();
    results_->publish();
    journal_.emplace(dir + "/journal", spec.run > 1);
    plan_work();
    sched_.emplace(planned_units_, inputs_.items_per_unit(), static_cast<int>(hosts.size()) - 1,
                   scheduler::tuning{.max_units = inputs_.max_units_per_batch()});
    proto::start_record start{hosts, static_cast<std::uint32_t>(spec.run)};
    journal_->append(proto::record_type::start, proto::encode(start));
    for (auto& w : workers_) w.last_heard = clock::now();
  }

  int run() {
    guarded([&] { work_loop(); });  // e.g. HDF5 or the disk: stop, and say why in results.h5
    guarded([&] { drain(); });
    return stop_all();
  }

 private:
  struct worker_state {
    std::deque<held_batch> held;
    clock::time_point last_heard;
    bool dead = false;
    bool stopped = false;
  };

  void replay_journal() {
    proto::journal_reader reader(dir_ + "/journal");
    proto::record_type type;
    std::string_view payload;
    while (reader.next(type, payload)) {
      if (type != proto::record_type::batch) continue;
      const auto r = proto::parse_reply(payload);
      record_outcomes(r);
      results_->write(r, attempts_.data());
    }
  }

  struct settled {
    std::uint64_t count = 0;                    ///< inputs given their final status
    std::optional<std::uint64_t> first_failed;  ///< the first of them that did not succeed
  };

  /// Marks what a reply says about each input (final statuses and attempts).
  settled record_outcomes(const proto::reply_view& r) {
    const std::uint64_t first = r.head.first;
    if (first > spec_.n_inputs || r.head.done > spec_.n_inputs - first)
      throw error("burla: a batch reply names input " + std::to_string(first + r.head.done - 1) +
                  ", past the last");
    std::uint8_t* status = status_.data() + first;
    std::uint8_t* attempts = attempts_.data() + first;
    settled out;
    for (std::uint32_t i = 0; i < r.head.done; ++i) {  // a million trivial calls come through here
      const std::uint8_t st = r.status[i];
      if (st == detail::status_skipped) continue;
      attempts[i] = static_cast<std::uint8_t>(attempts[i] + (attempts[i] < 255));
      if (st == detail::status_retrying) continue;
      status[i] = st;
      ++out.count;
      if (st != static_cast<std::uint8_t>(call_status::ok) && !out.first_failed) out.first_failed = first + i;
    }
    return out;
  }

  bool wanted(std::uint64_t idx) const {
    const auto st = static_cast<call_status>(status_[idx]);
    return st == call_status::not_run || (spec_.rerun_failed && st != call_status::ok);
  }

  /// What this run must do: everything, or (resumed) what has no result yet.
  void plan_work() {
    const std::uint64_t units = inputs_.units();
    if (std::all_of(status_.begin(), status_.end(), [](std::uint8_t st) { return st == 0; })) {
      static_assert(static_cast<int>(call_status::not_run) == 0);
      if (units > 0) planned_.push_back({0, units, {}});  // a new job: no need to look at each unit
      planned_units_ = units;
      todo_ = spec_.n_inputs;
      return;
    }
    for (std::uint64_t u = 0; u < units; ++u) {
      const std::uint64_t a = inputs_.first_item(u), b = inputs_.first_item(u + 1);
      std::string skip;
      std::uint64_t n = 0;
      for (std::uint64_t i = a; i < b; ++i) n += wanted(i) ? 1 : 0;
      if (n == 0) continue;
      todo_ += n;
      if (n < b - a) {
        for (std::uint64_t i = a; i < b; ++i) skip.push_back(wanted(i) ? 0 : 1);
        planned_.push_back({u, 1, std::move(skip)});
      } else if (!planned_.empty() && planned_.back().skip.empty() &&
                 planned_.back().unit + planned_.back().units == u) {
        ++planned_.back().units;
      } else {
        planned_.push_back({u, 1, {}});
      }
      ++planned_units_;
    }
  }

  void work_loop() {
    auto last_flush = clock::now();
    auto last_check = clock::now();
    mpi::backoff wait;
    while (!stopping_ && todo_ > 0) {
      dispatch();
      poll_once(wait);
      if (signal_seen) interrupt();
      if (clock::now() - last_check > check_every) {
        last_check = clock::now();
        if (posix::exists(dir_ + "/cancel")) {  // the caller (or `burla cancel`) asked to stop
          stop(proto::end_state::cancelled, "cancelled");
        }
        find_dead_workers();
      }
      if (clock::now() - last_flush > flush_every) {
        results_->flush();
        last_flush = clock::now();
      }
    }
  }

  void stop(proto::end_state state, std::string message) {
    if (stopping_) return;
    stopping_ = true;
    end_.state = state;
    end_.message = std::move(message);
  }

  void interrupt() {
    if (stopping_) return;
    draining_ = signal_seen == SIGUSR1;
    stop(proto::end_state::interrupted,
         draining_ ? "its time limit was near (SIGUSR1 from Slurm), so it stopped starting calls and let "
                     "those running finish; a longer options.time_limit would have let it complete"
                   : "it was told to stop (SIGTERM: cancelled, e.g. with scancel, or past its time limit)");
  }

  /// After SIGUSR1: the calls in flight may finish, up to the grace period.
  void drain() {
    if (!draining_) return;
    const auto deadline = clock::now() + std::chrono::seconds(std::max(1, spec_.drain_seconds - 10));
    mpi::backoff wait;
    while (clock::now() < deadline &&
           std::any_of(workers_.begin() + 1, workers_.end(),
                       [](const worker_state& w) { return !w.dead && !w.held.empty(); })) {
      poll_once(wait);
      find_dead_workers();
    }
  }

  int live_workers() const {
    return static_cast<int>(
        std::count_if(workers_.begin() + 1, workers_.end(), [](const worker_state& w) { return !w.dead; }));
  }

  void dispatch() {
    for (int w = 1; w < static_cast<int>(workers_.size()); ++w) {
      worker_state& ws = workers_[w];
      while (!ws.dead && static_cast<int>(ws.held.size()) < sched_->in_flight()) {
        std::optional<work_item> next = next_work(w);
        if (!next) break;
        send_batch(w, std::move(*next));
      }
    }
  }

  /// The next work for worker w: a retry that failed elsewhere first, then planned work.
  std::optional<work_item> next_work(int w) {
    for (auto it = retries_.begin(); it != retries_.end(); ++it) {
      if (it->second == w && live_workers() > 1) continue;  // on another worker where possible
      const std::uint64_t idx = it->first;
      retries_.erase(it);
      return single(idx);
    }
    if (!requeued_.empty()) {
      work_item r = std::move(requeued_.front());
      requeued_.pop_front();
      return r;
    }
    while (!planned_.empty()) {
      work_item& p = planned_.front();
      if (p.units == 0) {
        planned_.pop_front();
        continue;
      }
      const std::uint64_t asked = sched_->next_batch();
      if (asked == 0) return std::nullopt;
      const std::uint64_t k = std::min(asked, p.units);
      sched_->give_back(asked - k);
      work_item out{p.unit, k, {}};
      if (!p.skip.empty()) out.skip = p.skip;  // masked entries are one unit
      p.unit += k;
      p.units -= k;
      return out;
    }
    return std::nullopt;
  }

  work_item single(std::uint64_t idx) const {
    const std::uint64_t u = inputs_.unit_of(idx);
    work_item out{u, 1, {}};
    const std::uint64_t a = inputs_.first_item(u), b = inputs_.first_item(u + 1);
    if (b - a > 1) {
      out.skip.assign(b - a, 1);
      out.skip[idx - a] = 0;
    }
    return out;
  }

  void send_batch(int w, work_item item) {
    const std::uint64_t first = inputs_.first_item(item.unit);
    const std::uint64_t count = inputs_.first_item(item.unit + item.units) - first;
    std::string msg;
    begin_batch(msg, first, static_cast<std::uint32_t>(count), item.skip);
    const std::size_t header = msg.size();
    inputs_.read(item.unit, item.units, msg);
    if (spec_.types.input_kind == detail::value_kind::fixed &&
        item.skip.empty()) {  // while the workers compute
      results_->write_inputs(first, count, std::string_view(msg).substr(header));
      if (!inputs_written_.empty() && inputs_written_.back().second == first)
        inputs_written_.back().second += count;
      else
        inputs_written_.emplace_back(first, first + count);
    }
    if (!dispatched_any_) first_dispatch_ = clock::now(), dispatched_any_ = true;
    outbox_.send(w, tag_batch, std::move(msg));
    journal_->append(proto::record_type::dispatch,
                     proto::encode(proto::dispatch_record{first, static_cast<std::uint32_t>(count), w}));
    workers_[w].held.push_back({first, std::move(item)});
  }

  void handle(mpi::message& m) {
    if (m.source > 0 && m.source < static_cast<int>(workers_.size())) {
      if (workers_[m.source].dead) return;  // declared dead: what it held went elsewhere
      workers_[m.source].last_heard = clock::now();
    }
    switch (m.tag) {
      case tag_reply:
        handle_reply(m.source, m.data);
        break;
      case tag_fatal:  // first byte: 'M' for a build mismatch, 'E' for any other error
        stop(!m.data.empty() && m.data[0] == 'M' ? proto::end_state::mismatch : proto::end_state::error,
             "rank " + std::to_string(m.source) + ": " + m.data.substr(m.data.empty() ? 0 : 1));
        break;
      case tag_stopped:
        workers_[m.source].stopped = true;
        break;
      default:  // heartbeats: last_heard is all they are for
        break;
    }
  }

  void handle_reply(int w, std::string& data) {
    proto::reply_view r = proto::parse_reply(data);
    auto& held = workers_[w].held;
    if (!held.empty() && held.front().first == r.head.first) held.pop_front();
    last_reply_ = clock::now();
    sched_->record(r.head.done, static_cast<double>(r.head.elapsed_ns) * 1e-9);
    // Failed attempts that will run again are marked so in the journal and kept out of results.h5.
    auto* status = const_cast<std::uint8_t*>(r.status);
    for (std::uint32_t i = 0; i < r.head.done && spec_.max_retries > 0; ++i) {
      const std::uint64_t idx = r.head.first + i;
      const std::uint8_t st = status[i];
      if (st == detail::status_skipped || st == static_cast<std::uint8_t>(call_status::ok)) continue;
      if (tries_[idx] < spec_.max_retries && !stopping_) {
        ++tries_[idx];
        status[i] = detail::status_retrying;
        retries_.emplace_back(idx, w);
      }
    }
    settle(r, data);
  }

  /// Records a reply (journal, results.h5, statuses); a final failure stops a raise-mode job.
  void settle(const proto::reply_view& r, const std::string& data) {
    journal_->append(proto::record_type::batch, data);
    const settled s = record_outcomes(r);
    results_->write(r, attempts_.data());
    todo_ -= s.count;
    if (s.first_failed && !spec_.collect_errors)
      stop(proto::end_state::failed, "input " + std::to_string(*s.first_failed) + " failed; the job stopped");
  }

  /// A worker that held work and said nothing for dead_after is gone (its node failed, or its
  /// process was killed): its batches go to the others once; an input lost twice fails.
  void find_dead_workers() {
    const auto now = clock::now();
    for (int w = 1; w < static_cast<int>(workers_.size()); ++w) {
      worker_state& ws = workers_[w];
      if (ws.dead || ws.held.empty() || now - ws.last_heard < dead_after) continue;
      ws.dead = true;
      std::fprintf(
          stderr, "burla: rank %d stopped answering for %lld s; its work goes to the other workers\n", w,
          static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(dead_after).count()));
      for (held_batch& h : ws.held) requeue_lost(h, w);
      ws.held.clear();
    }
    if (live_workers() == 0 && !stopping_)
      stop(proto::end_state::error, "every worker rank died; resume the job to finish it");
  }

  void requeue_lost(held_batch& h, int w) {
    const std::uint64_t n = inputs_.first_item(h.w.unit + h.w.units) - h.first;
    std::string lost_twice;
    bool any = false;
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!h.w.skip.empty() && h.w.skip[i]) continue;
      const std::uint64_t idx = h.first + i;
      if (++lost_[idx] >= 2) {
        fail_lost(idx, w);
      } else {
        any = true;
        continue;
      }
      if (h.w.skip.empty()) h.w.skip.assign(n, 0);
      h.w.skip[i] = 1;
    }
    if (any) requeued_.push_back(std::move(h.w));
  }

  /// An input whose worker died twice while holding it: reported as worker_lost.
  void fail_lost(std::uint64_t idx, int w) {
    std::string reply, results;
    proto::append_missing_result(results, spec_.types);
    const std::string what = "the worker rank running it died twice (last: rank " + std::to_string(w) + ")";
    std::vector<proto::note> notes{{0, proto::note_kind::error_type, "worker_lost"},
                                   {0, proto::note_kind::error_what, what}};
    proto::build_reply(reply, {idx, 1, 1, w, 0}, std::string(1, static_cast<char>(call_status::worker_lost)),
                       results, notes);
    settle(proto::parse_reply(reply), reply);
  }

  /// One round of the event loop: sends progress, and at most one message is handled.
  void poll_once(mpi::backoff& wait) {
    outbox_.progress();
    if (auto m = mpi::try_receive(MPI_ANY_SOURCE, MPI_ANY_TAG)) {
      guarded([&] { handle(*m); });  // an error stops the job, with what was done kept
      wait.reset();
    } else {
      wait.idle();
    }
  }

  int stop_all() {
    for (int w = 1; w < static_cast<int>(workers_.size()); ++w)
      if (!workers_[w].dead) outbox_.send(w, tag_stop, {});
    const auto deadline = clock::now() + stop_grace;
    auto all_stopped = [&] {
      return std::all_of(workers_.begin() + 1, workers_.end(),
                         [](const worker_state& w) { return w.dead || w.stopped; });
    };
    mpi::backoff wait;
    while (!all_stopped() && clock::now() < deadline) poll_once(wait);  // replies arriving now are kept
    // Dead workers are left behind (the launcher runs with --enable-recovery); live ones that never
    // acknowledged are stuck in a call.
    const bool clean = all_stopped();
    end_.run = static_cast<std::uint32_t>(spec_.run);
    for (std::uint8_t st : status_) {
      if (st == static_cast<std::uint8_t>(call_status::ok))
        ++end_.n_ok;
      else if (st == static_cast<std::uint8_t>(call_status::not_run))
        ++end_.n_not_run;
      else
        ++end_.n_failed;
    }
    if (end_.state == proto::end_state::completed && end_.n_failed > 0) {
      end_.state = proto::end_state::failed;
      end_.message = std::to_string(end_.n_failed) + " calls failed";
    }
    guarded([&] {
      write_remaining_inputs();
      results_->finish(end_,
                       {.work_seconds = std::chrono::duration<double>(last_reply_ - first_dispatch_).count(),
                        .master_peak_rss_kb = peak_rss_kb()});
    });
    journal_->append(proto::record_type::end, proto::encode(end_));
    // A worker that never acknowledged is stuck in a call or dead; sends that never complete
    // would keep MPI_Finalize waiting. The outcome is recorded: end the job.
    if (!clean || !outbox_.drain(10.0)) mpi::abort(0);
    // The outcome is in the journal and results.h5. A non-zero exit would make mpirun kill
    // the other ranks while they finalize.
    return 0;
  }

  /// Runs f; an error becomes the job's outcome, or is added to an earlier one's message.
  template <class F>
  void guarded(F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      if (!stopping_) {
        stop(proto::end_state::error, std::string("rank 0: ") + e.what());
      } else {
        end_.message += std::string("; then rank 0: ") + e.what();
      }
    }
  }

  /// Inputs not dispatched whole in this run still get their row of /input.
  void write_remaining_inputs() {
    if (spec_.types.input_kind != detail::value_kind::fixed) return;  // one unit per input
    std::sort(inputs_written_.begin(), inputs_written_.end());
    inputs_written_.emplace_back(inputs_.units(), inputs_.units());
    std::string bytes;
    std::uint64_t u = 0;
    for (const auto& [from, to] : inputs_written_) {
      while (u < from) {
        const std::uint64_t k = std::min(inputs_.max_units_per_batch(), from - u);
        bytes.clear();
        inputs_.read(u, k, bytes);
        results_->write_inputs(u, k, bytes);
        u += k;
      }
      u = std::max(u, to);
    }
  }

  const detail::job_spec& spec_;
  std::string dir_;
  input_file inputs_;
  std::optional<proto::journal_writer> journal_;
  std::optional<scheduler> sched_;
  std::optional<detail::results_writer> results_;
  mpi::outbox outbox_;
  std::vector<std::uint8_t> status_;             // per input: its final call_status so far
  std::vector<std::uint8_t> attempts_;           // per input: times it ran, every run
  std::vector<std::uint8_t> tries_;              // per input: retries in this run
  std::unordered_map<std::uint64_t, int> lost_;  // per input: workers that died holding it
  std::vector<worker_state> workers_;            // by rank; [0] unused
  std::deque<work_item> planned_, requeued_;
  std::deque<std::pair<std::uint64_t, int>> retries_;                    // input, the rank it failed on
  std::vector<std::pair<std::uint64_t, std::uint64_t>> inputs_written_;  // [from, to) of /input
  std::uint64_t planned_units_ = 0;
  std::uint64_t todo_ = 0;  // inputs this run has yet to settle
  bool stopping_ = false, draining_ = false, dispatched_any_ = false;
  proto::end_record end_;
  clock::time_point first_dispatch_ = clock::now(), last_reply_ = first_dispatch_;
};

}  // namespace

int run_master(const detail::job_spec& spec, const std::string& dir, const std::vector<std::string>& hosts) {
  return master(spec, dir, hosts).run();
}

}  // namespace burla::runner
