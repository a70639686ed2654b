// The files of a job directory: job.ini, the journal, and what readers do with damaged ones.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <list>
#include <string>

#include "libburla/core/checksum.hpp"
#include "libburla/core/job_spec.hpp"
#include "libburla/core/journal.hpp"
#include "libburla/core/posix.hpp"
#include "libburla/core/reply.hpp"
#include "libburla/core/results_reader.hpp"

namespace proto = burla::core;

namespace {

std::string temp_dir() {
  std::string tmpl = "/tmp/burla-unit-XXXXXX";
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

burla::core::job_spec sample_spec() {
  burla::core::job_spec s;
  s.id = "20261122-000000-abcdef";
  s.created = "2026-11-22T00:00:00Z";
  s.caller_host = "login1";
  s.executable = "/home/a user/my#prog;%20\nx";  // INI-hostile characters
  s.build_id = "0123456789abcdef";
  s.n_inputs = 12345;
  s.segment_items = 7;
  s.workers = 3;
  s.func_cpu = 2;
  s.func_ram = 1.5;
  s.types.input_type = "std::vector<int, std::allocator<int> >";
  s.types.result_type = "double";
  s.types.input_kind = burla::detail::value_kind::serialized;
  s.types.result_kind = burla::detail::value_kind::fixed;
  s.types.result_size = 8;
  s.types.result_h5 = "f64";
  s.types.batch_function = {"beef", "/lib/x.so", 4096};
  s.types.callable_state = std::string("\0\x01\xff ab", 6);
  return s;
}

}  // namespace

TEST(JobSpec, RoundTripsEvenHostileStrings) {
  const std::string dir = temp_dir();
  const auto s = sample_spec();
  burla::core::write_job_spec(dir + "/job.ini", s);
  const auto r = burla::core::read_job_spec(dir + "/job.ini");
  EXPECT_EQ(r.executable, s.executable);
  EXPECT_EQ(r.n_inputs, s.n_inputs);
  EXPECT_EQ(r.segment_items, s.segment_items);
  EXPECT_EQ(r.func_ram, s.func_ram);
  EXPECT_EQ(r.types.input_type, s.types.input_type);
  EXPECT_EQ(r.types.input_kind, s.types.input_kind);
  EXPECT_EQ(r.types.batch_function.offset, 4096u);
  EXPECT_EQ(r.types.batch_function.module, "/lib/x.so");
  EXPECT_EQ(r.types.callable_state, s.types.callable_state);
  EXPECT_FALSE(r.types.callable_is_function);
}

TEST(JobSpec, TypeCodesOfComplexArraysAndVectorsAreCheckedAgainstTheirSizes) {
  const std::string dir = temp_dir();
  auto s = sample_spec();  // no inputs.bin: only the codes and sizes are checked
  s.types.input_kind = burla::detail::value_kind::sequence;
  s.types.input_h5 = "v:f64";
  s.types.result_h5 = "a3:c128";
  s.types.result_size = 48;
  burla::core::write_job_spec(dir + "/job.ini", s);
  const auto r = burla::core::read_job_spec(dir + "/job.ini");
  EXPECT_EQ(r.types.input_kind, burla::detail::value_kind::sequence);
  EXPECT_EQ(r.types.input_h5, "v:f64");
  EXPECT_EQ(r.types.result_h5, "a3:c128");
  auto refused = [&](auto change) {
    auto bad = s;
    change(bad);
    burla::core::write_job_spec(dir + "/job.ini", bad);
    EXPECT_THROW(burla::core::read_job_spec(dir + "/job.ini"), burla::error);
  };
  refused([](auto& b) { b.types.result_size = 24; });      // 3 complex doubles are 48 bytes
  refused([](auto& b) { b.types.result_h5 = "v:c128"; });  // a sequence is no fixed value
  refused([](auto& b) { b.types.input_h5 = "f64"; });      // a fixed code for a sequence
  refused([](auto& b) { b.types.input_h5 = ""; });         // sequences need their code
  refused([](auto& b) { b.types.input_kind = burla::detail::value_kind::none; });
}

TEST(JobSpec, TypeCodesOfRecordsAreCheckedAgainstTheirSizes) {
  const std::string dir = temp_dir();
  auto s = sample_spec();
  s.types.input_kind = burla::detail::value_kind::sequence;
  s.types.input_h5 = "v:s16{x@0:f64,n@8:i32}";
  s.types.result_h5 = "s24{x@0:f64,n@8:i32,ok@12:bool,w@14:a2:i16}";
  s.types.result_size = 24;
  burla::core::write_job_spec(dir + "/job.ini", s);
  const auto r = burla::core::read_job_spec(dir + "/job.ini");
  EXPECT_EQ(r.types.input_h5, s.types.input_h5);
  EXPECT_EQ(r.types.result_h5, s.types.result_h5);
  auto refused = [&](auto change) {
    auto bad = s;
    change(bad);
    burla::core::write_job_spec(dir + "/job.ini", bad);
    EXPECT_THROW(burla::core::read_job_spec(dir + "/job.ini"), burla::error);
  };
  refused([](auto& b) { b.types.result_size = 16; });                    // the record is 24 bytes
  refused([](auto& b) { b.types.result_h5 = "s24{x@0:f64,n@4:i32}"; });  // overlapping members
  refused([](auto& b) { b.types.input_h5 = "s16{x@0:f64,n@8:i32}"; });   // a fixed code for a sequence
}

TEST(JobSpec, LibstdcxxsLongStringNameOfOlderJobsReadsAsStdString) {
  // attach<std::string> compares against this name: jobs written before it was shortened match.
  const std::string dir = temp_dir();
  auto s = sample_spec();
  const std::string long_name =
      "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >";
  s.types.result_type = long_name;
  s.types.input_type = "std::vector<" + long_name + ", std::allocator<" + long_name + "> >";
  burla::core::write_job_spec(dir + "/job.ini", s);
  const auto r = burla::core::read_job_spec(dir + "/job.ini");
  EXPECT_EQ(r.types.result_type, "std::string");
  EXPECT_EQ(r.types.input_type, "std::vector<std::string, std::allocator<std::string> >");
  EXPECT_EQ(r.types.state_size, 0u) << "a job.ini without state_size has no state.bin";
}

TEST(JobSpec, KeepsWhatAResumedRunIsStartedWith) {
  // Resume starts from job.ini alone: the backend, per-call resources and the Slurm request.
  const std::string dir = temp_dir();
  auto s = sample_spec();
  s.backend = burla::core::backend_kind::allocation;
  s.func_gpu = 2;
  s.max_parallelism = 9;
  s.slurm.partition = "gpu";
  s.slurm.account = "proj 1";
  s.slurm.time_limit_s = 7200;
  s.slurm.sbatch_args = {"--constraint=a100", "--exclusive"};
  s.slurm.packages = {"gcc/12", "cuda/12.2"};
  s.slurm.image = "/scratch/app.sif";
  s.slurm.stage_program = true;
  burla::core::write_job_spec(dir + "/job.ini", s);
  const auto r = burla::core::read_job_spec(dir + "/job.ini");
  EXPECT_EQ(r.backend, burla::core::backend_kind::allocation);
  EXPECT_EQ(r.func_cpu, 2);
  EXPECT_EQ(r.func_ram, 1.5);
  EXPECT_EQ(r.func_gpu, 2);
  EXPECT_EQ(r.max_parallelism, 9);
  EXPECT_EQ(r.slurm.partition, "gpu");
  EXPECT_EQ(r.slurm.account, "proj 1");
  EXPECT_EQ(r.slurm.qos, "");
  EXPECT_EQ(r.slurm.time_limit_s, 7200u);
  EXPECT_EQ(r.slurm.sbatch_args, s.slurm.sbatch_args);
  EXPECT_EQ(r.slurm.packages, s.slurm.packages);
  EXPECT_EQ(r.slurm.image, "/scratch/app.sif");
  EXPECT_TRUE(r.slurm.stage_program);
}

TEST(JobSpec, AFileWrittenBeforeStageProgramExistedReadsAsNotStaged) {
  const std::string dir = temp_dir();
  auto s = sample_spec();
  s.slurm.stage_program = true;
  burla::core::write_job_spec(dir + "/job.ini", s);
  std::string text = burla::posix::read_file(dir + "/job.ini");
  const std::size_t line = text.find("slurm.stage_program = 1\n");
  ASSERT_NE(line, std::string::npos) << text;
  text.erase(line, std::string("slurm.stage_program = 1\n").size());
  const std::string body = text.substr(0, text.rfind("checksum = "));
  burla::posix::write_file_atomic(dir + "/job.ini", body + burla::core::job_ini_checksum_line(body));
  EXPECT_FALSE(burla::core::read_job_spec(dir + "/job.ini").slurm.stage_program);
}

TEST(JobSpec, AFileOfAnotherVersionIsNamedAsSuch) {
  const std::string dir = temp_dir();
  burla::core::write_job_spec(dir + "/job.ini", sample_spec());
  std::string text = burla::posix::read_file(dir + "/job.ini");
  text.replace(text.find("format_version = 2"), 18, "format_version = 1");
  const std::string body = text.substr(0, text.rfind("checksum = "));
  burla::posix::write_file_atomic(dir + "/job.ini", body + burla::core::job_ini_checksum_line(body));
  try {
    burla::core::read_job_spec(dir + "/job.ini");
    FAIL() << "a version 1 file was read";
  } catch (const burla::error& e) {
    EXPECT_NE(std::string(e.what()).find("format_version 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("another version of burla"), std::string::npos) << e.what();
  }
}

namespace {

/// job.ini edited by hand, its checksum line made right again: what the parser's own checks see.
std::string resealed(const std::string& text) {
  const std::string body = text.substr(0, text.rfind("checksum = "));
  return body + burla::core::job_ini_checksum_line(body);
}

}  // namespace

TEST(JobSpec, DamagedFilesGiveClearErrors) {
  const std::string dir = temp_dir();
  burla::core::write_job_spec(dir + "/job.ini", sample_spec());
  const std::string good = burla::posix::read_file(dir + "/job.ini");

  auto expect_error = [&](const std::string& text, const std::string& mention) {
    burla::posix::write_file_atomic(dir + "/job.ini", text);
    try {
      burla::core::read_job_spec(dir + "/job.ini");
      ADD_FAILURE() << "no error for a damaged job.ini; wanted one mentioning " << mention;
    } catch (const burla::error& e) {
      EXPECT_NE(std::string(e.what()).find(mention), std::string::npos) << e.what();
    }
  };
  std::string missing = good;
  missing.erase(missing.find("n_inputs"),
                missing.find('\n', missing.find("n_inputs")) - missing.find("n_inputs") + 1);
  expect_error(resealed(missing), "n_inputs");
  expect_error(good.substr(0, good.size() / 2), "damaged");
  std::string bad_number = good;
  bad_number.replace(bad_number.find("workers = 3"), 11, "workers = x");
  expect_error(resealed(bad_number), "workers");
  expect_error(
      resealed("format_version = 9\n" + good.substr(good.find('\n', good.find("format_version")) + 1)),
      "version");
  // Any change the checksum does not cover is damage, even one the parser would accept.
  std::string other_offset = good;
  const auto at =
      other_offset.find("batch_function.offset = ") + std::string("batch_function.offset = ").size();
  other_offset[at] = other_offset[at] == '1' ? '2' : '1';
  expect_error(other_offset, "checksum does not match");
  expect_error(good.substr(0, good.rfind("checksum = ")), "no checksum line");
  EXPECT_EQ(resealed(good), good);
  EXPECT_THROW(burla::core::read_job_spec(dir + "/nonexistent.ini"), burla::error);
}

TEST(Protocol, RepliesRoundTrip) {
  std::string bytes;
  const std::string status = {1, 2, 1};
  proto::build_reply(
      bytes, {100, 5, 3, 2, 999}, status, "RESULTS",
      {{1, proto::note_kind::error_type, "std::logic_error"}, {2, proto::note_kind::out, "hi\n"}});
  const auto r = proto::parse_reply(bytes);
  EXPECT_EQ(r.head.first, 100u);
  EXPECT_EQ(r.head.requested, 5u);
  EXPECT_EQ(r.head.done, 3u);
  EXPECT_EQ(r.head.rank, 2);
  EXPECT_EQ(r.status[1], 2);
  EXPECT_EQ(r.results, "RESULTS");
  ASSERT_EQ(r.notes.size(), 2u);
  EXPECT_EQ(r.notes[1].text, "hi\n");
}

TEST(Protocol, EveryTruncationOrCorruptionOfAReplyIsAnError) {
  std::string bytes;
  proto::build_reply(bytes, {0, 2, 2, 1, 1}, std::string{1, 1}, "xxxxxxxxxxxxxxxx",
                     {{0, proto::note_kind::out, "output"}});
  for (std::size_t cut = 0; cut < bytes.size(); ++cut)
    EXPECT_THROW(proto::parse_reply(std::string_view(bytes).substr(0, cut)), burla::error) << cut;
  std::string done_too_big = bytes;
  done_too_big[12] = 9;  // done > requested
  EXPECT_THROW(proto::parse_reply(done_too_big), burla::error);
}

TEST(Journal, ReaderSeesOnlyCompleteRecords) {
  const std::string path = temp_dir() + "/journal";
  proto::journal_reader reader(path);
  proto::record rec;
  EXPECT_FALSE(reader.next(rec));  // not created yet

  auto writer = proto::journal_writer::create(path);
  writer.append(proto::start_record{{"a", "b"}});
  ASSERT_TRUE(reader.next(rec));
  ASSERT_TRUE(std::holds_alternative<proto::start_record>(rec));
  EXPECT_EQ(std::get<proto::start_record>(rec).hosts.size(), 2u);

  // Half a record, as a reader may see while the master writes: not returned until complete.
  const std::string body = proto::encode(proto::dispatch_record{7, 3, 1});
  std::string record = proto::record_head(proto::record_type::dispatch, body, body.size()) + body;
  burla::posix::fd f = burla::posix::open_file(path, O_WRONLY | O_APPEND);
  burla::posix::write_all(f.get(), record.substr(0, 10), path);
  EXPECT_FALSE(reader.next(rec));
  burla::posix::write_all(f.get(), record.substr(10), path);
  ASSERT_TRUE(reader.next(rec));
  EXPECT_EQ(std::get<proto::dispatch_record>(rec).first, 7u);
}

TEST(Journal, ANewJournalIsCreatedExclusivelyAResumedOneIsAppendedTo) {
  const std::string path = temp_dir() + "/journal";
  {
    auto w = proto::journal_writer::create(path);
    w.append(proto::start_record{{"a", "b"}, 1});
  }
  // A first run finding a journal there is not a first run: refused, the file left as it was.
  EXPECT_THROW(proto::journal_writer::create(path), burla::error);
  proto::journal_writer::reopen(path).append(proto::end_record{});
  proto::journal_reader reader(path);
  proto::record rec;
  ASSERT_TRUE(reader.next(rec));
  EXPECT_TRUE(std::holds_alternative<proto::start_record>(rec));
  ASSERT_TRUE(reader.next(rec));
  EXPECT_TRUE(std::holds_alternative<proto::end_record>(rec));
  EXPECT_FALSE(reader.next(rec));
}

TEST(Journal, ADamagedRecordIsAnErrorNamingItsByteNotATornEnd) {
  // A size set to 2^39 and a changed payload byte: before, the first passed for a record still
  // being written (resume cut every record after it), the second for other values.
  const std::string path = temp_dir() + "/journal";
  auto w = proto::journal_writer::create(path);
  w.append(proto::start_record{{"a", "b"}, 1});
  w.append(proto::dispatch_record{0, 4, 1});
  w.append(proto::dispatch_record{4, 4, 1});
  const std::string whole = burla::posix::read_file(path);
  const std::size_t second = proto::journal_magic.size() + proto::record_head_size +
                             proto::encode(proto::start_record{{"a", "b"}, 1}).size();
  auto damaged_at = [&](std::size_t offset, const std::string& bytes) {
    std::string text = whole;
    text.replace(offset, bytes.size(), bytes);
    burla::posix::write_file_atomic(path, text);
    proto::journal_reader reader(path);
    proto::record rec;
    EXPECT_TRUE(reader.next(rec));  // the record before the damage is whole
    try {
      while (reader.next(rec)) {
      }
      ADD_FAILURE() << "damage at byte " << offset << " was not found";
    } catch (const burla::error& e) {
      EXPECT_NE(std::string(e.what()).find("at byte " + std::to_string(second)), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("after 1 whole records"), std::string::npos) << e.what();
    }
  };
  const std::uint64_t huge = std::uint64_t{1} << 39;
  damaged_at(second + 8, std::string(reinterpret_cast<const char*>(&huge), 8));  // the size
  damaged_at(second + proto::record_head_size, std::string(1, '\x7f'));          // a payload byte
  // A record cut short at the end is not damage: it is still being written, or was torn.
  burla::posix::write_file_atomic(path, whole.substr(0, whole.size() - 3));
  proto::journal_reader reader(path);
  proto::record rec;
  int n = 0;
  while (reader.next(rec)) ++n;
  EXPECT_EQ(n, 2);
  EXPECT_EQ(reader.complete_bytes(), whole.size() - proto::record_head_size - 16);
}

TEST(Journal, RejectsFilesThatAreNotJournals) {
  const std::string path = temp_dir() + "/journal";
  burla::posix::write_file_atomic(path, "NOTAJOURNALATALL");
  proto::journal_reader reader(path);
  proto::record rec;
  EXPECT_THROW(reader.next(rec), burla::error);
}

TEST(Posix, ALockIsHeldByOneOpenFileAtATime) {
  const std::string path = temp_dir() + "/resume.lock";
  auto first = burla::posix::try_lock(path);
  ASSERT_TRUE(first);
  EXPECT_FALSE(burla::posix::try_lock(path)) << "a second resume got the lock";
  first.reset();  // the holder is gone (a crashed caller's lock goes with its process)
  EXPECT_TRUE(burla::posix::try_lock(path));
}

TEST(Posix, OpenRefusesPlantedSymlinks) {
  const std::string dir = temp_dir();
  ASSERT_EQ(::symlink("/etc/passwd", (dir + "/results.h5").c_str()), 0);
  EXPECT_THROW(burla::posix::open_file(dir + "/results.h5", O_WRONLY | O_CREAT), burla::error);
}

namespace {
/// A reply of `status.size()` calls from `first` with `results` and one line of output.
std::string batch(std::uint64_t first, const std::string& status, const std::string& results) {
  std::string out;
  proto::build_reply(
      out,
      {first, static_cast<std::uint32_t>(status.size()), static_cast<std::uint32_t>(status.size()), 1, 5},
      status, results, {{0, proto::note_kind::out, "printed\n"}});
  return out;
}

std::vector<proto::record> records_of(const std::string& path, std::list<std::string>& keep) {
  proto::journal_reader reader(path);
  std::vector<proto::record> out;
  for (proto::record r; reader.next(r);) {
    if (auto* b = std::get_if<proto::reply_view>(&r)) {  // views die with the reader's next read
      b->results = keep.emplace_back(b->results);
      const std::string_view notes = keep.emplace_back(b->notes.empty() ? "" : b->notes[0].text);
      b->notes.assign(1, {0, proto::note_kind::out, notes});
      b->status = nullptr;
    }
    out.push_back(r);
  }
  return out;
}
}  // namespace

TEST(Journal, ACompactedCopyKeepsEverythingButTheResults) {
  const std::string dir = temp_dir(), path = dir + "/journal";
  const std::string big(3u << 20, 'r');  // larger than one read of the reader
  {
    auto w = proto::journal_writer::create(path);
    w.append(proto::start_record{{"a", "b"}, 1});
    w.append(proto::dispatch_record{0, 2, 1});
    w.append_batch(batch(0, std::string(2, '\1'), big));
    proto::end_record end;
    end.n_ok = 2;
    w.append(end);
  }
  burla::posix::set_modified_time(path, 1700000000);  // the job ended long ago: gc's age stays
  std::list<std::string> keep;
  const auto before = records_of(path, keep);
  ASSERT_EQ(before.size(), 4u);
  EXPECT_EQ(std::get<proto::reply_view>(before[2]).results, big);
  {
    proto::journal_compactor c(path);
    proto::journal_reader reader(path);
    for (proto::record r; reader.next(r);) c.take(r);
    EXPECT_TRUE(c.commit());
  }
  EXPECT_LT(burla::posix::file_size(burla::posix::open_file(path, O_RDONLY).get(), path), 1000u);
  EXPECT_EQ(burla::posix::list_dir(dir).size(), 1u) << "the copy was not renamed";
  EXPECT_EQ(burla::posix::modified_time(path), 1700000000);
  const auto after = records_of(path, keep);
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(std::get<proto::start_record>(after[0]).hosts, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(std::get<proto::dispatch_record>(after[1]).count, 2u);
  const auto& b = std::get<proto::reply_view>(after[2]);
  EXPECT_EQ(b.where, proto::results_in::rows);
  EXPECT_TRUE(b.results.empty());
  EXPECT_EQ(b.head.done, 2u);
  EXPECT_EQ(b.head.elapsed_ns, 5u);
  EXPECT_EQ(b.notes.at(0).text, "printed\n");
  EXPECT_EQ(std::get<proto::end_record>(after[3]).n_ok, 2u);
  // Compact already: a second compaction has nothing to do.
  proto::journal_compactor again(path);
  proto::journal_reader reader(path);
  for (proto::record r; reader.next(r);) again.take(r);
  EXPECT_FALSE(again.commit());
}

TEST(Journal, APlacedBatchKeepsItsRunAndPlacesAndCompactsLikeAnyOther) {
  const std::string dir = temp_dir(), path = dir + "/journal";
  const std::vector<proto::result_place> places{{4096, 1 << 20, 0xabcdef01}, {0, 0, 0}};
  {
    auto w = proto::journal_writer::create(path);
    const std::string reply = batch(7, std::string("\1\376", 2), {});
    w.append_placed(proto::parse_reply(reply), 3, places);
    proto::end_record end;
    end.n_ok = 1;
    w.append(end);
  }
  std::list<std::string> keep;
  const auto records = records_of(path, keep);
  ASSERT_EQ(records.size(), 2u);
  const auto& b = std::get<proto::reply_view>(records[0]);
  EXPECT_EQ(b.where, proto::results_in::places);
  EXPECT_EQ(b.run, 3u);
  EXPECT_EQ(b.head.first, 7u);
  const auto back = proto::decode_places(b.results);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].offset, 4096u);
  EXPECT_EQ(back[0].size, 1u << 20);
  EXPECT_EQ(back[0].crc, 0xabcdef01u);
  EXPECT_EQ(back[1].size, 0u);
  // Places that are not whole are damage.
  std::string payload(4, '\0');
  proto::build_reply(payload, {7, 2, 2, 1, 5}, std::string(2, '\1'), std::string(30, 'x'), {});
  EXPECT_THROW(proto::decode(proto::record_type::placed_batch, payload), burla::error);
  {
    proto::journal_compactor c(path);
    proto::journal_reader reader(path);
    for (proto::record r; reader.next(r);) c.take(r);
    EXPECT_TRUE(c.commit());
  }
  EXPECT_EQ(std::get<proto::reply_view>(records_of(path, keep)[0]).where, proto::results_in::rows);
}

TEST(BatchResults, PlacedResultsAreReadFromTheirRunsFileAndCheckedAgainstTheirCrc) {
  const std::string dir = temp_dir();
  burla::posix::write_file_atomic(dir + "/.results.run2.h5", "..HELLO..WORLD");
  proto::job_types types;
  types.result_kind = burla::detail::value_kind::serialized;
  const std::vector<proto::result_place> places{
      {2, 5, proto::crc32c("HELLO")}, {0, 0, 0}, {9, 5, proto::crc32c("WORLD")}};
  const std::string reply = batch(0, std::string(3, '\1'), proto::encode_places(places));
  proto::reply_view r = proto::parse_reply(reply);
  r.where = proto::results_in::places;
  r.run = 2;
  proto::batch_results results(dir + "/results.h5", types);
  std::string expected;
  burla::detail::byte_writer w(expected);
  for (const char* v : {"HELLO", "", "WORLD"}) w.put_bytes(v);
  EXPECT_EQ(results.of(r), expected);
  // Changed bytes (a replaced or damaged file) are an error naming it, not other results.
  burla::posix::write_file_atomic(dir + "/.results.run2.h5", "..HELLO..WORLT");
  proto::batch_results fresh(dir + "/results.h5", types);
  try {
    fresh.of(r);
    ADD_FAILURE() << "changed bytes were read as results";
  } catch (const burla::error& e) {
    EXPECT_NE(std::string(e.what()).find(".results.run2.h5"), std::string::npos) << e.what();
  }
}

TEST(BatchResults, FixedSizeResultsAreReadEndToEndFromTheirPlacesWhoseBytesMustAddUp) {
  const std::string dir = temp_dir();
  burla::posix::write_file_atomic(dir + "/.results.run1.h5", "..AAAABBBB..CCCC");
  proto::job_types types;
  types.result_kind = burla::detail::value_kind::fixed;
  types.result_size = 4;
  // Three results of 4 bytes, in two chunks of the file.
  const std::vector<proto::result_place> places{{2, 8, proto::crc32c("AAAABBBB")},
                                                {12, 4, proto::crc32c("CCCC")}};
  const std::string reply = batch(0, std::string(3, '\1'), proto::encode_places(places));
  proto::reply_view r = proto::parse_reply(reply);
  r.where = proto::results_in::places;
  r.run = 1;
  proto::batch_results results(dir + "/results.h5", types);
  EXPECT_EQ(results.of(r), "AAAABBBBCCCC");
  // Places for more or fewer bytes than the batch's results are damage, not results.
  const std::vector<proto::result_place> short_places{places[0]};
  const std::string cut = batch(0, std::string(3, '\1'), proto::encode_places(short_places));
  proto::reply_view c = proto::parse_reply(cut);
  c.where = proto::results_in::places;
  c.run = 1;
  try {
    results.of(c);
    ADD_FAILURE() << "places of 8 bytes were read as 3 results of 4";
  } catch (const burla::error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupted placed batch"), std::string::npos) << e.what();
  }
}

TEST(Journal, ACompactionNotCommittedLeavesTheJournalAsItWas) {
  const std::string dir = temp_dir(), path = dir + "/journal";
  {
    auto w = proto::journal_writer::create(path);
    w.append_batch(batch(0, std::string(1, '\1'), "12345678"));
  }
  const std::string bytes = burla::posix::read_file(path);
  {
    proto::journal_compactor c(path);
    proto::journal_reader reader(path);
    for (proto::record r; reader.next(r);) c.take(r);
    c.keep_journal();
    EXPECT_FALSE(c.commit());
  }
  {
    proto::journal_compactor c(path);  // destroyed without a commit
    proto::journal_reader reader(path);
    for (proto::record r; reader.next(r);) c.take(r);
  }
  EXPECT_EQ(burla::posix::read_file(path), bytes);
  EXPECT_EQ(burla::posix::list_dir(dir).size(), 1u) << "a copy was left behind";
}

TEST(Checksum, CrcOfKnownDataAndOfLongDataInPiecesAgree) {
  EXPECT_EQ(proto::crc32c("123456789"), 0xe3069283u);  // CRC-32C's check value
  EXPECT_EQ(proto::crc32c(""), 0u);
  // Long data goes three blocks at a time; a CRC continued over pieces of a few bytes goes one
  // byte or word at a time: both must agree, at every length and alignment around the blocks.
  std::string data(200000, '\0');
  std::uint32_t x = 12345;
  for (char& c : data) c = static_cast<char>((x = x * 1103515245 + 12345) >> 16);
  for (std::size_t offset : {0, 1, 7}) {
    for (std::size_t n : {std::size_t{24575}, std::size_t{24576}, std::size_t{24577}, std::size_t{49160},
                          std::size_t{199990}}) {
      const std::string_view whole = std::string_view(data).substr(offset, n);
      std::uint32_t pieces = 0;
      for (std::size_t at = 0; at < n; at += 5) pieces = proto::crc32c(whole.substr(at, 5), pieces);
      EXPECT_EQ(proto::crc32c(whole), pieces) << "offset " << offset << ", " << n << " bytes";
    }
  }
}
