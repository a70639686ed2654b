// How inputs and results travel: which types are allowed, and their encodings.
//  - fixed:      arithmetic and enum types, std::complex of a float type, std::array of those
//                (up to max_fixed_bytes), raw bytes (typed HDF5 datasets)
//  - string:     std::string, raw bytes (HDF5 variable-length strings)
//  - sequence:   std::vector of fixed elements (not bool): a length, then the elements' raw
//                bytes (HDF5 variable-length sequences)
//  - serialized: anything else Boost.Serialization handles, as binary archives
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
#include <burla/detail/wire.hpp>
#include <complex>
#include <cstdint>
#include <cstring>
#include <deque>
#include <list>
#include <map>
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

/// Appends one encoded value (a result) to a reply buffer.
template <class T>
void encode_value(std::string& out, const T& value) {
  if constexpr (kind_of<T>() == value_kind::fixed) {
    out.append(reinterpret_cast<const char*>(&value), sizeof(T));
  } else if constexpr (kind_of<T>() == value_kind::string) {
    byte_writer(out).put_bytes(value);
  } else if constexpr (kind_of<T>() == value_kind::sequence) {
    byte_writer(out).put_bytes(sequence_bytes(value));
  } else {  // length, then the archive written in place
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
}

/// Placeholder for a result that does not exist (failed or not run).
template <class T>
void encode_missing(std::string& out) {
  if constexpr (kind_of<T>() == value_kind::fixed)
    out.append(sizeof(T), '\0');
  else if constexpr (kind_of<T>() != value_kind::none)
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
  } else if constexpr (kind_of<T>() == value_kind::fixed) {
    return in.get<T>();
  } else if constexpr (kind_of<T>() == value_kind::string) {
    return std::string(in.get_bytes());
  } else if constexpr (kind_of<T>() == value_kind::sequence) {
    return decode_sequence<T>(in.get_bytes());
  } else {
    return decode_archive<T>(in.get_bytes());
  }
}

/// Size of one fixed-size item, 0 for variable-size encodings.
template <class T>
constexpr std::size_t fixed_size() {
  if constexpr (kind_of<T>() == value_kind::fixed)
    return sizeof(T);
  else
    return 0;
}

}  // namespace burla::detail

BOOST_SERIALIZATION_REGISTER_ARCHIVE(burla::detail::checked_iarchive)
BOOST_SERIALIZATION_USE_ARRAY_OPTIMIZATION(burla::detail::checked_iarchive)
