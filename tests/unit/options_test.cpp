#include <gtest/gtest.h>

#include <burla/burla.hpp>
#include <cmath>
#include <limits>

namespace {

std::string rejected_option(const burla::options& o) {
  try {
    burla::detail::validate(o);
  } catch (const burla::invalid_option& e) {
    EXPECT_NE(std::string(e.what()).find(e.option()), std::string::npos);
    EXPECT_NE(std::string(e.what()).find(e.value()), std::string::npos);
    return e.option();
  }
  return "";
}

}  // namespace

TEST(Options, DefaultsAreValid) {
  EXPECT_EQ(rejected_option({}), "");
}

TEST(Options, InvalidValuesNameTheOption) {
  EXPECT_EQ(rejected_option({.func_cpu = 0}), "func_cpu");
  EXPECT_EQ(rejected_option({.func_cpu = -3}), "func_cpu");
  EXPECT_EQ(rejected_option({.func_ram = -1}), "func_ram");
  EXPECT_EQ(rejected_option({.func_ram = 0}), "func_ram");
  EXPECT_EQ(rejected_option({.func_ram = std::numeric_limits<double>::quiet_NaN()}), "func_ram");
  EXPECT_EQ(rejected_option({.func_ram = INFINITY}), "func_ram");
  EXPECT_EQ(rejected_option({.func_gpu = -1}), "func_gpu");
  EXPECT_EQ(rejected_option({.max_parallelism = 0}), "max_parallelism");
  EXPECT_EQ(rejected_option({.max_parallelism = -8}), "max_parallelism");
  EXPECT_EQ(rejected_option({.backend = static_cast<burla::backend>(42)}), "backend");
}

TEST(Options, DesignatedInitializersReadLikeKeywordArguments) {
  const burla::options o{.func_cpu = 2, .func_ram = 4, .max_parallelism = 8, .spinner = false};
  EXPECT_EQ(o.func_cpu, 2);
  EXPECT_EQ(*o.func_ram, 4.0);
  EXPECT_EQ(*o.max_parallelism, 8);
  EXPECT_FALSE(o.spinner);
  EXPECT_EQ(rejected_option(o), "");
}
