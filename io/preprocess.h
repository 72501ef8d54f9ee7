// Image preprocessing to a model's input, in this order:
//   1. geometry: either a direct resize to H×W (--size), or a resize of the shorter side to S
//      keeping the aspect ratio (the longer side becomes ⌊S·long/short⌋, as torchvision's
//      Resize(S)) followed by an optional centre crop H×W whose top-left corner is
//      (round((h − H)/2), round((w − W)/2)) with halves rounded to even, as torchvision's
//      CenterCrop. Resizing is bilinear with half-pixel centres (engine/resample.h, no
//      antialiasing when shrinking — F.interpolate(antialias=False), not PIL).
//   2. channels: RGB → grey by ITU-R 601-2 luma Y = 0.299 R + 0.587 G + 0.114 B (PIL's "L");
//      grey → RGB by replication.
//   3. values: samples already in [0, 1] (read_image), then (x − mean_c) / std_c.
// Presets: "none" (resize to the model's declared H×W when it has one, [0, 1]), "imagenet"
// (shorter side 256, crop 224×224, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)),
// "fashion-mnist" (grey 28×28, mean 0.2860, std 0.3530).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace gradlens {

struct Preprocessing {
  std::string preset = "none";
  int64_t height = 0, width = 0;            // direct resize; 0 = none
  int64_t shorter_side = 0;                 // aspect-preserving resize; 0 = none
  int64_t crop_height = 0, crop_width = 0;  // centre crop; 0 = none
  int64_t channels = 0;                     // 1 or 3; 0 = keep the image's
  std::vector<float> mean, std;             // empty = none; one value or one per channel
  // One line: "preset imagenet: resize shorter side to 256, centre crop 224x224, RGB, [0,1],
  // mean (...), std (...)".
  std::string describe() const;
};

// A preset for a model whose input is [N, channels, height, width] (-1 = not declared).
Preprocessing preset_preprocessing(const std::string& name, int64_t channels, int64_t height, int64_t width);
std::string preset_names();  // "none|imagenet|fashion-mnist"

struct PreparedImage {
  Tensor input;    // [channels, H, W]: what the model gets
  Tensor display;  // [1 or 3, H, W] in [0, 1]: the same pixels before channel conversion and mean/std
};

// `image` is [C, H, W] in [0, 1] (C = 1 or 3); `name` appears in error messages.
PreparedImage prepare_image(const Tensor& image, const Preprocessing& p, const std::string& name);

// Centre-crop offset along one axis: round-half-even((size − crop) / 2).
int64_t centre_crop_offset(int64_t size, int64_t crop);

}  // namespace gradlens
