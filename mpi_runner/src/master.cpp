// Rank 0: a dynamic work queue. Reads inputs from the job directory batch by batch, keeps a few
// batches in flight per worker, writes every reply to the journal (for the caller) and to
// results.h5 as it arrives, and stops everyone at the first failed call.
#include <fcntl.h>

#include <burla/detail/job_state.hpp>
#include <chrono>
#include <deque>

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

class master {
 public:
  master(const detail::job_spec& spec, const std::string& dir, const std::vector<std::string>& hosts)
      : spec_(spec),
        dir_(dir),
        journal_(dir + "/journal"),
        inputs_(dir, spec),
        sched_(inputs_.units(), inputs_.items_per_unit(), static_cast<int>(hosts.size()) - 1,
               scheduler::tuning{.max_units = inputs_.max_units_per_batch()}),
        in_flight_(hosts.size(), 0) {
    journal_.append(proto::record_type::start, proto::encode(proto::start_record{hosts}));
    results_.emplace(dir + "/results.h5", spec, hosts);
  }

  int run() {
    guarded([&] { work(); });  // e.g. HDF5 or the disk: stop, and say why in results.h5
    return stop_all();
  }

 private:
  void work() {
    auto last_flush = clock::now();
    auto last_check = clock::now();
    mpi::backoff wait;
    while (!stopping_ && finished_ < spec_.n_inputs) {
      dispatch();
      outbox_.progress();
      if (auto m = mpi::try_receive(MPI_ANY_SOURCE, MPI_ANY_TAG)) {
        handle(*m);
        wait.reset();
      } else {
        wait.idle();
      }
      if (clock::now() - last_check > check_every) {
        last_check = clock::now();
        if (posix::exists(dir_ + "/cancel")) {  // the caller (or `burla cancel`) asked to stop
          stopping_ = true;
          end_.state = proto::end_state::cancelled;
          end_.message = "cancelled";
        }
      }
      if (clock::now() - last_flush > flush_every) {
        results_->flush();
        last_flush = clock::now();
      }
    }
  }

  void dispatch() {
    for (int w = 1; w < static_cast<int>(in_flight_.size()); ++w) {
      while (in_flight_[w] < sched_.in_flight() && sched_.remaining() > 0) {
        const std::uint64_t units = sched_.next_batch();
        const std::uint64_t first = inputs_.first_item(next_unit_);
        const std::uint64_t count = inputs_.first_item(next_unit_ + units) - first;
        std::string msg;
        detail::byte_writer out(msg);
        out.put(first);
        out.put(static_cast<std::uint32_t>(count));
        const std::size_t header = msg.size();
        inputs_.read(next_unit_, units, msg);
        if (spec_.types.input_kind == detail::value_kind::fixed)  // while the workers compute
          results_->write_inputs(first, count, std::string_view(msg).substr(header));
        if (next_unit_ == 0) first_dispatch_ = clock::now();
        outbox_.send(w, tag_batch, std::move(msg));
        journal_.append(proto::record_type::dispatch,
                        proto::encode(proto::dispatch_record{first, static_cast<std::uint32_t>(count), w}));
        next_unit_ += units;
        ++in_flight_[w];
      }
    }
  }

  void handle(const mpi::message& m) {
    switch (m.tag) {
      case tag_reply: {
        const proto::reply_view r = proto::parse_reply(m.data);
        journal_.append(proto::record_type::batch, m.data);
        results_->write(r);
        --in_flight_[m.source];
        last_reply_ = clock::now();
        finished_ += r.head.requested;
        sched_.record(r.head.done, static_cast<double>(r.head.elapsed_ns) * 1e-9);
        for (std::uint32_t i = 0; i < r.head.done; ++i) {
          if (r.status[i] == static_cast<std::uint8_t>(detail::call_status::ok)) {
            ++end_.n_ok;
          } else {
            ++end_.n_failed;
            if (!stopping_) {
              stopping_ = true;
              end_.state = proto::end_state::failed;
              end_.message = "input " + std::to_string(r.head.first + i) + " failed; the job stopped";
            }
          }
        }
        break;
      }
      case tag_fatal:  // first byte: 'M' for a build mismatch, 'E' for any other error
        if (!stopping_) {
          end_.state =
              !m.data.empty() && m.data[0] == 'M' ? proto::end_state::mismatch : proto::end_state::error;
          end_.message = "rank " + std::to_string(m.source) + ": " + m.data.substr(m.data.empty() ? 0 : 1);
        }
        stopping_ = true;
        break;
      case tag_stopped:
        stopped_.push_back(m.source);
        break;
      default:
        break;
    }
  }

  int stop_all() {
    const int n_workers = static_cast<int>(in_flight_.size()) - 1;
    for (int w = 1; w <= n_workers; ++w) outbox_.send(w, tag_stop, {});
    const auto deadline = clock::now() + stop_grace;
    mpi::backoff wait;
    while (static_cast<int>(stopped_.size()) < n_workers && clock::now() < deadline) {
      outbox_.progress();
      if (auto m = mpi::try_receive(MPI_ANY_SOURCE, MPI_ANY_TAG)) {
        guarded([&] { handle(*m); });  // replies that arrive now are kept
        wait.reset();
      } else {
        wait.idle();
      }
    }
    const bool all_stopped = static_cast<int>(stopped_.size()) == n_workers;
    end_.n_not_run = spec_.n_inputs - end_.n_ok - end_.n_failed;
    guarded([&] {
      write_remaining_inputs();
      results_->finish(end_,
                       {.work_seconds = std::chrono::duration<double>(last_reply_ - first_dispatch_).count(),
                        .master_peak_rss_kb = peak_rss_kb()});
    });
    journal_.append(proto::record_type::end, proto::encode(end_));
    // A worker that never acknowledged is stuck in a call; sends that never complete would
    // keep MPI_Finalize waiting. The outcome is recorded: end the job.
    if (!all_stopped || !outbox_.drain(10.0)) mpi::abort(0);
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
      stopping_ = true;
      if (end_.state == proto::end_state::completed) {
        end_.state = proto::end_state::error;
        end_.message = std::string("rank 0: ") + e.what();
      } else {
        end_.message += std::string("; then rank 0: ") + e.what();
      }
    }
  }

  /// Inputs never dispatched (the job stopped early) still get their row of /input.
  void write_remaining_inputs() {
    if (spec_.types.input_kind != detail::value_kind::fixed) return;
    std::string bytes;
    for (std::uint64_t u = next_unit_; u < inputs_.units();) {
      const std::uint64_t k = std::min(inputs_.max_units_per_batch(), inputs_.units() - u);
      bytes.clear();
      inputs_.read(u, k, bytes);
      results_->write_inputs(u, k, bytes);
      u += k;
    }
  }

  const detail::job_spec& spec_;
  std::string dir_;
  proto::journal_writer journal_;
  input_file inputs_;
  scheduler sched_;
  std::optional<detail::results_writer> results_;
  mpi::outbox outbox_;
  std::vector<int> in_flight_;
  std::vector<int> stopped_;
  std::uint64_t next_unit_ = 0;
  std::uint64_t finished_ = 0;
  bool stopping_ = false;
  proto::end_record end_;
  clock::time_point first_dispatch_ = clock::now(), last_reply_ = first_dispatch_;
};

}  // namespace

int run_master(const detail::job_spec& spec, const std::string& dir, const std::vector<std::string>& hosts) {
  return master(spec, dir, hosts).run();
}

}  // namespace burla::runner
