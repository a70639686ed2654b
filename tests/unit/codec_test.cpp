#include <gtest/gtest.h>

#include <array>
#include <burla/burla.hpp>
#include <complex>
#include <map>
#include <string>
#include <vector>

#include "libburla/core/input_file.hpp"

namespace {

struct point {
  double x = 0, y = 0;
  std::string name;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& x& y& name;
  }
  bool operator==(const point&) const = default;
};

struct no_serialize {
  int a = 0;
};

struct free_serialize {
  int a = 0;
};
template <class A>
void serialize(A& ar, free_serialize& f, unsigned) {
  ar& f.a;
}

enum class color : short { red = 1, green = 7 };

using burla::detail::is_serializable_v;
using burla::detail::kind_of;
using burla::detail::value_kind;

static_assert(is_serializable_v<int> && is_serializable_v<double> && is_serializable_v<color>);
static_assert(is_serializable_v<std::string> && is_serializable_v<std::vector<std::string>>);
static_assert(is_serializable_v<std::map<std::string, std::vector<point>>>);
static_assert(is_serializable_v<point> && is_serializable_v<free_serialize>);
static_assert(!is_serializable_v<no_serialize> && !is_serializable_v<std::vector<no_serialize>>);
static_assert(!is_serializable_v<int*>);
static_assert(kind_of<double>() == value_kind::fixed && kind_of<std::string>() == value_kind::string);
static_assert(kind_of<point>() == value_kind::serialized && kind_of<void>() == value_kind::none);

template <class T>
T round_trip(const T& value) {
  std::string bytes;
  burla::detail::encode_value(bytes, value);
  burla::detail::byte_reader in(bytes, "test");
  T back = burla::detail::decode_value<T>(in);
  EXPECT_TRUE(in.empty());
  return back;
}

}  // namespace

TEST(Codec, RoundTripsEveryEncoding) {
  EXPECT_EQ(round_trip(-12345), -12345);
  EXPECT_EQ(round_trip(2.5), 2.5);
  EXPECT_EQ(round_trip(color::green), color::green);
  EXPECT_EQ(round_trip(std::string("with\0nul", 8)), std::string("with\0nul", 8));
  const point p{1.5, -2, "p"};
  EXPECT_EQ(round_trip(p), p);
  const std::map<std::string, std::vector<int>> m{{"a", {1, 2}}, {"b", {}}};
  EXPECT_EQ(round_trip(m), m);
  EXPECT_EQ(round_trip(std::complex<double>(1.5, -2)), std::complex<double>(1.5, -2));
  EXPECT_EQ(round_trip(std::array<int, 3>{7, -8, 9}), (std::array<int, 3>{7, -8, 9}));
  EXPECT_EQ(round_trip(std::vector<double>{0.5, -1e300}), (std::vector<double>{0.5, -1e300}));
  EXPECT_EQ(round_trip(std::vector<double>{}), std::vector<double>{});
}

TEST(Codec, ASequenceIsItsLengthThenItsElementsRaw) {
  std::string bytes;
  burla::detail::encode_value(bytes, std::vector<std::int16_t>{1, -2});
  const std::string want = {4, 0, 0, 0, 0, 0, 0, 0, 1, 0, '\xfe', '\xff'};  // little-endian
  EXPECT_EQ(bytes, want);
  // A length that is no whole number of elements is damage.
  const std::string odd = {3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2};
  burla::detail::byte_reader in(odd, "test");
  EXPECT_THROW(burla::detail::decode_value<std::vector<std::int16_t>>(in), burla::error);
}

TEST(Codec, MissingValuesDecodeAsDefault) {
  std::string bytes;
  burla::detail::encode_missing<point>(bytes);
  burla::detail::encode_missing<double>(bytes);
  burla::detail::byte_reader in(bytes, "test");
  EXPECT_EQ(burla::detail::decode_value<point>(in), point{});
  EXPECT_EQ(burla::detail::decode_value<double>(in), 0.0);
}

TEST(Codec, TruncatedDataIsAnErrorNotACrash) {
  std::string bytes;
  burla::detail::encode_value(bytes, point{1, 2, "a long enough name"});
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    burla::detail::byte_reader in(std::string_view(bytes).substr(0, cut), "test");
    EXPECT_THROW(burla::detail::decode_value<point>(in), burla::error) << "cut at " << cut;
  }
}

TEST(Codec, SegmentSizeGrowsWithTheJob) {
  EXPECT_EQ(burla::core::segment_items_for(10), 1u);
  EXPECT_EQ(burla::core::segment_items_for(100'000), 6u);
  EXPECT_EQ(burla::core::segment_items_for(100'000'000), 64u);
}
