#include "layers/pool_geometry.h"

#include <algorithm>

namespace gradlens {

namespace {
// ⌈a / b⌉ for a >= 0, b > 0.
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::array<int64_t, 2> read_pair(AttributeReader& reader, const Layer& layer, const char* name) {
  const std::vector<int64_t> v = reader.get_ints(name, {1, 1});
  if (v.size() != 2)
    layer.error(name, " must have 2 entries (only 2-D windows are supported), got ",
                format_ints(v));
  if (v[0] < 1 || v[1] < 1) layer.error(name, " must be positive, got ", format_ints(v));
  return {v[0], v[1]};
}

WindowAxis plan_axis(AutoPad auto_pad, int64_t input, int64_t kernel, int64_t stride,
                     int64_t dilation, int64_t pad_begin, int64_t pad_end, bool ceil_mode,
                     const char* axis_name, const Layer& layer) {
  WindowAxis a;
  a.input = input;
  a.kernel = kernel;
  a.stride = stride;
  a.dilation = dilation;
  const int64_t extent = a.extent();
  if (auto_pad == AutoPad::same_upper || auto_pad == AutoPad::same_lower) {
    a.output = ceil_div(input, stride);
    const int64_t total = std::max<int64_t>(0, (a.output - 1) * stride + extent - input);
    a.pad_begin = auto_pad == AutoPad::same_upper ? total / 2 : total - total / 2;
    a.pad_end = total - a.pad_begin;
    if (a.output < 1) layer.error("empty input along ", axis_name);
    return a;
  }
  if (auto_pad == AutoPad::valid) pad_begin = pad_end = 0;
  a.pad_begin = pad_begin;
  a.pad_end = pad_end;
  const int64_t padded = input + pad_begin + pad_end;
  if (padded < extent)
    layer.error("kernel extent ", extent, " (kernel ", kernel, ", dilation ", dilation,
                ") is larger than the padded input ", padded, " along ", axis_name, " (input ",
                input, ", pads ", pad_begin, "+", pad_end, ")");
  if (ceil_mode) {
    a.output = ceil_div(padded - extent, stride) + 1;
    if ((a.output - 1) * stride >= input + pad_begin) --a.output;
  } else {
    a.output = (padded - extent) / stride + 1;
  }
  return a;
}
WindowAxis plan_transposed_axis(AutoPad auto_pad, int64_t input, int64_t kernel, int64_t stride,
                                int64_t dilation, int64_t pad_begin, int64_t pad_end,
                                int64_t output_padding, int64_t output_shape,
                                const char* axis_name, const Layer& layer) {
  WindowAxis a;
  a.kernel = kernel;
  a.stride = stride;
  a.dilation = dilation;
  a.output = input;  // the Conv that this transposes reads the ConvTranspose output
  if (input < 1) layer.error("empty input along ", axis_name);
  if (output_padding < 0 || (output_padding >= stride && output_padding >= dilation))
    layer.error("output_padding ", output_padding, " along ", axis_name,
                " must be non-negative and less than the stride ", stride, " or the dilation ",
                dilation);
  const int64_t natural = stride * (input - 1) + output_padding + a.extent();
  if (output_shape > 0 || auto_pad == AutoPad::same_upper || auto_pad == AutoPad::same_lower) {
    a.input = output_shape > 0 ? output_shape : input * stride;
    const int64_t total = std::max<int64_t>(0, natural - a.input);
    a.pad_begin = auto_pad == AutoPad::same_upper ? total / 2 : total - total / 2;
    a.pad_end = total - a.pad_begin;
    return a;
  }
  if (auto_pad == AutoPad::valid) pad_begin = pad_end = 0;
  a.pad_begin = pad_begin;
  a.pad_end = pad_end;
  a.input = natural - pad_begin - pad_end;
  if (a.input < 1)
    layer.error("pads ", pad_begin, "+", pad_end, " along ", axis_name,
                " leave no output (unpadded output size ", natural, ")");
  return a;
}
}  // namespace

std::string format_ints(const std::vector<int64_t>& values) {
  std::string s = "[";
  for (size_t i = 0; i < values.size(); ++i) s += (i ? "," : "") + std::to_string(values[i]);
  return s + "]";
}

void require_nchw(const Shape& x, const Layer& layer, const char* what) {
  if (x.rank() != 4)
    layer.error(what, " must be 4-D [N, C, H, W] (only 2-D is supported), got shape ", x.str());
}

WindowAttributes read_window_attributes(AttributeReader& reader, const Layer& layer,
                                        const WindowAttributeSet& set) {
  WindowAttributes a;
  const std::string auto_pad = reader.get_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET")
    a.auto_pad = AutoPad::notset;
  else if (auto_pad == "SAME_UPPER")
    a.auto_pad = AutoPad::same_upper;
  else if (auto_pad == "SAME_LOWER")
    a.auto_pad = AutoPad::same_lower;
  else if (auto_pad == "VALID")
    a.auto_pad = AutoPad::valid;
  else
    layer.error("auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '", auto_pad, "'");

  const bool has_kernel = reader.has("kernel_shape");
  a.kernel = reader.get_ints("kernel_shape", {});
  if (set.kernel_required && !has_kernel) layer.error("attribute kernel_shape is required");
  if (has_kernel) {
    if (a.kernel.size() != 2)
      layer.error("kernel_shape must have 2 entries (only 2-D windows are supported), got ",
                  format_ints(a.kernel));
    if (a.kernel[0] < 1 || a.kernel[1] < 1)
      layer.error("kernel_shape must be positive, got ", format_ints(a.kernel));
  }
  a.strides = read_pair(reader, layer, "strides");
  if (set.dilations) a.dilations = read_pair(reader, layer, "dilations");

  const std::vector<int64_t> pads = reader.get_ints("pads", {0, 0, 0, 0});
  if (pads.size() != 4)
    layer.error("pads must have 4 entries [top, left, bottom, right], got ", format_ints(pads));
  for (size_t i = 0; i < 4; ++i) {
    if (pads[i] < 0) layer.error("pads must be non-negative, got ", format_ints(pads));
    a.pads[i] = pads[i];
  }
  if (a.auto_pad != AutoPad::notset &&
      std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p != 0; }))
    layer.error("pads ", format_ints(pads), " cannot be combined with auto_pad '", auto_pad, "'");

  // Window sizes come from files: bounded so that every window sum and product below stays far
  // inside int64 (extents are at most 2^32, so stride·input and kernel·dilation < 2^57).
  auto bounded = [&](const char* name, const int64_t* v, size_t n) {
    for (size_t i = 0; i < n; ++i)
      if (v[i] > kMaxWindowAttribute)
        layer.error(name, " entry ", v[i], " exceeds the limit of ", kMaxWindowAttribute);
  };
  bounded("kernel_shape", a.kernel.data(), a.kernel.size());
  bounded("strides", a.strides.data(), 2);
  bounded("dilations", a.dilations.data(), 2);
  bounded("pads", a.pads.data(), 4);

  if (set.ceil_mode) {
    const int64_t ceil_mode = reader.get_int("ceil_mode", 0);
    if (ceil_mode != 0 && ceil_mode != 1) layer.error("ceil_mode must be 0 or 1, got ", ceil_mode);
    a.ceil_mode = ceil_mode == 1;
  }
  return a;
}

