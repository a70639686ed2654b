#include "journal.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <type_traits>

#include "checksum.hpp"

namespace burla::core {
namespace {

constexpr std::size_t head_size = record_head_size;
// No batch comes near this; a larger size is damage, not a record still being written.
constexpr std::uint64_t max_record_bytes = std::uint64_t{1} << 40;

}  // namespace

std::string encode(const start_record& r) {
  std::string out;
  detail::byte_writer w(out);
  w.put<std::uint32_t>(static_cast<std::uint32_t>(r.hosts.size()));
  for (const auto& h : r.hosts) w.put_bytes(h);
  w.put(r.run);
  return out;
}

std::string encode(const dispatch_record& r) {
  std::string out;
  detail::byte_writer w(out);
  w.put(r.first);
  w.put(r.count);
  w.put(r.rank);
  return out;
}

std::string encode(const end_record& r) {
  std::string out;
  detail::byte_writer w(out);
  w.put(r.state);
  w.put(r.n_ok);
  w.put(r.n_failed);
  w.put(r.n_not_run);
  w.put_bytes(r.message);
  w.put(r.run);
  w.put(r.cause);
  return out;
}

namespace {

start_record decode_start(std::string_view payload) {
  detail::byte_reader r(payload, "the journal's start record");
  start_record s;
  const auto n = r.get<std::uint32_t>();
  if (n > r.left()) throw error("burla: corrupted start record (host count)");
  for (std::uint32_t i = 0; i < n; ++i) s.hosts.emplace_back(r.get_bytes());
  s.run = r.get<std::uint32_t>();
  return s;
}

dispatch_record decode_dispatch(std::string_view payload) {
  detail::byte_reader r(payload, "a journal dispatch record");
  dispatch_record d;
  d.first = r.get<std::uint64_t>();
  d.count = r.get<std::uint32_t>();
  d.rank = r.get<std::int32_t>();
  return d;
}

end_record decode_end(std::string_view payload) {
  detail::byte_reader r(payload, "the journal's end record");
  end_record e;
  e.state = r.get<end_state>();
  if (static_cast<int>(e.state) > static_cast<int>(end_state::interrupted))
    throw error("burla: corrupted end record (state)");
  e.n_ok = r.get<std::uint64_t>();
  e.n_failed = r.get<std::uint64_t>();
  e.n_not_run = r.get<std::uint64_t>();
  e.message = r.get_bytes();
  e.run = r.get<std::uint32_t>();
  e.cause = r.get<end_cause>();
  if (static_cast<int>(e.cause) > static_cast<int>(end_cause::workers_lost))
    throw error("burla: corrupted end record (cause)");
  return e;
}

}  // namespace

record decode(record_type type, std::string_view payload) {
  switch (type) {
    case record_type::start:
      return decode_start(payload);
    case record_type::dispatch:
      return decode_dispatch(payload);
    case record_type::batch:
      return parse_reply(payload);
    case record_type::stored_batch: {
      reply_view r = parse_reply(payload);
      if (!r.results.empty()) throw error("burla: corrupted stored batch (it holds results)");
      r.where = results_in::rows;
      return r;
    }
    case record_type::placed_batch: {
      detail::byte_reader in(payload, "a placed batch");
      const auto run = in.get<std::uint32_t>();
      reply_view r = parse_reply(payload.substr(sizeof run));
      decode_places(r.results);  // checked here, once (their number: batch_results)
      r.where = results_in::places;
      r.run = run;
      return r;
    }
    case record_type::end:
      break;
  }
  return decode_end(payload);
}

namespace {

[[noreturn]] void damaged(const std::string& path, std::string_view what) {
  if (what.starts_with("burla: ")) what.remove_prefix(7);
  throw error("burla: the journal " + path + " is damaged (" + std::string(what) +
              "). The records before it are intact and `burla status` reads them; results.h5 may hold "
              "more. Resume refuses a damaged journal: submit the job again for the rest");
}

}  // namespace

const char* to_string(end_state s) {
  switch (s) {
    case end_state::completed:
      return "completed";
    case end_state::failed:
      return "failed";
    case end_state::error:
      return "error";
    case end_state::cancelled:
      return "cancelled";
    case end_state::mismatch:
      return "build_mismatch";
    case end_state::interrupted:
      return "interrupted";
  }
  return "unknown";
}

journal_writer journal_writer::create(const std::string& path) {
  journal_writer w(posix::create_file(path, O_WRONLY | O_APPEND, 0600), path);
  posix::write_all(w.fd_.get(), journal_magic, path);
  return w;
}

journal_writer journal_writer::reopen(const std::string& path) {
  journal_writer w(posix::open_file(path, O_WRONLY | O_CREAT | O_APPEND, 0600), path);
  if (posix::file_size(w.fd_.get(), path) == 0) posix::write_all(w.fd_.get(), journal_magic, path);
  return w;
}

void journal_writer::append(const start_record& r) {
  append(record_type::start, encode(r));
}
void journal_writer::append(const dispatch_record& r) {
  append(record_type::dispatch, encode(r));
}
void journal_writer::append_batch(std::string_view reply) {
  append(record_type::batch, reply);
}
void journal_writer::append(const end_record& r) {
  append(record_type::end, encode(r));
}
void journal_writer::append_stored(const reply_view& r) {
  std::string payload;
  build_reply(payload, r.head, {reinterpret_cast<const char*>(r.status), r.head.done}, {}, r.notes);
  append(record_type::stored_batch, payload);
}

void journal_writer::append_placed(const reply_view& r, std::uint32_t run,
                                   const std::vector<result_place>& places) {
  std::string payload;
  detail::byte_writer(payload).put(run);
  build_reply(payload, r.head, {reinterpret_cast<const char*>(r.status), r.head.done}, encode_places(places),
              r.notes);
  append(record_type::placed_batch, payload);
}

void journal_writer::append(const record& r) {
  std::visit(
      [&](const auto& v) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(v)>, reply_view>) {
          append(v);
        } else if (v.where == results_in::rows) {
          append_stored(v);
        } else if (v.where == results_in::places) {
          append_placed(v, v.run, decode_places(v.results));
        } else {
          std::string payload;
          build_reply(payload, v.head, {reinterpret_cast<const char*>(v.status), v.head.done}, v.results,
                      v.notes);
          append_batch(payload);
        }
      },
      r);
}

