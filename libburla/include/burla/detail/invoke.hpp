// What travels to a worker: a batch function instantiated in the caller's executable for
// (F, input type, result type, shared type), found again in the job by its offset in the same
// build; the function's bytes, or its state as an archive (a function object with serialize,
// the shared argument), decoded once per call process.
#pragma once

#include <burla/detail/codec.hpp>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

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
  const void* callable = nullptr;   ///< bytes of F (a function pointer or a trivially copyable closure)
  std::string_view state;           ///< archive of the call state (state.bin), if the job has one
  std::shared_ptr<const void> decoded_state;  ///< that archive decoded: kept for later batches
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
      : raw_(ctx.input.data()),
        first_(ctx.first),
        buf_(ctx.input),
        sequence_(ctx.input, "the inputs of a batch"),
        segment_(ctx.segment_items) {
    if (fixed_ && ctx.input.size() != ctx.count * fixed_size<In>())
      throw error("burla: a batch message holds " + std::to_string(ctx.input.size()) +
                  " bytes of inputs, expected " + std::to_string(ctx.count * fixed_size<In>()));
  }

  In next(std::uint64_t index) {
    if constexpr (typed_kind<In>() == value_kind::fixed) {  // checked once, in the constructor
      if (fixed_) {
        In value;
        std::memcpy(&value, raw_ + (index - first_) * sizeof(In), sizeof(In));
        return value;
      }
    } else if constexpr (typed_kind<In>() == value_kind::sequence) {  // read in order, like archives
      if (encoding_of<In>() == value_kind::sequence) {
        try {
          return decode_value<In>(sequence_);
        } catch (const error& e) {
          throw error("burla: cannot decode input " + std::to_string(index) + ": " + e.what() +
                      "; the inputs file is damaged");
        }
      }
    }
    // Strings and serialized values (records without a schema too): archives.
    if constexpr (kind_of<In>() == value_kind::string || kind_of<In>() == value_kind::serialized) {
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
    } else {
      throw error("burla: unreachable: input encoding");  // fixed and sequence returned above
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

  const bool fixed_ = encoding_of<In>() == value_kind::fixed;
  const char* raw_;
  std::uint64_t first_;
  view_buf buf_;
  byte_reader sequence_;
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
    if (size_) out_.resize(base_ + ctx.count * size_);
  }
  template <class V>
  void put(std::uint32_t i, const V& value) {
    if constexpr (typed_kind<R>() == value_kind::fixed) {
      if (size_) {
        const R r = value;
        std::memcpy(out_.data() + base_ + i * sizeof(R), &r, sizeof(R));
        return;
      }
    }
    encode_value<R>(out_, value);
  }
  void missing() {
    if (!size_) encode_missing<R>(out_);  // fixed: zeros already
  }
  void finish(std::uint32_t done) {
    if (size_) out_.resize(base_ + done * size_);
  }

 private:
  const std::size_t size_ = fixed_size<R>();  ///< 0 unless fixed
  std::string& out_;
  std::size_t base_;
};

/// A function object that says how it travels: by its serialize member (or free function).
template <class F>
inline constexpr bool is_serialized_callable_v = std::is_class_v<F> &&
                                                 (has_member_serialize<F> || has_free_serialize<F>);

/// What travels as an archive, once per call process: f itself when it is a function object
/// with serialize, and the shared argument (S = void: none).
template <class F, class S>
struct call_state {
  [[no_unique_address]] std::conditional_t<is_serialized_callable_v<F>, F, std::monostate> f{};
  [[no_unique_address]] std::conditional_t<std::is_void_v<S>, std::monostate, S> shared{};
};
template <class F, class S>
inline constexpr bool has_call_state_v = is_serialized_callable_v<F> || !std::is_void_v<S>;

template <class F, class S>
void encode_call_state(std::string& out, const F& f, const S* shared) {
  append_buf buf(out);
  boost::archive::binary_oarchive ar(buf, archive_flags);
  if constexpr (is_serialized_callable_v<F>) ar << f;
  if constexpr (!std::is_void_v<S>) ar << *shared;
}

