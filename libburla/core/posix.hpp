// POSIX calls, each wrapped once: failures throw burla::error naming what was being done.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>

#include <burla/error.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace burla::posix {

/// Throws burla::error("burla: <what>: <strerror(errno)>").
[[noreturn]] void fail(const std::string& what);
/// The same for an error number returned rather than left in errno (posix_spawn, pthread).
[[noreturn]] void fail_with(int err, const std::string& what);

/// An owned file descriptor.
class fd {
 public:
  fd() = default;
  explicit fd(int raw) : raw_(raw) {}
  fd(fd&& o) noexcept : raw_(o.release()) {}
  fd& operator=(fd&& o) noexcept;
  fd(const fd&) = delete;
  fd& operator=(const fd&) = delete;
  ~fd();
  int get() const { return raw_; }
  int release() {
    int r = raw_;
    raw_ = -1;
    return r;
  }
  explicit operator bool() const { return raw_ >= 0; }

 private:
  int raw_ = -1;
};

/// open(2) with O_CLOEXEC and O_NOFOLLOW: a planted symlink is an error, not a redirect.
fd open_file(const std::string& path, int flags, mode_t mode = 0600);
/// Creates a new file with exactly `mode`, whatever the umask; anything already at path (a
/// file, a symlink, even a dangling one) is an error. `flags`: O_WRONLY or O_RDWR, O_APPEND.
fd create_file(const std::string& path, int flags = O_WRONLY, mode_t mode = 0600);
void write_all(int fd, std::string_view data, const std::string& what);
/// Reads exactly size bytes at offset.
void pread_all(int fd, char* out, std::size_t size, std::uint64_t offset, const std::string& what);
/// Reads what is there, up to size bytes; 0 at end of file.
std::size_t read_some(int fd, char* out, std::size_t size, const std::string& what);
std::uint64_t file_size(int fd, const std::string& what);
/// ftruncate(2): the file keeps its first `size` bytes.
void truncate_file(int fd, std::uint64_t size, const std::string& what);

/// fallocate(2) with FALLOC_FL_KEEP_SIZE: disk blocks for [offset, offset + length) without
/// changing the file's size, so that writes there later cannot fail for want of space.
enum class allocation { done, no_space, unsupported };
allocation allocate_blocks(int fd, std::uint64_t offset, std::uint64_t length, const std::string& what);
/// Frees the blocks of [offset, offset + length) (a hole punched, the size kept).
void free_blocks(int fd, std::uint64_t offset, std::uint64_t length);
/// The file system holding path, for messages: its mount point and the bytes free there.
struct file_system {
  std::string mount_point;
  std::uint64_t free_bytes = 0;
};
file_system file_system_of(const std::string& path);

/// The contents of a regular file; a symlink or a FIFO at path is an error.
std::string read_file(const std::string& path);
/// Writes a unique temporary name in the same directory (created exclusively, 0600) and renames
/// it over path: readers see the old file or all of the new one. A file that replaces another is
/// synced first, so that even a crash cannot trade the old contents for an empty file. A symlink
/// at path is replaced, not followed. Leaves no temporary file when it fails.
void write_file_atomic(const std::string& path, std::string_view contents);
/// A new file next to path, named <path>.tmp-<random>, created exclusively and 0600 whatever the
/// umask: for a file to be written under another name, then given its own with rename_file.
struct temp_file {
  fd file;
  std::string path;
};
temp_file create_temp_file(const std::string& path);
/// rename(2): replaces `to` at once (a symlink there is replaced, not followed).
void rename_file(const std::string& from, const std::string& to);
/// link(2): a second name for the file at `from`; false where the file system has no hard links.
bool link_file(const std::string& from, const std::string& to);
/// mkdir(2) with exactly `mode`, whatever the umask; false if something is already at path.
bool make_dir(const std::string& path, mode_t mode = 0700);
/// mkdir -p: the components it creates get exactly `mode`; existing ones are left as they are.
void make_dirs(const std::string& path, mode_t mode = 0700);
/// Throws burla::error("burla: <what> is not safe to use: <why>; <advice>") unless no other user
/// can change what the directory holds: it is owned by this user and writable by the owner
/// alone, and every directory above it, and every symlink met on the way to it, belongs to this
/// user or root and is writable by its owner alone or sticky (like /tmp).
void require_private_dir(const std::string& path, const std::string& what, const std::string& advice);
bool exists(const std::string& path);
/// The path made absolute against the current directory (jobs run elsewhere).
std::string absolute(const std::string& path);
/// Names in a directory, without . and ..; empty if it cannot be read.
std::vector<std::string> list_dir(const std::string& path);
/// Removes the directory at path and everything in it, never following a symlink (a link, even
/// one at path, is removed, not what it names). What is already gone is skipped, so a removal cut
/// short can run again; nothing at path at all is not an error. Returns the disk space freed:
/// the blocks allocated to what it removed.
std::uint64_t remove_tree(const std::string& path);
/// The disk space (allocated blocks) of what is at path and, for a directory, everything in it,
/// not following symlinks.
std::uint64_t disk_usage(const std::string& path);
/// When the file at path was last modified (lstat), in seconds since the epoch.
std::int64_t modified_time(const std::string& path);
/// Sets the modification time (seconds since the epoch) of the file at path, not following a symlink.
void set_modified_time(const std::string& path, std::int64_t seconds);

