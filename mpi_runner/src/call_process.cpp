#include "call_process.hpp"

#include <cxxabi.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <burla/detail/invoke.hpp>
#include <burla/detail/job_state.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <initializer_list>
#include <optional>
#include <typeinfo>
#include <vector>

#include "capture.hpp"
#include "libburla/core/input_file.hpp"
#include "libburla/core/module.hpp"
#include "libburla/core/reply.hpp"
#include "messages.hpp"
#include "mpi.hpp"

namespace burla::mpi_runner {

struct call_process::control {
  std::atomic<std::uint32_t> finished{0};             ///< calls of the running batch that returned
  std::atomic<std::uint64_t> out_pos{0}, err_pos{0};  ///< capture positions, for a crash's output
  /// A call closed the child's descriptors (closefrom(3)): the rank asks it to check after each
  /// call, so that the call that did it is the one blamed; the child says which one it was.
  std::atomic<bool> check_each_call{false};
  std::atomic<std::uint32_t> closed_by{0};  ///< that call + 1; closed_at_end: a call of the batch
  static constexpr std::uint32_t closed_at_end = UINT32_MAX;
};

namespace {

using clock = std::chrono::steady_clock;
using core::note;
using core::note_kind;

// ---- frames on the socket between the rank and its child: u64 size, kind byte, payload ----

enum frame_kind : char { frame_setup = 'S', frame_batch = 'B', frame_reply = 'R', frame_fatal = 'F' };

/// Without SIGPIPE: a child that died is noticed when its reply does not come.
void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) posix::fail("cannot write to the call process");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

/// A frame whose payload is the pieces one after another (a reply's results sent from where
/// they are, not copied into it).
void send_frame(int fd, char kind, std::initializer_list<std::string_view> pieces) {
  std::uint64_t size = 1;
  for (std::string_view p : pieces) size += p.size();
  std::string head(sizeof size + 1, '\0');
  std::memcpy(head.data(), &size, sizeof size);
  head.back() = kind;
  send_all(fd, head);
  for (std::string_view p : pieces) send_all(fd, p);
}

void send_frame(int fd, char kind, std::string_view payload) {
  send_frame(fd, kind, {payload});
}

/// Reads exactly n bytes; false at end of file (the other side is gone).
bool read_exact(int fd, char* out, std::size_t n) {
  while (n > 0) {
    const std::size_t got = posix::read_some(fd, out, n, "the call process channel");
    if (got == 0) return false;
    out += got;
    n -= got;
  }
  return true;
}

/// One frame into `payload`; its kind, or 0 at end of file.
char read_frame(int fd, std::string& payload) {
  std::uint64_t size = 0;
  if (!read_exact(fd, reinterpret_cast<char*>(&size), sizeof size) || size == 0) return 0;
  char kind = 0;
  if (!read_exact(fd, &kind, 1)) return 0;
  payload.resize(size - 1);
  return read_exact(fd, payload.data(), payload.size()) ? kind : 0;
}

// ---- the child -------------------------------------------------------------------------------

/// Set in a process that a call forked (pthread_atfork): if that copy returns from the call
/// instead of exiting, it must not go on with the batch and reply a second time.
bool forked_copy = false;

/// The child's own descriptors (its channel, its output capture), as they were before any call:
/// a call that closed them, or closed them and opened something else in their place, leaves
/// the child unable to reply, so it exits saying so.
class own_descriptors {
 public:
  explicit own_descriptors(std::initializer_list<int> fds) {
    for (int fd : fds) add(fd);
  }
  void add(int fd) {
    struct stat st = {};
    if (::fstat(fd, &st) != 0)
      posix::fail("cannot inspect the call process's descriptor " + std::to_string(fd));
    kept_.push_back({fd, st.st_dev, st.st_ino});
  }
  bool intact() const {
    for (const auto& k : kept_) {
      struct stat st = {};
      if (::fstat(k.fd, &st) != 0 || st.st_dev != k.dev || st.st_ino != k.ino) return false;
    }
    return true;
  }

 private:
  struct kept {
    int fd;
    dev_t dev;
    ino_t ino;
  };
  std::vector<kept> kept_;
};

/// One batch of calls in the child; what each call printed or threw goes into the reply.
class call_context final : public detail::batch_context {
 public:
  call_context(output_capture& capture, call_process::control& shared, const own_descriptors& own)
      : capture_(capture), shared_(shared), own_(own) {}

