// INT8 kernels on the GPU against the CPU reference (kernels/cpu/int8_ref.h), bit for bit.
//
// Convolution harness. One list of cases, each a Conv2dShape, an epilogue (bias or not; residual none,
// int8 or float; activation none, ReLU, Clip(0, 6) or LeakyRelu; int8 or float output; with or without
// the roundings of explicitly quantized models, quant::EpilogueRounding) and a seed. Each
// case runs once through conv2d_int8_ref on NCHW host data and through conv_int8_cuda for every tactic
// of kAllInt8Tactics that conv_int8_cuda_supports the shape (the others are counted as skipped), on the
// same values converted with kernels/int8_layout.h. Before each run the device output is poisoned with
// 0x5A bytes, so an element a kernel forgets to write shows. Every element is compared with == (int8
// values; the IEEE bits of float outputs), and the pad channels [K, Kp) of an int8 NHWCp output must
// be 0. A mismatch prints the case id with everything needed to rebuild it ("case 17 tactic=dp4a n=33
// c=7 ... seed=...") and the first mismatching element. Each test ends with a table of the cases run
// and skipped per tactic.
//
// Ties. qscheme.h rounds half to even; a kernel that multiplied by a reciprocal or contracted a
// multiply-add would differ exactly there. The tie cases use small data, power-of-two combined scales
// (2^-2 .. 2^-4), half-integer biases and residuals and output scale 1, so float(acc) * scale + bias
// + residual is exact and often lands on k + 0.5; the test counts those ties in the reference's float
// output and requires some.
//
// The other INT8 ops (quantize / dequantize with ties, saturation, NaN and infinities; max, average
// and global average pooling with padding and count_include_pad; concat with unequal scales; the
// data-movement window of Slice and Split and nearest Resize) are compared the same way against
// their _ref twins.
//
// Without a CUDA device every test skips with the reason.
#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/cuda_backend.h"
#include "kernels/cpu/histogram_ref.h"
#include "kernels/cpu/data_movement_ref.h"
#include "kernels/cpu/int8_ref.h"
#include "kernels/cpu/resize_ref.h"
#include "kernels/cpu/window.h"
#include "kernels/cuda/conv_int8_cuda.h"
#include "kernels/cuda/data_movement_cuda.h"
#include "kernels/cuda/int8_ops_cuda.h"
#include "kernels/cuda/resize_cuda.h"
#include "kernels/int8_layout.h"
#include "quantize/qscheme.h"
#include "tests/support/cuda_test_util.h"

namespace octet {
namespace {

using kernels::Int8Tactic;
using kernels::padded_channels;

constexpr uint8_t kPoison = 0x5A;

// ---- device plumbing -------------------------------------------------------------------------------

using test::cuda_ok;
using test::DeviceArray;
using test::Stream;

class LtHandle {
 public:
  LtHandle() {
    if (cublasLtCreate(&handle_) != CUBLAS_STATUS_SUCCESS) throw std::runtime_error("cublasLtCreate failed");
  }
  ~LtHandle() { cublasLtDestroy(handle_); }
  LtHandle(const LtHandle&) = delete;
  LtHandle& operator=(const LtHandle&) = delete;
  cublasLtHandle_t get() const { return handle_; }

 private:
  cublasLtHandle_t handle_ = nullptr;
};

// ---- comparison --------------------------------------------------------------------------------------

// Compares an int8 NHWCp tensor from the device with the NCHW reference: every element with ==, and
// the pad channels with 0. Returns "" or the first mismatch and the number of mismatches.
std::string compare_nhwcp_int8(const std::vector<int8_t>& got, const std::vector<int8_t>& want, int64_t n,
                               int64_t c, int64_t h, int64_t w) {
  const int64_t cp = padded_channels(c);
  std::ostringstream first;
  int64_t mismatches = 0;
  for (int64_t in = 0; in < n; ++in)
    for (int64_t ih = 0; ih < h; ++ih)
      for (int64_t iw = 0; iw < w; ++iw)
        for (int64_t ic = 0; ic < cp; ++ic) {
          const int got_value = got[static_cast<size_t>(((in * h + ih) * w + iw) * cp + ic)];
          const int want_value = ic < c ? want[static_cast<size_t>(((in * c + ic) * h + ih) * w + iw)] : 0;
          if (got_value == want_value) continue;
          if (mismatches++ == 0)
            first << (ic < c ? "" : "pad channel ") << "(n=" << in << ", c=" << ic << ", h=" << ih << ", w=" << iw
                  << "): got " << got_value << ", want " << want_value;
        }
  if (mismatches == 0) return "";
  return first.str() + " (" + std::to_string(mismatches) + " mismatching elements)";
}

// Float NCHW outputs, compared by IEEE bits.
std::string compare_float_bits(const std::vector<float>& got, const std::vector<float>& want) {
  std::ostringstream first;
  int64_t mismatches = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (kernels::float_bits(got[i]) == kernels::float_bits(want[i])) continue;
    if (mismatches++ == 0)
      first << "element " << i << ": got " << got[i] << " (0x" << std::hex << kernels::float_bits(got[i])
            << "), want " << want[i] << " (0x" << kernels::float_bits(want[i]) << std::dec << ")";
  }
  if (mismatches == 0) return "";
  return first.str() + " (" + std::to_string(mismatches) + " mismatching elements)";
}

// ---- convolution cases --------------------------------------------------------------------------------

enum class Residual { kNone, kInt8, kFloat };

struct EpilogueSpec {
  bool bias = false;
  Residual residual = Residual::kNone;
  ActivationParams activation;
  bool output_int8 = true;
  bool rounded = false;  // round after the bias (and after the residual add, if any): a Q/DQ model's pairs
};

ActivationParams activation(Activation kind, float alpha = 0.0f, float beta = 0.0f) {
  ActivationParams a;
  a.kind = kind;
  a.alpha = alpha;
  a.beta = beta;
  return a;
}

// Alternating int8 / float outputs, so any three consecutive specs hold both.
std::vector<EpilogueSpec> epilogue_specs() {
  return {
      {false, Residual::kNone, activation(Activation::kNone), true},
      {true, Residual::kFloat, activation(Activation::kLeakyRelu, 0.1f), false},
      {true, Residual::kInt8, activation(Activation::kRelu), true},
      {false, Residual::kInt8, activation(Activation::kRelu), false},
      {true, Residual::kFloat, activation(Activation::kClip, 0.0f, 6.0f), true},
      {true, Residual::kNone, activation(Activation::kNone), false},
      {true, Residual::kInt8, activation(Activation::kRelu), true, true},
      {false, Residual::kFloat, activation(Activation::kClip, 0.0f, 6.0f), false, true},
      {true, Residual::kNone, activation(Activation::kXSigmoid), true},  // SiLU: YOLOv8's, EfficientNet's
      {true, Residual::kInt8, activation(Activation::kXSigmoid), false},
  };
}

struct ConvCase {
  int id = 0;
  Conv2dShape shape;
  EpilogueSpec epilogue;
  uint32_t seed = 0;
  bool ties = false;  // small data and power-of-two scales (see the header comment)
};

const char* to_string(Residual r) {
  switch (r) {
    case Residual::kNone: return "none";
    case Residual::kInt8: return "int8";
    case Residual::kFloat: return "float";
  }
  return "?";
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::kNone: return "none";
    case Activation::kRelu: return "relu";
    case Activation::kClip: return "clip";
    case Activation::kLeakyRelu: return "leaky";
    case Activation::kSigmoid: return "sigmoid";
    case Activation::kHardSigmoid: return "hardsigmoid";
    case Activation::kHardSwish: return "hardswish";
    case Activation::kXSigmoid: return "xsigmoid";
    case Activation::kXHardSigmoid: return "xhardsigmoid";
    case Activation::kGelu: return "gelu";
    case Activation::kXClipDiv: return "xclipdiv";
  }
  return "?";
}

