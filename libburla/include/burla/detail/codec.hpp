// How inputs and results travel: which types are allowed, and their encodings.
//  - fixed:      arithmetic and enum types, std::complex of a float type, std::array of those
//                (up to max_fixed_bytes), raw bytes (typed HDF5 datasets)
//  - string:     std::string, raw bytes (HDF5 variable-length strings)
//  - sequence:   std::vector of fixed elements (not bool): a length, then the elements' raw
//                bytes (HDF5 variable-length sequences)
//  - serialized: anything else Boost.Serialization handles, as binary archives
// A struct whose serialize the schema recorder can describe (below: records) is fixed, and a
// std::vector or std::array of such structs sequence or fixed; what the recorder decides is the
// same in every process of a build, so encoding_of<T>() is what the caller, the call processes
// and job.ini agree on.
#pragma once

#include <algorithm>
#include <array>
#include <bitset>
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_iarchive_impl.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/impl/archive_serializer_map.ipp>
#include <boost/archive/impl/basic_binary_iarchive.ipp>
#include <boost/archive/impl/basic_binary_iprimitive.ipp>
#include <boost/core/nvp.hpp>
#include <boost/serialization/array.hpp>
#include <boost/serialization/bitset.hpp>
#include <boost/serialization/collection_size_type.hpp>
#include <boost/serialization/complex.hpp>
#include <boost/serialization/deque.hpp>
#include <boost/serialization/list.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/set.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/unordered_map.hpp>
#include <boost/serialization/unordered_set.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/serialization/version.hpp>
#include <burla/detail/wire.hpp>
#include <complex>
#include <cstdint>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace burla::detail {

// ---- which types are allowed --------------------------------------------------------------

template <class T>
concept has_member_serialize = requires(T& t, boost::archive::binary_oarchive& a) {
  t.serialize(a, 0u);
};
template <class T>
concept has_free_serialize = requires(T& t, boost::archive::binary_oarchive& a) {
  serialize(a, t, 0u);
};

template <class T>
struct serializable_trait;

template <class T>
inline constexpr bool is_serializable_v = serializable_trait<T>::value;

/// Arithmetic types with a native HDF5 type; GNU's __int128 and __float128 have none.
template <class T>
constexpr bool plain_arithmetic() {
  if constexpr (std::is_arithmetic_v<T>)
    return sizeof(T) <= 8 || std::is_same_v<std::remove_cv_t<T>, long double>;
  else
    return false;
}
template <class T>
inline constexpr bool is_plain_arithmetic_v = plain_arithmetic<T>();

template <class T>
struct serializable_trait
    : std::bool_constant<!std::is_pointer_v<T> && (is_plain_arithmetic_v<T> || std::is_enum_v<T> ||
                                                   has_member_serialize<T> || has_free_serialize<T>)> {};
template <class C, class T, class A>
struct serializable_trait<std::basic_string<C, T, A>> : std::bool_constant<is_plain_arithmetic_v<C>> {};
template <class T, class A>
struct serializable_trait<std::vector<T, A>> : serializable_trait<T> {};
template <class T, class A>
struct serializable_trait<std::list<T, A>> : serializable_trait<T> {};
template <class T, class A>
struct serializable_trait<std::deque<T, A>> : serializable_trait<T> {};
template <class T, std::size_t N>
struct serializable_trait<std::array<T, N>> : serializable_trait<T> {};
template <class T>
struct serializable_trait<std::complex<T>> : serializable_trait<T> {};
template <std::size_t N>
struct serializable_trait<std::bitset<N>> : std::true_type {};
template <class A, class B>
struct serializable_trait<std::pair<A, B>>
    : std::bool_constant<is_serializable_v<A> && is_serializable_v<B>> {};
template <class K, class C, class A>
struct serializable_trait<std::set<K, C, A>> : serializable_trait<K> {};
template <class K, class C, class A>
struct serializable_trait<std::multiset<K, C, A>> : serializable_trait<K> {};
template <class K, class V, class C, class A>
struct serializable_trait<std::map<K, V, C, A>>
    : std::bool_constant<is_serializable_v<K> && is_serializable_v<V>> {};
