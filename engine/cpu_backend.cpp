// The CPU backend (engine/cpu_backend.h): validates a Graph once, allocates one host buffer per
// value the nodes write, and runs the nodes in order with the kernels of kernels/cpu.
//
// Validation at creation checks everything a kernel relies on (input counts, float32 where the
// kernel computes, every dimension of every output against the operator's rule), so run() only
// checks the caller's input tensors and never indexes out of bounds. Errors name the node or tensor.
//
// Threads: BackendOptions::threads (0 = all hardware threads) sizes the kernels' parallel_for and,
// on the fast path, OpenBLAS (kernels/cpu/sgemm.h: set once here, process-wide). Both never run at
// the same time, so a context keeps at most that many cores busy.
#include "engine/cpu_backend.h"

#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/conv_im2col.h"
#include "kernels/cpu/conv_ref.h"
#include "kernels/cpu/elementwise_ref.h"
#include "kernels/cpu/gemm_ref.h"
#include "kernels/cpu/gemm_sgemm.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/pool_ref.h"
#include "kernels/cpu/sgemm.h"
#include "kernels/cpu/tensor_ops_ref.h"
#include "kernels/cpu/window.h"
#include "kernels/shapes.h"

namespace octet {

namespace {

std::string node_label(const Node& node) {
  return detail::concat("node '", node.name, "' (", to_string(node.op), ")");
}

// What creation works out once per node for run().
struct NodePlan {
  ActivationParams activation;        // the activation ops
  kernels::Conv2dIm2colPlan conv;     // Conv on the fast path
};

// Checks one node against the graph; every failure names the node and, where one is at fault, the
// tensor.
class NodeChecker {
 public:
  NodeChecker(const Graph& graph, const Node& node) : graph_(graph), node_(node) {}

  // A graph that contradicts the operator: Error.
  template <typename... Parts>
  void check(bool condition, Parts&&... parts) const {
    if (!condition) throw Error(detail::concat(node_label(node_), ": ", std::forward<Parts>(parts)...));
  }
  // Valid ONNX that this backend does not implement: UnsupportedError (engine/error.h).
  template <typename... Parts>
  void supported(bool condition, Parts&&... parts) const {
    if (!condition) OCTET_UNSUPPORTED(node_label(node_), ": ", std::forward<Parts>(parts)...);
  }

  // Runs a shape rule from the kernels and puts the node's name on its Error.
  template <typename Rule>
  Dims rule(Rule&& compute) const {
    try {
      return compute();
    } catch (const Error& error) {
      throw Error(node_label(node_) + ": " + error.what());
    }
  }

  void input_count(size_t at_least, size_t at_most) const {
    const size_t count = node_.inputs.size();
    check(count >= at_least && count <= at_most, "takes ", at_least, at_least == at_most ? "" : " to ",
          at_least == at_most ? std::string() : std::to_string(at_most), " inputs, has ", count);
  }
  void single_output() const {
    check(!node_.outputs.empty(), "has no outputs");
    supported(node_.outputs.size() == 1, "has ", node_.outputs.size(),
              " outputs; the CPU backend computes only the first (MaxPool's Indices is not supported)");
  }

  const Value& in(size_t i) const {
    check(i < node_.inputs.size() && node_.inputs[i] != kNoValue, "input ", i, " is missing");
    return graph_.value(node_.inputs[i]);
  }
  const Value* optional_in(size_t i) const {
    if (i >= node_.inputs.size() || node_.inputs[i] == kNoValue) return nullptr;
    return &graph_.value(node_.inputs[i]);
  }
  const Value& out() const { return graph_.value(node_.outputs[0]); }

  void float32(const Value& value) const {
    supported(value.type == DataType::kFloat32, "tensor '", value.name, "' is ", to_string(value.type),
              ", the CPU backend runs this operator on float32 only");
  }
  void same_type(const Value& a, const Value& b) const {
    check(a.type == b.type, "tensor '", b.name, "' is ", to_string(b.type), " but '", a.name, "' is ",
          to_string(a.type));
  }
  void dims(const Value& value, const Dims& expected) const {
    check(value.dims == expected, "tensor '", value.name, "' has dims ", to_string(value.dims), ", expected ",
          to_string(expected));
  }

