#include "checksum.hpp"

#include <array>
#include <cstring>

namespace burla::core {
namespace {

constexpr std::uint32_t polynomial = 0x82f63b78;  // CRC-32C, reflected

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? polynomial : 0);
    t[i] = c;
  }
  return t;
}
constexpr auto table = make_table();

std::uint32_t crc_table(const unsigned char* p, std::size_t n, std::uint32_t c) {
  while (n--) c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
  return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc_sse42_serial(const unsigned char* p, std::size_t n,
                                                                 std::uint32_t c) {
  std::uint64_t c64 = c;
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    c64 = __builtin_ia32_crc32di(c64, word);
  }
  c = static_cast<std::uint32_t>(c64);
  for (; n > 0; --n) c = __builtin_ia32_crc32qi(c, *p++);
  return c;
}

// The crc32 instruction takes 3 cycles and can start every cycle: three blocks at once, one
// dependency chain each, then joined. Appending L zero bytes to a CRC register is linear over
// GF(2): `shift` holds it, for L = block and 2 * block, as four tables of 256 (byte by byte).
constexpr std::size_t block = 8192;

struct zero_shift {
  std::array<std::array<std::uint32_t, 256>, 4> t{};
  explicit zero_shift(std::size_t zeros) {
    std::array<std::uint32_t, 32> column{};  // the register after `zeros` zero bytes, from bit i alone
    for (int i = 0; i < 32; ++i) {
      std::uint32_t c = std::uint32_t{1} << i;
      for (std::size_t k = 0; k < zeros; ++k) c = table[c & 0xff] ^ (c >> 8);
      column[i] = c;
    }
    for (int b = 0; b < 4; ++b)
      for (std::uint32_t v = 0; v < 256; ++v) {
        std::uint32_t out = 0;
        for (int i = 0; i < 8; ++i)
          if (v >> i & 1) out ^= column[b * 8 + i];
        t[b][v] = out;
      }
  }
  std::uint32_t operator()(std::uint32_t c) const {
    return t[0][c & 0xff] ^ t[1][c >> 8 & 0xff] ^ t[2][c >> 16 & 0xff] ^ t[3][c >> 24];
  }
};

__attribute__((target("sse4.2"))) std::uint32_t crc_sse42(const unsigned char* p, std::size_t n,
                                                          std::uint32_t c) {
  static const zero_shift by_one(block), by_two(2 * block);
  for (; n >= 3 * block; n -= 3 * block, p += 3 * block) {
    std::uint64_t a = c, b = 0, d = 0;
    for (std::size_t k = 0; k < block; k += 8) {
      std::uint64_t x, y, z;
      std::memcpy(&x, p + k, 8);
      std::memcpy(&y, p + block + k, 8);
      std::memcpy(&z, p + 2 * block + k, 8);
      a = __builtin_ia32_crc32di(a, x);
      b = __builtin_ia32_crc32di(b, y);
      d = __builtin_ia32_crc32di(d, z);
    }
    c = by_two(static_cast<std::uint32_t>(a)) ^ by_one(static_cast<std::uint32_t>(b)) ^
        static_cast<std::uint32_t>(d);
  }
  return crc_sse42_serial(p, n, c);
}
const bool has_sse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

std::uint32_t crc32c(std::string_view data, std::uint32_t crc) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::uint32_t c = ~crc;
#if defined(__x86_64__)
  c = has_sse42 ? crc_sse42(p, data.size(), c) : crc_table(p, data.size(), c);
#else
  c = crc_table(p, data.size(), c);
#endif
  return ~c;
}

}  // namespace burla::core