  void start(const batch_view& b) {
    first = b.first;
    count = b.count;
    input = b.inputs;
    skip = b.skip;
    done = 0;
    results.clear();
    status_.clear();
    status_.reserve(count);
    notes_.clear();
    texts_.clear();
    shared_.finished.store(0, std::memory_order_relaxed);
  }

  void call_succeeded(std::uint32_t i) override {
    if (forked_copy) ::_exit(0);
    check_descriptors(i);
    status_.push_back(static_cast<char>(call_status::ok));
    if (capture_.collect(out_, err_)) keep_output(i);
    shared_.finished.store(i + 1, std::memory_order_release);
  }

  void call_failed(std::uint32_t i, std::exception_ptr e) override {
    if (forked_copy) ::_exit(0);
    check_descriptors(i);
    status_.push_back(static_cast<char>(call_status::failed));
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
    shared_.finished.store(i + 1, std::memory_order_release);
  }

  void call_skipped(std::uint32_t i) override {
    status_.push_back(static_cast<char>(core::status_skipped));
    shared_.finished.store(i + 1, std::memory_order_release);
  }

  /// Output that the cheap check could not see is given to the batch's last call.
  void finish_batch() {
    if (done > 0 && capture_.collect_thorough(out_, err_)) keep_output(done - 1);
  }

  /// The reply, its results sent from `results`.
  void send_reply(int channel, std::uint64_t elapsed_ns) const {
    const core::reply_frame f =
        core::frame_reply({first, count, done, -1, elapsed_ns}, status_, results.size(), notes_);
    send_frame(channel, frame_reply, {f.before, results, f.after});
  }

 private:
  void check_descriptors(std::uint32_t i) {
    if (shared_.check_each_call.load(std::memory_order_relaxed) && !own_.intact()) {
      shared_.closed_by.store(i + 1);
      ::_exit(0);
    }
  }
  void keep_output(std::uint32_t i) {
    if (!out_.empty()) add_note(i, note_kind::out, std::exchange(out_, {}));
    if (!err_.empty()) add_note(i, note_kind::err, std::exchange(err_, {}));
    shared_.out_pos.store(capture_.collected_out(), std::memory_order_relaxed);
    shared_.err_pos.store(capture_.collected_err(), std::memory_order_relaxed);
  }
  void add_note(std::uint32_t i, note_kind kind, std::string text) {
    const std::string& kept = texts_.emplace_back(std::move(text));
    notes_.push_back(note{i, kind, kept});
  }

