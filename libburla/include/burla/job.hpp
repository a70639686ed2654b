// burla::job<R>: a started job (Burla's background=True), its results, and a stream of results
// in the order they finish (Burla's generator=True).
#pragma once

#include <burla/detail/job_state.hpp>
#include <burla/error.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace burla {

/// How one input ended: its status, its result if it has one, why it failed if it did.
template <class R>
struct outcome {
  call_status status = call_status::not_run;
  std::optional<std::conditional_t<std::is_void_v<R>, std::monostate, R>> value;  ///< when ok
  std::optional<remote_error::details> error;  ///< when it failed (threw, crashed, timed out...)
  bool ok() const { return status == call_status::ok; }
};

template <class R>
class job {
  using stored = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

 public:
  /// What stream() yields: (index, result), or the index alone for functions returning void.
  using item = std::conditional_t<std::is_void_v<R>, std::size_t, std::pair<std::size_t, stored>>;

  job() = default;
  explicit job(std::shared_ptr<detail::job_state> state) : impl_(std::make_shared<impl>()) {
    impl_->state = std::move(state);
    impl_->values.resize(impl_->state->size());
    impl_->have.resize(impl_->state->size());
  }

  /// The job's id (its directory's name); empty for a job with no inputs.
  std::string id() const { return impl_ ? impl_->state->id() : std::string(); }
  /// The job directory (inputs, job.ini, job.log, results.h5).
  std::string directory() const { return impl_ ? impl_->state->directory() : std::string(); }

  /// Waits until the job ends; throws burla::remote_error if a call threw, burla::job_error if the
  /// job itself failed.
  void wait() {
    if (!impl_) return;
    detail::ctrl_c_guard waiting;  // held between batches too: Ctrl-C cancels the job (docs/usage.md)
    while (pump()) {
    }
    impl_->state->finish();
  }

  /// All results in input order (nothing for R = void). Waits for the job.
  auto results() & { return collect(false); }
  /// The same, handing the results over (what remote_parallel_map does).
  auto results() && { return collect(true); }

  /// Every input's outcome, in input order; waits for the job. Failed calls are reported here,
  /// not thrown (use on_error = collect to run every input); an error of the job itself (it was
  /// killed, cancelled or interrupted) is thrown.
  std::vector<outcome<R>> outcomes() {
    std::vector<outcome<R>> out;
    if (!impl_) return out;
    detail::ctrl_c_guard waiting;
    while (pump()) {
    }
    impl_->state->finish(false);
    const auto& status = impl_->state->statuses();
    out.resize(status.size());
    for (std::size_t i = 0; i < status.size(); ++i) {
      out[i].status = static_cast<call_status>(status[i]);
      if (out[i].ok() && impl_->have[i]) out[i].value = impl_->values[i];
      if (const auto* f = impl_->state->failure(i)) out[i].error = *f;
    }
    return out;
  }

  /// Stops the job. Results already computed stay in its results.h5.
  void cancel() {
    if (impl_) impl_->state->cancel();
  }

  class stream_range;
  /// Results as calls finish, long before the last one does. Ends by throwing the job's error
  /// if it failed. Each result is handed over, not kept for results().
  stream_range stream() {
    if (impl_) impl_->streamed = true;
    return stream_range(impl_);  // shares the state: streaming a temporary job is fine
  }

 private:
  struct impl {
    std::shared_ptr<detail::job_state> state;
    std::vector<stored> values;      // handed over by results() && without a copy
    std::vector<std::uint8_t> have;  // values[i] holds input i's result
    std::deque<std::size_t> fresh;   // finished, not yet streamed
    bool streamed = false;
  };

