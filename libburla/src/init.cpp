#include <burla/burla.hpp>
#include <cstdio>
#include <cstdlib>

#include "local_backend.hpp"
#include "mpi_runner/src/run_job.hpp"
#include "posix.hpp"

namespace burla {

void init(int argc, char** argv) {
  detail::init_called() = true;
  detail::program_arguments().assign(argv, argv + argc);
  const auto dir = posix::env("BURLA_JOB_DIR");
  if (!dir) return;
  int code = 2;
  try {
    code = runner::run_job(argc, argv, *dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "burla job: %s\n", e.what());
  }
  std::fflush(nullptr);
  std::exit(code);
}

}  // namespace burla
