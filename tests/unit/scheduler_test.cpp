#include "mpi_runner/src/scheduler.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

using burla::mpi_runner::scheduler;

TEST(Scheduler, HandsOutOneUnitAtATimeUntilCallsAreMeasured) {
  // Before any reply (and retries), batches of one unit: nobody may get work others could do.
  scheduler s(10'000, 1, 16);
  for (int i = 0; i < 48; ++i) EXPECT_EQ(s.next_batch(), 1u);
  EXPECT_EQ(s.remaining(), 10'000u - 48u);
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
  s.record(1, 1e-3);  // 1 ms calls: 10 per batch until the guided share is smaller
  std::vector<std::uint64_t> sizes{1};
  while (std::uint64_t k = s.next_batch()) sizes.push_back(k);
  EXPECT_EQ(std::accumulate(sizes.begin(), sizes.end(), std::uint64_t{0}), 100'000u);
  EXPECT_EQ(sizes[1], 10u);
  EXPECT_EQ(sizes.back(), 1u);
  for (std::size_t i = 2; i < sizes.size(); ++i) EXPECT_LE(sizes[i], sizes[i - 1]);
  EXPECT_EQ(s.next_batch(), 0u);
}

TEST(Scheduler, TrivialCallsNeverShrinkBelowTheFloor) {
  // 10 ns calls: a 0.5 ms floor is 50,000 calls, so the tail is a few batches, not thousands.
  scheduler s(1'000'000, 1, 2, {.target_seconds = 0.01, .floor_seconds = 5e-4, .in_flight = 3});
  s.next_batch();
  s.record(1000, 1e-5);
  std::vector<std::uint64_t> sizes;
  while (std::uint64_t k = s.next_batch()) sizes.push_back(k);
  EXPECT_LT(sizes.size(), 60u);
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) EXPECT_GE(sizes[i], 50'000u);
}

TEST(Scheduler, TheColdFirstCallStopsMatteringAfterOneLargeBatch) {
  scheduler s(10'000'000, 1, 2, {.target_seconds = 0.01, .in_flight = 3});
  s.next_batch();
  s.record(1, 40e-6);             // the first call paid for page faults and lazy binding
  s.record(100'000, 100'000e-8);  // then 10 ns per call
  EXPECT_NEAR(s.seconds_per_call(), 1e-8, 1e-9);
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

TEST(Scheduler, AWorkerHoldsOneBatchUntilMeasuredThenOnlyWhatHidesTheRoundTrip) {
  scheduler s(1000, 1, 4);
  EXPECT_EQ(s.in_flight(), 1) << "unmeasured: another worker could run what this one holds";
  s.next_batch();
  s.record(1, 1e-4);
  EXPECT_EQ(s.in_flight(), 3) << "short calls: batches queued so that the round trip is hidden";
  scheduler medium(1000, 1, 4);
  medium.record(1, 0.015);
  EXPECT_EQ(medium.in_flight(), 2) << "one call per batch: one queued behind the one running";
  scheduler long_calls(1000, 1, 4);
  long_calls.record(1, 1.0);
  EXPECT_EQ(long_calls.in_flight(), 1) << "1 s calls: none waits behind another";
}

TEST(Scheduler, BatchesGrowWithTheWorkerCountSoTheMasterKeepsUp) {
  // 1 ms calls: 10 ms batches on 8 workers; on 4,000 workers batches that cost the master at
  // most a quarter of its time (100 us each): 4,000 x 100 us x 4 = 1.6 s.
  scheduler few(100'000'000, 1, 8), many(100'000'000, 1, 4000);
  for (scheduler* s : {&few, &many}) {
    s->next_batch();
    s->record(1, 1e-3);
  }
  EXPECT_EQ(few.next_batch(), 10u);
  EXPECT_EQ(many.next_batch(), 1600u);
  EXPECT_DOUBLE_EQ(many.floor_seconds(), 0.8);
}
