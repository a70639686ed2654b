// The master's plan and hand-out, without MPI: what a run does, retries, and dead workers.
#include "mpi_runner/src/work_queue.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

using burla::mpi_runner::unit_layout;
using burla::mpi_runner::work_item;
using burla::mpi_runner::work_queue;

namespace {
constexpr std::uint8_t not_run = 0, ok = 1, failed = 2;
constexpr int any_depth = 1 << 20;
}  // namespace

TEST(WorkQueue, ANewJobHandsOneUnitToEachWorkerUntilCallsAreMeasured) {
  work_queue q({.n_inputs = 100}, std::vector<std::uint8_t>(100, not_run), false, 2, 0);
  EXPECT_EQ(q.todo(), 100u);
  EXPECT_EQ(*q.next(1, any_depth), (work_item{0, 1, {}}));
  EXPECT_FALSE(q.next(1, any_depth)) << "a second batch held by worker 1 before any call was timed";
  EXPECT_EQ(q.next(2, any_depth)->unit, 1u);
  // Short calls measured: up to three batches each, so that round trips do not idle a worker.
  ASSERT_TRUE(q.answered(1, 0, 1, 1e-3));
  EXPECT_EQ(q.in_flight(), 3);
  for (int k = 0; k < 3; ++k) EXPECT_TRUE(q.next(1, any_depth));
  EXPECT_FALSE(q.next(1, any_depth)) << "a fourth batch held by worker 1";
  EXPECT_FALSE(q.next(2, 1)) << "depth 1: worker 2 already holds one";
}

TEST(WorkQueue, ALongCallIsNeverQueuedBehindAnother) {
  // Two calls of 1 s on two workers run at once, not one after the other on worker 1.
  work_queue q({.n_inputs = 4}, std::vector<std::uint8_t>(4, not_run), false, 2, 0);
  EXPECT_EQ(q.next(1, any_depth)->unit, 0u);
  EXPECT_EQ(q.next(2, any_depth)->unit, 1u);
  ASSERT_TRUE(q.answered(1, 0, 1, 1.0));
  EXPECT_EQ(q.in_flight(), 1);
  EXPECT_EQ(q.next(1, any_depth)->unit, 2u);
  EXPECT_FALSE(q.next(1, any_depth));
  EXPECT_FALSE(q.next(2, any_depth));
}

TEST(WorkQueue, AResumedRunDoesOnlyWhatHasNoOutcome) {
  // Segments of 4 inputs: the first done, the second half done, the third untouched.
  std::vector<std::uint8_t> status(12, not_run);
  for (int i = 0; i < 6; ++i) status[i] = ok;
  status[7] = failed;
  const unit_layout layout{.n_inputs = 12, .items_per_unit = 4};
  work_queue q(layout, status, false, 1, 0);
  EXPECT_EQ(q.todo(), 5u);  // 6, 8..11 (7 failed, and failures are not rerun)
  EXPECT_EQ(*q.next(1, any_depth), (work_item{1, 1, std::string{1, 1, 0, 1}}));
  ASSERT_TRUE(q.answered(1, 4, 1, 1e-3));
  EXPECT_EQ(*q.next(1, any_depth), (work_item{2, 1, {}}));
  EXPECT_FALSE(q.next(1, any_depth));

  work_queue with_failed(layout, status, /*rerun_failed=*/true, 1, 0);
  EXPECT_EQ(with_failed.todo(), 6u);
  EXPECT_EQ(*with_failed.next(1, any_depth), (work_item{1, 1, std::string{1, 1, 0, 0}}));
}

TEST(WorkQueue, AFailedCallRunsAgainOnAnotherWorkerUpToMaxRetries) {
  const unit_layout layout{.n_inputs = 8, .items_per_unit = 4};
  work_queue q(layout, std::vector<std::uint8_t>(8, not_run), false, 2, /*max_retries=*/1);
  const auto a = q.next(1, any_depth), b = q.next(2, any_depth);
  ASSERT_TRUE(a && b);
  q.answered(1, 0, 4, 0.01);
  EXPECT_TRUE(q.retry(1, 1));
  EXPECT_FALSE(q.next(1, any_depth)) << "the retry must not go back to the worker it failed on";
  // Worker 2 takes it: only input 1 of its segment runs.
  q.answered(2, 4, 4, 0.01);
  EXPECT_EQ(*q.next(2, any_depth), (work_item{0, 1, std::string{1, 0, 1, 1}}));
  EXPECT_FALSE(q.retry(1, 2)) << "max_retries = 1";
}

TEST(WorkQueue, ADeadWorkersBatchesGoToOthersOnceThenFail) {
  work_queue q({.n_inputs = 4}, std::vector<std::uint8_t>(4, not_run), false, 2, 0);
  ASSERT_EQ(q.next(1, any_depth)->unit, 0u);
  ASSERT_EQ(q.next(2, any_depth)->unit, 1u);
  EXPECT_TRUE(q.worker_died(1).empty()) << "lost once: run again";
  EXPECT_FALSE(q.alive(1));
  EXPECT_EQ(q.live_workers(), 1);
  EXPECT_FALSE(q.next(1, any_depth));
  ASSERT_TRUE(q.answered(2, 1, 1, 1.0));
  EXPECT_EQ(*q.next(2, any_depth), (work_item{0, 1, {}})) << "the dead worker's batch comes first";
  // Worker 2 dies holding it too: lost twice, it fails.
  EXPECT_EQ(q.worker_died(2), (std::vector<std::uint64_t>{0}));
  EXPECT_EQ(q.live_workers(), 0);
}

TEST(WorkQueue, OnlyTheReplyOfTheOldestBatchAWorkerHoldsIsTaken) {
  work_queue q({.n_inputs = 10}, std::vector<std::uint8_t>(10, not_run), false, 1, 0);
  ASSERT_EQ(q.next(1, any_depth)->unit, 0u);
  EXPECT_TRUE(q.answered(1, 0, 1, 5e-3));  // 5 ms calls: two per batch, three batches held
  EXPECT_FALSE(q.answered(1, 0, 1, 5e-3)) << "a second reply of batch 0";
  EXPECT_EQ(*q.next(1, any_depth), (work_item{1, 2, {}}));
  EXPECT_EQ(*q.next(1, any_depth), (work_item{3, 2, {}}));
  EXPECT_FALSE(q.answered(1, 3, 2, 0.01)) << "not the oldest batch it holds";
  EXPECT_FALSE(q.answered(1, 9, 1, 5e-3)) << "a reply of a batch never sent";
  EXPECT_TRUE(q.answered(1, 1, 2, 0.01));
  EXPECT_TRUE(q.answered(1, 3, 2, 0.01));
  EXPECT_FALSE(q.holds_work(1));
}
