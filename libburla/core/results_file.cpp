#include "results_file.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "checksum.hpp"
#include "posix.hpp"
#include "results_reader.hpp"
#include "type_code.hpp"

namespace burla::core {
namespace {

// Inputs of this many bytes each, on average, are not copied to /input (holds_inputs).
constexpr std::uint64_t bulk_input_bytes = std::uint64_t{256} << 10;

const char* encoding_name(value_kind k) {
  switch (k) {
    case value_kind::fixed:
    case value_kind::sequence:
      return "native";
    case value_kind::string:
      return "string";
    case value_kind::serialized:
      return "boost_binary_archive";
    case value_kind::none:
      return "none";
  }
  return "unknown";
}

/// HDF5's variable-length rows over encoded values (pointing into them) of `element`-byte elements.
std::vector<hvl_t> sequence_rows(const std::string_view* encoded, std::uint32_t n, std::uint64_t element) {
  std::vector<hvl_t> rows;
  rows.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    if (encoded[i].size() % element != 0)
      throw error("burla: a sequence of " + std::to_string(encoded[i].size()) +
                  " bytes is no whole number of " + std::to_string(element) +
                  "-byte elements; the reply is damaged");
    rows.push_back({encoded[i].size() / element, const_cast<char*>(encoded[i].data())});
  }
  return rows;
}

/// Bytes of one element of a sequence type code (checked when job.ini was read).
std::uint64_t sequence_element(const std::string& code) {
  return parse_type_code(code).value().element_size;
}

}  // namespace

results_writer::results_writer(const std::string& path, const job_spec& spec,
                               const std::vector<std::string>& hosts, std::uint64_t input_bytes)
    : path_(path), temp_path_(posix::create_temp_file(path).path), spec_(spec) {
  // A new, randomly named, 0600 file created exclusively (never a planted symlink); HDF5 then
  // truncates that file of ours. Readers see it only once publish() renames it.
  file_ = h5::create_file(temp_path_);
  const hid_t f = file_.get();
  const std::uint64_t n = spec.n_inputs;
  const job_types& t = spec.types;

  status_type_ = h5::handle(H5Tenum_create(H5T_NATIVE_UINT8), "create the status type");
  for (std::uint8_t v = 0; v <= static_cast<std::uint8_t>(call_status::worker_lost); ++v) {
    const char* name = to_string(static_cast<call_status>(v));
    h5::check_status(H5Tenum_insert(status_type_.get(), name, &v), "define the status type");
  }
  string_type_ = h5::vlen_string_type();

  status_ = h5::create_dataset(f, "status", status_type_.get(), n);
  attempts_ = h5::create_dataset(f, "attempts", H5T_NATIVE_UINT8, n);
  const std::int32_t no_rank = -1;
  rank_ = h5::create_dataset(f, "rank", H5T_NATIVE_INT32, n, &no_rank);
  stdout_ = h5::create_dataset(f, "stdout", string_type_.get(), n);
  stderr_ = h5::create_dataset(f, "stderr", string_type_.get(), n);
  error_type_ = h5::create_dataset(f, "error_type", string_type_.get(), n);
  error_message_ = h5::create_dataset(f, "error_message", string_type_.get(), n);
  switch (t.result_kind) {
    case value_kind::fixed:
    case value_kind::sequence:
      result_type_ = h5::type_for_code(t.result_h5);
      break;
    case value_kind::string:
      result_type_ = h5::vlen_string_type();
      break;
    case value_kind::serialized:
      result_type_ = h5::vlen_bytes_type();
      break;
    case value_kind::none:
      break;
  }
  if (result_type_) result_ = h5::create_dataset(f, "result", result_type_.get(), n);
  if (t.result_kind == value_kind::sequence) result_element_ = sequence_element(t.result_h5);
  if (t.input_kind == value_kind::sequence) input_element_ = sequence_element(t.input_h5);
  const bool typed_inputs = t.input_kind == value_kind::fixed || t.input_kind == value_kind::sequence;
  if (typed_inputs && input_bytes / std::max<std::uint64_t>(n, 1) < bulk_input_bytes) {
    input_type_ = h5::type_for_code(t.input_h5);
    input_ = h5::create_dataset(f, "input", input_type_.get(), n);
  }

  h5::set_attribute(f, "format", std::string(results_format));
  h5::set_attribute(f, "job_id", spec.id);
  h5::set_attribute(f, "created", spec.created);
  h5::set_attribute(f, "caller_host", spec.caller_host);
  h5::set_attribute(f, "executable", spec.executable);
  h5::set_attribute(f, "build_id", spec.build_id);
  h5::set_attribute(f, "n_inputs", static_cast<long long>(n));
  h5::set_attribute(f, "input_type", t.input_type);
  h5::set_attribute(f, "result_type", t.result_type);
  h5::set_attribute(f, "input_encoding", std::string(encoding_name(t.input_kind)));
  h5::set_attribute(f, "result_encoding", std::string(encoding_name(t.result_kind)));
  h5::set_attribute(f, "func_cpu", static_cast<long long>(spec.func_cpu));
  h5::set_attribute(f, "func_gpu", static_cast<long long>(spec.func_gpu));
  h5::set_attribute(f, "hosts", hosts);
  h5::set_attribute(f, "state", std::string("running"));

  if (result_) {  // unfiltered chunks, never moved once written: their places stay true
    const h5::file_sizes sizes = h5::sizes_of(f);
    can_place_ = sizes.address == 8 && sizes.length == 8 && sizes.user_block == 0;
    result_chunk_ = h5::chunk_rows(result_.get());
    if (t.result_kind != value_kind::fixed) raw_ = posix::open_file(temp_path_, O_RDONLY);
  }
}