std::string case_id(const ConvCase& cc, const char* tactic) {
  const Conv2dShape& s = cc.shape;
  const EpilogueSpec& e = cc.epilogue;
  std::ostringstream id;
  id << "case " << cc.id << " tactic=" << tactic << " n=" << s.n << " c=" << s.c << " h=" << s.h << " w=" << s.w
     << " k=" << s.k << " oh=" << s.oh << " ow=" << s.ow << " r=" << s.r << " s=" << s.s << " stride=" << s.stride_h
     << "x" << s.stride_w << " pad=" << s.pad_top << "," << s.pad_left << " dilation=" << s.dilation_h << "x"
     << s.dilation_w << " groups=" << s.groups << " bias=" << e.bias << " residual=" << to_string(e.residual)
     << " act=" << activation_name(e.activation.kind) << " out=" << (e.output_int8 ? "int8" : "float")
     << " rounded=" << e.rounded << " ties=" << cc.ties << " seed=" << cc.seed;
  return id.str();
}

// Symmetric padding; OH, OW as ONNX Conv computes them.
Conv2dShape conv_shape(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t r, int64_t s,
                       int64_t stride = 1, int64_t pad = 0, int64_t dilation = 1, int64_t groups = 1) {
  Conv2dShape shape;
  shape.n = n;
  shape.c = c;
  shape.h = h;
  shape.w = w;
  shape.k = k;
  shape.r = r;
  shape.s = s;
  shape.stride_h = shape.stride_w = stride;
  shape.pad_top = shape.pad_left = pad;
  shape.dilation_h = shape.dilation_w = dilation;
  shape.groups = groups;
  shape.oh = kernels::window_output_extent(h, r, stride, pad, pad, dilation, false);
  shape.ow = kernels::window_output_extent(w, s, stride, pad, pad, dilation, false);
  return shape;
}

// Every axis its own stride, dilation and (asymmetric) padding.
Conv2dShape asymmetric_shape() {
  Conv2dShape s = conv_shape(2, 6, 9, 11, 10, 1, 3);
  s.stride_h = 1;
  s.stride_w = 3;
  s.pad_top = 0;
  s.pad_left = 2;
  s.dilation_h = 2;
  s.dilation_w = 1;
  s.oh = kernels::window_output_extent(s.h, s.r, s.stride_h, s.pad_top, 1, s.dilation_h, false);
  s.ow = kernels::window_output_extent(s.w, s.s, s.stride_w, s.pad_left, 0, s.dilation_w, false);
  return s;
}

std::vector<Conv2dShape> chosen_shapes() {
  return {
      conv_shape(1, 8, 5, 5, 8, 1, 1),                 // 1x1
      conv_shape(1, 3, 9, 9, 5, 3, 3, 1, 1),           // odd channels, C < 4
      conv_shape(2, 16, 14, 14, 32, 3, 3, 2, 1),       // stride 2
      conv_shape(2, 16, 20, 20, 16, 3, 3, 1, 1),       // YOLOv8's bottleneck: two K slices, 16 filters
      conv_shape(3, 32, 10, 10, 48, 1, 1),             // one K slice, 48 filters
      conv_shape(1, 7, 11, 13, 9, 5, 5, 1, 2),         // 5x5, odd C and K
      conv_shape(1, 3, 23, 23, 16, 7, 7, 2, 3),        // 7x7 stem
      conv_shape(2, 3, 40, 40, 16, 3, 3, 2, 1),        // YOLOv8's stem: 3x3, stride 2, 16 filters
      conv_shape(2, 3, 30, 30, 32, 3, 3, 2, 1),        // EfficientNet's and MobileNetV2's: 32 filters
      conv_shape(1, 4, 12, 12, 8, 5, 5, 1, 2),         // one-word pixels, 5x5
      conv_shape(1, 12, 10, 10, 20, 3, 3, 1, 2, 2),    // dilation 2
      conv_shape(2, 32, 9, 9, 32, 3, 3, 1, 1, 1, 32),  // depthwise
      conv_shape(1, 7, 10, 10, 7, 3, 3, 2, 1, 1, 7),   // depthwise, odd C, stride 2
      conv_shape(1, 8, 6, 6, 16, 3, 3, 1, 1, 1, 8),    // depthwise with multiplier 2
      conv_shape(2, 144, 9, 11, 144, 5, 5, 2, 2, 1, 144),  // depthwise 5x5, 16-channel vectors
      conv_shape(4, 64, 20, 20, 64, 3, 3, 1, 1, 1, 64),    // depthwise, 25 blocks of 64 pixels
      conv_shape(2, 48, 11, 11, 48, 7, 7, 1, 3, 1, 48),    // depthwise 7x7, 16-channel vectors (generic taps)
      conv_shape(1, 20, 9, 9, 20, 3, 3, 1, 2, 2, 20),      // depthwise, dilation 2
      conv_shape(1, 1032, 3, 3, 1032, 7, 7, 1, 3, 1, 1032),  // depthwise 7x7, 258 vectors of 4: slices of 3
      conv_shape(1, 4, 16, 16, 4, 15, 15, 1, 7, 1, 4),      // depthwise 15x15: a slice's filters over 48 KB (direct)
      conv_shape(1, 6, 8, 8, 10, 3, 3, 1, 1, 1, 2),    // groups 2, 3 channels per group
      conv_shape(1, 32, 8, 8, 64, 3, 3, 1, 1, 1, 4),   // groups 4, 8 channels and 16 filters per group
      conv_shape(1, 64, 6, 6, 96, 1, 1, 1, 0, 1, 2),   // groups 2, 48 filters per group (tiled groups)
      conv_shape(33, 5, 7, 7, 13, 3, 3, 3, 1),         // batch 33, stride 3
      conv_shape(64, 512, 1, 1, 96, 1, 1),             // GEMM-shaped
      conv_shape(33, 37, 1, 1, 19, 1, 1),              // odd GEMM
      conv_shape(2, 64, 17, 17, 130, 3, 3, 1, 1),      // several pixel and channel tiles, partial both
      conv_shape(1, 20, 4, 4, 3, 3, 3, 3, 3),          // windows mostly in the padding
      conv_shape(3, 4, 1, 9, 6, 1, 5, 1, 2),           // 1-D (H = 1)
      asymmetric_shape(),
  };
}