  template <typename Attrs>
  const Attrs& attrs() const {
    const Attrs* found = std::get_if<Attrs>(&node_.attrs);
    check(found != nullptr, "carries the wrong attribute kind for its operator");
    return *found;
  }

  const Node& node() const { return node_; }

 private:
  const Graph& graph_;
  const Node& node_;
};

void check_conv(const NodeChecker& c) {
  const auto& a = c.attrs<ConvAttrs>();
  c.input_count(2, 4);
  c.single_output();
  const Value& x = c.in(0);
  const Value& w = c.in(1);
  const Value* bias = c.optional_in(2);
  const Value* residual = c.optional_in(3);
  const Value& y = c.out();
  for (const Value* v : {&x, &w, bias, residual, &y})
    if (v) c.float32(*v);
  const size_t rank = x.dims.size();
  c.check(rank == 3 || rank == 4, "input '", x.name, "' must be [N, C, H, W] or [N, C, L], has dims ",
          to_string(x.dims));
  // A 1-D weight may be [K, C/group, S] or already lifted to [K, C/group, 1, S]: same memory.
  c.check(w.dims.size() == 4 || (rank == 3 && w.dims.size() == 3), "weight '", w.name, "' has dims ",
          to_string(w.dims), ", which do not fit input ", to_string(x.dims));
  c.check(a.group >= 1 && a.kernel_h >= 1 && a.kernel_w >= 1 && a.stride_h >= 1 && a.stride_w >= 1 &&
              a.dilation_h >= 1 && a.dilation_w >= 1 && a.pad_top >= 0 && a.pad_left >= 0 && a.pad_bottom >= 0 &&
              a.pad_right >= 0,
          "kernel, strides, dilations and group must be positive and pads non-negative");
  const int64_t channels = x.dims[1];
  const int64_t filters = w.dims[0];
  c.check(channels > 0 && channels % a.group == 0 && w.dims[1] == channels / a.group, "weight '", w.name,
          "' has dims ", to_string(w.dims), ": ", channels, " input channels in ", a.group, " groups need dim 1 = ",
          channels / a.group);
  c.check(filters > 0 && filters % a.group == 0, "weight '", w.name, "': ", filters,
          " output channels do not split into ", a.group, " groups");
  const int64_t kernel_h = w.dims.size() == 4 ? w.dims[2] : 1;
  c.check(kernel_h == a.kernel_h && w.dims.back() == a.kernel_w, "weight '", w.name, "' has dims ",
          to_string(w.dims), " but kernel_shape is ", a.kernel_h, "x", a.kernel_w);
  const int64_t in_h = rank == 4 ? x.dims[2] : 1;
  const int64_t oh = kernels::window_output_extent(in_h, a.kernel_h, a.stride_h, a.pad_top, a.pad_bottom,
                                                   a.dilation_h, false);
  const int64_t ow = kernels::window_output_extent(x.dims.back(), a.kernel_w, a.stride_w, a.pad_left, a.pad_right,
                                                   a.dilation_w, false);
  c.check(oh > 0 && ow > 0, "the kernel does not fit the padded input ", to_string(x.dims));
  c.check(rank == 4 || oh == 1, "a 1-D convolution cannot pad or stride along H");
  c.dims(y, rank == 4 ? Dims{x.dims[0], filters, oh, ow} : Dims{x.dims[0], filters, ow});
  if (bias) c.dims(*bias, {filters});
  c.check(a.epilogue.has_residual == (residual != nullptr), "epilogue.has_residual is ", a.epilogue.has_residual,
          " but input 3 (the residual) is ", residual ? "present" : "absent");
  if (residual) c.dims(*residual, y.dims);
}

void check_gemm(const NodeChecker& c) {
  const auto& a = c.attrs<GemmAttrs>();
  c.input_count(2, 4);
  c.single_output();
  const Value& mat_a = c.in(0);
  const Value& mat_b = c.in(1);
  const Value* mat_c = c.optional_in(2);
  const Value* residual = c.optional_in(3);
  const Value& y = c.out();
  for (const Value* v : {&mat_a, &mat_b, mat_c, residual, &y})
    if (v) c.float32(*v);
  c.check(mat_a.dims.size() == 2 && mat_b.dims.size() == 2, "A '", mat_a.name, "' ", to_string(mat_a.dims),
          " and B '", mat_b.name, "' ", to_string(mat_b.dims), " must be matrices");
  const int64_t m = a.trans_a ? mat_a.dims[1] : mat_a.dims[0];
  const int64_t k = a.trans_a ? mat_a.dims[0] : mat_a.dims[1];
  const int64_t k_b = a.trans_b ? mat_b.dims[1] : mat_b.dims[0];
  const int64_t n = a.trans_b ? mat_b.dims[0] : mat_b.dims[1];
  c.check(k == k_b, "inner dimensions differ: A ", to_string(mat_a.dims), (a.trans_a ? " (transposed)" : ""), ", B ",
          to_string(mat_b.dims), (a.trans_b ? " (transposed)" : ""));
  c.dims(y, {m, n});
  if (mat_c)
    c.check(kernels::broadcasts_to(mat_c->dims, {m, n}), "C '", mat_c->name, "' ", to_string(mat_c->dims),
            " does not broadcast to ", to_string(Dims{m, n}));
  c.check(a.epilogue.has_residual == (residual != nullptr), "epilogue.has_residual is ", a.epilogue.has_residual,
          " but input 3 (the residual) is ", residual ? "present" : "absent");
  if (residual) c.dims(*residual, y.dims);
}

void check_matmul(const NodeChecker& c) {
  const auto* a = std::get_if<GemmAttrs>(&c.node().attrs);
  c.check(a || std::holds_alternative<std::monostate>(c.node().attrs), "carries the wrong attribute kind for MatMul");
  c.check(!a || (!a->trans_a && !a->trans_b && a->alpha == 1.0f), "MatMul takes no transposes and alpha 1");
  c.input_count(2, 4);
  c.single_output();
  c.check(c.optional_in(2) == nullptr, "MatMul has no bias input (input 2 must be absent)");
  const Value& mat_a = c.in(0);
  const Value& mat_b = c.in(1);
  const Value* residual = c.optional_in(3);
  const Value& y = c.out();
  for (const Value* v : {&mat_a, &mat_b, residual, &y})
    if (v) c.float32(*v);
  c.dims(y, c.rule([&] { return kernels::matmul_output_dims(mat_a.dims, mat_b.dims); }));
  const bool has_residual = a && a->epilogue.has_residual;
  c.check(has_residual == (residual != nullptr), "epilogue.has_residual is ", has_residual,
          " but input 3 (the residual) is ", residual ? "present" : "absent");
  if (residual) c.dims(*residual, y.dims);
}

void check_binary(const NodeChecker& c) {
  c.input_count(2, 2);
  c.single_output();
  const Value& a = c.in(0);
  const Value& b = c.in(1);
  for (const Value* v : {&a, &b, &c.out()}) c.float32(*v);
  c.dims(c.out(), c.rule([&] { return kernels::broadcast_shape(a.dims, b.dims, "inputs"); }));
}

// Clip's bounds may still be listed as (constant) inputs 1 and 2; the importer put them in the
// attributes, which are what counts.
ActivationParams check_activation(const NodeChecker& c, Activation kind) {
  c.input_count(1, kind == Activation::kClip ? 3 : 1);
  c.single_output();
  const Value& x = c.in(0);
  c.float32(x);
  c.float32(c.out());
  c.dims(c.out(), x.dims);
  ActivationParams params;
  if (const auto* given = std::get_if<ActivationParams>(&c.node().attrs)) {
    c.check(given->kind == Activation::kNone || given->kind == kind, "its attributes describe another activation");
    params = *given;
  } else {
    c.check(std::holds_alternative<std::monostate>(c.node().attrs), "carries the wrong attribute kind");
    // ONNX defaults for an activation imported without attributes.
    if (kind == Activation::kClip) {
      params.alpha = -std::numeric_limits<float>::infinity();
      params.beta = std::numeric_limits<float>::infinity();
    }
    if (kind == Activation::kLeakyRelu) params.alpha = 0.01f;
    if (kind == Activation::kHardSigmoid) {
      params.alpha = 0.2f;
      params.beta = 0.5f;
    }
  }
  params.kind = kind;
  return params;
}

void check_batchnorm(const NodeChecker& c) {
  c.attrs<BatchNormAttrs>();
  c.input_count(5, 5);
  c.single_output();
  const Value& x = c.in(0);
  for (size_t i = 0; i < 5; ++i) c.float32(c.in(i));
  c.float32(c.out());
  c.check(x.dims.size() >= 2, "input '", x.name, "' needs rank >= 2, has dims ", to_string(x.dims));
  for (size_t i = 1; i < 5; ++i) c.dims(c.in(i), {x.dims[1]});
  c.dims(c.out(), x.dims);
}

void check_pool(const NodeChecker& c) {
  const auto& a = c.attrs<PoolAttrs>();
  c.input_count(1, 1);
  c.single_output();
  const Value& x = c.in(0);
  c.float32(x);
  c.float32(c.out());
  const size_t rank = x.dims.size();
  c.check(rank == 3 || rank == 4, "input '", x.name, "' must be [N, C, H, W] or [N, C, L], has dims ",
          to_string(x.dims));
  c.check(a.kernel_h >= 1 && a.kernel_w >= 1 && a.stride_h >= 1 && a.stride_w >= 1 && a.dilation_h >= 1 &&
              a.dilation_w >= 1 && a.pad_top >= 0 && a.pad_left >= 0 && a.pad_bottom >= 0 && a.pad_right >= 0,
          "kernel, strides and dilations must be positive and pads non-negative");
  const int64_t in_h = rank == 4 ? x.dims[2] : 1;
  const int64_t oh = kernels::window_output_extent(in_h, a.kernel_h, a.stride_h, a.pad_top, a.pad_bottom,
                                                   a.dilation_h, a.ceil_mode);
  const int64_t ow = kernels::window_output_extent(x.dims.back(), a.kernel_w, a.stride_w, a.pad_left, a.pad_right,
                                                   a.dilation_w, a.ceil_mode);
  c.check(oh > 0 && ow > 0, "the window does not fit the padded input ", to_string(x.dims));
  c.check(rank == 4 || oh == 1, "a 1-D pool cannot pad or stride along H");
  c.dims(c.out(), rank == 4 ? Dims{x.dims[0], x.dims[1], oh, ow} : Dims{x.dims[0], x.dims[1], ow});
}

void check_global_pool(const NodeChecker& c) {
  c.input_count(1, 1);
  c.single_output();
  const Value& x = c.in(0);
  c.float32(x);
  c.float32(c.out());
  c.check(x.dims.size() >= 3, "input '", x.name, "' must be [N, C, spatial...], has dims ", to_string(x.dims));
  Dims expected(x.dims.size(), 1);
  expected[0] = x.dims[0];
  expected[1] = x.dims[1];
  c.dims(c.out(), expected);
}

void check_reshape(const NodeChecker& c) {
  c.input_count(1, 2);  // ONNX Reshape's shape input, if still listed, is a constant the rule replaced
  c.single_output();
  const Value& x = c.in(0);
  const Value& y = c.out();
  c.same_type(x, y);
  c.check(numel(x.dims) == numel(y.dims), "output '", y.name, "' ", to_string(y.dims), " does not hold the ",
          numel(x.dims), " elements of input '", x.name, "' ", to_string(x.dims));
}

void check_identity(const NodeChecker& c) {
  c.input_count(1, 1);
  c.single_output();
  c.same_type(c.in(0), c.out());
  c.dims(c.out(), c.in(0).dims);
}

void check_transpose(const NodeChecker& c) {
  const auto& a = c.attrs<TransposeAttrs>();
  c.input_count(1, 1);
  c.single_output();
  c.same_type(c.in(0), c.out());
  c.dims(c.out(), c.rule([&] { return kernels::transpose_output_dims(c.in(0).dims, a.perm); }));
}

void check_concat(const NodeChecker& c) {
  const auto& a = c.attrs<ConcatAttrs>();
  c.input_count(1, std::numeric_limits<size_t>::max());
  c.single_output();
  std::vector<Dims> dims;
  for (size_t i = 0; i < c.node().inputs.size(); ++i) {
    c.same_type(c.out(), c.in(i));
    dims.push_back(c.in(i).dims);
  }
  c.dims(c.out(), c.rule([&] { return kernels::concat_output_dims(dims, a.axis); }));
}

void check_softmax(const NodeChecker& c) {
  const auto& a = c.attrs<SoftmaxAttrs>();
  c.input_count(1, 1);
  c.single_output();
  const Value& x = c.in(0);
  c.float32(x);
  c.float32(c.out());
  c.check(a.axis >= 0 && a.axis < static_cast<int64_t>(x.dims.size()), "axis ", a.axis,
          " is outside the rank of input '", x.name, "' ", to_string(x.dims));
  c.dims(c.out(), x.dims);
}

void check_pad(const NodeChecker& c) {
  const auto& a = c.attrs<PadAttrs>();
  // Pad's pads/constant_value/axes inputs, if still listed, are constants the attributes replaced.
  c.input_count(1, 4);
  c.single_output();
  const Value& x = c.in(0);
  c.float32(x);
  c.float32(c.out());
  c.dims(c.out(), c.rule([&] { return kernels::pad_output_dims(x.dims, a.pads); }));
}

class CpuContext final : public ExecutionContext {
 public:
  CpuContext(const Graph& graph, const BackendOptions& options)
      : graph_(graph), reference_(options.reference), threads_(kernels::resolve_thread_count(options.threads)) {
    check_wiring();
    plans_.resize(graph_.nodes.size());
    size_t workspace_floats = 0;
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      check_node(i);
      if (graph_.nodes[i].op == OpKind::Conv && !reference_) {
        plans_[i].conv = kernels::plan_conv2d_im2col(conv_shape(graph_.nodes[i]));
        workspace_floats = std::max(workspace_floats, plans_[i].conv.workspace_floats);
      }
    }
    allocate();
    workspace_.resize(workspace_floats);
    if (!reference_) kernels::blas_set_threads(threads_);
  }

