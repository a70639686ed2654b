#include "work_queue.hpp"

#include <algorithm>

namespace burla::mpi_runner {

work_queue::work_queue(unit_layout layout, const std::vector<std::uint8_t>& status, bool rerun_failed,
                       int workers, int max_retries, scheduler::tuning tuning)
    : layout_(layout),
      max_retries_(max_retries),
      held_(static_cast<std::size_t>(workers) + 1),
      dead_(static_cast<std::size_t>(workers) + 1, false) {
  plan(status, rerun_failed);
  tuning.max_units = layout_.max_units_per_batch;
  sched_.emplace(planned_units_, layout_.items_per_unit, workers, tuning);
}

void work_queue::plan(const std::vector<std::uint8_t>& status, bool rerun_failed) {
  constexpr std::uint8_t not_run = 0, ok = 1;  // call_status
  const std::uint64_t units = layout_.units();
  if (std::all_of(status.begin(), status.end(), [](std::uint8_t st) { return st == not_run; })) {
    if (units > 0) planned_.push_back({0, units, {}});  // a new job: no need to look at each unit
    planned_units_ = units;
    todo_ = layout_.n_inputs;
    return;
  }
  auto wanted = [&](std::uint64_t i) { return status[i] == not_run || (rerun_failed && status[i] != ok); };
  for (std::uint64_t u = 0; u < units; ++u) {
    const std::uint64_t a = layout_.first_item(u), b = layout_.first_item(u + 1);
    std::uint64_t n = 0;
    for (std::uint64_t i = a; i < b; ++i) n += wanted(i) ? 1 : 0;
    if (n == 0) continue;
    todo_ += n;
    if (n < b - a) {
      std::string skip;
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

int work_queue::live_workers() const {
  return static_cast<int>(std::count(dead_.begin() + 1, dead_.end(), false));
}

std::optional<work_item> work_queue::next(int w, int depth) {
  if (dead_[w] || static_cast<int>(held_[w].size()) >= std::min(depth, sched_->in_flight()))
    return std::nullopt;
  std::optional<work_item> item = take(w);
  if (item) held_[w].push_back({first_input(*item), *item});
  return item;
}

std::optional<work_item> work_queue::take(int w) {
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
    work_item out{p.unit, k, p.skip};  // masked entries are one unit
    p.unit += k;
    p.units -= k;
    return out;
  }
  return std::nullopt;
}

work_item work_queue::single(std::uint64_t idx) const {
  const std::uint64_t u = layout_.unit_of(idx);
  work_item out{u, 1, {}};
  const std::uint64_t a = layout_.first_item(u), b = layout_.first_item(u + 1);
  if (b - a > 1) {
    out.skip.assign(b - a, 1);
    out.skip[idx - a] = 0;
  }
  return out;
}

bool work_queue::answered(int w, std::uint64_t first, std::uint64_t calls, double seconds) {
  auto& held = held_[w];
  if (held.empty() || held.front().first != first) return false;
  held.pop_front();
  sched_->record(calls, seconds);
  return true;
}

bool work_queue::retry(std::uint64_t idx, int w) {
  int& tries = tries_[idx];
  if (tries >= max_retries_) return false;
  ++tries;
  retries_.emplace_back(idx, w);
  return true;
}

std::vector<std::uint64_t> work_queue::worker_died(int w) {
  dead_[w] = true;
  std::vector<std::uint64_t> failed;
  for (held_batch& h : held_[w]) {
    const std::uint64_t n = inputs_in(h.w);
    bool any = false;
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!h.w.skip.empty() && h.w.skip[i]) continue;
      const std::uint64_t idx = h.first + i;
      if (++lost_[idx] < 2) {
        any = true;
        continue;
      }
      failed.push_back(idx);
      if (h.w.skip.empty()) h.w.skip.assign(n, 0);
      h.w.skip[i] = 1;
    }
    if (any) requeued_.push_back(std::move(h.w));
  }
  held_[w].clear();
  return failed;
}

}  // namespace burla::mpi_runner