void results_writer::publish() {
  h5::check_status(H5Fflush(file_.get(), H5F_SCOPE_GLOBAL), "flush " + temp_path_);
  // The places a run journals are in the file it wrote, under this name until the journal is
  // compacted, even after a resumed run replaced results.h5.
  const std::string run_path = run_results_path(path_, static_cast<std::uint32_t>(spec_.run));
  ::unlink(run_path.c_str());
  if (can_place_ && !posix::link_file(temp_path_, run_path)) can_place_ = false;
  posix::rename_file(temp_path_, path_);
}

void results_writer::write(const reply_view& r, const std::uint8_t* attempts) {
  const std::uint64_t first = r.head.first;
  const std::uint32_t done = r.head.done;
  if (done == 0) return;
  // A placed batch's results are read from their places first (batch_results); only a completed
  // job's journal is compacted, and it has nothing to resume.
  if (r.where == results_in::places) throw error("burla: a placed batch written without its results");
  if (r.where == results_in::rows)
    throw error(
        "burla: the journal is compacted (its results are in results.h5 alone); it cannot rebuild "
        "results.h5");
  if (first + done > spec_.n_inputs) throw error("burla: batch reply beyond the last input");

  // Each call's encoded result (fixed-size ones lie end to end), then the rows to write: calls
  // skipped or to be retried are not.
  const bool fixed = spec_.types.result_kind == value_kind::fixed;
  const std::uint64_t size = fixed ? spec_.types.result_size : 0;
  std::vector<std::string_view> encoded;
  if (fixed) {
    if (r.results.size() < done * size)
      throw error("burla: the results of a batch are cut short: " + std::to_string(r.results.size()) +
                  " bytes for " + std::to_string(done) + " results of " + std::to_string(size) + " bytes");
  } else if (spec_.types.result_kind != value_kind::none) {
    detail::byte_reader in(r.results, "the results of a batch");
    encoded.resize(done);
    for (auto& e : encoded) e = in.get_bytes();
  }
  auto kept = [&](std::uint32_t i) {
    return r.status[i] != status_skipped && r.status[i] != status_retrying;
  };
  for (std::uint32_t a = 0; a < done;) {
    if (!kept(a)) {
      ++a;
      continue;
    }
    std::uint32_t b = a;
    while (b < done && kept(b)) ++b;
    write_rows(first + a, b - a, r.status + a, r.results.data() + a * size,
               encoded.empty() ? nullptr : encoded.data() + a, attempts + first + a, r.head.rank);
    a = b;
  }

  if (r.notes.empty()) return;
  struct column {
    note_kind kind;
    hid_t dataset;
    std::vector<hsize_t> points;
    std::vector<std::string> text;
  } columns[] = {{note_kind::out, stdout_.get(), {}, {}},
                 {note_kind::err, stderr_.get(), {}, {}},
                 {note_kind::error_type, error_type_.get(), {}, {}},
                 {note_kind::error_what, error_message_.get(), {}, {}}};
  for (const auto& note : r.notes) {
    if (note.item >= done || !kept(note.item)) continue;
    for (auto& c : columns) {
      if (c.kind != note.kind) continue;
      c.points.push_back(first + note.item);
      c.text.emplace_back(note.text);
    }
  }
  for (auto& c : columns) {
    std::vector<const char*> p;
    for (const auto& s : c.text) p.push_back(s.c_str());
    h5::write_points(c.dataset, string_type_.get(), c.points, p.data(), "write captured output");
  }
}

