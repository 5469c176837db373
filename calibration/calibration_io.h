// What calibration writes and reads back. Every write is atomic (temp file + rename); reading any
// of them back reproduces the scales bit for bit.
//
// TensorRT calibration cache (text):
//     TRT-<version>-EntropyCalibration2          (or -MinMaxCalibration for `max`; other methods
//     <tensor>: <hex>                             write EntropyCalibration2 — TensorRT reads the
//     ...                                         scales and ignores the method)
//   <version> is TensorRT's integer version (8601 = 8.6.1; octet writes kDefaultTrtCacheVersion
//   unless told); <hex> is the IEEE-754 bit pattern of the float scale = amax / 127 as 8 lowercase
//   hex digits (%08x). Tensor names may contain ':' — the value follows the last ": ".
// JSON table: {"octet_version", "model", "method", "percentile", "images", "tensors": [{"name",
//   "amax", "scale", "scale_hex", "absmax", "min", "max", "saturation", "count"}]}; scale_hex is
//   authoritative when read back (decimal floats are for people).
// Histograms (HDF5): one group per tensor under /tensors, datasets `counts` (uint64 [2048]),
//   attributes range, min, max, absmax, count, nan_count; root attributes model, model_tensors
//   (the model's calibrated tensor names, to refuse a file from another model), images, bins.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "calibration/calibrator.h"
#include "calibration/range_selection.h"
#include "octet/build_config.h"

namespace octet {

constexpr int kDefaultTrtCacheVersion = 8601;

struct TensorScale {
  std::string name;
  float amax = 0.0f;
  float scale = 1.0f;       // amax / 127, or 1 when amax is 0
  float absmax = 0.0f;      // observed
  float min = 0.0f, max = 0.0f;
  double saturation = 0.0;  // share of values with |x| > amax
  uint64_t count = 0;
};

struct ScaleTable {
  std::string model;
  RangeMethod method = RangeMethod::kEntropy;
  double percentile = 99.99;
  int64_t images = 0;
  std::vector<TensorScale> tensors;  // in graph order
};

// scale = amax / 127 (a true division, as qscheme.h fixes); 1 when amax == 0.
float scale_from_amax(float amax);
ScaleTable make_scale_table(const CalibrationData& data, const RangeOptions& options);

void write_trt_cache(const std::string& path, const ScaleTable& table, int trt_version = kDefaultTrtCacheVersion);
// Name -> scale. Errors name the file and line: bad header, malformed line, NaN/inf/zero/negative.
std::map<std::string, float> read_trt_cache(const std::string& path);

void write_json_table(const std::string& path, const ScaleTable& table);
ScaleTable read_json_table(const std::string& path);

#if OCTET_HDF5
void save_histograms(const std::string& path, const CalibrationData& data, const std::vector<std::string>& model_tensors);
// Error when the file's model_tensors differ from `expected_model_tensors` (another model), listing
// the differences.
CalibrationData load_histograms(const std::string& path, const std::vector<std::string>& expected_model_tensors);
#endif

}  // namespace octet