template <class K, class V, class C, class A>
struct serializable_trait<std::multimap<K, V, C, A>>
    : std::bool_constant<is_serializable_v<K> && is_serializable_v<V>> {};
template <class K, class H, class E, class A>
struct serializable_trait<std::unordered_set<K, H, E, A>> : serializable_trait<K> {};
template <class K, class V, class H, class E, class A>
struct serializable_trait<std::unordered_map<K, V, H, E, A>>
    : std::bool_constant<is_serializable_v<K> && is_serializable_v<V>> {};

// ---- encodings ----------------------------------------------------------------------------

enum class value_kind : std::uint8_t { fixed = 0, string = 1, serialized = 2, none = 3, sequence = 4 };

/// Largest std::array that travels as raw bytes; larger ones are archives. Keeps batches and
/// rows small, and products with n_inputs far from overflow.
inline constexpr std::size_t max_fixed_bytes = 4096;

template <class T>
inline constexpr bool is_complex_v = false;
template <class F>
inline constexpr bool is_complex_v<std::complex<F>> = std::is_floating_point_v<F>;

/// An element of a typed std::array or std::vector: a number (not bool: std::vector<bool> has
/// no elements in memory), an enum, or a complex number.
template <class T>
inline constexpr bool is_typed_element_v =
    (is_plain_arithmetic_v<T> && !std::is_same_v<T, bool>) || std::is_enum_v<T> || is_complex_v<T>;

template <class T>
inline constexpr bool is_typed_array_v = false;
template <class E, std::size_t N>
inline constexpr bool is_typed_array_v<std::array<E, N>> = is_typed_element_v<E>&& N > 0 &&
                                                           sizeof(std::array<E, N>) <= max_fixed_bytes;

template <class T>
inline constexpr bool is_typed_vector_v = false;
template <class E>
inline constexpr bool is_typed_vector_v<std::vector<E>> = is_typed_element_v<E> || is_typed_array_v<E>;

/// The encoding the type gives at compile time. For a struct that may be a record (and vectors
/// and arrays of one) it is serialized, what it stays without a schema: encoding_of<T>() below
/// is the encoding every process uses.
template <class T>
constexpr value_kind kind_of() {
  if constexpr (std::is_void_v<T>)
    return value_kind::none;
  else if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T> || is_complex_v<T> || is_typed_array_v<T>)
    return value_kind::fixed;
  else if constexpr (std::is_same_v<T, std::string>)
    return value_kind::string;
  else if constexpr (is_typed_vector_v<T>)
    return value_kind::sequence;
  else
    return value_kind::serialized;
}

// ---- records: structs with an HDF5 compound type ------------------------------------------

template <class T>
std::string h5_code();

/// Walks a struct's serialize on one object and records, for each member it visits, the name
/// (make_nvp's, else m0, m1, ...), the offset in the object and the type code. Anything else
/// it meets (a base class, a string, a pointer, a container, a value outside the object, a
/// member visited twice) makes the struct no record: it stays serialized.
class schema_archive {
 public:
  // split_member picks save(): a record's bytes are what it saves.
  using is_saving = std::true_type;
  using is_loading = std::false_type;

  schema_archive(const void* object, std::size_t size)
      : begin_(reinterpret_cast<std::uintptr_t>(object)), size_(size) {}

  template <class T>
  schema_archive& operator&(const T& x) {
    visit(nullptr, x);
    return *this;
  }
  template <class T>
  schema_archive& operator&(const boost::serialization::nvp<T>& x) {
    visit(x.name(), x.const_value());
    return *this;
  }
  template <class T>
  schema_archive& operator<<(const T& x) {
    return *this & x;
  }
  template <class T>
  schema_archive& operator>>(const T&) {
    return fail("it reads");
  }
  // The rest of a Boost archive's interface that a serialize may use: none of it is a record's.
  template <class T>
  const void* register_type(const T* = nullptr) {
    fail("it registers a type");
    return nullptr;
  }
  boost::archive::library_version_type get_library_version() const {
    return boost::archive::BOOST_ARCHIVE_VERSION();
  }
  void save_binary(const void*, std::size_t) { fail("it writes raw bytes"); }
  void load_binary(void*, std::size_t) { fail("it reads raw bytes"); }
  schema_archive& fail(std::string why) {
    if (why_.empty()) why_ = std::move(why);
    return *this;
  }

