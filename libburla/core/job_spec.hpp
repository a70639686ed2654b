// job.ini, the description of a job: written by the caller into the job directory, read by
// every rank of the job and by every later reader of the directory (attach, resume, the burla
// command). One field table in job_spec.cpp drives both the writer and the reader.
#pragma once

#include <burla/detail/job_types.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace burla::core {

using detail::job_types;
using detail::module_address;
using detail::value_kind;

/// How a job is started: mpirun here, a Slurm batch job, or srun inside the allocation the
/// caller runs in.
enum class backend_kind : std::uint8_t { local, slurm, allocation };
const char* to_string(backend_kind kind);
std::optional<backend_kind> parse_backend_kind(std::string_view text);

/// What a Slurm job asks of sbatch besides its tasks: the options of the same names.
struct slurm_request {
  std::string partition, account, qos, job_name, image;
  std::uint64_t time_limit_s = 0;  ///< 0: the partition's limit
  std::vector<std::string> sbatch_args, packages;
  bool stage_program = false;  ///< sbcast the program to the nodes first
};

struct job_spec {
  int format_version = 2;
  std::string id;
  std::string created;  ///< ISO 8601, UTC
  std::string caller_host;
  backend_kind backend = backend_kind::local;
  std::string executable;  ///< what the job runs
  std::string build_id;    ///< of the caller's main program
  std::uint64_t n_inputs = 0;
  std::uint64_t segment_items = 1;  ///< serialized inputs: items per archive
  int workers = 1;
  // What each call gets (and so what sizes the workers, for the first run and every resume):
  int func_cpu = 1;
  double func_ram = 0;  ///< GB, 0: no requirement
  int func_gpu = 0;
  int max_parallelism = 0;            ///< 0: as many calls at once as fit
  std::uint64_t func_timeout_ms = 0;  ///< 0: no limit
  int max_retries = 0;
  bool collect_errors = false;  ///< on_error = collect: run every input
  int run = 1;                  ///< 1, then 2, 3... for each resume of the job
  bool rerun_failed = false;    ///< a resumed run also runs the inputs that failed
  int drain_seconds = 120;      ///< Slurm: SIGUSR1 this long before the time limit
  slurm_request slurm;          ///< backend slurm only
  job_types types;
};

/// Writes job.ini atomically (posix::write_file_atomic).
void write_job_spec(const std::string& path, const job_spec& spec);
/// Reads and checks job.ini: a damaged or foreign file is an error naming what is wrong.
job_spec read_job_spec(const std::string& path);
/// The line that ends job.ini: a checksum (FNV-1a) of everything before it. A damaged byte
/// elsewhere (a code offset, the callable's bytes) would send the job to the wrong code; the
/// reader refuses the file instead.
std::string job_ini_checksum_line(std::string_view body);

}  // namespace burla::core