  std::vector<Tensor> run(const std::vector<Tensor>& inputs) override {
    bind_inputs(inputs);
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      const Node& node = graph_.nodes[i];
      run_node(i);
      if (!observer_) continue;
      for (ValueId id : node.outputs) {
        const Value& v = graph_.value(id);
        observer_(node, id, TensorView{v.type, v.dims, bound_[static_cast<size_t>(id)], MemoryLocation::kHost});
      }
    }
    std::vector<Tensor> outputs;
    outputs.reserve(graph_.outputs.size());
    for (ValueId id : graph_.outputs) {
      const Value& v = graph_.value(id);
      Tensor out(v.type, v.dims);
      if (out.bytes() > 0) std::memcpy(out.raw(), bound_[static_cast<size_t>(id)], out.bytes());
      outputs.push_back(std::move(out));
    }
    for (ValueId id : graph_.inputs) bound_[static_cast<size_t>(id)] = nullptr;
    return outputs;
  }

  void set_observer(NodeObserver observer) override { observer_ = std::move(observer); }
  BackendKind kind() const override { return BackendKind::kCpu; }

 private:
  // Every id in range; graph inputs are not constants; each value is written by one node, after
  // which it may be read; graph outputs exist by then.
  void check_wiring() const {
    const auto count = static_cast<ValueId>(graph_.values.size());
    auto valid = [&](ValueId id) { return id >= 0 && id < count; };
    std::vector<bool> available(graph_.values.size(), false);
    for (size_t i = 0; i < graph_.values.size(); ++i) {
      const Value& v = graph_.values[i];
      for (int64_t d : v.dims)
        OCTET_CHECK(d >= 0, "tensor '", v.name, "' has a negative dimension in ", to_string(v.dims));
      if (v.is_constant()) {
        OCTET_CHECK(v.initializer->type() == v.type && v.initializer->dims() == v.dims, "constant '", v.name,
                    "' holds ", to_string(v.initializer->type()), " ", to_string(v.initializer->dims()),
                    " but is declared ", to_string(v.type), " ", to_string(v.dims));
        available[i] = true;
      }
    }
    for (ValueId id : graph_.inputs) {
      OCTET_CHECK(valid(id), "graph input id ", id, " is not a value of the graph");
      OCTET_CHECK(!graph_.value(id).is_constant(), "graph input '", graph_.value(id).name, "' is a constant");
      available[static_cast<size_t>(id)] = true;
    }
    for (const Node& node : graph_.nodes) {
      for (ValueId id : node.inputs) {
        if (id == kNoValue) continue;
        OCTET_CHECK(valid(id), node_label(node), ": input id ", id, " is not a value of the graph");
        OCTET_CHECK(available[static_cast<size_t>(id)], node_label(node), ": reads '", graph_.value(id).name,
                    "' before any node writes it (nodes must be in topological order)");
      }
      OCTET_CHECK(!node.outputs.empty(), node_label(node), ": has no outputs");
      for (ValueId id : node.outputs) {
        OCTET_CHECK(valid(id), node_label(node), ": output id ", id, " is not a value of the graph");
        OCTET_CHECK(!available[static_cast<size_t>(id)], node_label(node), ": writes '", graph_.value(id).name,
                    "', which is a constant, a graph input or another node's output");
        available[static_cast<size_t>(id)] = true;
      }
    }
    for (ValueId id : graph_.outputs) {
      OCTET_CHECK(valid(id), "graph output id ", id, " is not a value of the graph");
      OCTET_CHECK(available[static_cast<size_t>(id)], "graph output '", graph_.value(id).name,
                  "' is written by no node");
    }
  }