// Random shapes from `seed`: groups 1, 2, 4 or depthwise, odd and word-aligned channel counts,
// kernels 1/3/5, strides 1..3, dilation 1..2, padding up to the kernel's half.
std::vector<Conv2dShape> random_shapes(int count, uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::vector<Conv2dShape> shapes;
  while (static_cast<int>(shapes.size()) < count) {
    const int kind = pick(0, 5);
    const int64_t groups = kind <= 2 ? 1 : (kind == 3 ? 2 : (kind == 4 ? 4 : pick(1, 24)));
    const bool depthwise = kind == 5;
    const int64_t c_per_group = depthwise ? 1 : (pick(0, 1) ? pick(1, 9) : 4 * pick(1, 6));
    const int64_t k_per_group = depthwise ? pick(1, 2) : pick(1, 40);
    const int64_t r = 2 * pick(0, 2) + 1;
    const int64_t s = pick(0, 3) == 0 ? 1 : r;
    Conv2dShape shape = conv_shape(pick(1, 3), c_per_group * groups, pick(1, 15), pick(1, 15), k_per_group * groups, r,
                                   s, pick(1, 3), pick(0, static_cast<int>(r / 2)), pick(1, 2), groups);
    if (shape.oh >= 1 && shape.ow >= 1) shapes.push_back(shape);
  }
  return shapes;
}

// The host data of one case, NCHW / KCRS, and the reference outputs.
struct ConvData {
  std::vector<int8_t> x, w, residual_int8;
  std::vector<float> combined_scale, bias, residual_f32;
  kernels::Int8ConvEpilogue epilogue;  // host pointers into the vectors above
  std::vector<int8_t> want_int8;       // NCHW
  std::vector<float> want_f32;         // NCHW
  int64_t ties = 0;                    // reference outputs y with y / output_scale = k + 0.5
};

std::vector<int8_t> random_int8(size_t count, int lo, int hi, std::mt19937& rng) {
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<int8_t> v(count);
  for (int8_t& q : v) q = static_cast<int8_t>(dist(rng));
  return v;
}

// Half-integers in [-limit, limit] (exact, and they keep the tie cases' sums on the half grid).
std::vector<float> random_halves(size_t count, int limit, std::mt19937& rng) {
  std::uniform_int_distribution<int> dist(-2 * limit, 2 * limit);
  std::vector<float> v(count);
  for (float& f : v) f = 0.5f * static_cast<float>(dist(rng));
  return v;
}

std::vector<float> random_floats(size_t count, float lo, float hi, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(count);
  for (float& f : v) f = dist(rng);
  return v;
}

int64_t count_ties(const std::vector<float>& y, float output_scale) {
  int64_t ties = 0;
  for (float v : y) {
    const float q = v / output_scale;
    if (std::fabs(q) < 128.0f && q - std::floor(q) == 0.5f) ++ties;
  }
  return ties;
}

