#include "scheduler.hpp"

#include <cmath>

namespace burla::runner {

scheduler::scheduler(std::uint64_t n_units, std::uint64_t items_per_unit, int workers, tuning t)
    : n_units_(n_units), items_per_unit_(std::max<std::uint64_t>(items_per_unit, 1)),
      workers_(std::max(workers, 1)), tuning_(t) {}

std::uint64_t scheduler::next_batch() {
  const std::uint64_t left = remaining();
  if (left == 0) return 0;
  std::uint64_t size;
  if (per_call_ < 0) {
    size = probe_size_;
    probe_size_ = std::min<std::uint64_t>(probe_size_ * 2, 1024);
  } else {
    const double per_unit = std::max(per_call_ * static_cast<double>(items_per_unit_), 1e-9);
    size = static_cast<std::uint64_t>(std::max(1.0, tuning_.target_seconds / per_unit));
  }
  // Guided cap: never more than a share of what is left, so the last batches are small.
  const std::uint64_t share = 2ull * static_cast<std::uint64_t>(workers_) * tuning_.in_flight;
  const std::uint64_t guided = std::max<std::uint64_t>(1, (left + share - 1) / share);
  size = std::min({size, guided, tuning_.max_units, left});
  handed_out_ += size;
  return size;
}

void scheduler::record(std::uint64_t calls, double seconds) {
  if (calls == 0) return;
  const double sample = seconds / static_cast<double>(calls);
  per_call_ = per_call_ < 0 ? sample : 0.7 * per_call_ + 0.3 * sample;
}

}  // namespace burla::runner
