// How many inputs the master hands a worker at once. No knob: batches aim at a fixed duration,
// measured as the job runs, so trivial calls travel by the thousand and long calls one by one;
// near the end batches shrink (guided self-scheduling) so that workers finish together.
#pragma once

#include <algorithm>
#include <cstdint>

namespace burla::runner {

class scheduler {
 public:
  struct tuning {
    double target_seconds = 0.01;  ///< aimed duration of one batch
    int in_flight = 3;             ///< batches queued per worker
    std::uint64_t max_units = 1u << 20;
  };

  scheduler(std::uint64_t n_units, std::uint64_t items_per_unit, int workers, tuning t);
  scheduler(std::uint64_t n_units, std::uint64_t items_per_unit, int workers)
      : scheduler(n_units, items_per_unit, workers, tuning{}) {}

  /// Units for the next batch; 0 when all are handed out.
  std::uint64_t next_batch();
  /// A batch finished: `calls` calls took `seconds`.
  void record(std::uint64_t calls, double seconds);

  std::uint64_t remaining() const { return n_units_ - handed_out_; }
  int in_flight() const { return tuning_.in_flight; }
  /// Seconds per call, once measured.
  double seconds_per_call() const { return per_call_; }

 private:
  std::uint64_t n_units_;
  std::uint64_t items_per_unit_;
  int workers_;
  tuning tuning_;
  std::uint64_t handed_out_ = 0;
  std::uint64_t probe_size_ = 1;  // before the first measurement: 1, 2, 4, ...
  double per_call_ = -1;          // seconds, EWMA; < 0: not measured yet
};

}  // namespace burla::runner
