// HDF5 C calls, wrapped once: every failure throws burla::error naming what was being done,
// with HDF5's own error stack; HDF5's automatic printing to stderr is switched off.
#pragma once

#include <hdf5.h>

#include <burla/error.hpp>
#include <string>
#include <vector>

namespace burla::h5 {

/// Throws if `result` is negative, with the HDF5 error stack in the message.
hid_t check(hid_t result, const std::string& what);
herr_t check_status(herr_t result, const std::string& what);

/// An owned HDF5 identifier of any kind (file, dataset, dataspace, type, property list...).
class handle {
 public:
  handle() = default;
  explicit handle(hid_t id) : id_(id) {}
  handle(hid_t id, const std::string& what) : id_(check(id, what)) {}
  handle(handle&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  handle& operator=(handle&& o) noexcept;
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  ~handle();
  hid_t get() const { return id_; }
  /// Gives up ownership, e.g. to close a file with a checked H5Fclose.
  hid_t release() {
    hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }
  explicit operator bool() const { return id_ >= 0; }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

/// A new file (replacing one at path), and an existing one opened to read.
handle create_file(const std::string& path);
handle open_file(const std::string& path);

/// The HDF5 type for a type code (core::parse_type_code): "i32", "c128", "a3:f64", "v:f64", ...
handle type_for_code(const std::string& code);
handle vlen_string_type();
handle vlen_bytes_type();

/// A 1-D chunked dataset of n elements.
handle create_dataset(hid_t file, const std::string& name, hid_t type, std::uint64_t n,
                      const void* fill = nullptr);
handle open_dataset(hid_t file, const std::string& name);
bool has_dataset(hid_t file, const std::string& name);
/// Writes `count` elements of `type` from memory to [first, first + count).
void write_range(hid_t dataset, hid_t type, std::uint64_t first, std::uint64_t count, const void* data,
                 const std::string& what);
/// Writes elements at the given positions.
void write_points(hid_t dataset, hid_t type, const std::vector<hsize_t>& points, const void* data,
                  const std::string& what);
/// Rows per chunk of a 1-D chunked dataset.
std::uint64_t chunk_rows(hid_t dataset);
/// The chunk of a 1-D dataset that starts at row `first`, its bytes as stored in the file.
std::string read_raw_chunk(hid_t dataset, std::uint64_t first);
/// Where in the file that chunk's bytes start (of an unfiltered dataset: its rows end to end); an
/// error if it is not there (not yet written).
std::uint64_t raw_chunk_offset(hid_t dataset, std::uint64_t first);
/// Bytes of a file address and of a file length in `file` (8 and 8 unless created otherwise),
/// and its user block (bytes before HDF5's addresses start).
struct file_sizes {
  std::size_t address = 0, length = 0;
  std::uint64_t user_block = 0;
};
file_sizes sizes_of(hid_t file);
void read_range(hid_t dataset, hid_t type, std::uint64_t first, std::uint64_t count, void* data,
                const std::string& what);

/// The memory HDF5 allocated for the variable-length values read into `data` (count of them),
/// freed when this goes.
class vlen_buffers {
 public:
  vlen_buffers(hid_t type, std::uint64_t count, void* data) : type_(type), count_(count), data_(data) {}
  ~vlen_buffers();
  vlen_buffers(const vlen_buffers&) = delete;
  vlen_buffers& operator=(const vlen_buffers&) = delete;

 private:
  hid_t type_;
  std::uint64_t count_;
  void* data_;
};

void set_attribute(hid_t object, const std::string& name, const std::string& value);
void set_attribute(hid_t object, const std::string& name, long long value);
void set_attribute(hid_t object, const std::string& name, double value);
void set_attribute(hid_t object, const std::string& name, const std::vector<std::string>& values);
std::string string_attribute(hid_t object, const std::string& name);

}  // namespace burla::h5