  void check_node(size_t index) {
    const Node& node = graph_.nodes[index];
    const NodeChecker c(graph_, node);
    if (node.precision != Precision::kFloat32)
      OCTET_UNSUPPORTED(node_label(node), ": the CPU backend runs ", to_string(Precision::kFloat32), " layers only, this one is ",
                        to_string(node.precision));
    switch (node.op) {
      case OpKind::Conv: check_conv(c); break;
      case OpKind::Gemm: check_gemm(c); break;
      case OpKind::MatMul: check_matmul(c); break;
      case OpKind::Add:
      case OpKind::Sub:
      case OpKind::Mul:
      case OpKind::Div: check_binary(c); break;
      case OpKind::Relu: plans_[index].activation = check_activation(c, Activation::kRelu); break;
      case OpKind::Clip: plans_[index].activation = check_activation(c, Activation::kClip); break;
      case OpKind::LeakyRelu: plans_[index].activation = check_activation(c, Activation::kLeakyRelu); break;
      case OpKind::Sigmoid: plans_[index].activation = check_activation(c, Activation::kSigmoid); break;
      case OpKind::HardSigmoid: plans_[index].activation = check_activation(c, Activation::kHardSigmoid); break;
      case OpKind::HardSwish: plans_[index].activation = check_activation(c, Activation::kHardSwish); break;
      case OpKind::BatchNormalization: check_batchnorm(c); break;
      case OpKind::MaxPool:
      case OpKind::AveragePool: check_pool(c); break;
      case OpKind::GlobalAveragePool:
      case OpKind::GlobalMaxPool: check_global_pool(c); break;
      case OpKind::Reshape: check_reshape(c); break;
      case OpKind::Transpose: check_transpose(c); break;
      case OpKind::Concat: check_concat(c); break;
      case OpKind::Softmax: check_softmax(c); break;
      case OpKind::Identity: check_identity(c); break;
      case OpKind::Pad: check_pad(c); break;
    }
  }

