// Sliding-window geometry shared by Conv, MaxPool and AveragePool (2-D, NCHW).
//
// Along one spatial axis with input size n, kernel k, stride s, dilation d, pads (b, e):
//   extent   ê = (k − 1)·d + 1
//   tap j of output o reads input position o·s − b + j·d        (j = 0 .. k−1)
//   NOTSET / VALID (b = e = 0):   out = ⌊(n + b + e − ê) / s⌋ + 1
//   with ceil_mode:               out = ⌈(n + b + e − ê) / s⌉ + 1, minus one when the last window
//                                 would start in the end padding ((out − 1)·s ≥ n + b): ONNX
//                                 MaxPool/AveragePool "sliding windows that would start in the
//                                 right padded region are ignored", as PyTorch.
//   SAME_UPPER / SAME_LOWER:      out = ⌈n / s⌉, total pad p = max(0, (out − 1)·s + ê − n),
//                                 split b = ⌊p/2⌋ (UPPER: the extra pad goes at the end) or
//                                 b = ⌈p/2⌉ (LOWER: at the beginning).
// ONNX pads are [x1_begin, x2_begin, x1_end, x2_end] = [top, left, bottom, right].
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "layers/layer.h"

namespace gradlens {

enum class AutoPad { notset, same_upper, same_lower, valid };

// Window attributes as read from a node (lengths and signs already validated).
struct WindowAttributes {
  AutoPad auto_pad = AutoPad::notset;
  std::vector<int64_t> kernel;  // [kH, kW]; empty when absent (Conv then takes it from W)
  std::array<int64_t, 2> strides{1, 1};
  std::array<int64_t, 2> dilations{1, 1};
  std::array<int64_t, 4> pads{0, 0, 0, 0};  // [top, left, bottom, right]
  bool ceil_mode = false;
};

// Largest kernel, stride, dilation, pad or ConvTranspose output_shape entry accepted (2^24).
constexpr int64_t kMaxWindowAttribute = int64_t(1) << 24;

struct WindowAttributeSet {
  bool kernel_required = false;  // pools: yes; Conv: optional (must match W)
  bool ceil_mode = false;        // the op has a ceil_mode attribute
  bool dilations = true;         // the op has a dilations attribute
};

// Reads auto_pad, kernel_shape, strides, dilations, pads (and ceil_mode) and rejects wrong
// lengths, non-positive kernels/strides/dilations, negative pads and pads given with auto_pad.
WindowAttributes read_window_attributes(AttributeReader& reader, const Layer& layer,
                                        const WindowAttributeSet& set);

// One spatial axis of a planned window.
struct WindowAxis {
  int64_t input = 0, kernel = 1, stride = 1, dilation = 1;
  int64_t pad_begin = 0, pad_end = 0, output = 0;

  int64_t extent() const { return (kernel - 1) * dilation + 1; }
  // Input position of tap 0 of output o (may be negative: in the begin padding).
  int64_t start(int64_t o) const { return o * stride - pad_begin; }
  // Input position of tap j of output o.
  int64_t tap(int64_t o, int64_t j) const { return start(o) + j * dilation; }
  // Taps [lo, hi) of output o whose position lies in [low, high).
  void taps_within(int64_t o, int64_t low, int64_t high, int64_t& lo, int64_t& hi) const;
  // Taps of output o that read the input proper.
  void input_taps(int64_t o, int64_t& lo, int64_t& hi) const { taps_within(o, 0, input, lo, hi); }
  // Outputs [lo, hi) whose tap j reads the input proper (inline: kernels call it per tap).
  void outputs_reading(int64_t j, int64_t& lo, int64_t& hi) const {
    const int64_t offset = j * dilation - pad_begin;  // position of tap j of output 0
    auto up = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
    lo = offset >= 0 ? 0 : std::min(output, up(-offset, stride));
    hi = offset >= input ? 0 : std::min(output, up(input - offset, stride));
    if (hi < lo) hi = lo;
  }
  // True when every output's window holds at least one input element.
  bool every_window_reads_input() const;
};

struct Window2d {
  WindowAxis h, w;
  bool unpadded() const {
    return h.pad_begin == 0 && h.pad_end == 0 && w.pad_begin == 0 && w.pad_end == 0;
  }
};

// Output size and effective pads for an H×W input and a kH×kW kernel. Throws an Error naming the
// layer's node when the kernel extent exceeds the padded input.
Window2d plan_window_2d(const WindowAttributes& attributes, int64_t height, int64_t width,
                        int64_t kernel_h, int64_t kernel_w, const Layer& layer);

// Transposed convolution (ConvTranspose) along one axis, input size n, output size N: input
// element h contributes to output positions h·s − b + j·d (j = 0 .. k−1) that lie in [0, N).
// That is the Conv geometry run backwards, so the plan is a Window2d whose `input` is the
// ConvTranspose output (N) and whose `output` is the ConvTranspose input (n):
//   explicit pads:     N = s·(n − 1) + output_padding + ê − b − e
//   output_shape:      N given; total pad t = max(0, s·(n − 1) + output_padding + ê − N)
//   SAME_UPPER/LOWER:  N = n·s, t as above
//   with t split b = ⌊t/2⌋ for SAME_UPPER, b = t − ⌊t/2⌋ otherwise (ONNX ConvTranspose; the
//   clamp at 0, which only matters when N exceeds the natural size, is onnxruntime's).
// `output_shape` is empty or [N_h, N_w]. output_padding must be below the stride or the dilation.
Window2d plan_transposed_window_2d(const WindowAttributes& attributes, int64_t height,
                                   int64_t width, int64_t kernel_h, int64_t kernel_w,
                                   const std::array<int64_t, 2>& output_padding,
                                   const std::vector<int64_t>& output_shape, const Layer& layer);

// "[1,2,3]" for error messages.
std::string format_ints(const std::vector<int64_t>& values);

// parallel_for's min_parallel for tasks of about `work_per_task` element operations each: layers
// too small to repay a parallel region run serially. Tasks write disjoint outputs, so this
// changes timing only, never a result.
inline int64_t min_parallel_tasks(int64_t work_per_task) {
  constexpr int64_t kMinParallelWork = int64_t(1) << 15;
  const int64_t tasks = kMinParallelWork / (work_per_task > 0 ? work_per_task : 1);
  return tasks > 2 ? tasks : 2;
}

// Checks that x is rank 4 (NCHW); otherwise an Error naming the node.
void require_nchw(const Shape& x, const Layer& layer, const char* what);

}  // namespace gradlens
