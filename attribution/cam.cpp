#include "attribution/cam.h"

#include "attribution/gradients.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/suggest.h"

namespace gradlens {

namespace {
bool spatial(const Shape& s) { return s.rank() == 4 && s[2] * s[3] > 1; }

// An output with no spatial extent left: [N, K], or [N, K, 1, 1]-like.
bool pooled(const Shape& s) {
  int64_t rest = 1;
  for (int i = 2; i < s.rank(); ++i) rest *= s[i];
  return s.rank() <= 2 || rest == 1;
}

// The shapes of every tensor for this input, inferred at the model's fixed batch when it has one
// (those graphs take no other; a CAM layer's batch axis does not matter for choosing it).
std::vector<std::pair<std::string, Shape>> layer_shapes(const Model& model, Shape input) {
  if (model.fixed_batch() > 0 && input.rank() >= 1) input[0] = model.fixed_batch();
  return model.infer_shapes({input});
}

const NodeDef* sole_consumer(const Model& model, const std::string& tensor) {
  const NodeDef* found = nullptr;
  for (const auto& layer : model.layers()) {
    const NodeDef& n = layer->node();
    if (std::find(n.inputs.begin(), n.inputs.end(), tensor) == n.inputs.end()) continue;
    if (found) return nullptr;
    found = &n;
  }
  return found;
}
}  // namespace

std::vector<std::pair<std::string, Shape>> cam_candidates(const Model& model, const Shape& input) {
  std::vector<std::pair<std::string, Shape>> out;
  for (const auto& [name, shape] : layer_shapes(model, input))
    if (spatial(shape) && name != model.graph().inputs[0].name) out.emplace_back(name, shape);
  return out;
}

std::string default_cam_layer(const Model& model, const Shape& input) {
  const auto shapes = layer_shapes(model, input);
  auto shape_of = [&](const std::string& name) -> const Shape* {
    for (const auto& [n, s] : shapes)
      if (n == name) return &s;
    return nullptr;
  };
  // The last such node: a squeeze-excitation block pools too, but earlier, and its result is
  // multiplied back into a spatial map.
  const std::string& input_name = model.graph().inputs[0].name;
  std::string found;
  for (const auto& layer : model.layers()) {
    const NodeDef& n = layer->node();
    if (n.inputs.empty() || n.inputs[0] == input_name || n.op_type == "Shape" || n.op_type == "Size")
      continue;
    const Shape* in = shape_of(n.inputs[0]);
    const Shape* out = n.outputs.empty() ? nullptr : shape_of(n.outputs[0]);
    if (in && spatial(*in) && out && pooled(*out)) found = n.inputs[0];
  }
  if (!found.empty()) return found;
  auto candidates = cam_candidates(model, input);
  GL_CHECK(!candidates.empty(), model.graph().source,
           ": the model has no 4-D activation with spatial extent to use as a CAM layer");
  return candidates.back().first;
}

std::string cam_layer(const MethodInfo& info, const Request& r) {
  const Model* model = r.function->model();
  GL_CHECK(model, info.name, " needs an ONNX model (it reads a named layer)");
  std::string layer = r.options.text(info, "layer");
  if (layer.empty() || layer == "auto") return default_cam_layer(*model, r.input.shape());
  if (!model->has_tensor(layer)) {
    // A PyTorch module path ("features.2", "layer4.1") is the ONNX name scope "/…/features.2/" of
    // torch.onnx.export: accepted when exactly one candidate activation lies in that scope.
    std::vector<std::string> names, in_scope;
    for (const auto& [name, shape] : cam_candidates(*model, r.input.shape())) {
      names.push_back(name);
      if (name.find("/" + layer + "/") != std::string::npos) in_scope.push_back(name);
    }
    if (in_scope.size() == 1) return in_scope[0];
    GL_CHECK(in_scope.empty(), info.name, ": --layer '", layer, "' names a module with ", in_scope.size(),
             " 4-D activations ('", in_scope.front(), "' … '", in_scope.back(),
             "', the last being its output): give one tensor name (gradlens info lists them)");
    const std::string close = did_you_mean(layer, names);
    fail(info.name, ": --layer '", layer, "' is not a tensor of the model",
         close.empty() ? " (see gradlens info)" : close);
  }
  for (const auto& [name, shape] : layer_shapes(*model, r.input.shape()))
    if (name == layer)
      GL_CHECK(shape.rank() == 4, info.name, ": --layer '", layer, "' has shape ", shape.str(),
               "; CAM methods need a 4-D activation [N,K,h,w]");
  return layer;
}

Tensor cam_head_weights(const Model& model, const std::string& layer) {
  const std::string why = "cam: layer '" + layer +
                          "' is not followed by global average pooling and a linear layer (use grad-cam, "
                          "which equals CAM up to scale on such networks)";
  const NodeDef* n = sole_consumer(model, layer);
  bool pooled = n && (n->op_type == "GlobalAveragePool" ||
                      (n->op_type == "ReduceMean" && n->attributes.count("axes") &&
                       n->attributes.at("axes").ints == std::vector<int64_t>{2, 3}));
  GL_CHECK(pooled, why);
  std::string t = n->outputs[0];
  for (n = sole_consumer(model, t); n && (n->op_type == "Flatten" || n->op_type == "Reshape" ||
                                          n->op_type == "Squeeze" || n->op_type == "Identity");
       n = sole_consumer(model, t))
    t = n->outputs[0];
  GL_CHECK(n && (n->op_type == "Gemm" || n->op_type == "MatMul") && n->inputs[0] == t, why);
  const auto& constants = model.constants();
  auto w = n->inputs.size() > 1 ? constants.find(n->inputs[1]) : constants.end();
  GL_CHECK(w != constants.end() && w->second.value.rank() == 2, why);
  const Tensor& W = w->second.value;
  bool class_major = false;  // W stored [C, K]
  if (n->op_type == "Gemm") {
    auto tb = n->attributes.find("transB");
    class_major = tb != n->attributes.end() && tb->second.i == 1;
    auto ta = n->attributes.find("transA");
    GL_CHECK(ta == n->attributes.end() || ta->second.i == 0, why);
  }
  if (class_major) return W.clone();
  Tensor out(Shape{W.dim(1), W.dim(0)});  // [K, C] → [C, K]
  for (int64_t k = 0; k < W.dim(0); ++k)
    for (int64_t c = 0; c < W.dim(1); ++c) out[c * W.dim(0) + k] = W[k * W.dim(1) + c];
  return out;
}

Tensor weighted_channel_sum(const Tensor& w, const Tensor& A) {
  GL_CHECK(A.rank() == 4 && w.rank() == 2 && w.dim(0) == A.dim(0) && w.dim(1) == A.dim(1),
           "channel weights ", w.shape().str(), " do not match activations ", A.shape().str());
  const int64_t N = A.dim(0), K = A.dim(1), hw = A.dim(2) * A.dim(3);
  Tensor map(Shape{N, 1, A.dim(2), A.dim(3)});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      const float wk = w[n * K + k];
      const float* a = A.data() + (n * K + k) * hw;
      float* m = map.data() + n * hw;
      for (int64_t i = 0; i < hw; ++i) m[i] += wk * a[i];
    }
  return map;
}

