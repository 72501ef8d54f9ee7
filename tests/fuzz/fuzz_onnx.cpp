// libFuzzer target: the protobuf/ONNX reader, the Model (prune, sort, bind, fold) and one forward
// pass on a small input (each declared extent clamped to [1, 4]). Anything wrong must be a
// gradlens::Error; the memory limit is 1 GiB (libFuzzer runs with -rss_limit_mb=2048).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/error.h"
#include "engine/memory.h"
#include "engine/tape.h"
#include "io/onnx.h"
#include "layers/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool limited = (gradlens::set_memory_limit(int64_t(1) << 30), true);
  (void)limited;
  try {
    gradlens::Model model(gradlens::load_onnx_buffer(
        std::string_view(reinterpret_cast<const char*>(data), size), "/nonexistent", "fuzz.onnx"));
    if (model.graph().inputs.size() != 1) return 0;
    gradlens::Shape shape;
    for (int64_t d : model.graph().inputs[0].dims) shape.push_back(d < 1 ? 1 : d > 4 ? 4 : d);
    gradlens::Tape tape;
    (void)model.forward(tape, gradlens::Tensor(shape, 0.5f), false);
  } catch (const gradlens::Error&) {
  }
  return 0;
}