  output_capture& capture_;
  call_process::control& shared_;
  const own_descriptors& own_;
  std::string status_;
  std::vector<note> notes_;
  std::deque<std::string> texts_;  // owns the notes' text
  std::string out_, err_;
};

/// A call that calls std::exit: end here, before atexit handlers and static destructors of the
/// program (and of MPI, in a child forked after MPI_Init) run in a process that is not theirs.
void exit_now(int status, void*) {
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(status);
}

[[noreturn]] void child_main(const core::job_spec& spec, const std::string& dir,
                             const posix::saved_signals& before_mpi, pid_t parent, int channel,
                             call_process::control& shared, int out_memfd, int err_memfd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(0);  // the rank died before the line above
  // A group of its own: what the call starts is ended with it (the rank kills the group), and
  // `kill 0` in a call's script reaches the call, not the worker rank.
  ::setpgid(0, 0);
  ::pthread_atfork(nullptr, nullptr, [] { forked_copy = true; });
  mpi::refuse_init_in_calls();
  // Wake short sleeps in calls on time: the default 50 us slack saves power on desktops and
  // adds 5-10% to calls that sleep or poll in milliseconds.
  ::prctl(PR_SET_TIMERSLACK, 1000UL);
  ::on_exit(exit_now, nullptr);
  // Line by line, as on a terminal: what a call printed before it crashed is not lost in a buffer.
  std::setvbuf(stdout, nullptr, _IOLBF, BUFSIZ);
  std::string frame;
  own_descriptors own{channel, out_memfd, err_memfd};
  std::optional<core::input_file> inputs;  // opened for the first batch whose inputs it reads
  std::string read_buffer;
  // Whatever failed after a call closed the child's descriptors, that is the cause: the rank
  // runs the batch again to find which call it was.
  auto fail = [&](const std::string& message) {
    if (!own.intact()) {
      shared.closed_by.store(call_process::control::closed_at_end);
      ::_exit(0);
    }
    try {
      if (!message.empty()) send_frame(channel, frame_fatal, message);
    } catch (...) {
    }
    ::_exit(0);
  };
  try {
    posix::set_signal_handler(SIGUSR1, SIG_IGN);  // the walltime warning is for the master
    before_mpi.restore();
    posix::redirect(posix::open_file("/dev/null", O_RDONLY).get(), 0, "a call's standard input to /dev/null");
    output_capture capture(out_memfd, err_memfd);
    call_context ctx(capture, shared, own);
    detail::batch_fn fn = nullptr;
    std::string callable, state;
    try {
      const auto& t = spec.types;
      fn = reinterpret_cast<detail::batch_fn>(const_cast<void*>(core::resolve_code(t.batch_function)));
      if (t.callable_is_function) {
        const void* f = core::resolve_code(t.function);
        callable.assign(reinterpret_cast<const char*>(&f), sizeof f);
      } else {
        callable = t.callable_state;
      }
      state = core::read_state(dir, t);
    } catch (const std::exception& e) {
      fail((dynamic_cast<const build_mismatch*>(&e) ? "M" : "E") + std::string(e.what()));
    }
    ctx.callable = callable.data();
    ctx.state = state;
    ctx.segment_items = spec.segment_items;
    ctx.stop_at_failure = !spec.collect_errors && spec.max_retries == 0;
    for (;;) {
      const char kind = read_frame(channel, frame);
      if (kind == 0) fail("");  // the rank is gone or done (or a call closed the channel)
      if (kind == frame_setup) {
        if (const auto eq = frame.find('='); eq != std::string::npos)
          posix::set_env(frame.substr(0, eq), frame.substr(eq + 1));
        continue;
      }
      capture.reattach();  // a call of an earlier batch may have closed fd 1 or 2
      batch_view b = parse_batch(frame);
      if (b.in_file) {
        try {
          if (!inputs) own.add(inputs.emplace(dir, spec).descriptor());
          b.inputs = inputs->read_into(b.in_file->first, b.in_file->count, read_buffer);
        } catch (const std::exception& e) {  // a damaged inputs.bin: the job stops, naming the inputs
          fail("E" + std::string(e.what()));
        }
      }
      ctx.start(b);
      const auto t0 = clock::now();
      try {
        fn(ctx);
      } catch (const std::exception& e) {  // not a call's exception: the batch itself is broken
        fail("E" + std::string(e.what()));
      }
      if (!own.intact()) fail("");
      if (ctx.decoded_state && !state.empty()) {  // decoded once: the archive is not needed again
        ctx.state = {};
        std::string().swap(state);
      }
      ctx.finish_batch();
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - t0).count();
      ctx.send_reply(channel, static_cast<std::uint64_t>(ns));
    }
  } catch (const std::exception& e) {
    fail("E" + std::string(e.what()));
  }
  ::_exit(0);
}

std::string signal_text(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  std::string s = "killed by signal " + std::to_string(sig) + " (SIG" + (abbrev ? abbrev : "?") + ")";
  if (sig == SIGABRT) s += ": abort(), a failed assert, or an exception nothing caught (std::terminate)";
  if (sig == SIGSEGV || sig == SIGBUS) s += ": an invalid memory access";
  if (sig == SIGKILL) s += " from outside burla, often the system's out-of-memory killer";
  return s;
}

/// The last 64 KiB of what a dead child printed after `from`, without padding zeros.
std::string printed_after(int memfd, std::uint64_t from) {
  constexpr std::uint64_t keep = 64 << 10;
  const off_t end = ::lseek(memfd, 0, SEEK_CUR);
  if (end < 0 || static_cast<std::uint64_t>(end) <= from) return {};
  const std::uint64_t begin =
      std::max(from, static_cast<std::uint64_t>(end) - std::min<std::uint64_t>(keep, end));
  std::string text(static_cast<std::size_t>(end) - begin, '\0');
  try {
    posix::pread_all(memfd, text.data(), text.size(), begin, "a crashed call's output");
  } catch (const error&) {
    return {};
  }
  std::erase(text, '\0');
  return text;
}