ConvData make_conv_data(const ConvCase& cc) {
  const Conv2dShape& s = cc.shape;
  std::mt19937 rng(cc.seed);
  ConvData d;
  const int data_limit = cc.ties ? 3 : 127;
  d.x = random_int8(static_cast<size_t>(s.n * s.c * s.h * s.w), -data_limit - (cc.ties ? 0 : 1), data_limit, rng);
  d.w = random_int8(static_cast<size_t>(s.k * s.c_per_group() * s.r * s.s), -data_limit - (cc.ties ? 0 : 1),
                    data_limit, rng);
  const size_t outputs = static_cast<size_t>(s.n * s.k * s.oh * s.ow);
  const float input_scale = 0.02f;
  for (int64_t k = 0; k < s.k; ++k) {
    // combined_scale = input_scale * weight_scale[k], one float multiply (qscheme.h); in the tie cases
    // a power of two, so float(acc) * scale is exact.
    const float weight_scale = std::uniform_real_distribution<float>(0.001f, 0.01f)(rng);
    d.combined_scale.push_back(cc.ties ? std::ldexp(1.0f, -2 - static_cast<int>(k % 3)) : input_scale * weight_scale);
  }
  kernels::Int8ConvEpilogue& e = d.epilogue;
  e.combined_scale = d.combined_scale.data();
  if (cc.epilogue.bias) {
    d.bias = cc.ties ? random_halves(static_cast<size_t>(s.k), 4, rng) : random_floats(static_cast<size_t>(s.k), -5, 5, rng);
    e.bias = d.bias.data();
  }
  switch (cc.epilogue.residual) {
    case Residual::kNone: break;
    case Residual::kInt8:
      d.residual_int8 = random_int8(outputs, cc.ties ? -8 : -128, cc.ties ? 8 : 127, rng);
      e.residual_int8 = d.residual_int8.data();
      e.residual_scale = cc.ties ? 0.5f : 0.04f;
      break;
    case Residual::kFloat:
      d.residual_f32 = cc.ties ? random_halves(outputs, 4, rng) : random_floats(outputs, -5, 5, rng);
      e.residual_f32 = d.residual_f32.data();
      break;
  }
  e.activation = cc.epilogue.activation;
  if (cc.ties && e.activation.kind == Activation::kLeakyRelu) e.activation.alpha = 0.125f;

  // The float result first: the output of a float case, and what an int8 output's scale is chosen
  // from (amax 80% of the largest |y|, so the top values saturate) and its ties are counted in.
  d.want_f32.resize(outputs);
  e.output_int8 = false;
  kernels::conv2d_int8_ref(s, d.x.data(), d.w.data(), e, d.want_f32.data());
  if (cc.epilogue.rounded) {
    // Rounding steps from the unrounded result's largest |y|: 20 steps up to it after the bias, and
    // steps of amax / 200 after the residual, so values above 0.64 amax saturate there; in the tie
    // cases 0.25 and 0.5, which the exact half-integer values often hit halfway.
    float amax = 0.0f;
    for (float v : d.want_f32) amax = std::max(amax, std::fabs(v));
    amax = amax > 0.0f ? amax : 1.0f;
    e.rounding.after_bias = cc.ties ? 0.25f : amax / 20.0f;
    if (cc.epilogue.residual != Residual::kNone) e.rounding.after_residual = cc.ties ? 0.5f : amax / 200.0f;
    kernels::conv2d_int8_ref(s, d.x.data(), d.w.data(), e, d.want_f32.data());
  }
  if (cc.epilogue.output_int8) {
    float amax = 0.0f;
    for (float v : d.want_f32) amax = std::max(amax, std::fabs(v));
    e.output_int8 = true;
    e.output_scale = cc.ties ? 1.0f : quant::scale_from_amax(0.8f * amax);
    d.ties = count_ties(d.want_f32, e.output_scale);
    d.want_int8.resize(outputs);
    kernels::conv2d_int8_ref(s, d.x.data(), d.w.data(), e, d.want_int8.data());
  }
  return d;
}

// Cases run and skipped (not supported) per tactic, printed at the end of each test.
struct TacticTally {
  std::map<Int8Tactic, int> run, skipped;

  void print(const std::string& title) const {
    std::cout << title << "\n  tactic        run  skipped (not supported)\n";
    for (Int8Tactic t : kernels::kAllInt8Tactics) {
      const auto r = run.find(t), sk = skipped.find(t);
      std::cout << "  " << std::left << std::setw(12) << kernels::to_string(t) << std::right << std::setw(5)
                << (r == run.end() ? 0 : r->second) << std::setw(9) << (sk == skipped.end() ? 0 : sk->second)
                << "\n";
    }
  }
};

// The device copies of one case's inputs, in the CUDA layouts.
struct DeviceConvInputs {
  DeviceArray<int8_t> x, w, residual_int8;
  DeviceArray<float> combined_scale, bias, residual_f32;

  DeviceConvInputs(const Conv2dShape& s, const ConvData& d)
      : x(kernels::nchw_to_nhwc_padded(d.x.data(), s.n, s.c, s.h, s.w)),
        w(kernels::kcrs_to_krsc_padded(d.w.data(), s.k, s.c_per_group(), s.r, s.s)),
        residual_int8(d.residual_int8.empty() ? std::vector<int8_t>()
                                              : kernels::nchw_to_nhwc_padded(d.residual_int8.data(), s.n, s.k, s.oh,
                                                                             s.ow)),
        combined_scale(d.combined_scale),
        bias(d.bias),
        residual_f32(d.residual_f32) {}

  kernels::Int8ConvEpilogue epilogue(const kernels::Int8ConvEpilogue& host) const {
    kernels::Int8ConvEpilogue e = host;
    e.combined_scale = combined_scale.get();
    e.bias = host.bias ? bias.get() : nullptr;
    e.residual_int8 = host.residual_int8 ? residual_int8.get() : nullptr;
    e.residual_f32 = host.residual_f32 ? residual_f32.get() : nullptr;
    return e;
  }
};

// Runs one tactic on the case's device inputs and returns "" or what differs from the reference.
std::string run_and_compare(Int8Tactic tactic, const ConvCase& cc, const ConvData& d, const DeviceConvInputs& in,
                            cublasLtHandle_t lt, const Stream& stream) {
  const Conv2dShape& s = cc.shape;
  const bool int8_out = cc.epilogue.output_int8;
  const size_t out_bytes =
      int8_out ? static_cast<size_t>(s.n * s.oh * s.ow * padded_channels(s.k)) : d.want_f32.size() * sizeof(float);
  DeviceArray<uint8_t> out(out_bytes);
  DeviceArray<uint8_t> workspace(kernels::conv_int8_cuda_workspace_bytes(tactic, s));
  out.poison(kPoison, stream.get());
  kernels::Int8ConvCudaArgs args;
  args.shape = s;
  args.x = in.x.get();
  args.w = in.w.get();
  args.epilogue = in.epilogue(d.epilogue);
  args.out = out.get();
  args.workspace = workspace.get();
  kernels::conv_int8_cuda(tactic, args, lt, stream.get());
  stream.sync();
  const std::vector<uint8_t> bytes = out.download();
  if (int8_out) {
    std::vector<int8_t> got(bytes.size());
    std::memcpy(got.data(), bytes.data(), bytes.size());
    return compare_nhwcp_int8(got, d.want_int8, s.n, s.k, s.oh, s.ow);
  }
  std::vector<float> got(d.want_f32.size());
  std::memcpy(got.data(), bytes.data(), bytes.size());
  return compare_float_bits(got, d.want_f32);
}

