// A worker's calls run in a child process, so that a call that crashes (a signal, std::exit),
// runs longer than func_timeout or uses more memory than func_ram costs only itself: the worker
// rank watches the child, reports that call, and starts a new child for the rest of the batch.
// The first child is forked before MPI_Init, while the process has no MPI state to share; a
// child that replaces a crashed one is forked from the running rank and never touches MPI.
#pragma once

#include <sys/types.h>

#include <burla/error.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "libburla/core/job_spec.hpp"
#include "libburla/core/posix.hpp"

namespace burla::mpi_runner {

/// Why the child died while running a call.
struct call_fault {
  std::uint32_t call = 0;  ///< position in the batch
  call_status status = call_status::crashed;
  std::string what;      ///< e.g. "killed by signal 11 (SIGSEGV)"
  int signal = 0;        ///< the signal that ended the call process, if one did
  std::string out, err;  ///< what the call printed before it died
};

class call_process {
 public:
  /// Forks the first child (call before MPI_Init).
  call_process(const core::job_spec& spec, const std::string& dir);
  ~call_process();
  call_process(const call_process&) = delete;
  call_process& operator=(const call_process&) = delete;

  /// "NAME=value" set in every child before its first call (CUDA_VISIBLE_DEVICES).
  void set_environment(std::string assignment) { environment_ = std::move(assignment); }

  /// Hands a batch message to the child, starting a new child first if the last one died.
  /// `again`: the same batch once more, after its process died (see died()).
  void start(std::string_view batch, bool again = false);

  enum class state { running, replied, died, fatal };
  /// Waits up to `ms` for the batch to finish, enforcing func_timeout and func_ram meanwhile.
  state wait(int ms);
  /// After replied: the batch reply; after fatal: 'M' (build mismatch) or 'E', then the message.
  std::string& message() { return frame_; }
  /// A buffer to read the next message into, if larger than the one kept (see mpi::outbox::reuse).
  void recycle(std::string buffer) {
    if (buffer.size() > frame_.size()) frame_ = std::move(buffer);
  }
  /// After died: which call, and why.
  const call_fault& fault() const { return fault_; }
  /// Kills the child now (the job is stopping).
  void kill();

  struct control;  ///< shared with the child: its progress through the batch

 private:
  void spawn();
  state died(call_status status, std::string what);
  void reap_and_describe(call_status& status, std::string& what);
  std::uint32_t running_call() const;

  const core::job_spec& spec_;
  std::string dir_;
  // What the program had before MPI_Init installed Open MPI's backtrace printer: a crashing
  // call is reported once, by burla, not also by a page of Open MPI's stack dump.
  posix::saved_signals before_mpi_{SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
  std::string environment_;
  bool environment_sent_ = false;
  control* control_ = nullptr;
  pid_t pid_ = -1;
  posix::fd pidfd_, channel_, out_, err_, statm_;
  std::string skip_;  // of the running batch
  std::uint32_t count_ = 0;
  std::uint32_t seen_finished_ = 0;
  bool check_each_call_ = false;  // the batch's descriptors were closed by one of its calls
  bool channel_ended_ = false;    // the child's end of the channel closed
  std::chrono::steady_clock::time_point channel_ended_at_{};
  std::chrono::steady_clock::time_point call_since_{}, last_memory_check_{};
  std::string frame_;
  call_fault fault_;
};

}  // namespace burla::mpi_runner
