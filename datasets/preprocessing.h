// Preprocessing as data: what turns stored pixels into the model's input tensor.
//
// One documented order, the same for every reader (image files, IDX, HDF5 uint8):
//   1. decode (image files: OpenCV imdecode, 8-bit)
//   2. colour conversion to channel_order: gray | rgb | bgr (OpenCV decodes to BGR)
//   3. resize: resize_shorter > 0 scales the shorter side to it keeping the aspect ratio (the
//      longer side truncated, int(S * long / short), as torchvision's Resize(int) does); or
//      resize_width x resize_height exactly. Bilinear (cv::INTER_LINEAR). Nothing when both are 0.
//   4. center crop to crop_width x crop_height (offsets rounded down: (W - w) / 2), when set;
//      torchvision rounds a .5 offset half to even, so odd margins can differ by one pixel
//   5. to float32, x = pixel * scale
//   6. x = (x - mean[c]) / std[c]
//   7. layout NCHW
// After these steps the sample is [channels, height, width]; a reader whose samples come out
// otherwise fails naming the file. Float HDF5 datasets are already preprocessed: only steps 6-7 do
// not apply either (they are taken as the model's input as is).
//
// A model may carry its preprocessing in ONNX metadata_props under the key `octet.preprocessing` as
// JSON with the field names below, e.g. {"channels":1,"height":28,"width":28,"channel_order":"gray",
// "scale":0.00392156862745098,"mean":[0.2860],"std":[0.3530]}; octet uses it unless flags override.
#pragma once

#include <string>
#include <vector>

#include "engine/graph.h"

namespace octet {

struct Preprocessing {
  int64_t channels = 1;  // 1 for gray, 3 for rgb/bgr
  int64_t height = 0;    // the sample's final size; 0: whatever the data gives
  int64_t width = 0;
  std::string channel_order = "gray";  // gray | rgb | bgr
  int64_t resize_shorter = 0;          // step 3, shorter side
  int64_t resize_width = 0;            // step 3, exact size (both set, or both 0)
  int64_t resize_height = 0;
  int64_t crop_width = 0;  // step 4 (both set, or both 0)
  int64_t crop_height = 0;
  float scale = 1.0f;
  std::vector<float> mean{0.0f};  // one value, or one per channel
  std::vector<float> std{1.0f};

  float mean_of(int64_t c) const { return mean.size() == 1 ? mean[0] : mean.at(static_cast<size_t>(c)); }
  float std_of(int64_t c) const { return std.size() == 1 ? std[0] : std.at(static_cast<size_t>(c)); }
};

constexpr const char* kPreprocessingMetadataKey = "octet.preprocessing";

// Throws Error naming `origin` when fields contradict (channel count vs order, mean/std lengths,
// std 0, half-given sizes, negative sizes).
void validate_preprocessing(const Preprocessing& p, const std::string& origin);

// Parses the JSON form above; Error naming `origin` on malformed JSON or inconsistent fields.
Preprocessing parse_preprocessing_json(const std::string& json, const std::string& origin);
std::string preprocessing_to_json(const Preprocessing& p);
// The model's own preprocessing when its metadata has one, else identity (scale 1, mean 0, std 1).
Preprocessing preprocessing_from_metadata(const Graph& graph, const std::string& origin);

// Named presets: "imagenet" (rgb, resize 256, crop 224, scale 1/255, mean 0.485 0.456 0.406,
// std 0.229 0.224 0.225) and "fashion-mnist" (gray 28x28, scale 1/255, mean 0.2860, std 0.3530).
// Error listing the names for an unknown one.
Preprocessing preprocessing_preset(const std::string& name);

}  // namespace octet
