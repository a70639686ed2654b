// A worker rank: receives batches, runs the function on each input, replies with results and
// with what each call printed or threw.
#include <cxxabi.h>
#include <sys/prctl.h>

#include <burla/detail/job_state.hpp>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <sstream>
#include <typeinfo>

#include "capture.hpp"
#include "libburla/src/protocol.hpp"
#include "messages.hpp"
#include "mpi.hpp"
#include "run_job.hpp"

namespace burla::runner {
namespace {

using detail::protocol::note;
using detail::protocol::note_kind;

class worker_context final : public detail::batch_context {
 public:
  explicit worker_context(output_capture& capture) : capture_(capture) {}

  void start(std::uint64_t first_index, std::uint32_t n, std::string_view in) {
    first = first_index;
    count = n;
    input = in;
    done = 0;
    results.clear();
    status_.clear();
    status_.reserve(n);
    notes_.clear();
    texts_.clear();
  }

  void call_succeeded(std::uint32_t i) override {
    status_.push_back(static_cast<char>(detail::call_status::ok));
    if (capture_.collect(out_, err_)) keep_output(i);
  }

  void call_failed(std::uint32_t i, std::exception_ptr e) override {
    status_.push_back(static_cast<char>(detail::call_status::failed));
    capture_.collect(out_, err_);
    keep_output(i);
    std::string type, what;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      type = detail::demangle(typeid(ex).name());
      what = ex.what();
    } catch (...) {
      const std::type_info* t = abi::__cxa_current_exception_type();
      type = t ? detail::demangle(t->name()) : "unknown";
      what = "(an exception not derived from std::exception)";
    }
    add_note(i, note_kind::error_type, std::move(type));
    add_note(i, note_kind::error_what, std::move(what));
  }

  /// Output that the cheap check could not see is given to the batch's last call.
  void finish_batch() {
    if (done > 0 && capture_.collect_thorough(out_, err_)) keep_output(done - 1);
  }

  std::string reply(std::int32_t rank, std::uint64_t elapsed_ns) const {
    detail::protocol::reply_header h{first, count, done, rank, elapsed_ns};
    std::string out;
    out.reserve(64 + status_.size() + results.size());
    detail::protocol::build_reply(out, h, status_, results, notes_);
    return out;
  }

 private:
  void keep_output(std::uint32_t i) {
    if (!out_.empty()) add_note(i, note_kind::out, std::exchange(out_, {}));
    if (!err_.empty()) add_note(i, note_kind::err, std::exchange(err_, {}));
  }
  void add_note(std::uint32_t i, note_kind kind, std::string text) {
    const std::string& kept = texts_.emplace_back(std::move(text));
    notes_.push_back(note{i, kind, kept});
  }

  output_capture& capture_;
  std::string status_;
  std::vector<note> notes_;
  std::deque<std::string> texts_;  // owns the notes' text
  std::string out_, err_;
};

/// Takes in the batches still queued for this worker, then tells the master it stopped: the
/// master's sends of large batches complete only when received. It sent them all before "stop",
/// and with Open MPI's ob1 they have all arrived by then (the master's drain has a deadline for
/// transports where they might not have).
void acknowledge_stop() {
  while (mpi::try_receive(0, tag_batch)) {
  }
  mpi::send(0, tag_stopped, {});
}

/// Gives this worker its own GPUs out of those the caller found (local backend).
void pick_gpus(const detail::job_spec& spec, int rank) {
  const char* ids = std::getenv("BURLA_GPU_IDS");
  if (spec.func_gpu <= 0 || !ids || !*ids) return;
  std::vector<std::string> all;
  std::stringstream ss(ids);
  for (std::string id; std::getline(ss, id, ',');) all.push_back(id);
  std::string mine;
  for (int k = 0; k < spec.func_gpu; ++k) {
    const std::size_t i = static_cast<std::size_t>((rank - 1) * spec.func_gpu + k);
    if (i < all.size()) mine += (mine.empty() ? "" : ",") + all[i];
  }
  ::setenv("CUDA_VISIBLE_DEVICES", mine.c_str(), 1);
}

}  // namespace

int run_worker(const detail::job_spec& spec, int rank) {
  pick_gpus(spec, rank);
  // Wake short sleeps in calls on time: the default 50 us slack saves power on desktops and
  // adds 5-10% to calls that sleep or poll in milliseconds.
  ::prctl(PR_SET_TIMERSLACK, 1000UL);
  detail::batch_fn fn = nullptr;
  std::string callable;
  try {
    const auto& t = spec.types;
    fn = reinterpret_cast<detail::batch_fn>(const_cast<void*>(detail::resolve_code(t.batch_function)));
    if (t.callable_is_function) {
      const void* f = detail::resolve_code(t.function);
      callable.assign(reinterpret_cast<const char*>(&f), sizeof f);
    } else {
      callable = t.callable_state;
    }
  } catch (const std::exception& e) {
    mpi::send(0, tag_fatal, (dynamic_cast<const build_mismatch*>(&e) ? "M" : "E") + std::string(e.what()));
    mpi::receive(0, tag_stop);
    acknowledge_stop();
    return 0;  // the master reports the error
  }

  output_capture capture;
  worker_context ctx(capture);
  ctx.callable = callable.data();
  ctx.segment_items = spec.segment_items;
  mpi::backoff wait;
  for (;;) {
    if (mpi::try_receive(0, tag_stop)) break;  // checked first: queued batches are skipped
    auto m = mpi::try_receive(0, tag_batch);
    if (!m) {
      wait.idle();
      continue;
    }
    wait.reset();
    detail::byte_reader in(m->data, "a batch message");
    const auto first = in.get<std::uint64_t>();
    const auto count = in.get<std::uint32_t>();
    ctx.start(first, count, in.take(in.left()));
    const auto t0 = std::chrono::steady_clock::now();
    try {
      fn(ctx);
    } catch (const std::exception& e) {  // not a call's exception: the batch itself is broken
      mpi::send(0, tag_fatal, "E" + std::string(e.what()));
      mpi::receive(0, tag_stop);
      break;
    }
    ctx.finish_batch();
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
    mpi::send(0, tag_reply, ctx.reply(rank, static_cast<std::uint64_t>(ns.count())));
  }
  acknowledge_stop();
  return 0;
}

}  // namespace burla::runner
