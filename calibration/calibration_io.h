// What calibration writes and reads back. Every write is atomic (temp file + rename); reading any
// of them back reproduces the scales bit for bit.
//
// TensorRT calibration cache (text):
//     TRT-<version>-EntropyCalibration2          (or -MinMaxCalibration for `max`; other methods
//     <tensor>: <hex>                             write EntropyCalibration2 — TensorRT reads the
//     ...                                         scales and ignores the method)
//   <version> is TensorRT's integer version (8601 = 8.6.1; octet writes kDefaultTrtCacheVersion
//   unless told); <hex> is the IEEE-754 bit pattern of the float scale = amax / 127 as 8 lowercase
//   hex digits (%08x). Tensor names may contain ':' and spaces — the value follows the last ": ".
//   Every line ends with '\n'. The reader is strict: the header must be TRT-<digits>- followed by
//   EntropyCalibration2, EntropyCalibration, MinMaxCalibration or LegacyCalibration (what TensorRT
//   writes); each further line is `<non-empty name>: <1 to 8 hex digits, either case>`; a name
//   appears once; the scale is finite and > 0. Windows line endings and blank lines at the end of
//   the file are accepted, nothing else is.
// JSON table: {"octet_version", "model", "method", "percentile", "images", "tensors": [{"name",
//   "amax", "scale", "scale_hex", "absmax", "min", "max", "saturation", "count"}]}; scale_hex is
//   authoritative when read back (decimal floats are for people). Floats are written with enough
//   digits to read back exactly; values JSON cannot hold (min = +inf of a tensor that saw only NaN)
//   are written as the strings "inf", "-inf", "nan".
// Histograms (HDF5): one group per tensor under /tensors, named by its index in graph order
//   ("000000", "000001", ...: ONNX names may contain '/'), with a string attribute name, a dataset
//   `counts` (uint64 [2048]) and attributes range, min, max, absmax (float32), count, nan_count
//   (uint64); root attributes model, model_tensors (the model's calibrated tensor names, to refuse
//   a file from another model), images, bins.
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
  float scale = 1.0f;       // quant::scale_from_amax(amax): amax / 127, or 1 when amax is 0
  float absmax = 0.0f;      // observed
  float min = 0.0f, max = 0.0f;
  double saturation = 0.0;  // share of values with |x| > amax (saturation_fraction)
  uint64_t count = 0;
};

struct ScaleTable {
  std::string model;
  RangeMethod method = RangeMethod::kEntropy;
  double percentile = 99.99;
  int64_t images = 0;
  std::vector<TensorScale> tensors;  // in graph order
};

// select_amax for every tensor (spread over the machine's cores; the result does not depend on
// that), with saturation = saturation_fraction at the chosen amax (0 when amax >= the abs-max).
ScaleTable make_scale_table(const CalibrationData& data, const RangeOptions& options);

// Error naming the tensor when a scale is not finite and > 0 or a name is empty, repeated, or holds
// a line break (the cache could not be read back); nothing is written then.
void write_trt_cache(const std::string& path, const ScaleTable& table, int trt_version = kDefaultTrtCacheVersion);
// Name -> scale. Errors name the file and line: bad header, malformed line, NaN/inf/zero/negative.
std::map<std::string, float> read_trt_cache(const std::string& path);

// Names in `scales` (a cache just read) that are not in `model_tensors`, one line each, in name
// order: "'<name>' (nearest: '<a>', '<b>', '<c>')" with the 3 model names nearest by edit
// distance (Levenshtein; ties in model order). Empty when every name is known.
std::vector<std::string> unknown_tensor_report(const std::map<std::string, float>& scales,
                                               const std::vector<std::string>& model_tensors);
// Error "'<cache_path>': N tensor(s) not in the model: ..." listing unknown_tensor_report's lines.
void require_known_tensors(const std::string& cache_path, const std::map<std::string, float>& scales,
                           const std::vector<std::string>& model_tensors);

void write_json_table(const std::string& path, const ScaleTable& table);  // same checks as write_trt_cache
ScaleTable read_json_table(const std::string& path);

#if OCTET_HDF5
void save_histograms(const std::string& path, const CalibrationData& data, const std::vector<std::string>& model_tensors);
// Error when the file's model_tensors differ from `expected_model_tensors` (another model), listing
// the differences; an empty `expected_model_tensors` skips that check (inspecting a file alone).
CalibrationData load_histograms(const std::string& path, const std::vector<std::string>& expected_model_tensors);
#endif

}  // namespace octet
