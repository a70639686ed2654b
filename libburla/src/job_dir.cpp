#include "job_dir.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <random>

#include "posix.hpp"

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

class file_sink final : public input_sink {
 public:
  explicit file_sink(const std::string& path) : fd_(posix::create_file(path, O_WRONLY, 0600)), path_(path) {}
  void write(std::string_view bytes) override {
    posix::write_all(fd_.get(), bytes, path_);
    written_ += bytes.size();
  }
  void mark_segment() override { index.push_back(written_); }
  std::uint64_t written() const { return written_; }
  std::vector<std::uint64_t> index;

 private:
  posix::fd fd_;
  std::string path_;
  std::uint64_t written_ = 0;
};

}  // namespace

void write_inputs(const std::string& dir, bool segmented, const job_state::input_writer& writer,
                  std::uint64_t segment_items, std::uint64_t n_inputs) {
  file_sink sink(dir + "/inputs.bin");
  writer(sink, segment_items);
  if (!segmented) return;
  const std::uint64_t expected = (n_inputs + segment_items - 1) / segment_items;
  if (sink.index.size() != expected)
    throw error("burla: the inputs range yielded " + std::to_string(sink.index.size()) +
                " segments, expected " + std::to_string(expected) +
                " (its size() does not match its elements)");
  sink.index.push_back(sink.written());
  posix::write_file_atomic(dir + "/inputs.index",
                           {reinterpret_cast<const char*>(sink.index.data()), sink.index.size() * 8});
}

}  // namespace burla::detail
