// Rank 0: a dynamic work queue. Reads inputs from the job directory batch by batch, keeps a few
// batches in flight per worker, writes every reply to the journal (for the caller) and to
// results.h5 as it arrives. A failed call runs again (max_retries), stops the job (on_error
// raise) or is recorded (collect); a worker that goes silent has its batches given to others;
// SIGUSR1 (the time limit is near) lets the calls in flight finish, then ends the job.
#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <vector>

#include "libburla/core/checksum.hpp"
#include "libburla/core/disk_space.hpp"
#include "libburla/core/input_file.hpp"
#include "libburla/core/journal_fold.hpp"
#include "libburla/core/posix.hpp"
#include "libburla/core/results_file.hpp"
#include "libburla/core/results_reader.hpp"
#include "messages.hpp"
#include "mpi.hpp"
#include "run_job.hpp"
#include "work_queue.hpp"

namespace burla::mpi_runner {
namespace {

using clock = std::chrono::steady_clock;

constexpr auto flush_every = std::chrono::seconds(1);
constexpr auto check_every = std::chrono::milliseconds(100);
constexpr auto stop_grace = std::chrono::seconds(3);
constexpr auto dead_after = std::chrono::seconds(10);  // workers send a heartbeat every second
constexpr auto alive_every = std::chrono::seconds(1);  // and so does the master, to them
// Batches with this many bytes of results are journaled as their places in results.h5: the
// bytes are written once. They wait for a flush of results.h5, at most this long or this much.
// Variable-length results take 20 bytes of places each, fixed-size ones 20 a chunk.
constexpr std::uint64_t place_from = std::uint64_t{256} << 10;
constexpr std::uint64_t place_fixed_from = std::uint64_t{64} << 10;
constexpr auto place_within = std::chrono::milliseconds(200);
constexpr std::uint64_t place_at_most = std::uint64_t{64} << 20;
// Batches with this many bytes of inputs, which results.h5 does not copy, go as their units of
// inputs.bin: the call process reads them itself, not through rank 0, MPI and its worker.
constexpr std::uint64_t calls_read_from = std::uint64_t{64} << 10;

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

unit_layout layout_of(const core::input_file& inputs, const core::job_spec& spec) {
  return {spec.n_inputs, inputs.items_per_unit(), inputs.max_units_per_batch()};
}

class master {
 public:
  master(const core::job_spec& spec, const std::string& dir, const std::vector<std::string>& hosts)
      : spec_(spec),
        dir_(dir),
        inputs_(dir, spec),
        fold_(spec, dir + "/journal", /*keep_failures=*/false),
        workers_(hosts.size()) {
    posix::set_signal_handler(SIGUSR1, on_signal);
    posix::set_signal_handler(SIGTERM, on_signal);
    // A resumed run first rebuilds results.h5 from the journal: the file of a killed run may be
    // damaged, the journal is not (a torn last record was cut off by resume).
    results_.emplace(dir + "/results.h5", spec, hosts, inputs_.bytes());
    if (spec.run > 1) replay_journal();
    results_->publish();
    journal_.emplace(spec.run > 1 ? core::journal_writer::reopen(dir + "/journal")
                                  : core::journal_writer::create(dir + "/journal"));
    queue_.emplace(layout_of(inputs_, spec), fold_.status(), spec.rerun_failed,
                   static_cast<int>(hosts.size()) - 1, spec.max_retries);
    todo_ = queue_->todo();
    const core::start_record start{hosts, static_cast<std::uint32_t>(spec.run)};
    fold_.apply(start);
    journal_->append(start);
    journal_room_.emplace(dir + "/journal");
    results_room_.emplace(dir + "/results.h5");
    keep_room();
    for (auto& w : workers_) w.last_heard = clock::now();
  }

  int run() {
    guarded([&] { work_loop(); });  // e.g. HDF5 or the disk: stop, and say why in results.h5
    guarded([&] { drain(); });
    return stop_all();
  }

 private:
  struct worker_state {
    clock::time_point last_heard;
    bool stopped = false;
  };