// Runs every case through every tactic that supports it; returns the tie count over the int8 cases.
int64_t run_conv_cases(const std::vector<ConvCase>& cases, const std::string& title) {
  Stream stream;
  LtHandle lt;
  TacticTally tally;
  int64_t ties = 0;
  for (const ConvCase& cc : cases) {
    const ConvData d = make_conv_data(cc);
    ties += d.ties;
    const DeviceConvInputs in(cc.shape, d);
    for (Int8Tactic tactic : kernels::kAllInt8Tactics) {
      if (!kernels::conv_int8_cuda_supports(tactic, cc.shape)) {
        ++tally.skipped[tactic];
        continue;
      }
      ++tally.run[tactic];
      std::string mismatch;
      try {
        mismatch = run_and_compare(tactic, cc, d, in, lt.get(), stream);
      } catch (const std::exception& error) {
        mismatch = std::string("threw: ") + error.what();
      }
      EXPECT_EQ(mismatch, "") << case_id(cc, kernels::to_string(tactic));
    }
  }
  tally.print(title + ": " + std::to_string(cases.size()) + " cases");
  return ties;
}

// Each shape with `specs_per_shape` consecutive epilogue specs, rotating with the shape index (three
// are enough for every shape to meet an int8 and a float output).
std::vector<ConvCase> cases_for(const std::vector<Conv2dShape>& shapes, int first_id, uint32_t seed, bool ties,
                                size_t specs_per_shape = 3) {
  const std::vector<EpilogueSpec> specs = epilogue_specs();
  std::vector<ConvCase> cases;
  for (size_t i = 0; i < shapes.size(); ++i) {
    for (size_t j = 0; j < specs_per_shape; ++j) {
      ConvCase cc;
      cc.id = first_id + static_cast<int>(cases.size());
      cc.shape = shapes[i];
      cc.epilogue = specs[(i + j) % specs.size()];
      cc.seed = seed + static_cast<uint32_t>(cc.id);
      cc.ties = ties;
      cases.push_back(cc);
    }
  }
  return cases;
}

TEST(Int8ConvCuda, ChosenShapesEveryTacticEqualsReferenceBitForBit) {
  OCTET_SKIP_WITHOUT_CUDA();
  run_conv_cases(cases_for(chosen_shapes(), 0, 1000, false), "INT8 conv, chosen shapes");
}

TEST(Int8ConvCuda, RandomShapesEveryTacticEqualsReferenceBitForBit) {
  OCTET_SKIP_WITHOUT_CUDA();
  run_conv_cases(cases_for(random_shapes(40, 20240917), 1000, 5000, false), "INT8 conv, random shapes");
}

TEST(Int8ConvCuda, TiesRoundHalfToEvenLikeReference) {
  OCTET_SKIP_WITHOUT_CUDA();
  const std::vector<Conv2dShape> shapes = {
      conv_shape(2, 3, 8, 8, 6, 3, 3, 1, 1),
      conv_shape(1, 16, 6, 6, 70, 1, 1),
      conv_shape(1, 8, 7, 7, 8, 3, 3, 1, 1, 1, 8),
      conv_shape(16, 24, 1, 1, 12, 1, 1),
  };
  const std::vector<ConvCase> cases = cases_for(shapes, 2000, 9000, true, epilogue_specs().size());
  const int64_t ties = run_conv_cases(cases, "INT8 conv, tie values");
  EXPECT_GT(ties, 0) << "the tie cases produced no y / output_scale = k + 0.5";
  std::cout << "  reference outputs on a tie: " << ties << "\n";
}

// ---- the other INT8 ops ----------------------------------------------------------------------------------

TEST(Int8OpsCuda, QuantizeNchwToNhwcpEqualsReference) {
  OCTET_SKIP_WITHOUT_CUDA();
  const float scale = 0.25f;  // a power of two: (k + 0.5) * scale is exact, so x / scale is a tie
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> specials = {0.125f, -0.125f, 0.375f, -0.375f, 0.625f, 31.875f, -31.875f, 31.625f,  // ties
                                 -32.125f, 32.125f, 1e6f, -1e6f, inf, -inf,                         // saturation
                                 std::numeric_limits<float>::quiet_NaN(), -0.0f, 0.0f, 1e-40f, -1e-40f};
  // {2, 3, 5, 9}: the 3-channel image of every network's input, one word per pixel.
  const std::vector<std::array<int64_t, 4>> shapes = {{2, 5, 3, 7}, {3, 8, 1, 1}, {1, 1, 4, 4}, {2, 3, 5, 9}};
  for (const auto& [n, c, h, w] : shapes) {
    std::mt19937 rng(static_cast<uint32_t>(n * 1000 + c));
    std::vector<float> x = random_floats(static_cast<size_t>(n * c * h * w), -40.0f, 40.0f, rng);
    for (size_t i = 0; i < x.size(); i += 2) x[i] = specials[(i / 2) % specials.size()];
    std::vector<int8_t> want(x.size());
    kernels::quantize_ref(x.data(), static_cast<int64_t>(x.size()), scale, want.data());
    Stream stream;
    DeviceArray<float> x_dev(x);
    DeviceArray<int8_t> y_dev(static_cast<size_t>(n * h * w * padded_channels(c)));
    y_dev.poison(kPoison, stream.get());
    kernels::quantize_nchw_to_nhwcp_cuda(x_dev.get(), n, c, h, w, scale, y_dev.get(), stream.get());
    stream.sync();
    EXPECT_EQ(compare_nhwcp_int8(y_dev.download(), want, n, c, h, w), "")
        << "quantize n=" << n << " c=" << c << " h=" << h << " w=" << w;
  }
}

TEST(Int8OpsCuda, DequantizeNhwcpToNchwEqualsReference) {
  OCTET_SKIP_WITHOUT_CUDA();
  for (const auto& [n, c, h, w] : std::vector<std::array<int64_t, 4>>{{2, 5, 3, 7}, {3, 8, 1, 1}, {1, 13, 2, 3}}) {
    std::mt19937 rng(static_cast<uint32_t>(n * 1000 + c));
    std::vector<int8_t> x = random_int8(static_cast<size_t>(n * c * h * w), -128, 127, rng);
    x[0] = -128;
    x[1] = 127;
    const float scale = 0.0371f;
    std::vector<float> want(x.size());
    kernels::dequantize_ref(x.data(), static_cast<int64_t>(x.size()), scale, want.data());
    Stream stream;
    DeviceArray<int8_t> x_dev(kernels::nchw_to_nhwc_padded(x.data(), n, c, h, w));
    DeviceArray<float> y_dev(want.size());
    y_dev.poison(kPoison, stream.get());
    kernels::dequantize_nhwcp_to_nchw_cuda(x_dev.get(), n, c, h, w, scale, y_dev.get(), stream.get());
    stream.sync();
    EXPECT_EQ(compare_float_bits(y_dev.download(), want), "")
        << "dequantize n=" << n << " c=" << c << " h=" << h << " w=" << w;
  }
}

