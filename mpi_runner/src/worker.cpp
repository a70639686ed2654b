// A worker rank: receives batches from the master and has its call process run them. A call
// that kills its process is reported as that call's failure (crashed, timed_out, out_of_memory)
// and the batch goes on in a new process without it; the master gets one reply per batch.
#include <signal.h>

#include <burla/detail/job_state.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "call_process.hpp"
#include "libburla/core/posix.hpp"
#include "libburla/core/reply.hpp"
#include "messages.hpp"
#include "mpi.hpp"
#include "run_job.hpp"

namespace burla::mpi_runner {
namespace {

using clock = std::chrono::steady_clock;

constexpr auto heartbeat_every = std::chrono::seconds(1);
// The master says it is alive every second; a master silent this long is gone (a pause of the
// master, an HDF5 flush say, never comes near).
constexpr auto master_silent_after = std::chrono::seconds(60);

/// CUDA_VISIBLE_DEVICES for this worker's calls, out of the GPUs the caller found (local backend).
std::string gpus_for(const core::job_spec& spec, int rank) {
  const char* ids = std::getenv("BURLA_GPU_IDS");
  if (spec.func_gpu <= 0 || !ids || !*ids) return {};
  std::vector<std::string> all;
  std::stringstream ss(ids);
  for (std::string id; std::getline(ss, id, ',');) all.push_back(id);
  std::string mine;
  for (int k = 0; k < spec.func_gpu; ++k) {
    const std::size_t i = static_cast<std::size_t>((rank - 1) * spec.func_gpu + k);
    if (i < all.size()) mine += (mine.empty() ? "" : ",") + all[i];
  }
  return "CUDA_VISIBLE_DEVICES=" + mine;
}

/// The reply of a batch whose calls in `faults` killed their process: those calls get the
/// fault's status, what happened and the output they printed.
std::string merge_faults(std::string_view reply, const std::vector<call_fault>& faults,
                         const detail::job_types& types) {
  core::reply_view r = core::parse_reply(reply);
  std::string status(reinterpret_cast<const char*>(r.status), r.head.done);
  std::string results(r.results);
  std::uint32_t last = 0;
  for (const auto& f : faults) last = std::max(last, f.call + 1);
  while (r.head.done < last) {  // the batch stopped at an exception before a faulted call
    status.push_back(static_cast<char>(core::status_skipped));
    core::append_missing_result(results, types);
    ++r.head.done;
  }
  std::vector<core::note> notes = r.notes;
  for (const auto& f : faults) {
    status[f.call] = static_cast<char>(f.status);
    notes.push_back({f.call, core::note_kind::error_type, to_string(f.status)});
    notes.push_back({f.call, core::note_kind::error_what, f.what});
    if (!f.out.empty()) notes.push_back({f.call, core::note_kind::out, f.out});
    if (!f.err.empty()) notes.push_back({f.call, core::note_kind::err, f.err});
  }
  std::string out;
  core::build_reply(out, r.head, status, results, notes);
  return out;
}

/// The batch message again, with the calls in `skip` masked.
std::string current(const batch_view& b, std::string_view skip) {
  std::string again;
  begin_batch(again, b.first, b.count, skip, b.in_file);
  again.append(b.inputs);
  return again;
}

class worker {
 public:
  worker(const core::job_spec& spec, int rank, call_process& calls, const master_address& master)
      : spec_(spec),
        rank_(rank),
        calls_(calls),
        master_(master),
        same_host_(master.host == posix::hostname()) {
    calls_.set_environment(gpus_for(spec, rank));
  }

  int run() {
    mpi::backoff wait;
    while (!stopped_) {
      if (mpi::try_receive(0, tag_stop)) break;  // checked first: queued batches are skipped
      auto m = mpi::try_receive(0, tag_batch);
      if (!m) {
        watch_master();
        wait.idle();
        continue;
      }
      heard_from_master_ = clock::now();
      wait.reset();
      run_batch(std::move(m->data));
    }
    calls_.kill();
    acknowledge_stop();
    return 0;
  }

  /// Takes in the batches still queued for this worker, then tells the master it stopped: the
  /// master's sends of large batches complete only when received. It sent them all before "stop",
  /// and with Open MPI's ob1 they have all arrived by then (the master's drain has a deadline for
  /// transports where they might not have).
  void acknowledge_stop() {
    while (mpi::try_receive(0, tag_batch)) {
    }
    to_master(tag_stopped, {});
  }

  /// A send to a master that died never completes (TCP to a lost node, a killed rank 0 on
  /// another host): the worker sends without blocking and watches the master meanwhile.
  void to_master(int tag, std::string data) {
    mpi::outbox out;
    out.send(0, tag, std::move(data));
    // A large reply is sent when the master takes it, maybe after writing others to disk: the
    // wait sleeps, leaving the core to the master and the call processes.
    mpi::backoff wait;
    for (out.progress(); !out.empty(); out.progress()) {
      watch_master();
      wait.idle();
    }
    calls_.recycle(out.reuse());  // the next reply is read into it
  }

  /// After a fatal error: the master's stop, which a dead master never sends.
  void await_stop() {
    mpi::backoff wait;
    while (!mpi::try_receive(0, tag_stop)) {
      watch_master();
      wait.idle();
    }
    stopped_ = true;
  }