  void replay_journal() {
    core::journal_reader reader(dir_ + "/journal");
    core::batch_results earlier(dir_ + "/results.h5", spec_.types);  // where earlier runs placed results
    for (core::record r; reader.next(r);) {
      fold_.apply(r);
      if (auto* reply = std::get_if<core::reply_view>(&r)) {
        if (reply->where == core::results_in::places) {
          reply->results = earlier.of(*reply);
          reply->where = core::results_in::record;
        }
        results_->write(*reply, fold_.attempts().data());
      }
    }
  }

  void work_loop() {
    auto last_flush = clock::now();
    auto last_check = clock::now();
    mpi::backoff wait;
    while (!stopping_ && todo_ > 0) {
      if (dispatch_all_ || !dispatch_to_.empty()) {
        const double t0 = posix::thread_cpu_seconds();
        dispatch();
        work_seconds_ += posix::thread_cpu_seconds() - t0;
      }
      poll_once(wait);
      if (signal_seen) interrupt();
      if (clock::now() - last_check > check_every) {
        last_check = clock::now();
        if (posix::exists(dir_ + "/cancel"))  // the caller (or `burla cancel`) asked to stop
          stop(core::end_state::cancelled, core::end_cause::cancel_request, "cancelled");
        find_dead_workers();
      }
      if (!placed_.empty() &&
          (placed_bytes_ >= place_at_most || clock::now() - placed_since_ > place_within)) {
        place_pending();
        last_flush = clock::now();
      }
      if (clock::now() - last_flush > flush_every) {
        results_->flush();
        last_flush = clock::now();
      }
    }
  }

  void stop(core::end_state state, core::end_cause cause, std::string message) {
    if (stopping_) return;
    stopping_ = true;
    end_.state = state;
    end_.cause = cause;
    end_.message = std::move(message);
  }

  void interrupt() {
    if (stopping_) return;
    draining_ = signal_seen == SIGUSR1;
    if (draining_)
      stop(core::end_state::interrupted, core::end_cause::time_limit,
           "its time limit was near (SIGUSR1 from Slurm), so it stopped starting calls and let "
           "those running finish; a longer options.time_limit would have let it complete");
    else
      stop(core::end_state::interrupted, core::end_cause::terminated,
           "it was told to stop (SIGTERM: cancelled, e.g. with scancel, or past its time limit)");
  }

  /// After SIGUSR1: the calls in flight may finish, up to the grace period.
  void drain() {
    if (!draining_) return;
    const auto deadline = clock::now() + std::chrono::seconds(std::max(1, spec_.drain_seconds - 10));
    mpi::backoff wait;
    auto busy = [&] {
      for (int w = 1; w < static_cast<int>(workers_.size()); ++w)
        if (queue_->alive(w) && queue_->holds_work(w)) return true;
      return false;
    };
    while (clock::now() < deadline && busy()) {
      poll_once(wait);
      find_dead_workers();
    }
  }

  /// Batches for the workers that answered; for every worker, idle ones first, where what a
  /// worker may take changed for all (the first measured calls, a retry, a dead worker's work).
  /// Not a scan of every worker each round: a master of thousands would spend its time there.
  void dispatch() {
    if (queue_->in_flight() != in_flight_) in_flight_ = queue_->in_flight(), dispatch_all_ = true;
    if (dispatch_all_) {
      for (int depth = 1; depth <= in_flight_; ++depth)
        for (int w = 1; w < static_cast<int>(workers_.size()); ++w)
          if (auto item = queue_->next(w, depth)) send_batch(w, *item);
    } else {
      for (int w : dispatch_to_)
        while (auto item = queue_->next(w, in_flight_)) send_batch(w, *item);
    }
    dispatch_all_ = false;
    dispatch_to_.clear();
  }

