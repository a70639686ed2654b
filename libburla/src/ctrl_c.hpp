// Ctrl-C while the caller waits for a job: caught by ctrl_c_guard (job_state.hpp), acted on by
// the job being waited for (job.cpp). See docs/usage.md, "Ctrl-C".
#pragma once

#include <cstdint>

namespace burla::detail::ctrl_c {

/// How many Ctrl-Cs (SIGINT) burla has caught in this process.
std::uint64_t caught();
/// Readable after a Ctrl-C was caught, for poll; -1 before burla ever caught one.
int wake_fd();
void drain();
/// Ends the program the way the Ctrl-C would have without burla: by SIGINT (exit status 130).
[[noreturn]] void end_program();

}  // namespace burla::detail::ctrl_c
