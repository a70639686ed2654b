// The type codes job.ini records: what the one parser reads, and that it reads what h5_code writes.
#include "libburla/core/type_code.hpp"

#include <gtest/gtest.h>

#include <array>
#include <burla/detail/job_types.hpp>
#include <complex>
#include <vector>

namespace {

using burla::core::parse_type_code;
using burla::detail::h5_code;
using burla::detail::kind_of;
using burla::detail::value_kind;

static_assert(kind_of<std::complex<double>>() == value_kind::fixed);
static_assert(kind_of<std::complex<float>>() == value_kind::fixed);
static_assert(kind_of<std::array<int, 3>>() == value_kind::fixed);
static_assert(kind_of<std::array<std::complex<float>, 2>>() == value_kind::fixed);
static_assert(kind_of<std::vector<double>>() == value_kind::sequence);
static_assert(kind_of<std::vector<std::array<short, 2>>>() == value_kind::sequence);
// What stays an archive: no elements in memory, not numbers, too large to travel raw.
static_assert(kind_of<std::vector<bool>>() == value_kind::serialized);
static_assert(kind_of<std::array<bool, 2>>() == value_kind::serialized);
static_assert(kind_of<std::vector<std::string>>() == value_kind::serialized);
static_assert(kind_of<std::vector<std::vector<double>>>() == value_kind::serialized);
static_assert(kind_of<std::array<double, 513>>() == value_kind::serialized);
static_assert(kind_of<std::complex<int>>() == value_kind::serialized);

TEST(TypeCode, ReadsEachForm) {
  const auto d = parse_type_code("f64");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->scalar, "f64");
  EXPECT_FALSE(d->complex || d->sequence);
  EXPECT_EQ(d->array, 0u);
  EXPECT_EQ(d->fixed_size(), 8u);

  const auto c = parse_type_code("c64");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->complex);
  EXPECT_EQ(c->scalar, "f32");
  EXPECT_EQ(c->scalar_size, 4u);
  EXPECT_EQ(c->fixed_size(), 8u);

  const auto a = parse_type_code("a3:i32");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->array, 3u);
  EXPECT_EQ(a->scalar, "i32");
  EXPECT_EQ(a->fixed_size(), 12u);

  const auto ac = parse_type_code("a2:c128");
  ASSERT_TRUE(ac);
  EXPECT_TRUE(ac->complex);
  EXPECT_EQ(ac->fixed_size(), 32u);

  const auto v = parse_type_code("v:f64");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->sequence);
  EXPECT_EQ(v->fixed_size(), 0u);  // variable
  EXPECT_EQ(v->element_size, 8u);

  const auto va = parse_type_code("v:a4:u16");
  ASSERT_TRUE(va);
  EXPECT_TRUE(va->sequence);
  EXPECT_EQ(va->array, 4u);
  EXPECT_EQ(va->element_size, 8u);

  const auto b = parse_type_code("bool");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->fixed_size(), 1u);
}

TEST(TypeCode, ReadsRecords) {
  const auto r = parse_type_code("s24{x@0:f64,n@8:i32,ok@12:bool,v@16:a2:f32}");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->record());
  EXPECT_EQ(r->fixed_size(), 24u);
  ASSERT_EQ(r->fields.size(), 4u);
  EXPECT_EQ(r->fields[0].name, "x");
  EXPECT_EQ(r->fields[0].type.scalar, "f64");
  EXPECT_EQ(r->fields[2].offset, 12u);
  EXPECT_EQ(r->fields[2].type.scalar, "bool");
  EXPECT_EQ(r->fields[3].type.array, 2u);
  EXPECT_EQ(r->fields[3].type.fixed_size(), 8u);

  const auto z = parse_type_code("s16{_z9@0:c128}");  // the order serialize gives: any
  ASSERT_TRUE(z);
  EXPECT_TRUE(z->fields[0].type.complex);
  const auto back = parse_type_code("s16{b@8:u64,a@0:i8}");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->fields[0].offset, 8u);

  const auto v = parse_type_code("v:s16{x@0:f64,n@8:i32}");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->sequence);
  EXPECT_EQ(v->element_size, 16u);
  const auto a = parse_type_code("a3:s16{x@0:f64,n@8:i32}");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->fixed_size(), 48u);
}