void WindowAxis::taps_within(int64_t o, int64_t low, int64_t high, int64_t& lo,
                             int64_t& hi) const {
  const int64_t s = start(o);
  lo = s >= low ? 0 : std::min(kernel, ceil_div(low - s, dilation));
  hi = s >= high ? 0 : std::min(kernel, ceil_div(high - s, dilation));
  if (hi < lo) hi = lo;
}

bool WindowAxis::every_window_reads_input() const {
  for (int64_t o = 0; o < output; ++o) {
    int64_t lo, hi;
    input_taps(o, lo, hi);
    if (lo == hi) return false;
  }
  return true;
}

Window2d plan_window_2d(const WindowAttributes& attributes, int64_t height, int64_t width,
                        int64_t kernel_h, int64_t kernel_w, const Layer& layer) {
  const auto& p = attributes.pads;
  Window2d w;
  w.h = plan_axis(attributes.auto_pad, height, kernel_h, attributes.strides[0],
                  attributes.dilations[0], p[0], p[2], attributes.ceil_mode, "H", layer);
  w.w = plan_axis(attributes.auto_pad, width, kernel_w, attributes.strides[1],
                  attributes.dilations[1], p[1], p[3], attributes.ceil_mode, "W", layer);
  return w;
}

Window2d plan_transposed_window_2d(const WindowAttributes& attributes, int64_t height,
                                   int64_t width, int64_t kernel_h, int64_t kernel_w,
                                   const std::array<int64_t, 2>& output_padding,
                                   const std::vector<int64_t>& output_shape, const Layer& layer) {
  const auto& p = attributes.pads;
  const int64_t oh = output_shape.empty() ? 0 : output_shape[0];
  const int64_t ow = output_shape.empty() ? 0 : output_shape[1];
  Window2d w;
  w.h = plan_transposed_axis(attributes.auto_pad, height, kernel_h, attributes.strides[0],
                             attributes.dilations[0], p[0], p[2], output_padding[0], oh, "H",
                             layer);
  w.w = plan_transposed_axis(attributes.auto_pad, width, kernel_w, attributes.strides[1],
                             attributes.dilations[1], p[1], p[3], output_padding[1], ow, "W",
                             layer);
  return w;
}

}  // namespace gradlens