void relu_inplace(Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = std::max(t[i], 0.f);
}

namespace {

// pytorch-grad-cam's scale_cam_image, per example: m ← (m − min m) / (1e-7 + max(m − min m)).
void min_max_inplace(Tensor& map) {
  const int64_t N = map.dim(0), per = map.numel() / N;
  for (int64_t n = 0; n < N; ++n) {
    float* m = map.data() + n * per;
    const float lo = *std::min_element(m, m + per);
    float hi = 0;
    for (int64_t i = 0; i < per; ++i) hi = std::max(hi, m[i] - lo);
    for (int64_t i = 0; i < per; ++i) m[i] = (m[i] - lo) / (1e-7f + hi);
  }
}

}  // namespace

Tensor finish_layer_map(const MethodInfo& info, const Request& r, Tensor map) {
  if (r.options.boolean(info, "relu")) relu_inplace(map);
  const std::string normalize = r.options.text(info, "normalize");
  GL_CHECK(normalize == "none" || normalize == "minmax", info.name, ": --normalize '", normalize,
           "' is not none or minmax");
  // minmax, as pytorch-grad-cam: scaled at the layer's resolution, resized, then scaled again
  // (its BaseCAM rescales the resized map when it aggregates the target layers).
  if (normalize == "minmax") min_max_inplace(map);
  const std::string up = r.options.text(info, "upsample");
  if (up == "none") return map;
  GL_CHECK(r.input.rank() == 4, info.name, ": --upsample needs image inputs [N,C,H,W], got ",
           r.input.shape().str());
  map = resize(map, r.input.dim(2), r.input.dim(3), parse_resample(up));
  if (normalize == "minmax") min_max_inplace(map);
  return map;
}

std::vector<Parameter> cam_parameters(std::vector<Parameter> extra) {
  std::vector<Parameter> p = {
      {"layer", "auto", "tensor name of a 4-D activation (gradlens info lists them), or a PyTorch module path in one"},
      {"relu", "true", "apply ReLU to the map (--no-relu keeps it signed)"},
      {"upsample", "none", "none (layer resolution), bilinear or nearest to the input size"},
      {"normalize", "none", "none, or minmax: each map scaled to [0, 1] (before and after --upsample), as "
                            "pytorch-grad-cam; --upsample bilinear --normalize minmax reproduces its maps"},
  };
  p.insert(p.end(), extra.begin(), extra.end());
  return p;
}

MethodInfo cam_info(const char* name, const char* paper, const char* cost, const char* summary,
                    std::vector<Parameter> extra) {
  MethodInfo m;
  m.name = name;
  m.family = "cam";
  m.paper = paper;
  m.cost = cost;
  m.summary = summary;
  m.parameters = cam_parameters(std::move(extra));
  m.layer_map = true;
  return m;
}

LayerPass layer_pass(const MethodInfo& info, const Request& r, bool gradients) {
  LayerPass p;
  p.layer = cam_layer(info, r);
  PassOptions o;
  o.batch = r.batch;
  o.input_gradient = false;
  o.layers = {p.layer};
  o.layer_gradients = gradients;  // without: forward only
  PassResult res = gradient_pass(*r.function, r.input, r.targets, r.contrast, o);
  p.A = std::move(res.layers[0].activation);
  p.G = std::move(res.layers[0].gradient);
  p.scores = std::move(res.scores);
  p.targets = std::move(res.targets);
  p.logits = std::move(res.logits);
  return p;
}

Explanation finish_cam(const MethodInfo& info, const Request& r, const LayerPass& p, Tensor map,
                   int64_t forwards, int64_t backwards) {
  Explanation e;
  e.attribution = finish_layer_map(info, r, std::move(map));
  e.scores = p.scores;
  e.targets = p.targets;
  e.logits = p.logits;
  e.notes["layer"] = p.layer;
  e.forward_passes = forwards;
  e.backward_passes = backwards;
  return e;
}

}  // namespace gradlens
