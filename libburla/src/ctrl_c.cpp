#include "ctrl_c.hpp"

#include <signal.h>

#include <burla/detail/job_state.hpp>
#include <mutex>
#include <optional>

#include "libburla/core/posix.hpp"

namespace burla::detail {
namespace {

std::mutex guard_mutex;
int guards = 0;
std::optional<posix::saved_signals> program_action;  // while catching: what the outermost guard replaced
std::uint64_t caught_before = 0;                     // caught() when the outermost guard began catching

}  // namespace

ctrl_c_guard::ctrl_c_guard() {
  std::lock_guard lock(guard_mutex);
  if (guards++ > 0) return;
  try {
    posix::saved_signals now({SIGINT});
    // A program's own handler (or SIG_IGN) says what Ctrl-C means to it: burla keeps out of it.
    if (!now.is_default(SIGINT)) return;
    caught_before = ctrl_c::caught();
    posix::count_signal(SIGINT);
    program_action = std::move(now);
  } catch (...) {
    --guards;
    throw;
  }
}

ctrl_c_guard::~ctrl_c_guard() {
  std::lock_guard lock(guard_mutex);
  if (--guards > 0 || !program_action) return;
  try {
    program_action->restore();
  } catch (const error&) {  // nothing better to do in a destructor; the handler only counts
  }
  program_action.reset();
  // A Ctrl-C that no wait acted on (the job had ended; an error was on its way) is not lost:
  // the program ends as it would have.
  if (ctrl_c::caught() != caught_before) ctrl_c::end_program();
}

namespace ctrl_c {

std::uint64_t caught() {
  return posix::signals_counted(SIGINT);
}

int wake_fd() {
  return posix::counted_signal_fd();
}

void drain() {
  posix::drain_counted_signals();
}

void end_program() {
  posix::die_by_signal(SIGINT);
}

}  // namespace ctrl_c
}  // namespace burla::detail
