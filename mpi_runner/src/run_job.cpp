#include "run_job.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "call_process.hpp"
#include "libburla/core/journal.hpp"
#include "libburla/core/module.hpp"
#include "libburla/core/posix.hpp"
#include "mpi.hpp"

namespace burla::mpi_runner {
namespace {

/// Every rank compares its own build with the caller's; rank 0 learns who differs.
/// Returns the mismatch report (empty when all match) on rank 0.
std::string check_builds(const core::job_spec& spec, int rank, std::vector<std::string>& hosts) {
  std::string mine;
  try {
    mine = core::main_build_id();
  } catch (const std::exception& e) {
    mine = e.what();
  }
  const std::string host = posix::hostname();
  auto all = mpi::gather_strings(host + '\n' + mine, 0);
  std::string report;
  if (rank == 0) {
    for (std::size_t r = 0; r < all.size(); ++r) {
      const auto nl = all[r].find('\n');
      hosts.push_back(all[r].substr(0, nl));
      const std::string id = all[r].substr(nl + 1);
      if (id != spec.build_id && report.empty())
        report =
            "rank " + std::to_string(r) + " on " + hosts.back() + " runs " + spec.executable +
            " with build-id " + id + ", but the caller's build-id is " + spec.build_id +
            ". The program was rebuilt or replaced after the job was submitted (or BURLA_EXECUTABLE "
            "names another program); submit the job again with the program left unchanged until it ends.";
    }
  }
  int ok = report.empty() ? 1 : 0;
  mpi::check(MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD), "share the build check");
  return ok ? std::string() : (rank == 0 ? report : std::string("mismatch"));
}

/// This process's rank as its launcher announced it before MPI_Init; -1 if unknown.
int announced_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"})
    if (const char* v = std::getenv(name); v && *v) return std::atoi(v);
  return -1;
}

}  // namespace

int run_job(int argc, char** argv, const std::string& dir) {
  // If the launcher dies (kill -9 of mpirun), the ranks go too: a job must never outlive the
  // launcher that resume and the caller watch, or a resumed run would race it.
  const pid_t launcher = ::getppid();
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != launcher) return 1;
  // A worker's call process is forked before MPI_Init, while there is no MPI state to share.
  std::optional<core::job_spec> early;
  std::unique_ptr<call_process> calls;
  if (announced_rank() != 0) {
    try {
      early = core::read_job_spec(dir + "/job.ini");
      calls = std::make_unique<call_process>(*early, dir);
    } catch (const std::exception&) {  // the same error comes again below, reported properly
      calls.reset();
      early.reset();
    }
  }
  mpi::environment env(argc, argv);
  const std::string journal = dir + "/journal";
  try {
    if (!early) early = core::read_job_spec(dir + "/job.ini");
    const core::job_spec& spec = *early;  // the call process refers to it
    if (env.size() < 2)
      throw error("burla: a job needs at least 2 MPI ranks (a master and a worker), got " +
                  std::to_string(env.size()));
    std::vector<std::string> hosts;
    const std::string mismatch = check_builds(spec, env.rank(), hosts);
    if (!mismatch.empty()) {
      if (env.rank() == 0)
        core::journal_writer::reopen(journal).append(core::end_record{core::end_state::mismatch, 0, 0,
                                                                      spec.n_inputs, "burla: " + mismatch,
                                                                      static_cast<std::uint32_t>(spec.run)});
      return 0;  // reported in the journal
    }
    const std::string where = mpi::broadcast_string(posix::hostname() + "\n" + std::to_string(::getpid()), 0);
    const master_address master{where.substr(0, where.find('\n')),
                                std::atoi(where.c_str() + where.find('\n') + 1)};
    if (env.rank() == 0) {
      calls.reset();
      return run_master(spec, dir, hosts);
    }
    if (!calls) calls = std::make_unique<call_process>(spec, dir);
    return run_worker(spec, env.rank(), *calls, master);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "burla job, rank %d: %s\n", env.rank(), e.what());
    if (env.rank() == 0) {
      try {
        // The run the caller follows: an end record of another run would not end its wait.
        const auto run = static_cast<std::uint32_t>(early ? early->run : 1);
        core::journal_writer::reopen(journal).append(
            core::end_record{core::end_state::error, 0, 0, 0, e.what(), run});
      } catch (...) {
      }
    }
    std::fflush(stderr);
    mpi::abort(2);
  }
}

}  // namespace burla::mpi_runner
