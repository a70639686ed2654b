// Per-call output capture: stdio, C++ streams and raw writes, with the cheap check and the
// thorough one.
#include "mpi_runner/src/capture.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

TEST(Capture, SeparatesWhatEachCallPrinted) {
  std::string out1, err1, out2, err2, out3, err3, out4, err4;
  bool nothing = true, thorough = false;
  {
    burla::mpi_runner::output_capture capture;
    std::printf("printf %d\n", 1);
    std::cout << "cout\n";
    std::fprintf(stderr, "to stderr\n");
    capture.collect(out1, err1);
    nothing = capture.collect(out2, err2);  // nothing new
    ::write(1, "raw write\n", 10);
    capture.collect(out3, err3);
    ::write(1, "\0starts with nul", 16);  // invisible to the cheap check
    thorough = capture.collect_thorough(out4, err4);
  }
  EXPECT_EQ(out1, "printf 1\ncout\n");
  EXPECT_EQ(err1, "to stderr\n");
  EXPECT_FALSE(nothing);
  EXPECT_TRUE(out2.empty() && err2.empty());
  EXPECT_EQ(out3, "raw write\n");
  EXPECT_TRUE(thorough);
  EXPECT_EQ(out4, std::string("\0starts with nul", 16));
}

TEST(Capture, HandlesMoreOutputThanTheMappedWindow) {
  std::string out, err, big(3u << 20, 'x');
  {
    burla::mpi_runner::output_capture capture;
    for (int i = 0; i < 3; ++i) {
      std::fwrite(big.data(), 1, big.size(), stdout);
      capture.collect(out, err);
    }
    std::printf("after\n");
    capture.collect(out, err);
  }
  EXPECT_EQ(out.size(), 3 * big.size() + 6);
  EXPECT_EQ(out.substr(out.size() - 6), "after\n");
}
