// Byte buffers shared by the caller, the master and the workers: plain little-endian-as-native
// values and length-prefixed byte strings. Readers check every length against what is left.
#pragma once

#include <burla/error.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace burla::detail {

class byte_writer {
 public:
  explicit byte_writer(std::string& out) : out_(out) {}

  template <class T>
  requires std::is_trivially_copyable_v<T>
  void put(const T& value) { out_.append(reinterpret_cast<const char*>(&value), sizeof(T)); }
  void put_bytes(std::string_view bytes) {
    put<std::uint64_t>(bytes.size());
    out_.append(bytes);
  }
  void put_raw(std::string_view bytes) { out_.append(bytes); }

 private:
  std::string& out_;
};

class byte_reader {
 public:
  byte_reader(std::string_view in, const char* what) : in_(in), what_(what) {}

  template <class T>
  requires std::is_trivially_copyable_v<T> T get() {
    T value;
    std::memcpy(&value, take(sizeof(T)).data(), sizeof(T));
    return value;
  }
  std::string_view get_bytes() { return take(get<std::uint64_t>()); }
  std::string_view take(std::size_t n) {
    if (n > in_.size())
      throw error(std::string("burla: truncated or corrupted data in ") + what_ + ": wanted " +
                  std::to_string(n) + " more bytes, " + std::to_string(in_.size()) + " left");
    std::string_view head = in_.substr(0, n);
    in_.remove_prefix(n);
    return head;
  }
  std::size_t left() const { return in_.size(); }
  bool empty() const { return in_.empty(); }

 private:
  std::string_view in_;
  const char* what_;
};

}  // namespace burla::detail
