// append_rate PATH N: appends N records of 1 MiB (and a 24-byte head) to PATH with writev, as
// the master appends batches to the journal (blocks allocated ahead with fallocate, the file's
// size unchanged), and prints the seconds it took. Shows where the page cache stops absorbing
// writes: past the kernel's dirty-page limit (vm.dirty_ratio of the available memory), a
// writer goes at the disk's speed (docs/performance.md, "The data path").
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) return std::fprintf(stderr, "usage: append_rate PATH N\n"), 2;
  const long n = std::stol(argv[2]);
  const int fd = ::open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
  if (fd < 0) return std::perror(argv[1]), 1;
  std::string record(1 << 20, 'x'), head(24, 'h');
  const long ahead = (256 << 10) + (1 << 20);  // what the master keeps allocated past the end
  long long size = 0, reserved = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    if (reserved < size + ahead) {
      reserved = size + 2 * ahead;
      if (::fallocate(fd, FALLOC_FL_KEEP_SIZE, size, reserved - size) != 0)
        return std::perror("fallocate"), 1;
    }
    iovec iov[2] = {{head.data(), head.size()}, {record.data(), record.size()}};
    const ssize_t w = ::writev(fd, iov, 2);
    if (w != static_cast<ssize_t>(head.size() + record.size())) return std::perror("writev"), 1;
    size += w;
  }
  const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("appended_mib=%ld seconds=%.3f mib_per_second=%.0f\n", n, t, static_cast<double>(n) / t);
  ::close(fd);
  ::unlink(argv[1]);
  return 0;
}