void results_writer::write_rows(std::uint64_t first, std::uint32_t n, const std::uint8_t* status,
                                const char* fixed, const std::string_view* encoded,
                                const std::uint8_t* attempts, std::int32_t rank) {
  h5::write_range(status_.get(), status_type_.get(), first, n, status, "write statuses");
  h5::write_range(attempts_.get(), H5T_NATIVE_UINT8, first, n, attempts, "write attempts");
  const std::vector<std::int32_t> ranks(n, rank);
  h5::write_range(rank_.get(), H5T_NATIVE_INT32, first, n, ranks.data(), "write ranks");
  switch (spec_.types.result_kind) {
    case value_kind::fixed:  // consecutive in the reply
      h5::write_range(result_.get(), result_type_.get(), first, n, fixed, "write results");
      break;
    case value_kind::string: {
      std::vector<std::string> keep;
      std::vector<const char*> p;
      keep.reserve(n);
      for (std::uint32_t i = 0; i < n; ++i) p.push_back(keep.emplace_back(encoded[i]).c_str());
      h5::write_range(result_.get(), result_type_.get(), first, n, p.data(), "write results");
      break;
    }
    case value_kind::serialized:  // bytes
    case value_kind::sequence: {
      const auto v = sequence_rows(encoded, n, result_element_);
      h5::write_range(result_.get(), result_type_.get(), first, n, v.data(), "write results");
      break;
    }
    case value_kind::none:
      break;
  }
}

void results_writer::write_inputs(std::uint64_t first, std::uint64_t count, std::string_view bytes) {
  if (!input_) return;
  if (spec_.types.input_kind != value_kind::sequence) {
    h5::write_range(input_.get(), input_type_.get(), first, count, bytes.data(), "write inputs");
    return;
  }
  detail::byte_reader in(bytes, "the inputs of a batch");
  std::vector<std::string_view> encoded(count);
  for (auto& e : encoded) e = in.get_bytes();
  const auto rows = sequence_rows(encoded.data(), static_cast<std::uint32_t>(count), input_element_);
  h5::write_range(input_.get(), input_type_.get(), first, count, rows.data(), "write inputs");
}

void results_writer::flush() {
  h5::check_status(H5Fflush(file_.get(), H5F_SCOPE_GLOBAL), "flush " + path_);
  chunks_.clear();
  heaps_.clear();
  // HDF5 keeps freed buffers (variable-length data passes through them) on free lists that
  // otherwise only grow; the master's memory must not grow with the size of the results.
  H5garbage_collect();
}

std::vector<row_run> runs_by_chunk(std::uint64_t first, std::uint64_t n, std::uint64_t chunk) {
  std::vector<row_run> out;
  for (std::uint64_t row = first; row < first + n;) {
    const std::uint64_t rows = std::min(first + n, row / chunk * chunk + chunk) - row;
    out.push_back({row, rows});
    row += rows;
  }
  return out;
}

