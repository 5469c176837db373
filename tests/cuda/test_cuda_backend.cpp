// The FP32 CUDA backend (engine/cuda_backend.h) against the CPU reference backend, op by op.
//
// Harness. Each case builds a small Graph directly in the IR (dims set by hand), runs it on a CUDA
// context with an observer that copies every node's device output to the host, and then checks
// every node on its own: the node is cut out into a one-node graph whose inputs are the tensors the
// GPU actually fed it, run through create_cpu_context(.reference = true), and compared with what
// the GPU wrote. So a multi-node graph is checked layer by layer with per-layer bounds, and errors
// never compound. Each case runs twice on the same context with different random inputs (the second
// run must overwrite every planned buffer), and run()'s outputs must equal the observed tensors bit
// for bit (the observer synchronises after each node; the launches are the same).
//
// Tolerances (u = 2^-24, the unit roundoff of float; gamma_n = n*u / (1 - n*u)):
//  * exact (==, bit for bit): the ops whose GPU kernel evaluates the CPU reference's expression with
//    the same roundings in the same order: Add/Sub/Mul/Div (one IEEE op), Relu/Clip/LeakyRelu/
//    HardSigmoid/HardSwish (kernels/activation.h; kernels/cuda is compiled with --fmad=false so
//    alpha * x + beta is not contracted), BatchNormalization ((x - mean) / sqrtf(var + eps) * scale
//    + bias, sqrtf and / correctly rounded on both sides), MaxPool/GlobalMaxPool (comparisons),
//    AveragePool (the window summed row by row from 0.0f on both sides, one division by the same
//    count), Transpose/Concat/Pad/Reshape/Identity (data movement).
//  * Conv/Gemm/MatMul: each output is a sum of n = K + 2 terms (K products, bias or beta * C,
//    residual). Any evaluation order with at most two roundings per term satisfies
//    |s_hat - s| <= gamma_{K+3} * T, T = sum |terms| (Higham, Accuracy and Stability of Numerical
//    Algorithms, Lemma 3.1 and (3.4)); cuBLAS and the reference each do, so
//    |y_gpu - y_cpu| <= 2 * gamma_{K+4} * T before the activation. An activation with Lipschitz
//    constant L scales that by L (Relu/Clip 1, LeakyRelu max(1, |alpha|), Sigmoid 1/4, HardSigmoid
//    |alpha|, HardSwish 3/2: its slope x/3 + 1/2 lies in [-1/2, 3/2]) and adds its own roundings,
//    which both sides make alike except expf (Sigmoid: device expf <= 2 ulp, glibc < 1 ulp, then one
//    add and one division: <= 10u * |y|) and the roundings of an intermediate near zero (HardSwish's
//    x/6 + 1/2, HardSigmoid's alpha * x + beta: <= 4u * (|alpha| T + |beta| + T)); so
//      allowed = L * 2 * gamma_{K+4} * T + 8u * T + 4u * |beta| + 16u * |y_cpu|.
//    T is computed by running the same one-node graph on the CPU reference with every operand
//    replaced by its absolute value and no activation (a float sum of non-negative terms, off by at
//    most gamma_{K+2} relatively, covered by rounding T up by 1e-5).
//    TF32 (10-bit mantissas) would break these bounds only by chance on random data, so a separate
//    case uses operands exact in FP32 and not in TF32 and demands the exact FP32 result.
//  * Sigmoid alone: 16u * |y| (the expf difference above).
//  * Softmax over L elements: per side, x - max rounds (<= 2u relative in exp's argument for inputs
//    in [-1, 1]), expf (<= 2 ulp = 4u), the sum of L positive terms (gamma_L), the division (u):
//    |y_gpu - y_cpu| <= 2 * (gamma_L + 16u) * |y_cpu|.
//  * GlobalAveragePool over P cells: two summation orders, each within gamma_P * sum|x|, then a
//    division: |y_gpu - y_cpu| <= 2 * gamma_{P+1} * sum|x| / P + 2u * |y_cpu|.
// Plus 1e-37 absolute everywhere a bound applies (values near the float minimum normal).
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/cpu_backend.h"
#include "engine/cuda_backend.h"
#include "engine/op_registry.h"
#include "tests/kernels/batch_invariance.h"
#include "tests/support/cuda_test_util.h"

namespace octet {
namespace {

constexpr double kU = 1.0 / 16777216.0;  // 2^-24

double gamma_n(int64_t n) { return static_cast<double>(n) * kU / (1.0 - static_cast<double>(n) * kU); }

// ---- building graphs by hand -----------------------------------------------------------------------

Tensor random_tensor(DataType type, const Dims& dims, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  Tensor t(type, dims);
  std::mt19937 engine(seed);
  switch (type) {
    case DataType::kFloat32: {
      std::uniform_real_distribution<float> dist(lo, hi);
      for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(engine);
      break;
    }
    case DataType::kInt64: {
      std::uniform_int_distribution<int64_t> dist(-1000000, 1000000);
      for (int64_t i = 0; i < t.numel(); ++i) t.data<int64_t>()[i] = dist(engine);
      break;
    }
    case DataType::kInt8:
    case DataType::kUInt8:
    case DataType::kInt32:
    case DataType::kBool: {
      std::uniform_int_distribution<int> dist(0, 255);
      auto* bytes = static_cast<uint8_t*>(t.raw());
      for (size_t i = 0; i < t.bytes(); ++i) bytes[i] = static_cast<uint8_t>(dist(engine));
      if (type == DataType::kBool)
        for (size_t i = 0; i < t.bytes(); ++i) bytes[i] &= 1;
      break;
    }
  }
  return t;
}

class TestGraph {
 public:
  ValueId input(const std::string& name, Dims dims, DataType type = DataType::kFloat32) {
    Value v;
    v.name = name;
    v.type = type;
    v.dims = std::move(dims);
    const ValueId id = graph.add_value(std::move(v));
    graph.inputs.push_back(id);
    graph.input_batched.push_back(false);
    return id;
  }
  ValueId constant(const std::string& name, Tensor t) {
    Value v;
    v.name = name;
    v.type = t.type();
    v.dims = t.dims();
    v.initializer = std::move(t);
    return graph.add_value(std::move(v));
  }
  ValueId constant(const std::string& name, const Dims& dims, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
    return constant(name, random_tensor(DataType::kFloat32, dims, seed, lo, hi));
  }
  ValueId value(const std::string& name, Dims dims, DataType type = DataType::kFloat32) {
    Value v;
    v.name = name;
    v.type = type;
    v.dims = std::move(dims);
    return graph.add_value(std::move(v));
  }
  // A node with one new output of out_dims; returns the output.
  ValueId node(OpKind op, const std::string& name, std::vector<ValueId> inputs, NodeAttributes attrs, Dims out_dims,
               DataType out_type = DataType::kFloat32) {
    const ValueId out = value(name + ":0", std::move(out_dims), out_type);
    add_node(op, name, std::move(inputs), {out}, std::move(attrs));
    return out;
  }
  void add_node(OpKind op, const std::string& name, std::vector<ValueId> inputs, std::vector<ValueId> outputs,
                NodeAttributes attrs) {
    Node n;
    n.name = name;
    n.op = op;
    n.inputs = std::move(inputs);
    n.outputs = std::move(outputs);
    n.attrs = std::move(attrs);
    graph.nodes.push_back(std::move(n));
  }
  void output(ValueId id) { graph.outputs.push_back(id); }

