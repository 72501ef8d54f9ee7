// libFuzzer target: image decoding (PNG, JPEG, BMP through stb_image with gradlens's guards) and
// the ImageNet preprocessing (shorter side 256, centre crop 224, mean/std).
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/error.h"
#include "engine/memory.h"
#include "io/image.h"
#include "io/preprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool limited = (gradlens::set_memory_limit(int64_t(1) << 30), true);
  (void)limited;
  try {
    const gradlens::Tensor image =
        gradlens::decode_image(std::string(reinterpret_cast<const char*>(data), size), "fuzz.png");
    const gradlens::Preprocessing p = gradlens::preset_preprocessing("imagenet", 3, 224, 224);
    (void)gradlens::prepare_image(image, p, "fuzz.png");
  } catch (const gradlens::Error&) {
  }
  return 0;
}
