// Job directories and their files: owner-only whatever the umask, never through a symlink
// planted by someone else, results replaced whole, and a jobs root others can change refused.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <burla/options.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "libburla/core/input_file.hpp"
#include "libburla/core/posix.hpp"
#include "libburla/core/process.hpp"
#include "libburla/src/job_dir.hpp"

namespace posix = burla::posix;
namespace detail = burla::detail;

namespace {

constexpr uid_t nobody = 65534;

std::string temp_dir() {
  std::string tmpl = "/tmp/burla-unit-XXXXXX";
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.' || (e->d_name[1] && (e->d_name[1] != '.' || e->d_name[2])))
        out.push_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

/// A file outside the job directory that a planted symlink points at.
std::string precious_file(const std::string& dir) {
  const std::string path = dir + "/precious";
  posix::fd f = posix::create_file(path);
  posix::write_all(f.get(), "precious\n", path);
  return path;
}

struct umask_for_test {
  explicit umask_for_test(mode_t m) : old(::umask(m)) {}
  ~umask_for_test() { ::umask(old); }
  mode_t old;
};

void write_some_inputs(const std::string& dir, bool segmented) {
  burla::core::job_spec spec;
  spec.n_inputs = 1;
  spec.types.input_kind = segmented ? burla::core::value_kind::serialized : burla::core::value_kind::fixed;
  burla::core::write_inputs(dir, spec, [](detail::input_sink& s, std::uint64_t) {
    s.write("abcd");
    s.mark_segment();
  });
}

/// The message of the burla::error that f throws, or "" if it throws none.
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const burla::error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

}  // namespace

// ---- planted symlinks ---------------------------------------------------------------------------

TEST(FileSafety, InputsAtAPlantedSymlinkAreRefusedAndTheTargetIsUntouched) {
  const std::string tmp = temp_dir();
  const std::string target = precious_file(tmp);
  auto [id, dir] = detail::create_job_dir(tmp + "/jobs");
  ASSERT_EQ(::symlink(target.c_str(), (dir + "/inputs.bin").c_str()), 0);
  EXPECT_THROW(write_some_inputs(dir, false), burla::error);
  EXPECT_EQ(posix::read_file(target), "precious\n");
  EXPECT_EQ(mode_of(target), 0600u);
}

TEST(FileSafety, ADanglingSymlinkIsNotFollowedToCreateItsTarget) {
  const std::string tmp = temp_dir();
  auto [id, dir] = detail::create_job_dir(tmp + "/jobs");
  const std::string target = tmp + "/created-through-the-link";
  ASSERT_EQ(::symlink(target.c_str(), (dir + "/inputs.bin").c_str()), 0);
  EXPECT_THROW(write_some_inputs(dir, false), burla::error);
  EXPECT_FALSE(posix::exists(target));
  EXPECT_THROW(posix::create_file(dir + "/inputs.bin"), burla::error);
  EXPECT_FALSE(posix::exists(target));
}

TEST(FileSafety, JobLogAtAPlantedSymlinkIsRefusedBeforeAnythingStarts) {
  const std::string tmp = temp_dir();
  const std::string target = precious_file(tmp);
  auto [id, dir] = detail::create_job_dir(tmp + "/jobs");
  ASSERT_EQ(::symlink(target.c_str(), (dir + "/job.log").c_str()), 0);
  const std::string marker = tmp + "/started";
  EXPECT_THROW(burla::core::spawn_logged({"/usr/bin/touch", marker}, {}, dir + "/job.log"), burla::error);
  EXPECT_EQ(posix::read_file(target), "precious\n");
  EXPECT_FALSE(posix::exists(marker));
  EXPECT_FALSE(posix::exists(dir + "/launcher.pid"));
}

TEST(FileSafety, LauncherPidReplacesAPlantedSymlinkInsteadOfWritingThroughIt) {
  const std::string tmp = temp_dir();
  const std::string target = precious_file(tmp);
  auto [id, dir] = detail::create_job_dir(tmp + "/jobs");
  ASSERT_EQ(::symlink(target.c_str(), (dir + "/launcher.pid").c_str()), 0);
  burla::core::child_process p = burla::core::spawn_logged({"/bin/true"}, {}, dir + "/job.log");
  for (int i = 0; i < 500 && !p.exited(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(posix::read_file(target), "precious\n");
  struct stat st {};
  ASSERT_EQ(::lstat((dir + "/launcher.pid").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(mode_of(dir + "/launcher.pid"), 0600u);
  EXPECT_EQ(mode_of(dir + "/job.log"), 0600u);
}

TEST(FileSafety, AtomicWriteReplacesASymlinkAtTheNameAndIgnoresOneAtTheOldTempName) {
  const std::string tmp = temp_dir();
  const std::string target = precious_file(tmp);
  auto [id, dir] = detail::create_job_dir(tmp + "/jobs");
  ASSERT_EQ(::symlink(target.c_str(), (dir + "/job.ini").c_str()), 0);
  ASSERT_EQ(::symlink(target.c_str(), (dir + "/job.ini.tmp").c_str()), 0);  // a guessable name
  posix::write_file_atomic(dir + "/job.ini", "fresh\n");
  EXPECT_EQ(posix::read_file(target), "precious\n");
  EXPECT_EQ(posix::read_file(dir + "/job.ini"), "fresh\n");
  EXPECT_EQ(mode_of(dir + "/job.ini"), 0600u);
}

TEST(FileSafety, ReadingRefusesSymlinksAndFifos) {
  const std::string tmp = temp_dir();
  const std::string target = precious_file(tmp);
  auto [id, dir] = detail::create_job_dir(tmp + "/jobs");
  ASSERT_EQ(::symlink(target.c_str(), (dir + "/job.ini").c_str()), 0);
  EXPECT_THROW(posix::read_file(dir + "/job.ini"), burla::error);
  ASSERT_EQ(::mkfifo((dir + "/slurm_job_id").c_str(), 0600), 0);
  EXPECT_HAS(error_of([&] { posix::read_file(dir + "/slurm_job_id"); }), "not a regular file");
}

TEST(FileSafety, RemovingATreeRemovesSymlinksInItNotWhatTheyName) {
  const std::string tmp = temp_dir();
  const std::string target = precious_file(tmp);
  auto [id, dir] = detail::create_job_dir(tmp + "/jobs");
  ASSERT_EQ(::mkdir((dir + "/sub").c_str(), 0700), 0);
  ASSERT_EQ(::symlink(target.c_str(), (dir + "/sub/file-link").c_str()), 0);
  ASSERT_EQ(::symlink(tmp.c_str(), (dir + "/dir-link").c_str()), 0);
  posix::write_file_atomic(dir + "/job.ini", "x\n");
  EXPECT_GT(posix::disk_usage(dir), 0u);
  EXPECT_GT(posix::remove_tree(dir), 0u);
  EXPECT_FALSE(posix::exists(dir));
  EXPECT_EQ(posix::read_file(target), "precious\n");
  // A symlink at the path itself goes, not the directory it names; nothing there is no error.
  ASSERT_EQ(::symlink(tmp.c_str(), (tmp + "/jobs/link").c_str()), 0);
  posix::remove_tree(tmp + "/jobs/link");
  EXPECT_FALSE(posix::exists(tmp + "/jobs/link"));
  EXPECT_EQ(posix::read_file(target), "precious\n");
  EXPECT_EQ(posix::remove_tree(tmp + "/jobs/link"), 0u);
}

// ---- permissions, whatever the umask --------------------------------------------------------------

TEST(FileSafety, DirectoriesAre0700AndFiles0600EvenUnderUmask0) {
  const std::string tmp = temp_dir();
  umask_for_test u(0);
  const std::string root = tmp + "/a/b/jobs";
  auto [id, dir] = detail::create_job_dir(root);
  for (const std::string& d : {tmp + "/a", tmp + "/a/b", root, dir}) EXPECT_EQ(mode_of(d), 0700u) << d;
  write_some_inputs(dir, true);
  posix::write_file_atomic(dir + "/job.ini", "x");
  posix::create_file(dir + "/journal", O_WRONLY | O_APPEND);
  for (const char* f : {"inputs.bin", "inputs.index", "job.ini", "journal"})
    EXPECT_EQ(mode_of(dir + "/" + f), 0600u) << f;
}

TEST(FileSafety, ModesAreExactEvenUnderAUmaskThatTakesOwnerBits) {
  const std::string tmp = temp_dir();
  umask_for_test u(0277);
  auto [id, dir] = detail::create_job_dir(tmp + "/new/jobs");
  EXPECT_EQ(mode_of(tmp + "/new"), 0700u);
  EXPECT_EQ(mode_of(dir), 0700u);
  posix::write_file_atomic(dir + "/job.ini", "x");
  write_some_inputs(dir, false);
  for (const char* f : {"job.ini", "inputs.bin"}) EXPECT_EQ(mode_of(dir + "/" + f), 0600u) << f;
}

// ---- atomic writes --------------------------------------------------------------------------------

TEST(FileSafety, AtomicWriteLeavesOnlyTheFinalName) {
  const std::string dir = temp_dir();
  posix::write_file_atomic(dir + "/job.ini", "one");
  posix::write_file_atomic(dir + "/job.ini", "two");
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"job.ini"});
  EXPECT_EQ(posix::read_file(dir + "/job.ini"), "two");
}

TEST(FileSafety, AFailedAtomicWriteKeepsTheOldFileWholeAndLeavesNoTempFile) {
  const std::string dir = temp_dir();
  posix::write_file_atomic(dir + "/job.ini", "old contents\n");
  // The disk "fills up" halfway: writes past 4 KiB fail with EFBIG.
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const std::string msg =
      error_of([&] { posix::write_file_atomic(dir + "/job.ini", std::string(100000, 'x')); });
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_HAS(msg, "cannot write");
  EXPECT_EQ(posix::read_file(dir + "/job.ini"), "old contents\n");
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"job.ini"});
}

TEST(FileSafety, AFailedRenameLeavesNoTempFile) {
  const std::string dir = temp_dir();
  ASSERT_EQ(::mkdir((dir + "/job.ini").c_str(), 0700), 0);  // a directory cannot be replaced by a file
  EXPECT_HAS(error_of([&] { posix::write_file_atomic(dir + "/job.ini", "x"); }), "cannot rename");
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"job.ini"});
}