  Graph graph;
};

int64_t window_extent(int64_t in, int64_t kernel, int64_t stride, int64_t pad_begin, int64_t pad_end, int64_t dilation,
                      bool ceil_mode = false) {
  const int64_t room = in + pad_begin + pad_end - (dilation * (kernel - 1) + 1);
  int64_t out = (ceil_mode ? (room + stride - 1) / stride : room / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;  // ONNX: the last window starts inside
  return out;
}

// Adds a Conv; x_dims [N, C, H, W] (or [N, C, L] with kernel_h = 1); returns the output.
ValueId add_conv(TestGraph& t, const std::string& name, ValueId x, int64_t k, ConvAttrs a, bool bias, uint32_t seed,
                 ValueId residual = kNoValue) {
  const Dims xd = t.graph.value(x).dims;  // a copy: adding the weights below reallocates graph.values
  const bool one_d = xd.size() == 3;
  const int64_t c = xd[1];
  const Dims w_dims = one_d ? Dims{k, c / a.group, a.kernel_w} : Dims{k, c / a.group, a.kernel_h, a.kernel_w};
  const ValueId w = t.constant(name + ".w", w_dims, seed);
  std::vector<ValueId> inputs{x, w};
  inputs.push_back(bias ? t.constant(name + ".b", {k}, seed + 1) : kNoValue);
  if (residual != kNoValue) {
    inputs.push_back(residual);
    a.epilogue.has_residual = true;
  }
  while (!inputs.empty() && inputs.back() == kNoValue) inputs.pop_back();
  const int64_t ow = window_extent(xd.back(), a.kernel_w, a.stride_w, a.pad_left, a.pad_right, a.dilation_w);
  if (one_d) return t.node(OpKind::Conv, name, inputs, a, {xd[0], k, ow});
  const int64_t oh = window_extent(xd[2], a.kernel_h, a.stride_h, a.pad_top, a.pad_bottom, a.dilation_h);
  return t.node(OpKind::Conv, name, inputs, a, {xd[0], k, oh, ow});
}

ConvAttrs conv_attrs(int64_t kh, int64_t kw, int64_t stride_h = 1, int64_t stride_w = 1, int64_t pad_top = 0,
                     int64_t pad_left = 0, int64_t pad_bottom = 0, int64_t pad_right = 0) {
  ConvAttrs a;
  a.kernel_h = kh;
  a.kernel_w = kw;
  a.stride_h = stride_h;
  a.stride_w = stride_w;
  a.pad_top = pad_top;
  a.pad_left = pad_left;
  a.pad_bottom = pad_bottom;
  a.pad_right = pad_right;
  return a;
}

ActivationParams activation(Activation kind) {
  ActivationParams p;
  p.kind = kind;
  switch (kind) {
    case Activation::kNone:
    case Activation::kRelu:
    case Activation::kSigmoid:
    case Activation::kHardSwish:
    case Activation::kXSigmoid: break;
    case Activation::kGelu: p.alpha = 1.41421354f; break;
    case Activation::kXClipDiv:
      p.alpha = 3.0f;
      p.beta = 6.0f;
      break;
    case Activation::kXHardSigmoid:
      p.alpha = 0.2f;
      p.beta = 0.5f;
      break;
    case Activation::kClip:
      p.alpha = -0.25f;
      p.beta = 0.5f;
      break;
    case Activation::kLeakyRelu: p.alpha = 0.1f; break;
    case Activation::kHardSigmoid:
      p.alpha = 0.2f;
      p.beta = 0.5f;
      break;
  }
  return p;
}

const Activation kAllActivations[] = {Activation::kNone,      Activation::kRelu,    Activation::kClip,
                                      Activation::kLeakyRelu, Activation::kSigmoid, Activation::kHardSigmoid,
                                      Activation::kHardSwish};

// ---- the harness ---------------------------------------------------------------------------------

std::vector<Tensor> random_inputs(const Graph& g, uint32_t seed) {
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const Value& v = g.value(g.inputs[i]);
    inputs.push_back(random_tensor(v.type, v.dims, seed + static_cast<uint32_t>(i) * 7919u));
  }
  return inputs;
}

Tensor copy_view_to_host(const TensorView& view) {
  EXPECT_EQ(view.location, MemoryLocation::kCuda);
  cudaPointerAttributes attributes{};
  EXPECT_EQ(cudaPointerGetAttributes(&attributes, view.data), cudaSuccess);
  EXPECT_EQ(attributes.type, cudaMemoryTypeDevice) << "the observer must see device memory";
  Tensor t(view.type, view.dims);
  if (t.bytes() != 0) {
    EXPECT_EQ(cudaMemcpy(t.raw(), view.data, t.bytes(), cudaMemcpyDeviceToHost), cudaSuccess);
  }
  return t;
}

// Node `index` of g alone: its non-constant inputs become graph inputs (each distinct value once;
// `sources` lists the ids they had in g), its outputs graph outputs.
struct OneNodeGraph {
  Graph graph;
  std::vector<ValueId> sources;
};

OneNodeGraph single_node_graph(const Graph& g, size_t index, bool drop_extra_outputs) {
  OneNodeGraph one;
  std::map<ValueId, ValueId> remap;
  Node copy = g.nodes[index];
  for (ValueId& id : copy.inputs) {
    if (id == kNoValue) continue;
    auto found = remap.find(id);
    if (found == remap.end()) {
      const ValueId fresh = one.graph.add_value(g.value(id));
      if (!g.value(id).is_constant()) {
        one.graph.inputs.push_back(fresh);
        one.graph.input_batched.push_back(false);
        one.sources.push_back(id);
      }
      found = remap.emplace(id, fresh).first;
    }
    id = found->second;
  }
  if (drop_extra_outputs) copy.outputs.resize(1);
  for (ValueId& id : copy.outputs) {
    if (id == kNoValue) continue;
    id = one.graph.add_value(g.value(id));
    one.graph.outputs.push_back(id);
  }
  one.graph.nodes.push_back(std::move(copy));
  return one;
}

// The same graph with every float operand replaced by its absolute value and no activation in the
// epilogues: its output is T = sum of |terms| for every output element (see the header comment).
Graph magnitude_graph(Graph g) {
  for (Value& v : g.values) {
    if (!v.is_constant() || v.type != DataType::kFloat32) continue;
    float* data = v.initializer->data<float>();
    for (int64_t i = 0; i < v.initializer->numel(); ++i) data[i] = std::fabs(data[i]);
  }
  for (Node& node : g.nodes) {
    if (auto* conv = std::get_if<ConvAttrs>(&node.attrs)) conv->epilogue.activation = ActivationParams{};
    if (auto* gemm = std::get_if<GemmAttrs>(&node.attrs)) {
      gemm->epilogue.activation = ActivationParams{};
      gemm->alpha = std::fabs(gemm->alpha);
      gemm->beta = std::fabs(gemm->beta);
    }
  }
  return g;
}

Tensor abs_tensor(Tensor t) {
  if (t.type() == DataType::kFloat32)
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = std::fabs(t.data<float>()[i]);
  return t;
}

std::vector<Tensor> run_cpu_reference(const Graph& g, const std::vector<Tensor>& inputs) {
  BackendOptions options;
  options.reference = true;
  return create_cpu_context(g, options)->run(inputs);
}

double lipschitz(const ActivationParams& a) {
  switch (a.kind) {
    case Activation::kNone:
    case Activation::kRelu:
    case Activation::kClip: return 1.0;
    case Activation::kLeakyRelu: return std::max(1.0, std::fabs(static_cast<double>(a.alpha)));
    case Activation::kSigmoid: return 0.25;
    case Activation::kHardSigmoid: return std::fabs(static_cast<double>(a.alpha));
    case Activation::kHardSwish: return 1.5;
    case Activation::kXSigmoid: return 1.1;       // max |d/dx x sigmoid(x)| = 1.0998
    case Activation::kXHardSigmoid: return 2.0;   // hs(x) + alpha x <= 1 + (1 - beta) <= 2 for beta >= 0
    case Activation::kGelu: return 1.13;          // max |d/dx gelu(x)| = 1.1289
    case Activation::kXClipDiv: return 1.5;       // (2x + 3) / 6 on [-3, 3], 1 above
  }
  return 1.0;
}

// nullopt: exact. Otherwise the allowed |gpu - cpu| per element of the one-node graph's output 0.
std::optional<std::vector<double>> allowed_error(const Graph& one, const std::vector<Tensor>& inputs,
                                                 const Tensor& cpu) {
  const Node& node = one.nodes[0];
  auto magnitude = [&] {
    std::vector<Tensor> abs_inputs;
    for (const Tensor& t : inputs) abs_inputs.push_back(abs_tensor(t));
    return run_cpu_reference(magnitude_graph(one), abs_inputs)[0];
  };
  auto dot_bound = [&](int64_t k, const ActivationParams& act) {
    const Tensor t = magnitude();
    std::vector<double> bound(static_cast<size_t>(cpu.numel()));
    for (size_t i = 0; i < bound.size(); ++i) {
      const double big_t = static_cast<double>(t.data<float>()[i]) * (1.0 + 1e-5);
      bound[i] = lipschitz(act) * 2.0 * gamma_n(k + 4) * big_t + 8.0 * kU * big_t +
                 4.0 * kU * std::fabs(static_cast<double>(act.beta)) +
                 16.0 * kU * std::fabs(static_cast<double>(cpu.data<float>()[i])) + 1e-37;
    }
    return bound;
  };
  auto relative_bound = [&](double relative) {
    std::vector<double> bound(static_cast<size_t>(cpu.numel()));
    for (size_t i = 0; i < bound.size(); ++i)
      bound[i] = relative * std::fabs(static_cast<double>(cpu.data<float>()[i])) + 1e-37;
    return bound;
  };
  const Dims& in0 = one.value(node.inputs[0]).dims;
  switch (node.op) {
    case OpKind::Conv: {
      const Dims& w = one.value(node.inputs[1]).dims;
      return dot_bound(numel(Dims(w.begin() + 1, w.end())), std::get<ConvAttrs>(node.attrs).epilogue.activation);
    }
    case OpKind::Gemm: {
      const auto& a = std::get<GemmAttrs>(node.attrs);
      return dot_bound(a.trans_a ? in0[0] : in0[1], a.epilogue.activation);
    }
    case OpKind::MatMul: {
      const auto* a = std::get_if<GemmAttrs>(&node.attrs);
      return dot_bound(in0.back(), a ? a->epilogue.activation : ActivationParams{});
    }
    case OpKind::Sigmoid: return relative_bound(16.0 * kU);
    case OpKind::Softmax: {
      const auto& a = std::get<SoftmaxAttrs>(node.attrs);
      const int64_t length =
          a.coerce_2d ? numel(Dims(in0.begin() + a.axis, in0.end())) : in0[static_cast<size_t>(a.axis)];
      return relative_bound(2.0 * (gamma_n(length) + 16.0 * kU));
    }
    case OpKind::GlobalAveragePool: {
      const int64_t cells = numel(Dims(in0.begin() + 2, in0.end()));
      const Tensor mean_abs = magnitude();  // sum|x| / P per plane
      std::vector<double> bound(static_cast<size_t>(cpu.numel()));
      for (size_t i = 0; i < bound.size(); ++i)
        bound[i] = 2.0 * gamma_n(cells + 1) * static_cast<double>(mean_abs.data<float>()[i]) * (1.0 + 1e-5) +
                   2.0 * kU * std::fabs(static_cast<double>(cpu.data<float>()[i])) + 1e-37;
      return bound;
    }
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::Relu:
    case OpKind::Clip:
    case OpKind::LeakyRelu:
    case OpKind::HardSigmoid:
    case OpKind::HardSwish:
    case OpKind::BatchNormalization:
    case OpKind::MaxPool:
    case OpKind::AveragePool:
    case OpKind::GlobalMaxPool:
    case OpKind::Reshape:
    case OpKind::Transpose:
    case OpKind::Concat:
    case OpKind::Identity:
    case OpKind::QuantizeLinear:
    case OpKind::DequantizeLinear:
    case OpKind::Pad: return std::nullopt;
#define OCTET_REGISTERED_OP(kind, name) case OpKind::kind:
#include "engine/ops.def"
      if (op_def(node.op).cuda_relative_error == 0.0) return std::nullopt;
      return relative_bound(op_def(node.op).cuda_relative_error);
  }
  return std::nullopt;
}

::testing::AssertionResult bitwise_equal(const Tensor& gpu, const Tensor& cpu) {
  if (gpu.type() != cpu.type() || gpu.dims() != cpu.dims())
    return ::testing::AssertionFailure() << "type/dims differ: " << to_string(gpu.type()) << to_string(gpu.dims())
                                         << " vs " << to_string(cpu.type()) << to_string(cpu.dims());
  if (gpu.bytes() == 0 || std::memcmp(gpu.raw(), cpu.raw(), gpu.bytes()) == 0) return ::testing::AssertionSuccess();
  const size_t es = element_size(gpu.type());
  for (size_t i = 0; i * es < gpu.bytes(); ++i) {
    if (std::memcmp(static_cast<const char*>(gpu.raw()) + i * es, static_cast<const char*>(cpu.raw()) + i * es, es) ==
        0)
      continue;
    auto f = ::testing::AssertionFailure() << "first difference at element " << i;
    if (gpu.type() == DataType::kFloat32) f << ": gpu " << gpu.data<float>()[i] << ", cpu " << cpu.data<float>()[i];
    return f;
  }
  return ::testing::AssertionFailure() << "bytes differ";
}

::testing::AssertionResult within(const Tensor& gpu, const Tensor& cpu, const std::vector<double>& bound) {
  if (gpu.dims() != cpu.dims()) return ::testing::AssertionFailure() << "dims differ";
  size_t failures = 0;
  std::ostringstream first;
  for (size_t i = 0; i < bound.size(); ++i) {
    const double g = gpu.data<float>()[i], c = cpu.data<float>()[i];
    const double diff = std::fabs(g - c);
    if (diff <= bound[i]) continue;  // NaN never passes
    if (failures++ == 0)
      first << "element " << i << ": gpu " << g << ", cpu " << c << ", |diff| " << diff << " > allowed " << bound[i];
  }
  if (failures == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << failures << " of " << bound.size()
                                       << " elements out of bounds; first: " << first.str();
}

// Runs `graph` on a CUDA context, twice, and checks every node against the CPU reference as the
// header describes. Returns the context for further checks.
std::unique_ptr<CudaExecutionContext> expect_cuda_matches_cpu(const Graph& graph, uint32_t seed = 1,
                                                              const CudaBackendTuning& tuning = {},
                                                              const BackendOptions& options = {}) {
  auto context = create_cuda_context(graph, options, tuning);
  for (uint32_t round = 0; round < 2; ++round) {
    const std::vector<Tensor> inputs = random_inputs(graph, seed + 1000u * round);
    std::map<ValueId, Tensor> observed;
    size_t calls = 0;
    context->set_observer([&](const Node&, ValueId id, const TensorView& view) {
      ++calls;
      observed[id] = copy_view_to_host(view);
    });
    const std::vector<Tensor> outputs = context->run(inputs);
    size_t expected_calls = 0;
    for (const Node& node : graph.nodes)
      for (ValueId id : node.outputs) expected_calls += id != kNoValue;
    EXPECT_EQ(calls, expected_calls) << "one observer call per node output";
    for (size_t i = 0; i < graph.inputs.size(); ++i) observed[graph.inputs[i]] = inputs[i];

    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      const Node& node = graph.nodes[n];
      SCOPED_TRACE("node '" + node.name + "' (" + to_string(node.op) + "), round " + std::to_string(round));
      const bool maxpool_indices = node.op == OpKind::MaxPool && node.outputs.size() > 1 && node.outputs[1] != kNoValue;
      const OneNodeGraph one_node = single_node_graph(graph, n, maxpool_indices);  // the CPU has no Indices
      const Graph& one = one_node.graph;
      std::vector<Tensor> one_inputs;
      for (ValueId id : one_node.sources) one_inputs.push_back(observed.at(id));
      const std::vector<Tensor> cpu = run_cpu_reference(one, one_inputs);
      const Tensor& gpu = observed.at(node.outputs[0]);
      const auto bound = allowed_error(one, one_inputs, cpu[0]);
      if (bound) {
        EXPECT_TRUE(within(gpu, cpu[0], *bound));
      } else {
        EXPECT_TRUE(bitwise_equal(gpu, cpu[0]));
      }
      if (maxpool_indices) {  // every index points at its maximum
        const Tensor& x = observed.at(node.inputs[0]);
        const Tensor& idx = observed.at(node.outputs[1]);
        for (int64_t i = 0; i < idx.numel(); ++i) {
          const int64_t at = idx.data<int64_t>()[i];
          if (at < 0 || at >= x.numel()) {
            ADD_FAILURE() << "index " << at << " at " << i << " is outside the input";
            break;
          }
          EXPECT_EQ(x.data<float>()[at], gpu.data<float>()[i]) << "at " << i;
        }
      }
    }
    // run() returned the same bytes the observer saw.
    for (size_t i = 0; i < graph.outputs.size(); ++i)
      EXPECT_TRUE(bitwise_equal(outputs[i], observed.at(graph.outputs[i]))) << "graph output " << i;

    // Without an observer (no synchronisation between nodes), twice: the same bytes again.
    context->set_observer(nullptr);
    for (int repeat = 0; repeat < 2; ++repeat) {
      const std::vector<Tensor> again = context->run(inputs);
      for (size_t i = 0; i < outputs.size(); ++i)
        EXPECT_TRUE(bitwise_equal(again[i], outputs[i])) << "graph output " << i << ", unobserved run " << repeat;
    }
  }
  return context;
}

// ---- convolution -----------------------------------------------------------------------------------

TEST(CudaFp32Nchw, ConvIm2colOddChannelsAndSizes) {
  OCTET_SKIP_WITHOUT_CUDA();
  TestGraph t;
  const ValueId x = t.input("x", {2, 3, 11, 9});
  ConvAttrs a = conv_attrs(3, 3, 1, 1, 1, 1, 1, 1);
  a.epilogue.activation = activation(Activation::kRelu);
  t.output(add_conv(t, "conv", x, 5, a, true, 11));
  expect_cuda_matches_cpu(t.graph);
}

TEST(CudaFp32Nchw, ConvIm2colStridesAsymmetricPads) {
  OCTET_SKIP_WITHOUT_CUDA();
  TestGraph t;
  const ValueId x = t.input("x", {1, 7, 13, 10});
  t.output(add_conv(t, "conv", x, 9, conv_attrs(3, 5, 2, 3, 1, 2, 0, 1), true, 12));
  expect_cuda_matches_cpu(t.graph);
}

TEST(CudaFp32Nchw, ConvIm2colDilationNoBias) {
  OCTET_SKIP_WITHOUT_CUDA();
  TestGraph t;
  const ValueId x = t.input("x", {2, 4, 12, 12});
  ConvAttrs a = conv_attrs(3, 3, 1, 2, 2, 1, 2, 3);
  a.dilation_h = 2;
  a.dilation_w = 3;
  t.output(add_conv(t, "conv", x, 6, a, false, 13));
  expect_cuda_matches_cpu(t.graph);
}

TEST(CudaFp32Nchw, ConvGroups) {
  OCTET_SKIP_WITHOUT_CUDA();
  TestGraph t;
  const ValueId x = t.input("x", {3, 6, 9, 8});
  ConvAttrs a = conv_attrs(3, 3, 1, 1, 1, 1, 1, 1);
  a.group = 3;
  t.output(add_conv(t, "conv", x, 9, a, true, 14));
  expect_cuda_matches_cpu(t.graph);
}

TEST(CudaFp32Nchw, ConvDepthwiseStride2WithResidualRelu) {
  OCTET_SKIP_WITHOUT_CUDA();
  TestGraph t;
  const ValueId x = t.input("x", {2, 8, 15, 15});
  const ValueId r = t.input("residual", {2, 8, 8, 8});
  ConvAttrs a = conv_attrs(3, 3, 2, 2, 1, 1, 1, 1);
  a.group = 8;
  a.epilogue.activation = activation(Activation::kRelu);
  t.output(add_conv(t, "dw", x, 8, a, true, 15, r));
  const auto context = expect_cuda_matches_cpu(t.graph);
  EXPECT_NE(context->describe().find("direct"), std::string::npos) << context->describe();
}

TEST(CudaFp32Nchw, ConvDepthwiseChannelMultiplierDilated) {
  OCTET_SKIP_WITHOUT_CUDA();
  TestGraph t;
  const ValueId x = t.input("x", {1, 4, 10, 11});
  ConvAttrs a = conv_attrs(3, 3, 1, 1, 2, 2, 2, 2);
  a.group = 4;
  a.dilation_h = a.dilation_w = 2;
  t.output(add_conv(t, "dw", x, 8, a, true, 16));
  expect_cuda_matches_cpu(t.graph);
}

TEST(CudaFp32Nchw, Conv1x1GemmPathGroupsAndBatch33) {
  OCTET_SKIP_WITHOUT_CUDA();
  TestGraph t;
  const ValueId x = t.input("x", {33, 16, 7, 5});
  ConvAttrs a = conv_attrs(1, 1);
  a.group = 2;
  a.epilogue.activation = activation(Activation::kLeakyRelu);
  const ValueId y = add_conv(t, "pw_grouped", x, 24, a, true, 17);
  t.output(add_conv(t, "pw", y, 13, conv_attrs(1, 1), false, 18));
  // Per-image GEMMs for every 1x1 convolution...
  CudaBackendTuning per_image;
  per_image.conv1x1_gemm_min_pixels = 0;
  const auto context = expect_cuda_matches_cpu(t.graph, 2, per_image);
  EXPECT_NE(context->describe().find("1x1 cuBLAS"), std::string::npos) << context->describe();
  // ...and the same graph with small 1x1 convolutions routed through im2col + one GEMM over all images.
  CudaBackendTuning tuning;
  tuning.conv1x1_gemm_min_pixels = 64;
  const auto gathered = expect_cuda_matches_cpu(t.graph, 2, tuning);
  EXPECT_EQ(gathered->describe().find("1x1 cuBLAS"), std::string::npos) << gathered->describe();
}

TEST(CudaFp32Nchw, Conv1x1Stride2UsesIm2col) {
  OCTET_SKIP_WITHOUT_CUDA();
  TestGraph t;
  const ValueId x = t.input("x", {4, 12, 9, 9});
  t.output(add_conv(t, "downsample", x, 20, conv_attrs(1, 1, 2, 2), true, 19));
  expect_cuda_matches_cpu(t.graph);
}

TEST(CudaFp32Ncl, Conv1d) {
  OCTET_SKIP_WITHOUT_CUDA();
  TestGraph t;
  const ValueId x = t.input("x", {3, 5, 17});
  ConvAttrs a = conv_attrs(1, 4, 1, 2, 0, 3, 0, 1);
  a.spatial_rank = 1;
  t.output(add_conv(t, "conv1d", x, 6, a, true, 20));
  expect_cuda_matches_cpu(t.graph);
}

// Batch 33 through a workspace limit small enough that the im2col path runs in chunks of several
// images (and, in the second graph, of one image, where the GEMM writes y directly).
TEST(CudaFp32Nchw, ConvIm2colChunkedBatch33) {
  OCTET_SKIP_WITHOUT_CUDA();
  for (size_t limit : {size_t{200} << 10, size_t{1}}) {
    SCOPED_TRACE("workspace limit " + std::to_string(limit));
    TestGraph t;
    const ValueId x = t.input("x", {33, 5, 14, 13});
    const ValueId r = t.input("residual", {33, 11, 14, 13});
    ConvAttrs a = conv_attrs(3, 3, 1, 1, 1, 1, 1, 1);
    a.epilogue.activation = activation(Activation::kRelu);
    t.output(add_conv(t, "conv", x, 11, a, true, 21, r));
    CudaBackendTuning tuning;
    tuning.im2col_workspace_limit_bytes = limit;
    const auto context = expect_cuda_matches_cpu(t.graph, 3, tuning);
    EXPECT_NE(context->describe().find(limit == 1 ? "1 images per chunk" : "images per chunk"), std::string::npos)
        << context->describe();
  }
}

TEST(CudaFp32Nchw, ConvFusedResidualEveryActivation) {
  OCTET_SKIP_WITHOUT_CUDA();
  for (Activation kind : kAllActivations) {
    SCOPED_TRACE("activation " + std::to_string(static_cast<int>(kind)));
    TestGraph t;
    const ValueId x = t.input("x", {2, 6, 8, 8});
    const ValueId r = t.input("residual", {2, 10, 8, 8});
    ConvAttrs a = conv_attrs(3, 3, 1, 1, 1, 1, 1, 1);
    a.epilogue.activation = activation(kind);
    const ValueId y = add_conv(t, "conv3x3", x, 10, a, true, 22, r);
    ConvAttrs pw = conv_attrs(1, 1);
    pw.epilogue.activation = activation(kind);
    const ValueId z = add_conv(t, "conv1x1", y, 10, pw, true, 23, y);  // residual = its own input
    ConvAttrs dw = conv_attrs(3, 3, 1, 1, 1, 1, 1, 1);
    dw.group = 10;
    dw.epilogue.activation = activation(kind);
    t.output(add_conv(t, "depthwise", z, 10, dw, true, 24, r));
    expect_cuda_matches_cpu(t.graph, 40 + static_cast<uint32_t>(kind));
  }
}

// A ResNet-50 bottleneck with a projection shortcut, fused as the FP32 passes leave it, batch 1 and 33.
TEST(CudaFp32Nchw, ResNetBottleneckBlock) {
  OCTET_SKIP_WITHOUT_CUDA();
  for (int64_t batch : {1, 33}) {
    TestGraph t;
    const ValueId x = t.input("x", {batch, 32, 14, 14});
    ConvAttrs relu1x1 = conv_attrs(1, 1);
    relu1x1.epilogue.activation = activation(Activation::kRelu);
    const ValueId a = add_conv(t, "reduce", x, 16, relu1x1, true, 30);
    ConvAttrs relu3x3 = conv_attrs(3, 3, 2, 2, 1, 1, 1, 1);
    relu3x3.epilogue.activation = activation(Activation::kRelu);
    const ValueId b = add_conv(t, "conv3x3", a, 16, relu3x3, true, 31);
    const ValueId shortcut = add_conv(t, "shortcut", x, 64, conv_attrs(1, 1, 2, 2), true, 32);
    const ValueId c = add_conv(t, "expand", b, 64, relu1x1, true, 33, shortcut);
    const ValueId pooled = t.node(OpKind::GlobalAveragePool, "pool", {c}, {}, {batch, 64, 1, 1});
    ReshapeAttrs flatten;
    flatten.rule = ReshapeAttrs::Rule::kFlatten;
    const ValueId flat = t.node(OpKind::Reshape, "flatten", {pooled}, flatten, {batch, 64});
    GemmAttrs fc;
    fc.trans_b = true;
    const ValueId w = t.constant("fc.w", {10, 64}, 34);
    const ValueId bias = t.constant("fc.b", {10}, 35);
    const ValueId logits = t.node(OpKind::Gemm, "fc", {flat, w, bias}, fc, {batch, 10});
    SoftmaxAttrs sm;
    sm.axis = 1;
    t.output(t.node(OpKind::Softmax, "softmax", {logits}, sm, {batch, 10}));
    t.output(logits);
    expect_cuda_matches_cpu(t.graph, 50 + static_cast<uint32_t>(batch));
  }
}

// FP32 GEMMs must not run on TF32 tensor cores unless asked: 1 + 2^-15 is a float, but TF32 keeps 10
// mantissa bits and rounds it to 1. Every partial sum j * (1 + 2^-15), j <= 16, is exact in float,
// so the FP32 result is exactly 16 + 2^-11 in any summation order; TF32 would give 16.
TEST(CudaFp32Nchw, GemmAndConvKeepFp32PrecisionTf32Off) {
  OCTET_SKIP_WITHOUT_CUDA();
  const float a_value = 1.0f + std::ldexp(1.0f, -15);
  const float expected = 16.0f + std::ldexp(1.0f, -11);
  {
    TestGraph t;
    const ValueId a = t.input("a", {64, 16});
    Tensor b(DataType::kFloat32, {16, 64});
    std::fill(b.data<float>(), b.data<float>() + b.numel(), 1.0f);
    const ValueId y = t.node(OpKind::Gemm, "gemm", {a, t.constant("b", std::move(b))}, GemmAttrs{}, {64, 64});
    t.output(y);
    Tensor input(DataType::kFloat32, {64, 16});
    std::fill(input.data<float>(), input.data<float>() + input.numel(), a_value);
    const auto out = create_cuda_context(t.graph, {})->run({input});
    for (int64_t i = 0; i < out[0].numel(); ++i) ASSERT_EQ(out[0].data<float>()[i], expected) << "at " << i;
  }
  {
    TestGraph t;
    const ValueId x = t.input("x", {2, 16, 6, 6});
    Tensor w(DataType::kFloat32, {8, 16, 1, 1});
    std::fill(w.data<float>(), w.data<float>() + w.numel(), 1.0f);
    const ValueId y = t.node(OpKind::Conv, "conv", {x, t.constant("w", std::move(w))}, conv_attrs(1, 1), {2, 8, 6, 6});
    t.output(y);
    Tensor input(DataType::kFloat32, {2, 16, 6, 6});
    std::fill(input.data<float>(), input.data<float>() + input.numel(), a_value);
    const auto out = create_cuda_context(t.graph, {})->run({input});
    for (int64_t i = 0; i < out[0].numel(); ++i) ASSERT_EQ(out[0].data<float>()[i], expected) << "at " << i;
    // With TF32 allowed the same graph runs, within TF32's rounding (2^-11 relative per operand).
    BackendOptions tf32;
    tf32.allow_tf32 = true;
    const auto fast = create_cuda_context(t.graph, tf32)->run({input});
    for (int64_t i = 0; i < fast[0].numel(); ++i)
      ASSERT_NEAR(fast[0].data<float>()[i], expected, 16.0 * std::ldexp(1.0, -9)) << "at " << i;
  }
}

// ---- Gemm and MatMul ---------------------------------------------------------------------------------

BackendOptions batch_invariant_options() {
  BackendOptions options;
  options.batch_invariant = true;
  return options;
}

TEST(CudaFp32RowMajor, GemmTransposesAlphaBetaAndEveryCShape) {
  OCTET_SKIP_WITHOUT_CUDA();
  const int64_t m = 13, n = 17, k = 29;
  const std::vector<Dims> c_shapes = {{}, {1}, {n}, {1, n}, {m, 1}, {m, n}, {1, 1}};
  uint32_t seed = 60;
  for (bool trans_a : {false, true}) {
    for (bool trans_b : {false, true}) {
      for (size_t ci = 0; ci <= c_shapes.size(); ++ci) {  // the last round has no C
        SCOPED_TRACE(detail::concat("trans_a ", trans_a, " trans_b ", trans_b, " C ",
                                    ci < c_shapes.size() ? to_string(c_shapes[ci]) : "none"));
        TestGraph t;
        const ValueId a = t.input("a", trans_a ? Dims{k, m} : Dims{m, k});
        const ValueId b = t.constant("b", trans_b ? Dims{n, k} : Dims{k, n}, ++seed);
        GemmAttrs attrs;
        attrs.trans_a = trans_a;
        attrs.trans_b = trans_b;
        attrs.alpha = 0.75f;
        attrs.beta = -1.5f;
        std::vector<ValueId> inputs{a, b};
        if (ci < c_shapes.size()) inputs.push_back(t.constant("c", c_shapes[ci], ++seed));
        t.output(t.node(OpKind::Gemm, "gemm", inputs, attrs, {m, n}));
        expect_cuda_matches_cpu(t.graph, ++seed);
        expect_cuda_matches_cpu(t.graph, ++seed, {}, batch_invariant_options());  // gemm_dot_kernel
      }
    }
  }
}

TEST(CudaFp32RowMajor, GemmResidualEveryActivation) {
  OCTET_SKIP_WITHOUT_CUDA();
  for (Activation kind : kAllActivations) {
    SCOPED_TRACE("activation " + std::to_string(static_cast<int>(kind)));
    TestGraph t;
    const ValueId a = t.input("a", {33, 40});
    const ValueId r = t.input("residual", {33, 21});
    GemmAttrs attrs;
    attrs.trans_b = true;
    attrs.epilogue.activation = activation(kind);
    attrs.epilogue.has_residual = true;
    t.output(
        t.node(OpKind::Gemm, "fc", {a, t.constant("w", {21, 40}, 70), t.constant("b", {21}, 71), r}, attrs, {33, 21}));
    expect_cuda_matches_cpu(t.graph, 72 + static_cast<uint32_t>(kind));
  }
}

TEST(CudaFp32RowMajor, MatMulBatchBroadcasting) {
  OCTET_SKIP_WITHOUT_CUDA();
  struct Case {
    Dims a, b, y;
  };
  const std::vector<Case> cases = {
      {{5, 7}, {7, 3}, {5, 3}},                    // plain
      {{4, 5, 7}, {7, 3}, {4, 5, 3}},              // shared B: one GEMM over stacked rows
      {{4, 5, 7}, {4, 7, 3}, {4, 5, 3}},           // fully batched
      {{5, 7}, {4, 7, 3}, {4, 5, 3}},              // shared A
      {{2, 1, 5, 7}, {1, 3, 7, 3}, {2, 3, 5, 3}},  // mixed: one GEMM per batch entry
      {{7}, {2, 7, 3}, {2, 3}},                    // 1-D A
      {{2, 5, 7}, {7}, {2, 5}},                    // 1-D B
      {{7}, {7}, {}},                              // dot product
  };
  uint32_t seed = 80;
  for (const Case& c : cases) {
    SCOPED_TRACE(to_string(c.a) + " @ " + to_string(c.b));
    TestGraph t;
    const ValueId a = t.input("a", c.a);
    const ValueId b = t.input("b", c.b);
    t.output(t.node(OpKind::MatMul, "matmul", {a, b}, {}, c.y));
    expect_cuda_matches_cpu(t.graph, ++seed);
    expect_cuda_matches_cpu(t.graph, ++seed, {}, batch_invariant_options());  // gemm_dot_kernel
  }
}

TEST(CudaFp32RowMajor, MatMulResidualActivation) {
  OCTET_SKIP_WITHOUT_CUDA();
  TestGraph t;
  const ValueId a = t.input("a", {3, 6, 10});
  const ValueId r = t.input("residual", {3, 6, 4});
  GemmAttrs attrs;
  attrs.beta = 0.0f;
  attrs.epilogue.activation = activation(Activation::kHardSwish);
  attrs.epilogue.has_residual = true;
  t.output(t.node(OpKind::MatMul, "matmul", {a, t.constant("b", {10, 4}, 90), kNoValue, r}, attrs, {3, 6, 4}));
  expect_cuda_matches_cpu(t.graph, 91);
}

// ---- pointwise ---------------------------------------------------------------------------------------

TEST(CudaFp32, BinaryOpsBroadcasting) {
  OCTET_SKIP_WITHOUT_CUDA();
  struct Case {
    Dims a, b, y;
  };
  const std::vector<Case> cases = {
      {{2, 3, 5, 7}, {2, 3, 5, 7}, {2, 3, 5, 7}},                    // same shape
      {{2, 3, 5, 7}, {}, {2, 3, 5, 7}},                              // scalar
      {{2, 3, 5, 7}, {3, 1, 1}, {2, 3, 5, 7}},                       // per channel
      {{1}, {4, 9}, {4, 9}},                                         // broadcast a
      {{2, 1, 4}, {3, 1}, {2, 3, 4}},                                // both broadcast
      {{2, 1, 3, 1, 2, 5}, {1, 4, 1, 3, 2, 1}, {2, 4, 3, 3, 2, 5}},  // rank 6, alternating
  };
  const std::pair<OpKind, const char*> ops[] = {
      {OpKind::Add, "add"}, {OpKind::Sub, "sub"}, {OpKind::Mul, "mul"}, {OpKind::Div, "div"}};
  uint32_t seed = 100;
  for (const Case& c : cases) {
    for (const auto& [op, name] : ops) {
      SCOPED_TRACE(std::string(name) + " " + to_string(c.a) + " with " + to_string(c.b));
      TestGraph t;
      const ValueId a = t.input("a", c.a);
      const ValueId b = t.input("b", c.b);
      t.output(t.node(op, name, {a, b}, {}, c.y));
      expect_cuda_matches_cpu(t.graph, ++seed);
    }
  }
}

TEST(CudaFp32, ActivationsStandaloneEveryKindAlignedAndTail) {
  OCTET_SKIP_WITHOUT_CUDA();
  const std::pair<OpKind, Activation> ops[] = {{OpKind::Relu, Activation::kRelu},
                                               {OpKind::Clip, Activation::kClip},
                                               {OpKind::LeakyRelu, Activation::kLeakyRelu},
                                               {OpKind::Sigmoid, Activation::kSigmoid},
                                               {OpKind::HardSigmoid, Activation::kHardSigmoid},
                                               {OpKind::HardSwish, Activation::kHardSwish}};
  uint32_t seed = 120;
  for (const auto& [op, kind] : ops) {
    for (const Dims& dims : {Dims{4, 8, 16}, Dims{1001}, Dims{3}}) {  // float4 body, float4 + tail, tail only
      SCOPED_TRACE(std::string(to_string(op)) + " " + to_string(dims));
      TestGraph t;
      const ValueId x = t.input("x", dims);
      ActivationParams params = activation(kind);
      const ValueId y = t.node(op, "act", {x}, params, dims);
      // An attribute-less node takes ONNX's defaults; a second node checks that path too.
      t.output(t.node(op, "act_defaults", {y}, {}, dims));
      expect_cuda_matches_cpu(t.graph, ++seed);
    }
  }
}

TEST(CudaFp32Nchw, BatchNormalizationInference) {
  OCTET_SKIP_WITHOUT_CUDA();
  for (const Dims& dims : {Dims{2, 5, 6, 4}, Dims{3, 7, 5, 3}, Dims{4, 6}}) {  // float4 path, scalar path, rank 2
    SCOPED_TRACE(to_string(dims));
    TestGraph t;
    const ValueId x = t.input("x", dims);
    const int64_t c = dims[1];
    BatchNormAttrs attrs;
    attrs.epsilon = 1e-3f;
    t.output(t.node(OpKind::BatchNormalization, "bn",
                    {x, t.constant("scale", {c}, 130), t.constant("bias", {c}, 131), t.constant("mean", {c}, 132),
                     t.constant("var", {c}, 133, 0.1f, 2.0f)},
                    attrs, dims));
    expect_cuda_matches_cpu(t.graph, 134);
  }
}

// ---- pooling -------------------------------------------------------------------------------------------

PoolAttrs pool_attrs(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pt, int64_t pl, int64_t pb, int64_t pr) {
  PoolAttrs a;
  a.kernel_h = kh;
  a.kernel_w = kw;
  a.stride_h = sh;
  a.stride_w = sw;
  a.pad_top = pt;
  a.pad_left = pl;
  a.pad_bottom = pb;
  a.pad_right = pr;
  return a;
}

TEST(CudaFp32Nchw, MaxPoolAndAveragePoolPadsCeilModeDilation) {
  OCTET_SKIP_WITHOUT_CUDA();
  std::vector<PoolAttrs> variants;
  variants.push_back(pool_attrs(3, 3, 2, 2, 1, 1, 1, 1));  // ResNet's stem pool
  PoolAttrs ceil = pool_attrs(3, 2, 2, 3, 0, 1, 1, 0);
  ceil.ceil_mode = true;
  variants.push_back(ceil);
  PoolAttrs dilated = pool_attrs(2, 3, 1, 2, 1, 0, 0, 2);
  dilated.dilation_h = 2;
  dilated.dilation_w = 2;
  variants.push_back(dilated);
  PoolAttrs ceil_overhang = pool_attrs(3, 3, 2, 2, 1, 1, 1, 1);  // the last window leaves the padded input
  ceil_overhang.ceil_mode = true;
  variants.push_back(ceil_overhang);
  uint32_t seed = 140;
  for (size_t v = 0; v < variants.size(); ++v) {
    for (OpKind op : {OpKind::MaxPool, OpKind::AveragePool}) {
      for (bool include_pad : {false, true}) {
        if (op == OpKind::MaxPool && include_pad) continue;
        SCOPED_TRACE(detail::concat("variant ", v, " ", to_string(op), " count_include_pad ", include_pad));
        PoolAttrs a = variants[v];
        a.count_include_pad = include_pad;
        TestGraph t;
        const Dims xd{3, 5, 12, 11};
        const ValueId x = t.input("x", xd);
        const int64_t oh =
            window_extent(xd[2], a.kernel_h, a.stride_h, a.pad_top, a.pad_bottom, a.dilation_h, a.ceil_mode);
        const int64_t ow =
            window_extent(xd[3], a.kernel_w, a.stride_w, a.pad_left, a.pad_right, a.dilation_w, a.ceil_mode);
        t.output(t.node(op, "pool", {x}, a, {xd[0], xd[1], oh, ow}));
        expect_cuda_matches_cpu(t.graph, ++seed);
      }
    }
  }
}

TEST(CudaFp32Nchw, MaxPoolIndicesOutput) {
  OCTET_SKIP_WITHOUT_CUDA();
  TestGraph t;
  const ValueId x = t.input("x", {2, 3, 9, 9});
  const PoolAttrs a = pool_attrs(3, 3, 2, 2, 1, 1, 1, 1);
  const ValueId y = t.value("y", {2, 3, 5, 5});
  const ValueId indices = t.value("indices", {2, 3, 5, 5}, DataType::kInt64);
  t.add_node(OpKind::MaxPool, "pool", {x}, {y, indices}, a);
  t.output(y);
  t.output(indices);
  expect_cuda_matches_cpu(t.graph, 150);
}

TEST(CudaFp32Nchw, GlobalPools) {
  OCTET_SKIP_WITHOUT_CUDA();
  for (const Dims& dims : {Dims{2, 5, 7, 7}, Dims{3, 4, 33, 35}, Dims{2, 3, 1, 1}, Dims{2, 6, 10}}) {
    for (OpKind op : {OpKind::GlobalAveragePool, OpKind::GlobalMaxPool}) {
      SCOPED_TRACE(std::string(to_string(op)) + " " + to_string(dims));
      TestGraph t;
      const ValueId x = t.input("x", dims);
      Dims out(dims.size(), 1);
      out[0] = dims[0];
      out[1] = dims[1];
      t.output(t.node(op, "pool", {x}, {}, out));
      expect_cuda_matches_cpu(t.graph, 160);
    }
  }
}

// ---- layout ops ------------------------------------------------------------------------------------

TEST(CudaFp32, TransposePermutationsAndElementSizes) {
  OCTET_SKIP_WITHOUT_CUDA();
  const Dims xd{2, 3, 4, 5};
  const std::vector<Dims> perms = {{0, 2, 3, 1}, {0, 3, 1, 2}, {3, 2, 1, 0}, {1, 0, 2, 3}, {0, 1, 2, 3}, {}};
  for (DataType type : {DataType::kFloat32, DataType::kInt64, DataType::kUInt8}) {
    for (const Dims& perm : perms) {
      SCOPED_TRACE(std::string(to_string(type)) + " perm " + to_string(perm));
      Dims yd;
      for (size_t d = 0; d < xd.size(); ++d)
        yd.push_back(xd[perm.empty() ? xd.size() - 1 - d : static_cast<size_t>(perm[d])]);
      TestGraph t;
      const ValueId x = t.input("x", xd, type);
      TransposeAttrs a;
      a.perm = perm;
      t.output(t.node(OpKind::Transpose, "transpose", {x}, a, yd, type));
      expect_cuda_matches_cpu(t.graph, 170);
    }
  }
}

TEST(CudaFp32, ConcatEveryAxis) {
  OCTET_SKIP_WITHOUT_CUDA();
  for (int64_t axis = 0; axis < 4; ++axis) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    TestGraph t;
    std::vector<ValueId> inputs;
    Dims yd{2, 3, 4, 5};
    yd[static_cast<size_t>(axis)] = 0;
    for (int64_t extent : {1, 3, 2}) {
      Dims d{2, 3, 4, 5};
      d[static_cast<size_t>(axis)] = extent;
      yd[static_cast<size_t>(axis)] += extent;
      inputs.push_back(t.input("x" + std::to_string(extent), d));
    }
    inputs.push_back(t.constant(
        "c",
        [&] {
          Dims d{2, 3, 4, 5};
          d[static_cast<size_t>(axis)] = 2;
          return d;
        }(),
        180));
    yd[static_cast<size_t>(axis)] += 2;
    ConcatAttrs a;
    a.axis = axis;
    t.output(t.node(OpKind::Concat, "concat", inputs, a, yd));
    expect_cuda_matches_cpu(t.graph, 181);
  }
}

TEST(CudaFp32, SoftmaxSingleAxisAndCoerce2d) {
  OCTET_SKIP_WITHOUT_CUDA();
  const Dims xd{3, 4, 5, 6};
  for (int64_t axis = 0; axis < 4; ++axis) {
    for (bool coerce : {false, true}) {
      SCOPED_TRACE(detail::concat("axis ", axis, " coerce_2d ", coerce));
      TestGraph t;
      const ValueId x = t.input("x", xd);
      SoftmaxAttrs a;
      a.axis = axis;
      a.coerce_2d = coerce;
      t.output(t.node(OpKind::Softmax, "softmax", {x}, a, xd));
      expect_cuda_matches_cpu(t.graph, 190);
    }
  }
  TestGraph wide;  // one long row per warp: 1000 classes
  const ValueId x = wide.input("x", {7, 1000});
  SoftmaxAttrs a;
  a.axis = 1;
  wide.output(wide.node(OpKind::Softmax, "softmax", {x}, a, {7, 1000}));
  expect_cuda_matches_cpu(wide.graph, 191);
  TestGraph dfl;  // a YOLOv8 box head's 16 bins over axis 1: the column kernel of fixed length
  const ValueId bins = dfl.input("bins", {2, 16, 4, 50});
  dfl.output(dfl.node(OpKind::Softmax, "softmax", {bins}, a, {2, 16, 4, 50}));
  expect_cuda_matches_cpu(dfl.graph, 192);
}

TEST(CudaFp32, PadConstantPositiveAndNegative) {
  OCTET_SKIP_WITHOUT_CUDA();
  const Dims xd{2, 3, 6, 7};
  const std::vector<Dims> pads = {{0, 0, 1, 2, 0, 0, 3, 0}, {0, 1, -1, 2, 1, 0, 2, -3}, {-1, 0, -2, -2, 0, -1, 0, -1}};
  for (const Dims& p : pads) {
    SCOPED_TRACE("pads " + to_string(p));
    Dims yd;
    for (size_t d = 0; d < 4; ++d) yd.push_back(xd[d] + p[d] + p[d + 4]);
    TestGraph t;
    const ValueId x = t.input("x", xd);
    PadAttrs a;
    a.pads = p;
    a.value = -2.5f;
    t.output(t.node(OpKind::Pad, "pad", {x}, a, yd));
    expect_cuda_matches_cpu(t.graph, 200);
  }
}

// Reshape/Identity alias their input when the output is not a graph output, and copy when it is.
TEST(CudaFp32, ReshapeIdentityAliasAndCopy) {
  OCTET_SKIP_WITHOUT_CUDA();
  TestGraph t;
  const ValueId x = t.input("x", {2, 3, 4});
  const ValueId relu = t.node(OpKind::Relu, "relu", {x}, activation(Activation::kRelu), {2, 3, 4});
  ReshapeAttrs flatten;
  flatten.rule = ReshapeAttrs::Rule::kFlatten;
  const ValueId flat = t.node(OpKind::Reshape, "flatten", {relu}, flatten, {2, 12});  // alias
  const ValueId same = t.node(OpKind::Identity, "identity", {flat}, {}, {2, 12});     // alias of an alias
  const ValueId sig = t.node(OpKind::Sigmoid, "sigmoid", {same}, activation(Activation::kSigmoid), {2, 12});
  ReshapeAttrs back;
  back.shape = {2, 3, 4};
  const ValueId out = t.node(OpKind::Reshape, "unflatten", {sig}, back, {2, 3, 4});         // graph output: copy
  const ValueId in_alias = t.node(OpKind::Identity, "input_identity", {x}, {}, {2, 3, 4});  // of a graph input
  // relu is read again after its aliases were consumed: its memory must outlive them.
  const ValueId sum = t.node(OpKind::Add, "add", {relu, in_alias}, {}, {2, 3, 4});
  const ValueId flat_out = t.node(OpKind::Reshape, "flatten_out", {sum}, flatten, {2, 12});  // graph output: copy
  const ValueId reread = t.node(OpKind::Identity, "reread", {flat_out}, {}, {2, 12});  // alias of an output buffer
  t.output(out);
  t.output(flat_out);
  t.output(t.node(OpKind::Relu, "relu_out", {reread}, activation(Activation::kRelu), {2, 12}));
  expect_cuda_matches_cpu(t.graph, 210);
}

// ---- batch invariance --------------------------------------------------------------------------------

// tests/kernels/batch_invariance.h: with batch_invariant every node output of every sample has the
// same bytes at batch 1, 5 (padded) and 64 (reversed): per-image GEMMs for the 3x3, 1x1 and grouped
// convolutions, the direct depthwise kernel, gemm_dot_kernel for Gemm and MatMul, and the per-row
// GlobalAveragePool and Softmax.
TEST(CudaFp32Nchw, BatchInvariantGivesEverySampleTheSameBits) {
  OCTET_SKIP_WITHOUT_CUDA();
  test::expect_batch_invariant(BackendKind::kCuda, BackendOptions{}, [](const TensorView& view, size_t bytes) {
    EXPECT_EQ(view.location, MemoryLocation::kCuda);
    std::vector<unsigned char> host(bytes);
    if (bytes != 0) {
      EXPECT_EQ(cudaMemcpy(host.data(), view.data, bytes, cudaMemcpyDeviceToHost), cudaSuccess);
    }
    return host;
  });
}

// The same graph, batch-invariant, node by node against the CPU reference within the bounds of the
// header (the per-image plans compute the same sums as the others, in another grouping).
TEST(CudaFp32Nchw, BatchInvariantMatchesTheCpuReference) {
  OCTET_SKIP_WITHOUT_CUDA();
  expect_cuda_matches_cpu(test::batch_invariance_graph(5), 123, {}, batch_invariant_options());
}

TEST(CudaMemoryPlanHost, BatchInvariantPlansOneImageOfIm2colWorkspace) {
  const Graph graph = test::batch_invariance_graph(64);
  const CudaMemoryPlan one = plan_cuda_memory(test::batch_invariance_graph(1));
  const CudaMemoryPlan invariant = plan_cuda_memory(graph, {}, /*batch_invariant=*/true);
  EXPECT_EQ(invariant.im2col_workspace, one.im2col_workspace);
  EXPECT_GT(plan_cuda_memory(graph).im2col_workspace, invariant.im2col_workspace);
}

// ---- memory plan, observer, API --------------------------------------------------------------------

// A long chain of same-size values needs two arena buffers, not one per value; a value read much
// later (the skip connection) keeps its bytes until then, which the per-node check verifies.
TEST(CudaFp32, ArenaReusesMemoryByLiveness) {
  OCTET_SKIP_WITHOUT_CUDA();
  TestGraph t;
  const ValueId x = t.input("x", {4, 16, 16, 16});
  const ValueId skip = t.node(OpKind::Relu, "skip", {x}, activation(Activation::kRelu), {4, 16, 16, 16});
  ValueId v = skip;
  for (int i = 0; i < 8; ++i)
    v = t.node(i % 2 ? OpKind::Sigmoid : OpKind::HardSwish, "chain" + std::to_string(i), {v},
               activation(i % 2 ? Activation::kSigmoid : Activation::kHardSwish), {4, 16, 16, 16});
  t.output(t.node(OpKind::Add, "join", {v, skip}, {}, {4, 16, 16, 16}));
  const auto context = expect_cuda_matches_cpu(t.graph, 220);
  const CudaMemoryPlan plan = context->memory_plan();
  const size_t one = 4 * 16 * 16 * 16 * sizeof(float);
  EXPECT_EQ(plan.arena_unshared, 9 * one);
  EXPECT_EQ(plan.arena, 3 * one) << "skip, and two alternating chain buffers";
  EXPECT_EQ(plan.inputs_outputs, 2 * one);
}

TEST(CudaFp32, DeviceOnlyRunsAndTiming) {
  OCTET_SKIP_WITHOUT_CUDA();
  TestGraph t;
  const ValueId x = t.input("x", {2, 4, 8, 8});
  ConvAttrs a = conv_attrs(3, 3, 1, 1, 1, 1, 1, 1);
  a.epilogue.activation = activation(Activation::kRelu);
  const ValueId y = add_conv(t, "conv", x, 8, a, true, 230);
  t.output(t.node(OpKind::GlobalAveragePool, "pool", {y}, {}, {2, 8, 1, 1}));
  auto context = create_cuda_context(t.graph, {});
  const std::vector<Tensor> inputs = random_inputs(t.graph, 231);
  const std::vector<Tensor> expected = context->run(inputs);
  context->upload_inputs(random_inputs(t.graph, 232));
  context->upload_inputs(inputs);
  context->run_device_only();
  EXPECT_TRUE(bitwise_equal(context->download_outputs()[0], expected[0]));
  for (bool graph : {false, true}) {
    const std::vector<float> ms = context->time_device_runs(2, 5, graph);
    ASSERT_EQ(ms.size(), 5u);
    for (float v : ms) EXPECT_GT(v, 0.0f);
    EXPECT_TRUE(bitwise_equal(context->download_outputs()[0], expected[0])) << "cuda_graph " << graph;
  }
  EXPECT_NE(context->describe().find("TF32 off"), std::string::npos) << context->describe();
}

TEST(CudaFp32, ErrorsNameTheNodeAndTheTensor) {
  OCTET_SKIP_WITHOUT_CUDA();
  TestGraph t;
  const ValueId x = t.input("x", {2, 3, 8, 8});
  const ValueId w = t.constant("w", {4, 2, 3, 3}, 240);  // 3 input channels, weight says 2
  t.output(t.node(OpKind::Conv, "bad_conv", {x, w}, conv_attrs(3, 3), {2, 4, 6, 6}));
  try {
    create_cuda_context(t.graph, {});
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad_conv"), std::string::npos) << e.what();
  }
  TestGraph ok;
  const ValueId in = ok.input("in", {3});
  ok.output(ok.node(OpKind::Relu, "relu", {in}, {}, {3}));
  auto context = create_cuda_context(ok.graph, {});
  try {
    context->run({Tensor(DataType::kFloat32, {4})});
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'in'"), std::string::npos) << e.what();
  }
}

// ResNet-50 v1.5 (torchvision) as octet's FP32 passes leave it: BN folded, bias + ReLU fused into
// each convolution, the residual Add fused into the last convolution of each block.
Graph resnet50_fused(int64_t batch) {
  TestGraph t;
  uint32_t seed = 1000;
  ConvAttrs stem = conv_attrs(7, 7, 2, 2, 3, 3, 3, 3);
  stem.epilogue.activation = activation(Activation::kRelu);
  ValueId x = add_conv(t, "conv1", t.input("images", {batch, 3, 224, 224}), 64, stem, true, ++seed);
  x = t.node(OpKind::MaxPool, "maxpool", {x}, pool_attrs(3, 3, 2, 2, 1, 1, 1, 1), {batch, 64, 56, 56});
  const int64_t blocks[] = {3, 4, 6, 3};
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t width = int64_t{64} << stage;
    for (int64_t b = 0; b < blocks[stage]; ++b) {
      const std::string name = "layer" + std::to_string(stage + 1) + "." + std::to_string(b);
      const int64_t stride = b == 0 && stage > 0 ? 2 : 1;
      ConvAttrs reduce = conv_attrs(1, 1);
      reduce.epilogue.activation = activation(Activation::kRelu);
      const ValueId a = add_conv(t, name + ".conv1", x, width, reduce, true, ++seed);
      ConvAttrs spatial = conv_attrs(3, 3, stride, stride, 1, 1, 1, 1);
      spatial.epilogue.activation = activation(Activation::kRelu);
      const ValueId c = add_conv(t, name + ".conv2", a, width, spatial, true, ++seed);
      const ValueId shortcut =
          b == 0 ? add_conv(t, name + ".downsample", x, 4 * width, conv_attrs(1, 1, stride, stride), true, ++seed) : x;
      ConvAttrs expand = conv_attrs(1, 1);
      expand.epilogue.activation = activation(Activation::kRelu);
      x = add_conv(t, name + ".conv3", c, 4 * width, expand, true, ++seed, shortcut);
    }
  }
  x = t.node(OpKind::GlobalAveragePool, "avgpool", {x}, {}, {batch, 2048, 1, 1});
  ReshapeAttrs flatten;
  flatten.rule = ReshapeAttrs::Rule::kFlatten;
  x = t.node(OpKind::Reshape, "flatten", {x}, flatten, {batch, 2048});
  GemmAttrs fc;
  fc.trans_b = true;
  t.output(t.node(OpKind::Gemm, "fc", {x, t.constant("fc.w", {1000, 2048}, ++seed), t.constant("fc.b", {1000}, ++seed)},
                  fc, {batch, 1000}));
  return std::move(t.graph);
}

