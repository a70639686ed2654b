// MPI calls, each wrapped once: failures throw burla::error naming what was being done.
// Waiting polls with sleeps: a blocking MPI receive busy-polls a core that workers need.
#pragma once

#include <mpi.h>

#include <burla/error.hpp>
#include <chrono>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace burla::mpi {

void check(int rc, const char* what);

/// From here on this process is a call process: MPI_Init and MPI_Init_thread, called by a call
/// (or a library it uses), throw a clear error instead of waiting forever in MPI start-up as a
/// second copy of the worker's rank. (burla defines both, over the MPI profiling interface.)
void refuse_init_in_calls();

/// MPI_Init / MPI_Finalize; errors are returned to us rather than aborting.
class environment {
 public:
  environment(int& argc, char**& argv);
  ~environment();
  environment(const environment&) = delete;
  environment& operator=(const environment&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }

 private:
  int rank_ = 0;
  int size_ = 1;
};

struct message {
  int source = -1;
  int tag = -1;
  std::string data;
};

/// A received message, if one from `source` with `tag` is waiting.
std::optional<message> try_receive(int source, int tag);
/// Receives into one buffer that only grows, so that a receiver of megabyte replies neither
/// allocates nor zeroes each one. A message's bytes stay valid until the next receive.
class inbox {
 public:
  struct received {
    int source = -1;
    int tag = -1;
    std::string_view data;
  };
  std::optional<received> try_receive(int source, int tag);

 private:
  std::string buf_;
};

/// Non-blocking sends whose buffers live until the send completes.
class outbox {
 public:
  /// The bytes being sent, which may still be read until the next progress().
  std::string_view send(int dest, int tag, std::string data);
  /// Frees completed sends.
  void progress();
  bool empty() const { return pending_.empty(); }
  /// Waits for every send to complete, up to `seconds`; false if some did not.
  bool drain(double seconds);
  /// The largest buffer of the sends completed since, to be filled again (its bytes are stale;
  /// empty if none): a megabyte message's buffer is then not allocated and zero-filled anew.
  std::string reuse() { return std::move(spare_); }
  ~outbox();

 private:
  struct pending {
    std::string data;
    MPI_Request request;
  };
  std::list<pending> pending_;
  std::string spare_;
};

std::vector<std::string> gather_strings(const std::string& mine, int root);
/// root's string, on every rank.
std::string broadcast_string(const std::string& mine, int root);
[[noreturn]] void abort(int code);

/// Sleeps a little longer each time nothing happened; reset when something did.
class backoff {
 public:
  void idle();
  void reset() { spins_ = 0; }

 private:
  unsigned spins_ = 0;
};

}  // namespace burla::mpi