TEST(FileSafety, ReadersNeverSeeAHalfWrittenFile) {
  const std::string path = temp_dir() + "/slurm_job_id";
  const std::string a(1 << 20, 'a'), b(1 << 20, 'b');
  posix::write_file_atomic(path, a);
  std::atomic<bool> done{false};
  std::atomic<int> torn{0}, reads{0};
  std::thread reader([&] {
    while (!done) {
      const std::string seen = posix::read_file(path);
      if (seen != a && seen != b) ++torn;
      ++reads;
    }
  });
  for (int i = 0; i < 100; ++i) posix::write_file_atomic(path, i % 2 ? a : b);
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(torn.load(), 0) << "of " << reads.load() << " reads";
}

TEST(FileSafety, ConcurrentWritersOfOneNameDoNotCollide) {
  // The caller and the job script may both record slurm_job_id.
  const std::string dir = temp_dir();
  const std::string path = dir + "/slurm_job_id";
  const std::string a(100000, 'a'), b(100000, 'b');
  std::atomic<int> failures{0};
  auto writer = [&](const std::string& text) {
    for (int i = 0; i < 100; ++i) try {
        posix::write_file_atomic(path, text);
      } catch (const burla::error&) {
        ++failures;
      }
  };
  std::thread t1(writer, a), t2(writer, b);
  t1.join();
  t2.join();
  EXPECT_EQ(failures.load(), 0);
  const std::string seen = posix::read_file(path);
  EXPECT_TRUE(seen == a || seen == b);
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"slurm_job_id"});
}

