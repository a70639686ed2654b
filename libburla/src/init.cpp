// burla::init: the composition root of the job's side. In a process that a job's launcher
// started (BURLA_JOB_DIR is set) it runs that job's master or worker, and exits.
#include <burla/burla.hpp>
#include <cstdio>
#include <cstdlib>

#include "libburla/core/module.hpp"
#include "libburla/core/posix.hpp"
#include "libburla/core/process.hpp"
#include "mpi_runner/src/run_job.hpp"

namespace burla {

void init(int argc, char** argv) {
  core::init_called() = true;
  core::program_arguments().assign(argv, argv + argc);
  const auto dir = posix::env("BURLA_JOB_DIR");
  if (!dir) {
    core::remember_globals();  // what a job's processes will see: checked by debug builds' submit
    return;
  }
  int code = 2;
  try {
    code = mpi_runner::run_job(argc, argv, *dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "burla job: %s\n", e.what());
  }
  std::fflush(nullptr);
  std::exit(code);
}

}  // namespace burla
