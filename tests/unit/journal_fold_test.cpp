// The one reading of the journal: what records mean for each input and for the job.
#include "libburla/core/journal_fold.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace core = burla::core;
using burla::call_status;

namespace {

constexpr char ok = 1, failed = 2, crashed = 3;
constexpr char skipped = static_cast<char>(core::status_skipped);
constexpr char retrying = static_cast<char>(core::status_retrying);

core::job_spec spec_of(std::uint64_t n, int run = 1) {
  core::job_spec s;
  s.n_inputs = n;
  s.run = run;
  s.types.result_kind = core::value_kind::none;  // no result bytes to lay out
  return s;
}

/// A reply as a worker sends it; `texts` are error notes (type, what) for the items that failed.
struct reply {
  std::string bytes;
  core::reply_view view;
  reply(std::uint64_t first, std::string status, int rank = 1, std::vector<core::note> notes = {}) {
    const auto n = static_cast<std::uint32_t>(status.size());
    core::build_reply(bytes, {first, n, n, rank, 0}, status, "", notes);
    view = core::parse_reply(bytes);
  }
};

}  // namespace

TEST(JournalFold, ASkippedItemOfARetriedSegmentKeepsItsOutcome) {
  // A segment of inputs 0 and 1: input 1 fails once and runs again in a batch that skips input 0
  // (the `burla results` bug: input 0 showed as "unknown").
  core::journal_fold fold(spec_of(2), "j");
  fold.apply(core::start_record{{"h0", "h1"}, 1});
  const auto first = fold.apply(reply(0, {ok, retrying}, 1, {{1, core::note_kind::error_what, "once"}}).view);
  EXPECT_EQ(first.settled, 1u);
  ASSERT_EQ(first.retried.size(), 1u);
  EXPECT_EQ(first.retried[0].index, 1u);
  EXPECT_EQ(first.retried[0].what, "once");
  EXPECT_EQ(first.retried[0].host, "h1");
  const auto second = fold.apply(reply(0, {skipped, ok}, 1).view);
  EXPECT_EQ(second.settled, 1u);
  EXPECT_EQ(fold.status(), (std::vector<std::uint8_t>{1, 1}));
  EXPECT_EQ(fold.attempts(), (std::vector<std::uint8_t>{1, 2}));
  EXPECT_EQ(fold.ok(), 2u);
  EXPECT_EQ(fold.failed(), 0u);
  EXPECT_TRUE(fold.failures().empty());
}

TEST(JournalFold, AnAttemptThatCrashedAndRunsAgainIsACrashNotAThrow) {
  // Before: "input 0 threw crashed: killed by signal 11" on the caller's terminal.
  core::journal_fold fold(spec_of(1), "j");
  fold.apply(core::start_record{{"h0", "h1"}, 1});
  const auto change = fold.apply(reply(0, {retrying}, 1,
                                       {{0, core::note_kind::error_type, "crashed"},
                                        {0, core::note_kind::error_what, "killed by signal 11 (SIGSEGV)"}})
                                     .view);
  ASSERT_EQ(change.retried.size(), 1u);
  EXPECT_EQ(change.retried[0].status, call_status::crashed);
}

TEST(JournalFold, AFailureThatALaterRunFixesIsNoLongerAFailure) {
  core::journal_fold fold(spec_of(3, 2), "j");
  fold.apply(core::start_record{{"h0", "h1"}, 1});
  fold.apply(reply(0, {ok, crashed, failed}, 1,
                   {{1, core::note_kind::error_type, "crashed"}, {2, core::note_kind::error_what, "threw"}})
                 .view);
  EXPECT_EQ(fold.failed(), 2u);
  // Run 1's failures are not this run's: they did not stop it.
  EXPECT_FALSE(fold.first_failure());
  fold.apply(core::end_record{core::end_state::failed, 1, 2, 0, "", 1});
  EXPECT_FALSE(fold.end()) << "run 1's end is not run 2's";
  EXPECT_FALSE(fold.started());

  fold.apply(core::start_record{{"h0", "h1"}, 2});  // resumed with --failed
  EXPECT_TRUE(fold.started());
  const auto change = fold.apply(reply(1, {ok, failed}, 1, {{1, core::note_kind::error_what, "again"}}).view);
  EXPECT_EQ(change.first_failed, 2u);
  EXPECT_EQ(fold.status()[1], 1);
  EXPECT_EQ(fold.ok(), 2u);
  EXPECT_EQ(fold.failed(), 1u);
  ASSERT_EQ(fold.failures().size(), 1u);
  EXPECT_EQ(fold.failures().at(2).what, "again");
  EXPECT_EQ(fold.failures().at(2).attempts, 2);
  ASSERT_TRUE(fold.first_failure());
  EXPECT_EQ(fold.first_failure()->index, 2u);
  fold.apply(core::end_record{core::end_state::failed, 2, 1, 0, "", 2, core::end_cause::none});
  ASSERT_TRUE(fold.end());
  EXPECT_EQ(fold.end()->n_ok, 2u);
}

TEST(JournalFold, BatchesOutAreThoseDispatchedAndNotAnswered) {
  core::journal_fold fold(spec_of(10), "j");
  fold.apply(core::start_record{{"h0", "h1", "h2"}, 1});
  fold.apply(core::dispatch_record{0, 2, 1});
  fold.apply(core::dispatch_record{2, 2, 1});
  fold.apply(core::dispatch_record{4, 2, 2});
  EXPECT_EQ(fold.outstanding().size(), 3u);
  EXPECT_EQ(fold.busy_workers(), 2u);
  fold.apply(reply(0, {ok, ok}, 1).view);
  EXPECT_EQ(fold.outstanding().size(), 2u);
  EXPECT_EQ(fold.outstanding().begin()->first, 2u);
  // A new run forgets the batches of a run that was killed.
  fold.apply(core::start_record{{"h0", "h1", "h2"}, 1});
  EXPECT_TRUE(fold.outstanding().empty());
}

TEST(JournalFold, DamageIsAnErrorNamingTheJournal) {
  core::journal_fold fold(spec_of(2), "/jobs/x/journal");
  try {
    fold.apply(reply(1, {ok, ok}).view);
    FAIL() << "a batch past the last input was taken";
  } catch (const burla::error& e) {
    EXPECT_NE(std::string(e.what()).find("/jobs/x/journal"), std::string::npos) << e.what();
  }
  EXPECT_THROW(fold.apply(reply(0, {ok, 99}).view), burla::error);
  EXPECT_THROW(fold.apply(reply(0, {0}).view), burla::error) << "not_run is no outcome";
}

TEST(JournalFold, WithoutFailuresKeptOnlyStatusesAndAttemptsAreFolded) {
  core::journal_fold fold(spec_of(2), "j", /*keep_failures=*/false);
  fold.apply(core::start_record{{"h0", "h1"}, 1});
  const auto change = fold.apply(reply(0, {retrying, failed}).view);
  EXPECT_TRUE(change.retried.empty());
  EXPECT_TRUE(fold.failures().empty());
  EXPECT_EQ(fold.status()[1], 2);
  EXPECT_EQ(fold.failed(), 1u);
  EXPECT_EQ(fold.attempts()[0], 1);
}