/// Resident memory of a process in bytes (0 if unknown), from /proc/PID/statm.
std::uint64_t resident_bytes(int statm) {
  char buf[128];
  const ssize_t n = ::pread(statm, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  buf[n] = '\0';
  unsigned long long size = 0, resident = 0;
  if (std::sscanf(buf, "%llu %llu", &size, &resident) != 2) return 0;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

call_process::call_process(const core::job_spec& spec, const std::string& dir) : spec_(spec), dir_(dir) {
  void* page = ::mmap(nullptr, sizeof(control), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) posix::fail("cannot map memory shared with the call process");
  control_ = new (page) control;
  spawn();
}

call_process::~call_process() {
  kill();
  if (control_) ::munmap(control_, sizeof(control));
}

void call_process::spawn() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    posix::fail("cannot create the channel to the call process");
  posix::fd mine(sv[0]), theirs(sv[1]);
  out_ = posix::fd(output_capture::make_memfd("stdout"));
  err_ = posix::fd(output_capture::make_memfd("stderr"));
  control_->finished = 0;
  control_->out_pos = 0;
  control_->err_pos = 0;
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) posix::fail("cannot start a process for the calls (fork)");
  if (pid == 0) {
    mine = posix::fd();
    child_main(spec_, dir_, before_mpi_, parent, theirs.get(), *control_, out_.get(), err_.get());
  }
  ::setpgid(pid, pid);  // also here, so that no kill of the group can come before the child's own
  pid_ = pid;
  pidfd_ = posix::open_pidfd(pid).value();  // our child, not reaped: it is there
  channel_ = std::move(mine);
  channel_ended_ = false;
  // func_ram is enforced by reading the child's resident size: without it, it would not be.
  if (spec_.func_ram > 0) statm_ = posix::open_file("/proc/" + std::to_string(pid) + "/statm", O_RDONLY);
  environment_sent_ = false;
}

void call_process::start(std::string_view batch, bool again) {
  // A child that died while it waited for work (killed from outside) is replaced before it is
  // given a batch: its death must not be blamed on this batch's first call.
  if (pollfd p{pidfd_.get(), POLLIN, 0}; pid_ >= 0 && ::poll(&p, 1, 0) == 1) kill();
  if (pid_ < 0) spawn();
  if (!environment_sent_ && !environment_.empty()) {
    try {
      send_frame(channel_.get(), frame_setup, environment_);
    } catch (const error&) {
    }
    environment_sent_ = true;
  }
  const batch_view b = parse_batch(batch);
  count_ = b.count;
  skip_.assign(b.skip);
  seen_finished_ = 0;
  if (!again) check_each_call_ = false;
  control_->finished.store(0, std::memory_order_relaxed);
  control_->closed_by.store(0);
  control_->check_each_call.store(check_each_call_);
  call_since_ = last_memory_check_ = clock::now();
  try {
    send_frame(channel_.get(), frame_batch, batch);
  } catch (const error&) {
    // The child died before reading it; wait() reports that.
  }
}

std::uint32_t call_process::running_call() const {
  std::uint32_t i = control_->finished.load(std::memory_order_acquire);
  while (i < count_ && !skip_.empty() && skip_[i]) ++i;
  return i;
}