  /// The record's type code, "s16{x@0:f64,n@8:i32}" (core::parse_type_code reads it), or empty
  /// with why() set.
  std::string finish();
  const std::string& why() const { return why_; }

 private:
  struct member {
    std::string name;
    std::uint64_t offset, size;
    std::string code;
  };
  template <class M>
  static std::string member_code() {
    if constexpr (std::is_array_v<M> && std::rank_v<M> == 1) {
      using E = std::remove_extent_t<M>;
      if constexpr (is_typed_element_v<E> && sizeof(M) <= max_fixed_bytes)
        return "a" + std::to_string(std::extent_v<M>) + ":" + h5_code<E>();
      else
        return "";
    } else if constexpr (is_typed_element_v<M> || std::is_same_v<M, bool> || is_typed_array_v<M>) {
      return h5_code<M>();
    } else {
      return "";
    }
  }
  template <class M>
  void visit(const char* name, const M& x) {
    const std::string code = member_code<M>();
    if (code.empty())
      return (void)fail("member " + std::to_string(members_.size()) + " is no number, bool, " +
                        "complex number or array of them");
    const auto at = reinterpret_cast<std::uintptr_t>(std::addressof(x));
    if (at < begin_ || at - begin_ + sizeof(M) > size_)
      return (void)fail("member " + std::to_string(members_.size()) + " is not inside the object");
    members_.push_back({name ? name : "", at - begin_, sizeof(M), code});
  }

  std::uintptr_t begin_;
  std::size_t size_;
  std::vector<member> members_;
  std::string why_;
};

inline std::string schema_archive::finish() {
  if (why_.empty() && members_.empty()) fail("it visits no member");
  std::vector<const member*> by_offset;
  for (const auto& m : members_) by_offset.push_back(&m);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  for (std::size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i - 1]->offset + by_offset[i - 1]->size > by_offset[i]->offset)
      fail("two members overlap, or one is visited twice");
  if (!why_.empty()) return "";
  // make_nvp's names where they are identifiers and unique, else m0, m1, ... for all.
  auto identifier = [](const std::string& n) {  // as core::parse_type_code reads names
    auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (n.empty() || n.size() > 64 || !letter(n[0])) return false;
    return std::all_of(n.begin(), n.end(), [&](char c) { return letter(c) || (c >= '0' && c <= '9'); });
  };
  std::vector<std::string> names;
  for (std::size_t i = 0; i < members_.size(); ++i)
    names.push_back(identifier(members_[i].name) ? members_[i].name : "m" + std::to_string(i));
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    for (std::size_t i = 0; i < names.size(); ++i) names[i] = "m" + std::to_string(i);
  std::string code = "s" + std::to_string(size_) + "{";
  for (std::size_t i = 0; i < members_.size(); ++i)
    code += (i ? "," : "") + names[i] + "@" + std::to_string(members_[i].offset) + ":" + members_[i].code;
  return code + "}";
}

/// A struct with load and save of its own (BOOST_SERIALIZATION_SPLIT_MEMBER): its loading does
/// something saving does not undo, which travelling as bytes would skip.
template <class T>
concept splits_load_and_save = requires(T& t, schema_archive& a) {
  t.load(a, 0u);
};

/// A struct the schema recorder may make a record: raw bytes are a faithful copy (trivially
/// copyable), its members have offsets (standard layout), and its serialize is a template.
template <class T>
concept record_candidate = std::is_class_v<T> && std::is_trivially_copyable_v<T> &&
                               std::is_standard_layout_v<T> && std::is_default_constructible_v<T> &&
                               sizeof(T) <= max_fixed_bytes&& has_member_serialize<T> &&
                           !splits_load_and_save<T> && requires(T & t, schema_archive& a) {
  t.serialize(a, 0u);
};

/// A record's type code, or empty with the reason it is none. Recorded once per process, on a
/// default-constructed object, with the class's version (BOOST_CLASS_VERSION).
struct record_schema {
  std::string code;
  std::string why_not;
};
template <record_candidate T>
const record_schema& schema_of() {
  static const record_schema schema = [] {
    T object{};
    schema_archive ar(&object, sizeof(T));
    try {
      object.serialize(ar, boost::serialization::version<T>::value);
    } catch (...) {
      ar.fail("its serialize threw");
    }
    std::string code = ar.finish();
    return record_schema{std::move(code), ar.why()};
  }();
  return schema;
}

