// What travels to a worker: a batch function instantiated in the caller's executable for
// (F, input type, result type), found again in the job by its offset in the same build.
#pragma once

#include <burla/detail/codec.hpp>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace burla::detail {

/// One batch of calls, as a worker hands it to the batch function (implemented in mpi_runner).
class batch_context {
 public:
  virtual ~batch_context() = default;
  /// After each successful call: collects what the call printed.
  virtual void call_succeeded(std::uint32_t i) = 0;
  /// After each failed call, from inside the catch block.
  virtual void call_failed(std::uint32_t i, std::exception_ptr e) = 0;
  /// For each call the batch was told to skip.
  virtual void call_skipped(std::uint32_t i) = 0;

  std::string_view input;           ///< encoded inputs of the batch
  std::uint64_t first = 0;          ///< index of the batch's first input
  std::uint32_t count = 0;          ///< how many inputs
  std::uint64_t segment_items = 1;  ///< serialized inputs: a new archive starts every this many
  std::string_view skip;            ///< empty, or one byte per call: non-zero = do not call
  const void* callable = nullptr;   ///< bytes of F
  bool stop_at_failure = true;
  std::uint32_t done = 0;  ///< calls made (set by the batch function)
  std::string results;     ///< encoded results of the calls made
};

using batch_fn = void (*)(batch_context&);

/// Reads the inputs of a batch one by one. Serialized inputs come in segments of
/// ctx.segment_items values, each one archive; they are read in order, through the checked
/// archive, so a damaged inputs.bin fails its calls instead of hanging or exhausting the worker.
template <class In>
class input_cursor {
 public:
  explicit input_cursor(const batch_context& ctx)
      : raw_(ctx.input.data()), first_(ctx.first), buf_(ctx.input), segment_(ctx.segment_items) {
    if (kind_of<In>() == value_kind::fixed && ctx.input.size() != ctx.count * fixed_size<In>())
      throw error("burla: a batch message holds " + std::to_string(ctx.input.size()) +
                  " bytes of inputs, expected " + std::to_string(ctx.count * fixed_size<In>()));
  }

  In next(std::uint64_t index) {
    if constexpr (kind_of<In>() == value_kind::fixed) {  // checked once, in the constructor
      In value;
      std::memcpy(&value, raw_ + (index - first_) * sizeof(In), sizeof(In));
      return value;
    } else {
      auto fail = [&](const std::string& why) {
        return error("burla: cannot decode input " + std::to_string(index) + ": " + why);
      };
      try {
        try {
          if (!open_ || index % segment_ == 0) open_segment(index);
          return read();
        } catch (const boost::archive::archive_exception& e) {
          // Classes exported where codec.hpp was not included are known to Boost's own archive
          // only: read this segment again with it, unchecked.
          if (e.code != boost::archive::archive_exception::unregistered_class || unchecked_) throw;
          unchecked_ = true;
          const std::uint64_t skip = index - segment_first_;
          buf_.seek(segment_begin_);
          open_segment(segment_first_);
          for (std::uint64_t k = 0; k < skip; ++k) (void)read();
          return read();
        }
      } catch (const boost::archive::archive_exception& e) {
        throw fail(e.what());
      } catch (const checked_iarchive::damaged& e) {
        throw fail(std::string(e.what()) + "; the inputs file is damaged");
      } catch (const std::bad_alloc&) {
        throw fail("it asks for more memory than there is; the inputs file is damaged");
      } catch (const std::length_error&) {
        throw fail("a container count in it is larger than any container; the inputs file is damaged");
      }
    }
  }

 private:
  void open_segment(std::uint64_t index) {
    checked_.reset();
    plain_.reset();
    segment_first_ = index;
    segment_begin_ = buf_.consumed();
    if (unchecked_)
      plain_.emplace(buf_, archive_flags);
    else
      checked_.emplace(buf_, archive_flags);
    open_ = true;
  }
  In read() {
    In value{};
    if (checked_)
      *checked_ >> value;
    else
      *plain_ >> value;
    return value;
  }

  const char* raw_;
  std::uint64_t first_;
  view_buf buf_;
  std::uint64_t segment_;
  bool open_ = false, unchecked_ = false;
  std::uint64_t segment_first_ = 0;
  std::size_t segment_begin_ = 0;
  std::optional<checked_iarchive> checked_;
  std::optional<boost::archive::binary_iarchive> plain_;
};

