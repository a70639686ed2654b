#include "libburla/core/module.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "libburla/core/job_spec.hpp"

namespace {
int probe(int x) {
  return x + 1;
}
}  // namespace

TEST(Module, LocatesAndResolvesCodeByBuildIdAndOffset) {
  const auto where = burla::detail::locate_code(reinterpret_cast<const void*>(&probe));
  EXPECT_EQ(where.build_id, burla::core::main_build_id());
  EXPECT_FALSE(where.module.empty());
  EXPECT_EQ(burla::core::resolve_code(where), reinterpret_cast<const void*>(&probe));
}

TEST(Module, AnotherBuildIsAMismatch) {
  auto where = burla::detail::locate_code(reinterpret_cast<const void*>(&probe));
  where.build_id = "00000000000000000000";
  EXPECT_THROW(burla::core::resolve_code(where), burla::build_mismatch);
}

TEST(Module, DemanglesTypeNames) {
  EXPECT_EQ(burla::detail::demangle(typeid(std::string).name()), "std::string");
  EXPECT_EQ(burla::detail::demangle(typeid(std::vector<std::string>).name()),
            "std::vector<std::string, std::allocator<std::string> >");
  EXPECT_EQ(burla::detail::demangle(typeid(int).name()), "int");
}