std::optional<std::string> env(const char* name);
/// setenv(3), replacing a value already there.
void set_env(const std::string& name, const std::string& value);
/// sigaction(2) with SA_RESTART: handler may be SIG_IGN or SIG_DFL.
void set_signal_handler(int sig, void (*handler)(int));
/// Dispositions of some signals (sigaction(2)), read now to be given back later.
class saved_signals {
 public:
  explicit saved_signals(std::initializer_list<int> signals);
  void restore() const;
  /// Whether sig was left at its default action (no handler, not ignored) when it was read.
  bool is_default(int sig) const;

 private:
  std::vector<std::pair<int, struct sigaction>> saved_;
};
/// Catches sig (SA_RESTART) with an async-signal-safe handler that counts it and makes
/// counted_signal_fd() readable, a self-pipe for poll loops (saved_signals gives the old one back).
void count_signal(int sig);
/// How many times sig was caught by count_signal, in this process.
std::uint64_t signals_counted(int sig);
/// Readable after a counted signal until drain_counted_signals(); -1 before any count_signal.
int counted_signal_fd();
void drain_counted_signals();
/// Ends this process by sig's default action, as if it had never been caught (a shell shows
/// 128 + sig as its exit status).
[[noreturn]] void die_by_signal(int sig);
/// dup2(2): `to` becomes a copy of `from`.
void redirect(int from, int to, const std::string& what);
/// The executable `name` found on PATH (or `name` itself if it has a '/'); empty if none.
std::string find_on_path(const std::string& name);

/// flock(2) LOCK_EX | LOCK_NB on a lock file (created 0600 if needed): held while the fd is open
/// (and by processes that inherit it); nullopt if another open file holds it.
std::optional<fd> try_lock(const std::string& path);

/// pidfd_open(2): a descriptor readable once the process has exited, that never names another
/// process; nullopt if it has already been reaped (ESRCH).
std::optional<fd> open_pidfd(pid_t pid);

/// posix_spawn(argv[0], a path) with stdin from /dev/null and stdout, stderr on out, err, in a
/// process group of its own: the terminal's Ctrl-C (SIGINT to its foreground group) reaches only
/// this program, which decides what it means for the child (docs/usage.md, "Ctrl-C").
pid_t spawn(const std::vector<std::string>& argv, char* const* envp, int out, int err);

/// pipe2(2) with O_CLOEXEC, plus `flags` (O_NONBLOCK); `what`: "for the output of sbatch".
struct pipe_ends {
  fd read, write;
};
pipe_ends make_pipe(const std::string& what, int flags = 0);

/// What a finished command printed and how it ended.
struct command_result {
  int exit_code = -1;  ///< -1: killed by a signal or timed out
  bool timed_out = false;
  std::string out, err;
};
/// Runs argv[0] (a path) with stdin from /dev/null, collecting its output; kills it after
/// timeout_seconds. Throws only if it cannot be started.
command_result run(const std::vector<std::string>& argv, int timeout_seconds);
std::string hostname();
std::string self_executable();
bool is_terminal(int fd);
/// Now, as 2026-11-22T03:04:05Z.
std::string utc_timestamp();
/// CPU time (user and system) of this process, and of the calling thread alone, in seconds.
double process_cpu_seconds();
double thread_cpu_seconds();

}  // namespace burla::posix