/// Appends the results of a batch: fixed-size ones into space made once per batch.
template <class R>
class result_writer {
 public:
  explicit result_writer(batch_context& ctx) : out_(ctx.results), base_(ctx.results.size()) {
    if constexpr (kind_of<R>() == value_kind::fixed) out_.resize(base_ + ctx.count * sizeof(R));
  }
  template <class V>
  void put(std::uint32_t i, const V& value) {
    if constexpr (kind_of<R>() == value_kind::fixed) {
      const R r = value;
      std::memcpy(out_.data() + base_ + i * sizeof(R), &r, sizeof(R));
    } else {
      encode_value<R>(out_, value);
    }
  }
  void missing() {
    if constexpr (kind_of<R>() != value_kind::fixed) encode_missing<R>(out_);  // fixed: zeros already
  }
  void finish(std::uint32_t done) {
    if constexpr (kind_of<R>() == value_kind::fixed) out_.resize(base_ + done * sizeof(R));
  }

 private:
  std::string& out_;
  std::size_t base_;
};

/// Runs f on every input of a batch. Instantiated per (F, In, R) in the user's program, so the
/// compiler can inline f into the loop.
template <class F, class In, class R>
void run_batch(batch_context& ctx) {
  alignas(F) unsigned char storage[sizeof(F)];
  std::memcpy(storage, ctx.callable, sizeof(F));
  const F& f = *std::launder(reinterpret_cast<const F*>(storage));
  input_cursor<In> inputs(ctx);
  result_writer<R> results(ctx);
  for (std::uint32_t i = 0; i < ctx.count; ++i) {
    ctx.done = i + 1;
    if (!ctx.skip.empty() && ctx.skip[i]) {
      if constexpr (kind_of<In>() != value_kind::fixed) {
        try {
          (void)inputs.next(ctx.first + i);  // serialized inputs are read in order
        } catch (...) {
        }
      }
      results.missing();
      ctx.call_skipped(i);
      continue;
    }
    bool decoded = false;
    try {
      const In x = inputs.next(ctx.first + i);  // a failure to read the input is its failure
      decoded = true;
      if constexpr (std::is_void_v<R>)
        std::invoke(f, x);
      else
        results.put(i, std::invoke(f, x));
    } catch (...) {
      results.missing();
      ctx.call_failed(i, std::current_exception());
      if (ctx.stop_at_failure || !decoded) break;  // past an unreadable input, nothing is
      continue;
    }
    ctx.call_succeeded(i);
  }
  results.finish(ctx.done);
}

// ---- compile-time rules for what remote_parallel_map accepts --------------------------------

template <class F>
inline constexpr bool is_plain_function_v =
    std::is_pointer_v<F>&& std::is_function_v<std::remove_pointer_t<F>>;

template <class F, class In>
consteval bool check_map_arguments() {
  static_assert(is_plain_function_v<F> || (std::is_class_v<F> && std::is_trivially_copyable_v<F>),
                "burla::remote_parallel_map: f must be a plain function, a lambda without captures, "
                "or a lambda capturing only trivially copyable values by copy. std::function and "
                "captures of std::string, std::vector or other owning types are not allowed: pass "
                "such data inside the inputs instead.");
  static_assert(std::is_invocable_v<const F&, const In&>,
                "burla::remote_parallel_map: f cannot be called with one element of inputs: "
                "f(const Input&) must compile.");
  static_assert(is_serializable_v<In>,
                "burla::remote_parallel_map: the input type is not serializable. Allowed: arithmetic "
                "and enum types, std::string, standard containers of allowed types, and classes with "
                "a Boost.Serialization serialize(Archive&, unsigned) member or free function.");
  static_assert(std::is_default_constructible_v<In>,
                "burla::remote_parallel_map: the input type must be default-constructible (workers "
                "construct it, then read it with Boost.Serialization).");
  if constexpr (std::is_invocable_v<const F&, const In&>) {
    using R = std::invoke_result_t<const F&, const In&>;
    static_assert(std::is_void_v<R> || is_serializable_v<std::remove_cvref_t<R>>,
                  "burla::remote_parallel_map: the result type of f is not serializable. Allowed: "
                  "void, arithmetic and enum types, std::string, standard containers of allowed "
                  "types, and classes with a Boost.Serialization serialize(Archive&, unsigned) member "
                  "or free function.");
    static_assert(std::is_void_v<R> || std::is_default_constructible_v<std::remove_cvref_t<R>>,
                  "burla::remote_parallel_map: the result type of f must be default-constructible.");
  }
  return true;
}

template <class F, class In>
using result_of_t = std::remove_cvref_t<std::invoke_result_t<const F&, const In&>>;

}  // namespace burla::detail
