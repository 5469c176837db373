// The calibrator: streams a BatchSource through the FP32 engine and gathers, for every tensor an
// INT8 engine may quantize, the statistics and histogram of calibration/histogram.h.
//
// Which tensors: the graph inputs and the outputs of Conv, Gemm, MatMul, the activations
// (Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish), pooling (Max, Average, Global*), Add,
// Concat and BatchNormalization (a Conv folded with its BatchNormalization writes the BN's tensor),
// the registered operators that declare themselves calibrated (engine/op_registry.h), and the last
// node of every activation pattern (SiLU x*Sigmoid(x), x*HardSigmoid(x), the Erf form of GELU,
// x*Clip(x+3,0,6)/6, LayerNorm; engine/pattern_fusion.h): a Conv that takes the fused activation
// over writes that tensor, and every channel scale (a squeeze-excitation product, engine/channel_scale.h),
// which has an INT8 layer. Other Mul and Div outputs (detector decode, attention) are not tapped: no
// INT8 layer reads them. By their ONNX names. The graph runs as
// imported (no fusion), so every such ONNX tensor exists and the cache can be read by TensorRT as
// well as by octet's builder.
//
// Passes: pass 1 collects TensorStats; pass 2 bins |x| over [0, abs-max of pass 1]. Results do not
// depend on batch size or sample order, bit for bit, with every method: the context is always
// created with BackendOptions::batch_invariant = true (whatever options.backend_options says), so
// each sample's activations have the same bits at any batch and position — why: the cache must
// not depend on --batch — and the accumulation is order-free (min/max are exact; counts are
// integers). With single_pass, the
// histogram range grows as TensorRT's does (re-binning by doubling) — provided for comparison only.
// On the CUDA backend the statistics and histograms are computed on the device from the activations
// where they are (kernels/cuda/histogram_cuda.h); only the small per-tensor results come back. The
// CPU path uses kernels/cpu/histogram_ref.h and gives identical counts.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "calibration/histogram.h"
#include "datasets/batch_source.h"
#include "engine/backend.h"

namespace octet {

struct CalibratorOptions {
  BackendKind backend = BackendKind::kCpu;
  BackendOptions backend_options;
  int64_t batch = 32;
  int64_t max_images = 0;    // 0 = the whole source
  bool single_pass = false;
};

struct CalibrationData {
  std::vector<TensorCalibration> tensors;  // in graph order: inputs first, then node outputs
  int64_t images = 0;                      // samples seen (per pass)
  std::string model;                       // the model file, for messages and the saved histograms
};

// (pass, images done in this pass, images per pass)
using CalibrationProgress = std::function<void(int pass, int64_t done, int64_t total)>;

// Names of the tensors the calibrator observes in `graph`, in order.
std::vector<std::string> calibrated_tensor_names(const Graph& graph);

// `graph` as imported (not optimized). Throws Error when the source's samples do not fit the model
// input, naming both.
CalibrationData calibrate(const Graph& graph, BatchSource& source, const CalibratorOptions& options,
                          const CalibrationProgress& progress = {});

}  // namespace octet
