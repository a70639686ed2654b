// What the master hands out, and to whom: the plan of a run (everything, or what a resumed run
// still has to do), the batches each worker holds, retries of failed calls on another worker,
// and the batches of a worker that died. No MPI here: the master sends what this decides.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "scheduler.hpp"

namespace burla::mpi_runner {

/// How inputs group into units (what is dispatched): one input each for fixed-size inputs,
/// one segment of items_per_unit inputs for serialized ones.
struct unit_layout {
  std::uint64_t n_inputs = 0;
  std::uint64_t items_per_unit = 1;
  std::uint64_t max_units_per_batch = 1u << 20;
  std::uint64_t units() const { return (n_inputs + items_per_unit - 1) / items_per_unit; }
  std::uint64_t first_item(std::uint64_t unit) const {
    return unit < units() ? unit * items_per_unit : n_inputs;
  }
  std::uint64_t unit_of(std::uint64_t item) const { return item / items_per_unit; }
};

/// A range of units to dispatch; `skip` (one byte per input of the range, or empty) marks
/// inputs not to run: done before a resume, or the rest of a segment around a retried input.
struct work_item {
  std::uint64_t unit = 0, units = 0;
  std::string skip;
  bool operator==(const work_item&) const = default;
};

class work_queue {
 public:
  /// status: each input's outcome so far (the journal fold's); a run does the inputs without
  /// one, and with rerun_failed those that failed. Workers are ranks 1..workers.
  work_queue(unit_layout layout, const std::vector<std::uint8_t>& status, bool rerun_failed, int workers,
             int max_retries, scheduler::tuning tuning = {});

  /// Inputs this run has to give an outcome.
  std::uint64_t todo() const { return todo_; }
  /// The next batch for worker w, if it holds fewer than `depth` and may take one more: a
  /// retry that failed elsewhere first, then work of a dead worker, then planned work. Records
  /// it as held by w.
  std::optional<work_item> next(int w, int depth);
  /// Batches a worker may hold now (the scheduler's).
  int in_flight() const { return sched_->in_flight(); }
  /// The first input of a work item.
  std::uint64_t first_input(const work_item& item) const { return layout_.first_item(item.unit); }
  std::uint64_t inputs_in(const work_item& item) const {
    return layout_.first_item(item.unit + item.units) - first_input(item);
  }
  /// Worker w answered the batch starting at `first`: true if that is the oldest batch it
  /// holds (workers answer in order); false for a reply of nothing it holds (a second reply),
  /// which must be ignored.
  bool answered(int w, std::uint64_t first, std::uint64_t calls, double seconds);
  /// A failed call of input idx on worker w: true if it runs again (max_retries), on another
  /// worker where possible.
  bool retry(std::uint64_t idx, int w);
  /// Worker w is gone: what it held goes to the others once. Returns the inputs lost a second
  /// time, which fail (worker_lost).
  std::vector<std::uint64_t> worker_died(int w);
  bool holds_work(int w) const { return !held_[w].empty(); }
  bool alive(int w) const { return !dead_[w]; }
  int live_workers() const;

 private:
  struct held_batch {
    std::uint64_t first = 0;
    work_item w;
  };
  void plan(const std::vector<std::uint8_t>& status, bool rerun_failed);
  std::optional<work_item> take(int w);
  work_item single(std::uint64_t idx) const;

  unit_layout layout_;
  int max_retries_;
  std::vector<std::deque<held_batch>> held_;  // by rank; [0] unused
  std::vector<bool> dead_;
  std::deque<work_item> planned_, requeued_;
  std::deque<std::pair<std::uint64_t, int>> retries_;  // input, the rank it failed on
  std::unordered_map<std::uint64_t, int> tries_;       // per input: retries in this run
  std::unordered_map<std::uint64_t, int> lost_;        // per input: workers that died holding it
  std::uint64_t planned_units_ = 0, todo_ = 0;
  std::optional<scheduler> sched_;
};

}  // namespace burla::mpi_runner
