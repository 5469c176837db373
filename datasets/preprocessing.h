// Preprocessing as data: what turns stored pixels into the model's input tensor.
//
// Applied per pixel, in this order, for each channel c:
//     x = pixel * scale;   x = (x - mean[c]) / std[c]
// (decoding, colour conversion, resize and crop come first for image files; see the datasets issue).
// A model may carry its preprocessing in ONNX metadata_props under the key `octet.preprocessing` as
// JSON, e.g. {"layout":"NCHW","channels":1,"height":28,"width":28,"channel_order":"gray",
// "scale":0.00392156862745098,"mean":[0.2860],"std":[0.3530]}; octet uses it by default.
#pragma once

#include <string>
#include <vector>

#include "engine/graph.h"

namespace octet {

struct Preprocessing {
  int64_t channels = 1;
  int64_t height = 0;  // 0: take from the data
  int64_t width = 0;
  std::string channel_order = "gray";  // gray | rgb | bgr
  float scale = 1.0f;
  std::vector<float> mean{0.0f};  // one value, or one per channel
  std::vector<float> std{1.0f};

  float mean_of(int64_t c) const { return mean.size() == 1 ? mean[0] : mean.at(static_cast<size_t>(c)); }
  float std_of(int64_t c) const { return std.size() == 1 ? std[0] : std.at(static_cast<size_t>(c)); }
};

constexpr const char* kPreprocessingMetadataKey = "octet.preprocessing";

// Parses the JSON form above; Error naming `origin` on malformed JSON or inconsistent lengths.
Preprocessing parse_preprocessing_json(const std::string& json, const std::string& origin);
// The model's own preprocessing when its metadata has one, else identity (scale 1, mean 0, std 1).
Preprocessing preprocessing_from_metadata(const Graph& graph, const std::string& origin);

}  // namespace octet
