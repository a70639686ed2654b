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
}

TEST(WorkQueue, ANewJobPlansEveryInputAndHandsOutOneUnitEachUntilMeasured) {
  work_queue q({.n_inputs = 100}, std::vector<std::uint8_t>(100, not_run), false, 2, 0);
  EXPECT_EQ(q.todo(), 100u);
  // Three batches in flight per worker, one input each before any call was timed.
  for (int k = 0; k < 3; ++k) {
    auto item = q.next(1);
    ASSERT_TRUE(item);
    EXPECT_EQ(*item, (work_item{static_cast<std::uint64_t>(k), 1, {}}));
  }
  EXPECT_FALSE(q.next(1)) << "a fourth batch held by worker 1";
  EXPECT_EQ(q.next(2)->unit, 3u);
}

TEST(WorkQueue, AResumedRunDoesOnlyWhatHasNoOutcome) {
  // Segments of 4 inputs: the first done, the second half done, the third untouched.
  std::vector<std::uint8_t> status(12, not_run);
  for (int i = 0; i < 6; ++i) status[i] = ok;
  status[7] = failed;
  const unit_layout layout{.n_inputs = 12, .items_per_unit = 4};
  work_queue q(layout, status, false, 1, 0);
  EXPECT_EQ(q.todo(), 5u);  // 6, 8..11 (7 failed, and failures are not rerun)
  EXPECT_EQ(*q.next(1), (work_item{1, 1, std::string{1, 1, 0, 1}}));
  EXPECT_EQ(*q.next(1), (work_item{2, 1, {}}));
  EXPECT_FALSE(q.next(1));

  work_queue with_failed(layout, status, /*rerun_failed=*/true, 1, 0);
  EXPECT_EQ(with_failed.todo(), 6u);
  EXPECT_EQ(*with_failed.next(1), (work_item{1, 1, std::string{1, 1, 0, 0}}));
}

TEST(WorkQueue, AFailedCallRunsAgainOnAnotherWorkerUpToMaxRetries) {
  const unit_layout layout{.n_inputs = 8, .items_per_unit = 4};
  work_queue q(layout, std::vector<std::uint8_t>(8, not_run), false, 2, /*max_retries=*/1);
  const auto a = q.next(1), b = q.next(2);
  ASSERT_TRUE(a && b);
  q.answered(1, 0, 4, 0.01);
  EXPECT_TRUE(q.retry(1, 1));
  EXPECT_FALSE(q.next(1)) << "the retry must not go back to the worker it failed on";
  // Worker 2 takes it: only input 1 of its segment runs.
  q.answered(2, 4, 4, 0.01);
  EXPECT_EQ(*q.next(2), (work_item{0, 1, std::string{1, 0, 1, 1}}));
  EXPECT_FALSE(q.retry(1, 2)) << "max_retries = 1";
}

TEST(WorkQueue, ADeadWorkersBatchesGoToOthersOnceThenFail) {
  work_queue q({.n_inputs = 4}, std::vector<std::uint8_t>(4, not_run), false, 2, 0);
  ASSERT_EQ(q.next(1)->unit, 0u);
  ASSERT_EQ(q.next(1)->unit, 1u);
  EXPECT_TRUE(q.worker_died(1).empty()) << "lost once: run again";
  EXPECT_FALSE(q.alive(1));
  EXPECT_EQ(q.live_workers(), 1);
  EXPECT_FALSE(q.next(1));
  std::set<std::uint64_t> again;
  for (int k = 0; k < 2; ++k) again.insert(q.next(2)->unit);
  EXPECT_EQ(again, (std::set<std::uint64_t>{0, 1}));
  // Worker 2 dies holding them too: lost twice, they fail.
  const auto lost = q.worker_died(2);
  EXPECT_EQ(std::set<std::uint64_t>(lost.begin(), lost.end()), (std::set<std::uint64_t>{0, 1}));
  EXPECT_EQ(q.live_workers(), 0);
}

TEST(WorkQueue, OnlyTheReplyOfTheOldestBatchAWorkerHoldsIsTaken) {
  work_queue q({.n_inputs = 10}, std::vector<std::uint8_t>(10, not_run), false, 1, 0);
  ASSERT_EQ(q.next(1)->unit, 0u);
  ASSERT_EQ(q.next(1)->unit, 1u);
  EXPECT_TRUE(q.answered(1, 0, 1, 0.001));
  EXPECT_FALSE(q.answered(1, 0, 1, 0.001)) << "a second reply of batch 0";
  EXPECT_FALSE(q.answered(1, 5, 1, 0.001)) << "a reply of a batch never sent";
  EXPECT_TRUE(q.answered(1, 1, 1, 0.001));
  EXPECT_FALSE(q.holds_work(1));
}
