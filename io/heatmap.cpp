#include "io/heatmap.h"

#include <iterator>
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/error.h"
#include "engine/enum_table.h"
#include "engine/rules.h"

namespace gradlens {

namespace {
struct Anchor {
  float t, r, g, b;
};

// Piecewise-linear interpolation through anchors sorted by t.
std::array<float, 3> interpolate(const Anchor* a, size_t n, float t) {
  if (t <= a[0].t) return {a[0].r, a[0].g, a[0].b};
  for (size_t i = 1; i < n; ++i) {
    if (t > a[i].t) continue;
    const float w = (t - a[i - 1].t) / (a[i].t - a[i - 1].t);
    return {a[i - 1].r + w * (a[i].r - a[i - 1].r), a[i - 1].g + w * (a[i].g - a[i - 1].g),
            a[i - 1].b + w * (a[i].b - a[i - 1].b)};
  }
  return {a[n - 1].r, a[n - 1].g, a[n - 1].b};
}

// One channel of a segment-data colormap: (x, y) breakpoints.
float segment(const std::vector<std::pair<float, float>>& points, float t) {
  for (size_t i = 1; i < points.size(); ++i)
    if (t <= points[i].first) {
      const auto& [x0, y0] = points[i - 1];
      const auto& [x1, y1] = points[i];
      return y0 + (t - x0) / (x1 - x0) * (y1 - y0);
    }
  return points.back().second;
}

constexpr float k = 1.f / 255.f;
// matplotlib's viridis and inferno at table entries 0, 16, ..., 240, 255.
const Anchor kViridis[] = {
    {0 * k, 0.267004f, 0.004874f, 0.329415f},   {16 * k, 0.282327f, 0.094955f, 0.417331f},
    {32 * k, 0.278826f, 0.175490f, 0.483397f},  {48 * k, 0.258965f, 0.251537f, 0.524736f},
    {64 * k, 0.229739f, 0.322361f, 0.545706f},  {80 * k, 0.199430f, 0.387607f, 0.554642f},
    {96 * k, 0.172719f, 0.448791f, 0.557885f},  {112 * k, 0.149039f, 0.508051f, 0.557250f},
    {128 * k, 0.127568f, 0.566949f, 0.550556f}, {144 * k, 0.120638f, 0.625828f, 0.533488f},
    {160 * k, 0.157851f, 0.683765f, 0.501686f}, {176 * k, 0.246070f, 0.738910f, 0.452024f},
    {192 * k, 0.369214f, 0.788888f, 0.382914f}, {208 * k, 0.515992f, 0.831158f, 0.294279f},
    {224 * k, 0.678489f, 0.863742f, 0.189503f}, {240 * k, 0.845561f, 0.887322f, 0.099702f},
    {255 * k, 0.993248f, 0.906157f, 0.143936f}};
const Anchor kInferno[] = {
    {0 * k, 0.001462f, 0.000466f, 0.013866f},   {16 * k, 0.042253f, 0.028139f, 0.141141f},
    {32 * k, 0.129285f, 0.047293f, 0.290788f},  {48 * k, 0.238273f, 0.036621f, 0.396353f},
    {64 * k, 0.341500f, 0.062325f, 0.429425f},  {80 * k, 0.441207f, 0.099338f, 0.431594f},
    {96 * k, 0.540920f, 0.134729f, 0.415123f},  {112 * k, 0.640135f, 0.171438f, 0.381065f},
    {128 * k, 0.735683f, 0.215906f, 0.330245f}, {144 * k, 0.822386f, 0.275197f, 0.266085f},
    {160 * k, 0.894305f, 0.353399f, 0.193584f}, {176 * k, 0.946965f, 0.449191f, 0.115272f},
    {192 * k, 0.978422f, 0.557937f, 0.034931f}, {208 * k, 0.987874f, 0.675267f, 0.065257f},
    {224 * k, 0.974638f, 0.797692f, 0.206332f}, {240 * k, 0.947594f, 0.917399f, 0.410665f},
    {255 * k, 0.988362f, 0.998364f, 0.644924f}};
const Anchor kBwr[] = {{0.f, 0.f, 0.f, 1.f}, {0.5f, 1.f, 1.f, 1.f}, {1.f, 1.f, 0.f, 0.f}};
}  // namespace

const EnumName<Colormap> kColormaps[] = {{"jet", Colormap::jet},   {"viridis", Colormap::viridis},
                                         {"inferno", Colormap::inferno}, {"gray", Colormap::gray},
                                         {"bwr", Colormap::bwr},   {"grey", Colormap::gray}};
const EnumName<ChannelReduction> kChannelReductions[] = {
    {"max-abs", ChannelReduction::max_abs}, {"sum-abs", ChannelReduction::sum_abs}, {"sum", ChannelReduction::sum}};
const EnumName<Sign> kSigns[] = {{"absolute", Sign::absolute}, {"positive", Sign::positive},
                                 {"negative", Sign::negative}, {"all", Sign::all},
                                 {"absolute_value", Sign::absolute}};

Colormap parse_colormap(const std::string& name) { return enum_value(kColormaps, name, "colormap"); }
const char* colormap_name(Colormap c) { return enum_name(kColormaps, c); }
std::string colormap_names() { return enum_choices(kColormaps, "|", "|"); }

std::array<float, 3> colormap_rgb(Colormap c, float t) {
  t = std::isnan(t) ? 0.f : std::clamp(t, 0.f, 1.f);
  switch (c) {
    case Colormap::jet: {
      // matplotlib's _jet_data segment breakpoints.
      static const std::vector<std::pair<float, float>> red = {{0.f, 0.f}, {0.35f, 0.f}, {0.66f, 1.f}, {0.89f, 1.f}, {1.f, 0.5f}};
      static const std::vector<std::pair<float, float>> green = {{0.f, 0.f}, {0.125f, 0.f}, {0.375f, 1.f}, {0.64f, 1.f}, {0.91f, 0.f}, {1.f, 0.f}};
      static const std::vector<std::pair<float, float>> blue = {{0.f, 0.5f}, {0.11f, 1.f}, {0.34f, 1.f}, {0.65f, 0.f}, {1.f, 0.f}};
      return {segment(red, t), segment(green, t), segment(blue, t)};
    }
    case Colormap::viridis: return interpolate(kViridis, std::size(kViridis), t);
    case Colormap::inferno: return interpolate(kInferno, std::size(kInferno), t);
    case Colormap::gray: return {t, t, t};
    case Colormap::bwr: return interpolate(kBwr, std::size(kBwr), t);
  }
  return {0.f, 0.f, 0.f};
}

ChannelReduction parse_channel_reduction(const std::string& name) {
  return enum_value(kChannelReductions, name, "channel reduction");
}
const char* channel_reduction_name(ChannelReduction r) { return enum_name(kChannelReductions, r); }
std::string channel_reduction_names() { return enum_choices(kChannelReductions, "|", "|"); }

Tensor reduce_channels(const Tensor& chw, ChannelReduction r) {
  GL_CHECK(chw.rank() == 3, "channel reduction expects [C, H, W], got ", chw.shape().str());
  const int64_t C = chw.dim(0), H = chw.dim(1), W = chw.dim(2), plane = H * W;
  Tensor out(Shape{H, W});
  for (int64_t i = 0; i < plane; ++i) {
    float acc = 0.f;
    for (int64_t c = 0; c < C; ++c) {
      const float v = chw[c * plane + i];
      if (r == ChannelReduction::max_abs) acc = std::max(acc, std::fabs(v));
      else if (r == ChannelReduction::sum_abs) acc += std::fabs(v);
      else acc += v;
    }
    out[i] = acc;
  }
  return out;
}

Sign parse_sign(const std::string& name) { return enum_value(kSigns, name, "sign"); }
const char* sign_name(Sign s) { return enum_name(kSigns, s); }
std::string sign_names() { return enum_choices(kSigns, "|", "|"); }

float percentile(const Tensor& values, double q) {
  GL_CHECK(values.numel() > 0, "percentile of an empty map");
  GL_CHECK(q >= 0 && q <= 100, "percentile ", q, " is outside [0, 100]");
  std::vector<float> copy(values.data(), values.data() + values.numel());
  return percentile_inplace(copy.data(), int64_t(copy.size()), float(q));
}

namespace {
// The values the sign selects: |m|, max(m, 0) or max(−m, 0).
Tensor signed_selection(const Tensor& map, Sign sign) {
  Tensor v(map.shape());
  for (int64_t i = 0; i < map.numel(); ++i) {
    const float m = map[i];
    v[i] = sign == Sign::positive ? std::max(m, 0.f) : sign == Sign::negative ? std::max(-m, 0.f) : std::fabs(m);
  }
  return v;
}
}  // namespace

float display_scale(const Tensor& map, Sign sign, double clip_percentile) {
  return percentile(signed_selection(map, sign), clip_percentile);
}

Tensor display_values(const Tensor& map, Sign sign, double clip_percentile) {
  const Tensor v = signed_selection(map, sign);
  const int64_t n = map.numel();
  const float scale = percentile(v, clip_percentile);
  Tensor out(map.shape());
  for (int64_t i = 0; i < n; ++i) {
    if (sign == Sign::all) {
      out[i] = scale > 0.f ? 0.5f + 0.5f * std::clamp(map[i] / scale, -1.f, 1.f) : 0.5f;
    } else {
      out[i] = scale > 0.f ? std::min(v[i] / scale, 1.f) : 0.f;
    }
  }
  return out;
}

Tensor colorize(const Tensor& values, Colormap c) {
  GL_CHECK(values.rank() == 2, "colorize expects [H, W], got ", values.shape().str());
  const int64_t plane = values.numel();
  Tensor out(Shape{3, values.dim(0), values.dim(1)});
  for (int64_t i = 0; i < plane; ++i) {
    const auto rgb = colormap_rgb(c, values[i]);
    for (int ch = 0; ch < 3; ++ch) out[ch * plane + i] = rgb[size_t(ch)];
  }
  return out;
}

Tensor overlay(const Tensor& image, const Tensor& heat, float alpha) {
  GL_CHECK(image.rank() == 3 && heat.rank() == 3 && heat.dim(0) == 3 && image.dim(1) == heat.dim(1) &&
               image.dim(2) == heat.dim(2) && (image.dim(0) == 1 || image.dim(0) == 3),
           "overlay of ", heat.shape().str(), " on an image of ", image.shape().str());
  GL_CHECK(alpha >= 0.f && alpha <= 1.f, "--alpha must be in [0, 1], got ", alpha);
  const int64_t plane = heat.dim(1) * heat.dim(2);
  Tensor out(heat.shape());
  for (int64_t c = 0; c < 3; ++c) {
    const float* img = image.data() + (image.dim(0) == 1 ? 0 : c * plane);
    for (int64_t i = 0; i < plane; ++i)
      out[c * plane + i] = (1.f - alpha) * img[i] + alpha * heat[c * plane + i];
  }
  return out;
}

Image8 enlarge(const Image8& image, int64_t factor) {
  GL_CHECK(factor >= 1, "enlargement factor must be at least 1, got ", factor);
  if (factor == 1) return image;
  Image8 out(image.height * factor, image.width * factor, image.channels);
  for (int64_t y = 0; y < out.height; ++y)
    for (int64_t x = 0; x < out.width; ++x)
      std::copy_n(image.at(y / factor, x / factor), image.channels, out.at(y, x));
  return out;
}

}  // namespace gradlens
