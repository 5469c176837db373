#include "datasets/preprocessing.h"

#include <nlohmann/json.hpp>

namespace octet {

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
    p.scale = j.value("scale", p.scale);
    if (j.contains("mean")) p.mean = j.at("mean").get<std::vector<float>>();
    if (j.contains("std")) p.std = j.at("std").get<std::vector<float>>();
  } catch (const nlohmann::json::exception& e) {
    OCTET_CHECK(false, origin, ": preprocessing metadata has a field of the wrong type: ", e.what());
  }
  const auto per_channel_ok = [&](const std::vector<float>& v) {
    return v.size() == 1 || static_cast<int64_t>(v.size()) == p.channels;
  };
  OCTET_CHECK(per_channel_ok(p.mean) && per_channel_ok(p.std), origin, ": preprocessing mean/std need 1 or ",
              p.channels, " values");
  for (float s : p.std) OCTET_CHECK(s != 0.0f, origin, ": preprocessing std must not be 0");
  return p;
}

Preprocessing preprocessing_from_metadata(const Graph& graph, const std::string& origin) {
  const auto it = graph.metadata.find(kPreprocessingMetadataKey);
  if (it == graph.metadata.end()) return Preprocessing{};
  return parse_preprocessing_json(it->second, origin);
}

}  // namespace octet
