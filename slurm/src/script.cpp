#include "script.hpp"

#include <algorithm>
#include <burla/error.hpp>
#include <cstdio>
#include <map>

namespace burla::slurm {

std::string shell_quote(std::string_view v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string sbatch_quote(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '\\' || c == '"' || c == '$' || c == '`') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string slurm_time(std::chrono::seconds t) {
  const long s = static_cast<long>(t.count());
  char buf[48];
  std::snprintf(buf, sizeof buf, "%ld-%02ld:%02ld:%02ld", s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
  return buf;
}

namespace {

bool has_control_characters(std::string_view v) {
  return std::any_of(v.begin(), v.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 32 || c == 127; });
}

// #SBATCH values are read line by line: a line break would end the value and start a line that
// bash runs. Refuse those rather than guess what was meant.
void check_line_value(const char* option, std::string_view value) {
  if (has_control_characters(value))
    throw invalid_option(option, std::string(value),
                         "it holds a line break or another control character, which an #SBATCH line "
                         "cannot carry; remove it");
}

}  // namespace

std::string render_script(const job_request& r) {
  // Option name -> the whole #SBATCH line. The user's extra arguments replace burla's own.
  std::map<std::string, std::string> lines;
  auto set = [&](const std::string& name, const char* option, const std::string& value) {
    check_line_value(option, value);
    lines["--" + name] = "#SBATCH --" + name + "=" + sbatch_quote(value);
  };
  set("job-name", "job_name", r.job_name);
  set("ntasks", "max_parallelism", std::to_string(r.tasks));
  set("cpus-per-task", "func_cpu", std::to_string(r.cpus_per_task));
  if (r.mem_per_cpu_mb) set("mem-per-cpu", "func_ram", std::to_string(*r.mem_per_cpu_mb) + "M");
  if (r.gpus_per_task > 0) set("gpus-per-task", "func_gpu", std::to_string(r.gpus_per_task));
  if (!r.partition.empty()) set("partition", "partition", r.partition);
  if (!r.account.empty()) set("account", "account", r.account);
  if (!r.qos.empty()) set("qos", "qos", r.qos);
  if (r.time_limit) set("time", "time_limit", slurm_time(*r.time_limit));
  // SIGUSR1 to the batch shell this long before the time limit; passed on to the ranks below.
  set("signal", "time_limit", "B:USR1@" + std::to_string(r.drain_seconds));
  // The job writes its own log into the job directory (see below), whatever its path holds.
  lines["--output"] = "#SBATCH --output=/dev/null";
  // A job that lost a node is not started again by Slurm: a requeued run would find this run's
  // journal and refuse it. `resume` finishes it, on the nodes left.
  lines["--no-requeue"] = "#SBATCH --no-requeue";
  for (const auto& arg : r.extra_args) {
    check_line_value("sbatch_args", arg);
    const std::size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const bool well_formed =
        name.size() > 2 && name.rfind("--", 0) == 0 && std::all_of(name.begin() + 2, name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        });
    if (!well_formed)
      throw invalid_option("sbatch_args", arg,
                           "each entry is one sbatch option in its long form, such as "
                           "\"--constraint=avx512\" or \"--exclusive\" (not \"-C avx512\")");
    lines[name] = "#SBATCH " + name + (eq == std::string::npos ? "" : "=" + sbatch_quote(arg.substr(eq + 1)));
  }

  std::string s = "#!/bin/bash\n";
  s += "# burla job " + r.id + ". Written by burla; submit it with: sbatch <this file>\n";
  for (const auto& [name, line] : lines) s += line + "\n";  // sorted by option name
  s += "\nset -u\n";
  s += "job_dir=" + shell_quote(r.job_dir) + "\n";
  // burla's files are the user's only, as those the caller writes; the calls keep the user's umask.
  // A symlink planted in the job directory is refused, never written through (as on the local
  // backend): slurm_job_id.tmp is removed (rm takes the link, not its target), created
  // exclusively (set -C) and renamed over slurm_job_id; a job.log that is a link ends the job.
  s += "rm -f \"$job_dir/slurm_job_id.tmp\"\n";
  s += "(umask 077 && set -C && printf '%s\\n' \"$SLURM_JOB_ID\" >\"$job_dir/slurm_job_id.tmp\") || exit 1\n";
  s += "mv -f \"$job_dir/slurm_job_id.tmp\" \"$job_dir/slurm_job_id\"\n";
  s += "if [ -L \"$job_dir/job.log\" ]; then\n"
       "  echo \"burla: $job_dir/job.log is a symbolic link; refusing to write through it\" >&2\n"
       "  exit 1\n"
       "fi\n";
  s += "(umask 077 && : >>\"$job_dir/job.log\")\n";
  s += "exec >>\"$job_dir/job.log\" 2>&1\n";
  if (!r.modules.empty()) {
    s += "\n# Environment modules (options.packages). Batch shells may not define `module` yet.\n";
    s += "if ! type module >/dev/null 2>&1; then\n";
    s +=
        "  for init in /etc/profile.d/lmod.sh /etc/profile.d/modules.sh /usr/share/lmod/lmod/init/bash; do\n";
    s += "    if [ -r \"$init\" ]; then . \"$init\"; break; fi\n";
    s += "  done\n";
    s += "fi\n";
    s += "module load";
    for (const auto& m : r.modules) s += " " + shell_quote(m);
    s += " || { echo \"burla: 'module load' failed on $(hostname); check options.packages\"; exit 1; }\n";
  }
  s += "\nexport BURLA_JOB_DIR=\"$job_dir\" OMP_NUM_THREADS=" + std::to_string(r.cpus_per_task) + "\n";
  // Open MPI's mpirun, not srun --mpi=pmix: under Slurm 22.05's PMIx plugin, Open MPI 4.1's
  // MPI_Init let a rank send before its peers could receive, and they crashed (docs/cluster.md).
  s += "# One worker rank per task, and the master (rank 0) beside them on the first node: it asks for\n";
  s += "# no CPUs, memory or GPUs of its own. Open MPI's mpirun reads the allocation from Slurm. A rank\n";
  s += "# that dies ends the job (resume finishes it): with --enable-recovery, mpirun outlived ranks that\n";
  s += "# had all ended.\n";
  s += "if [ \"$(id -u)\" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi\n";
  s += "# With a rank dead, MPI_Finalize's barrier would never end. (The site's own setting wins.)\n";
  s += "export OMPI_MCA_async_mpi_finalize=\"${OMPI_MCA_async_mpi_finalize:-1}\"\n";
  s += "launch=(mpirun -np " + std::to_string(r.tasks + 1) + " --oversubscribe --bind-to none)\n";
  std::string command;
  for (std::size_t i = 0; i < r.command.size(); ++i)
    command += " " + (i == 0 && r.stage_program ? std::string("\"$program\"") : shell_quote(r.command[i]));
  if (r.stage_program && !r.command.empty()) {
    // Thousands of ranks starting at once would all read the program from the shared filesystem.
    s +=
        "\n# The program and its libraries, copied once to each node's local disk (options.stage_program).\n";
    s += "program=\"${BURLA_STAGE_DIR:-/tmp}/burla-$SLURM_JOB_ID-$(basename " + shell_quote(r.command[0]) +
         ")\"\n";
    s += "sbcast --force --send-libs " + shell_quote(r.command[0]) +
         " \"$program\" || { echo \"burla: sbcast could not copy the program to the nodes "
         "(options.stage_program); the job ran nothing\"; exit 1; }\n";
    s += "export LD_LIBRARY_PATH=\"${program}_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\"\n";
    s += "trap 'srun --ntasks-per-node=1 --nodes=\"$SLURM_JOB_NUM_NODES\" rm -rf \"$program\" "
         "\"${program}_libs\" 2>/dev/null' EXIT\n";
  }
  if (!r.image.empty()) {
    s += "if command -v apptainer >/dev/null; then container=apptainer\n";
    s += "elif command -v singularity >/dev/null; then container=singularity\n";
    s += "else echo \"burla: options.image needs apptainer or singularity on $(hostname)\"; exit 1\n";
    s += "fi\n";
    s += "\"${launch[@]}\" \"$container\" exec " + shell_quote(r.image) + command + " &\n";
  } else {
    s += "\"${launch[@]}\"" + command + " &\n";
  }
  s += "# Near the time limit (--signal above) the master stops starting calls and saves what is done.\n";
  s += "launcher=$!\n";
  s += "trap 'kill -USR1 \"$launcher\" 2>/dev/null' USR1\n";
  s += "wait \"$launcher\"; rc=$?\n";
  s += "while kill -0 \"$launcher\" 2>/dev/null; do wait \"$launcher\"; rc=$?; done\n";
  s += "exit \"$rc\"\n";
  return s;
}

}  // namespace burla::slurm