journal_writer journal_writer::create_next_to(const std::string& path) {
  posix::temp_file t = posix::create_temp_file(path);
  journal_writer w(std::move(t.file), std::move(t.path));
  posix::write_all(w.fd_.get(), journal_magic, w.path_);
  return w;
}

journal_compactor::journal_compactor(std::string journal_path) : path_(std::move(journal_path)) {
  try {
    // On a nearly full file system the copy could take the room the job's master keeps.
    if (posix::file_system_of(path_.substr(0, path_.rfind('/') + 1)).free_bytes < (std::uint64_t{64} << 20))
      return;
    copy_.emplace(journal_writer::create_next_to(path_));
  } catch (const error&) {  // a read-only or full job directory: the journal stays as it is
  }
}

journal_compactor::~journal_compactor() {
  drop();
}

void journal_compactor::take(const record& r) {
  if (!copy_) return;
  try {
    if (const auto* b = std::get_if<reply_view>(&r)) {
      if (b->where == results_in::rows) return drop();  // compact already
      copy_->append_stored(*b);
    } else {
      copy_->append(r);
    }
  } catch (const error&) {
    drop();
  }
}

bool journal_compactor::commit() {
  if (!copy_) return false;
  const std::string temp = copy_->path();
  copy_.reset();
  try {
    // The journal's last write is the job's end: `burla gc` counts a job's age from it.
    posix::set_modified_time(temp, posix::modified_time(path_));
    posix::rename_file(temp, path_);
    return true;
  } catch (const error&) {
    ::unlink(temp.c_str());
    return false;
  }
}

void journal_compactor::drop() {
  if (!copy_) return;
  ::unlink(copy_->path().c_str());
  copy_.reset();
}

std::string record_head(record_type type, std::string_view payload, std::uint64_t size) {
  std::string head;
  detail::byte_writer w(head);
  w.put(static_cast<std::uint32_t>(type));
  w.put(crc32c(payload));
  w.put(size);
  w.put(crc32c(head));
  w.put(std::uint32_t{0});
  return head;
}

