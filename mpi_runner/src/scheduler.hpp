// How many inputs the master hands a worker at once, and how many batches a worker may hold.
// No knob: batches aim at a duration, measured as the job runs, so trivial calls travel by the
// thousand and long calls one by one; near the end batches shrink (guided self-scheduling) so
// that workers finish together, but not below a floor: shorter batches cost more in round trips
// than they gain in balance. Both grow with the worker count, so that one master keeps thousands
// of workers busy (its CPU goes per batch: bench/capacity.sh). A worker holds one batch until
// calls are measured, and then more only where calls are short enough that a round trip matters.
#pragma once

#include <algorithm>
#include <cstdint>

namespace burla::mpi_runner {

class scheduler {
 public:
  struct tuning {
    double target_seconds = 0.01;  ///< aimed duration of one batch
    double floor_seconds = 5e-4;   ///< the shortest batch worth a round trip
    int in_flight = 3;             ///< batches queued per worker, for short calls
    /// Calls at least this long are not queued behind another: the round trip is small beside them.
    double long_call_seconds = 0.02;
    /// The master's CPU per batch (bench/capacity.sh measured 60-170 us), which sizes batches so
    /// that it is busy at most a quarter of the time (half near the end).
    double master_seconds_per_batch = 1e-4;
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
  /// Batches a worker may hold now.
  int in_flight() const;
  /// The aimed batch duration and the shortest batch, for this many workers.
  double target_seconds() const;
  double floor_seconds() const;
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