  // One buffer per value a node writes; constants and graph inputs are read where they are.
  void allocate() {
    buffers_.resize(graph_.values.size());
    bound_.assign(graph_.values.size(), nullptr);
    for (size_t i = 0; i < graph_.values.size(); ++i)
      if (graph_.values[i].is_constant()) bound_[i] = graph_.values[i].initializer->raw();
    for (const Node& node : graph_.nodes) {
      for (ValueId id : node.outputs) {
        const Value& v = graph_.value(id);
        buffers_[static_cast<size_t>(id)] = Tensor(v.type, v.dims);
        bound_[static_cast<size_t>(id)] = buffers_[static_cast<size_t>(id)].raw();
      }
    }
  }

  void bind_inputs(const std::vector<Tensor>& inputs) {
    OCTET_CHECK(inputs.size() == graph_.inputs.size(), "the graph takes ", graph_.inputs.size(), " inputs, got ",
                inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const ValueId id = graph_.inputs[i];
      const Value& v = graph_.value(id);
      OCTET_CHECK(inputs[i].type() == v.type, "input '", v.name, "' must be ", to_string(v.type), ", got ",
                  to_string(inputs[i].type()));
      OCTET_CHECK(inputs[i].dims() == v.dims, "input '", v.name, "' must have dims ", to_string(v.dims), ", got ",
                  to_string(inputs[i].dims()));
      bound_[static_cast<size_t>(id)] = inputs[i].raw();
    }
  }

