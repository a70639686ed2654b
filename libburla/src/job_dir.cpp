#include "job_dir.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <random>
#include <string_view>
#include <vector>

#include "libburla/core/posix.hpp"

namespace burla::detail {

std::string jobs_root(const options& opts) {
  std::string root;
  if (!opts.job_dir.empty())
    root = opts.job_dir;
  else if (auto dir = posix::env("BURLA_JOBS_DIR"))
    root = *dir;
  else if (auto home = posix::env("HOME"))
    root = *home + "/.burla/jobs";
  else
    root = "/tmp/burla-" + std::to_string(::getuid()) + "/jobs";
  // Attaching to or cancelling a job trusts its directory too (launcher.pid names what to stop).
  if (posix::exists(root)) check_jobs_root(root);
  return root;
}

void check_jobs_root(const std::string& root) {
  posix::require_private_dir(root, "the jobs directory " + root,
                             "job directories say what code runs, so only you may be able to change "
                             "them: fix that, or set BURLA_JOBS_DIR (or options.job_dir) to a directory "
                             "of your own, such as ~/.burla/jobs or /scratch/$USER/burla-jobs");
}

std::pair<std::string, std::string> create_job_dir(const std::string& root) {
  posix::make_dirs(root, 0700);
  check_jobs_root(root);
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%06x", rd() & 0xffffff);
    const std::string id = std::string(stamp) + "-" + suffix;
    const std::string path = root + "/" + id;
    // mkdir never follows a symlink planted at the name: it fails with EEXIST, and we pick another.
    if (posix::make_dir(path, 0700)) return {id, path};
  }
  throw error("burla: cannot find a free job directory name under " + root);
}

namespace {

/// Ids never start with a dot: "..", and removals in progress (removing_dir), are no jobs.
bool is_id(const std::string& name) {
  return !name.empty() && name[0] != '.';
}

constexpr std::string_view removing_prefix = ".removing.";

}  // namespace

std::vector<std::string> list_jobs(const std::string& root) {
  std::vector<std::string> names;
  for (auto& name : posix::list_dir(root))
    if (is_id(name) && posix::exists(root + "/" + name + "/job.ini")) names.push_back(std::move(name));
  std::sort(names.begin(), names.end());
  return names;
}

std::string removing_dir(const std::string& root, const std::string& id) {
  return root + "/" + std::string(removing_prefix) + id;
}

std::vector<std::string> cut_short_removals(const std::string& root) {
  std::vector<std::string> ids;
  for (const auto& name : posix::list_dir(root))
    if (name.rfind(removing_prefix, 0) == 0) ids.push_back(name.substr(removing_prefix.size()));
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string find_job_dir(const std::string& root, const std::string& id) {
  if (is_id(id) && id.find('/') == std::string::npos && posix::exists(root + "/" + id + "/job.ini"))
    return root + "/" + id;
  // A Slurm job id: the job directory that recorded it. Slurm ids repeat (two clusters sharing
  // a home directory, a controller started afresh): more than one is an error, not a guess.
  if (!id.empty() && std::all_of(id.begin(), id.end(), ::isdigit)) {
    std::vector<std::string> found;
    for (const auto& name : posix::list_dir(root)) {
      if (!is_id(name)) continue;
      try {
        std::string recorded = posix::read_file(root + "/" + name + "/slurm_job_id");
        while (!recorded.empty() && recorded.back() == '\n') recorded.pop_back();
        if (recorded == id) found.push_back(name);
      } catch (const error&) {
      }
    }
    if (found.size() == 1) return root + "/" + found[0];
    if (found.size() > 1) {
      std::sort(found.begin(), found.end());
      std::string names;
      for (const auto& f : found) names += (names.empty() ? "" : ", ") + f;
      throw error("burla: Slurm job id " + id + " names " + std::to_string(found.size()) + " jobs under " +
                  root + ": " + names +
                  " (Slurm ids repeat across clusters and controller restarts); give the job's own id");
    }
  }
  throw error("burla: no job " + id + " under " + root +
              " (give the job's id, its directory's name, or its Slurm job id; if it was created "
              "elsewhere, set options.job_dir or BURLA_JOBS_DIR to where it is)");
}

}  // namespace burla::detail