Pool2dShape pool_shape(int64_t n, int64_t c, int64_t h, int64_t w, int64_t kernel, int64_t stride, int64_t pad_begin,
                       int64_t pad_end, int64_t dilation, bool count_include_pad, bool ceil_mode = false) {
  Pool2dShape p;
  p.n = n;
  p.c = c;
  p.h = h;
  p.w = w;
  p.kernel_h = p.kernel_w = kernel;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_left = pad_begin;
  p.pad_bottom = p.pad_right = pad_end;
  p.dilation_h = p.dilation_w = dilation;
  p.count_include_pad = count_include_pad;
  p.oh = kernels::window_output_extent(h, kernel, stride, pad_begin, pad_end, dilation, ceil_mode);
  p.ow = kernels::window_output_extent(w, kernel, stride, pad_begin, pad_end, dilation, ceil_mode);
  return p;
}

std::string describe(const Pool2dShape& p) {
  std::ostringstream out;
  out << "n=" << p.n << " c=" << p.c << " h=" << p.h << " w=" << p.w << " oh=" << p.oh << " ow=" << p.ow
      << " kernel=" << p.kernel_h << " stride=" << p.stride_h << " pad=" << p.pad_top << "," << p.pad_bottom
      << " dilation=" << p.dilation_h << " count_include_pad=" << p.count_include_pad;
  return out.str();
}

std::vector<Pool2dShape> pool_shapes() {
  std::vector<Pool2dShape> shapes;
  for (bool include_pad : {false, true}) {
    shapes.push_back(pool_shape(2, 5, 9, 9, 3, 2, 1, 1, 1, include_pad));          // ResNet stem pool
    shapes.push_back(pool_shape(1, 8, 8, 8, 2, 2, 0, 0, 1, include_pad));          // 2x2 (ties at scale 1)
    shapes.push_back(pool_shape(3, 7, 10, 7, 3, 1, 2, 2, 2, include_pad));         // dilation 2
    shapes.push_back(pool_shape(1, 3, 7, 7, 3, 2, 1, 1, 1, include_pad, true));    // ceil_mode overhang
    shapes.push_back(pool_shape(1, 4, 5, 5, 2, 2, 3, 3, 1, include_pad));          // windows wholly in padding
  }
  return shapes;
}

// Runs a pool on the device over x (NCHW on the host) and compares with `want` (NCHW).
template <typename Launch>
std::string run_pool(const Pool2dShape& p, const std::vector<int8_t>& x, const std::vector<int8_t>& want,
                     Launch&& launch) {
  Stream stream;
  DeviceArray<int8_t> x_dev(kernels::nchw_to_nhwc_padded(x.data(), p.n, p.c, p.h, p.w));
  DeviceArray<int8_t> y_dev(static_cast<size_t>(p.n * p.oh * p.ow * padded_channels(p.c)));
  y_dev.poison(kPoison, stream.get());
  launch(x_dev.get(), y_dev.get(), stream.get());
  stream.sync();
  return compare_nhwcp_int8(y_dev.download(), want, p.n, p.c, p.oh, p.ow);
}

TEST(Int8OpsCuda, MaxPoolEqualsReference) {
  OCTET_SKIP_WITHOUT_CUDA();
  for (const Pool2dShape& p : pool_shapes()) {
    std::mt19937 rng(static_cast<uint32_t>(p.h * 100 + p.c));
    const std::vector<int8_t> x = random_int8(static_cast<size_t>(p.n * p.c * p.h * p.w), -128, 127, rng);
    std::vector<int8_t> want(static_cast<size_t>(p.n * p.c * p.oh * p.ow));
    kernels::maxpool2d_int8_ref(p, x.data(), want.data());
    EXPECT_EQ(run_pool(p, x, want,
                       [&](const int8_t* xd, int8_t* yd, cudaStream_t s) { kernels::maxpool2d_int8_cuda(p, xd, yd, s); }),
              "")
        << "maxpool " << describe(p);
  }
}

TEST(Int8OpsCuda, AveragePoolEqualsReference) {
  OCTET_SKIP_WITHOUT_CUDA();
  // Equal scales of 1 give sums / count with ties; unequal scales requantize.
  for (const auto& [input_scale, output_scale] : std::vector<std::pair<float, float>>{{1.0f, 1.0f}, {0.05f, 0.03f}}) {
    for (const Pool2dShape& p : pool_shapes()) {
      std::mt19937 rng(static_cast<uint32_t>(p.h * 100 + p.c));
      const std::vector<int8_t> x = random_int8(static_cast<size_t>(p.n * p.c * p.h * p.w), -128, 127, rng);
      std::vector<int8_t> want(static_cast<size_t>(p.n * p.c * p.oh * p.ow));
      kernels::avgpool2d_int8_ref(p, x.data(), input_scale, output_scale, want.data());
      EXPECT_EQ(run_pool(p, x, want,
                         [&, in_s = input_scale, out_s = output_scale](const int8_t* xd, int8_t* yd, cudaStream_t s) {
                           kernels::avgpool2d_int8_cuda(p, xd, in_s, out_s, yd, s);
                         }),
                "")
          << "avgpool " << describe(p) << " input_scale=" << input_scale << " output_scale=" << output_scale;
    }
  }
}