TEST(FileSafety, AFileBuiltUnderATempNameIsOwnerOnlyAndReplacesAPlantedSymlinkWhole) {
  // The way results.h5 is made: HDF5 writes a new temporary file, which then takes its name.
  const std::string tmp = temp_dir();
  const std::string target = precious_file(tmp);
  auto [id, dir] = detail::create_job_dir(tmp + "/jobs");
  const std::string path = dir + "/results.h5";
  ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0);
  umask_for_test u(0);
  posix::temp_file t = posix::create_temp_file(path);
  EXPECT_EQ(t.path.rfind(path + ".tmp-", 0), 0u) << t.path;
  EXPECT_NE(posix::create_temp_file(path).path, t.path);
  EXPECT_EQ(mode_of(t.path), 0600u);
  const hid_t f = H5Fcreate(t.path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  ASSERT_GE(H5Fclose(f), 0);
  posix::rename_file(t.path, path);
  EXPECT_EQ(posix::read_file(target), "precious\n");
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_GT(H5Fis_hdf5(path.c_str()), 0);
}

// ---- the jobs root --------------------------------------------------------------------------------

TEST(JobsRoot, APrivateRootIsAcceptedAndAnOwnSymlinkToOneToo) {
  const std::string tmp = temp_dir();
  EXPECT_NO_THROW(detail::create_job_dir(tmp + "/jobs"));
  ASSERT_EQ(::mkdir((tmp + "/real").c_str(), 0700), 0);
  ASSERT_EQ(::symlink((tmp + "/real").c_str(), (tmp + "/linked").c_str()), 0);  // ~/.burla/jobs -> scratch
  auto [id, dir] = detail::create_job_dir(tmp + "/linked");
  EXPECT_TRUE(posix::exists(tmp + "/real/" + id));
  // Sticky, world-writable directories above it (like /tmp) are fine.
  ASSERT_EQ(::mkdir((tmp + "/sticky").c_str(), 01777), 0);
  ASSERT_EQ(::chmod((tmp + "/sticky").c_str(), 01777), 0);
  EXPECT_NO_THROW(detail::create_job_dir(tmp + "/sticky/mine/jobs"));
}