  const Value& value(ValueId id) const { return graph_.value(id); }
  const Value& input_value(const Node& node, size_t i) const { return value(node.inputs[i]); }
  const void* input_data(const Node& node, size_t i) const {
    if (i >= node.inputs.size() || node.inputs[i] == kNoValue) return nullptr;
    return bound_[static_cast<size_t>(node.inputs[i])];
  }
  const float* input_f32(const Node& node, size_t i) const { return static_cast<const float*>(input_data(node, i)); }
  const Value& output_value(const Node& node) const { return value(node.outputs[0]); }
  void* output_data(const Node& node) { return buffers_[static_cast<size_t>(node.outputs[0])].raw(); }
  float* output_f32(const Node& node) { return static_cast<float*>(output_data(node)); }

  Conv2dShape conv_shape(const Node& node) const {
    return make_conv2d_shape(std::get<ConvAttrs>(node.attrs), input_value(node, 0).dims, input_value(node, 1).dims,
                             output_value(node).dims);
  }

  void run_node(size_t index) {
    const Node& node = graph_.nodes[index];
    switch (node.op) {
      case OpKind::Conv: run_conv(node, plans_[index].conv); break;
      case OpKind::Gemm: run_gemm(node); break;
      case OpKind::MatMul: run_matmul(node); break;
      case OpKind::Add: run_binary(node, kernels::BinaryOp::kAdd); break;
      case OpKind::Sub: run_binary(node, kernels::BinaryOp::kSub); break;
      case OpKind::Mul: run_binary(node, kernels::BinaryOp::kMul); break;
      case OpKind::Div: run_binary(node, kernels::BinaryOp::kDiv); break;
      case OpKind::Relu:
      case OpKind::Clip:
      case OpKind::LeakyRelu:
      case OpKind::Sigmoid:
      case OpKind::HardSigmoid:
      case OpKind::HardSwish:
        kernels::activation_ref(plans_[index].activation, input_f32(node, 0), output_f32(node),
                                numel(output_value(node).dims));
        break;
      case OpKind::BatchNormalization:
        kernels::batchnorm_ref(input_f32(node, 0), input_value(node, 0).dims, input_f32(node, 1), input_f32(node, 2),
                               input_f32(node, 3), input_f32(node, 4), std::get<BatchNormAttrs>(node.attrs).epsilon,
                               output_f32(node));
        break;
      case OpKind::MaxPool:
        kernels::maxpool2d_ref(pool_shape(node), input_f32(node, 0), output_f32(node));
        break;
      case OpKind::AveragePool:
        kernels::avgpool2d_ref(pool_shape(node), input_f32(node, 0), output_f32(node));
        break;
      case OpKind::GlobalAveragePool:
        kernels::global_avgpool_ref(input_f32(node, 0), input_value(node, 0).dims, output_f32(node));
        break;
      case OpKind::GlobalMaxPool:
        kernels::global_maxpool_ref(input_f32(node, 0), input_value(node, 0).dims, output_f32(node));
        break;
      case OpKind::Reshape:
      case OpKind::Identity:
        kernels::copy_ref(input_data(node, 0), buffers_[static_cast<size_t>(node.outputs[0])].bytes(),
                          output_data(node));
        break;
      case OpKind::Transpose:
        kernels::transpose_ref(input_data(node, 0), input_value(node, 0).dims,
                               std::get<TransposeAttrs>(node.attrs).perm, element_size(output_value(node).type),
                               output_data(node));
        break;
      case OpKind::Concat: run_concat(node); break;
      case OpKind::Softmax: {
        const auto& a = std::get<SoftmaxAttrs>(node.attrs);
        kernels::softmax_ref(input_f32(node, 0), input_value(node, 0).dims, a.axis, a.coerce_2d, output_f32(node));
        break;
      }
      case OpKind::Pad: {
        const auto& a = std::get<PadAttrs>(node.attrs);
        kernels::pad_ref(input_f32(node, 0), input_value(node, 0).dims, a.pads, a.value, output_f32(node));
        break;
      }
    }
  }