template <class F, class S>
std::shared_ptr<const call_state<F, S>> decode_call_state(std::string_view bytes) {
  auto state = std::make_shared<call_state<F, S>>();
  load_checked(bytes, "the function's state (state.bin)", [&](auto& ar) {
    *state = call_state<F, S>{};
    if constexpr (is_serialized_callable_v<F>) ar >> state->f;
    if constexpr (!std::is_void_v<S>) ar >> state->shared;
  });
  return state;
}

/// Runs f on every input of a batch (f(shared, input) with a shared argument). Instantiated per
/// (F, In, R, S) in the user's program, so the compiler can inline f into the loop.
template <class F, class In, class R, class S>
void run_batch(batch_context& ctx) {
  const call_state<F, S>* state = nullptr;
  if constexpr (has_call_state_v<F, S>) {
    if (!ctx.decoded_state) ctx.decoded_state = decode_call_state<F, S>(ctx.state);
    state = static_cast<const call_state<F, S>*>(ctx.decoded_state.get());
  }
  struct raw {
    alignas(F) unsigned char bytes[sizeof(F)];
  };
  [[maybe_unused]] std::conditional_t<is_serialized_callable_v<F>, std::monostate, raw> storage;
  const F* fp = nullptr;
  if constexpr (is_serialized_callable_v<F>) {
    fp = &state->f;
  } else {
    std::memcpy(storage.bytes, ctx.callable, sizeof(F));
    fp = std::launder(reinterpret_cast<const F*>(storage.bytes));
  }
  const F& f = *fp;
  auto call = [&](const In& x) -> decltype(auto) {
    if constexpr (std::is_void_v<S>)
      return std::invoke(f, x);
    else
      return std::invoke(f, state->shared, x);
  };
  input_cursor<In> inputs(ctx);
  result_writer<R> results(ctx);
  for (std::uint32_t i = 0; i < ctx.count; ++i) {
    ctx.done = i + 1;
    if (!ctx.skip.empty() && ctx.skip[i]) {
      if (fixed_size<In>() == 0) {
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
        call(x);
      else
        results.put(i, call(x));
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
// Each rule is a static_assert in the function the user called (BURLA_DETAIL_CHECK_MAP in
// burla.hpp), so that its explanation is the first thing the compiler says; the body is
// instantiated only when every rule holds (map_arguments_ok_v), so that nothing else follows.

template <class F>
inline constexpr bool is_plain_function_v =
    std::is_pointer_v<F>&& std::is_function_v<std::remove_pointer_t<F>>;

/// f reaches the workers as code (a function), as bytes, or through its serialize member.
template <class F>
inline constexpr bool callable_travels_v = is_plain_function_v<F> ||
                                           (std::is_class_v<F> &&
                                            (is_serialized_callable_v<F> ? std::is_default_constructible_v<F>
                                                                         : std::is_trivially_copyable_v<F>));

template <class F, class In, class S>
struct call_signature : std::is_invocable<const F&, const S&, const In&> {
  using result = std::invoke_result<const F&, const S&, const In&>;
};
template <class F, class In>
struct call_signature<F, In, void> : std::is_invocable<const F&, const In&> {
  using result = std::invoke_result<const F&, const In&>;
};

template <class F, class In, class S, bool = call_signature<F, In, S>::value>
struct call_result {
  using type = void;  // f cannot be called: reported by its own rule, not as a bad result
};
template <class F, class In, class S>
struct call_result<F, In, S, true> {
  using type = std::remove_cvref_t<typename call_signature<F, In, S>::result::type>;
};
template <class F, class In, class S = void>
using result_of_t = typename call_result<F, In, S>::type;

template <class T>
inline constexpr bool travels_v = is_serializable_v<T>&& std::is_default_constructible_v<T>;
template <class F, class In, class S>
inline constexpr bool map_arguments_ok_v =
    callable_travels_v<F>&& call_signature<F, In, S>::value&& travels_v<In> &&
    (std::is_void_v<S> || travels_v<S>)&&(std::is_void_v<result_of_t<F, In, S>> ||
                                          travels_v<result_of_t<F, In, S>>);

}  // namespace burla::detail