 private:
  /// Runs one batch to its reply, starting over without each call that kills the process.
  void run_batch(std::string batch) {
    const batch_view b = parse_batch(batch);
    const bool stop_at_failure = !spec_.collect_errors && spec_.max_retries == 0;
    std::vector<call_fault> faults;
    std::string skip(b.skip);
    int deaths_between_calls = 0;
    auto last_beat = clock::now();
    calls_.start(batch);
    const int tick_ms = spec_.func_timeout_ms > 0 || spec_.func_ram > 0 ? 10 : 50;
    for (;;) {
      const auto state = calls_.wait(tick_ms);
      if (state == call_process::state::replied) {
        std::string reply = faults.empty() ? std::move(calls_.message())
                                           : merge_faults(calls_.message(), faults, spec_.types);
        core::set_reply_rank(reply, rank_);
        to_master(tag_reply, std::move(reply));
        return;
      }
      if (state == call_process::state::fatal) {
        to_master(tag_fatal, calls_.message());
        await_stop();
        return;
      }
      if (state == call_process::state::died) {
        const call_fault& f = calls_.fault();
        if (f.signal == SIGTERM && stop_arrives()) {  // the job is being stopped: no call failed
          calls_.kill();
          stopped_ = true;
          return;
        }
        if (f.call >= b.count) {
          // Between calls (killed from outside, or descriptors closed by a call, which the
          // next run finds): no call to blame, so the batch runs again in a new process, a few
          // times before the job stops.
          if (++deaths_between_calls > 3) {
            to_master(tag_fatal, "Erank " + std::to_string(rank_) + ": the call process died between calls " +
                                     std::to_string(deaths_between_calls) +
                                     " times in one batch; last: " + f.what);
            await_stop();
            return;
          }
          calls_.start(current(b, skip), /*again=*/true);
          continue;
        }
        if (!faults.empty() && faults.back().call == f.call) {
          // Twice in the same call, which was masked: its process cannot be trusted.
          to_master(tag_fatal, "Erank " + std::to_string(rank_) +
                                   ": the call process died twice at the same call: " + f.what);
          await_stop();
          return;
        }
        faults.push_back(f);
        if (skip.empty()) skip.assign(b.count, '\0');
        skip[f.call] = 1;
        if (stop_at_failure)  // the job stops at this failure: only the calls before it are needed
          std::fill(skip.begin() + f.call + 1, skip.end(), '\1');
        calls_.start(current(b, skip),
                     /*again=*/true);  // in a new process: the calls before the crash run again
        continue;
      }
      if (clock::now() - last_beat > heartbeat_every) {
        last_beat = clock::now();
        to_master(tag_heartbeat, {});
        watch_master();
      }
      if (mpi::try_receive(0, tag_stop)) {  // the job stops: calls in flight are abandoned
        calls_.kill();
        stopped_ = true;
        return;
      }
    }
  }

  /// A call process killed by SIGTERM, which burla never sends: Slurm's scancel sends it to every
  /// process of the job, this rank and the master too, in no set order. Waiting a moment lets
  /// the stop arrive (this rank ends, or the master says stop) before the call is reported as
  /// crashed: reported first, it reached a master not yet told and failed the call
  /// (Faults.AResumedRunPrintsOnlyWhatItsOwnCallsPrint on Slurm). Other senders cost 1 s.
  bool stop_arrives() {
    const auto until = clock::now() + std::chrono::seconds(1);
    mpi::backoff wait;
    while (clock::now() < until) {
      if (mpi::try_receive(0, tag_stop)) return true;
      watch_master();
      wait.idle();
    }
    return false;
  }

  /// A job whose master died would hang with its workers waiting: they end it instead (resume
  /// finishes it). On the master's host its pid tells at once; elsewhere its silence does.
  void watch_master() {
    const auto now = clock::now();
    if (now - last_watch_ < std::chrono::seconds(1)) return;
    last_watch_ = now;
    while (mpi::try_receive(0, tag_alive)) heard_from_master_ = now;
    const bool gone = (same_host_ && master_.pid > 0 && ::kill(master_.pid, 0) != 0 && errno == ESRCH) ||
                      now - heard_from_master_ > master_silent_after;
    if (!gone) return;
    std::fprintf(stderr,
                 "burla: rank %d: the master (rank 0, pid %d on %s) is gone, so the job ends here; "
                 "resume it to run what is left\n",
                 rank_, master_.pid, master_.host.c_str());
    std::fflush(stderr);
    calls_.kill();
    mpi::abort(3);
  }

  const core::job_spec& spec_;
  int rank_;
  call_process& calls_;
  master_address master_;
  bool same_host_;
  bool stopped_ = false;
  clock::time_point heard_from_master_ = clock::now(), last_watch_{};
};

}  // namespace

int run_worker(const core::job_spec& spec, int rank, call_process& calls, const master_address& master) {
  posix::set_signal_handler(SIGUSR1, SIG_IGN);  // the walltime warning is for the master
  return worker(spec, rank, calls, master).run();
}

}  // namespace burla::mpi_runner