void journal_writer::append(record_type type, std::string_view payload) {
  const std::string head = record_head(type, payload, payload.size());
  iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                  {const_cast<char*>(payload.data()), payload.size()}};
  const std::size_t total = head.size() + payload.size();
  ssize_t n;
  do n = ::writev(fd_.get(), iov, 2);
  while (n < 0 && errno == EINTR);
  if (n < 0) posix::fail("cannot append to the journal " + path_);
  if (static_cast<std::size_t>(n) < total) {  // short write: finish it plainly
    std::string rest = head;
    rest.append(payload);
    posix::write_all(fd_.get(), std::string_view(rest).substr(static_cast<std::size_t>(n)), path_);
  }
}

bool journal_reader::fill() {
  if (!fd_) {
    if (!posix::exists(path_)) return false;
    fd_ = posix::open_file(path_, O_RDONLY);
  }
  if (pos_ > 0 && pos_ >= end_ / 2) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  // Room for a megabyte more, or for the whole of the record being read.
  std::size_t want = std::size_t{1} << 20;
  if (header_checked_ && end_ - pos_ >= head_size) {
    const std::string_view head(buf_.data() + pos_, head_size);
    std::uint64_t size = 0;
    std::uint32_t head_crc = 0;
    std::memcpy(&size, head.data() + 8, 8);
    std::memcpy(&head_crc, head.data() + 16, 4);
    if (crc32c(head.substr(0, 16)) == head_crc && size <= max_record_bytes && head_size + size > end_ - pos_)
      want = std::max<std::size_t>(want, head_size + size - (end_ - pos_));
  }
  if (buf_.size() < end_ + want) buf_.resize(end_ + want);
  const std::size_t n = posix::read_some(fd_.get(), buf_.data() + end_, buf_.size() - end_, path_);
  end_ += n;
  return n > 0;
}

bool journal_reader::next(record& out) {
  for (;;) {
    std::string_view avail(buf_.data() + pos_, end_ - pos_);
    if (!header_checked_ && avail.size() >= journal_magic.size()) {
      if (avail.substr(0, journal_magic.size()) != journal_magic)
        throw error("burla: " + path_ +
                    " is not a journal of this version of burla (its first bytes are not " +
                    std::string(journal_magic) + ")");
      pos_ += journal_magic.size();
      consumed_ += journal_magic.size();
      header_checked_ = true;
      continue;
    }
    if (header_checked_ && avail.size() >= head_size) {
      std::uint32_t type, payload_crc, head_crc;
      std::uint64_t size;
      std::memcpy(&type, avail.data(), 4);
      std::memcpy(&payload_crc, avail.data() + 4, 4);
      std::memcpy(&size, avail.data() + 8, 8);
      std::memcpy(&head_crc, avail.data() + 16, 4);
      const std::string at =
          "at byte " + std::to_string(consumed_) + ", after " + std::to_string(records_) + " whole records";
      // A damaged size must not pass for a record still being written: the head is checked first.
      if (crc32c(avail.substr(0, 16)) != head_crc)
        damaged(path_, "a record head that fails its checksum " + at);
      if (type < static_cast<std::uint32_t>(record_type::start) ||
          type > static_cast<std::uint32_t>(record_type::placed_batch))
        damaged(path_, "a record of type " + std::to_string(type) + " " + at);
      if (size > max_record_bytes) damaged(path_, "a record of " + std::to_string(size) + " bytes " + at);
      if (avail.size() - head_size >= size) {
        const std::string_view payload = avail.substr(head_size, size);
        if (crc32c(payload) != payload_crc) damaged(path_, "a record whose bytes fail their checksum " + at);
        try {
          out = decode(static_cast<record_type>(type), payload);
        } catch (const error& e) {
          damaged(path_, std::string(e.what()) + " " + at);
        }
        pos_ += head_size + size;
        consumed_ += head_size + size;
        ++records_;
        return true;
      }
    }
    if (!fill()) return false;
  }
}

}  // namespace burla::core