  void send_batch(int w, const work_item& item) {
    const std::uint64_t first = queue_->first_input(item);
    const std::uint64_t count = queue_->inputs_in(item);
    const bool held = results_->holds_inputs();
    std::string msg;
    std::size_t header = 0;
    if (!held && inputs_.bytes_of(item.unit, item.units) >= calls_read_from) {
      begin_batch(msg, first, static_cast<std::uint32_t>(count), item.skip,
                  unit_range{item.unit, item.units});
    } else {
      msg = outbox_.reuse();  // a megabyte batch's pages are not faulted in anew
      msg.clear();
      begin_batch(msg, first, static_cast<std::uint32_t>(count), item.skip);
      header = msg.size();
      inputs_.read(item.unit, item.units, msg);
    }
    if (!dispatched_any_) first_dispatch_ = clock::now(), dispatched_any_ = true;
    const std::string_view sent = outbox_.send(w, tag_batch, std::move(msg));
    journal_->append(core::dispatch_record{first, static_cast<std::uint32_t>(count), w});
    if (held && item.skip.empty()) {  // while the worker receives and computes
      results_->write_inputs(first, count, sent.substr(header));
      if (!inputs_written_.empty() && inputs_written_.back().second == item.unit)
        inputs_written_.back().second += item.units;
      else
        inputs_written_.emplace_back(item.unit, item.unit + item.units);
    }
  }

  void handle(const mpi::inbox::received& m) {
    if (m.source > 0 && m.source < static_cast<int>(workers_.size())) {
      if (!queue_->alive(m.source)) return;  // declared dead: what it held went elsewhere
      workers_[m.source].last_heard = clock::now();
    }
    switch (m.tag) {
      case tag_reply:
        handle_reply(m.source, m.data);
        break;
      case tag_fatal:  // first byte: 'M' for a build mismatch, 'E' for any other error
        stop(!m.data.empty() && m.data[0] == 'M' ? core::end_state::mismatch : core::end_state::error,
             core::end_cause::none,
             "rank " + std::to_string(m.source) + ": " + std::string(m.data.substr(m.data.empty() ? 0 : 1)));
        break;
      case tag_stopped:
        workers_[m.source].stopped = true;
        break;
      default:  // heartbeats: last_heard is all they are for
        break;
    }
  }

  void handle_reply(int w, std::string_view data) {
    core::reply_view r = core::parse_reply(data);
    // Exactly one reply per batch sent: another (a copy of a call process replying twice, or a
    // reply of a batch already given to another worker) would count its calls twice.
    if (!queue_->answered(w, r.head.first, r.head.done, static_cast<double>(r.head.elapsed_ns) * 1e-9)) {
      std::fprintf(stderr, "burla: rank %d replied for inputs %llu.. that it does not hold; ignored\n", w,
                   static_cast<unsigned long long>(r.head.first));
      return;
    }
    last_reply_ = clock::now();
    ++replies_;
    dispatch_to_.push_back(w);
    // Failed attempts that will run again are marked so in the journal and kept out of results.h5.
    auto* status = const_cast<std::uint8_t*>(r.status);
    // A job being stopped (scancel: Slurm sends SIGTERM to every process of the job, call
    // processes too) did not fail its calls: the ones it killed run again on resume.
    if (signal_seen == SIGTERM)
      for (std::uint32_t i = 0; i < r.head.done; ++i)
        if (status[i] == static_cast<std::uint8_t>(call_status::crashed)) status[i] = core::status_retrying;
    for (std::uint32_t i = 0; i < r.head.done && spec_.max_retries > 0 && !stopping_; ++i) {
      const std::uint8_t st = status[i];
      if (st == core::status_skipped || st == static_cast<std::uint8_t>(call_status::ok)) continue;
      if (queue_->retry(r.head.first + i, w)) status[i] = core::status_retrying, dispatch_all_ = true;
    }
    settle(r, data);
  }

  /// Records a reply (statuses, journal, results.h5); a final failure stops a raise-mode job.
  void settle(const core::reply_view& r, std::string_view data) {
    if (disk_full_) return;              // its inputs run again on resume
    const auto change = fold_.apply(r);  // checks the reply's range before anything is written
    std::uint64_t journaled = data.size();
    if (auto placed = placement_of(r)) {
      results_->write(r, fold_.attempts().data());
      if (placed_.empty()) placed_since_ = clock::now();
      placed_bytes_ += r.results.size();
      journaled = placed->reply.size() + core::place_bytes * placed->places.size();
      placed_.push_back(std::move(*placed));
    } else {
      place_pending();  // the journal keeps the order of replies
      journal_->append_batch(data);
      results_->write(r, fold_.attempts().data());
    }
    biggest_reply_ = std::max<std::uint64_t>(biggest_reply_, data.size());
    biggest_record_ = std::max<std::uint64_t>(biggest_record_, journaled);
    keep_room();
    todo_ -= std::min(todo_, change.settled);
    if (change.first_failed && !spec_.collect_errors)
      stop(core::end_state::failed, core::end_cause::none,
           "input " + std::to_string(*change.first_failed) + " failed; the job stopped");
  }

