// Backends: where a graph runs.
//
// A backend turns a Graph (shapes inferred for one batch size) into an ExecutionContext that owns
// everything a run needs — buffers, uploaded weights, workspaces, a stream — allocated once at
// creation, so run() allocates nothing on the device. One context serves one thread at a time.
//
//   cpu:  a plain reference kernel for every op, plus im2col + BLAS for convolution and GEMM,
//         multi-threaded.
//   cuda: cuBLAS for convolution (im2col) and GEMM, own kernels for the rest, an explicit stream
//         per context, TF32 off unless asked for. Available when octet was built with CUDA
//         (OCTET_CUDA) and a device is present.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/graph.h"

namespace octet {

enum class BackendKind : uint8_t { kCpu, kCuda };
const char* to_string(BackendKind kind);
BackendKind parse_backend(const std::string& name);  // "cpu" | "cuda"; Error otherwise

struct BackendOptions {
  int threads = 0;          // cpu: worker threads, 0 = all hardware threads
  bool reference = false;   // cpu: use the plain reference kernels only (no im2col/BLAS path)
  int device = 0;           // cuda: device ordinal
  bool allow_tf32 = false;  // cuda: let cuBLAS use TF32 tensor cores for FP32 GEMMs
  // Every sample's outputs are bit-identical whatever the batch size and the sample's position in
  // the batch: each sample is computed with the same operation shapes and summation order
  // (convolutions as one GEMM per image, never several images gathered into one; Gemm and MatMul
  // one output at a time in k order). Slower; the calibrator uses it so that a calibration cache
  // does not depend on --batch. Ignored with `reference`, whose loops already are batch-invariant.
  bool batch_invariant = false;
  // The CPU and CUDA backends give the same bits for every output (and batch_invariant's property):
  // convolutions, Gemm and MatMul sum every output in k order with one rounding per product and per
  // sum (the CPU reference's arithmetic: octet's blocked sgemm on the CPU, kernels/cuda/
  // gemm_ordered_cuda.h on the GPU) instead of OpenBLAS or cuBLAS. Every other float kernel already
  // is bit-identical across backends (shared formulas, kernels/float_math.h, kernels/reduce.h's
  // order), and INT8 kernels equal their references. Slower float GEMMs and convolutions; what `octet
  // run --reproducible` and `octet compare --reproducible` ask for. The reference CPU backend always
  // is.
  bool reproducible = false;
};

// Called after each node, for each of its outputs, with a view of the output (host memory on the
// CPU backend, device memory on the CUDA backend, valid until the callback returns). This is the
// tap calibration uses to observe activations without copying them.
using NodeObserver = std::function<void(const Node& node, ValueId output, const TensorView& view)>;

class ExecutionContext {
 public:
  virtual ~ExecutionContext() = default;

  // inputs: one host tensor per graph input, in graph.inputs order, dims as inferred for the
  // context's batch. Returns one host tensor per graph output.
  virtual std::vector<Tensor> run(const std::vector<Tensor>& inputs) = 0;

  virtual void set_observer(NodeObserver observer) = 0;
  virtual BackendKind kind() const = 0;

  // Per node (graph.nodes order): milliseconds, the median over `iterations` runs on `inputs` (as
  // run() takes them). CPU: a steady clock around each node; CUDA: events recorded around each node on
  // the context's stream (launch gaps excluded). Nodes that do no work (an aliasing Reshape) get ~0.
  virtual std::vector<double> profile_nodes(const std::vector<Tensor>& inputs, int iterations) = 0;
};

// A node output an observer was shown, copied to a host tensor in the graph's layout: host memory as
// it is; CUDA device memory copied back, an INT8 activation ([N, C, H, W] or [N, C]) from its NHWCp
// device layout (kernels/int8_layout.h) to NCHW. For tools that keep what they observe (octet
// compare --mark all); call it inside the observer, while the view is valid.
Tensor copy_observed_to_host(const TensorView& view);

// True when this build has CUDA and a device is present (never throws).
bool cuda_available();
// A short description of the CUDA device, or why there is none.
std::string cuda_device_description();

std::unique_ptr<ExecutionContext> create_context(const Graph& graph, BackendKind kind,
                                                 const BackendOptions& options = {});

}  // namespace octet
