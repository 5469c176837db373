// The CUDA backend: runs a Graph on one NVIDIA GPU (kernels/cuda).
//
// Only compiled when OCTET_HAVE_CUDA; engine/backend.cpp calls these through that switch.
// Creation uploads the constants, plans every activation buffer and the im2col workspace once and
// creates a stream and a cuBLAS handle bound to it; run() copies inputs in, launches, copies outputs
// out, and allocates nothing on the device. TF32 is off unless BackendOptions::allow_tf32.
//
// Memory plan (made once, at creation):
//   constants       every initializer a kernel reads, uploaded once into one buffer;
//   inputs/outputs  a dedicated buffer per graph input and per node-written graph output (run()
//                   stages them through pinned host buffers);
//   arena           every other value a node writes, placed in one allocation by liveness: a value
//                   lives from the node that writes it to the last node that reads it (through any
//                   Reshape/Identity aliases), and values whose lifetimes are disjoint share bytes
//                   (greedy by size, largest first, lowest offset that fits, 256-byte aligned).
//                   A Reshape or Identity whose output is not a graph output writes nothing: its
//                   output is the input's memory with other dims.
//   workspaces      the im2col columns + GEMM result of the largest convolution chunk (bounded by
//                   CudaBackendTuning::im2col_workspace_limit_bytes, the batch processed in chunks
//                   of images when it is exceeded) and 32 MiB for cuBLAS (cublasSetWorkspace, so
//                   cuBLAS allocates nothing during a run and the run can be captured in a graph).
// Batch invariance (BackendOptions::batch_invariant): convolutions run one image per GEMM with
// the same shapes and aligned workspace operands (kernels/cuda/conv_cuda.h), Gemm and MatMul one
// thread per output (kernels/cuda/gemm_cuda.h), and the GEMM-free kernels already compute a sample
// from that sample alone: pointwise ops per element, pools per window, and GlobalAveragePool and
// Softmax reduce one row (one sample's channel, one softmax row) in an order fixed by the row's
// length, never by N. cuBLAS is deterministic for one call on one device and stream given its
// workspace (set here) and the default CUBLAS_ATOMICS_NOT_ALLOWED (kept here), so no split-K
// reduction with atomics is used; CUBLAS_WORKSPACE_CONFIG is not needed with an explicit workspace.
// Math: cuBLAS runs with CUBLAS_DEFAULT_MATH, which for FP32 GEMMs keeps at least FP32's precision
// and range (no TF32, no reduced-precision inputs), or CUBLAS_TF32_TENSOR_OP_MATH when allow_tf32.
// The pointwise kernels are compiled without FMA contraction and evaluate the CPU reference's
// expressions (kernels/cuda/*.h) with octet's own e^x, ln, tanh and erf (kernels/float_math.h), and
// the reductions (ReduceSum/Mean, GlobalAveragePool, Softmax, LayerNormalization) sum in the CPU's
// lane order (kernels/reduce.h): their results are bit-identical to the CPU's (Sin and Cos aside).
// Reproducibility (BackendOptions::reproducible): convolutions, Gemm and MatMul sum every output in
// k order too (kernels/cuda/gemm_ordered_cuda.h), so the whole graph gives the CPU backend's bits.
//
// Errors name the node; a fault inside a kernel surfaces at the next synchronisation (the end of
// run(), or after each node while an observer is set); CUDA_LAUNCH_BLOCKING=1 attributes it to
// its node.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "engine/backend.h"