  /// A reply held until its results' places are known: itself without results, and for each
  /// call the size and CRC-32C of its result (size 0 for none: a call not kept, an empty value).
  struct placed_reply {
    std::string reply;
    std::vector<core::result_place> places;
  };

  /// A reply whose results are many bytes, to be journaled as their places (results_in::places);
  /// nothing for others, and for strings with a NUL byte (results.h5's strings end there).
  std::optional<placed_reply> placement_of(const core::reply_view& r) const {
    if (!results_->can_place()) return std::nullopt;
    placed_reply p;
    if (spec_.types.result_kind == detail::value_kind::fixed) {
      const std::uint64_t size = spec_.types.result_size;
      // Results cut short are written as they are: results_writer::write says what is wrong.
      if (r.results.size() < place_fixed_from || r.results.size() < r.head.done * size) return std::nullopt;
      // A call not kept leaves its row as it was: the rows of a chunk would not be the bytes sent.
      for (std::uint32_t i = 0; i < r.head.done; ++i)
        if (r.status[i] == core::status_skipped || r.status[i] == core::status_retrying) return std::nullopt;
      for (const core::row_run& run :
           core::runs_by_chunk(r.head.first, r.head.done, results_->result_chunk_rows())) {
        const std::string_view bytes = r.results.substr((run.first - r.head.first) * size, run.rows * size);
        p.places.push_back({0, bytes.size(), core::crc32c(bytes)});
      }
      core::build_reply(p.reply, r.head, {reinterpret_cast<const char*>(r.status), r.head.done}, {}, r.notes);
      return p;
    }
    if (r.results.size() < place_from) return std::nullopt;
    p.places.resize(r.head.done);
    detail::byte_reader in(r.results, "the results of a batch");
    for (std::uint32_t i = 0; i < r.head.done; ++i) {
      const std::string_view value = in.get_bytes();
      if (r.status[i] == core::status_skipped || r.status[i] == core::status_retrying) continue;
      if (spec_.types.result_kind == detail::value_kind::string && value.find('\0') != std::string_view::npos)
        return std::nullopt;
      p.places[i] = {0, value.size(), core::crc32c(value)};
    }
    core::build_reply(p.reply, r.head, {reinterpret_cast<const char*>(r.status), r.head.done}, {}, r.notes);
    return p;
  }

  /// Journals the replies held: results.h5 flushed, their places read from it.
  void place_pending() {
    if (placed_.empty()) return;
    results_->flush();
    for (placed_reply& p : placed_) {
      const core::reply_view r = core::parse_reply(p.reply);
      const std::vector<core::result_place> at = results_->places(r.head.first, r.head.done);
      if (at.size() != p.places.size())
        throw error("burla: results.h5 has " + std::to_string(at.size()) + " places for inputs " +
                    std::to_string(r.head.first) + ".., not " + std::to_string(p.places.size()));
      for (std::size_t i = 0; i < at.size(); ++i) {
        if (p.places[i].size == 0) continue;
        if (at[i].size != p.places[i].size)
          throw error("burla: results.h5 holds " + std::to_string(at[i].size) + " bytes at place " +
                      std::to_string(i) + " of inputs " + std::to_string(r.head.first) +
                      ".., whose results have " + std::to_string(p.places[i].size));
        p.places[i].offset = at[i].offset;
      }
      journal_->append_placed(r, static_cast<std::uint32_t>(spec_.run), p.places);
    }
    placed_.clear();
    placed_bytes_ = 0;
  }