  Pool2dShape pool_shape(const Node& node) const {
    return make_pool2d_shape(std::get<PoolAttrs>(node.attrs), input_value(node, 0).dims, output_value(node).dims);
  }

  void run_conv(const Node& node, const kernels::Conv2dIm2colPlan& plan) {
    const auto& a = std::get<ConvAttrs>(node.attrs);
    const Conv2dShape shape = conv_shape(node);
    if (reference_) {
      kernels::conv2d_ref(shape, input_f32(node, 0), input_f32(node, 1), input_f32(node, 2), input_f32(node, 3),
                          a.epilogue.activation, output_f32(node));
    } else {
      kernels::conv2d_im2col(plan, shape, input_f32(node, 0), input_f32(node, 1), input_f32(node, 2),
                             input_f32(node, 3), a.epilogue.activation, output_f32(node), workspace_.data(), threads_);
    }
  }

  void run_gemm(const Node& node) {
    const auto& a = std::get<GemmAttrs>(node.attrs);
    const Dims& a_dims = input_value(node, 0).dims;
    const Dims& y_dims = output_value(node).dims;
    const int64_t k = a.trans_a ? a_dims[0] : a_dims[1];
    const float* c = input_f32(node, 2);
    const Dims c_dims = c ? input_value(node, 2).dims : Dims{};
    if (reference_) {
      kernels::gemm_ref(a, y_dims[0], y_dims[1], k, input_f32(node, 0), input_f32(node, 1), c, c_dims,
                        input_f32(node, 3), output_f32(node));
    } else {
      kernels::gemm_sgemm(a, y_dims[0], y_dims[1], k, input_f32(node, 0), input_f32(node, 1), c, c_dims,
                          input_f32(node, 3), output_f32(node), threads_);
    }
  }

