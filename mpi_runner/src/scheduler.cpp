#include "scheduler.hpp"

namespace burla::mpi_runner {

scheduler::scheduler(std::uint64_t n_units, std::uint64_t items_per_unit, int workers, tuning t)
    : n_units_(n_units),
      items_per_unit_(std::max<std::uint64_t>(items_per_unit, 1)),
      workers_(std::max(workers, 1)),
      tuning_(t) {}

std::uint64_t scheduler::next_batch() {
  const std::uint64_t left = remaining();
  if (left == 0) return 0;
  // Until a reply has measured the calls, one unit per batch: a worker's first batches must
  // not hold work that others could do.
  std::uint64_t size = 1;
  if (calls_ > 0) {
    const double per_unit = std::max(seconds_per_call() * static_cast<double>(items_per_unit_), 1e-9);
    auto units_for = [&](double seconds) {
      return static_cast<std::uint64_t>(std::max(1.0, std::min(seconds / per_unit, 1e15)));
    };
    // Guided: never more than a share of what is left, so the last batches are small...
    const std::uint64_t share = 2ull * static_cast<std::uint64_t>(workers_) * tuning_.in_flight;
    const std::uint64_t guided = (left + share - 1) / share;
    // ...but not so small that round trips cost more than the imbalance they avoid.
    size = std::min(units_for(target_seconds()), std::max(guided, units_for(floor_seconds())));
  }
  size = std::min({size, tuning_.max_units, left});
  handed_out_ += size;
  return size;
}

double scheduler::target_seconds() const {
  return std::max(tuning_.target_seconds, 4 * workers_ * tuning_.master_seconds_per_batch);
}

double scheduler::floor_seconds() const {
  return std::max(tuning_.floor_seconds, 2 * workers_ * tuning_.master_seconds_per_batch);
}

int scheduler::in_flight() const {
  if (calls_ == 0) return 1;  // unmeasured: what a worker holds, another could be running
  const double per_unit = seconds_per_call() * static_cast<double>(items_per_unit_);
  if (per_unit >= tuning_.long_call_seconds) return 1;
  if (per_unit >= target_seconds()) return std::min(tuning_.in_flight, 2);  // one queued hides the trip
  return tuning_.in_flight;
}

void scheduler::record(std::uint64_t calls, double seconds) {
  // A running average weighted by calls: the first, cold call (page faults, lazy binding)
  // stops mattering after the next large batch.
  calls_ += calls;
  seconds_ += seconds;
}

}  // namespace burla::mpi_runner
