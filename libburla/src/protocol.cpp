#include "protocol.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

#include "posix.hpp"

namespace burla::detail::protocol {

void build_reply(std::string& out, const reply_header& h, std::string_view status, std::string_view results,
                 const std::vector<note>& notes) {
  byte_writer w(out);
  w.put(h.first);
  w.put(h.requested);
  w.put(h.done);
  w.put(h.rank);
  w.put(h.elapsed_ns);
  w.put_raw(status);
  w.put_bytes(results);
  w.put<std::uint32_t>(static_cast<std::uint32_t>(notes.size()));
  for (const note& n : notes) {
    w.put(n.item);
    w.put(n.kind);
    w.put_bytes(n.text);
  }
}

void append_missing_result(std::string& results, const job_types& t) {
  if (t.result_kind == value_kind::fixed)
    results.append(t.result_size, '\0');
  else if (t.result_kind != value_kind::none)
    results.append(sizeof(std::uint64_t), '\0');  // an empty length-prefixed value
}

void set_reply_rank(std::string& reply, std::int32_t rank) {
  constexpr std::size_t at =
      sizeof(std::uint64_t) + 2 * sizeof(std::uint32_t);  // after first, requested, done
  if (reply.size() < at + sizeof rank) throw error("burla: a batch reply too short for its header");
  std::memcpy(reply.data() + at, &rank, sizeof rank);
}

reply_view parse_reply(std::string_view bytes) {
  byte_reader r(bytes, "a batch reply");
  reply_view v;
  v.head.first = r.get<std::uint64_t>();
  v.head.requested = r.get<std::uint32_t>();
  v.head.done = r.get<std::uint32_t>();
  v.head.rank = r.get<std::int32_t>();
  v.head.elapsed_ns = r.get<std::uint64_t>();
  if (v.head.done > v.head.requested) throw error("burla: corrupted batch reply (done > requested)");
  if (v.head.first > UINT64_MAX - v.head.requested)  // readers index inputs first + i
    throw error("burla: corrupted batch reply (first input " + std::to_string(v.head.first) + ")");
  v.status = reinterpret_cast<const std::uint8_t*>(r.take(v.head.done).data());
  v.results = r.get_bytes();
  const auto n_notes = r.get<std::uint32_t>();
  if (n_notes > r.left()) throw error("burla: corrupted batch reply (note count)");
  v.notes.reserve(n_notes);
  for (std::uint32_t i = 0; i < n_notes; ++i) {
    note n;
    n.item = r.get<std::uint32_t>();
    n.kind = r.get<note_kind>();
    n.text = r.get_bytes();
    if (n.item >= v.head.done) throw error("burla: corrupted batch reply (note index)");
    v.notes.push_back(n);
  }
  return v;
}

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

std::string encode(const start_record& r) {
  std::string out;
  byte_writer w(out);
  w.put<std::uint32_t>(static_cast<std::uint32_t>(r.hosts.size()));
  for (const auto& h : r.hosts) w.put_bytes(h);
  w.put(r.run);
  return out;
}

std::string encode(const dispatch_record& r) {
  std::string out;
  byte_writer w(out);
  w.put(r.first);
  w.put(r.count);
  w.put(r.rank);
  return out;
}

std::string encode(const end_record& r) {
  std::string out;
  byte_writer w(out);
  w.put(r.state);
  w.put(r.n_ok);
  w.put(r.n_failed);
  w.put(r.n_not_run);
  w.put_bytes(r.message);
  w.put(r.run);
  return out;
}

start_record decode_start(std::string_view payload) {
  byte_reader r(payload, "the journal's start record");
  start_record s;
  const auto n = r.get<std::uint32_t>();
  if (n > r.left()) throw error("burla: corrupted journal (start record)");
  for (std::uint32_t i = 0; i < n; ++i) s.hosts.emplace_back(r.get_bytes());
  s.run = r.get<std::uint32_t>();
  return s;
}

dispatch_record decode_dispatch(std::string_view payload) {
  byte_reader r(payload, "a journal dispatch record");
  dispatch_record d;
  d.first = r.get<std::uint64_t>();
  d.count = r.get<std::uint32_t>();
  d.rank = r.get<std::int32_t>();
  return d;
}

end_record decode_end(std::string_view payload) {
  byte_reader r(payload, "the journal's end record");
  end_record e;
  e.state = r.get<end_state>();
  if (static_cast<int>(e.state) > 5) throw error("burla: corrupted journal (end state)");
  e.n_ok = r.get<std::uint64_t>();
  e.n_failed = r.get<std::uint64_t>();
  e.n_not_run = r.get<std::uint64_t>();
  e.message = r.get_bytes();
  e.run = r.get<std::uint32_t>();
  return e;
}

journal_writer::journal_writer(const std::string& path) : path_(path) {
  fd_ = posix::create_file(path, O_WRONLY | O_APPEND, 0600).release();
  posix::write_all(fd_, journal_magic, path_);
}

journal_writer::journal_writer(const std::string& path, bool) : path_(path) {
  fd_ = posix::open_file(path, O_WRONLY | O_CREAT | O_APPEND, 0600).release();
  if (posix::file_size(fd_, path) == 0) posix::write_all(fd_, journal_magic, path_);
}

void append_record(const std::string& path, record_type type, std::string_view payload) {
  journal_writer(path, true).append(type, payload);
}

journal_writer::~journal_writer() {
  if (fd_ >= 0) ::close(fd_);
}

void journal_writer::append(record_type type, std::string_view payload) {
  struct {
    std::uint32_t type;
    std::uint32_t reserved;
    std::uint64_t size;
  } head{static_cast<std::uint32_t>(type), 0, payload.size()};
  iovec iov[2] = {{&head, sizeof head}, {const_cast<char*>(payload.data()), payload.size()}};
  const std::size_t total = sizeof head + payload.size();
  ssize_t n;
  do n = ::writev(fd_, iov, 2);
  while (n < 0 && errno == EINTR);
  if (n < 0) posix::fail("cannot append to the journal " + path_);
  if (static_cast<std::size_t>(n) < total) {  // short write: finish it plainly
    std::string rest(reinterpret_cast<const char*>(&head), sizeof head);
    rest.append(payload);
    posix::write_all(fd_, std::string_view(rest).substr(static_cast<std::size_t>(n)), path_);
  }
}

namespace {

/// Decodes a record once as it is read, so that damage anywhere is reported with the file's name.
void check_record(const std::string& path, record_type type, std::string_view payload) {
  try {
    switch (type) {
      case record_type::start:
        (void)decode_start(payload);
        break;
      case record_type::dispatch:
        (void)decode_dispatch(payload);
        break;
      case record_type::batch:
        (void)parse_reply(payload);
        break;
      case record_type::end:
        (void)decode_end(payload);
        break;
    }
  } catch (const error& e) {
    std::string_view what = e.what();
    if (what.starts_with("burla: ")) what.remove_prefix(7);
    throw error("burla: the journal " + path + " is damaged (" + std::string(what) +
                "); the job's results.h5 may still hold its results, otherwise submit the job again");
  }
}

}  // namespace

journal_reader::~journal_reader() {
  if (fd_ >= 0) ::close(fd_);
}

bool journal_reader::fill() {
  if (fd_ < 0) {
    if (!posix::exists(path_)) return false;
    fd_ = posix::open_file(path_, O_RDONLY).release();
  }
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  const std::size_t old = buf_.size();
  buf_.resize(old + (1 << 20));
  const std::size_t n = posix::read_some(fd_, buf_.data() + old, 1 << 20, path_);
  buf_.resize(old + n);
  return n > 0;
}

bool journal_reader::next(record_type& type, std::string_view& payload) {
  constexpr std::size_t head_size = 16;
  for (;;) {
    std::string_view avail(buf_.data() + pos_, buf_.size() - pos_);
    if (!header_checked_ && avail.size() >= journal_magic.size()) {
      if (avail.substr(0, journal_magic.size()) != journal_magic)
        throw error("burla: " + path_ + " is not a burla journal (bad magic)");
      pos_ += journal_magic.size();
      consumed_ += journal_magic.size();
      header_checked_ = true;
      continue;
    }
    if (header_checked_ && avail.size() >= head_size) {
      std::uint32_t t;
      std::uint64_t size;
      std::memcpy(&t, avail.data(), 4);
      std::memcpy(&size, avail.data() + 8, 8);
      if (t < 1 || t > 4)
        throw error("burla: the journal " + path_ + " is damaged (a record of type " + std::to_string(t) +
                    "); the job's results.h5 may still hold its results, otherwise submit the job again");
      // No batch comes near this; a larger size is damage, not a record still being written.
      if (size > (std::uint64_t{1} << 40))
        throw error(
            "burla: the journal " + path_ + " is damaged (a record of " + std::to_string(size) +
            " bytes); the job's results.h5 may still hold its results, otherwise submit the job again");
      if (avail.size() - head_size >= size) {
        type = static_cast<record_type>(t);
        payload = avail.substr(head_size, size);
        check_record(path_, type, payload);
        pos_ += head_size + size;
        consumed_ += head_size + size;
        return true;
      }
    }
    if (!fill()) return false;
  }
}

}  // namespace burla::detail::protocol