// HDF5's file format (global heap, version 1): a variable-length value on disk is a u32 length
// (elements), then the address of a global heap collection and the index of its object there. A
// collection: "GCOL", u8 version 1, 3 reserved bytes, u64 size (of the whole collection); then
// objects: u16 index, u16 reference count, 4 reserved bytes, u64 size, the bytes padded to a
// multiple of 8; index 0 is the free space at the end.
std::vector<result_place> results_writer::places(std::uint64_t first, std::uint32_t n) {
  if (spec_.types.result_kind == value_kind::fixed) {
    const std::uint64_t size = spec_.types.result_size;
    std::vector<result_place> out;
    for (const row_run& run : runs_by_chunk(first, n, result_chunk_)) {
      const std::uint64_t chunk = run.first / result_chunk_ * result_chunk_;
      out.push_back(
          {h5::raw_chunk_offset(result_.get(), chunk) + (run.first - chunk) * size, run.rows * size, 0});
    }
    return out;
  }
  constexpr std::size_t row_bytes = 4 + 8 + 4;
  std::vector<result_place> out(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint64_t row = first + i, chunk = row / result_chunk_ * result_chunk_;
    auto it = chunks_.find(chunk);
    if (it == chunks_.end()) it = chunks_.emplace(chunk, h5::read_raw_chunk(result_.get(), chunk)).first;
    const std::string& raw = it->second;
    const std::size_t at = (row - chunk) * row_bytes;
    if (raw.size() < at + row_bytes)
      throw error("burla: the chunk of /result at row " + std::to_string(chunk) + " in " + path_ +
                  " is shorter than HDF5's format says");
    std::uint32_t length, index;
    std::uint64_t address;
    std::memcpy(&length, raw.data() + at, 4);
    std::memcpy(&address, raw.data() + at + 4, 8);
    std::memcpy(&index, raw.data() + at + 12, 4);
    if (length == 0) continue;
    out[i] = heap_object(address, index);
    const std::uint64_t element = spec_.types.result_kind == value_kind::sequence ? result_element_ : 1;
    if (out[i].size != length * element)
      throw error("burla: row " + std::to_string(row) + " of /result in " + path_ + " holds " +
                  std::to_string(out[i].size) + " bytes for " + std::to_string(length) + " elements");
  }
  return out;
}

result_place results_writer::heap_object(std::uint64_t address, std::uint32_t index) {
  auto known = heaps_.find(address);
  if (known == heaps_.end()) {
    const std::string what =
        "read the global heap collection at byte " + std::to_string(address) + " of " + path_;
    char head[16];
    posix::pread_all(raw_.get(), head, sizeof head, address, what);
    std::uint64_t size;
    std::memcpy(&size, head + 8, 8);
    if (std::memcmp(head, "GCOL", 4) != 0 || head[4] != 1 || size < sizeof head ||
        address > UINT64_MAX - size)
      throw error("burla: " + what + ": not a global heap collection of HDF5's format version 1");
    std::map<std::uint32_t, result_place>& objects = heaps_[address];
    for (std::uint64_t p = address + sizeof head; p + 16 <= address + size;) {
      char object[16];
      posix::pread_all(raw_.get(), object, sizeof object, p, what);
      std::uint16_t i;
      std::uint64_t bytes;
      std::memcpy(&i, object, 2);
      std::memcpy(&bytes, object + 8, 8);
      if (i == 0 || bytes > size) break;  // the free space, or damage
      objects[i] = {p + 16, bytes, 0};
      p += 16 + (bytes + 7) / 8 * 8;
    }
    known = heaps_.find(address);
  }
  const auto object = known->second.find(index);
  if (object == known->second.end())
    throw error("burla: the global heap collection at byte " + std::to_string(address) + " of " + path_ +
                " has no object " + std::to_string(index));
  return object->second;
}

std::uint64_t results_writer::allocated_bytes() const {
  hsize_t size = 0;
  h5::check_status(H5Fget_filesize(file_.get(), &size), "size " + path_);
  return size;
}

