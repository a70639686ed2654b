#include "mpi.hpp"

#include <time.h>

#include <algorithm>

namespace burla::mpi {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw error(std::string("burla: MPI: ") + what + ": " + std::string(text, static_cast<std::size_t>(len)));
}

namespace {
bool in_call_process = false;

void refuse_if_in_call(const char* function) {
  if (in_call_process)
    throw error(std::string("burla: ") + function +
                " was called inside a call: calls run in a process of their own outside the job's MPI "
                "world, which burla's job has initialized already. Use MPI in the program around "
                "remote_parallel_map, not in the function it runs (or initialize the library that "
                "called it without MPI)");
}
}  // namespace

void refuse_init_in_calls() {
  in_call_process = true;
}

environment::environment(int& argc, char**& argv) {
  check(PMPI_Init(&argc, &argv), "MPI_Init");
  check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "set the error handler");
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
}

environment::~environment() {
  MPI_Finalize();
}

namespace {
/// The size of the message waiting from `source` with `tag`, if one is.
std::optional<int> probe(int source, int tag, MPI_Message& handle, MPI_Status& status) {
  int flag = 0;
  check(MPI_Improbe(source, tag, MPI_COMM_WORLD, &flag, &handle, &status), "probe for a message");
  if (!flag) return std::nullopt;
  int count = 0;
  check(MPI_Get_count(&status, MPI_BYTE, &count), "size a message");
  return count;
}
}  // namespace

std::optional<message> try_receive(int source, int tag) {
  MPI_Message handle;
  MPI_Status status;
  const auto count = probe(source, tag, handle, status);
  if (!count) return std::nullopt;
  message m{status.MPI_SOURCE, status.MPI_TAG, std::string(static_cast<std::size_t>(*count), '\0')};
  check(MPI_Mrecv(m.data.data(), *count, MPI_BYTE, &handle, MPI_STATUS_IGNORE), "receive a message");
  return m;
}

std::optional<inbox::received> inbox::try_receive(int source, int tag) {
  MPI_Message handle;
  MPI_Status status;
  const auto count = probe(source, tag, handle, status);
  if (!count) return std::nullopt;
  if (buf_.size() < static_cast<std::size_t>(*count)) buf_.resize(static_cast<std::size_t>(*count));
  check(MPI_Mrecv(buf_.data(), *count, MPI_BYTE, &handle, MPI_STATUS_IGNORE), "receive a message");
  return received{status.MPI_SOURCE, status.MPI_TAG, {buf_.data(), static_cast<std::size_t>(*count)}};
}

namespace {
void check_size(const std::string& data) {
  if (data.size() > static_cast<std::size_t>(INT32_MAX))
    throw error("burla: a batch message exceeds 2 GiB; inputs or results are too large for one message");
}
}  // namespace

std::string_view outbox::send(int dest, int tag, std::string data) {
  check_size(data);
  auto& p = pending_.emplace_back(pending{std::move(data), MPI_REQUEST_NULL});
  check(MPI_Isend(p.data.data(), static_cast<int>(p.data.size()), MPI_BYTE, dest, tag, MPI_COMM_WORLD,
                  &p.request),
        "start sending a message");
  return p.data;
}

void outbox::progress() {
  for (auto it = pending_.begin(); it != pending_.end();) {
    int done = 0;
    check(MPI_Test(&it->request, &done, MPI_STATUS_IGNORE), "test a send");
    if (done && it->data.size() > spare_.size()) spare_ = std::move(it->data);
    it = done ? pending_.erase(it) : std::next(it);
  }
}

bool outbox::drain(double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  backoff wait;
  while (!pending_.empty() && std::chrono::steady_clock::now() < deadline) {
    progress();
    if (!pending_.empty()) wait.idle();
  }
  return pending_.empty();
}

outbox::~outbox() {
  for (auto& p : pending_) {
    if (p.request != MPI_REQUEST_NULL) {
      MPI_Cancel(&p.request);
      MPI_Request_free(&p.request);
    }
  }
}

std::string broadcast_string(const std::string& mine, int root) {
  unsigned long long len = mine.size();
  check(MPI_Bcast(&len, 1, MPI_UNSIGNED_LONG_LONG, root, MPI_COMM_WORLD), "broadcast a size");
  std::string out = mine;
  out.resize(static_cast<std::size_t>(len));
  check(MPI_Bcast(out.data(), static_cast<int>(len), MPI_CHAR, root, MPI_COMM_WORLD), "broadcast a string");
  return out;
}

std::vector<std::string> gather_strings(const std::string& mine, int root) {
  int rank = 0, size = 1;
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size), "MPI_Comm_size");
  int len = static_cast<int>(mine.size());
  std::vector<int> lens(static_cast<std::size_t>(size));
  check(MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, root, MPI_COMM_WORLD), "gather sizes");
  std::vector<int> displs(static_cast<std::size_t>(size));
  int total = 0;
  for (int i = 0; i < size; ++i) {
    displs[i] = total;
    total += lens[i];
  }
  std::string all(static_cast<std::size_t>(rank == root ? total : 0), '\0');
  check(MPI_Gatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), displs.data(), MPI_CHAR, root,
                    MPI_COMM_WORLD),
        "gather strings");
  std::vector<std::string> out;
  if (rank == root)
    for (int i = 0; i < size; ++i) out.push_back(all.substr(displs[i], lens[i]));
  return out;
}

void abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

void backoff::idle() {
  // Spin briefly for latency, then sleep 10 us ... 200 us so an idle rank leaves its core. Not
  // longer: every message between a worker and the master waits out a sleep on each side, and
  // with 1 ms a call's round trip through the master was 2.7-3 ms (bench_map roundtrip).
  if (spins_ < 64) {
    ++spins_;
    return;
  }
  const long ns = std::min<long>(10'000L << std::min(spins_++ - 64, 5u), 200'000L);
  timespec ts{0, ns};
  nanosleep(&ts, nullptr);
}

}  // namespace burla::mpi

// Defined over the profiling interface (PMPI_*) so that a call's MPI_Init reaches the check
// above; everyone else's goes straight to MPI.
extern "C" int MPI_Init(int* argc, char*** argv) {
  burla::mpi::refuse_if_in_call("MPI_Init");
  return PMPI_Init(argc, argv);
}

extern "C" int MPI_Init_thread(int* argc, char*** argv, int required, int* provided) {
  burla::mpi::refuse_if_in_call("MPI_Init_thread");
  return PMPI_Init_thread(argc, argv, required, provided);
}