namespace octet {

// Settings only the CUDA backend has (BackendOptions holds what every backend shares).
struct CudaBackendTuning {
  // Upper bound of the convolution workspace (im2col columns + GEMM result of a chunk of images).
  // A convolution whose single image needs more still gets one image's worth.
  size_t im2col_workspace_limit_bytes = size_t{512} << 20;
  // 1x1 stride-1 convolutions with fewer output pixels (OH*OW) than this run as im2col + one GEMM
  // over all images of a chunk instead of per-image GEMMs (kernels/cuda/conv_cuda.h); 0 = never.
  // Per-image GEMMs with M = 49 (ResNet-50's last stage) fill cuBLAS's tiles poorly; the copy
  // costs one pass over the input. Measured on an H100 (BENCHMARKS.md, 2026-11-22): 256 makes
  // ResNet-50 at batch 128 2.7% faster than 0 (32.78 vs 33.70 ms), so it is the default.
  int64_t conv1x1_gemm_min_pixels = 256;
};

// Device memory a context holds, in bytes.
struct CudaMemoryPlan {
  size_t constants = 0;
  size_t arena = 0;           // intermediate values, shared by liveness
  size_t arena_unshared = 0;  // what the same values would take with a buffer each
  size_t inputs_outputs = 0;  // dedicated graph input and output buffers
  size_t im2col_workspace = 0;
  size_t cublas_workspace = 0;
  size_t total() const { return constants + arena + inputs_outputs + im2col_workspace + cublas_workspace; }
};

class CudaExecutionContext : public ExecutionContext {
 public:
  // Benchmarking: the GPU work alone, without host copies. upload_inputs() checks and copies the
  // inputs to the device and waits; run_device_only() runs every node on the inputs already there
  // (those of the last run() or upload_inputs()) and waits, calling the observer as run() does;
  // download_outputs() copies the outputs of the last run back.
  virtual void upload_inputs(const std::vector<Tensor>& inputs) = 0;
  virtual void run_device_only() = 0;
  virtual std::vector<Tensor> download_outputs() = 0;

  // GPU time of `iterations` device-only runs after `warmup` untimed ones, in milliseconds per run:
  // CUDA events recorded on the context's stream around each run. With cuda_graph the nodes are
  // captured once into a CUDA graph and each run is one graph launch (no launch gaps between
  // kernels). The observer is not called.
  virtual std::vector<float> time_device_runs(int warmup, int iterations, bool cuda_graph) = 0;

  virtual CudaMemoryPlan memory_plan() const = 0;
  // The device, the memory plan and each convolution's algorithm, one item per line.
  virtual std::string describe() const = 0;
};

std::unique_ptr<CudaExecutionContext> create_cuda_context(const Graph& graph, const BackendOptions& options,
                                                          const CudaBackendTuning& tuning = {});

// Validates `graph` as create_cuda_context does and returns the device memory a context would
// allocate for it, without touching a device (works on machines without a GPU).
// batch_invariant, reproducible: as BackendOptions's (a one-image convolution workspace; 1x1
// convolutions through im2col).
CudaMemoryPlan plan_cuda_memory(const Graph& graph, const CudaBackendTuning& tuning = {},
                                bool batch_invariant = false, bool reproducible = false);

// Tactic choice for the INT8 layers (precision kInt8 Conv/Gemm) of a built graph: each eligible
// tactic (kernels/cuda/conv_int8_cuda.h) among `allowed` ("dp4a", "tensorcore", "wgmma", "cublaslt"; empty =
// all) is timed on the device with the layer's shapes at the graph's batch (random data, CUDA events,
// median of several runs after warm-up) and the fastest is written into Node::tactic. Error when a
// name in `allowed` is unknown; UnsupportedError naming the layer when none of the allowed tactics
// implements it.
struct TacticTiming {
  std::string layer;
  std::string tactic;
  double milliseconds = 0.0;
  bool chosen = false;
};
std::vector<TacticTiming> choose_int8_tactics(Graph& graph, const BackendOptions& options,
                                              const std::vector<std::string>& allowed);
// "sm_90" for the device, as plans record it.
std::string cuda_device_arch(int device);

// True when the CUDA runtime sees at least one device; never throws.
bool cuda_device_present();
// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.1 GiB)", or the reason there is no device; never throws.
std::string cuda_describe_device(int device);

// copy_observed_to_host (engine/backend.h) for a view of device memory this backend showed an observer.
Tensor cuda_observed_to_host(const TensorView& view);

}  // namespace octet
