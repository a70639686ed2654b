#include "mpi_runner/src/scheduler.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

using burla::runner::scheduler;

TEST(Scheduler, ProbesWithGrowingBatchesBeforeAnyMeasurement) {
  scheduler s(1000, 1, 2);
  EXPECT_EQ(s.next_batch(), 1u);
  EXPECT_EQ(s.next_batch(), 2u);
  EXPECT_EQ(s.next_batch(), 4u);
}

TEST(Scheduler, SizesBatchesToTheTargetDuration) {
  scheduler s(10'000'000, 1, 2, {.target_seconds = 0.01, .in_flight = 3});
  s.next_batch();
  s.record(100, 100 * 1e-6);  // 1 us per call -> 10 ms is 10,000 calls
  EXPECT_EQ(s.next_batch(), 10'000u);
}

TEST(Scheduler, LongCallsGoOneByOne) {
  scheduler s(100, 1, 2);
  s.next_batch();
  s.record(1, 2.0);
  EXPECT_EQ(s.next_batch(), 1u);
}

TEST(Scheduler, BatchesShrinkNearTheEndAndCoverEveryUnitOnce) {
  scheduler s(100'000, 1, 2, {.target_seconds = 0.01, .in_flight = 3});
  s.next_batch();
  s.record(1, 1e-9);  // trivially cheap: only the guided cap limits batches
  std::vector<std::uint64_t> sizes{1};
  while (std::uint64_t k = s.next_batch()) sizes.push_back(k);
  EXPECT_EQ(std::accumulate(sizes.begin(), sizes.end(), std::uint64_t{0}), 100'000u);
  EXPECT_EQ(sizes.back(), 1u);
  for (std::size_t i = 2; i < sizes.size(); ++i) EXPECT_LE(sizes[i], sizes[i - 1]);
  EXPECT_EQ(s.next_batch(), 0u);
}

TEST(Scheduler, RespectsTheByteCap) {
  scheduler s(1'000'000, 1, 1, {.target_seconds = 10, .in_flight = 1, .max_units = 500});
  s.next_batch();
  s.record(1, 1e-9);
  EXPECT_EQ(s.next_batch(), 500u);
}

TEST(Scheduler, SegmentsCountTheirItems) {
  scheduler s(1000, 64, 2, {.target_seconds = 0.01, .in_flight = 3});
  s.next_batch();
  s.record(64, 64 * 1e-5);  // 10 us per call, 640 us per segment -> 15 segments in 10 ms
  EXPECT_EQ(s.next_batch(), 15u);
}
