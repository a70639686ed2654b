#include "journal_fold.hpp"

#include <cstring>
#include <set>

namespace burla::core {
namespace {

constexpr auto ok_status = static_cast<std::uint8_t>(call_status::ok);
constexpr auto not_run = static_cast<std::uint8_t>(call_status::not_run);
static_assert(not_run == 0);

std::string tail_of_text(const std::string& text, std::size_t max_chars) {
  return text.size() <= max_chars ? text : "..." + text.substr(text.size() - max_chars);
}

}  // namespace

journal_fold::journal_fold(const job_spec& spec, std::string journal_path, bool keep_failures)
    : n_inputs_(spec.n_inputs),
      run_(static_cast<std::uint32_t>(spec.run)),
      path_(std::move(journal_path)),
      keep_failures_(keep_failures),
      status_(spec.n_inputs, not_run),
      attempts_(spec.n_inputs, 0) {}

void journal_fold::apply(const start_record& r) {
  hosts_ = r.hosts;
  current_run_ = r.run == run_;
  started_ = current_run_;
  outstanding_.clear();  // batches of an earlier run that was killed
}

void journal_fold::apply(const dispatch_record& r) {
  if (current_run_) outstanding_[r.first] = r;
}

void journal_fold::apply(const end_record& r) {
  if (r.run == run_) end_ = r;
}

journal_fold::batch_change journal_fold::apply(const record& r) {
  if (const auto* reply = std::get_if<reply_view>(&r)) return apply(*reply);
  std::visit(
      [this](const auto& x) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(x)>, reply_view>) apply(x);
      },
      r);
  return {};
}

journal_fold::batch_change journal_fold::apply(const reply_view& r) {
  const std::uint64_t first = r.head.first;
  if (first > n_inputs_ || r.head.done > n_inputs_ - first)
    throw error("burla: the journal " + path_ + " is damaged: a batch names inputs past the last (" +
                std::to_string(n_inputs_) + "); its results.h5 has what was saved");
  outstanding_.erase(first);
  batch_change out;
  std::uint8_t* status = status_.data() + first;
  std::uint8_t* attempts = attempts_.data() + first;
  // The hot path, a million trivial calls: a batch whose calls all succeeded, for the first time.
  std::uint8_t differ = 0;  // no early exit: the loops vectorize
  for (std::uint32_t i = 0; i < r.head.done; ++i)
    differ |= static_cast<std::uint8_t>((r.status[i] ^ ok_status) | status[i]);
  if (differ == 0) {
    for (std::uint32_t i = 0; i < r.head.done; ++i)
      attempts[i] = static_cast<std::uint8_t>(attempts[i] + (attempts[i] < 255));
    std::memset(status, ok_status, r.head.done);
    ok_ += r.head.done;
    out.settled = r.head.done;
    return out;
  }
  for (std::uint32_t i = 0; i < r.head.done; ++i) {
    const std::uint8_t st = r.status[i];
    if (st == status_skipped) continue;
    attempts[i] = static_cast<std::uint8_t>(attempts[i] + (attempts[i] < 255));
    if (st != ok_status) {
      fail(r, i, out);
      continue;
    }
    ++out.settled;
    if (status[i] == ok_status) continue;
    if (status[i] != not_run) --failed_, failures_.erase(first + i);  // a later run fixed it
    ++ok_;
    status[i] = ok_status;
  }
  return out;
}

void journal_fold::fail(const reply_view& r, std::uint32_t i, batch_change& out) {
  const std::uint8_t st = r.status[i];
  const std::uint64_t index = r.head.first + i;
  if (st == status_retrying) {
    if (keep_failures_ && current_run_) out.retried.push_back(details(r, i));
    return;
  }
  if (!is_call_status(st) || st == not_run)
    throw error("burla: the journal " + path_ + " is damaged: input " + std::to_string(index) +
                " has status byte " + std::to_string(st) + "; its results.h5 has what was saved");
  ++out.settled;
  if (!out.first_failed) out.first_failed = index;
  if (status_[index] == not_run) ++failed_;
  if (status_[index] == ok_status) --ok_, ++failed_;
  status_[index] = st;
  if (!keep_failures_) return;
  remote_error::details d = details(r, i);
  if (current_run_ && !first_failure_) first_failure_ = d;
  failures_[index] = std::move(d);
}

remote_error::details journal_fold::details(const reply_view& r, std::uint32_t i) const {
  remote_error::details d;
  d.index = r.head.first + i;
  const std::uint8_t st = r.status[i];
  d.status = is_call_status(st) && st != not_run && st != ok_status ? static_cast<call_status>(st)
                                                                    : call_status::failed;
  d.attempts = attempts_[d.index];
  d.rank = r.head.rank;
  if (r.head.rank >= 0 && static_cast<std::size_t>(r.head.rank) < hosts_.size()) d.host = hosts_[r.head.rank];
  std::string output;
  for (const auto& n : r.notes) {
    if (n.item != i) continue;
    if (n.kind == note_kind::error_type) d.type = n.text;
    if (n.kind == note_kind::error_what) d.what = n.text;
    if (n.kind == note_kind::out || n.kind == note_kind::err) output += n.text;
  }
  d.output_tail = tail_of_text(output, 2000);
  // A failed attempt that runs again carries status_retrying; its kind is in the error type the
  // worker wrote for it (a call that crashed did not throw "crashed").
  if (st == status_retrying)
    for (std::uint8_t k = static_cast<std::uint8_t>(call_status::crashed); is_call_status(k); ++k)
      if (d.type == to_string(static_cast<call_status>(k))) d.status = static_cast<call_status>(k);
  return d;
}

std::size_t journal_fold::busy_workers() const {
  std::set<std::int32_t> busy;
  for (const auto& [first, d] : outstanding_) busy.insert(d.rank);
  return busy.size();
}

}  // namespace burla::core
