// gradlens info MODEL.onnx: inputs and outputs, op histogram, parameters, MACs for the model's
// input size, and the 4-D activations (candidate CAM layers) with the default marked.
#include <cstdio>
#include <map>
#include <sstream>

#include "attribution/cam.h"
#include "engine/error.h"
#include "engine/number_text.h"
#include "tools/cli/args.h"
#include "tools/cli/commands.h"
#include "tools/cli/inputs.h"
#include "tools/cli/json.h"
#include "tools/cli/receipt.h"

namespace gradlens::cli {

namespace {
std::string dims_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? "," : "") + (dims[i] < 0 ? std::string("?") : std::to_string(dims[i]));
  return s + "]";
}

Shape parse_shape(const std::string& text) {
  Shape s;
  for_each_item(text, [&](const std::string& item) {
    int64_t v = 0;
    GL_CHECK(parse_integer(item, v) && v > 0 && v < (1ll << 31), "--input-shape: '", item, "' is not a positive extent");
    s.push_back(v);
    return true;
  });
  return s;
}
}  // namespace

int run_info(const std::vector<std::string>& argv) {
  Args args("info",
            {{"input-shape", "N,C,H,W", "input shape for MACs and activation shapes (default: the declared one, batch 1)", ""},
             {"json", "", "print JSON", ""}},
            "MODEL.onnx");
  if (!args.parse_or_usage(argv)) return 0;
  GL_CHECK(args.positional().size() == 1, "expected one MODEL.onnx (see gradlens info --help)");
  const std::string path = args.positional()[0];
  auto model = load_model(path);
  const Graph& g = model->graph();

  std::map<std::string, int> histogram;
  for (const auto& layer : model->layers()) ++histogram[layer->node().op_type];
  int64_t parameters = 0;
  for (const auto& [name, init] : g.initializers)
    if (!init.is_integer) parameters += init.value.numel();

  // Input shapes: given, or declared with a dynamic batch taken as 1.
  std::vector<Shape> shapes;
  std::string why_unknown;
  if (args.has("input-shape")) {
    GL_CHECK(g.inputs.size() == 1, "--input-shape works for single-input models; this one has ", g.inputs.size());
    shapes.push_back(parse_shape(args.get("input-shape")));
  } else {
    for (const ValueInfo& in : g.inputs) {
      Shape s;
      for (size_t d = 0; d < in.dims.size(); ++d) {
        if (in.dims[d] >= 0) s.push_back(in.dims[d]);
        else if (d == 0) s.push_back(1);
        else why_unknown = "input '" + in.name + "' has a dynamic extent: give --input-shape";
      }
      if (in.dims.empty()) why_unknown = "input '" + in.name + "' has no declared shape: give --input-shape";
      shapes.push_back(s);
    }
  }
  int64_t macs = -1;
  std::vector<std::pair<std::string, Shape>> activations;
  std::string default_layer;
  if (why_unknown.empty()) {
    macs = model->macs(shapes);
    if (g.inputs.size() == 1) {
      activations = cam_candidates(*model, shapes[0]);
      if (!activations.empty()) default_layer = default_cam_layer(*model, shapes[0]);
    }
  }

  if (args.flag("json")) {
    Json j;
    j.begin_object().key("model").value(path).key("inputs").begin_array();
    for (const ValueInfo& v : g.inputs) j.begin_object().key("name").value(v.name).key("shape").array(v.dims).end_object();
    j.end_array().key("outputs").begin_array();
    for (const ValueInfo& v : g.outputs) j.begin_object().key("name").value(v.name).key("shape").array(v.dims).end_object();
    j.end_array().key("ops").begin_object();
    for (const auto& [op, count] : histogram) j.key(op).value(int64_t(count));
    j.end_object().key("folded_nodes").value(int64_t(model->folded_nodes()));
    j.key("fixed_batch").value(model->fixed_batch());
    j.key("parameters").value(parameters);
    if (macs >= 0) j.key("macs").value(macs); else j.key("macs").null();
    j.key("activations_4d").begin_array();
    for (const auto& [name, s] : activations)
      j.begin_object().key("name").value(name).key("shape").array(s.vec()).key("default").value(name == default_layer).end_object();
    j.end_array().key("default_cam_layer").value(default_layer);
    write_receipt(j, ReceiptInputs("info", argv));
    j.end_object();
    std::printf("%s\n", j.str().c_str());
    return 0;
  }
  std::printf("model      %s\n", path.c_str());
  for (const ValueInfo& v : g.inputs) std::printf("input      %s %s\n", v.name.c_str(), dims_text(v.dims).c_str());
  if (model->fixed_batch() > 0)
    std::printf("batch      fixed to %lld by the graph's shape constants: every chunk runs exactly that many rows\n",
                static_cast<long long>(model->fixed_batch()));
  for (const ValueInfo& v : g.outputs) std::printf("output     %s %s\n", v.name.c_str(), dims_text(v.dims).c_str());
  std::printf("parameters %lld\n", static_cast<long long>(parameters));
  if (macs >= 0) std::printf("MACs       %lld for input %s\n", static_cast<long long>(macs), shapes[0].str().c_str());
  else std::printf("MACs       unknown (%s)\n", why_unknown.c_str());
  std::printf("ops        %zu nodes (%d folded at load):", model->layers().size(), model->folded_nodes());
  for (const auto& [op, count] : histogram) std::printf(" %s×%d", op.c_str(), count);
  std::printf("\n\n4-D activations (candidate --layer for CAM methods; * = default):\n");
  for (const auto& [name, s] : activations)
    std::printf("  %c %-40s %s\n", name == default_layer ? '*' : ' ', name.c_str(), s.str().c_str());
  if (activations.empty()) std::printf("  (none)\n");
  return 0;
}

}  // namespace gradlens::cli
