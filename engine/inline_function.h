// A move-only callable with inline storage: the tape keeps one per node, and std::function would
// allocate on the heap for captures past its small buffer. A capture that does not fit is a
// compile error, so steady-state recording never touches the heap.
#pragma once
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace gradlens {

template <class Signature, size_t Capacity = 128>
class InlineFunction;

template <class R, class... Args, size_t Capacity>
class InlineFunction<R(Args...), Capacity> {
 public:
  InlineFunction() = default;
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, InlineFunction>>>
  InlineFunction(F&& f) {  // NOLINT: implicit from lambdas by design
    using Fn = std::decay_t<F>;
    static_assert(sizeof(Fn) <= Capacity, "capture too large for the tape's inline storage");
    static_assert(alignof(Fn) <= alignof(std::max_align_t), "over-aligned capture");
    new (storage_) Fn(std::forward<F>(f));
    call_ = [](void* s, Args... args) -> R { return (*static_cast<Fn*>(s))(std::forward<Args>(args)...); };
    manage_ = [](void* dst, void* src) {
      if (dst) new (dst) Fn(std::move(*static_cast<Fn*>(src)));
      static_cast<Fn*>(src)->~Fn();
    };
  }
  InlineFunction(InlineFunction&& o) noexcept { take(o); }
  InlineFunction& operator=(InlineFunction&& o) noexcept {
    if (this != &o) {
      clear();
      take(o);
    }
    return *this;
  }
  InlineFunction(const InlineFunction&) = delete;
  InlineFunction& operator=(const InlineFunction&) = delete;
  ~InlineFunction() { clear(); }

  explicit operator bool() const { return call_ != nullptr; }
  R operator()(Args... args) { return call_(storage_, std::forward<Args>(args)...); }

 private:
  void clear() {
    if (manage_) manage_(nullptr, storage_);
    call_ = nullptr;
    manage_ = nullptr;
  }
  void take(InlineFunction& o) {
    if (o.manage_) o.manage_(storage_, o.storage_);
    call_ = o.call_;
    manage_ = o.manage_;
    o.call_ = nullptr;
    o.manage_ = nullptr;
  }
  alignas(std::max_align_t) unsigned char storage_[Capacity];
  R (*call_)(void*, Args...) = nullptr;
  void (*manage_)(void*, void*) = nullptr;
};

}  // namespace gradlens