/// The struct whose schema decides T's encoding: T itself, or the element of a std::vector or
/// std::array (of at most max_fixed_bytes) of records; void for every other type.
template <class T>
struct record_in {
  using type = void;
};
template <record_candidate T>
struct record_in<T> {
  using type = T;
};
template <record_candidate T>
struct record_in<std::vector<T>> {
  using type = T;
};
template <record_candidate T, std::size_t N>
requires(N > 0 && sizeof(std::array<T, N>) <= max_fixed_bytes) struct record_in<std::array<T, N>> {
  using type = T;
};
template <class T>
using record_in_t = typename record_in<T>::type;
template <class T>
inline constexpr bool has_record_v = !std::is_void_v<record_in_t<T>>;

/// What T is when its record has a schema: fixed, or sequence for a std::vector of records;
/// kind_of<T>() for the other types.
template <class T>
constexpr value_kind typed_kind() {
  if constexpr (!has_record_v<T>)
    return kind_of<T>();
  else if constexpr (std::is_same_v<T, std::vector<record_in_t<T>>>)
    return value_kind::sequence;
  else
    return value_kind::fixed;
}

/// How T travels and is stored: kind_of<T>(), but for the types of has_record_v, typed_kind<T>()
/// when the record has a schema and serialized when not. What job.ini records.
template <class T>
value_kind encoding_of() {
  if constexpr (has_record_v<T>)
    return schema_of<record_in_t<T>>().code.empty() ? value_kind::serialized : typed_kind<T>();
  else
    return kind_of<T>();
}

/// True for the types of has_record_v whose record has no schema: typed_kind<T>()'s code then
/// falls back to the archive.
template <class T>
bool untyped_record() {
  if constexpr (has_record_v<T>)
    return schema_of<record_in_t<T>>().code.empty();
  else
    return false;
}

/// The HDF5 type code of a fixed or sequence type, as job.ini records it (read by
/// core::parse_type_code): "bool", "i8".."u64", "f32", "f64", "f128" (long double); "c128" for
/// std::complex<double> (the bits of both parts); "a3:f64" for std::array<double, 3>; "v:f64"
/// for std::vector<double>; "s16{x@0:f64,n@8:i32}" for a record of 16 bytes. Empty for other
/// types.
template <class T>
std::string h5_code() {
  if (untyped_record<T>()) return "";
  if constexpr (record_candidate<T>) {
    return schema_of<T>().code;
  } else if constexpr (is_typed_vector_v<T> || typed_kind<T>() == value_kind::sequence) {
    return "v:" + h5_code<typename T::value_type>();
  } else if constexpr (is_typed_array_v<T> || has_record_v<T>) {
    return "a" + std::to_string(std::tuple_size_v<T>) + ":" + h5_code<typename T::value_type>();
  } else if constexpr (is_complex_v<T>) {
    return "c" + std::to_string(sizeof(T) * 8);
  } else if constexpr (std::is_enum_v<T>) {
    return h5_code<std::underlying_type_t<T>>();
  } else if constexpr (std::is_same_v<T, bool>) {
    return "bool";
  } else if constexpr (std::is_floating_point_v<T>) {
    return "f" + std::to_string(sizeof(T) * 8);
  } else if constexpr (std::is_integral_v<T>) {
    return (std::is_signed_v<T> ? "i" : "u") + std::to_string(sizeof(T) * 8);
  } else {
    return "";
  }
}

/// A std::vector's elements as raw bytes (the sequence encoding, after its length).
template <class T>
std::string_view sequence_bytes(const T& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(typename T::value_type)};
}

inline constexpr unsigned archive_flags = boost::archive::no_header | boost::archive::no_codecvt;

/// Appends to a std::string; Boost archives write through it without copies.
class append_buf : public std::streambuf {
 public:
  explicit append_buf(std::string& out) : out_(out) {}

 protected:
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) out_.push_back(static_cast<char>(c));
    return c;
  }
  std::streamsize xsputn(const char* p, std::streamsize n) override {
    out_.append(p, static_cast<std::size_t>(n));
    return n;
  }

 private:
  std::string& out_;
};