call_process::state call_process::wait(int ms) {
  // The channel for its frames, the pidfd for its death: a process the call started inherits
  // the channel and may hold it open long after the call process died.
  pollfd p[2] = {{channel_.get(), POLLIN, 0}, {pidfd_.get(), POLLIN, 0}};
  const bool watch_channel = !channel_ended_;
  if (::poll(watch_channel ? p : p + 1, watch_channel ? 2 : 1, ms) > 0) {
    if (watch_channel && p[0].revents) {
      char kind = 0;
      try {
        kind = read_frame(channel_.get(), frame_);
      } catch (const error&) {  // reset by a dying child: the same as its end
      }
      if (kind == frame_reply) return state::replied;
      if (kind == frame_fatal) return state::fatal;
      // Its end: a dying child's descriptors close just before its death can be seen, and a
      // call may close the channel (closefrom(3)) and run on. Its death tells which.
      channel_ended_ = true;
      channel_ended_at_ = clock::now();
      return state::running;
    }
    if (p[1].revents) return died(call_status::crashed, "");
  }
  const auto now = clock::now();
  if (channel_ended_ && !check_each_call_ && now - channel_ended_at_ > std::chrono::seconds(1)) {
    control_->closed_by.store(control::closed_at_end);  // alive without its channel: a call closed it
    return died(call_status::crashed, "");
  }
  if (const std::uint32_t f = control_->finished.load(std::memory_order_relaxed); f != seen_finished_) {
    seen_finished_ = f;
    call_since_ = now;
  }
  const bool too_long =
      spec_.func_timeout_ms > 0 && now - call_since_ > std::chrono::milliseconds(spec_.func_timeout_ms);
  // Memory first, and always before a timeout: a call over both limits (on a machine too busy to
  // look sooner) ran out of memory, the limit to raise (Faults.EachCrashKindCostsOnlyItsCall).
  if (spec_.func_ram > 0 && (too_long || now - last_memory_check_ > std::chrono::milliseconds(10))) {
    last_memory_check_ = now;
    const std::uint64_t used = resident_bytes(statm_.get());
    if (static_cast<double>(used) > spec_.func_ram * 1e9) {
      char text[160];
      std::snprintf(text, sizeof text, "used %.2f GB of memory, more than func_ram = %g GB, and was killed",
                    static_cast<double>(used) / 1e9, spec_.func_ram);
      return died(call_status::out_of_memory, text);
    }
  }
  if (too_long) {
    char limit[64];
    std::snprintf(limit, sizeof limit, "%.3f s", static_cast<double>(spec_.func_timeout_ms) / 1000);
    return died(call_status::timed_out,
                std::string("ran longer than func_timeout = ") + limit + " and was killed");
  }
  return state::running;
}

call_process::state call_process::died(call_status status, std::string what) {
  fault_ = {};
  fault_.call = running_call();
  // The whole group: the call process if it still runs, and what the call started. Before the
  // call process is reaped, so that the group's id cannot name anything else yet.
  ::kill(-pid_, SIGKILL);
  reap_and_describe(status, what);
  if (const std::uint32_t by = control_->closed_by.load(); by != 0) {
    check_each_call_ = true;  // for the rest of this batch
    status = call_status::crashed;
    what =
        "it closed descriptors of burla's call process (its channel to the worker, its output "
        "capture), e.g. with closefrom(3) or a loop closing every descriptor; a call may close "
        "only what it opened";
    // At the batch's end the call is not known: the batch runs again, checking after each call.
    if (by != control::closed_at_end) fault_.call = by - 1;
  }
  fault_.status = status;
  fault_.what = std::move(what);
  fault_.out = printed_after(out_.get(), control_->out_pos.load());
  fault_.err = printed_after(err_.get(), control_->err_pos.load());
  pidfd_ = posix::fd();
  channel_ = posix::fd();
  out_ = posix::fd();
  err_ = posix::fd();
  statm_ = posix::fd();
  return state::died;
}

void call_process::reap_and_describe(call_status& status, std::string& what) {
  int ws = 0;
  pid_t r;
  do r = ::waitpid(pid_, &ws, 0);
  while (r < 0 && errno == EINTR);
  pid_ = -1;
  if (r >= 0 && WIFSIGNALED(ws)) fault_.signal = WTERMSIG(ws);
  if (status != call_status::crashed) return;
  if (r < 0)
    what = "its process died (its exit status was collected by someone else)";
  else if (WIFSIGNALED(ws))
    what = signal_text(WTERMSIG(ws));
  else
    what = "its process exited with code " + std::to_string(WEXITSTATUS(ws)) +
           " (std::exit or exit() in the call)";
}

void call_process::kill() {
  if (pid_ < 0) return;
  ::kill(-pid_, SIGKILL);  // with what its calls started
  int ws = 0;
  while (::waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  pidfd_ = posix::fd();
  channel_ = posix::fd();
}

}  // namespace burla::mpi_runner