void results_writer::finish(const end_record& end, const run_figures& figures) {
  const hid_t f = file_.get();
  h5::set_attribute(f, "work_seconds", figures.work_seconds);
  h5::set_attribute(f, "master_peak_rss_kb", figures.master_peak_rss_kb);
  h5::set_attribute(f, "master_cpu_seconds", figures.master_cpu_seconds);
  h5::set_attribute(f, "master_work_seconds", figures.master_work_seconds);
  h5::set_attribute(f, "batches", figures.replies);
  h5::set_attribute(f, "state", std::string(to_string(end.state)));
  h5::set_attribute(f, "message", end.message);
  h5::set_attribute(f, "n_ok", static_cast<long long>(end.n_ok));
  h5::set_attribute(f, "n_failed", static_cast<long long>(end.n_failed));
  h5::set_attribute(f, "n_not_run", static_cast<long long>(end.n_not_run));
  h5::set_attribute(f, "finished", posix::utc_timestamp());
  status_ = {}, attempts_ = {}, result_ = {}, input_ = {}, rank_ = {}, stdout_ = {}, stderr_ = {};
  error_type_ = {}, error_message_ = {};
  h5::check_status(H5Fclose(file_.release()), "close " + path_);
}

struct results_reader::impl {
  std::string path;
  value_kind kind;
  std::uint64_t size;  ///< of a fixed result
  h5::handle file, result, result_type;
  std::uint64_t result_element = 1;
};

results_reader::~results_reader() = default;

results_reader::results_reader(const std::string& path, const job_types& types) : impl_(new impl) {
  impl& m = *impl_;
  m.path = path;
  m.kind = types.result_kind;
  m.size = types.result_size;
  m.file = h5::open_file(path);
  if (h5::string_attribute(m.file.get(), "state") != "completed")
    throw error("burla: " + path + " is not the results file of a completed job");
  switch (m.kind) {
    case value_kind::fixed:
    case value_kind::sequence:
      m.result_type = h5::type_for_code(types.result_h5);
      break;
    case value_kind::string:
      m.result_type = h5::vlen_string_type();
      break;
    case value_kind::serialized:
      m.result_type = h5::vlen_bytes_type();
      break;
    case value_kind::none:
      return;
  }
  if (m.kind == value_kind::sequence) m.result_element = sequence_element(types.result_h5);
  m.result = h5::open_dataset(m.file.get(), "result");
}

bool results_reader::completed(const std::string& path) {
  try {
    return h5::string_attribute(h5::open_file(path).get(), "state") == "completed";
  } catch (const error&) {
    return false;
  }
}

bool results_reader::holds_inputs(const std::string& path) {
  try {
    return h5::has_dataset(h5::open_file(path).get(), "input");
  } catch (const error&) {
    return false;
  }
}

void results_reader::read(std::uint64_t first, std::uint32_t n, const std::uint8_t* status,
                          std::string& out) {
  const impl& m = *impl_;
  out.clear();
  const std::string what = "read results from " + m.path;
  auto ok = [&](std::uint32_t i) { return status[i] == static_cast<std::uint8_t>(call_status::ok); };
  detail::byte_writer w(out);
  switch (m.kind) {
    case value_kind::fixed:
      out.resize(n * m.size);
      h5::read_range(m.result.get(), m.result_type.get(), first, n, out.data(), what);
      for (std::uint32_t i = 0; i < n; ++i)
        if (!ok(i)) std::memset(out.data() + i * m.size, 0, m.size);
      break;
    case value_kind::string: {
      std::vector<char*> p(n);
      h5::read_range(m.result.get(), m.result_type.get(), first, n, p.data(), what);
      h5::vlen_buffers owned(m.result_type.get(), n, p.data());
      for (std::uint32_t i = 0; i < n; ++i)
        w.put_bytes(ok(i) && p[i] ? std::string_view(p[i]) : std::string_view());
      break;
    }
    case value_kind::serialized:
    case value_kind::sequence: {
      std::vector<hvl_t> v(n);
      h5::read_range(m.result.get(), m.result_type.get(), first, n, v.data(), what);
      h5::vlen_buffers owned(m.result_type.get(), n, v.data());
      for (std::uint32_t i = 0; i < n; ++i)
        w.put_bytes(ok(i) ? std::string_view(static_cast<const char*>(v[i].p), v[i].len * m.result_element)
                          : std::string_view());
      break;
    }
    case value_kind::none:
      break;
  }
}