TEST(Int8OpsCuda, GlobalAveragePoolEqualsReference) {
  OCTET_SKIP_WITHOUT_CUDA();
  struct Case {
    int64_t n, c, h, w;
    float input_scale, output_scale;
  };
  for (const Case& k : std::vector<Case>{{3, 7, 5, 3, 0.05f, 0.02f}, {2, 8, 2, 2, 1.0f, 1.0f}, {4, 13, 7, 7, 0.1f, 0.1f},
                                         {1, 2, 1, 1, 0.5f, 0.25f},
                                         // several 32-channel blocks, a plane not a multiple of 8 rows
                                         {2, 70, 33, 31, 0.03f, 0.01f}, {1, 36, 112, 112, 0.02f, 0.004f}}) {
    std::mt19937 rng(static_cast<uint32_t>(k.h * 100 + k.c));
    const std::vector<int8_t> x = random_int8(static_cast<size_t>(k.n * k.c * k.h * k.w), -128, 127, rng);
    std::vector<int8_t> want(static_cast<size_t>(k.n * k.c));
    kernels::global_avgpool_int8_ref(x.data(), k.n, k.c, k.h, k.w, k.input_scale, k.output_scale, want.data());
    Pool2dShape p;  // only for run_pool's sizes: [N, C, H, W] -> [N, C, 1, 1]
    p.n = k.n;
    p.c = k.c;
    p.h = k.h;
    p.w = k.w;
    p.oh = p.ow = 1;
    EXPECT_EQ(run_pool(p, x, want,
                       [&](const int8_t* xd, int8_t* yd, cudaStream_t s) {
                         kernels::global_avgpool_int8_cuda(xd, k.n, k.c, k.h, k.w, k.input_scale, k.output_scale, yd,
                                                           s);
                       }),
              "")
        << "global avgpool n=" << k.n << " c=" << k.c << " h=" << k.h << " w=" << k.w;
  }
}

// A squeeze-excitation product: one gate per (image, channel) or one per channel for every image;
// gates in (0, 1) as a Sigmoid writes them, with ties for the output scale among the products.
TEST(Int8OpsCuda, ChannelScaleEqualsReference) {
  OCTET_SKIP_WITHOUT_CUDA();
  struct Case {
    int64_t n, c, h, w;
    bool gate_batched;
  };
  for (const Case& k : std::vector<Case>{{2, 7, 5, 3, true}, {3, 16, 4, 4, false}, {2, 36, 9, 11, true}}) {
    std::mt19937 rng(static_cast<uint32_t>(k.c * 10 + k.h));
    const std::vector<int8_t> x = random_int8(static_cast<size_t>(k.n * k.c * k.h * k.w), -128, 127, rng);
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    std::vector<float> gate(static_cast<size_t>((k.gate_batched ? k.n : 1) * k.c));
    for (size_t i = 0; i < gate.size(); ++i) gate[i] = i % 5 == 0 ? 0.5f : unit(rng);  // 0.5 * odd q / 1: ties
    for (const auto& [input_scale, output_scale] : std::vector<std::pair<float, float>>{{1.0f, 1.0f}, {0.04f, 0.03f}}) {
      std::vector<int8_t> want(x.size());
      kernels::channel_scale_int8_ref(x.data(), gate.data(), k.gate_batched, k.n, k.c, k.h, k.w, input_scale,
                                      output_scale, want.data());
      Stream stream;
      DeviceArray<int8_t> x_dev(kernels::nchw_to_nhwc_padded(x.data(), k.n, k.c, k.h, k.w));
      DeviceArray<float> gate_dev(gate);
      DeviceArray<int8_t> y_dev(static_cast<size_t>(k.n * k.h * k.w * padded_channels(k.c)));
      y_dev.poison(kPoison, stream.get());
      kernels::channel_scale_int8_cuda(x_dev.get(), gate_dev.get(), k.gate_batched, k.n, k.c, k.h, k.w, input_scale,
                                       output_scale, y_dev.get(), stream.get());
      stream.sync();
      EXPECT_EQ(compare_nhwcp_int8(y_dev.download(), want, k.n, k.c, k.h, k.w), "")
          << "channel scale n=" << k.n << " c=" << k.c << " h=" << k.h << " w=" << k.w
          << " gate_batched=" << k.gate_batched << " input_scale=" << input_scale << " output_scale=" << output_scale;
    }
  }
}

// The kernel copies 16-byte chunks when every channel count is a multiple of 16, words when of 4,
// bytes otherwise, at most 8 inputs a launch: a case for each, with unequal scales among them.
TEST(Int8OpsCuda, ConcatWithUnequalScalesEqualsReference) {
  OCTET_SKIP_WITHOUT_CUDA();
  const int64_t n = 2, h = 3, w = 5;
  const float output_scale = 0.05f;
  const std::vector<float> scale_cycle = {0.1f, 0.025f, 0.05f, 0.2f};  // the third equals the output's
  const std::vector<std::vector<int64_t>> cases = {
      {3, 8, 5, 1}, {16, 32, 16}, {4, 8, 12, 4}, {4, 4, 4, 4, 4, 4, 4, 4, 4, 8},
      {16, 16, 16, 16, 16, 16, 16, 16, 16, 2}};
  std::mt19937 rng(77);
  Stream stream;
  for (const std::vector<int64_t>& channels : cases) {
    std::vector<float> scales;
    std::vector<std::vector<int8_t>> x;
    std::vector<const int8_t*> x_ptrs;
    std::vector<std::unique_ptr<DeviceArray<int8_t>>> x_dev;
    std::vector<const int8_t*> x_dev_ptrs;
    int64_t total = 0;
    for (int64_t c : channels) {
      scales.push_back(scale_cycle[scales.size() % scale_cycle.size()]);
      x.push_back(random_int8(static_cast<size_t>(n * c * h * w), -128, 127, rng));
      x_ptrs.push_back(x.back().data());
      x_dev.push_back(std::make_unique<DeviceArray<int8_t>>(kernels::nchw_to_nhwc_padded(x.back().data(), n, c, h, w)));
      x_dev_ptrs.push_back(x_dev.back()->get());
      total += c;
    }
    std::vector<int8_t> want(static_cast<size_t>(n * total * h * w));
    kernels::concat_int8_ref(x_ptrs, channels, scales, n, h, w, output_scale, want.data());
    DeviceArray<int8_t> y_dev(static_cast<size_t>(n * h * w * padded_channels(total)));
    y_dev.poison(kPoison, stream.get());
    kernels::concat_int8_cuda(x_dev_ptrs, channels, scales, n, h, w, output_scale, y_dev.get(), stream.get());
    stream.sync();
    EXPECT_EQ(compare_nhwcp_int8(y_dev.download(), want, n, total, h, w), "")
        << "concat of channels " << octet::to_string(channels);
  }
}

