// The schema recorder: which structs become records (fixed values with an HDF5 compound type),
// their type codes, and why the others stay serialized.
#include <gtest/gtest.h>

#include <array>
#include <boost/serialization/base_object.hpp>
#include <boost/serialization/nvp.hpp>
#include <boost/serialization/split_member.hpp>
#include <burla/burla.hpp>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "libburla/core/type_code.hpp"

namespace {

using burla::detail::encoding_of;
using burla::detail::h5_code;
using burla::detail::schema_of;
using burla::detail::value_kind;

struct named {
  double x = 0;
  std::int32_t n = 0;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& BOOST_SERIALIZATION_NVP(x) & boost::serialization::make_nvp("n", n);
  }
};

struct every_member {
  float a;
  bool b;
  std::array<short, 3> c;
  double d[2];
  std::complex<float> z;
  unsigned char u;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& a& b& c& d& z& u;
  }
};

struct reordered {  // serialize's order, not the declaration's; one member left out
  std::int8_t first;
  std::int64_t second;
  std::uint16_t skipped;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& BOOST_SERIALIZATION_NVP(second) & BOOST_SERIALIZATION_NVP(first);
  }
};

struct split {
  int a = 0;
  double b = 0;
  template <class A>
  void save(A& ar, unsigned) const {
    ar << a << b;
  }
  template <class A>
  void load(A& ar, unsigned) {
    ar >> a >> b;
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

struct bad_names {  // not identifiers, or twice the same: m0, m1, ... for every member
  int a = 0, b = 0, c = 0;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& boost::serialization::make_nvp("a", a) & boost::serialization::make_nvp("a", b) & c;
  }
};

struct twice {
  int a = 0;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& a& a;
  }
};

struct temporary {
  int a = 0;
  template <class A>
  void serialize(A& ar, unsigned) {
    int copy = a;
    ar& copy;
  }
};

struct base {
  int b = 0;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& b;
  }
};
struct derived : base {
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& boost::serialization::base_object<base>(*this);
  }
};

struct nested {
  named inner;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& inner;
  }
};

struct pointer {
  int* p = nullptr;
  int n = 0;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar.template register_type<named>();
    ar& n;
  }
};

struct nothing {
  int a = 0;
  template <class A>
  void serialize(A&, unsigned) {}
};

struct array_of_bools {
  std::array<bool, 2> b{};
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& b;
  }
};

struct with_string {  // not trivially copyable: not even a candidate
  std::string s;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& s;
  }
};

static_assert(!burla::detail::record_candidate<with_string>);
static_assert(burla::detail::record_candidate<named> && burla::detail::record_candidate<derived>);
static_assert(burla::detail::typed_kind<std::vector<named>>() == value_kind::sequence);
static_assert(burla::detail::typed_kind<std::array<named, 3>>() == value_kind::fixed);

TEST(Record, CodesGiveNamesOffsetsAndTypes) {
  EXPECT_EQ(h5_code<named>(), "s16{x@0:f64,n@8:i32}");
  const auto t = burla::core::parse_type_code(h5_code<every_member>());
  ASSERT_TRUE(t) << h5_code<every_member>();
  ASSERT_EQ(t->fields.size(), 6u);
  EXPECT_EQ(t->fixed_size(), sizeof(every_member));
  const std::vector<std::string> names = {"m0", "m1", "m2", "m3", "m4", "m5"};
  const std::vector<std::size_t> offsets = {offsetof(every_member, a), offsetof(every_member, b),
                                            offsetof(every_member, c), offsetof(every_member, d),
                                            offsetof(every_member, z), offsetof(every_member, u)};
  const std::vector<std::string> codes = {"f32", "bool", "i16", "f64", "f32", "u8"};
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(t->fields[i].name, names[i]);
    EXPECT_EQ(t->fields[i].offset, offsets[i]);
    EXPECT_EQ(t->fields[i].type.scalar, codes[i]);
  }
  EXPECT_EQ(t->fields[2].type.array, 3u);
  EXPECT_EQ(t->fields[3].type.array, 2u);
  EXPECT_TRUE(t->fields[4].type.complex);

  EXPECT_EQ(h5_code<reordered>(), "s" + std::to_string(sizeof(reordered)) + "{second@8:i64,first@0:i8}");
  EXPECT_EQ(h5_code<bad_names>(), "s12{m0@0:i32,m1@4:i32,m2@8:i32}");
  EXPECT_EQ(h5_code<std::vector<named>>(), "v:s16{x@0:f64,n@8:i32}");
  EXPECT_EQ((h5_code<std::array<named, 3>>()), "a3:s16{x@0:f64,n@8:i32}");
  for (const std::string& code : {h5_code<named>(), h5_code<reordered>(), h5_code<std::vector<named>>(),
                                  h5_code<std::array<named, 3>>()})
    EXPECT_TRUE(burla::core::parse_type_code(code)) << code;
  EXPECT_EQ(encoding_of<named>(), value_kind::fixed);
  EXPECT_EQ(encoding_of<std::vector<named>>(), value_kind::sequence);
  EXPECT_EQ(burla::detail::fixed_size<named>(), sizeof(named));
}

template <class T>
void expect_serialized(const std::string& why) {
  EXPECT_EQ(schema_of<T>().code, "");
  EXPECT_NE(schema_of<T>().why_not.find(why), std::string::npos) << schema_of<T>().why_not;
  EXPECT_EQ(encoding_of<T>(), value_kind::serialized);
  EXPECT_EQ(encoding_of<std::vector<T>>(), value_kind::serialized);
  EXPECT_EQ(h5_code<T>(), "");
  EXPECT_EQ(h5_code<std::vector<T>>(), "");
  EXPECT_EQ(burla::detail::fixed_size<T>(), 0u);
}

TEST(Record, StructsTheRecorderCannotDescribeStaySerialized) {
  // Its own load may check or convert what it reads: travelling as bytes would skip that.
  EXPECT_EQ(encoding_of<split>(), value_kind::serialized);
  EXPECT_EQ(h5_code<split>(), "");
  expect_serialized<twice>("visited twice");
  expect_serialized<temporary>("not inside the object");
  expect_serialized<derived>("no number");
  expect_serialized<nested>("no number");
  expect_serialized<pointer>("registers a type");
  expect_serialized<nothing>("no member");
  expect_serialized<array_of_bools>("no number");
  EXPECT_EQ(encoding_of<with_string>(), value_kind::serialized);
}

template <class T>
T round_trip(const T& value, std::size_t bytes) {
  std::string out;
  burla::detail::encode_value(out, value);
  EXPECT_EQ(out.size(), bytes);
  burla::detail::byte_reader in(out, "test");
  T back = burla::detail::decode_value<T>(in);
  EXPECT_TRUE(in.empty());
  return back;
}

TEST(Record, RecordsTravelAsTheirBytesOthersAsArchives) {
  const named n = round_trip(named{1.5, -7}, sizeof(named));
  EXPECT_EQ(n.x, 1.5);
  EXPECT_EQ(n.n, -7);
  const auto v = round_trip(std::vector<named>{{1, 2}, {3, 4}}, 8 + 2 * sizeof(named));
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1].x, 3);
  // An archive: length, preamble (5 bytes), the int.
  EXPECT_EQ(round_trip(twice{9}, 8 + 5 + 4 + 4).a, 9);
  std::string missing;
  burla::detail::encode_missing<named>(missing);
  EXPECT_EQ(missing, std::string(sizeof(named), '\0'));
}

}  // namespace
