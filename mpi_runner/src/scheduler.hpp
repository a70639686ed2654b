// How many inputs the master hands a worker at once. No knob: batches aim at a fixed duration,
// measured as the job runs, so trivial calls travel by the thousand and long calls one by one;
// near the end batches shrink (guided self-scheduling) so that workers finish together, but not
// below a fraction of a millisecond of work: shorter batches cost more in round trips than they
// gain in balance.
#pragma once

#include <algorithm>
#include <cstdint>

namespace burla::mpi_runner {

class scheduler {
 public:
  struct tuning {
    double target_seconds = 0.01;  ///< aimed duration of one batch
    double floor_seconds = 5e-4;   ///< the shortest batch worth a round trip
    int in_flight = 3;             ///< batches queued per worker
    std::uint64_t max_units = 1u << 20;
  };

  scheduler(std::uint64_t n_units, std::uint64_t items_per_unit, int workers, tuning t);
  scheduler(std::uint64_t n_units, std::uint64_t items_per_unit, int workers)
      : scheduler(n_units, items_per_unit, workers, tuning{}) {}

  /// Units for the next batch; 0 when all are handed out.
  std::uint64_t next_batch();
  /// Units handed out by next_batch() that were not used after all.
  void give_back(std::uint64_t units) { handed_out_ -= std::min(units, handed_out_); }
  /// A batch finished: `calls` calls took `seconds`.
  void record(std::uint64_t calls, double seconds);

  std::uint64_t remaining() const { return n_units_ - handed_out_; }
  int in_flight() const { return tuning_.in_flight; }
  /// Seconds per call, once measured (< 0 before).
  double seconds_per_call() const { return calls_ ? seconds_ / static_cast<double>(calls_) : -1; }

 private:
  std::uint64_t n_units_;
  std::uint64_t items_per_unit_;
  int workers_;
  tuning tuning_;
  std::uint64_t handed_out_ = 0;
  std::uint64_t calls_ = 0;  // measured so far
  double seconds_ = 0;
};

}  // namespace burla::mpi_runner