/// Reads a byte range; Boost archives read through it. Tracks how far they got.
class view_buf : public std::streambuf {
 public:
  explicit view_buf(std::string_view in) {
    char* b = const_cast<char*>(in.data());
    setg(b, b, b + in.size());
  }
  std::size_t consumed() const { return static_cast<std::size_t>(gptr() - eback()); }
  std::size_t left() const { return static_cast<std::size_t>(egptr() - gptr()); }
  /// Reads again from `consumed` bytes after the start.
  void seek(std::size_t consumed) { setg(eback(), eback() + consumed, egptr()); }
};

/// Boost's binary archive (same format) that checks what it reads before Boost acts on it. Boost
/// sizes a container from the count it reads, before the elements: a damaged count would make
/// it allocate, zero-fill or build node by node that many elements (a std::list of 2^60 nodes
/// never ends). Here a count or a string length may not exceed the bytes left in the archive,
/// since each element takes at least one; elements that serialize to nothing (empty classes)
/// get a free allowance of 4096. A bool must be 0 or 1.
class checked_iarchive
    : public boost::archive::binary_iarchive_impl<checked_iarchive, char, std::char_traits<char>> {
  using base = boost::archive::binary_iarchive_impl<checked_iarchive, char, std::char_traits<char>>;
  using primitive = boost::archive::basic_binary_iprimitive<checked_iarchive, char, std::char_traits<char>>;
  friend class boost::archive::detail::interface_iarchive<checked_iarchive>;
  friend class boost::archive::basic_binary_iarchive<checked_iarchive>;
  friend primitive;
  friend class boost::archive::load_access;

 public:
  /// What the checks throw; decode_archive reports it as damaged data.
  struct damaged : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  checked_iarchive(view_buf& buf, unsigned flags) : base(buf, flags), buf_(buf) {}

 protected:
  template <class T>
  void load_override(T& t) {
    base::load_override(t);
  }
  void load_override(boost::serialization::collection_size_type& t) {
    base::load_override(t);
    check(std::as_const(t), "a container count");
  }
  using primitive::load;
  void load(std::string& s) {
    std::size_t n = 0;
    load(n);
    check(n, "a string length");
    s.resize(n);
    if (n > 0) load_binary(s.data(), n);
  }
  void load(bool& b) {
    unsigned char c = 0;
    load_binary(&c, 1);
    if (c > 1) throw damaged("a bool holds " + std::to_string(c));
    b = c == 1;
  }

 private:
  void check(std::size_t n, const char* what) const {
    if (n > std::max<std::size_t>(buf_.left(), 4096))
      throw damaged(std::string(what) + " of " + std::to_string(n) + " with " + std::to_string(buf_.left()) +
                    " bytes left in the archive");
  }
  view_buf& buf_;
};

/// Size of one fixed-size item (encoding_of<T>() fixed), 0 for variable-size encodings.
template <class T>
std::size_t fixed_size() {
  if constexpr (typed_kind<T>() == value_kind::fixed)
    if (!untyped_record<T>()) return sizeof(T);
  return 0;
}

template <class T>
void encode_archive(std::string& out, const T& value);

/// Appends one encoded value (a result) to a reply buffer.
template <class T>
void encode_value(std::string& out, const T& value) {
  if constexpr (has_record_v<T>)
    if (untyped_record<T>()) return encode_archive(out, value);
  if constexpr (typed_kind<T>() == value_kind::fixed) {
    out.append(reinterpret_cast<const char*>(&value), sizeof(T));
  } else if constexpr (typed_kind<T>() == value_kind::string) {
    byte_writer(out).put_bytes(value);
  } else if constexpr (typed_kind<T>() == value_kind::sequence) {
    byte_writer(out).put_bytes(sequence_bytes(value));
  } else {
    encode_archive(out, value);
  }
}

/// Appends one value as its length, then its archive written in place.
template <class T>
void encode_archive(std::string& out, const T& value) {
  const std::size_t at = out.size();
  out.append(sizeof(std::uint64_t), '\0');
  try {
    append_buf buf(out);
    boost::archive::binary_oarchive ar(buf, archive_flags);
    ar << value;
  } catch (...) {
    out.resize(at);
    throw;
  }
  const std::uint64_t n = out.size() - at - sizeof(std::uint64_t);
  std::memcpy(out.data() + at, &n, sizeof n);
}

