// Starts the jobs that tests/cli/cli_test.cpp inspects with the `burla` command. Every sub-command
// prints the job's id on its first line of stdout; the calls' forwarded output follows.
//   cli_helper ok N        0..N-1 -> x*x (int -> int); each call prints to stdout and stderr; waits
//   cli_helper strings N   0..N-1 -> a string that CSV and JSON must escape; waits
//   cli_helper fail N      0..N-1 -> x*x, on_error = collect; inputs with x % 3 == 1 throw; waits
//   cli_helper fail_late N the same, but each call prints "finished x" and input 1 sleeps 2 s
//                          first, so that it fails after inputs 4, 7, ...; waits
//   cli_helper retry       40,000 strings; the first attempt of input 1 throws, max_retries = 1; waits
//   cli_helper complex N   0..N-1 -> (x + 0.5) + (1 - x)i (int -> std::complex<double>); waits
//   cli_helper arrays N    0..N-1 -> {x, -x, x*x} (int -> std::array<int, 3>); waits
//   cli_helper vectors N   0..N-1 -> x values x + 0.5k, k = 0..x-1 (int -> std::vector<double>); waits
//   cli_helper records N   0..N-1 -> {x: x + 0.25, n: -x, ok: x even, w: {x, 2x}} (int -> a struct
//                          with make_nvp names); waits
//   cli_helper slow N MS   0..N-1 -> x*x; inputs 0 and 1 return at once, the others sleep MS ms;
//                          exits at once, leaving the job running
//   cli_helper map N MS    remote_parallel_map of 0..N-1 -> x*x, each call sleeping MS ms;
//                          prints the results (what tests/cli/cli_test.cpp interrupts with Ctrl-C)
//   cli_helper own_handler N MS  the same, with a SIGINT handler of the program's own
// The functions are repeated in cli_test.cpp's expectations on purpose: the test computes what
// each input must give, it never takes the CLI's word for it.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <burla/burla.hpp>
#include <chrono>
#include <complex>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

int square(int x) {
  std::printf("squaring %d\n", x);
  std::fprintf(stderr, "note from %d\n", x);
  return x * x;
}

std::string text_of(int x) {
  return "v" + std::to_string(x) + ", \"q\" \\ " + std::string(x % 4, 'z');
}

int square_or_throw(int x) {
  if (x % 3 == 1) throw std::runtime_error("bad input " + std::to_string(x));
  return x * x;
}

int square_or_throw_late(int x) {
  if (x == 1) std::this_thread::sleep_for(std::chrono::seconds(2));
  std::printf("finished %d\n", x);
  return square_or_throw(x);
}

std::string echo_retried(const std::string& s) {
  // Input 1 ("1") fails once: the marker file, created exclusively, says whether this is the first
  // attempt; the retry finds it and succeeds.
  if (s == "1") {
    const char* dir = std::getenv("BURLA_JOB_DIR");
    const std::string marker = std::string(dir ? dir : ".") + "/first-attempt-of-input-1";
    const int fd = ::open(marker.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (fd >= 0) {
      ::close(fd);
      throw std::runtime_error("first attempt fails");
    }
  }
  return "r" + s;
}

std::complex<double> complex_of(int x) {
  return {x + 0.5, 1.0 - x};
}

std::array<int, 3> array_of(int x) {
  return {x, -x, x * x};
}

std::vector<double> vector_of(int x) {
  std::vector<double> v;
  for (int k = 0; k < x; ++k) v.push_back(x + 0.5 * k);
  return v;
}

struct sample {
  double x;
  int n;
  bool ok;
  std::array<short, 2> w;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& BOOST_SERIALIZATION_NVP(x) & BOOST_SERIALIZATION_NVP(n) & BOOST_SERIALIZATION_NVP(ok) &
        BOOST_SERIALIZATION_NVP(w);
  }
};

sample record_of(int x) {
  return {x + 0.25, -x, x % 2 == 0, {static_cast<short>(x), static_cast<short>(2 * x)}};
}

std::vector<int> upto(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
  return v;
}

template <class Job>
void print_id(const Job& job) {
  std::cout << job.id() << std::endl;
}

/// Prints the id of a job and waits for it.
template <class Job>
void waiting(Job job) {
  print_id(job);
  job.wait();
}

/// Prints the id of a job whose calls may fail, and waits for it.
template <class Job>
void wait_collecting(Job job) {
  print_id(job);
  try {
    job.wait();
  } catch (const burla::calls_failed&) {  // expected: the test reads the failures with the CLI
  }
}

}  // namespace

int main(int argc, char** argv) {
  burla::init(argc, argv);
  const std::string cmd = argc > 1 ? argv[1] : "";
  const int n = argc > 2 ? std::atoi(argv[2]) : 0;
  const burla::options quiet{.spinner = false};
  const burla::options collect{.on_error = burla::on_error::collect, .spinner = false};
  try {
    if (cmd == "ok") {
      auto job = burla::submit(square, upto(n), quiet);
      print_id(job);
      job.wait();
    } else if (cmd == "strings") {
      auto job = burla::submit(text_of, upto(n), quiet);
      print_id(job);
      job.wait();
    } else if (cmd == "fail") {
      wait_collecting(burla::submit(square_or_throw, upto(n), collect));
    } else if (cmd == "fail_late") {
      wait_collecting(burla::submit(square_or_throw_late, upto(n), collect));
    } else if (cmd == "retry") {
      std::vector<std::string> in(40000);
      for (std::size_t i = 0; i < in.size(); ++i) in[i] = std::to_string(i);
      auto job = burla::submit(echo_retried, in, {.max_retries = 1, .spinner = false});
      print_id(job);
      job.wait();
    } else if (cmd == "complex") {
      waiting(burla::submit(complex_of, upto(n), quiet));
    } else if (cmd == "arrays") {
      waiting(burla::submit(array_of, upto(n), quiet));
    } else if (cmd == "vectors") {
      waiting(burla::submit(vector_of, upto(n), quiet));
    } else if (cmd == "records") {
      waiting(burla::submit(record_of, upto(n), quiet));
    } else if (cmd == "slow" && argc > 3) {
      const int ms = std::atoi(argv[3]);
      auto job = burla::submit(
          [ms](int x) {
            if (x >= 2) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
            return x * x;
          },
          upto(n), quiet);
      print_id(job);
      return 0;  // the job runs on without us
    } else if ((cmd == "map" || cmd == "own_handler") && argc > 3) {
      if (cmd == "own_handler") {  // SIGINT handling of the program's own, which burla leaves alone
        struct sigaction sa {};
        sa.sa_handler = [](int) {
          const char said[] = "the program's own SIGINT handler ran\n";
          if (::write(2, said, sizeof said - 1) < 0) {
          }
        };
        ::sigaction(SIGINT, &sa, nullptr);
      }
      const int ms = std::atoi(argv[3]);
      const auto squares = burla::remote_parallel_map(
          [ms](int x) {
            std::this_thread::sleep_for(std::chrono::milliseconds(ms));
            return x * x;
          },
          upto(n));
      for (int r : squares) std::cout << r << "\n";
    } else {
      std::cerr
          << "usage: cli_helper ok N | strings N | fail N | fail_late N | retry | complex N | arrays N | "
             "vectors N | records N | slow N MS | map N MS | own_handler N MS\n";
      return 2;
    }
  } catch (const std::exception& e) {
    std::cerr << "cli_helper: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
