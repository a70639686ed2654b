#include "h5.hpp"

#include <algorithm>

#include "type_code.hpp"

namespace burla::h5 {
namespace {

// HDF5 prints its error stack to stderr unless told not to, per thread; burla's errors carry it
// in their message instead. Silenced before a file is opened, so before any call can fail.
void quiet() {
  thread_local bool done = false;
  if (!done) H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr), done = true;
}

std::string error_stack() {
  std::string out;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        auto& s = *static_cast<std::string*>(data);
        if (e->desc && *e->desc) s += std::string(s.empty() ? "" : "; ") + e->desc;
        return 0;
      },
      &out);
  H5Eclear2(H5E_DEFAULT);
  return out;
}

}  // namespace

hid_t check(hid_t result, const std::string& what) {
  quiet();
  if (result < 0) {
    const std::string stack = error_stack();
    throw error("burla: HDF5: " + what + (stack.empty() ? "" : " (" + stack + ")"));
  }
  return result;
}

herr_t check_status(herr_t result, const std::string& what) {
  check(static_cast<hid_t>(result), what);
  return result;
}

handle& handle::operator=(handle&& o) noexcept {
  if (this != &o) {
    if (id_ >= 0) H5Idec_ref(id_);
    id_ = o.id_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

handle::~handle() {
  if (id_ >= 0) H5Idec_ref(id_);
}

namespace {
handle scalar_type(const std::string& code) {
  if (code == "bool") {  // as h5py writes numpy bools: an enum FALSE/TRUE on int8
    handle t(H5Tenum_create(H5T_NATIVE_INT8), "create the bool type");
    const signed char f = 0, tr = 1;
    check_status(H5Tenum_insert(t.get(), "FALSE", &f), "define the bool type");
    check_status(H5Tenum_insert(t.get(), "TRUE", &tr), "define the bool type");
    return t;
  }
  static const std::pair<const char*, hid_t> natives[] = {
      {"i8", H5T_NATIVE_INT8},    {"i16", H5T_NATIVE_INT16},  {"i32", H5T_NATIVE_INT32},
      {"i64", H5T_NATIVE_INT64},  {"u8", H5T_NATIVE_UINT8},   {"u16", H5T_NATIVE_UINT16},
      {"u32", H5T_NATIVE_UINT32}, {"u64", H5T_NATIVE_UINT64}, {"f32", H5T_NATIVE_FLOAT},
      {"f64", H5T_NATIVE_DOUBLE}};
  for (const auto& [name, native] : natives)
    if (code == name) return handle(H5Tcopy(native), "copy a native type");
  return handle(H5Tcopy(H5T_NATIVE_LDOUBLE), "copy a native type");  // the one other code parse gives
}
}  // namespace

namespace {
/// The HDF5 type of a parsed code; a record is a compound of its members at their offsets,
/// the struct's own layout, so that rows are written from its bytes without conversion.
handle type_of(const core::type_code& t, const std::string& code) {
  handle type;
  if (t.record()) {
    const std::string what = "create the compound type " + code;
    type = handle(H5Tcreate(H5T_COMPOUND, t.scalar_size), what);
    for (const auto& f : t.fields)
      check_status(H5Tinsert(type.get(), f.name.c_str(), f.offset, type_of(f.type, code).get()), what);
  } else {
    type = scalar_type(t.scalar);
  }
  if (t.complex) {  // h5py's convention: a compound {r, i}, read as numpy complex
    const std::string what = "create the complex type " + code;
    handle c(H5Tcreate(H5T_COMPOUND, 2 * t.scalar_size), what);
    check_status(H5Tinsert(c.get(), "r", 0, type.get()), what);
    check_status(H5Tinsert(c.get(), "i", t.scalar_size, type.get()), what);
    type = std::move(c);
  }
  if (t.array) {
    const hsize_t dims[1] = {t.array};
    type = handle(H5Tarray_create2(type.get(), 1, dims), "create the array type " + code);
  }
  if (t.sequence) type = handle(H5Tvlen_create(type.get()), "create the sequence type " + code);
  return type;
}
}  // namespace

handle type_for_code(const std::string& code) {
  quiet();
  const auto t = core::parse_type_code(code);
  if (!t) throw error("burla: no HDF5 type for type code '" + code + "'");
  return type_of(*t, code);
}

handle vlen_string_type() {
  handle t(H5Tcopy(H5T_C_S1), "copy the string type");
  check_status(H5Tset_size(t.get(), H5T_VARIABLE), "make a variable-length string type");
  check_status(H5Tset_cset(t.get(), H5T_CSET_UTF8), "set UTF-8 on the string type");
  return t;
}

handle vlen_bytes_type() {
  return handle(H5Tvlen_create(H5T_NATIVE_UINT8), "create the bytes type");
}

handle create_dataset(hid_t file, const std::string& name, hid_t type, std::uint64_t n, const void* fill) {
  const std::string what = "create dataset " + name;
  const hsize_t dims[1] = {n};
  handle space(H5Screate_simple(1, dims, nullptr), what);
  handle dcpl(H5Pcreate(H5P_DATASET_CREATE), what);
  const std::size_t elem = std::max<std::size_t>(H5Tget_size(type), 1);
  const hsize_t chunk[1] = {std::clamp<hsize_t>((1u << 20) / elem, 1, std::max<hsize_t>(n, 1))};
  check_status(H5Pset_chunk(dcpl.get(), 1, chunk), what);
  if (fill) check_status(H5Pset_fill_value(dcpl.get(), type, fill), what);
  handle dapl(H5Pcreate(H5P_DATASET_ACCESS), what);
  // Results arrive nearly in order from several workers: a few chunks in cache avoid re-reads.
  check_status(H5Pset_chunk_cache(dapl.get(), 521, 4u << 20, 1.0), what);
  return handle(H5Dcreate2(file, name.c_str(), type, space.get(), H5P_DEFAULT, dcpl.get(), dapl.get()), what);
}

handle open_dataset(hid_t file, const std::string& name) {
  return handle(H5Dopen2(file, name.c_str(), H5P_DEFAULT), "open dataset " + name);
}

bool has_dataset(hid_t file, const std::string& name) {
  return check_status(H5Lexists(file, name.c_str(), H5P_DEFAULT), "look for dataset " + name) > 0;
}

namespace {
/// File and memory dataspaces for elements [first, first + count) of a 1-D dataset.
std::pair<handle, handle> range_spaces(hid_t dataset, std::uint64_t first, std::uint64_t count,
                                       const std::string& what) {
  handle file_space(H5Dget_space(dataset), what);
  const hsize_t start[1] = {first}, n[1] = {count};
  check_status(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, n, nullptr), what);
  return {std::move(file_space), handle(H5Screate_simple(1, n, nullptr), what)};
}
}  // namespace

void write_range(hid_t dataset, hid_t type, std::uint64_t first, std::uint64_t count, const void* data,
                 const std::string& what) {
  if (count == 0) return;
  auto [file_space, mem] = range_spaces(dataset, first, count, what);
  check_status(H5Dwrite(dataset, type, mem.get(), file_space.get(), H5P_DEFAULT, data), what);
}

void write_points(hid_t dataset, hid_t type, const std::vector<hsize_t>& points, const void* data,
                  const std::string& what) {
  if (points.empty()) return;
  handle file_space(H5Dget_space(dataset), what);
  check_status(H5Sselect_elements(file_space.get(), H5S_SELECT_SET, points.size(), points.data()), what);
  const hsize_t n[1] = {points.size()};
  handle mem(H5Screate_simple(1, n, nullptr), what);
  check_status(H5Dwrite(dataset, type, mem.get(), file_space.get(), H5P_DEFAULT, data), what);
}

void read_range(hid_t dataset, hid_t type, std::uint64_t first, std::uint64_t count, void* data,
                const std::string& what) {
  if (count == 0) return;
  auto [file_space, mem] = range_spaces(dataset, first, count, what);
  check_status(H5Dread(dataset, type, mem.get(), file_space.get(), H5P_DEFAULT, data), what);
}

std::uint64_t chunk_rows(hid_t dataset) {
  const std::string what = "read the chunk size of a dataset";
  handle dcpl(H5Dget_create_plist(dataset), what);
  hsize_t rows[1] = {0};
  if (check(H5Pget_chunk(dcpl.get(), 1, rows), what) != 1)
    throw error("burla: " + what + ": not 1-D chunked");
  return rows[0];
}

std::string read_raw_chunk(hid_t dataset, std::uint64_t first) {
  const std::string what = "read the chunk at row " + std::to_string(first) + " as stored";
  const hsize_t offset[1] = {first};
  hsize_t bytes = 0;
  check_status(H5Dget_chunk_storage_size(dataset, offset, &bytes), what);
  std::string out(bytes, '\0');
  std::uint32_t filters = 0;
  check_status(H5Dread_chunk(dataset, H5P_DEFAULT, offset, &filters, out.data()), what);
  if (filters != 0) throw error("burla: " + what + ": it is filtered");
  return out;
}

std::uint64_t raw_chunk_offset(hid_t dataset, std::uint64_t first) {
  const std::string what = "find the chunk at row " + std::to_string(first) + " in the file";
  const hsize_t offset[1] = {first};
  unsigned filters = 0;
  haddr_t address = HADDR_UNDEF;
  hsize_t bytes = 0;
  check_status(H5Dget_chunk_info_by_coord(dataset, offset, &filters, &address, &bytes), what);
  if (address == HADDR_UNDEF) throw error("burla: " + what + ": it is not written");
  return address;
}

file_sizes sizes_of(hid_t file) {
  const std::string what = "read a file's address sizes";
  handle fcpl(H5Fget_create_plist(file), what);
  file_sizes s;
  hsize_t user_block = 0;
  check_status(H5Pget_sizes(fcpl.get(), &s.address, &s.length), what);
  check_status(H5Pget_userblock(fcpl.get(), &user_block), what);
  s.user_block = user_block;
  return s;
}

vlen_buffers::~vlen_buffers() {
  if (count_ == 0) return;
  const hsize_t n[1] = {count_};
  const hid_t space = H5Screate_simple(1, n, nullptr);
  if (space >= 0) {
    H5Dvlen_reclaim(type_, space, H5P_DEFAULT, data_);
    H5Sclose(space);
  }
}

namespace {
void replace_attribute(hid_t object, const std::string& name, hid_t type, hid_t space, const void* data) {
  const std::string what = "write attribute " + name;
  if (check(H5Aexists(object, name.c_str()), what) > 0) check_status(H5Adelete(object, name.c_str()), what);
  handle attr(H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), what);
  check_status(H5Awrite(attr.get(), type, data), what);
}
}  // namespace