// Runs without a GPU: the memory plan is made on the host.
TEST(CudaMemoryPlanHost, ResNet50Batch128ArenaSharesMemory) {
  const Graph graph = resnet50_fused(128);
  const CudaMemoryPlan plan = plan_cuda_memory(graph);
  const double mib = 1024.0 * 1024.0;
  std::cout << "ResNet-50 batch 128: constants " << plan.constants / mib << " MiB, arena " << plan.arena / mib
            << " MiB (unshared " << plan.arena_unshared / mib << " MiB), inputs/outputs " << plan.inputs_outputs / mib
            << " MiB, im2col workspace " << plan.im2col_workspace / mib << " MiB, total " << plan.total() / mib
            << " MiB\n";
  // Lower bound: while layer1.0.conv3 runs, its input [128, 64, 56, 56], its residual (the
  // downsample output) and its output, both [128, 256, 56, 56], are alive: 98 + 392 + 392 MiB. No
  // later point needs more, and the greedy placement reaches the bound.
  const size_t wide = size_t{128} * 256 * 56 * 56 * sizeof(float);
  EXPECT_EQ(plan.arena, 2 * wide + wide / 4);
  EXPECT_GT(plan.arena_unshared, 6 * plan.arena);
  EXPECT_LE(plan.im2col_workspace, CudaBackendTuning{}.im2col_workspace_limit_bytes);
  EXPECT_EQ(plan.inputs_outputs, size_t{128} * 3 * 224 * 224 * 4 + size_t{128} * 1000 * 4);
  // ~25.5 M parameters.
  EXPECT_NEAR(static_cast<double>(plan.constants) / 4.0, 25.5e6, 0.2e6);
}

