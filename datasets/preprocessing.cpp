#include "datasets/preprocessing.h"

#include <nlohmann/json.hpp>

namespace octet {

void validate_preprocessing(const Preprocessing& p, const std::string& origin) {
  const bool gray = p.channel_order == "gray";
  OCTET_CHECK(gray || p.channel_order == "rgb" || p.channel_order == "bgr", origin, ": channel order '",
              p.channel_order, "' is not one of gray, rgb, bgr");
  OCTET_CHECK(p.channels == (gray ? 1 : 3), origin, ": channel order '", p.channel_order, "' has ",
              gray ? 1 : 3, " channels, preprocessing says ", p.channels);
  const auto per_channel_ok = [&](const std::vector<float>& v) {
    return v.size() == 1 || static_cast<int64_t>(v.size()) == p.channels;
  };
  OCTET_CHECK(per_channel_ok(p.mean) && per_channel_ok(p.std), origin, ": mean and std need 1 or ", p.channels,
              " values each (", p.mean.size(), " and ", p.std.size(), " given)");
  for (float s : p.std) OCTET_CHECK(s != 0.0f, origin, ": std must not be 0");
  OCTET_CHECK(p.height >= 0 && p.width >= 0 && p.resize_shorter >= 0 && p.resize_width >= 0 &&
                  p.resize_height >= 0 && p.crop_width >= 0 && p.crop_height >= 0,
              origin, ": sizes must not be negative");
  OCTET_CHECK((p.resize_width == 0) == (p.resize_height == 0), origin, ": resize needs both width and height");
  OCTET_CHECK(p.resize_shorter == 0 || p.resize_width == 0, origin,
              ": resize is either the shorter side or WxH, not both");
  OCTET_CHECK((p.crop_width == 0) == (p.crop_height == 0), origin, ": center crop needs both width and height");
}

Preprocessing parse_preprocessing_json(const std::string& json, const std::string& origin) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    OCTET_CHECK(false, origin, ": preprocessing metadata is not valid JSON: ", e.what());
  }
  Preprocessing p;
  try {
    p.channels = j.value("channels", p.channels);
    p.height = j.value("height", p.height);
    p.width = j.value("width", p.width);
    p.channel_order = j.value("channel_order", p.channel_order);
    p.resize_shorter = j.value("resize_shorter", p.resize_shorter);
    p.resize_width = j.value("resize_width", p.resize_width);
    p.resize_height = j.value("resize_height", p.resize_height);
    p.crop_width = j.value("crop_width", p.crop_width);
    p.crop_height = j.value("crop_height", p.crop_height);
    p.scale = j.value("scale", p.scale);
    if (j.contains("mean")) p.mean = j.at("mean").get<std::vector<float>>();
    if (j.contains("std")) p.std = j.at("std").get<std::vector<float>>();
  } catch (const nlohmann::json::exception& e) {
    OCTET_CHECK(false, origin, ": preprocessing metadata has a field of the wrong type: ", e.what());
  }
  validate_preprocessing(p, origin);
  return p;
}

std::string preprocessing_to_json(const Preprocessing& p) {
  nlohmann::json j = {{"channels", p.channels},
                      {"height", p.height},
                      {"width", p.width},
                      {"channel_order", p.channel_order},
                      {"resize_shorter", p.resize_shorter},
                      {"resize_width", p.resize_width},
                      {"resize_height", p.resize_height},
                      {"crop_width", p.crop_width},
                      {"crop_height", p.crop_height},
                      {"scale", p.scale},
                      {"mean", p.mean},
                      {"std", p.std}};
  return j.dump();
}

Preprocessing preprocessing_from_metadata(const Graph& graph, const std::string& origin) {
  const auto it = graph.metadata.find(kPreprocessingMetadataKey);
  if (it == graph.metadata.end()) return Preprocessing{};
  return parse_preprocessing_json(it->second, origin + " metadata '" + kPreprocessingMetadataKey + "'");
}

Preprocessing preprocessing_preset(const std::string& name) {
  Preprocessing p;
  if (name == "imagenet") {
    // torchvision's ImageNet evaluation transform: Resize(256), CenterCrop(224), ToTensor, Normalize.
    p.channels = 3;
    p.channel_order = "rgb";
    p.resize_shorter = 256;
    p.crop_width = p.crop_height = 224;
    p.height = p.width = 224;
    p.scale = 1.0f / 255.0f;
    p.mean = {0.485f, 0.456f, 0.406f};
    p.std = {0.229f, 0.224f, 0.225f};
  } else if (name == "fashion-mnist") {
    // What models/*_fmnist.onnx were trained with (tools/models/train_reference_models.py).
    p.channels = 1;
    p.channel_order = "gray";
    p.height = p.width = 28;
    p.scale = 1.0f / 255.0f;
    p.mean = {0.2860f};
    p.std = {0.3530f};
  } else {
    OCTET_CHECK(false, "unknown preprocessing preset '", name, "' (choose imagenet or fashion-mnist)");
  }
  return p;
}

}  // namespace octet