std::string run_results_path(const std::string& results_path, std::uint32_t run) {
  const std::size_t slash = results_path.rfind('/');
  return results_path.substr(0, slash + 1) + ".results.run" + std::to_string(run) + ".h5";
}

std::string_view batch_results::of(const reply_view& r) {
  if (r.where == results_in::record) return r.results;
  if (r.where == results_in::places) {
    const auto places = decode_places(r.results);
    std::uint64_t bytes = 0;
    for (const result_place& p : places) bytes = p.size > UINT64_MAX - bytes ? UINT64_MAX : bytes + p.size;
    const bool fixed = types_.result_kind == value_kind::fixed;
    if (fixed ? bytes != std::uint64_t{r.head.done} * types_.result_size : places.size() != r.head.done)
      throw error("burla: corrupted placed batch (" + std::to_string(places.size()) + " places, " +
                  std::to_string(bytes) + " bytes, for " + std::to_string(r.head.done) + " results)");
    // A file replaced since it was opened, or pages an NFS client kept from before they were
    // written: open it again, once.
    if (read_places(r, places)) return {buf_.data(), used_};
    run_files_.erase(r.run);
    if (read_places(r, places)) return {buf_.data(), used_};
    if (!results_reader::completed(path_))
      throw error("burla: the results of inputs " + std::to_string(r.head.first) + ".." +
                  std::to_string(r.head.first + r.head.done - 1) + " are not where the journal says (in " +
                  run_results_path(path_, r.run) + ", or " + path_ +
                  "): their bytes are gone or fail their checksum, so the file was changed, damaged or "
                  "removed. The journal's other records are intact; `burla status` reads them");
  }
  if (!reader_) reader_.emplace(path_, types_);
  reader_->read(r.head.first, r.head.done, r.status, buf_);
  return buf_;
}

bool batch_results::read_places(const reply_view& r, const std::vector<result_place>& places) {
  auto file = run_files_.find(r.run);
  if (file == run_files_.end()) {
    posix::fd f;
    try {
      f = posix::open_file(run_results_path(path_, r.run), O_RDONLY);
    } catch (const error&) {  // no hard links there: results.h5 itself, until a run replaces it
      try {
        f = posix::open_file(path_, O_RDONLY);
      } catch (const error&) {
        return false;
      }
    }
    file = run_files_.emplace(r.run, std::move(f)).first;
  }
  // Places past the file's end are not there (yet, or any more): nothing is allocated for them.
  const std::uint64_t file_bytes = posix::file_size(file->second.get(), path_);
  // Fixed-size results lie end to end; others each with its length (byte_writer::put_bytes').
  const std::size_t length = types_.result_kind == value_kind::fixed ? 0 : sizeof(std::uint64_t);
  std::size_t total = 0;
  for (const result_place& p : places) {
    if (p.offset > file_bytes || p.size > file_bytes - p.offset) return false;
    total += length + p.size;
  }
  // Into a buffer that only grows: 1 MB results are not zero-filled before they are read.
  if (buf_.size() < total) buf_.resize(total);
  char* out = buf_.data();
  for (const result_place& p : places) {
    std::memcpy(out, &p.size, length);
    out += length;
    try {
      posix::pread_all(file->second.get(), out, p.size, p.offset, path_);
    } catch (const error&) {  // cut short
      return false;
    }
    if (crc32c(std::string_view(out, p.size)) != p.crc) return false;
    out += p.size;
  }
  used_ = total;
  return true;
}

}  // namespace burla::core