TEST(CudaMemoryPlanHost, ChainNeedsTwoBuffersAndAliasesExtendLifetimes) {
  TestGraph t;
  const Dims d{4, 16, 16, 16};
  const size_t one = 4 * 16 * 16 * 16 * sizeof(float);
  const ValueId x = t.input("x", d);
  const ValueId first = t.node(OpKind::Relu, "first", {x}, activation(Activation::kRelu), d);
  ReshapeAttrs flatten;
  flatten.rule = ReshapeAttrs::Rule::kFlatten;
  const ValueId alias = t.node(OpKind::Reshape, "flatten", {first}, flatten, {4, 4096});
  ValueId v = first;
  for (int i = 0; i < 6; ++i)
    v = t.node(OpKind::Relu, "chain" + std::to_string(i), {v}, activation(Activation::kRelu), d);
  ReshapeAttrs back;
  back.shape = d;
  const ValueId unflat = t.node(OpKind::Reshape, "unflatten", {alias}, back, d);  // reads `first` late, via aliases
  t.output(t.node(OpKind::Add, "join", {v, unflat}, {}, d));
  const CudaMemoryPlan plan = plan_cuda_memory(t.graph);
  EXPECT_EQ(plan.arena_unshared, 7 * one) << "first and six chain values; the reshapes write nothing";
  EXPECT_EQ(plan.arena, 3 * one) << "`first` lives to the end through its aliases, the chain alternates";
  EXPECT_EQ(plan.im2col_workspace, 0u);
}

TEST(CudaMemoryPlanHost, InvalidGraphIsRefusedWithTheNodeName) {
  TestGraph t;
  const ValueId x = t.input("x", {2, 3});
  t.output(t.node(OpKind::Add, "bad_add", {x, t.constant("c", {4}, 1)}, {}, {2, 3}));
  try {
    plan_cuda_memory(t.graph);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad_add"), std::string::npos) << e.what();
  }
}

TEST(CudaDevice, DescriptionAndPresenceNeverThrow) {
  const bool present = cuda_device_present();
  const std::string description = cuda_describe_device(0);
  EXPECT_FALSE(description.empty());
  if (present) {
    EXPECT_NE(description.find("sm_"), std::string::npos) << description;
  }
  EXPECT_NE(cuda_describe_device(1 << 20).find("no CUDA device"), std::string::npos);
}

}  // namespace
}  // namespace octet