TEST(JobsRoot, ARootOwnedByAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory away";
  const std::string tmp = temp_dir();
  const std::string root = tmp + "/jobs";
  ASSERT_EQ(::mkdir(root.c_str(), 0700), 0);
  ASSERT_EQ(::chown(root.c_str(), nobody, nobody), 0);
  const std::string msg = error_of([&] { detail::create_job_dir(root); });
  EXPECT_HAS(msg, "the jobs directory " + root + " is not safe to use");
  EXPECT_HAS(msg, "belongs to user nobody (uid 65534), not to you");
  EXPECT_HAS(msg, "BURLA_JOBS_DIR");
  EXPECT_TRUE(names_in(root).empty());
  // Attaching, cancelling and the burla command read job directories there: refused too.
  EXPECT_HAS(error_of([&] { detail::jobs_root({.job_dir = root}); }), "not safe to use");
}

TEST(JobsRoot, AGroupOrWorldWritableRootIsRefused) {
  const std::string tmp = temp_dir();
  const std::string root = tmp + "/jobs";
  ASSERT_EQ(::mkdir(root.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(root.c_str(), 0770), 0);
  std::string msg = error_of([&] { detail::create_job_dir(root); });
  EXPECT_HAS(msg, root + " is writable by its group (mode 0770); chmod go-w " + root + " fixes that");
  EXPECT_TRUE(names_in(root).empty());
  ASSERT_EQ(::chmod(root.c_str(), 0707), 0);
  EXPECT_HAS(error_of([&] { detail::create_job_dir(root); }), "writable by others (mode 0707)");
  ASSERT_EQ(::chmod(root.c_str(), 0700), 0);
  EXPECT_NO_THROW(detail::create_job_dir(root));
}

TEST(JobsRoot, SharedTmpItselfIsRefusedWithAPrivateSubdirectorySuggested) {
  const std::string tmp = temp_dir();
  ASSERT_EQ(::chmod(tmp.c_str(), 01777), 0);  // a /tmp of our own
  const std::string msg = error_of([&] { detail::create_job_dir(tmp); });
  EXPECT_HAS(
      msg,
      tmp + " is shared: writable by its group and others (mode 1777); use a private directory inside it");
  EXPECT_TRUE(names_in(tmp).empty());
  if (::geteuid() == 0) {
    EXPECT_HAS(error_of([&] { detail::create_job_dir("/tmp"); }), "/tmp is shared");
  }
}

TEST(JobsRoot, ASymlinkPlantedByAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a symlink away";
  const std::string tmp = temp_dir();
  ASSERT_EQ(::mkdir((tmp + "/real").c_str(), 0700), 0);
  ASSERT_EQ(::symlink((tmp + "/real").c_str(), (tmp + "/jobs").c_str()), 0);
  ASSERT_EQ(::lchown((tmp + "/jobs").c_str(), nobody, nobody), 0);
  EXPECT_HAS(error_of([&] { detail::create_job_dir(tmp + "/jobs"); }),
             tmp + "/jobs is a symbolic link that belongs to user nobody (uid 65534)");
  EXPECT_TRUE(names_in(tmp + "/real").empty());
}

TEST(JobsRoot, ADirectoryAboveItThatAnotherUserControlsIsRefused) {
  // E.g. /tmp/burla-<uid>, the fallback without $HOME, made beforehand by someone else.
  const std::string tmp = temp_dir();
  const std::string above = tmp + "/burla-0";
  ASSERT_EQ(::mkdir(above.c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((above + "/jobs").c_str(), 0700), 0);
  ASSERT_EQ(::chmod(above.c_str(), 0777), 0);
  EXPECT_HAS(error_of([&] { detail::create_job_dir(above + "/jobs"); }),
             above + " is writable by its group and others (mode 0777) without the sticky bit");
  if (::geteuid() == 0) {
    ASSERT_EQ(::chmod(above.c_str(), 0755), 0);
    ASSERT_EQ(::chown(above.c_str(), nobody, nobody), 0);
    EXPECT_HAS(error_of([&] { detail::create_job_dir(above + "/jobs"); }),
               above + " belongs to user nobody (uid 65534), who could replace what it holds");
  }
  EXPECT_TRUE(names_in(above + "/jobs").empty());
}
