// The builder's configuration text: --precision-constraints, --layer-precisions,
// --layer-output-types and their wildcard patterns (quantize/int8_builder.h).
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "engine/error.h"
#include "quantize/int8_builder.h"

namespace octet {
namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// Users write "a:fp32, b:int8": spaces around an entry are not part of the layer name.
std::string trimmed(const std::string& text) {
  const auto is_space = [](unsigned char c) { return std::isspace(c) != 0; };
  const auto begin = std::find_if_not(text.begin(), text.end(), is_space);
  const auto end = std::find_if_not(text.rbegin(), text.rend(), is_space).base();
  return begin < end ? std::string(begin, end) : std::string();
}

std::vector<std::string> split_entries(const std::string& text) {
  std::vector<std::string> entries;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t comma = std::min(text.find(',', begin), text.size());
    entries.push_back(trimmed(text.substr(begin, comma - begin)));
    begin = comma + 1;
  }
  return entries;
}

struct Entry {
  std::string pattern;
  std::string type;  // lower case
  std::string text;  // as written, for errors
};

// "PATTERN:TYPE"; the last ':' splits because ONNX names may hold ':' themselves.
Entry split_entry(const std::string& flag, const std::string& entry) {
  const size_t colon = entry.rfind(':');
  OCTET_CHECK(colon != std::string::npos, flag, ": entry '", entry, "' is not NAME:TYPE (e.g. 'conv1:fp32')");
  Entry split{trimmed(entry.substr(0, colon)), lowercase(trimmed(entry.substr(colon + 1))), entry};
  OCTET_CHECK(!split.pattern.empty(), flag, ": entry '", entry, "' has an empty layer name");
  return split;
}

// Every non-empty entry of `text`, split; an empty entry (",,") is an error, an empty text none.
std::vector<Entry> parse_entries(const std::string& flag, const std::string& text) {
  std::vector<Entry> entries;
  if (trimmed(text).empty()) return entries;
  for (const std::string& entry : split_entries(text)) {
    OCTET_CHECK(!entry.empty(), flag, ": empty entry in '", text, "'");
    entries.push_back(split_entry(flag, entry));
  }
  return entries;
}

bool names_fp32(const std::string& type) { return type == "fp32" || type == "float32"; }

}  // namespace

PrecisionConstraints parse_precision_constraints(const std::string& text) {
  const std::string name = lowercase(trimmed(text));
  if (name == "none") return PrecisionConstraints::kNone;
  if (name == "prefer") return PrecisionConstraints::kPrefer;
  if (name == "obey") return PrecisionConstraints::kObey;
  throw Error("unknown precision constraints '" + text + "' (none, prefer or obey)");
}

const char* to_string(PrecisionConstraints constraints) {
  switch (constraints) {
    case PrecisionConstraints::kNone: return "none";
    case PrecisionConstraints::kPrefer: return "prefer";
    case PrecisionConstraints::kObey: return "obey";
  }
  return "?";
}

std::vector<LayerPrecisionRule> parse_layer_precisions(const std::string& text) {
  const char* flag = "--layer-precisions";
  std::vector<LayerPrecisionRule> rules;
  for (const Entry& entry : parse_entries(flag, text)) {
    OCTET_CHECK(names_fp32(entry.type) || entry.type == "int8", flag, ": entry '", entry.text,
                "' has unknown precision '", entry.type, "' (fp32 or int8)");
    rules.push_back({entry.pattern, names_fp32(entry.type) ? Precision::kFloat32 : Precision::kInt8});
  }
  return rules;
}

std::vector<LayerOutputTypeRule> parse_layer_output_types(const std::string& text) {
  const char* flag = "--layer-output-types";
  std::vector<LayerOutputTypeRule> rules;
  for (const Entry& entry : parse_entries(flag, text)) {
    OCTET_CHECK(names_fp32(entry.type) || entry.type == "int8", flag, ": entry '", entry.text,
                "' has unknown output type '", entry.type, "' (fp32 or int8)");
    rules.push_back({entry.pattern, names_fp32(entry.type) ? DataType::kFloat32 : DataType::kInt8});
  }
  return rules;
}

// Greedy matching with one backtrack point: on a mismatch after a '*', let that '*' take one more
// character. Linear in practice, never exponential (unlike the recursive form).
bool wildcard_match(const std::string& pattern, const std::string& name) {
  size_t p = 0, n = 0;
  size_t star = std::string::npos, star_name = 0;  // the last '*' seen and where its run ends in name
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_name = n;
    } else if (star != std::string::npos) {
      p = star + 1;
      n = ++star_name;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace octet