// The Add of two int8 tensors, elementwise over NHWCp bytes (pad channels 0 + 0 stay 0): 16 bytes a
// thread when the count allows, byte by byte otherwise; scale pairs whose sums fall on ties
// (0.25 + 0.25 at output scale 1: k + 0.5) and unequal ones.
TEST(Int8OpsCuda, AddEqualsReference) {
  OCTET_SKIP_WITHOUT_CUDA();
  std::mt19937 rng(41);
  Stream stream;
  for (const int64_t count : {int64_t{4096}, int64_t{1000}, int64_t{7}}) {
    for (const auto& [a_scale, b_scale, output_scale] :
         std::vector<std::array<float, 3>>{{0.25f, 0.25f, 1.0f}, {0.1f, 0.025f, 0.07f}, {0.5f, 0.5f, 0.5f}}) {
      const std::vector<int8_t> a = random_int8(static_cast<size_t>(count), -128, 127, rng);
      const std::vector<int8_t> b = random_int8(static_cast<size_t>(count), -128, 127, rng);
      std::vector<int8_t> want(static_cast<size_t>(count));
      kernels::add_int8_ref(a.data(), a_scale, b.data(), b_scale, count, output_scale, want.data());
      DeviceArray<int8_t> a_dev(a), b_dev(b), y_dev(static_cast<size_t>(count));
      y_dev.poison(kPoison, stream.get());
      kernels::add_int8_cuda(a_dev.get(), a_scale, b_dev.get(), b_scale, count, output_scale, y_dev.get(),
                             stream.get());
      stream.sync();
      EXPECT_EQ(y_dev.download(), want) << "add of " << count << " bytes, scales " << a_scale << " + " << b_scale
                                        << " -> " << output_scale;
    }
  }
}

// INT8 data movement on NHWCp: the CPU reference moves NCHW int8 bytes (an INT8 Slice or Split is the
// byte copy of kernels/cpu/data_movement_ref.h), the CUDA kernel NHWCp words with the pad channels 0.
TEST(Int8OpsCuda, WindowEqualsSliceReference) {
  OCTET_SKIP_WITHOUT_CUDA();
  using kernels::SliceAxis;
  const Dims x_dims = {2, 7, 5, 6};
  std::mt19937 rng(31);
  const std::vector<int8_t> x = random_int8(static_cast<size_t>(numel(x_dims)), -128, 127, rng);
  const std::vector<std::vector<SliceAxis>> windows = {
      {{0, 1, 2}, {0, 1, 3}, {0, 1, 5}, {0, 1, 6}},     // Split's first part: channels 0..2
      {{0, 1, 2}, {3, 1, 4}, {0, 1, 5}, {0, 1, 6}},     // its second: channels 3..6, unaligned start
      {{1, 1, 1}, {1, 1, 5}, {1, 2, 2}, {5, -1, 6}},    // batch 1, rows 1 and 3, columns reversed
      {{1, -1, 2}, {4, 1, 1}, {4, -2, 3}, {0, 3, 2}},   // one channel, both steps negative, stride 3
  };
  Stream stream;
  DeviceArray<int8_t> x_dev(kernels::nchw_to_nhwc_padded(x.data(), x_dims[0], x_dims[1], x_dims[2], x_dims[3]));
  for (const std::vector<SliceAxis>& window : windows) {
    const int64_t n = window[0].count, c = window[1].count, h = window[2].count, w = window[3].count;
    std::vector<int8_t> want(static_cast<size_t>(n * c * h * w));
    kernels::slice_ref(x.data(), x_dims, window, 1, want.data());
    DeviceArray<int8_t> y_dev(static_cast<size_t>(n * h * w * padded_channels(c)));
    y_dev.poison(kPoison, stream.get());
    kernels::window_int8_nhwcp_cuda(x_dev.get(), x_dims, window, y_dev.get(), stream.get());
    stream.sync();
    EXPECT_EQ(compare_nhwcp_int8(y_dev.download(), want, n, c, h, w), "")
        << "window from c=" << window[1].start << " count " << c << ", h step " << window[2].step << ", w step "
        << window[3].step;
  }
}

TEST(Int8OpsCuda, ResizeNearestEqualsReference) {
  OCTET_SKIP_WITHOUT_CUDA();
  using kernels::ResizeAxis;
  using kernels::ResizeCoordinate;
  using kernels::ResizeNearest;
  struct Case {
    ResizeCoordinate coordinate;
    ResizeAxis h, w;
  };
  const std::vector<Case> cases = {
      {ResizeCoordinate::kAsymmetric, {4, 8, 2.0f, ResizeNearest::kFloor}, {5, 10, 2.0f, ResizeNearest::kFloor}},
      {ResizeCoordinate::kHalfPixel, {5, 7, 1.4f, ResizeNearest::kRoundPreferFloor},
       {6, 9, 1.5f, ResizeNearest::kRoundPreferCeil}},
      {ResizeCoordinate::kAlignCorners, {8, 3, 0.375f, ResizeNearest::kCeil},
       {7, 7, 1.0f, ResizeNearest::kRoundPreferFloor}},
  };
  Stream stream;
  for (int64_t channels : {3, 8}) {
    for (const Case& k : cases) {
      kernels::ResizeParams p;
      p.mode = kernels::ResizeMode::kNearest;
      p.coordinate = k.coordinate;
      p.h = k.h;
      p.w = k.w;
      const int64_t n = 2;
      std::mt19937 rng(static_cast<uint32_t>(channels * 10 + k.h.out));
      const std::vector<int8_t> x = random_int8(static_cast<size_t>(n * channels * p.h.in * p.w.in), -128, 127, rng);
      std::vector<int8_t> want(static_cast<size_t>(n * channels * p.h.out * p.w.out));
      kernels::resize_nearest_int8_ref(p, n * channels, x.data(), want.data());
      DeviceArray<int8_t> x_dev(kernels::nchw_to_nhwc_padded(x.data(), n, channels, p.h.in, p.w.in));
      DeviceArray<int8_t> y_dev(static_cast<size_t>(n * p.h.out * p.w.out * padded_channels(channels)));
      y_dev.poison(kPoison, stream.get());
      kernels::resize_nearest_int8_nhwcp_cuda(p, n, channels, x_dev.get(), y_dev.get(), stream.get());
      stream.sync();
      EXPECT_EQ(compare_nhwcp_int8(y_dev.download(), want, n, channels, p.h.out, p.w.out), "")
          << "resize " << p.h.in << "x" << p.w.in << " -> " << p.h.out << "x" << p.w.out << ", " << channels
          << " channels";
    }
  }
}

}  // namespace
}  // namespace octet
