// Tactic choice for INT8 layers (engine/cuda_backend.h choose_int8_tactics).
//
// Each INT8 Conv/Gemm is timed with every allowed tactic that implements its shape, on buffers of the
// layer's sizes filled with random bytes (never zeros: some kernels skip work on zeros), with the
// layer's output type and residual kind, since those change the epilogue's memory traffic. Layers with
// the same shape and epilogue kind are timed once. Timing: kWarmup untimed launches, then kRuns
// launches each between two CUDA events on one stream; the median counts.
#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "engine/cuda_backend.h"
#include "engine/node_validation.h"
#include "kernels/cuda/conv_int8_cuda.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/int8_layout.h"
#include "kernels/int8_tactic_names.h"
#include "kernels/shapes.h"

namespace octet {

namespace {

constexpr int kWarmup = 3;
constexpr int kRuns = 15;

enum class ResidualKind : uint8_t { kNone, kInt8, kFloat };

struct TimingKey {
  Conv2dShape shape;
  bool output_int8;
  ResidualKind residual;
  kernels::Int8Tactic tactic;
  auto tie() const {
    return std::make_tuple(shape.n, shape.c, shape.h, shape.w, shape.k, shape.oh, shape.ow, shape.r, shape.s,
                           shape.stride_h, shape.stride_w, shape.pad_top, shape.pad_left, shape.dilation_h,
                           shape.dilation_w, shape.groups, output_int8, residual, tactic);
  }
  bool operator<(const TimingKey& other) const { return tie() < other.tie(); }
};

DeviceBuffer random_device_bytes(size_t bytes, uint32_t seed, const char* what) {
  DeviceBuffer buffer;
  buffer.allocate(bytes, what);
  std::vector<uint8_t> host(bytes);
  std::mt19937 engine(seed);
  for (uint8_t& b : host) b = static_cast<uint8_t>(engine() % 61 + 1);  // 1..61: small, positive, never 0
  if (bytes != 0) OCTET_CUDA_CHECK(cudaMemcpy(buffer.get(), host.data(), bytes, cudaMemcpyHostToDevice));
  return buffer;
}

class TacticTimer {
 public:
  TacticTimer() {
    OCTET_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    OCTET_CUBLAS_CHECK(cublasLtCreate(&lt_));
    OCTET_CUDA_CHECK(cudaEventCreate(&start_));
    OCTET_CUDA_CHECK(cudaEventCreate(&stop_));
  }
  ~TacticTimer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
    cublasLtDestroy(lt_);
    cudaStreamDestroy(stream_);
  }
  TacticTimer(const TacticTimer&) = delete;
  TacticTimer& operator=(const TacticTimer&) = delete;

  double milliseconds(const TimingKey& key) {
    const auto cached = cache_.find(key);
    if (cached != cache_.end()) return cached->second;
    const Conv2dShape& s = key.shape;
    const size_t x_bytes = static_cast<size_t>(s.n * s.h * s.w * kernels::padded_channels(s.c));
    const size_t w_bytes = static_cast<size_t>(s.k * s.r * s.s * kernels::padded_channels(s.c_per_group()));
    const size_t y_int8 = static_cast<size_t>(s.n * s.oh * s.ow * kernels::padded_channels(s.k));
    const size_t y_float = static_cast<size_t>(s.n * s.k * s.oh * s.ow) * sizeof(float);
    DeviceBuffer x = random_device_bytes(x_bytes, 1, "tactic timing input");
    DeviceBuffer w = random_device_bytes(w_bytes, 2, "tactic timing weights");
    // Float buffers from small positive bytes are tiny positive floats: fine as scales and biases.
    DeviceBuffer scales = random_device_bytes(static_cast<size_t>(s.k) * sizeof(float), 3, "tactic timing scales");
    DeviceBuffer out, residual, workspace;
    out.allocate(key.output_int8 ? y_int8 : y_float, "tactic timing output");
    if (key.residual != ResidualKind::kNone)
      residual = random_device_bytes(key.residual == ResidualKind::kInt8 ? y_int8 : y_float, 4, "tactic timing residual");
    workspace.allocate(kernels::conv_int8_cuda_workspace_bytes(key.tactic, s), "tactic timing workspace");

    kernels::Int8ConvCudaArgs args;
    args.shape = s;
    args.x = reinterpret_cast<const int8_t*>(x.get());
    args.w = reinterpret_cast<const int8_t*>(w.get());
    args.epilogue.combined_scale = reinterpret_cast<const float*>(scales.get());
    args.epilogue.bias = reinterpret_cast<const float*>(scales.get());
    if (key.residual == ResidualKind::kInt8) args.epilogue.residual_int8 = reinterpret_cast<const int8_t*>(residual.get());
    if (key.residual == ResidualKind::kFloat) args.epilogue.residual_f32 = reinterpret_cast<const float*>(residual.get());
    args.epilogue.activation.kind = Activation::kRelu;
    args.epilogue.output_int8 = key.output_int8;
    args.epilogue.output_scale = 0.05f;
    args.out = out.get();
    args.workspace = workspace.get();

    for (int i = 0; i < kWarmup; ++i) kernels::conv_int8_cuda(key.tactic, args, lt_, stream_);
    std::vector<float> ms(kRuns);
    for (float& m : ms) {
      OCTET_CUDA_CHECK(cudaEventRecord(start_, stream_));
      kernels::conv_int8_cuda(key.tactic, args, lt_, stream_);
      OCTET_CUDA_CHECK(cudaEventRecord(stop_, stream_));
      OCTET_CUDA_CHECK(cudaEventSynchronize(stop_));
      OCTET_CUDA_CHECK(cudaEventElapsedTime(&m, start_, stop_));
    }
    std::nth_element(ms.begin(), ms.begin() + kRuns / 2, ms.end());
    return cache_[key] = ms[kRuns / 2];
  }