  void run_matmul(const Node& node) {
    const auto* a = std::get_if<GemmAttrs>(&node.attrs);
    const ActivationParams activation = a ? a->epilogue.activation : ActivationParams{};
    const Dims& a_dims = input_value(node, 0).dims;
    const Dims& b_dims = input_value(node, 1).dims;
    if (reference_) {
      kernels::matmul_ref(input_f32(node, 0), a_dims, input_f32(node, 1), b_dims, input_f32(node, 3), activation,
                          output_f32(node));
    } else {
      kernels::matmul_sgemm(input_f32(node, 0), a_dims, input_f32(node, 1), b_dims, input_f32(node, 3), activation,
                            output_f32(node), threads_);
    }
  }

  void run_binary(const Node& node, kernels::BinaryOp op) {
    kernels::binary_ref(op, input_f32(node, 0), input_value(node, 0).dims, input_f32(node, 1),
                        input_value(node, 1).dims, output_f32(node));
  }

  void run_concat(const Node& node) {
    std::vector<const void*> inputs;
    std::vector<Dims> dims;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      inputs.push_back(input_data(node, i));
      dims.push_back(input_value(node, i).dims);
    }
    kernels::concat_ref(inputs, dims, std::get<ConcatAttrs>(node.attrs).axis, element_size(output_value(node).type),
                        output_data(node));
  }

  Graph graph_;  // a copy: the context owns everything a run needs, weights included
  bool reference_;
  int threads_;
  std::vector<NodePlan> plans_;   // per node
  std::vector<Tensor> buffers_;   // per value: the outputs of nodes
  std::vector<const void*> bound_;  // per value: where run() reads it (constant, caller's input, buffer)
  std::vector<float> workspace_;  // im2col, sized for the largest convolution
  NodeObserver observer_;
};

}  // namespace

std::unique_ptr<ExecutionContext> create_cpu_context(const Graph& graph, const BackendOptions& options) {
  return std::make_unique<CpuContext>(graph, options);
}

}  // namespace octet