  /// Room on disk for the next replies and for the writes that end the job; without it, the
  /// job stops now, while its outcome can still be written.
  void keep_room() {
    if (stopping_) return;
    // Each file by what it takes: a placed batch puts its results in results.h5 alone.
    const std::uint64_t slack = std::uint64_t{256} << 10;
    for (core::space_reserve* room : {&*journal_room_, &*results_room_})
      if (room == &*results_room_ ? !room->keep(results_->allocated_bytes(), slack + biggest_reply_)
                                  : !room->keep(0, slack + biggest_record_)) {
        disk_full_ = true;  // the room left is for the job's outcome: later replies are dropped
        stop(core::end_state::error, core::end_cause::none,
             core::no_space_left(room->path()) +
                 ". Free space there, then resume the job to finish it (`burla resume " + spec_.id +
                 "`); the " + std::to_string(fold_.ok() + fold_.failed()) + " calls done so far are kept");
        return;
      }
  }

  /// A worker that held work and said nothing for dead_after is gone (its node failed, or its
  /// process was killed): its batches go to the others once; an input lost twice fails.
  void find_dead_workers() {
    const auto now = clock::now();
    for (int w = 1; w < static_cast<int>(workers_.size()); ++w) {
      if (!queue_->alive(w) || !queue_->holds_work(w) || now - workers_[w].last_heard < dead_after) continue;
      std::fprintf(
          stderr, "burla: rank %d stopped answering for %lld s; its work goes to the other workers\n", w,
          static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(dead_after).count()));
      for (std::uint64_t idx : queue_->worker_died(w)) fail_lost(idx, w);
      dispatch_all_ = true;
    }
    if (queue_->live_workers() == 0 && !stopping_)
      stop(core::end_state::error, core::end_cause::workers_lost,
           "every worker rank died; resume the job to finish it");
  }

  /// An input whose worker died twice while holding it: reported as worker_lost.
  void fail_lost(std::uint64_t idx, int w) {
    std::string reply, results;
    core::append_missing_result(results, spec_.types);
    const std::string what = "the worker rank running it died twice (last: rank " + std::to_string(w) + ")";
    std::vector<core::note> notes{{0, core::note_kind::error_type, "worker_lost"},
                                  {0, core::note_kind::error_what, what}};
    core::build_reply(reply, {idx, 1, 1, w, 0}, std::string(1, static_cast<char>(call_status::worker_lost)),
                      results, notes);
    settle(core::parse_reply(reply), reply);
  }

  /// One round of the event loop: sends progress, and at most one message is handled.
  void poll_once(mpi::backoff& wait) {
    outbox_.progress();
    if (const auto now = clock::now(); now - last_alive_ > alive_every) {  // workers watch for it
      last_alive_ = now;
      for (int w = 1; w < static_cast<int>(workers_.size()); ++w)
        if (queue_->alive(w)) outbox_.send(w, tag_alive, {});
    }
    if (auto m = inbox_.try_receive(MPI_ANY_SOURCE, MPI_ANY_TAG)) {
      const double t0 = posix::thread_cpu_seconds();  // its work, as opposed to polling for it
      guarded([&] { handle(*m); });                   // an error stops the job, with what was done kept
      work_seconds_ += posix::thread_cpu_seconds() - t0;
      wait.reset();
    } else {
      wait.idle();
    }
  }