 private:
  cudaStream_t stream_ = nullptr;
  cublasLtHandle_t lt_ = nullptr;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  std::map<TimingKey, double> cache_;
};

std::vector<kernels::Int8Tactic> parse_allowed(const std::vector<std::string>& allowed) {
  std::vector<kernels::Int8Tactic> tactics;
  for (const std::string& name : allowed) {
    if (name == "auto") return {std::begin(kernels::kAllInt8Tactics), std::end(kernels::kAllInt8Tactics)};
    const auto* found = std::find_if(std::begin(kernels::kAllInt8Tactics), std::end(kernels::kAllInt8Tactics),
                                     [&](kernels::Int8Tactic t) { return name == kernels::to_string(t); });
    OCTET_CHECK(found != std::end(kernels::kAllInt8Tactics), "unknown tactic '", name,
                "' (tactics: ", kernels::int8_tactic_name_list(), ", auto)");
    tactics.push_back(*found);
  }
  if (tactics.empty()) return {std::begin(kernels::kAllInt8Tactics), std::end(kernels::kAllInt8Tactics)};
  return tactics;
}

ResidualKind residual_kind(const Graph& graph, const Node& node) {
  if (node.inputs.size() < 4 || node.inputs[3] == kNoValue) return ResidualKind::kNone;
  return graph.value(node.inputs[3]).type == DataType::kInt8 ? ResidualKind::kInt8 : ResidualKind::kFloat;
}

}  // namespace

std::vector<TacticTiming> choose_int8_tactics(Graph& graph, const BackendOptions& options,
                                              const std::vector<std::string>& allowed) {
  const std::vector<kernels::Int8Tactic> tactics = parse_allowed(allowed);
  OCTET_CUDA_CHECK(cudaSetDevice(options.device));
  TacticTimer timer;
  std::vector<TacticTiming> timings;
  for (Node& node : graph.nodes) {
    if (node.precision != Precision::kInt8 || (node.op != OpKind::Conv && node.op != OpKind::Gemm)) continue;
    const Conv2dShape shape = int8_layer_shape(graph, node);
    const bool output_int8 = graph.value(node.outputs[0]).type == DataType::kInt8;
    size_t best = timings.size();
    for (kernels::Int8Tactic tactic : tactics) {
      if (!kernels::conv_int8_cuda_supports(tactic, shape)) continue;
      const double ms = timer.milliseconds({shape, output_int8, residual_kind(graph, node), tactic});
      timings.push_back({node.name, kernels::to_string(tactic), ms, false});
      if (best == timings.size() - 1 || ms < timings[best].milliseconds) best = timings.size() - 1;
    }
    if (best == timings.size())
      OCTET_UNSUPPORTED(node_label(node), ": none of the allowed tactics implements this layer's shape");
    timings[best].chosen = true;
    node.tactic = timings[best].tactic;
  }
  return timings;
}

std::string cuda_device_arch(int device) {
  cudaDeviceProp prop{};
  OCTET_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return "sm_" + std::to_string(prop.major) + std::to_string(prop.minor);
}

}  // namespace octet
