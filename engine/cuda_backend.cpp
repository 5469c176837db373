// The CUDA backend (engine/cuda_backend.h): validates a Graph once, plans and allocates every device
// buffer once, and runs the nodes in order on one stream with the kernels of kernels/cuda.
//
// Creation, in order: select the device; validate the wiring and every node
// (engine/node_validation.h: input counts, float32 where a kernel computes, every output's dims
// against the operator's rule) and work out what run() needs per node (NodePlan); plan memory
// (constants, dedicated input/output buffers, the liveness arena, aliases); allocate, upload the
// constants, create the stream and the cuBLAS handle.
// run() then only checks the caller's tensors, copies, launches and copies back.
#include "engine/cuda_backend.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>
#include <iomanip>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/node_validation.h"
#include "engine/op_registry.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/conv_cuda.h"
#include "kernels/cuda/conv_int8_cuda.h"
#include "kernels/cuda/int8_ops_cuda.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/elementwise_cuda.h"
#include "kernels/cuda/gemm_cuda.h"
#include "kernels/cuda/pool_cuda.h"
#include "kernels/cuda/tensor_ops_cuda.h"
#include "kernels/int8_layout.h"
#include "kernels/shapes.h"

namespace octet {

namespace {

constexpr size_t kAlignment = 256;                          // cudaMalloc's alignment; cuBLAS wants >= 256
constexpr size_t kCublasWorkspaceBytes = size_t{32} << 20;  // NVIDIA's recommendation for Hopper

size_t align_up(size_t bytes) { return (bytes + kAlignment - 1) / kAlignment * kAlignment; }

// ---- owned CUDA resources (DeviceBuffer: kernels/cuda/device_buffer.h) ---------------------------
// Destructors never throw: a failure while tearing down is ignored (there is no one left to tell).

class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  PinnedBuffer(PinnedBuffer&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  PinnedBuffer& operator=(PinnedBuffer&&) = delete;
  PinnedBuffer(const PinnedBuffer&) = delete;
  ~PinnedBuffer() {
    if (ptr_ != nullptr) cudaFreeHost(ptr_);
  }
  void allocate(size_t bytes) {
    if (bytes != 0) OCTET_CUDA_CHECK(cudaMallocHost(&ptr_, bytes));
  }
  void* get() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
};

class Stream {
 public:
  Stream() = default;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream() {
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }
  // Non-blocking: never implicitly ordered after work on the legacy default stream of other code.
  void create() { OCTET_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

class CublasLtHandle {
 public:
  CublasLtHandle() = default;
  CublasLtHandle(const CublasLtHandle&) = delete;
  CublasLtHandle& operator=(const CublasLtHandle&) = delete;
  ~CublasLtHandle() {
    if (handle_ != nullptr) cublasLtDestroy(handle_);
  }
  void create() { OCTET_CUBLAS_CHECK(cublasLtCreate(&handle_)); }
  cublasLtHandle_t get() const { return handle_; }

 private:
  cublasLtHandle_t handle_ = nullptr;
};

class CublasHandle {
 public:
  CublasHandle() = default;
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  ~CublasHandle() {
    if (handle_ != nullptr) cublasDestroy(handle_);
  }
  void create() { OCTET_CUBLAS_CHECK(cublasCreate(&handle_)); }
  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

class Event {
 public:
  Event() { OCTET_CUDA_CHECK(cudaEventCreate(&event_)); }
  Event(Event&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}
  Event& operator=(Event&&) = delete;
  Event(const Event&) = delete;
  ~Event() {
    if (event_ != nullptr) cudaEventDestroy(event_);
  }
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

// ---- planning ------------------------------------------------------------------------------------

// What creation works out once per node for run().
struct NodePlan {
  Conv2dShape conv;                          // Conv
  kernels::ConvPlanCuda conv_plan;           // Conv
  Pool2dShape pool;                          // MaxPool, AveragePool
  ActivationParams activation;               // the activation ops; Conv/Gemm/MatMul epilogues
  quant::EpilogueRounding rounding;          // INT8 Conv/Gemm of explicitly quantized models
  Dims perm;                                 // Transpose, an empty perm resolved to the reversal
  int64_t outer = 1, length = 1, inner = 1;  // Softmax rows; BatchNormalization [N, C, inner]; global pools
  int64_t m = 0, n = 0, k = 0;               // Gemm
  bool alias = false;                        // Reshape/Identity: the output is the input's memory
  // INT8 layers (Node::precision kInt8) and reformats; tensors are NHWCp (kernels/int8_layout.h).
  bool int8_conv = false;                           // an INT8 Conv/Gemm: conv + tactic below
  kernels::Int8Tactic tactic = kernels::Int8Tactic::kDp4a;
  std::vector<float> combined_scales;               // input_scale * weight_scale[k] (quantize/qscheme.h)
  size_t combined_scales_offset = 0;                // in the constants buffer
  float input_scale = 1.0f, output_scale = 1.0f, residual_scale = 1.0f;
  int64_t nchw[4] = {1, 1, 1, 1};                   // Q/DQ, global pool: [N, C, H, W] ([N, C] as H = W = 1)
  bool gate_batched = false;                        // INT8 Mul: one gate per image, not one for all
  float second_input_scale = 1.0f;                  // INT8 Add: input 1's (input_scale is input 0's)
  std::vector<int64_t> concat_channels;             // INT8 Concat
  std::vector<float> concat_scales;
};

// [N, C, H, W] or [N, C] as four dims (H = W = 1 for the 2-D case).
void as_nchw(const Dims& dims, int64_t (&out)[4]) {
  OCTET_CHECK(dims.size() == 4 || dims.size() == 2, "an INT8 tensor is [N, C, H, W] or [N, C], not ", to_string(dims));
  out[0] = dims[0];
  out[1] = dims[1];
  out[2] = dims.size() == 4 ? dims[2] : 1;
  out[3] = dims.size() == 4 ? dims[3] : 1;
}

// Device bytes of a value: NHWCp for INT8 activations, [K][R][S][Cgp] for INT8 weights
// (kernels/int8_layout.h), dense otherwise.
size_t device_bytes(DataType type, const Dims& dims, bool constant) {
  if (type != DataType::kInt8) return static_cast<size_t>(numel(dims)) * element_size(type);
  if (constant) {  // weights [K, Cg, R, S] or Gemm [N_out, K_in]
    OCTET_CHECK(dims.size() == 4 || dims.size() == 2, "INT8 weights must be [K, C, R, S] or [N, K], not ",
                to_string(dims));
    const int64_t rs = dims.size() == 4 ? dims[2] * dims[3] : 1;
    return static_cast<size_t>(dims[0] * rs * kernels::padded_channels(dims[1]));
  }
  int64_t d[4];
  as_nchw(dims, d);
  return static_cast<size_t>(d[0] * d[2] * d[3] * kernels::padded_channels(d[1]));
}

float scale_of(const Graph& graph, ValueId id) { return graph.value(id).scale.value_or(1.0f); }

// The tactic a node asks for (Node::tactic), else the first that implements its shape.
kernels::Int8Tactic pick_int8_tactic(const Node& node, const Conv2dShape& shape) {
  for (kernels::Int8Tactic t : kernels::kAllInt8Tactics)
    if (node.tactic == kernels::to_string(t)) {
      OCTET_CHECK(kernels::conv_int8_cuda_supports(t, shape), node_label(node), ": its tactic '", node.tactic,
                  "' does not implement the layer's shape on this device");
      return t;
    }
  OCTET_CHECK(node.tactic.empty(), node_label(node), ": unknown tactic '", node.tactic, "'");
  for (kernels::Int8Tactic t :
       {kernels::Int8Tactic::kWgmma, kernels::Int8Tactic::kTensorCore, kernels::Int8Tactic::kDp4a})
    if (kernels::conv_int8_cuda_supports(t, shape)) return t;
  OCTET_UNSUPPORTED(node_label(node), ": no INT8 tactic implements this layer");
}

// INT8 layers: validate_node() checked the types and scales (check_int8_layer).
NodePlan plan_int8_node(const Graph& graph, const Node& node) {
  NodePlan plan;
  plan.input_scale = scale_of(graph, node.inputs[0]);
  const Value& y = graph.value(node.outputs[0]);
  plan.output_scale = y.scale.value_or(1.0f);
  const Dims& x = graph.value(node.inputs[0]).dims;
  switch (node.op) {
    case OpKind::Conv:
    case OpKind::Gemm: {
      plan.int8_conv = true;
      plan.conv = int8_layer_shape(graph, node);
      plan.activation = epilogue_of(node)->activation;
      plan.rounding = epilogue_of(node)->rounding;
      plan.tactic = pick_int8_tactic(node, plan.conv);
      for (float w : node.weight_scales) plan.combined_scales.push_back(plan.input_scale * w);
      if (node.inputs.size() > 3 && node.inputs[3] != kNoValue) plan.residual_scale = scale_of(graph, node.inputs[3]);
      break;
    }
    case OpKind::MaxPool:
    case OpKind::AveragePool: plan.pool = make_pool2d_shape(std::get<PoolAttrs>(node.attrs), x, y.dims); break;
    case OpKind::GlobalAveragePool: as_nchw(x, plan.nchw); break;
    case OpKind::Mul:  // a channel scale (engine/channel_scale.h): x [N, C, H, W] int8, gate [N or 1, C, 1, 1]
      as_nchw(x, plan.nchw);
      plan.gate_batched = graph.value(node.inputs[1]).dims[0] != 1;
      break;
    case OpKind::Concat:
      as_nchw(y.dims, plan.nchw);
      for (ValueId id : node.inputs) {
        plan.concat_channels.push_back(graph.value(id).dims[1]);
        plan.concat_scales.push_back(scale_of(graph, id));
      }
      break;
    case OpKind::Add:  // two int8 tensors of one shape (node_validation.cpp)
      as_nchw(y.dims, plan.nchw);
      plan.second_input_scale = scale_of(graph, node.inputs[1]);
      break;
    case OpKind::MatMul: case OpKind::Sub: case OpKind::Div:
    case OpKind::Relu: case OpKind::Clip: case OpKind::LeakyRelu: case OpKind::Sigmoid:
    case OpKind::HardSigmoid: case OpKind::HardSwish: case OpKind::BatchNormalization:
    case OpKind::GlobalMaxPool: case OpKind::Reshape: case OpKind::Transpose: case OpKind::Softmax:
    case OpKind::Identity: case OpKind::Pad: case OpKind::QuantizeLinear: case OpKind::DequantizeLinear:
      OCTET_UNSUPPORTED(node_label(node), ": no INT8 implementation on the CUDA backend");
#define OCTET_REGISTERED_OP(kind, name) case OpKind::kind:
#include "engine/ops.def"
      // Data movement (OpDef::run_int8_cuda) reads its parameters from the node at launch.
      if (op_def(node.op).run_int8_cuda == nullptr)
        OCTET_UNSUPPORTED(node_label(node), ": no INT8 implementation on the CUDA backend");
      break;
  }
  return plan;
}

// A Reshape/Identity carrying an INT8 value must be the same bytes in NHWCp: [N, C, 1, 1] <-> [N, C].
void check_int8_reshape(const Graph& graph, const Node& node) {
  const Value& x = graph.value(node.inputs[0]);
  if (x.type != DataType::kInt8) return;
  const Dims& y = graph.value(node.outputs[0]).dims;
  const auto unit_spatial = [](const Dims& d) { return d.size() == 2 || (d.size() == 4 && d[2] == 1 && d[3] == 1); };
  OCTET_CHECK(x.dims == y || (unit_spatial(x.dims) && unit_spatial(y) && x.dims[0] == y[0] && x.dims[1] == y[1]),
              node_label(node), ": an INT8 tensor can only be reshaped between [N, C, 1, 1] and [N, C] on the CUDA ",
              "backend (its layout is NHWC), not ", to_string(x.dims), " to ", to_string(y));
}

// The differences from the CPU backend (engine/node_validation.h): MaxPool's Indices are computed;
// pools whose pads reach past the window are refused (the kernels assume every window holds a cell).
constexpr BackendCapabilities kCudaCapabilities{"CUDA", /*maxpool_indices=*/true, /*pool_pads_past_window=*/false};

// The plan of a node that validate_node() accepted: what it guarantees is not checked again.
NodePlan plan_node(const Graph& graph, const Node& node, const ValidatedNode& validated,
                   const CudaBackendTuning& tuning, bool batch_invariant, bool reproducible) {
  if (node.precision == Precision::kInt8) return plan_int8_node(graph, node);
  NodePlan plan;
  plan.activation = validated.activation;
  const Dims& x = graph.value(node.inputs[0]).dims;
  const Dims& y = graph.value(node.outputs[0]).dims;
  switch (node.op) {
    case OpKind::Conv:
      plan.conv = make_conv2d_shape(std::get<ConvAttrs>(node.attrs), x, graph.value(node.inputs[1]).dims, y);
      try {
        plan.conv_plan =
            kernels::plan_conv2d_cuda(plan.conv, tuning.im2col_workspace_limit_bytes, tuning.conv1x1_gemm_min_pixels,
                                      batch_invariant, /*k_ordered=*/reproducible);
      } catch (const UnsupportedError& error) {
        throw UnsupportedError(node_label(node) + ": " + error.what());
      } catch (const Error& error) {
        throw Error(node_label(node) + ": " + error.what());
      }
      break;
    case OpKind::Gemm:  // Y = [M, N]
      plan.m = y[0];
      plan.n = y[1];
      plan.k = std::get<GemmAttrs>(node.attrs).trans_a ? x[0] : x[1];
      break;
    case OpKind::BatchNormalization:
      plan.outer = x[0];
      plan.length = x[1];
      plan.inner = numel(Dims(x.begin() + 2, x.end()));
      break;
    case OpKind::MaxPool:
    case OpKind::AveragePool: plan.pool = make_pool2d_shape(std::get<PoolAttrs>(node.attrs), x, y); break;
    case OpKind::GlobalAveragePool:
    case OpKind::GlobalMaxPool:
      plan.outer = x[0] * x[1];
      plan.inner = numel(Dims(x.begin() + 2, x.end()));
      break;
    case OpKind::Transpose:
      plan.perm = std::get<TransposeAttrs>(node.attrs).perm;
      if (plan.perm.empty())
        for (int64_t d = static_cast<int64_t>(x.size()) - 1; d >= 0; --d) plan.perm.push_back(d);
      break;
    case OpKind::Softmax: {
      const auto& a = std::get<SoftmaxAttrs>(node.attrs);
      plan.outer = numel(Dims(x.begin(), x.begin() + a.axis));
      plan.length = a.coerce_2d ? numel(Dims(x.begin() + a.axis, x.end())) : x[static_cast<size_t>(a.axis)];
      plan.inner = a.coerce_2d ? 1 : numel(Dims(x.begin() + a.axis + 1, x.end()));
      break;
    }
    case OpKind::Relu:
    case OpKind::Clip:
    case OpKind::LeakyRelu:
    case OpKind::Sigmoid:
    case OpKind::HardSigmoid:
    case OpKind::HardSwish: break;  // plan.activation is all they need
    case OpKind::MatMul:
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::Concat:
    case OpKind::Pad: break;  // the kernels take the attributes and the values' dims as they are
    case OpKind::Reshape:
    case OpKind::Identity: check_int8_reshape(graph, node); break;  // plan_memory() decides on aliasing
    case OpKind::QuantizeLinear:
      as_nchw(x, plan.nchw);
      plan.output_scale = scale_of(graph, node.outputs[0]);
      break;
    case OpKind::DequantizeLinear:
      as_nchw(x, plan.nchw);
      plan.input_scale = scale_of(graph, node.inputs[0]);
      break;
#define OCTET_REGISTERED_OP(kind, name) case OpKind::kind:
#include "engine/ops.def"
      if (op_def(node.op).run_cuda == nullptr)
        OCTET_UNSUPPORTED(node_label(node), ": the operator has no CUDA kernel yet (it runs on the CPU backend)");
      break;
  }
  return plan;
}

// Whether a node reads input `index` on the device. Reshape's shape tensor, Clip's bounds and Pad's
// pads/value/axes inputs were folded into the attributes at import; they stay on the host.
bool reads_on_device(const Node& node, size_t index) {
  const bool folded = node.op == OpKind::Reshape || node.op == OpKind::Clip || node.op == OpKind::Pad;
  return index == 0 || !folded;
}

// ---- the plan and the context -------------------------------------------------------------------

// The graph without its constants' host data (those live on the device): what the kernels of
// registered operators read through OpKernelArgs (names, types, dims, attributes).
Graph without_constant_data(const Graph& graph) {
  Graph view;
  view.nodes = graph.nodes;
  view.inputs = graph.inputs;
  view.outputs = graph.outputs;
  view.input_batched = graph.input_batched;
  view.batch = graph.batch;
  view.values.reserve(graph.values.size());
  for (const Value& v : graph.values) {
    Value copy;
    copy.name = v.name;
    copy.type = v.type;
    copy.dims = v.dims;
    copy.scale = v.scale;
    view.values.push_back(std::move(copy));
  }
  return view;
}

// Everything creation works out without touching a device: the validated nodes, per-node plans,
// where every value lives and how much memory each buffer needs. The context allocates from it;
// plan_cuda_memory() reports it.
class GraphPlan {
 public:
  enum class Location : uint8_t { kNone, kConstants, kInputsOutputs, kArena, kAlias };
  struct ValueInfo {
    std::string name;
    DataType type;
    Dims dims;
    bool constant;
  };

  GraphPlan(const Graph& graph, const CudaBackendTuning& tuning, bool invariant, bool exact)
      : nodes(graph.nodes), inputs(graph.inputs), outputs(graph.outputs), batch_invariant(invariant),
        reproducible(exact) {
    values.reserve(graph.values.size());
    for (const Value& v : graph.values) values.push_back({v.name, v.type, v.dims, v.is_constant()});
    validate_wiring(graph);
    node_plans.reserve(nodes.size());
    size_t workspace_bytes = 0;
    for (size_t i = 0; i < nodes.size(); ++i) {
      node_plans.push_back(
          plan_node(graph, nodes[i], validate_node(graph, nodes[i], kCudaCapabilities), tuning, batch_invariant,
                    reproducible));
      if (node_plans[i].int8_conv) {
        workspace_bytes = std::max(workspace_bytes,
                                   kernels::conv_int8_cuda_workspace_bytes(node_plans[i].tactic, node_plans[i].conv));
      } else if (nodes[i].op == OpKind::Conv) {
        workspace_bytes = std::max(workspace_bytes, node_plans[i].conv_plan.workspace_bytes);
      }
    }
    plan_memory();
    // The INT8 layers' combined scales follow the constants.
    for (NodePlan& p : node_plans) {
      if (!p.int8_conv) continue;
      p.combined_scales_offset = memory.constants;
      memory.constants += align_up(p.combined_scales.size() * sizeof(float));
    }
    memory.im2col_workspace = align_up(workspace_bytes);
    memory.cublas_workspace = kCublasWorkspaceBytes;
  }

  size_t bytes_of(ValueId id) const {
    const ValueInfo& v = values[static_cast<size_t>(id)];
    return device_bytes(v.type, v.dims, v.constant);
  }

  std::vector<Node> nodes;
  std::vector<ValueInfo> values;
  std::vector<ValueId> inputs, outputs;
  bool batch_invariant;              // BackendOptions::batch_invariant
  bool reproducible;                 // BackendOptions::reproducible
  std::vector<NodePlan> node_plans;  // per node
  std::vector<Location> location;    // per value
  std::vector<size_t> offset;        // per value, within its buffer
  std::vector<ValueId> alias_root;   // per value: the value whose storage it uses (itself unless kAlias)
  CudaMemoryPlan memory;

 private:
  // Where every value lives (see the memory plan in engine/cuda_backend.h). Fills location,
  // offset and memory; bind_pointers() turns them into pointers once the buffers exist.
  void plan_memory() {
    const size_t value_count = values.size();
    location.assign(value_count, Location::kNone);
    offset.assign(value_count, 0);
    std::vector<ValueId> root(value_count);
    for (size_t i = 0; i < value_count; ++i) root[i] = static_cast<ValueId>(i);

    // Constants a kernel reads, or that are graph outputs.
    std::vector<bool> constant_needed(value_count, false);
    for (const Node& node : nodes)
      for (size_t i = 0; i < node.inputs.size(); ++i)
        if (node.inputs[i] != kNoValue && values[static_cast<size_t>(node.inputs[i])].constant &&
            reads_on_device(node, i))
          constant_needed[static_cast<size_t>(node.inputs[i])] = true;
    for (ValueId id : outputs)
      if (values[static_cast<size_t>(id)].constant) constant_needed[static_cast<size_t>(id)] = true;
    for (size_t i = 0; i < value_count; ++i) {
      if (!constant_needed[i]) continue;
      location[i] = Location::kConstants;
      offset[i] = memory.constants;
      memory.constants += align_up(bytes_of(static_cast<ValueId>(i)));
    }

    // Dedicated buffers: graph inputs, and graph outputs some node writes.
    auto dedicate = [&](ValueId id) {
      if (location[static_cast<size_t>(id)] != Location::kNone) return;
      location[static_cast<size_t>(id)] = Location::kInputsOutputs;
      offset[static_cast<size_t>(id)] = memory.inputs_outputs;
      memory.inputs_outputs += align_up(bytes_of(id));
    };
    for (ValueId id : inputs) dedicate(id);
    for (ValueId id : outputs) dedicate(id);

    // Aliases, then lifetimes of the arena values in node indices: [written, last read].
    std::vector<int64_t> first(value_count, -1), last(value_count, -1);
    for (size_t n = 0; n < nodes.size(); ++n) {
      const Node& node = nodes[n];
      const auto at = static_cast<int64_t>(n);
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        if (node.inputs[i] == kNoValue || !reads_on_device(node, i)) continue;
        const auto r = static_cast<size_t>(root[static_cast<size_t>(node.inputs[i])]);
        last[r] = std::max(last[r], at);
      }
      const bool aliasable = node.op == OpKind::Reshape || node.op == OpKind::Identity;
      for (ValueId id : node.outputs) {
        if (id == kNoValue) continue;
        const auto v = static_cast<size_t>(id);
        if (location[v] != Location::kNone) continue;  // a graph output: dedicated above
        if (aliasable) {
          // Same bytes, other dims: share the input's storage; its lifetime now extends over the
          // consumers of this value (they look up the root).
          node_plans[n].alias = true;
          root[v] = root[static_cast<size_t>(node.inputs[0])];
          location[v] = Location::kAlias;
          continue;
        }
        location[v] = Location::kArena;
        first[v] = at;
        last[v] = std::max(last[v], at);
      }
    }
    alias_root = root;

    // Greedy by size: largest first, each at the lowest offset that overlaps no placed value whose
    // lifetime intersects its own.
    struct Placement {
      size_t offset, size;
      int64_t first, last;
    };
    std::vector<size_t> order;
    for (size_t v = 0; v < value_count; ++v)
      if (location[v] == Location::kArena) order.push_back(v);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return bytes_of(static_cast<ValueId>(a)) > bytes_of(static_cast<ValueId>(b));
    });
    std::vector<Placement> placed;
    for (size_t v : order) {
      const size_t size = align_up(bytes_of(static_cast<ValueId>(v)));
      memory.arena_unshared += size;
      std::vector<const Placement*> live;
      for (const Placement& p : placed)
        if (!(p.last < first[v] || p.first > last[v])) live.push_back(&p);
      std::sort(live.begin(), live.end(), [](const Placement* a, const Placement* b) { return a->offset < b->offset; });
      size_t at = 0;
      for (const Placement* p : live) {
        if (p->offset >= at + size) break;  // the gap before p holds this value
        at = std::max(at, p->offset + p->size);
      }
      offset[v] = at;
      placed.push_back({at, size, first[v], last[v]});
      memory.arena = std::max(memory.arena, at + size);
    }
  }
};

class CudaContext final : public CudaExecutionContext {
 public:
  CudaContext(const Graph& graph, const BackendOptions& options, const CudaBackendTuning& tuning)
      : plan_(graph, tuning, options.batch_invariant, options.reproducible), graph_view_(without_constant_data(graph)),
        device_(options.device) {
    int count = 0;
    OCTET_CUDA_CHECK(cudaGetDeviceCount(&count));
    OCTET_CHECK(device_ >= 0 && device_ < count, "CUDA device ", device_, " does not exist (", count, " visible)");
    OCTET_CUDA_CHECK(cudaSetDevice(device_));

    stream_.create();
    constants_buffer_.allocate(plan_.memory.constants, "constants");
    io_buffer_.allocate(plan_.memory.inputs_outputs, "graph inputs and outputs");
    arena_.allocate(plan_.memory.arena, "activation arena");
    workspace_.allocate(plan_.memory.im2col_workspace, "im2col workspace");
    cublas_workspace_.allocate(plan_.memory.cublas_workspace, "cuBLAS workspace");
    bind_pointers();
    upload_constants(graph);
    for (ValueId id : plan_.inputs) input_staging_.emplace_back().allocate(bytes_of(id));
    for (ValueId id : plan_.outputs) output_staging_.emplace_back().allocate(bytes_of(id));

    cublas_.create();
    cublas_lt_.create();
    // cublasSetStream resets the workspace to cuBLAS's own pool, so the stream comes first.
    OCTET_CUBLAS_CHECK(cublasSetStream(cublas_.get(), stream_.get()));
    OCTET_CUBLAS_CHECK(cublasSetWorkspace(cublas_.get(), cublas_workspace_.get(), plan_.memory.cublas_workspace));
    OCTET_CUBLAS_CHECK(
        cublasSetMathMode(cublas_.get(), options.allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    allow_tf32_ = options.allow_tf32;
    OCTET_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
  }

  ~CudaContext() override {
    cudaSetDevice(device_);
    if (stream_.get() != nullptr) cudaStreamSynchronize(stream_.get());
  }

  std::vector<Tensor> run(const std::vector<Tensor>& inputs) override {
    OCTET_CUDA_CHECK(cudaSetDevice(device_));
    stage_inputs(inputs);
    enqueue_nodes(static_cast<bool>(observer_));
    return fetch_outputs();
  }

  void upload_inputs(const std::vector<Tensor>& inputs) override {
    OCTET_CUDA_CHECK(cudaSetDevice(device_));
    stage_inputs(inputs);
    synchronize("copying the inputs to the device");
  }

  void run_device_only() override {
    OCTET_CUDA_CHECK(cudaSetDevice(device_));
    enqueue_nodes(static_cast<bool>(observer_));
    synchronize("the run");
  }

  std::vector<Tensor> download_outputs() override {
    OCTET_CUDA_CHECK(cudaSetDevice(device_));
    return fetch_outputs();
  }

  std::vector<float> time_device_runs(int warmup, int iterations, bool cuda_graph) override {
    OCTET_CHECK(warmup >= 0 && iterations >= 1, "time_device_runs: warmup ", warmup, " and iterations ", iterations,
                " must be >= 0 and >= 1");
    OCTET_CUDA_CHECK(cudaSetDevice(device_));
    cudaGraphExec_t exec = nullptr;
    if (cuda_graph) exec = capture_graph();
    struct ExecGuard {
      cudaGraphExec_t exec;
      ~ExecGuard() {
        if (exec != nullptr) cudaGraphExecDestroy(exec);
      }
    } guard{exec};
    auto launch = [&] {
      if (exec != nullptr) {
        OCTET_CUDA_CHECK(cudaGraphLaunch(exec, stream_.get()));
      } else {
        enqueue_nodes(false);
      }
    };
    for (int i = 0; i < warmup; ++i) launch();
    std::vector<Event> starts(static_cast<size_t>(iterations)), stops(static_cast<size_t>(iterations));
    for (size_t i = 0; i < starts.size(); ++i) {
      OCTET_CUDA_CHECK(cudaEventRecord(starts[i].get(), stream_.get()));
      launch();
      OCTET_CUDA_CHECK(cudaEventRecord(stops[i].get(), stream_.get()));
    }
    synchronize("the timed runs");
    std::vector<float> ms(starts.size());
    for (size_t i = 0; i < starts.size(); ++i)
      OCTET_CUDA_CHECK(cudaEventElapsedTime(&ms[i], starts[i].get(), stops[i].get()));
    return ms;
  }

  std::vector<double> profile_nodes(const std::vector<Tensor>& inputs, int iterations) override {
    OCTET_CHECK(iterations >= 1, "profile_nodes: iterations ", iterations, " must be >= 1");
    upload_inputs(inputs);
    enqueue_nodes(false);  // warm-up
    const size_t nodes = plan_.nodes.size();
    std::vector<Event> marks(static_cast<size_t>(iterations) * (nodes + 1));
    for (int it = 0; it < iterations; ++it) {
      Event* mark = &marks[static_cast<size_t>(it) * (nodes + 1)];
      OCTET_CUDA_CHECK(cudaEventRecord(mark[0].get(), stream_.get()));
      for (size_t i = 0; i < nodes; ++i) {
        launch_node(i);
        OCTET_CUDA_CHECK(cudaEventRecord(mark[i + 1].get(), stream_.get()));
      }
    }
    synchronize("the profiled runs");
    std::vector<double> medians(nodes);
    for (size_t i = 0; i < nodes; ++i) {
      std::vector<float> ms(static_cast<size_t>(iterations));
      for (int it = 0; it < iterations; ++it) {
        const Event* mark = &marks[static_cast<size_t>(it) * (nodes + 1)];
        OCTET_CUDA_CHECK(cudaEventElapsedTime(&ms[static_cast<size_t>(it)], mark[i].get(), mark[i + 1].get()));
      }
      std::nth_element(ms.begin(), ms.begin() + static_cast<std::ptrdiff_t>(ms.size() / 2), ms.end());
      medians[i] = ms[ms.size() / 2];
    }
    return medians;
  }

  CudaMemoryPlan memory_plan() const override { return plan_.memory; }

  std::string describe() const override {
    std::ostringstream out;
    const double mib = 1024.0 * 1024.0;
    out << std::fixed << std::setprecision(1);
    out << "device: " << cuda_describe_device(device_) << "\n";
    out << "cuBLAS math: " << (allow_tf32_ ? "TF32 tensor cores allowed" : "FP32 (TF32 off)") << "\n";
    out << "memory: constants " << plan_.memory.constants / mib << " MiB, activation arena " << plan_.memory.arena / mib
        << " MiB (unshared " << plan_.memory.arena_unshared / mib << " MiB), inputs/outputs "
        << plan_.memory.inputs_outputs / mib << " MiB, im2col workspace " << plan_.memory.im2col_workspace / mib
        << " MiB, cuBLAS workspace " << plan_.memory.cublas_workspace / mib << " MiB, total "
        << plan_.memory.total() / mib << " MiB\n";
    for (size_t i = 0; i < plan_.nodes.size(); ++i) {
      if (plan_.node_plans[i].int8_conv) {
        out << node_label(plan_.nodes[i]) << ": INT8 " << kernels::to_string(plan_.node_plans[i].tactic) << "\n";
        continue;
      }
      if (plan_.nodes[i].op != OpKind::Conv) continue;
      const kernels::ConvPlanCuda& p = plan_.node_plans[i].conv_plan;
      out << node_label(plan_.nodes[i]) << ": " << kernels::to_string(p.algo);
      if (p.algo == kernels::ConvAlgoCuda::kIm2colGemm) out << ", " << p.images_per_chunk << " images per chunk";
      out << "\n";
    }
    return out.str();
  }

  void set_observer(NodeObserver observer) override { observer_ = std::move(observer); }
  BackendKind kind() const override { return BackendKind::kCuda; }

 private:
  // Gemm and MatMul through the k-ordered GEMM (kernels/cuda/gemm_cuda.h): batch-invariant, and the
  // CPU's sums.
  bool k_ordered_gemms() const { return plan_.batch_invariant || plan_.reproducible; }

  void bind_pointers() {
    pointer_.assign(plan_.values.size(), nullptr);
    for (size_t v = 0; v < plan_.values.size(); ++v) {
      switch (plan_.location[v]) {
        case Location::kNone:
        case Location::kAlias: break;
        case Location::kConstants: pointer_[v] = constants_buffer_.get() + plan_.offset[v]; break;
        case Location::kInputsOutputs: pointer_[v] = io_buffer_.get() + plan_.offset[v]; break;
        case Location::kArena: pointer_[v] = arena_.get() + plan_.offset[v]; break;
      }
    }
    for (size_t v = 0; v < plan_.values.size(); ++v)
      if (plan_.location[v] == Location::kAlias) pointer_[v] = pointer_[static_cast<size_t>(plan_.alias_root[v])];
  }

  // Copies the constants (INT8 weights re-laid out as [K][R][S][Cgp]) and the INT8 layers' combined
  // scales; waits, so the host staging can go.
  void upload_constants(const Graph& graph) {
    std::vector<std::vector<int8_t>> staging;
    for (size_t v = 0; v < plan_.values.size(); ++v) {
      if (plan_.location[v] != Location::kConstants) continue;
      const Tensor& t = *graph.values[v].initializer;
      if (t.type() == DataType::kInt8) {
        const Dims& d = t.dims();  // [K, Cg, R, S] or Gemm [N_out, K_in]
        staging.push_back(kernels::kcrs_to_krsc_padded(t.data<int8_t>(), d[0], d[1], d.size() == 4 ? d[2] : 1,
                                                       d.size() == 4 ? d[3] : 1));
        OCTET_CUDA_CHECK(cudaMemcpyAsync(pointer_[v], staging.back().data(), staging.back().size(),
                                         cudaMemcpyHostToDevice, stream_.get()));
      } else if (t.bytes() != 0) {
        OCTET_CUDA_CHECK(cudaMemcpyAsync(pointer_[v], t.raw(), t.bytes(), cudaMemcpyHostToDevice, stream_.get()));
      }
    }
    for (const NodePlan& p : plan_.node_plans)
      if (p.int8_conv)
        OCTET_CUDA_CHECK(cudaMemcpyAsync(constants_buffer_.get() + p.combined_scales_offset, p.combined_scales.data(),
                                         p.combined_scales.size() * sizeof(float), cudaMemcpyHostToDevice,
                                         stream_.get()));
    OCTET_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
  }

  // ---- run ----

  void stage_inputs(const std::vector<Tensor>& inputs) {
    OCTET_CHECK(inputs.size() == plan_.inputs.size(), "the graph takes ", plan_.inputs.size(), " inputs, got ",
                inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const ValueInfo& v = plan_.values[static_cast<size_t>(plan_.inputs[i])];
      OCTET_CHECK(inputs[i].type() == v.type, "input '", v.name, "' must be ", to_string(v.type), ", got ",
                  to_string(inputs[i].type()));
      OCTET_CHECK(inputs[i].dims() == v.dims, "input '", v.name, "' must have dims ", to_string(v.dims), ", got ",
                  to_string(inputs[i].dims()));
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      const size_t bytes = inputs[i].bytes();
      if (bytes == 0) continue;
      std::memcpy(input_staging_[i].get(), inputs[i].raw(), bytes);
      OCTET_CUDA_CHECK(cudaMemcpyAsync(pointer_[static_cast<size_t>(plan_.inputs[i])], input_staging_[i].get(), bytes,
                                       cudaMemcpyHostToDevice, stream_.get()));
    }
  }

  std::vector<Tensor> fetch_outputs() {
    for (size_t i = 0; i < plan_.outputs.size(); ++i) {
      const size_t bytes = bytes_of(plan_.outputs[i]);
      if (bytes == 0) continue;
      OCTET_CUDA_CHECK(cudaMemcpyAsync(output_staging_[i].get(), pointer_[static_cast<size_t>(plan_.outputs[i])], bytes,
                                       cudaMemcpyDeviceToHost, stream_.get()));
    }
    synchronize("the run");
    std::vector<Tensor> result;
    result.reserve(plan_.outputs.size());
    for (size_t i = 0; i < plan_.outputs.size(); ++i) {
      const ValueInfo& v = plan_.values[static_cast<size_t>(plan_.outputs[i])];
      Tensor t(v.type, v.dims);
      if (t.bytes() != 0) std::memcpy(t.raw(), output_staging_[i].get(), t.bytes());
      result.push_back(std::move(t));
    }
    return result;
  }

  void synchronize(const char* what) {
    const cudaError_t status = cudaStreamSynchronize(stream_.get());
    if (status != cudaSuccess)
      throw Error(detail::concat("CUDA error during ", what, ": ", cudaGetErrorName(status), " (",
                                 cudaGetErrorString(status),
                                 "); a fault inside a kernel is reported here, at the next synchronisation: run "
                                 "with CUDA_LAUNCH_BLOCKING=1 to attribute it to its node"));
  }

  void enqueue_nodes(bool observe) {
    for (size_t i = 0; i < plan_.nodes.size(); ++i) {
      const Node& node = plan_.nodes[i];
      try {
        launch_node(i);
      } catch (const UnsupportedError& error) {
        throw UnsupportedError(node_label(node) + ": " + error.what());
      } catch (const Error& error) {
        throw Error(node_label(node) + ": " + error.what());
      }
      if (!observe) continue;
      const cudaError_t status = cudaStreamSynchronize(stream_.get());
      if (status != cudaSuccess)
        throw Error(detail::concat(node_label(node), ": CUDA error: ", cudaGetErrorName(status), " (",
                                   cudaGetErrorString(status), ")"));
      for (ValueId id : node.outputs) {
        if (id == kNoValue) continue;
        const ValueInfo& v = plan_.values[static_cast<size_t>(id)];
        observer_(node, id, TensorView{v.type, v.dims, pointer_[static_cast<size_t>(id)], MemoryLocation::kCuda});
      }
    }
  }

  cudaGraphExec_t capture_graph() {
    cudaGraph_t graph = nullptr;
    OCTET_CUDA_CHECK(cudaStreamBeginCapture(stream_.get(), cudaStreamCaptureModeThreadLocal));
    try {
      enqueue_nodes(false);
    } catch (...) {
      cudaStreamEndCapture(stream_.get(), &graph);  // leave the stream usable; the capture is void
      if (graph != nullptr) cudaGraphDestroy(graph);
      throw;
    }
    OCTET_CUDA_CHECK(cudaStreamEndCapture(stream_.get(), &graph));
    cudaGraphExec_t exec = nullptr;
    const cudaError_t status = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    OCTET_CUDA_CHECK(status);
    return exec;
  }

  const void* in(const Node& node, size_t i) const {
    if (i >= node.inputs.size() || node.inputs[i] == kNoValue) return nullptr;
    return pointer_[static_cast<size_t>(node.inputs[i])];
  }
  const float* in_f32(const Node& node, size_t i) const { return static_cast<const float*>(in(node, i)); }
  const Dims& in_dims(const Node& node, size_t i) const {
    return plan_.values[static_cast<size_t>(node.inputs[i])].dims;
  }
  void* out(const Node& node, size_t i = 0) const {
    if (i >= node.outputs.size() || node.outputs[i] == kNoValue) return nullptr;
    return pointer_[static_cast<size_t>(node.outputs[i])];
  }
  float* out_f32(const Node& node) const { return static_cast<float*>(out(node)); }
  const int8_t* in_i8(const Node& node, size_t i) const { return static_cast<const int8_t*>(in(node, i)); }
  int8_t* out_i8(const Node& node) const { return static_cast<int8_t*>(out(node)); }
  const Dims& out_dims(const Node& node) const { return plan_.values[static_cast<size_t>(node.outputs[0])].dims; }

  void launch_node(size_t index) {
    const Node& node = plan_.nodes[index];
    const NodePlan& plan = plan_.node_plans[index];
    cudaStream_t stream = stream_.get();
    if (node.precision == Precision::kInt8) {
      launch_int8_node(node, plan);
      return;
    }
    switch (node.op) {
      case OpKind::Conv: {
        const kernels::ConvEpilogueCuda epilogue{in_f32(node, 2), in_f32(node, 3), plan.activation};
        kernels::conv2d_cuda(plan.conv, plan.conv_plan, in_f32(node, 0), in_f32(node, 1), epilogue, out_f32(node),
                             reinterpret_cast<float*>(workspace_.get()), cublas_.get(), stream);
        break;
      }
      case OpKind::Gemm: {
        const auto& a = std::get<GemmAttrs>(node.attrs);
        const Dims c_dims = in(node, 2) != nullptr ? in_dims(node, 2) : Dims{};
        kernels::gemm_cuda(a.trans_a, a.trans_b, plan.m, plan.n, plan.k, a.alpha, in_f32(node, 0), in_f32(node, 1),
                           a.beta, in_f32(node, 2), c_dims, in_f32(node, 3), plan.activation, out_f32(node),
                           cublas_.get(), stream, k_ordered_gemms());
        break;
      }
      case OpKind::MatMul:
        kernels::matmul_cuda(in_f32(node, 0), in_dims(node, 0), in_f32(node, 1), in_dims(node, 1), out_f32(node),
                             out_dims(node), nullptr, in_f32(node, 3), plan.activation, cublas_.get(), stream,
                             k_ordered_gemms());
        break;
      case OpKind::Add: launch_binary(node, kernels::BinaryOp::kAdd); break;
      case OpKind::Sub: launch_binary(node, kernels::BinaryOp::kSub); break;
      case OpKind::Mul: launch_binary(node, kernels::BinaryOp::kMul); break;
      case OpKind::Div: launch_binary(node, kernels::BinaryOp::kDiv); break;
      case OpKind::Relu:
      case OpKind::Clip:
      case OpKind::LeakyRelu:
      case OpKind::Sigmoid:
      case OpKind::HardSigmoid:
      case OpKind::HardSwish:
        kernels::activation_cuda(plan.activation, in_f32(node, 0), out_f32(node), numel(out_dims(node)), stream);
        break;
      case OpKind::BatchNormalization:
        kernels::batchnorm_inference_cuda(in_f32(node, 0), in_f32(node, 1), in_f32(node, 2), in_f32(node, 3),
                                          in_f32(node, 4), std::get<BatchNormAttrs>(node.attrs).epsilon, out_f32(node),
                                          plan.outer, plan.length, plan.inner, stream);
        break;
      case OpKind::MaxPool:
        kernels::maxpool2d_cuda(plan.pool, in_f32(node, 0), out_f32(node), static_cast<int64_t*>(out(node, 1)), stream);
        break;
      case OpKind::AveragePool: kernels::avgpool2d_cuda(plan.pool, in_f32(node, 0), out_f32(node), stream); break;
      case OpKind::GlobalAveragePool:
        kernels::global_avgpool_cuda(in_f32(node, 0), out_f32(node), plan.outer, plan.inner, stream);
        break;
      case OpKind::GlobalMaxPool:
        kernels::global_maxpool_cuda(in_f32(node, 0), out_f32(node), plan.outer, plan.inner, stream);
        break;
      case OpKind::Reshape:
      case OpKind::Identity:
        if (!plan.alias) {
          const size_t bytes = bytes_of(node.outputs[0]);
          if (bytes != 0)
            OCTET_CUDA_CHECK(cudaMemcpyAsync(out(node), in(node, 0), bytes, cudaMemcpyDeviceToDevice, stream));
        }
        break;
      case OpKind::Transpose:
        kernels::transpose_cuda(in(node, 0), in_dims(node, 0), plan.perm, out(node),
                                element_size(plan_.values[static_cast<size_t>(node.outputs[0])].type), stream);
        break;
      case OpKind::Concat: {
        std::vector<const void*> pointers;
        std::vector<Dims> dims;
        for (size_t i = 0; i < node.inputs.size(); ++i) {
          pointers.push_back(in(node, i));
          dims.push_back(in_dims(node, i));
        }
        kernels::concat_cuda(pointers, dims, std::get<ConcatAttrs>(node.attrs).axis, out(node),
                             element_size(plan_.values[static_cast<size_t>(node.outputs[0])].type), stream);
        break;
      }
      case OpKind::Softmax:
        kernels::softmax_cuda(in_f32(node, 0), out_f32(node), plan.outer, plan.length, plan.inner, stream);
        break;
      case OpKind::Pad: {
        const auto& a = std::get<PadAttrs>(node.attrs);
        kernels::pad_constant_cuda(in_f32(node, 0), in_dims(node, 0), a.pads, a.value, out_f32(node), out_dims(node),
                                   stream);
        break;
      }
      case OpKind::QuantizeLinear:
        kernels::quantize_nchw_to_nhwcp_cuda(in_f32(node, 0), plan.nchw[0], plan.nchw[1], plan.nchw[2], plan.nchw[3],
                                             plan.output_scale, out_i8(node), stream);
        break;
      case OpKind::DequantizeLinear:
        kernels::dequantize_nhwcp_to_nchw_cuda(in_i8(node, 0), plan.nchw[0], plan.nchw[1], plan.nchw[2], plan.nchw[3],
                                               plan.input_scale, out_f32(node), stream);
        break;
#define OCTET_REGISTERED_OP(kind, name) case OpKind::kind:
#include "engine/ops.def"
        launch_registered(node);
        break;
    }
  }

  // A registered operator (engine/op_registry.h): its CUDA kernel (its INT8 one on an INT8 node) on this
  // context's device buffers.
  void launch_registered(const Node& node) {
    OpKernelArgs args{graph_view_, node, {}, {}, 1, stream_.get()};
    args.inputs.reserve(node.inputs.size());
    for (size_t i = 0; i < node.inputs.size(); ++i) args.inputs.push_back(in(node, i));
    args.outputs.reserve(node.outputs.size());
    for (size_t i = 0; i < node.outputs.size(); ++i) args.outputs.push_back(out(node, i));
    const OpDef& def = op_def(node.op);
    (node.precision == Precision::kInt8 ? def.run_int8_cuda : def.run_cuda)(args);
  }

  // INT8 layers (plan_int8_node).
  void launch_int8_node(const Node& node, const NodePlan& plan) {
    cudaStream_t stream = stream_.get();
    if (plan.int8_conv) {
      kernels::Int8ConvCudaArgs args;
      args.shape = plan.conv;
      args.x = in_i8(node, 0);
      args.w = in_i8(node, 1);
      args.epilogue.combined_scale =
          reinterpret_cast<const float*>(constants_buffer_.get() + plan.combined_scales_offset);
      args.epilogue.bias = in_f32(node, 2);
      if (in(node, 3) != nullptr) {
        if (plan_.values[static_cast<size_t>(node.inputs[3])].type == DataType::kInt8) {
          args.epilogue.residual_int8 = in_i8(node, 3);
          args.epilogue.residual_scale = plan.residual_scale;
        } else {
          args.epilogue.residual_f32 = in_f32(node, 3);
        }
      }
      args.epilogue.activation = plan.activation;
      args.epilogue.rounding = plan.rounding;
      args.epilogue.output_int8 = plan_.values[static_cast<size_t>(node.outputs[0])].type == DataType::kInt8;
      args.epilogue.output_scale = plan.output_scale;
      args.out = out(node);
      args.workspace = workspace_.get();
      kernels::conv_int8_cuda(plan.tactic, args, cublas_lt_.get(), stream);
      return;
    }
    switch (node.op) {
      case OpKind::MaxPool: kernels::maxpool2d_int8_cuda(plan.pool, in_i8(node, 0), out_i8(node), stream); break;
      case OpKind::AveragePool:
        kernels::avgpool2d_int8_cuda(plan.pool, in_i8(node, 0), plan.input_scale, plan.output_scale, out_i8(node),
                                     stream);
        break;
      case OpKind::GlobalAveragePool:
        kernels::global_avgpool_int8_cuda(in_i8(node, 0), plan.nchw[0], plan.nchw[1], plan.nchw[2], plan.nchw[3],
                                          plan.input_scale, plan.output_scale, out_i8(node), stream);
        break;
      case OpKind::Mul:
        kernels::channel_scale_int8_cuda(in_i8(node, 0), in_f32(node, 1), plan.gate_batched, plan.nchw[0],
                                         plan.nchw[1], plan.nchw[2], plan.nchw[3], plan.input_scale, plan.output_scale,
                                         out_i8(node), stream);
        break;
      case OpKind::Concat: {
        std::vector<const int8_t*> inputs;
        for (size_t i = 0; i < node.inputs.size(); ++i) inputs.push_back(in_i8(node, i));
        kernels::concat_int8_cuda(inputs, plan.concat_channels, plan.concat_scales, plan.nchw[0], plan.nchw[2],
                                  plan.nchw[3], plan.output_scale, out_i8(node), stream);
        break;
      }
      case OpKind::Add:
        kernels::add_int8_cuda(in_i8(node, 0), plan.input_scale, in_i8(node, 1), plan.second_input_scale,
                               plan.nchw[0] * plan.nchw[2] * plan.nchw[3] * kernels::padded_channels(plan.nchw[1]),
                               plan.output_scale, out_i8(node), stream);
        break;
      case OpKind::Conv: case OpKind::Gemm: case OpKind::MatMul: case OpKind::Sub:
      case OpKind::Div: case OpKind::Relu: case OpKind::Clip: case OpKind::LeakyRelu:
      case OpKind::Sigmoid: case OpKind::HardSigmoid: case OpKind::HardSwish: case OpKind::BatchNormalization:
      case OpKind::GlobalMaxPool: case OpKind::Reshape: case OpKind::Transpose: case OpKind::Softmax:
      case OpKind::Identity: case OpKind::Pad: case OpKind::QuantizeLinear: case OpKind::DequantizeLinear:
        break;  // refused by plan_int8_node
#define OCTET_REGISTERED_OP(kind, name) case OpKind::kind:
#include "engine/ops.def"
        launch_registered(node);
        break;
    }
  }

  void launch_binary(const Node& node, kernels::BinaryOp op) {
    kernels::binary_broadcast_cuda(op, in_f32(node, 0), in_dims(node, 0), in_f32(node, 1), in_dims(node, 1),
                                   out_f32(node), out_dims(node), stream_.get());
  }

  using Location = GraphPlan::Location;
  using ValueInfo = GraphPlan::ValueInfo;
  size_t bytes_of(ValueId id) const { return plan_.bytes_of(id); }

  const GraphPlan plan_;
  const Graph graph_view_;  // names, types and dims for registered operators' kernels (OpKernelArgs)
  int device_;
  bool allow_tf32_ = false;
  std::vector<void*> pointer_;  // per value: its device address (nullptr when not on the device)

  // Declaration order is teardown order reversed: the cuBLAS handle goes first, the stream last.
  Stream stream_;
  DeviceBuffer constants_buffer_, io_buffer_, arena_, workspace_, cublas_workspace_;
  std::vector<PinnedBuffer> input_staging_, output_staging_;
  CublasHandle cublas_;
  CublasLtHandle cublas_lt_;
  NodeObserver observer_;
};

}  // namespace

std::unique_ptr<CudaExecutionContext> create_cuda_context(const Graph& graph, const BackendOptions& options,
                                                          const CudaBackendTuning& tuning) {
  return std::make_unique<CudaContext>(graph, options, tuning);
}

CudaMemoryPlan plan_cuda_memory(const Graph& graph, const CudaBackendTuning& tuning, bool batch_invariant,
                                bool reproducible) {
  return GraphPlan(graph, tuning, batch_invariant, reproducible).memory;
}

Tensor cuda_observed_to_host(const TensorView& view) {
  Tensor t(view.type, view.dims);
  if (t.bytes() == 0) return t;
  const bool nhwcp = view.type == DataType::kInt8 && (view.dims.size() == 4 || view.dims.size() == 2);
  if (!nhwcp) {
    OCTET_CUDA_CHECK(cudaMemcpy(t.raw(), view.data, t.bytes(), cudaMemcpyDeviceToHost));
    return t;
  }
  int64_t nchw[4];
  as_nchw(view.dims, nchw);
  std::vector<int8_t> device_layout(device_bytes(view.type, view.dims, false));
  OCTET_CUDA_CHECK(cudaMemcpy(device_layout.data(), view.data, device_layout.size(), cudaMemcpyDeviceToHost));
  const std::vector<int8_t> y = kernels::nhwc_padded_to_nchw(device_layout.data(), nchw[0], nchw[1], nchw[2], nchw[3]);
  std::memcpy(t.raw(), y.data(), y.size());
  return t;
}

bool cuda_device_present() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();  // no driver / no device is not sticky; leave no error behind
    return false;
  }
  return count > 0;
}

std::string cuda_describe_device(int device) {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return detail::concat("no CUDA device: ", cudaGetErrorString(status));
  }
  if (count == 0) return "no CUDA device: the runtime sees none";
  if (device < 0 || device >= count) return detail::concat("no CUDA device ", device, ": the runtime sees ", count);
  cudaDeviceProp prop{};
  status = cudaGetDeviceProperties(&prop, device);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return detail::concat("CUDA device ", device, ": ", cudaGetErrorString(status));
  }
  std::ostringstream out;
  out << prop.name << " (sm_" << prop.major << prop.minor << ", " << prop.multiProcessorCount << " SMs, " << std::fixed
      << std::setprecision(1) << static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0) << " GiB)";
  return out.str();
}

}  // namespace octet