  // Takes in one more batch of finished calls; false once the job has ended.
  static bool pump(impl& s) {
    detail::finished_batch b;
    if (!s.state->next(b)) return false;
    detail::byte_reader in(b.results, "the results of a batch");
    // Fixed-size results lie end to end: copied straight into place (bools are checked one by one).
    bool raw = false;
    if constexpr (!std::is_void_v<R> && !std::is_same_v<R, bool> && std::is_trivially_copyable_v<R>) {
      raw = detail::fixed_size<R>() == sizeof(R) && b.results.size() >= std::size_t{b.count} * sizeof(R);
      // A batch of trivial calls that all succeeded: one copy, not one a call.
      std::uint8_t differ = 1;
      if (raw && !s.streamed && b.count > 0) {
        differ = 0;  // no early exit: the loop vectorizes
        for (std::uint32_t k = 0; k < b.count; ++k)
          differ |=
              static_cast<std::uint8_t>(b.status[k] ^ static_cast<std::uint8_t>(detail::call_status::ok));
      }
      if (differ == 0) {
        std::memcpy(static_cast<void*>(&s.values[b.first]), b.results.data(),
                    std::size_t{b.count} * sizeof(R));
        std::memset(s.have.data() + b.first, 1, b.count);
        return true;
      }
    }
    for (std::uint32_t k = 0; k < b.count; ++k) {
      const std::size_t index = b.first + k;
      const bool ok = b.status[k] == static_cast<std::uint8_t>(detail::call_status::ok);
      if constexpr (!std::is_void_v<R>) {
        if constexpr (!std::is_same_v<R, bool> && std::is_trivially_copyable_v<R>) {
          if (raw && ok)
            std::memcpy(static_cast<void*>(&s.values[index]), b.results.data() + k * sizeof(R), sizeof(R));
        }
        if (!raw) {
          try {
            R value = detail::decode_value<R>(in);
            if (ok) s.values[index] = std::move(value);
          } catch (const error& e) {  // say where the damaged bytes are
            throw error(std::string(e.what()) + " (the result of input " + std::to_string(index) + " in " +
                        s.state->directory() + "/journal)");
          }
        }
      }
      if (ok) s.have[index] = 1;
      if (ok && s.streamed) s.fresh.push_back(index);
    }
    return true;
  }
  bool pump() { return pump(*impl_); }

  auto collect(bool move) {
    wait();
    if constexpr (!std::is_void_v<R>) {
      std::vector<R> out;
      if (!impl_) return out;
      if (impl_->streamed)
        throw error(
            "burla: results() after stream(): stream() hands each result over and keeps "
            "none; collect them from the stream instead");
      for (std::size_t i = 0; i < impl_->have.size(); ++i)
        if (!impl_->have[i])
          throw error("burla: job " + id() + " ended without a result for input " + std::to_string(i) +
                      "; see " + directory());
      if (!move) return impl_->values;
      out = std::move(impl_->values);
      impl_->values = {};  // nothing left to hand over
      impl_->have.assign(out.size(), 0);
      return out;
    }
  }

  std::shared_ptr<impl> impl_;

 public:
  class stream_range {
   public:
    class iterator {
     public:
      using value_type = item;
      using difference_type = std::ptrdiff_t;
      iterator() = default;
      explicit iterator(stream_range* r) : r_(r) {}
      const item& operator*() const { return *r_->current_; }
      const item* operator->() const { return &*r_->current_; }
      iterator& operator++() {
        r_->advance();
        return *this;
      }
      void operator++(int) { ++*this; }
      bool operator==(std::default_sentinel_t) const { return !r_ || !r_->current_; }

     private:
      stream_range* r_ = nullptr;
    };

    explicit stream_range(std::shared_ptr<impl> s) : s_(std::move(s)) {}
    iterator begin() {
      if (!started_) {
        started_ = true;
        advance();
      }
      return iterator(this);
    }
    std::default_sentinel_t end() const { return {}; }

   private:
    void advance() {
      current_.reset();
      if (!s_) return;
      detail::ctrl_c_guard waiting;  // not between items: the loop's body is the program's
      while (s_->fresh.empty()) {
        if (!pump(*s_)) {
          s_->state->finish();  // throws the job's error, if any
          return;
        }
      }
      const std::size_t index = s_->fresh.front();
      s_->fresh.pop_front();
      if constexpr (std::is_void_v<R>) {
        current_.emplace(index);
      } else {
        current_.emplace(index, std::move(s_->values[index]));
        s_->values[index] = stored{};
        s_->have[index] = 0;
      }
    }

    std::shared_ptr<impl> s_;
    bool started_ = false;
    std::optional<item> current_;
  };
};

}  // namespace burla
