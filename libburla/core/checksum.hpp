// CRC-32C (Castagnoli): what the journal's records carry, so that a damaged byte is an error
// naming where it is, never a silently different result.
#pragma once

#include <cstdint>
#include <string_view>

namespace burla::core {

/// The CRC-32C of data, continued from `crc` (0 to start); SSE4.2's crc32 instruction where the
/// processor has it (several GB/s), a table elsewhere.
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0);

}  // namespace burla::core