  int stop_all() {
    for (int w = 1; w < static_cast<int>(workers_.size()); ++w)
      if (queue_->alive(w)) outbox_.send(w, tag_stop, {});
    // Told to stop by a signal (SIGTERM to mpirun or from scancel): the launcher ends every rank
    // soon, so the outcome is written first, without waiting for workers that got it too.
    const bool signalled = end_.cause == core::end_cause::terminated;
    const auto deadline = clock::now() + (signalled ? std::chrono::seconds(0) : stop_grace);
    auto all_stopped = [&] {
      for (int w = 1; w < static_cast<int>(workers_.size()); ++w)
        if (queue_->alive(w) && !workers_[w].stopped) return false;
      return true;
    };
    mpi::backoff wait;
    while (!all_stopped() && clock::now() < deadline) poll_once(wait);  // replies arriving now are kept
    // Dead workers are left behind (the launcher runs with --enable-recovery); live ones that never
    // acknowledged are stuck in a call.
    const bool clean = all_stopped();
    end_.run = static_cast<std::uint32_t>(spec_.run);
    end_.n_ok = fold_.ok();
    end_.n_failed = fold_.failed();
    end_.n_not_run = spec_.n_inputs - end_.n_ok - end_.n_failed;
    if (end_.state == core::end_state::completed && end_.n_failed > 0) {
      end_.state = core::end_state::failed;
      end_.message = std::to_string(end_.n_failed) + " calls failed";
    }
    // Never "completed" with inputs that have no outcome: that would be a silent partial result.
    if (end_.state == core::end_state::completed && end_.n_not_run > 0) {
      end_.state = core::end_state::error;
      end_.message = std::to_string(end_.n_not_run) +
                     " inputs were never run although the job had nothing left to do (a bug in burla); "
                     "resume the job to run them";
    }
    guarded([&] { place_pending(); });
    guarded([&] {
      write_remaining_inputs();
      results_->finish(end_,
                       {.work_seconds = std::chrono::duration<double>(last_reply_ - first_dispatch_).count(),
                        .master_peak_rss_kb = peak_rss_kb(),
                        .master_cpu_seconds = posix::process_cpu_seconds(),
                        .master_work_seconds = work_seconds_,
                        .replies = replies_});
    });
    // The room kept on disk goes before the end record: once that is written the caller may go
    // on (resume, or a test, rewriting the journal) while this process still runs. The end record
    // fits in what was just freed.
    guarded([&] {
      results_room_->release();
      journal_room_->release();
    });
    journal_->append(end_);
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
        stop(core::end_state::error, core::end_cause::none, std::string("rank 0: ") + e.what());
      } else {
        end_.message += std::string("; then rank 0: ") + e.what();
      }
    }
  }

  /// Inputs not dispatched whole in this run still get their row of /input.
  void write_remaining_inputs() {
    if (!results_->holds_inputs()) return;
    std::sort(inputs_written_.begin(), inputs_written_.end());
    inputs_written_.emplace_back(inputs_.units(), inputs_.units());
    std::string bytes;
    std::uint64_t u = 0;
    for (const auto& [from, to] : inputs_written_) {
      while (u < from) {
        const std::uint64_t k = std::min(inputs_.max_units_per_batch(), from - u);
        bytes.clear();
        inputs_.read(u, k, bytes);
        const std::uint64_t first = inputs_.first_item(u);
        results_->write_inputs(first, inputs_.first_item(u + k) - first, bytes);
        u += k;
      }
      u = std::max(u, to);
    }
  }

  const core::job_spec& spec_;
  std::string dir_;
  core::input_file inputs_;
  core::journal_fold fold_;  // every input's outcome and attempts, over every run
  std::optional<core::journal_writer> journal_;
  std::optional<work_queue> queue_;
  std::optional<core::results_writer> results_;
  std::optional<core::space_reserve> journal_room_, results_room_;
  std::vector<placed_reply> placed_;  // replies in results.h5, not yet in the journal
  std::uint64_t placed_bytes_ = 0;    // their results
  clock::time_point placed_since_;    // when the first of them came
  std::uint64_t biggest_reply_ = 0;   // bytes: what the next one may need in results.h5
  std::uint64_t biggest_record_ = 0;  // and in the journal
  long long replies_ = 0;             // batches answered in this run
  double work_seconds_ = 0;           // CPU time on messages and dispatch, not polling
  int in_flight_ = 0;                 // batches a worker may hold, as last dispatched
  bool dispatch_all_ = true;          // see dispatch()
  std::vector<int> dispatch_to_;      // workers that answered since the last dispatch
  mpi::outbox outbox_;
  mpi::inbox inbox_;                   // replies are handled before the next receive
  std::vector<worker_state> workers_;  // by rank; [0] unused
  std::vector<std::pair<std::uint64_t, std::uint64_t>> inputs_written_;  // units [from, to) in /input
  std::uint64_t todo_ = 0;                                               // inputs this run has yet to settle
  bool stopping_ = false, draining_ = false, dispatched_any_ = false, disk_full_ = false;
  core::end_record end_;
  clock::time_point first_dispatch_ = clock::now(), last_reply_ = first_dispatch_, last_alive_{};
};

}  // namespace

int run_master(const core::job_spec& spec, const std::string& dir, const std::vector<std::string>& hosts) {
  return master(spec, dir, hosts).run();
}

}  // namespace burla::mpi_runner