TEST(TypeCode, RefusesRecordsBurlaNeverWrites) {
  for (const char* code : {"s{x@0:f64}",
                           "s0{x@0:f64}",
                           "s08{x@0:f64}",
                           "s8{}",
                           "s8{x@0:f64",
                           "s8x@0:f64}",
                           "s8{x@0:f64,}",
                           "s8{,x@0:f64}",
                           "s8{x@1:f64}",           // past the end
                           "s7{x@0:f64}",           // larger than the record
                           "s16{x@0:f64,y@4:i32}",  // overlapping
                           "s16{x@0:f64,x@8:f64}",  // one name twice
                           "s8{9x@0:f64}",
                           "s8{x-y@0:f64}",
                           "s8{@0:f64}",
                           "s8{x@:f64}",
                           "s8{x@00:f64}",
                           "s8{x@0}",
                           "s8{x0:f64}",
                           "s8{x@0:v:f64}",
                           "s8{x@0:s8{y@0:f64}}",
                           "s8{x@0:a2:bool}",
                           "s8{x@0:f64} ",
                           "s5000{x@0:f64}",
                           "s99999999999999999999{x@0:f64}",
                           "a2000:s8{x@0:f64}",
                           "v:v:s8{x@0:f64}"})
    EXPECT_FALSE(parse_type_code(code)) << "'" << code << "'";
  EXPECT_FALSE(parse_type_code("s80{" + std::string(65, 'n') + "@0:f64}"));
  EXPECT_TRUE(parse_type_code("s80{" + std::string(64, 'n') + "@0:f64}"));
}

TEST(TypeCode, RefusesWhatBurlaNeverWrites) {
  for (const char* code : {"",
                           "f16",
                           "i128",
                           "c",
                           "c63",
                           "c32",
                           "a:f64",
                           "a0:f64",
                           "a03:f64",
                           "a3f64",
                           "a3:",
                           "a-1:i8",
                           "a99999999999999999999:i8",
                           "a5000:i8",
                           "a600:f64",
                           "v:",
                           "v:bool",
                           "a2:bool",
                           "v:v:f64",
                           "a2:a2:f64",
                           "f64 ",
                           "x"})
    EXPECT_FALSE(parse_type_code(code)) << "'" << code << "'";
}

template <class T>
void expect_reads_back() {
  const std::string code = h5_code<T>();
  const auto t = parse_type_code(code);
  ASSERT_TRUE(t) << code;
  if constexpr (kind_of<T>() == value_kind::fixed) {
    EXPECT_EQ(t->fixed_size(), sizeof(T)) << code;
  } else {
    EXPECT_TRUE(t->sequence) << code;
    EXPECT_EQ(t->element_size, sizeof(typename T::value_type)) << code;
  }
}

TEST(TypeCode, ReadsWhatH5CodeWrites) {
  EXPECT_EQ((h5_code<std::complex<double>>()), "c128");
  EXPECT_EQ(h5_code<std::complex<float>>(), "c64");
  EXPECT_EQ((h5_code<std::array<int, 3>>()), "a3:i32");
  EXPECT_EQ(h5_code<std::vector<double>>(), "v:f64");
  EXPECT_EQ((h5_code<std::vector<std::array<std::uint8_t, 2>>>()), "v:a2:u8");
  expect_reads_back<bool>();
  expect_reads_back<long double>();
  expect_reads_back<std::complex<long double>>();
  expect_reads_back<std::array<std::complex<double>, 5>>();
  expect_reads_back<std::array<double, 512>>();
  expect_reads_back<std::vector<std::int64_t>>();
  expect_reads_back<std::vector<std::complex<float>>>();
  expect_reads_back<std::vector<std::array<float, 7>>>();
}

}  // namespace
