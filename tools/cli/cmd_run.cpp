// gradlens run MODEL.onnx INPUT... --out DIR [--json]: inference; each graph output K is written
// to DIR/output_K.npy (atomically).
#include <cstdio>
#include <filesystem>

#include "engine/error.h"
#include "io/npy.h"
#include "tools/cli/args.h"
#include "tools/cli/commands.h"
#include "tools/cli/inputs.h"
#include "tools/cli/json.h"
#include "tools/cli/receipt.h"

namespace gradlens::cli {

int run_run(const std::vector<std::string>& argv) {
  Args args("run",
            {{"out", "DIR", "directory for output_K.npy (created if missing)", ""},
             {"json", "", "print output names, shapes and, for classifiers, the top-5 classes", ""}},
            "MODEL.onnx INPUT...");
  if (!args.parse_or_usage(argv)) return 0;
  const auto& pos = args.positional();
  GL_CHECK(pos.size() >= 2, "expected MODEL.onnx and at least one input (see gradlens run --help)");
  GL_CHECK(args.has("out") || args.flag("json"), "nothing to do: give --out DIR and/or --json");
  auto model = load_model(pos[0]);
  const auto& graph_inputs = model->graph().inputs;
  GL_CHECK(pos.size() - 1 == graph_inputs.size(), pos[0], ": the model takes ", graph_inputs.size(),
           " inputs, given ", pos.size() - 1);
  Tape tape;
  std::vector<Var> inputs;
  for (size_t k = 0; k + 1 < pos.size(); ++k)
    inputs.push_back(tape.input(load_model_input(*model, k, pos[k + 1]), false,
                                graph_inputs[k].name));
  std::vector<Var> outputs = model->forward(tape, inputs);
  if (args.has("out")) {
    const std::string dir = args.get("out");
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    GL_CHECK(!ec, dir, ": cannot create directory (", ec.message(), ")");
    for (size_t k = 0; k < outputs.size(); ++k)
      write_npy(dir + "/output_" + std::to_string(k) + ".npy", outputs[k].value());
  }
  if (args.flag("json")) {
    Json j;
    j.begin_object().key("model").value(pos[0]).key("outputs").begin_array();
    for (size_t k = 0; k < outputs.size(); ++k) {
      const Tensor& v = outputs[k].value();
      j.begin_object().key("index").value(int64_t(k)).key("name").value(model->graph().outputs[k].name);
      j.key("shape").array(v.shape().vec());
      if (v.rank() == 2 && v.dim(1) > 1) {
        j.key("top5").begin_array();
        for (int64_t n = 0; n < v.dim(0); ++n) {
          j.begin_array();
          for (const auto& [c, s] : top_k(v, n, 5))
            j.begin_object().key("class").value(c).key("score").value(double(s)).end_object();
          j.end_array();
        }
        j.end_array();
      }
      j.end_object();
    }
    j.end_array();
    write_receipt(j, ReceiptInputs("run", argv));
    j.end_object();
    std::printf("%s\n", j.str().c_str());
  }
  return 0;
}

}  // namespace gradlens::cli