/// Placeholder for a result that does not exist (failed or not run).
template <class T>
void encode_missing(std::string& out) {
  if (fixed_size<T>() > 0)
    out.append(fixed_size<T>(), '\0');
  else if (typed_kind<T>() != value_kind::none)
    byte_writer(out).put_bytes({});
}

/// Reads an archive through `load(archive)`, maybe twice (an archive of burla's checked kind, or Boost's own
/// for classes exported where codec.hpp was not included). Damaged data gives burla::error
/// naming `what`, also where a count checked_iarchive lets through still asks for more memory
/// than there is (elements far larger than their encoding).
template <class Load>
void load_checked(std::string_view bytes, const std::string& what, Load&& load) {
  auto fail = [&](const std::string& why) {
    return error("burla: cannot decode " + what + " (" + std::to_string(bytes.size()) +
                 "-byte archive): " + why + "; the data is damaged");
  };
  try {
    try {
      view_buf buf(bytes);
      checked_iarchive ar(buf, archive_flags);
      load(ar);
    } catch (const boost::archive::archive_exception& e) {
      // Classes exported (BOOST_CLASS_EXPORT) where codec.hpp was not included are registered
      // with Boost's own archives only: those values decode unchecked.
      if (e.code != boost::archive::archive_exception::unregistered_class) throw;
      view_buf buf(bytes);
      boost::archive::binary_iarchive ar(buf, archive_flags);
      load(ar);
    }
  } catch (const boost::archive::archive_exception& e) {
    throw fail(e.what());
  } catch (const checked_iarchive::damaged& e) {
    throw fail(e.what());
  } catch (const std::bad_alloc&) {
    throw fail("it asks for more memory than there is");
  } catch (const std::length_error&) {
    throw fail("a container count in it is larger than any container");
  }
}

/// Decodes one archive (its length was checked against the bytes it came in).
template <class T>
T decode_archive(std::string_view bytes) {
  T value{};
  if (!bytes.empty())
    load_checked(bytes, "a serialized value", [&](auto& ar) {
      value = T{};  // again from the start if the first archive kind gave up halfway
      ar >> value;
    });
  return value;
}

/// A std::vector from its elements' raw bytes.
template <class T>
T decode_sequence(std::string_view bytes) {
  using E = typename T::value_type;
  if (bytes.size() % sizeof(E) != 0)
    throw error("burla: a sequence of " + std::to_string(bytes.size()) + " bytes is no whole number of " +
                std::to_string(sizeof(E)) + "-byte elements; the data is damaged");
  T value(bytes.size() / sizeof(E));
  if (!bytes.empty()) std::memcpy(value.data(), bytes.data(), bytes.size());
  return value;
}

/// Reads one value written by encode_value (or encode_missing).
template <class T>
T decode_value(byte_reader& in) {
  if constexpr (std::is_same_v<T, bool>) {  // any other byte would be undefined as a bool
    const auto b = in.get<std::uint8_t>();
    if (b > 1)
      throw error("burla: a bool value is stored as byte " + std::to_string(b) + "; the data is damaged");
    return b == 1;
  } else if constexpr (typed_kind<T>() == value_kind::fixed) {
    if constexpr (has_record_v<T>)
      if (untyped_record<T>()) return decode_archive<T>(in.get_bytes());
    return in.get<T>();
  } else if constexpr (typed_kind<T>() == value_kind::string) {
    return std::string(in.get_bytes());
  } else if constexpr (typed_kind<T>() == value_kind::sequence) {
    if constexpr (has_record_v<T>)
      if (untyped_record<T>()) return decode_archive<T>(in.get_bytes());
    return decode_sequence<T>(in.get_bytes());
  } else {
    return decode_archive<T>(in.get_bytes());
  }
}

}  // namespace burla::detail

BOOST_SERIALIZATION_REGISTER_ARCHIVE(burla::detail::checked_iarchive)
BOOST_SERIALIZATION_USE_ARRAY_OPTIMIZATION(burla::detail::checked_iarchive)