void set_attribute(hid_t object, const std::string& name, const std::string& value) {
  handle type = vlen_string_type();
  handle space(H5Screate(H5S_SCALAR), "create a scalar space");
  const char* p = value.c_str();
  replace_attribute(object, name, type.get(), space.get(), &p);
}

void set_attribute(hid_t object, const std::string& name, long long value) {
  handle space(H5Screate(H5S_SCALAR), "create a scalar space");
  const std::int64_t v = value;
  replace_attribute(object, name, H5T_NATIVE_INT64, space.get(), &v);
}

void set_attribute(hid_t object, const std::string& name, double value) {
  handle space(H5Screate(H5S_SCALAR), "create a scalar space");
  replace_attribute(object, name, H5T_NATIVE_DOUBLE, space.get(), &value);
}

void set_attribute(hid_t object, const std::string& name, const std::vector<std::string>& values) {
  handle type = vlen_string_type();
  const hsize_t n[1] = {values.size()};
  handle space(H5Screate_simple(1, n, nullptr), "create an attribute space");
  std::vector<const char*> p;
  for (const auto& v : values) p.push_back(v.c_str());
  replace_attribute(object, name, type.get(), space.get(), p.data());
}

std::string string_attribute(hid_t object, const std::string& name) {
  const std::string what = "read attribute " + name;
  handle attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), what);
  handle type = vlen_string_type();
  char* p = nullptr;
  check_status(H5Aread(attr.get(), type.get(), &p), what);
  std::string out = p ? p : "";
  H5free_memory(p);
  return out;
}

handle create_file(const std::string& path) {
  quiet();
  return handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "create " + path);
}

handle open_file(const std::string& path) {
  quiet();
  return handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "open " + path);
}

}  // namespace burla::h5
